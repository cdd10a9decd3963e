// Types for the plain-JS fake model (index.js).

export interface RecordedModelRequest {
	method: string;
	path: string;
	headers: Record<string, string | string[] | undefined>;
	/** Parsed JSON, else the raw text; null when empty. */
	body: any;
}

export interface FakeOpenAiOptions {
	/** The key the fake accepts as `Authorization: Bearer <key>`. */
	apiKey: string;
	/** The arguments of the one tool call the scripted model makes. */
	toolArguments: object;
	/** The final answer: this text, a space, then the first URL of the tool's result. */
	finalAnswerPrefix?: string;
	/** Port on 127.0.0.1; random by default. */
	port?: number;
}

export interface FakeOpenAi {
	/** e.g. http://127.0.0.1:41825; the OpenAI credential's Base URL is `${url}/v1`. */
	readonly url: string;
	/** Every request received, in order. */
	readonly requests: RecordedModelRequest[];
	close(): Promise<void>;
}

export function startFakeOpenAi(options: FakeOpenAiOptions): Promise<FakeOpenAi>;
export function firstImageUrl(output: string): string | undefined;
