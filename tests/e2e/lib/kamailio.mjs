// kamailio.mjs - Kamailio as an independent SIP-over-WSS registrar, so the
// WIC's Digest (MD5 and the SHA-256 extension of JsSIP) is checked against
// an implementation nobody here wrote.  Kamailio answers a WebSocket
// upgrade only from the allowed Origin (403 otherwise), challenges with
// the configured algorithm, and adds P-Associated-URI to the 200 OK.
// Passwords are NAME-secret as in the wims demo.  Started and stopped by
// PID, in a temporary directory with its own self-signed certificate.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { waitForPort } from './wims.mjs';

export const KAMAILIO = process.env.KAMAILIO_BIN || '/usr/sbin/kamailio';
const MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules/';

export const kamailioAvailable = () => existsSync(KAMAILIO) && existsSync(join(MODULES, 'websocket.so')) &&
	existsSync(join(MODULES, 'tls.so'));

/** A self-signed certificate for 127.0.0.1 in dir: { cert, key }. */
export async function selfSigned(dir) {
	const cert = join(dir, 'cert.pem'), key = join(dir, 'key.pem');
	await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt',
		'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
		'-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']);
	return { cert, key };
}

function config({ port, algorithm, origin, tlsCfg }) {
	return `#!KAMAILIO
debug=2
log_stderror=yes
children=1
tcp_children=1
enable_tls=yes
listen=tls:127.0.0.1:${port}
tcp_accept_no_cl=yes
mpath="${MODULES}"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "textops.so"
loadmodule "xhttp.so"
loadmodule "tls.so"
loadmodule "websocket.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
modparam("tls", "config", "${tlsCfg}")
modparam("auth", "algorithm", "${algorithm}")
modparam("usrloc", "db_mode", 0)

request_route {
	if (!is_method("REGISTER")) { sl_send_reply("405", "Method Not Allowed"); exit; }
	$var(pw) = $(fU) + "-secret";
	if (!pv_www_authenticate("ims.example.org", "$var(pw)", "0")) {
		if ($hdr(Authorization) != $null) { sl_send_reply("403", "Forbidden"); exit; }
		www_challenge("ims.example.org", "0");
		exit;
	}
	append_to_reply("P-Associated-URI: <sip:$fU@ims.example.org>\\r\\n");
	if (!save("location")) sl_reply_error();
	exit;
}

event_route[xhttp:request] {
	if ($hdr(Upgrade) =~ "websocket" && $hdr(Connection) =~ "Upgrade" && $rm =~ "GET") {
		if ($hdr(Origin) != "${origin}") {
			xhttp_reply("403", "Forbidden", "", "");
			exit;
		}
		if (ws_handle_handshake()) exit;
	}
	xhttp_reply("404", "Not Found", "", "");
}
`;
}

/**
 * Start Kamailio on 127.0.0.1:port for WSS.  Returns { url, stop() }.
 */
export async function startKamailio({ port, algorithm = 'SHA-256', origin, cert, key }) {
	const dir = await mkdtemp(join(tmpdir(), 'wims-e2e-kamailio-'));
	const tlsCfg = join(dir, 'tls.cfg');
	await writeFile(tlsCfg, `[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\n` +
		`require_certificate = no\nprivate_key = ${key}\ncertificate = ${cert}\n`);
	const cfg = join(dir, 'kamailio.cfg');
	await writeFile(cfg, config({ port, algorithm, origin, tlsCfg }));
	const child = spawn(KAMAILIO, ['-f', cfg, '-DD', '-E', '-w', dir, '-P', join(dir, 'kamailio.pid')],
		{ stdio: ['ignore', 'pipe', 'pipe'] });
	let out = '', exited = false;
	child.stdout.on('data', (d) => (out += d));
	child.stderr.on('data', (d) => (out += d));
	const done = new Promise((res) => child.on('exit', () => {
		exited = true;
		res();
	}));
	const stop = async () => {
		if (!exited) {
			process.kill(child.pid, 'SIGTERM');
			const t = setTimeout(() => !exited && process.kill(child.pid, 'SIGKILL'), 5000);
			await done;
			clearTimeout(t);
		}
		await rm(dir, { recursive: true, force: true });
	};
	try {
		await waitForPort(port, 15000, () => !exited);
	} catch (e) {
		await stop();
		e.message += `\n--- kamailio output ---\n${out}`;
		throw e;
	}
	return { url: `wss://127.0.0.1:${port}/`, stop, log: () => out };
}
