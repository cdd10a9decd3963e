'use strict';
/**
 * A tiny forwarding HTTP proxy on 127.0.0.1 that counts what passes through it: plain requests
 * in absolute form (`GET http://host:port/path`, what HTTP proxy agents send for http targets)
 * and CONNECT tunnels (what they open for https targets). Tests point the node's Request Options
 * → Proxy at it and compare its log with the fake Eachlabs server's.
 *
 *   const proxy = await startForwardProxy();
 *   proxy.url            // http://127.0.0.1:<port>
 *   proxy.requests       // [{ method, host, path, headers }] forwarded requests, in order
 *   proxy.tunnels        // [{ host }] CONNECT targets
 *   proxy.countsByHost() // { '127.0.0.1:1234': 5, ... } requests + tunnels per host
 *   proxy.reset(); await proxy.close();
 */
const http = require('http');
const net = require('net');

function startForwardProxy() {
	const requests = [];
	const tunnels = [];
	const sockets = new Set();

	const server = http.createServer((req, res) => {
		let target;
		try {
			target = new URL(req.url);
		} catch {
			res.writeHead(400, { 'content-type': 'text/plain' });
			res.end('this is a proxy: send absolute-form requests');
			return;
		}
		requests.push({
			method: req.method,
			host: target.host,
			path: `${target.pathname}${target.search}`,
			headers: { ...req.headers },
		});
		const headers = { ...req.headers };
		delete headers['proxy-authorization'];
		delete headers['proxy-connection'];
		const upstream = http.request(
			{
				host: target.hostname,
				port: target.port || 80,
				method: req.method,
				path: `${target.pathname}${target.search}`,
				headers,
			},
			(answer) => {
				res.writeHead(answer.statusCode, answer.headers);
				answer.pipe(res);
			},
		);
		upstream.on('error', () => {
			if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
			res.end('upstream failed');
		});
		req.pipe(upstream);
	});

	server.on('connect', (req, client, head) => {
		tunnels.push({ host: req.url, headers: { ...req.headers } });
		const [host, port] = req.url.split(':');
		const upstream = net.connect(Number(port) || 443, host, () => {
			client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
			if (head && head.length) upstream.write(head);
			upstream.pipe(client);
			client.pipe(upstream);
		});
		const end = () => {
			client.destroy();
			upstream.destroy();
		};
		upstream.on('error', end);
		client.on('error', end);
	});

	server.on('connection', (socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});

	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address();
			resolve({
				url: `http://127.0.0.1:${port}`,
				port,
				requests,
				tunnels,
				countsByHost() {
					const counts = {};
					for (const { host } of [...requests, ...tunnels]) counts[host] = (counts[host] || 0) + 1;
					return counts;
				},
				reset() {
					requests.length = 0;
					tunnels.length = 0;
				},
				close() {
					for (const socket of sockets) socket.destroy();
					return new Promise((done) => server.close(() => done()));
				},
			});
		});
	});
}

module.exports = { startForwardProxy };
