import http from 'http';
import type { AddressInfo } from 'net';

/*
 * A tiny real HTTP server with hand-written answers, for the API behaviours the fake Eachlabs
 * server has no switch for (redirects, answers that echo the key, one poll that never answers).
 */

export interface StubRequest {
	method: string;
	path: string;
	headers: http.IncomingHttpHeaders;
	body: any;
	/** Date.now() when the body had been read. */
	time: number;
}

export type StubHandler = (
	request: StubRequest,
	response: http.ServerResponse,
) => void | Promise<void>;

export async function startStub(handler: StubHandler) {
	const requests: StubRequest[] = [];
	const server = http.createServer((req, res) => {
		let data = '';
		req.on('data', (chunk) => (data += chunk));
		req.on('end', () => {
			let body: unknown = data || null;
			try {
				body = data ? JSON.parse(data) : null;
			} catch {}
			const request = {
				method: req.method!,
				path: req.url!,
				headers: req.headers,
				body,
				time: Date.now(),
			};
			requests.push(request);
			void handler(request, res);
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	return {
		url,
		requests,
		close: async () => {
			server.closeAllConnections();
			await new Promise((resolve) => server.close(resolve));
		},
	};
}

export const json = (response: http.ServerResponse, status: number, body: unknown) => {
	response.writeHead(status, { 'content-type': 'application/json' });
	response.end(JSON.stringify(body));
};
