import type { INodeProperties } from 'n8n-workflow';

import codex from '../../nodes/KlingO1/KlingO1.node.json';
import { sourceNodeType } from '../helpers/n8n';

/* What a user sees in the editor before anything runs: names, hints, links. */

const { description } = sourceNodeType();
const property = (name: string, version: number) =>
	description.properties.find(
		(entry) =>
			entry.name === name &&
			(entry.displayOptions?.show?.['@version'] ?? [version]).includes(version),
	);
const option = (name: string) =>
	(property('options', 1.1)?.options as INodeProperties[]).find((entry) => entry.name === name)!;

test('the default name stays clear when n8n appends a number to a second node', () => {
	expect(description.displayName).toBe('Kling O1');
	expect(description.defaults.name).toBe('Kling O1 Image Edit');
	// n8n names the second node "<default name>1": a name ending in a digit would read "…O11".
	expect(description.defaults.name).toMatch(/\D$/);
});

test('the docs links still work when n8n appends ?utm_source=… to them', () => {
	const urls = [
		...codex.resources.primaryDocumentation,
		...codex.resources.credentialDocumentation,
	].map((link) => link.url);
	for (const url of urls) {
		expect(url).toMatch(/^https:\/\//);
		expect(
			new URL(`${url}?utm_source=n8n_app&utm_medium=node_settings_modal-credential_link`).hash,
		).toBe('');
	}
});

test('Poll Interval says what leaving it out does and what setting it does', () => {
	const pollInterval = option('pollIntervalSeconds');
	expect(pollInterval.hint).toBe(
		'Used while waiting for completion. Left out, the node chooses: it learns how long predictions take and asks around then (every second at first, while it knows nothing). Set, it asks at exactly this interval.',
	);
});

test('Output Mode descriptions are whole sentences, not cut off', () => {
	const outputMode = option('outputMode');
	for (const choice of outputMode.options as Array<{ description: string }>) {
		expect(choice.description).not.toMatch(/…$/);
	}
});

test('switching the operation does not carry Edit Image’s "do not wait" over to Get Prediction', () => {
	expect(description.defaultVersion).toBe(1.1);
	const editWait = description.properties.find(
		(entry) =>
			entry.displayOptions?.show?.operation?.includes('editImage') && entry.type === 'boolean',
	);
	const getWait = property('waitForResult', 1.1);
	// n8n keeps a value across operations only for fields of the same name.
	expect(editWait?.name).toBe('waitForCompletion');
	expect(getWait).toMatchObject({ default: true, displayName: 'Wait for Completion' });
	// Saved version-1 nodes keep the shared name, and with it their behaviour.
	const savedV1 = description.properties.filter(
		(entry) => entry.name === 'waitForCompletion' && entry.displayOptions?.show?.['@version'],
	);
	expect(savedV1.map((entry) => entry.displayOptions?.show)).toEqual([
		{ operation: ['getPrediction'], '@version': [1] },
	]);
});

test('each image row says which @ImageN it is and that URLs must be public https', () => {
	const images = property('images', 1.1)?.options as Array<{ values: INodeProperties[] }>;
	const [url, binary] = ['url', 'binaryPropertyName'].map((name) =>
		images[0].values.find((field) => field.name === name)!,
	);
	for (const field of [url, binary]) {
		expect(field.hint).toContain(
			'Rows count from the top: the first image is @Image1, the next @Image2',
		);
	}
	expect(url.hint).toContain('public https://');
});
