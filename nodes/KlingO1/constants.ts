/** Facts of the Kling O1 model on Eachlabs, from the API reference. One place, used everywhere. */
export const MODEL = 'kling-o1';
export const MODEL_VERSION = '0.0.1';
export const CREDENTIAL_TYPE = 'eachlabsApi';

export const DEFAULT_BASE_URL = 'https://api.eachlabs.ai';
/**
 * The credential's Base URL as n8n's requests need it (the node's requests and the credential
 * test): empty means the default, and a trailing slash or `/v1` is dropped, as the paths carry it.
 */
export const BASE_URL_EXPRESSION = `={{ String($credentials.baseUrl || "${DEFAULT_BASE_URL}").trim().replace(/\\/+$/, "").replace(/\\/v1$/, "") }}`;
/** Create is a POST here; a prediction is read at this path plus its id. */
export const PREDICTION_PATH = '/v1/prediction/';

export const PRICE_PER_IMAGE_USD = 0.028;

export const MAX_PROMPT_CHARACTERS = 2500;
export const MAX_IMAGES = 10;

/**
 * How messages name an input image: as the prompt refers to it (@Image1 is the first), so the
 * user can match it; counts that start at 0 (item 0, imageIndex 0) are n8n's and the output's.
 */
export const imageReference = (index: number) => `@Image${index + 1}`;
export const MIN_NUM_IMAGES = 1;
export const MAX_NUM_IMAGES = 9;

export const RESOLUTIONS = ['1K', '2K'] as const;
export const ASPECT_RATIOS = [
	'auto',
	'16:9',
	'9:16',
	'1:1',
	'4:3',
	'3:4',
	'3:2',
	'2:3',
	'21:9',
] as const;
export const OUTPUT_FORMATS = ['png', 'jpeg', 'webp'] as const;

/** Eachlabs allows this many unfinished predictions per API key at once. */
export const MAX_IN_FLIGHT_PER_KEY = 10;

export const DEFAULT_TIMEOUT_SECONDS = 600;

/** Eachlabs' upload storage takes files up to 100 MB (addendum of the API reference). */
export const MAX_UPLOAD_BYTES = 100 * 1024 * 1024;

/** Image types Eachlabs' storage and Kling O1 take, with the file extension that names each. */
export const INPUT_IMAGE_TYPES: Readonly<Record<string, string>> = {
	'image/png': 'png',
	'image/jpeg': 'jpg',
	'image/webp': 'webp',
};

/** Uploads running at once in this process: enough to hide them behind predictions. */
export const MAX_CONCURRENT_UPLOADS = 4;
