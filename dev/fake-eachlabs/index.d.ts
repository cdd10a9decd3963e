// Types for the plain-JS fake (index.js); TypeScript picks this file up next to it.

/** Routes that `failNext` can target. */
export type FaultRoute = 'create' | 'poll' | 'download' | 'balance' | 'presign' | 'upload';

/**
 * Scripted fault kinds. `resetAfterCreate`, `gateway504AfterCreate` (the prediction is stored,
 * then a gateway's 504 HTML page answers) and `noPredictionId` only apply to `create`;
 * `delayAnswer` sends the route's own answer `delayMs` late;
 * `unknownStatus` and `successNoOutput` only to `poll`, `truncate` only to `download`.
 */
export type FaultKind =
	| '500'
	| '502html'
	| '503'
	| '429'
	| 'reset'
	| 'resetAfterCreate'
	| 'gateway504AfterCreate'
	| 'delayAnswer'
	| 'hang'
	| '401'
	| '404'
	| 'nonJson'
	| 'noPredictionId'
	| 'unknownStatus'
	| 'successNoOutput'
	| 'truncate'
	/** presign only: the URL it hands out has already expired, so its PUT gets a 403. */
	| 'expiredUrl'
	/** Storage: SignatureDoesNotMatch; API: Forbidden. */
	| '403';

export interface RateLimitOptions {
	/** Unfinished predictions per API key; 0 / null disables. Default 10. */
	concurrent?: number | null;
	/** Creates per key within `windowMs`; 0 / null disables. Default 100. */
	perMinute?: number | null;
	/** Retry-After (seconds) on a rate-limit 429. Default 1. */
	retryAfterSeconds?: number;
	/** Length of the per-minute window, shorter in tests. Default 60000. */
	windowMs?: number;
}

export interface RandomFaultOptions {
	/** PRNG seed: the same seed and request order give the same faults. Default 1. */
	seed?: number;
	create5xxRate?: number;
	poll5xxRate?: number;
	download5xxRate?: number;
	/** Share of create/poll/download requests whose socket is destroyed without an answer. */
	resetRate?: number;
	/** Share of the injected 5xx answers that are a 502 HTML gateway page instead of JSON 500. */
	htmlRate?: number;
	/** Share of creates that store the prediction, then get a gateway's 504 HTML page. */
	create504AfterStoreRate?: number;
}

export interface FakeEachlabsOptions {
	/** Accepted key (X-API-Key or Authorization: Bearer). Default 'test-key'. */
	apiKey?: string;
	/** API port on 127.0.0.1; 0 = random (default). Start only. */
	port?: number;
	/** Storage host port; 0 = random (default). Start only. */
	filesPort?: number;
	/** Storage host address; default 127.0.0.2 when usable, else 127.0.0.1. Start only. */
	filesHost?: string;
	/** How long a prediction runs before its terminal status, ms. Default 300. */
	jobMs?: number;
	/** Each job runs jobMs plus a draw from [0, jobJitterMs) (seeded by jobSeed). Default 0. */
	jobJitterMs?: number;
	/**
	 * Seed of the job-time draws: fakes with the same seed give their Nth prediction the same
	 * time, so clients compared side by side get the same jobs. Default 1.
	 */
	jobSeed?: number;
	/**
	 * Statuses over the job's life; the last one is the terminal status when it is one of success,
	 * error, cancelled, failed (else the job never ends). Default ['created','processing','success'].
	 */
	statusSequence?: string[];
	/** Size of each output image in bytes (never below the container's minimum). Default 2048. */
	imageBytes?: number;
	/** null disables every limit; a partial object is merged into the current limits. */
	rateLimit?: RateLimitOptions | null;
	/** Seeded random faults; null switches them off. A partial object is merged. */
	faults?: RandomFaultOptions | null;
	/** Every output file answers 404 (expired CDN links). Default false. */
	expireOutputs?: boolean;
	/** Deliver webhooks to a create's webhook_url when the job ends. Default true. */
	webhook?: boolean;
	/** A finished prediction's metrics come as numeric strings ("0.3"). Default false. */
	stringMetrics?: boolean;
	/** A finished prediction's output list has a null first and an empty string last. Default false. */
	sparseOutput?: boolean;
}

export interface FakeEachlabsStats {
	/** POST /v1/prediction received, including rejected and faulted ones. */
	createRequests: number;
	/** Predictions actually created. */
	creates: number;
	polls: number;
	/** GET/HEAD of output images on the storage host. */
	downloads: number;
	balanceChecks: number;
	presigns: number;
	/** PUTs to presigned upload URLs (on the upload host). */
	uploads: number;
	/** PUTs that carried X-API-Key or Authorization: must stay 0. */
	uploadsWithKey: number;
	/** Input images a job fetched from the fake's own hosts. */
	inputFetches: number;
	/** POST /v1/prediction/:id/cancel received. */
	cancels: number;
	/** Webhook deliveries attempted. */
	webhooks: number;
	/** Most predictions unfinished at once (all keys). */
	maxInFlight: number;
	/** Predictions unfinished right now. */
	inFlight: number;
	/** 429 answers of the create rate limiter and of the balance (3 a second; scripted 429s count under faultsInjected). */
	rateLimited: number;
	/** Scripted plus random faults applied. */
	faultsInjected: number;
	/** Prediction ids in creation order. */
	predictions: string[];
	/** The prompt each prediction was created from, by prediction id. */
	prompts: Record<string, string>;
}

export interface RecordedRequest {
	host: 'api' | 'files' | 'uploads';
	method: string;
	/** Path with query string, as sent. */
	path: string;
	/** Lowercased header names. */
	headers: Record<string, string | string[] | undefined>;
	/** Parsed JSON, else text, else "<N bytes type>" for binary; null when empty. */
	body: unknown;
	/** Date.now() when the body had been read. */
	time: number;
}

export interface FailNextOptions {
	/** Retry-After seconds for '429' (default rateLimit.retryAfterSeconds) and '503' (none). */
	retryAfter?: number;
	/** How late 'delayAnswer' answers, ms. Default 1000. */
	delayMs?: number;
	/**
	 * 'resetAfterCreate' only: the connection dies once the fake has had this many create
	 * requests (the prediction is stored at once), not right away.
	 */
	afterCreateRequests?: number;
}

/** One prediction's timing (epoch ms), for benchmarks. */
export interface PredictionTiming {
	id: string;
	createdAt: number;
	/** How long the job runs (drawn at create, or the [slow:N] marker). */
	jobMs: number;
	/** When the job ended; null for a job that never ends. */
	endedAt: number | null;
	/** When a poll first showed it ended (detection lag = seenEndedAt - endedAt); null if never. */
	seenEndedAt: number | null;
	/** Polls of this prediction answered by the handler (faulted ones not included). */
	polls: number;
}

export interface FakeEachlabs {
	/** e.g. http://127.0.0.1:43121, the credential's base URL; API paths start with /v1. */
	readonly apiUrl: string;
	/** The storage host serving outputs and uploads, e.g. http://127.0.0.2:40219. */
	readonly filesUrl: string;
	/** The upload storage host (presigned PUTs, public URLs), e.g. http://127.0.0.3:40220. */
	readonly uploadsUrl: string;
	/** `${apiUrl}/__control`. */
	readonly controlUrl: string;
	/** False when 127.0.0.2 was unusable and storage shares 127.0.0.1 (another port). */
	readonly filesHostDistinct: boolean;
	/** Live log of every request on both hosts (control endpoints excluded). */
	readonly requests: RecordedRequest[];
	/** Current options after defaults and configure calls. */
	readonly options: Readonly<FakeEachlabsOptions>;
	/** Changes options at run time (ports and hosts excluded); returns the new options. */
	configure(partial: FakeEachlabsOptions): Readonly<FakeEachlabsOptions>;
	/** Clears predictions, uploads, stats, the request log and scripted faults; keeps options. */
	reset(): void;
	stats(): FakeEachlabsStats;
	/** Every prediction's timing, in creation order (also GET /__control/timings). */
	timings(): PredictionTiming[];
	/** The next `count` requests on `route` get fault `kind`. Throws on unknown route/kind. */
	failNext(route: FaultRoute, kind: FaultKind, count?: number, opts?: FailNextOptions): void;
	/** Where output `index` of a prediction lives. */
	outputUrl(predictionId: string, index?: number, format?: 'png' | 'jpeg' | 'webp'): string;
	/** The input a prediction was created with (e.g. its prompt, to tell which item made it). */
	inputOf(predictionId: string): {
		prompt: string;
		image_urls: string[];
		num_images: number;
		[key: string]: unknown;
	};
	/** The bytes stored at an upload's public URL, or undefined when nothing was uploaded there. */
	uploadedFile(publicUrl: string): Buffer | undefined;
	/** The exact bytes the storage host serves for output `index` of a known prediction. */
	expectedImage(predictionId: string, index?: number): Buffer;
	/** Closes both hosts, destroys open sockets, clears timers. Idempotent. */
	close(): Promise<void>;
}

export function startFakeEachlabs(options?: FakeEachlabsOptions): Promise<FakeEachlabs>;

/** Image bytes for (id, index, format, size), as served from /outputs. */
export function makeImage(spec: {
	id: string;
	index: number;
	format?: 'png' | 'jpeg' | 'webp';
	bytes?: number;
}): Buffer;

export const DEFAULT_OPTIONS: Readonly<Required<Omit<FakeEachlabsOptions, 'filesHost'>>>;
