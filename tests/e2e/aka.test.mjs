// IMS AKA from the browser (issue 4): the WIC registers with Digest
// AKAv2-SHA-256, the password for each challenge coming from this device's
// ISIM through the ME agent (`wims me`, TR 33.871 6.1.1.3) or from the
// network ISIM of the WWSF (seed CR 001), against `wims demo` on ports of
// its own (lib/session.mjs).  Demo subscribers: dave (ME agent), erin and
// frank (network ISIM, web passwords erin-web / frank-web).
//   (a) the login page offers the three ways
//   (b) dave registers through the ME agent; the page says so
//   (c) erin signs in to the site and registers through the network ISIM
//   (d) dave (ME) calls erin (network ISIM): the call connects
// Attacks:
//   (e) a page of a foreign Origin asks the ME agent: refused, no password
//   (f) the network ISIM without signing in: 401; frank asking for erin's
//       subscription: 403
//   (g) dave's AKA REGISTER replayed on a new WebSocket: 401, never 200
//   (h) the card is ahead of the HSS (SQN): the page resynchronises (auts)
//       and registers; (h2) the same with the network ISIM
//   (i) a network that cannot prove itself (the card's K differs): the
//       page stops and says so
//   (j) an ME agent that wants the user's confirmation ([me] confirm = yes,
//       a second demo): the page shows the agent's reason and its link; once
//       the user allowed the site there, dave registers; (k) registrations
//       shortened to 20 s there: each re-REGISTER is a new AKA run
// Screenshots: aka-login, aka-registered-me, aka-registered-network-isim,
// aka-call, aka-isim-error, aka-me-confirm.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { httpsJson, httpsRequest } from './lib/http.mjs';
import { dial, sipTrace, waitCall } from './lib/phone.mjs';
import { demoSession } from './lib/session.mjs';
import { startStaticSite } from './lib/static.mjs';
import { authVia, openWic, registerWithMe, screenshot, signInToSite, statusPanel,
	waitForState } from './lib/wic.mjs';
import { REPO, freePort, wimsCli, wimsHasKey } from './lib/wims.mjs';

const hasMe = await wimsHasKey('me.allowed_origins').catch(() => false);
const hasIsim = await wimsHasKey('wwsf.demo_accounts').catch(() => false);
const skip = hasMe && hasIsim ? false : 'this wims has no me role or network ISIM yet';

const session = demoSession({ contexts: 3, skip });
const confirming = demoSession({ sets: ['me.confirm=yes', 'cscf.max_expires=20', 'cscf.min_expires=10',
	'cscf.default_expires=20'], skip });
const demo = () => session.demo();

const DAVE = 'dave@ims.example.org';
const ERIN = 'erin@ims.example.org';
const AKA_NONCE_RE = /nonce="([A-Za-z0-9+/=]{44})"/;

/* The REGISTERs a page sent, whole, and the responses it got. */
function registers(page) {
	return page.evaluate(() => window.wic.trace
		.filter((m) => (m.dir === 'out' && /^REGISTER /.test(m.text)) ||
			(m.dir === 'in' && /^CSeq: \d+ REGISTER/m.test(m.text)))
		.map((m) => ({ dir: m.dir, text: m.text })));
}

/* A real challenge's nonce the page saw, else one of the right shape
 * (the refusals tested with it come before any look at the nonce). */
async function someNonce(page) {
	const regs = page ? await registers(page).catch(() => []) : [];
	const c = regs.find((m) => m.dir === 'in' && AKA_NONCE_RE.test(m.text));
	return c ? AKA_NONCE_RE.exec(c.text)[1] : Buffer.alloc(32, 7).toString('base64');
}

/* Fail at once, not after a click's timeout, when an earlier step did
 * not leave this page registered. */
async function needRegistered(page, who) {
	assert.ok(page, `${who} has no page: an earlier test failed`);
	assert.equal((await statusPanel(page)).state, 'registered', `${who} is not registered`);
}

async function waitRegistered(page) {
	const state = await waitForState(page, ['registered', 'failed'], 30000);
	if (state !== 'registered') {
		const s = await statusPanel(page);
		assert.fail(`${page.who}: ${s.failureTitle} ${s.failureDetail}\n${await sipTrace(page)}`);
	}
}

/* Sign in to the site with fetch from node: the session cookie. */
async function login(user, password) {
	const r = await httpsJson(`${demo().wwsfUrl}login`, { body: { user, password },
		headers: { origin: demo().wwsfOrigin } });
	assert.equal(r.status, 200, `login ${user}: ${r.body}`);
	const cookie = [].concat(r.headers['set-cookie'] || []).find((c) => /^wims_session=/.test(c));
	assert.ok(cookie, 'a wims_session cookie');
	assert.match(cookie, /HttpOnly/i);
	assert.match(cookie, /SameSite=Strict/i);
	return cookie.split(';')[0];
}

describe('IMS AKA through both ISIMs', { skip }, () => {
	let dave, erin, foreign;

	before(async () => {
		if (session.error)
			return;
		foreign = await startStaticSite({ port: await freePort(), root: join(REPO, 'web/dist'),
			cert: session.wims.cert, key: session.wims.key, pcscfUrl: session.wims.pcscfUrl });
	});
	after(async () => {
		await foreign?.close();
	});

	test('(a) the login page offers password, this device\'s ISIM and the network ISIM', async () => {
		const page = await openWic(session.contexts[2], demo().wwsfUrl);
		const choices = await page.$$eval('#auth-choice label.choice', (ls) => ls.map((l) => l.innerText.replace(/\s+/g, ' ').trim()));
		assert.deepEqual(choices, ['Password (SIP Digest)', 'IMS AKA — this device\'s ISIM (ME agent)',
			'IMS AKA — network ISIM (sign in to this site)']);
		assert.equal(await page.isChecked('#auth-password'), true, 'password is the default');
		assert.equal(await page.isVisible('#password'), true);
		/* config.json names the ME agent the page will ask */
		const config = await page.evaluate(async () => (await fetch('config.json')).json());
		assert.equal(config.me_url, demo().meUrl);
		await screenshot(page, 'aka-login');
		await page.close();
	});

	test('(b) dave registers with IMS AKA through this device\'s ISIM (ME agent)', async () => {
		dave = await openWic(session.contexts[0], demo().wwsfUrl);
		dave.who = 'dave';
		const status = await registerWithMe(dave);
		assert.match(status, /dave@ims\.example\.org/, status);
		assert.equal(await dave.inputValue('#impu'), 'sip:dave@ims.example.org', 'IMPU from the agent');
		assert.equal(await dave.isVisible('#password'), false, 'no password asked');
		await waitRegistered(dave);
		const via = await authVia(dave);
		assert.equal(via.source, 'me');
		assert.equal(via.text, 'Registered with IMS AKA (AKAv2-SHA-256) using this device\'s ISIM (ME agent)');
		const s = await statusPanel(dave);
		assert.equal(s.algorithm, 'IMS AKA AKAv2-SHA-256');
		assert.ok(s.associated.includes('sip:dave@ims.example.org'), s.associated.join());
		/* what went on the wire: a 401 with an AKAv2 challenge, then the
		 * answer to that nonce, then 200 */
		const regs = await registers(dave);
		const challenge = regs.find((m) => m.dir === 'in' && /^SIP\/2\.0 401/.test(m.text));
		assert.match(challenge.text, /algorithm=AKAv2-SHA-256/);
		const nonce = AKA_NONCE_RE.exec(challenge.text)[1];
		const answer = regs.find((m) => m.dir === 'out' && /^Authorization:/m.test(m.text));
		assert.match(answer.text, /algorithm=AKAv2-SHA-256/);
		assert.ok(answer.text.includes(`nonce="${nonce}"`));
		assert.match(answer.text, /username="dave@ims\.example\.org"/);
		assert.match(answer.text, /response="[0-9a-f]{64}"/);
		assert.match(regs[regs.length - 1].text, /^SIP\/2\.0 200/);
		assert.deepEqual(dave.problems, []);
		await screenshot(dave, 'aka-registered-me');
	});

	test('(c) erin signs in to the site and registers through the network ISIM', async () => {
		erin = await openWic(session.contexts[1], demo().wwsfUrl);
		erin.who = 'erin';
		/* a wrong web password first: refused, no subscription shown */
		const wrong = await signInToSite(erin, { user: 'erin', password: 'not-erin-web' });
		assert.equal(wrong.account, null);
		assert.match(wrong.error, /Wrong user name or password/);
		const ok = await signInToSite(erin, { user: 'erin', password: 'erin-web' });
		assert.match(ok.account, /Signed in to this site as erin/);
		assert.equal(ok.impu, 'sip:erin@ims.example.org');
		assert.equal(ok.impi, ERIN);
		await erin.click('#register');
		await waitRegistered(erin);
		const via = await authVia(erin);
		assert.equal(via.source, 'network-isim');
		assert.equal(via.text, 'Registered with IMS AKA (AKAv2-SHA-256) using the network ISIM, signed in as erin');
		const answer = (await registers(erin)).find((m) => m.dir === 'out' && /^Authorization:/m.test(m.text));
		assert.match(answer.text, /algorithm=AKAv2-SHA-256/);
		assert.match(answer.text, /username="erin@ims\.example\.org"/);
		/* the 401s of /session (not signed in yet) and of the wrong web
		 * password are expected; nothing else may be logged */
		assert.deepEqual(erin.problems.filter((p) => !/status of 401/.test(p)), []);
		await screenshot(erin, 'aka-registered-network-isim');
	});

	test('(d) dave (ME agent) calls erin (network ISIM): the call connects', async () => {
		demo();
		await needRegistered(dave, 'dave');
		await needRegistered(erin, 'erin');
		await dial(dave, 'erin');
		const ringing = await waitCall(erin, 'incoming');
		assert.equal(ringing.uri, 'sip:dave@ims.example.org');
		assert.equal(ringing.verified, true);
		await erin.click('#accept');
		await waitCall(erin, 'connected');
		await waitCall(dave, 'connected');
		await screenshot(dave, 'aka-call');
		await dave.click('#hangup');
		await waitCall(dave, 'ended');
		await waitCall(erin, 'ended');
		await dave.click('#call-done');
		await erin.click('#call-done');
	});

	test('(e) a page from a foreign Origin asking the ME agent is refused and gets no password', async () => {
		const { meUrl } = demo();
		/* a real nonce, so that only the Origin can make the difference */
		const nonce = await someNonce(dave);
		const page = await openWic(session.contexts[2], foreign.url);
		const asked = await page.evaluate(async ({ meUrl, nonce }) => {
			const out = {};
			for (const [name, init] of [
				['aka', { method: 'POST', headers: { 'content-type': 'application/json' },
					body: JSON.stringify({ impi: 'dave@ims.example.org', nonce, algorithm: 'AKAv2-SHA-256' }) }],
				['aka-simple', { method: 'POST', headers: { 'content-type': 'text/plain' },
					body: JSON.stringify({ impi: 'dave@ims.example.org', nonce, algorithm: 'AKAv2-SHA-256' }) }],
				['identity', { method: 'GET' }]]) {
				try {
					const r = await fetch(`${meUrl}/${name === 'identity' ? 'identity' : 'aka'}`, init);
					out[name] = { status: r.status, body: await r.text() };
				} catch (e) {
					out[name] = { error: String(e) };
				}
			}
			return out;
		}, { meUrl, nonce });
		for (const [name, r] of Object.entries(asked)) {
			assert.ok(r.error || r.status === 403, `${name}: ${JSON.stringify(r)}`);
			assert.doesNotMatch(r.body || '', /password|auts|dave@/, `${name}: nothing readable`);
		}
		/* what the agent answers such a request (seen from outside the
		 * browser): 403 naming the Origin, no CORS grant, no password */
		const r = await httpsJson(`${meUrl}/aka`, { headers: { origin: foreign.origin },
			body: { impi: DAVE, nonce, algorithm: 'AKAv2-SHA-256' } });
		assert.equal(r.status, 403);
		assert.match(r.json.error, /not allowed by the ME's access control policy/);
		assert.equal(r.headers['access-control-allow-origin'], undefined);
		assert.equal(r.json.password, undefined);
		const pre = await httpsJson(`${meUrl}/aka`, { method: 'OPTIONS', headers: { origin: foreign.origin,
			'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
		assert.equal(pre.status, 403);
		/* and without any Origin at all */
		const none = await httpsJson(`${meUrl}/aka`, { body: { impi: DAVE, nonce, algorithm: 'AKAv2-SHA-256' } });
		assert.equal(none.status, 403);
		/* the WIC itself from that origin: it says the agent would not answer */
		await page.check('#auth-me');
		await page.waitForFunction(() => document.getElementById('me-status').dataset.state === 'error');
		assert.match(await page.textContent('#me-status'), /Could not reach this device's ISIM/);
		await page.close();
	});

	test('(f) the network ISIM refuses a user not signed in (401) and another user\'s subscription (403)', async () => {
		const { wwsfUrl, wwsfOrigin } = demo();
		const nonce = await someNonce(erin);
		const ask = (impi, cookie) => httpsJson(`${wwsfUrl}isim/aka`, {
			headers: { origin: wwsfOrigin, ...(cookie ? { cookie } : {}) },
			body: { impi, nonce, algorithm: 'AKAv2-SHA-256' } });
		const anonymous = await ask(ERIN);
		assert.equal(anonymous.status, 401, anonymous.body);
		assert.equal(anonymous.json.password, undefined);
		const forged = await ask(ERIN, 'wims_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
		assert.equal(forged.status, 401, forged.body);
		const frank = await login('frank', 'frank-web');
		const theft = await ask(ERIN, frank);
		assert.equal(theft.status, 403, theft.body);
		assert.match(theft.json.error, /not mapped to user frank/);
		assert.equal(theft.json.password, undefined);
		/* the same request from a foreign Origin is refused before that */
		const cross = await httpsJson(`${wwsfUrl}isim/aka`, { headers: { origin: foreign.origin, cookie: frank },
			body: { impi: 'frank@ims.example.org', nonce, algorithm: 'AKAv2-SHA-256' } });
		assert.equal(cross.status, 403, cross.body);
		/* and frank's own subscription is served to him (not 401/403;
		 * erin's nonce does not verify for frank's K: 409) */
		const own = await ask('frank@ims.example.org', frank);
		assert.ok(![401, 403].includes(own.status), own.body);
		/* in the page: frank signed in sees only his own subscription */
		const page = await openWic(session.contexts[2], demo().wwsfUrl);
		const shown = await signInToSite(page, { user: 'frank', password: 'frank-web' });
		assert.equal(shown.impi, 'frank@ims.example.org');
		assert.deepEqual(await page.$$eval('#isim-subscription option', (os) => os.map((o) => o.textContent)),
			['sip:frank@ims.example.org']);
		await page.click('#web-signout');
		await page.close();
	});

	test('(g) dave\'s AKA REGISTER replayed on a new WebSocket gets 401, never 200', async () => {
		const { pcscfUrl } = demo();
		await needRegistered(dave, 'dave');
		const sent = (await registers(dave)).filter((m) => m.dir === 'out' &&
			/^Authorization:.*AKAv2-SHA-256/m.test(m.text));
		assert.ok(sent.length, 'dave sent an AKA REGISTER');
		const replay = sent[sent.length - 1].text;
		/* from a page of the allowed Origin, so that the P-CSCF lets the
		 * WebSocket open: only the spent credentials can be refused */
		const page = await openWic(session.contexts[2], demo().wwsfUrl);
		const got = await page.evaluate(({ url, text }) => new Promise((res) => {
			const ws = new WebSocket(url, 'sip');
			const answers = [];
			const done = () => {
				ws.close();
				res(answers);
			};
			ws.onopen = () => ws.send(text);
			ws.onmessage = (e) => {
				answers.push(e.data);
				if (/^SIP\/2\.0 [2-6]\d\d/.test(e.data))
					done();
			};
			ws.onerror = () => res(['error']);
			setTimeout(done, 10000);
		}), { url: pcscfUrl, text: replay });
		const final = got.find((t) => /^SIP\/2\.0 [2-6]\d\d/.test(t)) || got.join('\n');
		assert.match(final, /^SIP\/2\.0 401 /, final);
		assert.doesNotMatch(got.join('\n'), /^SIP\/2\.0 200/m);
		/* a fresh challenge, not the replayed nonce again */
		const replayedNonce = AKA_NONCE_RE.exec(replay)[1];
		assert.match(final, /algorithm=AKAv2-SHA-256/);
		assert.ok(!final.includes(replayedNonce), 'a new nonce');
		await page.close();
	});

	test('(h) the card is ahead of the network (SQN): the page resynchronises with auts and registers', async () => {
		const w = demo();
		await needRegistered(dave, 'dave');
		/* unregistered first: the un-REGISTER is challenged too, and would
		 * resynchronise instead */
		await dave.click('#unregister');
		await waitForState(dave, ['unregistered', 'failed']);
		const seq = await wimsCli(['me', 'isim-seq', DAVE, '5000'], { dataDir: w.dataDir });
		assert.equal(seq.code, 0, seq.out);
		await dave.evaluate(() => document.getElementById('register-form').requestSubmit());
		await waitRegistered(dave);
		const regs = await registers(dave);
		const auts = regs.filter((m) => m.dir === 'out' && /^Authorization:.*auts="[A-Za-z0-9+/=]+"/m.test(m.text));
		assert.equal(auts.length, 1, `one REGISTER with auts\n${await sipTrace(dave)}`);
		/* after it, a fresh challenge answered with a password */
		const at = regs.indexOf(auts[0]);
		assert.match(regs[at + 1].text, /^SIP\/2\.0 401/);
		assert.match(regs[at + 2].text, /^REGISTER /);
		assert.doesNotMatch(regs[at + 2].text, /auts=/);
		assert.match(regs[regs.length - 1].text, /^SIP\/2\.0 200/);
		const via = await authVia(dave);
		assert.equal(via.source, 'me');
		assert.match(via.text, /resynchronising/);
	});

	test('(h2) the same through the network ISIM: erin resynchronises and registers', async () => {
		const w = demo();
		await needRegistered(erin, 'erin');
		await erin.click('#unregister');
		await waitForState(erin, ['unregistered', 'failed']);
		const seq = await wimsCli(['wwsf', 'isim-seq', ERIN, '5000'], { dataDir: w.dataDir });
		assert.equal(seq.code, 0, seq.out);
		await erin.click('#register');
		await waitRegistered(erin);
		const regs = await registers(erin);
		assert.equal(regs.filter((m) => m.dir === 'out' && /^Authorization:.*auts=/m.test(m.text)).length, 1,
			await sipTrace(erin));
		const via = await authVia(erin);
		assert.equal(via.source, 'network-isim');
		assert.match(via.text, /network ISIM, signed in as erin \(after resynchronising/);
	});

	test('(i) a network the ISIM cannot verify (MAC failure): the page stops and says so', async () => {
		const w = demo();
		await needRegistered(dave, 'dave');
		await dave.click('#unregister');
		await waitForState(dave, ['unregistered', 'failed']);
		/* the card now holds another K than the HSS: the network's AUTN
		 * fails its MAC, as a false base station's would */
		let r = await wimsCli(['me', 'isim-remove', DAVE], { dataDir: w.dataDir });
		assert.equal(r.code, 0, r.out);
		r = await wimsCli(['me', 'isim-add', DAVE, '--impu', 'sip:dave@ims.example.org',
			'--k', '000102030405060708090a0b0c0d0e0f', '--opc', '0f0e0d0c0b0a09080706050403020100'],
		{ dataDir: w.dataDir });
		assert.equal(r.code, 0, r.out);
		await dave.evaluate(() => document.getElementById('register-form').requestSubmit());
		assert.equal(await waitForState(dave, ['registered', 'failed'], 30000), 'failed');
		const s = await statusPanel(dave);
		assert.equal(s.failureKind, 'isim-network');
		assert.match(s.failureTitle, /The network could not prove itself to your ISIM/);
		assert.match(s.failureDetail, /MAC/);
		/* the network was told (TS 24.229 5.1.1.5.3): response="" and no auts */
		const last = (await registers(dave)).filter((m) => m.dir === 'out').pop();
		assert.match(last.text, /response=""/);
		assert.doesNotMatch(last.text, /auts=/);
		await screenshot(dave, 'aka-isim-error');
	});
});

describe('an ME agent that asks the user first; registrations of 20 s', { skip }, () => {
	let page;

	test('(j) the page shows the agent\'s reason and link; after the user allows the site, dave registers', async () => {
		const w = confirming.demo();
		page = await openWic(confirming.contexts[0], w.wwsfUrl);
		page.who = 'dave';
		await page.check('#auth-me');
		await page.waitForFunction(() => document.getElementById('me-status').dataset.state === 'error');
		assert.match(await page.textContent('#me-status'), /asks you to allow this site first/);
		const href = await page.getAttribute('#me-status a', 'href');
		assert.ok(href && href.startsWith(`${w.meUrl}/confirm?`), href);
		await screenshot(page, 'aka-me-confirm');
		/* the agent's own page: the user allows this site */
		const agent = await confirming.contexts[0].newPage();
		await agent.goto(href);
		assert.ok((await agent.textContent('h1')).includes(w.wwsfOrigin));
		await agent.click('button[type="submit"]');
		await agent.waitForLoadState();
		assert.match(await agent.textContent('body'), /may now use your ISIM/);
		await agent.close();
		await page.click('#me-retry');
		await page.waitForFunction(() => document.getElementById('me-status').dataset.state === 'ok');
		await page.click('#register');
		await waitRegistered(page);
		assert.equal((await authVia(page)).source, 'me');
	});

	test('(k) the re-REGISTER before the 20 s run out is challenged and answered by the ISIM again', async () => {
		const w = confirming.demo();
		if (!page || (await statusPanel(page)).state !== 'registered') {
			/* (j) did not get dave registered: allow the site the way the
			 * agent's page does (its token, the agent's own Origin), so that
			 * this test does not hang on that one */
			const origin = w.wwsfOrigin;
			const form = await httpsRequest(`${w.meUrl}/confirm?origin=${encodeURIComponent(origin)}`);
			const token = /name="token" value="([^"]+)"/.exec(form.body)[1];
			const ok = await httpsRequest(`${w.meUrl}/confirm`, { method: 'POST',
				headers: { origin: w.meUrl, 'content-type': 'application/x-www-form-urlencoded' },
				body: `origin=${encodeURIComponent(origin)}&token=${encodeURIComponent(token)}` });
			assert.equal(ok.status, 200, ok.body);
			page = page || await openWic(confirming.contexts[0], w.wwsfUrl);
			page.who = 'dave';
			await registerWithMe(page);
			await waitRegistered(page);
		}
		const answered = () => page.evaluate(() => window.wic.trace.filter((m) => m.dir === 'out' &&
			/^Authorization:.*AKAv2-SHA-256/m.test(m.text)).length);
		const before = await answered();
		/* JsSIP refreshes 5 s before a short registration ends */
		await page.waitForFunction((n) => window.wic.trace.filter((m) => m.dir === 'out' &&
			/^Authorization:.*AKAv2-SHA-256/m.test(m.text)).length > n, before, { timeout: 25000 });
		await page.waitForFunction(() => Number(document.getElementById('expires').dataset.seconds) >= 15,
			null, { timeout: 5000 });
		const s = await statusPanel(page);
		assert.equal(s.state, 'registered');
		assert.ok(await answered() > before);
		const nonces = (await registers(page)).filter((m) => m.dir === 'out' && AKA_NONCE_RE.test(m.text))
			.map((m) => AKA_NONCE_RE.exec(m.text)[1]);
		assert.equal(new Set(nonces).size, nonces.length, 'a fresh challenge each time');
		await page.close();
	});
});
