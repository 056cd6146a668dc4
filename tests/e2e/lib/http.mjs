// http.mjs - small HTTPS and WebSocket-upgrade probes from node, accepting
// the demo's self-signed certificate.
import { request } from 'node:https';
import { connect } from 'node:tls';
import { randomBytes } from 'node:crypto';

/** HTTPS request (body: a string, or none); resolves { status, headers, body }. */
export function httpsRequest(url, { method = 'GET', headers = {}, path, body: sent } = {}) {
	const u = new URL(url);
	return new Promise((res, rej) => {
		const req = request({
			host: u.hostname, port: u.port, method, headers,
			path: path ?? (u.pathname + u.search),
			rejectUnauthorized: false,
		}, (r) => {
			let body = '';
			r.setEncoding('utf8');
			r.on('data', (d) => (body += d));
			r.on('end', () => res({ status: r.statusCode, headers: r.headers, body }));
		});
		req.on('error', rej);
		req.setTimeout(10000, () => req.destroy(new Error('timeout')));
		req.end(sent);
	});
}

/**
 * HTTPS request with a JSON body (or none); resolves { status, headers,
 * body, json } (json null when the body is not JSON).
 */
export function httpsJson(url, { method = 'POST', headers = {}, body } = {}) {
	const u = new URL(url);
	const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
	return new Promise((res, rej) => {
		const req = request({
			host: u.hostname, port: u.port, method, path: u.pathname + u.search,
			headers: { ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}), ...headers },
			rejectUnauthorized: false,
		}, (r) => {
			let text = '';
			r.setEncoding('utf8');
			r.on('data', (d) => (text += d));
			r.on('end', () => {
				let json = null;
				try {
					json = JSON.parse(text);
				} catch {
					json = null;
				}
				res({ status: r.statusCode, headers: r.headers, body: text, json });
			});
		});
		req.on('error', rej);
		req.setTimeout(10000, () => req.destroy(new Error('timeout')));
		req.end(data || undefined);
	});
}

/**
 * Send a WebSocket upgrade (RFC 6455 4.1, subprotocol "sip" as RFC 7118
 * asks) with the given Origin to a wss:// URL; resolves with the HTTP
 * status of the answer (101 accepted) or 0 if the server closed without
 * one.
 */
export function wsUpgradeStatus(wssUrl, origin) {
	const u = new URL(wssUrl);
	return new Promise((res, rej) => {
		const sock = connect({ host: u.hostname, port: Number(u.port || 443), rejectUnauthorized: false,
			servername: u.hostname === '127.0.0.1' ? undefined : u.hostname }, () => {
			sock.write([
				`GET ${u.pathname || '/'} HTTP/1.1`,
				`Host: ${u.host}`,
				'Upgrade: websocket',
				'Connection: Upgrade',
				`Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
				'Sec-WebSocket-Version: 13',
				'Sec-WebSocket-Protocol: sip',
				`Origin: ${origin}`,
				'', ''].join('\r\n'));
		});
		let data = '';
		sock.setEncoding('latin1');
		sock.on('data', (d) => {
			data += d;
			const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
			if (m) {
				sock.destroy();
				res(Number(m[1]));
			}
		});
		sock.on('error', (e) => (data ? res(0) : rej(e)));
		sock.on('close', () => res(0));
		sock.setTimeout(10000, () => sock.destroy());
	});
}
