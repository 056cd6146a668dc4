// static.mjs - a plain HTTPS origin serving the WIC build (web/dist) and a
// config.json naming a P-CSCF.  Used as the foreign origin in the test
// that a page from another Origin cannot register (DESIGN 5: "Origin (NOTE
// in every scenario) -> pcscf"), i.e. the attacker's web server, and to
// serve the page to the Kamailio interoperability test.  It stands in for
// no wims role: the wwsf's own tests use the real wwsf.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import { extname, join, normalize } from 'node:path';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css',
	'.svg': 'image/svg+xml', '.json': 'application/json', '.map': 'application/json' };

export async function startStaticSite({ port, root, cert, key, pcscfUrl, domain = 'ims.example.org' }) {
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
