// sipp.mjs - SIPp as a SIP phone on the IMS side of a browser test: one
// scenario from tests/e2e/sipp/, one call (-m 1), run in a temporary
// directory that keeps its message and error logs for the failure report.
// Stopped by its PID.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SIPP = process.env.SIPP_BIN || 'sipp';
const SCENARIOS = join(dirname(fileURLToPath(import.meta.url)), '../sipp');

export const sippAvailable = () => spawnSync(SIPP, ['-v'], { stdio: 'ignore' }).status !== null;

/**
 * Start `sipp TARGET -sf SCENARIO -i IP -p PORT -m 1 ARGS...` over UDP.
 * Returns { done: Promise<{ code, output }>, log(): Promise<string>,
 * stop() }.  done resolves when SIPp exits; code 0 is a successful call.
 */
export async function startSipp({ scenario, target, ip, port, args = [], timeoutS = 60 }) {
	const dir = await mkdtemp(join(tmpdir(), 'wims-e2e-sipp-'));
	const child = spawn(SIPP, [target, '-sf', join(SCENARIOS, scenario), '-t', 'u1', '-i', ip, '-p', String(port),
		'-m', '1', '-nostdin', '-timeout', `${timeoutS}s`, '-timeout_error',
		'-trace_err', '-error_file', join(dir, 'errors.log'),
		'-trace_msg', '-message_file', join(dir, 'messages.log'), ...args],
	{ cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
	let output = '', exited = null;
	child.stdout.on('data', (d) => (output += d));
	child.stderr.on('data', (d) => (output += d));
	const done = new Promise((res) => child.on('exit', (code, sig) => {
		exited = { code: code ?? sig, output };
		res(exited);
	}));
	const log = async () => {
		const parts = [];
		for (const f of await readdir(dir).catch(() => [])) {
			const text = await readFile(join(dir, f), 'utf8').catch(() => '');
			parts.push(`--- sipp ${scenario} ${f} ---\n${text.slice(-12000)}`);
		}
		return `${parts.join('\n')}\n--- sipp ${scenario} output (tail) ---\n${output.slice(-2000)}`;
	};
	return {
		done,
		log,
		async stop() {
			if (!exited) {
				process.kill(child.pid, 'SIGTERM');
				const t = setTimeout(() => !exited && process.kill(child.pid, 'SIGKILL'), 3000);
				await done;
				clearTimeout(t);
			}
			await rm(dir, { recursive: true, force: true });
		},
	};
}

/** Run a scenario to its end; throws with the logs if it fails. */
export async function runSipp(opts) {
	const s = await startSipp(opts);
	try {
		const { code } = await s.done;
		if (code !== 0)
			throw new Error(`sipp ${opts.scenario} exited ${code}\n${await s.log()}`);
	} finally {
		await s.stop();
	}
}
