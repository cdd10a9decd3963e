import type { INodeParameters } from 'n8n-workflow';

/** Public https URLs: the fake server never fetches input images, the node only checks them. */
export const IMAGE_1 = 'https://storage.googleapis.com/magicpoint/inputs/kling-o1-input-1.png';
export const IMAGE_2 = 'https://storage.googleapis.com/magicpoint/inputs/kling-o1-input-2.png';

export const images = (...urls: string[]): INodeParameters => ({
	image: urls.map((url) => ({ url })),
});

/** A valid Edit Image configuration with quick polling; override what a test is about. */
export function editImage(overrides: INodeParameters = {}): INodeParameters {
	const { options, ...rest } = overrides;
	return {
		operation: 'editImage',
		prompt: 'Put @Image1 on the horse in @Image2',
		images: images(IMAGE_1, IMAGE_2),
		options: { pollIntervalSeconds: 0.1, timeoutSeconds: 30, ...(options as object) },
		...rest,
	};
}

export function getPrediction(
	predictionId: string,
	overrides: INodeParameters = {},
): INodeParameters {
	const { options, ...rest } = overrides;
	return {
		operation: 'getPrediction',
		predictionId,
		options: { pollIntervalSeconds: 0.1, timeoutSeconds: 30, ...(options as object) },
		...rest,
	};
}
