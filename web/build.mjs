/*
 * build.mjs - builds the WIC into dist/, the directory the wwsf serves:
 * app.js (src/main.js with JsSIP, bundled by esbuild), app.css, index.html
 * and favicon.svg.  No inline script or style, so the wwsf's
 * Content-Security-Policy can forbid them.
 */
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await build({
	entryPoints: { app: join(here, 'src/main.js') },
	bundle: true,
	format: 'esm',
	platform: 'browser',
	target: ['chrome100', 'firefox100', 'safari15'],
	minify: true,
	sourcemap: 'linked',
	outdir: dist,
	logLevel: 'warning',
	legalComments: 'linked',
});
await build({
	entryPoints: { app: join(here, 'src/style.css') },
	bundle: true,
	minify: true,
	outdir: dist,
	logLevel: 'warning',
});
for (const f of ['index.html', 'favicon.svg'])
	await copyFile(join(here, f), join(dist, f));
console.log('wic: built', dist);
