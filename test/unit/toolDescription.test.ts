import { readFileSync } from 'fs';
import { join } from 'path';

import type { INode, INodeProperties, INodeType } from 'n8n-workflow';
import { NodeHelpers } from 'n8n-workflow';

import { PRICE_PER_IMAGE_USD } from '../../nodes/KlingO1/constants';
import { sourceNodeType } from '../helpers/n8n';

/*
 * What an AI Agent's model reads about the tool. n8n 2.41 builds the tool's description with
 * `getToolDescriptionForNode` on the tool variant of the node type, whose description is the
 * node's own (replacements of an object-valued `usableAsTool` are not applied at run time); with
 * no resource, "Set Automatically" yields the node's description whatever the operation.
 * The e2e (test/e2e/agent.js) checks the text that reaches the model in a real n8n.
 */

const nodeType = sourceNodeType();
const toolVariant = {
	...nodeType,
	description: { ...nodeType.description, name: `${nodeType.description.name}Tool` },
} as INodeType;

const toolNode = (parameters: INode['parameters']): INode => ({
	id: 'tool',
	name: 'Kling O1',
	type: 'n8n-nodes-kling-o1.klingO1Tool',
	typeVersion: 1,
	position: [0, 0],
	parameters,
});

const field = (name: string): INodeProperties => {
	const found = nodeType.description.properties.find((property) => property.name === name);
	if (!found) throw new Error(`no field ${name}`);
	return found;
};

describe('the tool description', () => {
	const text = NodeHelpers.getToolDescriptionForNode(
		toolNode({ operation: 'editImage' }),
		toolVariant,
	);

	test('is the node’s description, also with "Set Automatically" chosen', () => {
		expect(text).toBe(nodeType.description.description);
		expect(
			NodeHelpers.getToolDescriptionForNode(
				toolNode({ operation: 'editImage', descriptionType: 'auto' }),
				toolVariant,
			),
		).toBe(text);
	});

	test('says what the tool does, in two sentences', () => {
		expect(text).toMatch(/^Edits images with Kling O1/);
		expect(text.split(/[.!?](?:\s|$)/).filter((sentence) => sentence.trim())).toHaveLength(2);
	});

	test('says that images are public https URLs referred to as @Image1 … in the prompt', () => {
		expect(text).toContain('@Image1, @Image2 …');
		expect(text).toContain('public https:// image URLs');
	});

	test('says what each image costs and that it waits for the result', () => {
		expect(text).toContain(`each costs $${PRICE_PER_IMAGE_USD}`);
		expect(text).toContain('Waits for the result');
	});

	test('is the same with the operation set to Get Prediction (the README says to set it manually)', () => {
		expect(
			NodeHelpers.getToolDescriptionForNode(
				toolNode({ operation: 'getPrediction', descriptionType: 'auto' }),
				toolVariant,
			),
		).toBe(text);
	});

	test('is quoted word for word in the README', () => {
		const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
		const section = readme.slice(readme.indexOf('## Use it as an AI Agent tool'));
		const quote = section
			.split('\n')
			.filter((line) => line.startsWith('> '))
			.map((line) => line.slice(2))
			.join(' ');
		expect(quote).toBe(text);
	});

	test('a description set manually on the tool wins', () => {
		expect(
			NodeHelpers.getToolDescriptionForNode(
				toolNode({ descriptionType: 'manual', toolDescription: 'Fetch a prediction' }),
				toolVariant,
			),
		).toBe('Fetch a prediction');
	});

	test('the node stays usable as a tool', () => {
		expect(nodeType.description.usableAsTool).toBe(true);
	});
});

describe('the fields a model fills through $fromAI()', () => {
	test('Prompt: how to refer to the images', () => {
		expect(field('prompt').description).toContain(
			'@Image1, @Image2 … in the order of the Images list',
		);
	});

	test('Image URL: public https, which one is @Image1, lists allowed', () => {
		const url = (field('images').options?.[0] as { values: INodeProperties[] }).values.find(
			(value) => value.name === 'url',
		)!;
		expect(url.description).toContain('public https:// URL');
		expect(url.description).toContain('@Image1');
		expect(url.description).toContain('list of URLs');
	});

	test('Number of Images: the range and the price', () => {
		expect(field('numImages').description).toContain('a whole number from 1 to 9');
		expect(field('numImages').description).toContain(`$${PRICE_PER_IMAGE_USD}`);
	});
});
