// foreign.mjs - a second HTTPS origin serving the same WIC build, for the
// test that a page from a foreign Origin cannot register (DESIGN 5:
// "Origin (NOTE in every scenario) -> pcscf").  It is the attacker's web
// server, not a stand-in for any wims role: plain static files plus the
// config.json a copied page would carry.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import { extname, join, normalize } from 'node:path';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css',
	'.svg': 'image/svg+xml', '.json': 'application/json', '.map': 'application/json' };

export async function startForeignOrigin({ port, root, cert, key, pcscfUrl, domain = 'ims.example.org' }) {
	const server = createServer({ cert: await readFile(cert), key: await readFile(key) }, async (req, res) => {
		const path = new URL(req.url, 'https://x').pathname;
		if (path === '/config.json') {
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end(JSON.stringify({ pcscf_url: pcscfUrl, domain }));
			return;
		}
		const rel = normalize(path === '/' ? '/index.html' : path);
		if (rel.includes('..')) {
			res.writeHead(404).end();
			return;
		}
		try {
			const body = await readFile(join(root, rel));
			res.writeHead(200, { 'content-type': TYPES[extname(rel)] || 'application/octet-stream' });
			res.end(body);
		} catch {
			res.writeHead(404).end();
		}
	});
	await new Promise((res, rej) => {
		server.once('error', rej);
		server.listen(port, '127.0.0.1', res);
	});
	return {
		origin: `https://127.0.0.1:${port}`,
		url: `https://127.0.0.1:${port}/`,
		close: () => new Promise((res) => {
			server.closeAllConnections?.();
			server.close(() => res());
		}),
	};
}
