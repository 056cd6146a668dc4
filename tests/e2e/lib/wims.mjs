// wims.mjs - start and stop a real `wims` process for a browser test.
//
// The binary is $WIMS_BIN (default build/wims from the repository root).
// Each start gets its own data directory (stores, generated certificate)
// under a new temporary directory, removed at stop.  Everything listens on
// 127.0.0.1.  The process is stopped by its PID (SIGTERM, then SIGKILL),
// also when the test fails or node exits early.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const WIMS_BIN = process.env.WIMS_BIN ? resolve(process.env.WIMS_BIN) : join(REPO, 'build/wims');

/* Demo addresses (README). */
export const WWSF_PORT = 8443;
export const PCSCF_PORT = 7443;
export const WWSF_URL = `https://127.0.0.1:${WWSF_PORT}/`;
export const PCSCF_URL = `wss://127.0.0.1:${PCSCF_PORT}/`;
/* Issue 5: the WAF and the third-party (pool) WWSF the demo spawns. */
export const WAF_PORT = 9443;
export const POOL_WWSF_PORT = 8446;
export const CSCF_PORT = 5060;
export const MW_PORT = 5070;
export const ME_PORT = 8445;

/** Does this wims have the waf role, and does its demo run the pool WWSF? */
export async function wimsTna() {
	const waf = await wimsHasKey('waf.listen').catch(() => false);
	const pool = waf && await wimsHasKey('wwsf.pool').catch(() => false);
	return { waf, pool };
}

const running = new Set();
process.on('exit', () => {
	for (const child of running) {
		try {
			process.kill(child.pid, 'SIGKILL');
		} catch {
			/* already gone */
		}
	}
});

/** A TCP port nothing listens on now (the kernel's choice). */
export function freePort() {
	return new Promise((res, rej) => {
		const s = createServer();
		s.once('error', rej);
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => res(port));
		});
	});
}

/** Resolves when something accepts TCP on 127.0.0.1:port, rejects after ms. */
export async function waitForPort(port, ms = 20000, isAlive = () => true) {
	const deadline = Date.now() + ms;
	for (;;) {
		const ok = await new Promise((res) => {
			const s = connect({ host: '127.0.0.1', port });
			s.once('connect', () => {
				s.destroy();
				res(true);
			});
			s.once('error', () => res(false));
		});
		if (ok)
			return;
		if (!isAlive())
			throw new Error(`wims exited before port ${port} opened`);
		if (Date.now() > deadline)
			throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
		await new Promise((r) => setTimeout(r, 100));
	}
}

let helpText = null;

/** Does this binary know a configuration key ("section.key")? */
export async function wimsHasKey(key) {
	helpText = helpText || new Promise((res) => {
		const p = spawn(WIMS_BIN, ['--help'], { stdio: ['ignore', 'pipe', 'ignore'] });
		let text = '';
		p.stdout.on('data', (d) => (text += d));
		p.on('close', () => res(text));
		p.on('error', () => res(''));
	});
	const out = await helpText;
	const [section, name] = key.split('.');
	/* --help lists keys per section: "[section]" then "  name ..." lines */
	const at = out.indexOf(`[${section}]`);
	if (at < 0)
		return out.includes(key);
	const next = out.indexOf('\n[', at + 1);
	return new RegExp(`^\\s+${name}\\b`, 'm').test(out.slice(at, next < 0 ? undefined : next)) ||
		out.includes(key);
}

/**
 * Start `wims ROLE` (default demo) with extra `--set` assignments.  Waits
 * until every port in waitPorts accepts connections.  Returns
 * { pid, dataDir, cert, key, log(), stop() }.
 */
export async function startWims({ role = 'demo', sets = [], waitPorts = [WWSF_PORT, PCSCF_PORT] } = {}) {
	if (!existsSync(WIMS_BIN))
		throw new Error(`${WIMS_BIN} not built (set WIMS_BIN)`);
	const dataDir = await mkdtemp(join(tmpdir(), 'wims-e2e-'));
	const cert = join(dataDir, 'tls/cert.pem');
	const key = join(dataDir, 'tls/key.pem');
	const args = [
		'--set', `global.data_dir=${dataDir}`,
		'--set', `global.tls_cert=${cert}`,
		'--set', `global.tls_key=${key}`,
		...sets.flatMap((s) => ['--set', s]),
		role,
	];
	const child = spawn(WIMS_BIN, args, {
		cwd: REPO,
		stdio: ['ignore', 'pipe', 'pipe'],
		env: { ...process.env, ASAN_OPTIONS: process.env.ASAN_OPTIONS || 'detect_leaks=1' },
	});
	running.add(child);
	let output = '';
	let exited = null;
	child.stdout.on('data', (d) => (output += d));
	child.stderr.on('data', (d) => (output += d));
	const exitedP = new Promise((res) => child.on('exit', (code, sig) => {
		exited = { code, sig };
		running.delete(child);
		res(exited);
	}));

	const handle = {
		pid: child.pid,
		dataDir,
		cert,
		key,
		log: () => output,
		exited: () => exited,
		async stop() {
			if (!exited) {
				process.kill(child.pid, 'SIGTERM');
				const t = setTimeout(() => {
					if (!exited)
						process.kill(child.pid, 'SIGKILL');
				}, 5000);
				await exitedP;
				clearTimeout(t);
			}
			await rm(dataDir, { recursive: true, force: true });
			return exited;
		},
	};
	try {
		for (const port of waitPorts)
			await waitForPort(port, 20000, () => !exited);
	} catch (e) {
		await handle.stop();
		e.message += `\n--- wims output ---\n${output}`;
		throw e;
	}
	return handle;
}

/**
 * `wims demo` on the README's fixed ports (wwsf 8443, pcscf 7443, cscf
 * 5060, me 8445, waf 9443, pool wwsf 8446): the TNA test needs them,
 * because the WAF's demo clients are registered with those origins and
 * redirect URIs.  Run under `flock /tmp/wims-ports.lock` like everything
 * on these ports.  Same handle as startDemo(), plus wafUrl and poolUrl.
 */
export async function startFixedDemo({ sets = [] } = {}) {
	const hasMe = await wimsHasKey('me.allowed_origins').catch(() => false);
	const tna = await wimsTna();
	const waitPorts = [WWSF_PORT, PCSCF_PORT, CSCF_PORT];
	if (hasMe)
		waitPorts.push(ME_PORT);
	if (tna.waf)
		waitPorts.push(WAF_PORT);
	if (tna.pool)
		waitPorts.push(POOL_WWSF_PORT);
	const handle = await startWims({ sets, waitPorts });
	return {
		...handle,
		wwsfUrl: WWSF_URL, wwsfOrigin: `https://127.0.0.1:${WWSF_PORT}`, pcscfUrl: PCSCF_URL,
		cscfPort: CSCF_PORT, mwPort: MW_PORT, meUrl: hasMe ? `https://127.0.0.1:${ME_PORT}` : null,
		wafUrl: tna.waf ? `https://127.0.0.1:${WAF_PORT}` : null,
		wafOrigin: `https://127.0.0.1:${WAF_PORT}`,
		poolUrl: tna.pool ? `https://127.0.0.1:${POOL_WWSF_PORT}/` : null,
		poolOrigin: `https://127.0.0.1:${POOL_WWSF_PORT}`,
	};
}

/**
 * `wims demo` on ports of its own, so that a demo someone runs on the
 * README's ports (or another test's SIP peer on 5060) cannot answer in its
 * place: every role's address, the page's P-CSCF URL and ME agent URL, and
 * the allowed Origins of the P-CSCF, the WWSF and the ME agent are set to
 * match (the ME agent's only when this wims has the me role).  Returns
 * startWims()'s handle plus { wwsfUrl, wwsfOrigin, pcscfUrl, cscfPort,
 * mwPort, meUrl (null without the me role) }.
 */
export async function startDemo({ sets = [] } = {}) {
	const [w, p, mw, c, m] = [await freePort(), await freePort(), await freePort(), await freePort(),
		await freePort()];
	const wwsfOrigin = `https://127.0.0.1:${w}`;
	const origins = `${wwsfOrigin}, https://localhost:${w}`;
	const pcscfUrl = `wss://127.0.0.1:${p}/`;
	const hasMe = await wimsHasKey('me.allowed_origins').catch(() => false);
	const meUrl = hasMe ? `https://127.0.0.1:${m}` : null;
	const optional = [];
	if (hasMe)
		optional.push(`me.listen=127.0.0.1:${m}`, `me.allowed_origins=${origins}`);
	if (await wimsHasKey('wwsf.me_url').catch(() => false))
		optional.push(`wwsf.me_url=${meUrl || `https://127.0.0.1:${m}`}`);
	if (await wimsHasKey('wwsf.allowed_origins').catch(() => false))
		optional.push(`wwsf.allowed_origins=${origins}`);
	/* The WAF on a port of its own too, and everything that names it, so
	 * that two demos at once (a test file may start two) do not both want
	 * 9443.  Its demo clients keep the README's redirect URIs, so the
	 * OAuth code flow works only in startFixedDemo(); the third-party WWSF
	 * the demo spawns stays on 8446 (not waited for here: a second demo's
	 * cannot bind it, which the demo survives). */
	const waitTna = [];
	if ((await wimsTna()).waf) {
		const f = await freePort();
		const waf = `https://127.0.0.1:${f}`;
		optional.push(`waf.listen=127.0.0.1:${f}`, `waf.issuer=${waf}`, `waf.cscf_addr=127.0.0.1:${c}`,
			`pcscf.waf_issuer=${waf}`, `pcscf.waf_jwks=${waf}/jwks.json`,
			`pcscf.waf_introspect=${waf}/introspect`, `wwsf.waf_url=${waf}`);
		waitTna.push(f);
	}
	const handle = await startWims({
		sets: [
			`wwsf.listen=127.0.0.1:${w}`, `wwsf.pcscf_url=${pcscfUrl}`,
			`pcscf.listen=127.0.0.1:${p}`, `pcscf.mw_listen=127.0.0.1:${mw}`,
			`pcscf.cscf_addr=127.0.0.1:${c}`,
			`pcscf.allowed_origins=${origins}`,
			`cscf.listen=127.0.0.1:${c}`,
			...optional,
			...sets,
		],
		waitPorts: [...(hasMe ? [w, p, c, m] : [w, p, c]), ...waitTna],
	});
	return { ...handle, wwsfUrl: `${wwsfOrigin}/`, wwsfOrigin, pcscfUrl, cscfPort: c, mwPort: mw, meUrl,
		wafUrl: waitTna.length ? `https://127.0.0.1:${waitTna[0]}` : null };
}

/**
 * Run a wims command-line tool (`wims hss ...`, `wims me isim-seq ...`)
 * against a test's data directory; resolves { code, out } (stdout and
 * stderr together).
 */
export function wimsCli(args, { dataDir } = {}) {
	return new Promise((res, rej) => {
		const p = spawn(WIMS_BIN, [...(dataDir ? ['--set', `global.data_dir=${dataDir}`] : []), ...args], {
			cwd: REPO,
			stdio: ['ignore', 'pipe', 'pipe'],
			env: { ...process.env, ASAN_OPTIONS: process.env.ASAN_OPTIONS || 'detect_leaks=1' },
		});
		let out = '';
		p.stdout.on('data', (d) => (out += d));
		p.stderr.on('data', (d) => (out += d));
		p.on('error', rej);
		p.on('close', (code) => res({ code, out }));
	});
}
