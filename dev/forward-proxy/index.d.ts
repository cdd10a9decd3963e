export interface ProxiedRequest {
	method: string;
	host: string;
	path: string;
	headers: Record<string, string | string[] | undefined>;
}

export interface ForwardProxy {
	url: string;
	port: number;
	requests: ProxiedRequest[];
	tunnels: Array<{ host: string; headers: Record<string, string | string[] | undefined> }>;
	countsByHost(): Record<string, number>;
	reset(): void;
	close(): Promise<void>;
}

export function startForwardProxy(): Promise<ForwardProxy>;
