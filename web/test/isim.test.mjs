// The ISIM clients (ME agent, network ISIM) against a fake fetch: the
// requests they make (URL, method, body, cookies or not) and how each
// answer of the contract (/work/brief/aka.md 4, 5) comes back.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { IsimError, MAC_FAILURE_TITLE, explainIsimFailure, meAgent, networkIsim } from '../src/isim.js';

/* A fetch that records requests and answers from a list of [status, body]. */
function fakeFetch(...answers) {
	const calls = [];
	const fn = async (url, init) => {
		calls.push({ url, ...init, json: init.body ? JSON.parse(init.body) : undefined });
		const a = answers.shift();
		if (a instanceof Error)
			throw a;
		const [status, body] = a;
		return { status, text: async () => (body === undefined ? '' : JSON.stringify(body)) };
	};
	fn.calls = calls;
	return fn;
}

const DAVE = { impi: 'dave@ims.example.org', impu: 'sip:dave@ims.example.org', realm: 'ims.example.org' };
const NONCE = 'IyMjIyMjIyMjIyMjIyMjI1VVVVVVVVVVVVVVVVVVVVU=';

test('ME agent: GET /identity without cookies', async () => {
	const f = fakeFetch([200, { identities: [DAVE, { bogus: 1 }] }]);
	const me = meAgent({ url: 'https://127.0.0.1:8445/', fetchImpl: f });
	assert.equal(me.kind, 'me');
	assert.deepEqual(await me.identities(), [DAVE]);
	assert.equal(f.calls[0].url, 'https://127.0.0.1:8445/identity');
	assert.equal(f.calls[0].method, 'GET');
	assert.equal(f.calls[0].credentials, 'omit');
	assert.equal(f.calls[0].mode, 'cors');
});

test('ME agent: POST /aka with impi, nonce, algorithm; password or auts back, nothing else', async () => {
	const f = fakeFetch([200, { password: 'p'.repeat(44), ck: 'leak' }], [200, { auts: 'YXV0cw==' }]);
	const me = meAgent({ url: 'https://127.0.0.1:8445', fetchImpl: f });
	assert.deepEqual(await me.aka({ impi: DAVE.impi, nonce: NONCE, algorithm: 'AKAv2-SHA-256' }),
		{ password: 'p'.repeat(44) });
	assert.deepEqual(f.calls[0].json, { impi: DAVE.impi, nonce: NONCE, algorithm: 'AKAv2-SHA-256' });
	assert.equal(f.calls[0].url, 'https://127.0.0.1:8445/aka');
	assert.equal(f.calls[0].method, 'POST');
	assert.equal(f.calls[0].headers['content-type'], 'application/json');
	assert.deepEqual(await me.aka({ impi: DAVE.impi, nonce: NONCE, algorithm: 'AKAv2-SHA-256' }), { auts: 'YXV0cw==' });
});

test('ME agent: each refusal becomes an IsimError of its kind', async () => {
	const cases = [
		[[409, { error: 'network authentication failed: AUTN MAC is wrong' }], 'mac-failure'],
		[[403, { error: 'origin https://evil.example is not allowed by the ME\'s access control policy' }], 'refused'],
		[[403, { error: 'confirmation required', confirm_url: 'https://127.0.0.1:8445/confirm?origin=x' }], 'confirm'],
		[[404, { error: 'unknown IMPI' }], 'unknown'],
		[[400, { error: 'AKAv1-MD5 would hand RES to the page; only AKAv2-SHA-256 is served' }], 'bad-request'],
		[[429, { error: 'too many requests' }], 'rate-limit'],
		[[500, undefined], 'server'],
		[[200, { error: 'neither' }], 'server'],
		[new TypeError('Failed to fetch'), 'unreachable'],
	];
	for (const [answer, kind] of cases) {
		const me = meAgent({ url: 'https://127.0.0.1:8445', fetchImpl: fakeFetch(answer) });
		await assert.rejects(me.aka({ impi: DAVE.impi, nonce: NONCE, algorithm: 'AKAv2-SHA-256' }),
			(e) => e instanceof IsimError && e.kind === kind, kind);
	}
});

test('network ISIM: login, session, aka and logout on this site with the cookie', async () => {
	const erin = { user: 'erin', subscriptions: [{ ...DAVE, impi: 'erin@ims.example.org', impu: 'sip:erin@ims.example.org' }] };
	const f = fakeFetch([200, erin], [200, erin], [200, { password: 'q'.repeat(44) }], [204, undefined],
		[401, { error: 'not signed in' }]);
	const isim = networkIsim({ fetchImpl: f });
	assert.equal(isim.kind, 'network-isim');
	assert.deepEqual(await isim.login('erin', 'erin-web'), erin);
	assert.deepEqual(f.calls[0].json, { user: 'erin', password: 'erin-web' });
	assert.equal(f.calls[0].url, '/login');
	assert.equal(f.calls[0].credentials, 'same-origin');
	assert.deepEqual(await isim.session(), erin);
	assert.deepEqual(await isim.aka({ impi: 'erin@ims.example.org', nonce: NONCE, algorithm: 'AKAv2-SHA-256' }),
		{ password: 'q'.repeat(44) });
	assert.equal(f.calls[2].url, '/isim/aka');
	assert.equal(f.calls[2].method, 'POST');
	await isim.logout();
	assert.equal(f.calls[3].url, '/logout');
	assert.equal(await isim.session(), null, '401 means not signed in');
});

test('network ISIM: wrong password, another user\'s subscription, not signed in', async () => {
	const isim = networkIsim({ fetchImpl: fakeFetch([401, { error: 'wrong user or password' }],
		[403, { error: 'subscription erin@ims.example.org is not mapped to user frank' }],
		[401, { error: 'not signed in' }]) });
	await assert.rejects(isim.login('erin', 'x'), { kind: 'not-signed-in', status: 401 });
	await assert.rejects(isim.aka({ impi: 'erin@ims.example.org', nonce: NONCE, algorithm: 'AKAv2-SHA-256' }),
		{ kind: 'refused', message: /not mapped to user frank/ });
	await assert.rejects(isim.aka({ impi: 'erin@ims.example.org', nonce: NONCE, algorithm: 'AKAv2-SHA-256' }),
		{ kind: 'not-signed-in' });
});

test('explainIsimFailure: the words the page shows', () => {
	const mac = explainIsimFailure(new IsimError('mac-failure', 'network authentication failed: AUTN MAC is wrong'),
		{ source: 'me' });
	assert.equal(mac.kind, 'isim-network');
	assert.equal(mac.title, `${MAC_FAILURE_TITLE}.`);
	assert.match(mac.title, /The network could not prove itself to your ISIM/);
	assert.match(mac.detail, /AUTN MAC is wrong/);
	const refused = explainIsimFailure(new IsimError('refused', 'origin https://x is not allowed by the ME\'s access control policy'),
		{ source: 'me' });
	assert.match(refused.title, /This device's ISIM refused/);
	assert.match(refused.detail, /not allowed by the ME's access control policy/);
	const confirm = explainIsimFailure(new IsimError('confirm', 'confirmation required',
		{ confirmUrl: 'https://127.0.0.1:8445/confirm?origin=o' }), { source: 'me' });
	assert.match(confirm.detail, /https:\/\/127\.0\.0\.1:8445\/confirm\?origin=o/);
	const away = explainIsimFailure(new IsimError('unreachable', 'Failed to fetch'), { source: 'me', meUrl: 'https://127.0.0.1:8445' });
	assert.match(away.detail, /https:\/\/127\.0\.0\.1:8445/);
	const signin = explainIsimFailure(new IsimError('not-signed-in', 'not signed in'), { source: 'network-isim' });
	assert.match(signin.title, /Sign in/);
});
