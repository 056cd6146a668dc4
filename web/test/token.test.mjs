// Registering with a token (TR 33.871 6.1.2/6.1.3): the token endpoints of
// the WWSF against a fake fetch, the Bearer header and its syntax check,
// the P-CSCF's Bearer challenge and the words the page shows; then the
// WicClient itself over a fake WebSocket: one REGISTER with exactly one
// `Authorization: Bearer`, registered on 200, and on a 401 (Bearer or
// Digest challenge) no second REGISTER: JsSIP must not try Digest.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { TokenError, bearerChallenge, bearerHeader, explainTokenFailure, explainTokenFetchFailure,
	findBearerChallenge, isBearerToken, tokenFromAnswer, tokenSource, tokenViaText } from '../src/token.js';

/* A JWT's shape: three base64url parts. */
const JWT = 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJncmFjZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU';
const GRACE = { access_token: JWT, token_type: 'Bearer', impu: 'sip:grace@ims.example.org',
	impi: 'grace@ims.example.org', expires_in: 3600, wwsf: 'wwsf.ims.example.org', via: 'operator' };

function fakeFetch(...answers) {
	const calls = [];
	const fn = async (url, init) => {
		calls.push({ url, ...init });
		const a = answers.shift();
		if (a instanceof Error)
			throw a;
		const [status, body] = a;
		return { status, text: async () => (body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)) };
	};
	fn.calls = calls;
	return fn;
}

test('GET /oauth/token: same-origin with the session cookie, the token checked', async () => {
	const f = fakeFetch([200, GRACE]);
	const t = await tokenSource({ fetchImpl: f }).session();
	assert.equal(f.calls[0].url, '/oauth/token');
	assert.equal(f.calls[0].method, 'GET');
	assert.equal(f.calls[0].credentials, 'same-origin');
	assert.equal(f.calls[0].cache, 'no-store');
	assert.equal(t.accessToken, JWT);
	assert.equal(t.impu, 'sip:grace@ims.example.org');
	assert.equal(t.impi, 'grace@ims.example.org');
	assert.equal(t.via, 'operator');
	assert.equal(t.wwsf, 'wwsf.ims.example.org');
	assert.ok(t.expiresAt > Date.now() + 3500 * 1000);
	assert.equal(tokenSource().startUrl, '/oauth/start');
});

test('POST /oauth/token (web account) and POST /pool/session (guest)', async () => {
	const f = fakeFetch([200, { ...GRACE, via: 'wwsf-login' }],
		[200, { ...GRACE, impu: 'sip:pool2@ims.example.org', impi: 'pool2@ims.example.org', via: 'pool',
			wwsf: 'webshop.example.net' }]);
	const src = tokenSource({ base: 'https://127.0.0.1:8446/', fetchImpl: f });
	assert.equal((await src.forWebAccount()).via, 'wwsf-login');
	const guest = await src.guest();
	assert.equal(guest.impu, 'sip:pool2@ims.example.org');
	assert.equal(guest.via, 'pool');
	assert.deepEqual(f.calls.map((c) => [c.method, c.url]), [['POST', 'https://127.0.0.1:8446/oauth/token'],
		['POST', 'https://127.0.0.1:8446/pool/session']]);
	assert.equal(f.calls[1].headers['content-type'], 'application/json');
	assert.equal(f.calls[1].body, '{}');
});

test('each refusal of the site becomes a TokenError of its kind, with the site\'s words', async () => {
	const cases = [
		[[401, { error: 'no token in this session' }], 'no-session', 'no token in this session'],
		[[403, { error: 'invalid_grant', error_description: 'WWSF blocked' }], 'refused', 'WWSF blocked'],
		[[503, { error: 'pool exhausted' }], 'exhausted', 'pool exhausted'],
		[[502, 'not json'], 'server', 'HTTP 502'],
		[new TypeError('Failed to fetch'), 'unreachable', 'Failed to fetch'],
	];
	for (const [answer, kind, said] of cases) {
		const e = await tokenSource({ fetchImpl: fakeFetch(answer) }).session().catch((x) => x);
		assert.ok(e instanceof TokenError, kind);
		assert.equal(e.kind, kind);
		assert.ok(e.message.includes(said), `${kind}: ${e.message}`);
	}
});

test('a token answer the WIC cannot use is refused before it reaches a header', () => {
	for (const bad of [null, {}, { ...GRACE, access_token: '' }, { ...GRACE, access_token: 'a b' },
		{ ...GRACE, access_token: `${JWT}\r\nP-WWSF-Identity: evil` }, { ...GRACE, access_token: 42 },
		{ ...GRACE, access_token: 'x'.repeat(9000) }, { ...GRACE, impu: '' },
		{ ...GRACE, impu: 'sip:grace@ims.example.org>\r\nX: y' }, { ...GRACE, impu: 'http://x' }])
		assert.throws(() => tokenFromAnswer(bad), (e) => e.kind === 'bad-token', JSON.stringify(bad));
	/* an unknown via is taken as the operator's, a tel: IMPU is fine */
	assert.equal(tokenFromAnswer({ ...GRACE, via: 'evil' }).via, 'operator');
	assert.equal(tokenFromAnswer({ ...GRACE, impu: 'tel:+15550000007' }).impu, 'tel:+15550000007');
});

test('the Bearer header: RFC 6750 b64token only', () => {
	assert.equal(bearerHeader(JWT), `Authorization: Bearer ${JWT}`);
	assert.equal(bearerHeader('abc-._~+/=='), 'Authorization: Bearer abc-._~+/==');
	for (const bad of ['', 'a b', 'a\r\nb', 'a,b', '"a"', '=abc', 'a=b', null, undefined, 7])
		assert.throws(() => bearerHeader(bad), TypeError, String(bad));
	assert.equal(isBearerToken('x'.repeat(8192)), true);
	assert.equal(isBearerToken('x'.repeat(8193)), false);
});

test('the Bearer challenge of a refusal is read (RFC 6750 3)', () => {
	assert.deepEqual(bearerChallenge('Bearer realm="ims.example.org", error="invalid_token", ' +
		'error_description="token expired"'),
	{ realm: 'ims.example.org', error: 'invalid_token', error_description: 'token expired' });
	assert.deepEqual(bearerChallenge('bearer error=insufficient_scope'), { error: 'insufficient_scope' });
	assert.deepEqual(bearerChallenge('Bearer'), {});
	assert.equal(bearerChallenge('Digest realm="x", nonce="y"'), null);
	assert.equal(bearerChallenge('Bearerx realm="x"'), null);
	assert.deepEqual(findBearerChallenge(['Digest realm="x"', 'Bearer error="invalid_token", error_description="a \\"b\\""']),
		{ error: 'invalid_token', error_description: 'a "b"' });
	assert.equal(findBearerChallenge(undefined), null);
});

test('the words for a refused token registration', () => {
	const expired = explainTokenFailure({ status: 401, reason: 'Unauthorized',
		challenge: { error: 'invalid_token', error_description: 'token expired' } });
	assert.equal(expired.kind, 'token-invalid');
	assert.equal(expired.title, 'The network refused the token: token expired.');
	assert.match(expired.detail, /401 Unauthorized \(invalid_token: token expired\)/);
	assert.match(expired.detail, /operator sign-in/);
	const blocked = explainTokenFailure({ status: 403, reason: 'WWSF blocked',
		warnings: [{ code: 399, agent: 'ims.example.org', text: 'WWSF blocked' }], via: 'pool' });
	assert.equal(blocked.kind, 'token-refused');
	assert.equal(blocked.title, 'Registration refused: WWSF blocked.');
	assert.equal(blocked.detail, 'The server answered 403 WWSF blocked.', 'the Warning is not said twice');
	assert.equal(explainTokenFailure({ status: 403, reason: 'Forbidden',
		warnings: [{ code: 399, agent: 'x', text: 'WWSF not allowed for this subscription' }] }).detail,
	'The server answered 403 Forbidden (WWSF not allowed for this subscription).');
	const site = explainTokenFailure({ status: 403, reason: 'Forbidden',
		challenge: { error: 'invalid_token', error_description: 'token was issued for another site' } });
	assert.equal(site.title, 'Registration refused: token was issued for another site.');
	const digest = explainTokenFailure({ status: 401, reason: 'Unauthorized', digestOffered: true });
	assert.equal(digest.kind, 'token-unsupported');
	assert.equal(explainTokenFailure({ status: 503, reason: 'Service Unavailable' }).kind, 'server');
});

test('the words when the site has no token', () => {
	const e = (kind, message, status = 0) => new TokenError(kind, message, { status });
	assert.equal(explainTokenFetchFailure(e('exhausted', 'pool exhausted', 503), 'pool').kind, 'pool-exhausted');
	const blocked = explainTokenFetchFailure(e('refused', 'WWSF blocked', 403), 'pool');
	assert.equal(blocked.title, 'No guest identity: WWSF blocked.');
	assert.equal(explainTokenFetchFailure(e('no-session', 'not signed in', 401), 'wwsf-login').kind, 'token-signin');
	assert.equal(explainTokenFetchFailure(e('no-session', 'no token', 401), 'operator').kind, 'token-none');
	assert.match(explainTokenFetchFailure(e('refused', 'no confirmed link for this account', 403), 'wwsf-login').title,
		/no confirmed link/);
});

test('the status line says how the registration was vouched for', () => {
	assert.equal(tokenViaText({ via: 'operator', impu: 'sip:grace@ims.example.org' }),
		'Registered with a token from the operator (WAF), as sip:grace@ims.example.org');
	assert.equal(tokenViaText({ via: 'pool', impu: 'sip:pool1@ims.example.org', wwsf: 'webshop.example.net' }),
		'Registered as guest sip:pool1@ims.example.org from the pool of webshop.example.net');
	assert.equal(tokenViaText({ via: 'wwsf-login', impu: 'sip:erin@ims.example.org', wwsf: 'wwsf.ims.example.org',
		account: 'erin' }), 'Registered with a token for your web account erin on wwsf.ims.example.org, as sip:erin@ims.example.org');
});

/* ---- the WicClient over a fake WebSocket ---- */

/* A WebSocket that hands each message the page sends to answer(text),
 * which returns the messages to send back. */
function installFakeWebSocket(answer) {
	const sent = [];
	class FakeWebSocket {
		constructor(url, protocol) {
			this.url = url;
			this.protocol = protocol;
			this.readyState = 0;
			this.OPEN = 1;
			this.CONNECTING = 0;
			setTimeout(() => {
				this.readyState = 1;
				this.onopen && this.onopen();
			}, 0);
		}

		send(text) {
			sent.push(text);
			for (const reply of answer(text))
				setTimeout(() => this.onmessage && this.onmessage({ data: reply }), 0);
		}

		close() {
			this.readyState = 3;
		}
	}
	globalThis.WebSocket = FakeWebSocket;
	return sent;
}

/* A response to the request text, echoing what a response must echo. */
function respond(request, status, reason, extra = []) {
	const h = (name) => (new RegExp(`^${name}: (.*)$`, 'mi').exec(request) || [])[1];
	return [`SIP/2.0 ${status} ${reason}`, `Via: ${h('Via')}`, `From: ${h('From')}`,
		`To: ${h('To')};tag=srv1`, `Call-ID: ${h('Call-ID')}`, `CSeq: ${h('CSeq')}`, ...extra,
		'Content-Length: 0', '', ''].join('\r\n');
}

function stateOnce(client, states) {
	return new Promise((res) => {
		const on = ({ detail }) => {
			if (states.includes(detail.state)) {
				client.removeEventListener('state', on);
				res(detail);
			}
		};
		client.addEventListener('state', on);
	});
}

const { WicClient } = await import('../src/wic.js');
const TOKEN = tokenFromAnswer(GRACE);

test('WicClient: REGISTER carries exactly one Authorization: Bearer and no password; 200 registers', async () => {
	const sent = installFakeWebSocket((text) => /^REGISTER /.test(text) ? [respond(text, 200, 'OK', [
		`Contact: ${/^Contact: (.*)$/mi.exec(text)[1].replace(/;expires=\d+/, '')};expires=600`,
		'P-Associated-URI: <sip:grace@ims.example.org>, <tel:+15550000007>'])] : []);
	const client = new WicClient({ fetchImpl: null, origin: 'https://127.0.0.1:8443' });
	const done = stateOnce(client, ['registered', 'failed']);
	client.register({ impu: TOKEN.impu, impi: TOKEN.impi, server: 'wss://127.0.0.1:7443/',
		token: { ...TOKEN, account: null } });
	const s = await done;
	assert.equal(s.state, 'registered', JSON.stringify(s.failure));
	const regs = sent.filter((t) => /^REGISTER /.test(t));
	assert.equal(regs.length, 1);
	const auth = regs[0].split('\r\n').filter((l) => /^Authorization:/i.test(l));
	assert.deepEqual(auth, [`Authorization: Bearer ${JWT}`]);
	assert.match(regs[0], /^To: <sip:grace@ims\.example\.org>/m);
	assert.match(regs[0], /^From: <sip:grace@ims\.example\.org>/m);
	assert.equal(s.authSource, 'token');
	assert.equal(s.tokenVia, 'operator');
	assert.equal(client.snapshot.algorithm, 'Bearer');
	assert.deepEqual(client.snapshot.associated, ['sip:grace@ims.example.org', 'tel:+15550000007']);
	/* a MESSAGE after it does not carry the token */
	client._ua.sendMessage('sip:alice@ims.example.org', 'hi');
	await new Promise((r) => setTimeout(r, 10));
	const msg = sent.find((t) => /^MESSAGE /.test(t));
	assert.ok(msg);
	assert.doesNotMatch(msg, /^Authorization:/mi);
	client._teardown();
});

test('WicClient: a 401 with a Bearer challenge stops the attempt with its error_description, no Digest', async () => {
	const sent = installFakeWebSocket((text) => /^REGISTER /.test(text) ? [respond(text, 401, 'Unauthorized', [
		'WWW-Authenticate: Bearer realm="ims.example.org", error="invalid_token", error_description="token expired"',
		/* a Digest challenge as well: a client that has a password would answer it */
		'WWW-Authenticate: Digest realm="ims.example.org", nonce="abc", algorithm=MD5, qop="auth"'])] : []);
	const client = new WicClient({ fetchImpl: null });
	const done = stateOnce(client, ['registered', 'failed']);
	client.register({ impu: TOKEN.impu, impi: TOKEN.impi, server: 'wss://127.0.0.1:7443/', token: TOKEN });
	const s = await done;
	assert.equal(s.state, 'failed');
	assert.equal(s.failure.kind, 'token-invalid');
	assert.equal(s.failure.title, 'The network refused the token: token expired.');
	await new Promise((r) => setTimeout(r, 20));
	assert.equal(sent.filter((t) => /^REGISTER /.test(t)).length, 1, 'no second REGISTER');
	assert.ok(!sent.some((t) => /Authorization: Digest/i.test(t)));
});

test('WicClient: a 403 shows the reason and Warning of the network', async () => {
	installFakeWebSocket((text) => /^REGISTER /.test(text) ? [respond(text, 403, 'WWSF blocked',
		['Warning: 399 ims.example.org "WWSF blocked"'])] : []);
	const client = new WicClient({ fetchImpl: null });
	const done = stateOnce(client, ['registered', 'failed']);
	client.register({ impu: 'sip:pool1@ims.example.org', impi: 'pool1@ims.example.org',
		server: 'wss://127.0.0.1:7443/', token: { ...TOKEN, via: 'pool' } });
	const s = await done;
	assert.equal(s.failure.kind, 'token-refused');
	assert.equal(s.failure.title, 'Registration refused: WWSF blocked.');
	assert.equal(s.tokenVia, 'pool');
});

test('WicClient: a token with a CR LF is refused before anything is sent', () => {
	const sent = installFakeWebSocket(() => []);
	const client = new WicClient({ fetchImpl: null });
	assert.throws(() => client.register({ impu: TOKEN.impu, server: 'wss://127.0.0.1:7443/',
		token: { ...TOKEN, accessToken: `${JWT}\r\nP-WWSF-Identity: x` } }), TypeError);
	assert.equal(client.snapshot.state, 'unregistered');
	assert.equal(sent.length, 0);
});

test('a token answer without via is taken as what was asked for', async () => {
	const { via, ...bare } = GRACE;
	assert.equal(via, 'operator');
	const f = fakeFetch([200, bare], [200, bare], [200, bare]);
	const src = tokenSource({ fetchImpl: f });
	assert.equal((await src.session()).via, null, 'the session says nothing: the page keeps its way');
	assert.equal((await src.guest()).via, 'pool');
	assert.equal((await src.forWebAccount()).via, 'wwsf-login');
	assert.equal(tokenFromAnswer(bare).via, 'operator');
});

test('POST /link {impu}: the confirmation page only when it is an https URL; refusals with the site\'s words', async () => {
	const f = fakeFetch([202, { status: 'pending', confirm_url: 'https://127.0.0.1:9443/link/confirm', expires_in: 600 }],
		[202, { status: 'pending', confirm_url: 'javascript:alert(1)' }],
		[409, { error: 'sip:erin@ims.example.org is not registered: register a device first' }],
		[401, { error: 'sign in to this site first' }]);
	const src = tokenSource({ fetchImpl: f });
	assert.deepEqual(await src.link('sip:erin@ims.example.org'), { confirmUrl: 'https://127.0.0.1:9443/link/confirm' });
	assert.equal(f.calls[0].url, '/link');
	assert.equal(f.calls[0].method, 'POST');
	assert.equal(f.calls[0].body, '{"impu":"sip:erin@ims.example.org"}');
	assert.deepEqual(await src.link('sip:erin@ims.example.org'), { confirmUrl: null });
	const e = await src.link('sip:erin@ims.example.org').catch((x) => x);
	assert.equal(e.kind, 'not-registered');
	assert.match(e.message, /register a device first/);
	assert.equal((await src.link('sip:erin@ims.example.org').catch((x) => x)).kind, 'no-session');
});

test('WicClient.renewToken: the next REGISTER carries the new token, sent at once when registered', async () => {
	const sent = installFakeWebSocket((text) => /^REGISTER /.test(text) ? [respond(text, 200, 'OK', [
		`Contact: ${/^Contact: (.*)$/mi.exec(text)[1].replace(/;expires=\d+/, '')};expires=600`])] : []);
	const client = new WicClient({ fetchImpl: null });
	const done = stateOnce(client, ['registered', 'failed']);
	client.register({ impu: TOKEN.impu, impi: TOKEN.impi, server: 'wss://127.0.0.1:7443/',
		token: { ...TOKEN, via: 'wwsf-login', account: 'erin' } });
	assert.equal((await done).state, 'registered');
	assert.throws(() => client.renewToken({ ...TOKEN, accessToken: 'a b' }), TypeError);
	const NEW = `${JWT.slice(0, -4)}AAAA`;
	client.renewToken({ ...TOKEN, accessToken: NEW, expiresAt: Date.now() + 7200 * 1000 });
	await new Promise((r) => setTimeout(r, 20));
	const regs = sent.filter((t) => /^REGISTER /.test(t));
	assert.equal(regs.length, 2);
	assert.deepEqual(regs[1].split('\r\n').filter((l) => /^Authorization:/i.test(l)), [`Authorization: Bearer ${NEW}`]);
	assert.ok(client.snapshot.tokenExpiresAt > Date.now() + 7000 * 1000);
	assert.equal(client.snapshot.state, 'registered');
	client._teardown();
	/* not registered with a token: refused */
	const digest = new WicClient({ fetchImpl: null });
	assert.throws(() => digest.renewToken(TOKEN), /not registered with a token/);
});
