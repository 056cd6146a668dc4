// Web credentials (issue 5, TR 33.871 6.1.2, 6.1.3, Annex C): the WIC
// registers with an OAuth access token from the operator's WAF instead of
// an IMS password, the P-CSCF vouching for it (Trusted Node
// Authentication), against `wims demo` on the README's fixed ports (the
// WAF's demo clients are registered with the WWSFs' origins and redirect
// URIs): operator WWSF https://127.0.0.1:8443, third-party pool WWSF
// https://127.0.0.1:8446, WAF https://127.0.0.1:9443.  Run under
// `flock /tmp/wims-ports.lock`, as run.sh is.
//   (a) code flow: grace (no IMS password at all) chooses "Sign in with
//       your operator account", signs in at the WAF, approves, comes back
//       registered; the REGISTER carried `Authorization: Bearer` with the
//       session's token and no Digest; she writes to alice (Digest): the
//       network asserts her identity
//   (b) pool guest on the third-party WWSF: "Continue as a guest" ->
//       registered as poolN; a second guest gets another poolM
//   (c) `wims hss wwsf-block webshop.example.net`: a new guest gets no
//       token (WAF), a guest holding one is refused by the IMS core with
//       the reason shown, grace (operator WWSF) registers again; unblocked,
//       the guest registers again
//   (d) linking (Annex C M2): bob, registered with Digest in one browser,
//       receives by SIP MESSAGE the code the WAF sends when bob (WAF
//       account bob/bob-web) asks to link sip:bob@ims.example.org in
//       another; the code entered at /link/confirm links; then bob signs in
//       with his operator account and registers with a token
//   (e) grace's token replayed from another Origin: a foreign origin cannot
//       open the WebSocket; the pool WWSF's page (an allowed Origin, another
//       WWSF) is refused: the token was issued for another site
//   (f) "Use my web account's linked IMS identity": erin signs in to the
//       operator WWSF itself; no link yet, so the page offers to link her
//       IMPU; the code reaches her phone (registered with IMS AKA through
//       the network ISIM); confirmed, her web account's token registers her
//   (g) grace's token with its signature tampered: the P-CSCF's 401 with
//       its Bearer error_description is what the page shows; one REGISTER,
//       no Digest attempt
// Screenshots: tna-login, tna-waf-signin, tna-waf-consent,
// tna-registered-operator, tna-alice-message, tna-pool-guest,
// tna-blocked-guest, tna-blocked-refused, tna-link-code, tna-link-confirmed,
// tna-registered-bob, tna-replayed, tna-web-link, tna-registered-web-account,
// tna-tampered.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { wsUpgradeStatus } from './lib/http.mjs';
import { messagesPanel, registeredPage, sendText, sipTrace, waitBubble } from './lib/phone.mjs';
import { demoSession } from './lib/session.mjs';
import { startStaticSite } from './lib/static.mjs';
import { authVia, openWic, screenshot, signInToSite, statusPanel, waitForState } from './lib/wic.mjs';
import { REPO, freePort, wimsCli, wimsTna } from './lib/wims.mjs';

const tna = await wimsTna();
const skip = tna.waf && tna.pool ? false : 'this wims has no waf role or pool WWSF yet';

/* contexts: 0 grace, 1 alice, 2 and 3 guests, 4 bob (Digest), 5 bob (web),
 * 6 a third guest and the replays, 7 erin's phone (AKA), 8 erin (web) */
const session = demoSession({ contexts: 9, skip, fixedPorts: true });
const demo = () => session.demo();

const OPERATOR = 'https://127.0.0.1:8443/';
const POOL = 'https://127.0.0.1:8446/';
const WAF = 'https://127.0.0.1:9443';
const POOL_IMPU = /^sip:pool([1-4])@ims\.example\.org$/;

async function waitRegistered(page) {
	const state = await waitForState(page, ['registered', 'failed'], 30000);
	if (state !== 'registered') {
		const s = await statusPanel(page);
		assert.fail(`${page.who}: ${s.failureTitle} ${s.failureDetail}\n${await sipTrace(page)}`);
	}
}

/* The REGISTERs the page sent, whole. */
function sentRegisters(page) {
	return page.evaluate(() => window.wic.trace.filter((m) => m.dir === 'out' && /^REGISTER /.test(m.text))
		.map((m) => m.text));
}

/* The token the page's site holds for its session (same origin, its cookie). */
function sessionToken(page) {
	return page.evaluate(async () => {
		const r = await fetch('/oauth/token', { cache: 'no-store' });
		return { status: r.status, json: await r.json().catch(() => null) };
	});
}

/* On a WAF page: fill the sign-in form (whatever its field names) and submit. */
async function wafSignIn(page, user, password) {
	await page.waitForSelector('input[type="password"]', { timeout: 15000 });
	const userField = await page.$('input[name="user"], input[name="username"], input[autocomplete="username"], ' +
		'input[type="text"]:not([type="hidden"])');
	assert.ok(userField, `a user name field on ${page.url()}`);
	await userField.fill(user);
	await page.fill('input[type="password"]', password);
	await Promise.all([page.waitForLoadState('load'), page.click('form button[type="submit"], form input[type="submit"]')]);
}

/* The WAF's consent: press the button that allows (not the one that denies). */
async function wafApprove(page) {
	const allow = page.locator('form button, form input[type="submit"]')
		.filter({ hasText: /allow|approve|accept|consent|yes|continue|register/i })
		.filter({ hasNotText: /deny|cancel|no\b|refuse/i });
	if (await allow.count() === 0)
		return false;
	await Promise.all([page.waitForNavigation({ timeout: 20000 }), allow.first().click()]);
	return true;
}

/* The operator sign-in, start to end: WIC -> WAF sign-in (-> consent) -> WIC. */
async function operatorSignIn(page, user, password, shots = null) {
	await Promise.all([page.waitForURL((u) => u.href.startsWith(WAF), { timeout: 15000 }), page.click('#oauth-operator')]);
	assert.match(page.url(), /^https:\/\/127\.0\.0\.1:9443\/authorize\?/);
	const q = new URL(page.url()).searchParams;
	assert.equal(q.get('response_type'), 'code');
	assert.equal(q.get('client_id'), 'wwsf.ims.example.org');
	assert.equal(q.get('code_challenge_method'), 'S256');
	assert.ok(q.get('state') && q.get('code_challenge'), 'state and PKCE');
	if (shots)
		await screenshot(page, shots[0]);
	await wafSignIn(page, user, password);
	if (!page.url().startsWith(OPERATOR)) {
		if (shots)
			await screenshot(page, shots[1]);
		const approved = await wafApprove(page);
		assert.ok(approved || page.url().startsWith(OPERATOR),
			`no consent button on ${page.url()}: ${(await page.textContent('body')).slice(0, 400)}`);
	}
	try {
		await page.waitForURL((u) => u.href.startsWith(OPERATOR), { timeout: 20000 });
		await page.waitForFunction(() => document.getElementById('server')?.value, null, { timeout: 10000 });
	} catch (e) {
		const body = await page.textContent('body').catch(() => '');
		throw new Error(`${user}: not back on the WIC: ${page.url()}: ${body.replace(/\s+/g, ' ').slice(0, 500)}\n${e.message}`);
	}
}

/* The one-time code the WAF sent to page (a registered device) by SIP MESSAGE. */
async function linkCode(page) {
	await page.waitForFunction(() => window.wic.conversations.some((c) => c.messages.some((m) =>
		m.dir === 'in' && /\b\d{8}\b/.test(m.text))), null, { timeout: 15000 });
	const text = await page.evaluate(() => window.wic.conversations.flatMap((c) => c.messages)
		.filter((m) => m.dir === 'in').map((m) => m.text).join('\n'));
	const m = /\b(\d{8})\b/.exec(text);
	assert.ok(m, `a code in ${page.who}'s messages: ${text}`);
	return m[1];
}

/* On the WAF's /link/confirm page: enter code and submit. */
async function confirmCode(page, code) {
	await page.fill('input[name="code"]', code);
	await Promise.all([page.waitForLoadState('load'), page.click('form[action="/link/confirm"] button[type="submit"]')]);
}

describe('registering with a token from the operator (TNA)', { skip }, () => {
	let grace, alice, guest1, guest2, foreign;
	const seen = []; /* every answer grace's page got from its own site */

	before(async () => {
		if (session.error)
			return;
		foreign = await startStaticSite({ port: await freePort(), root: join(REPO, 'web/dist'),
			cert: session.wims.cert, key: session.wims.key, pcscfUrl: session.wims.pcscfUrl });
	});
	after(async () => {
		await foreign?.close();
	});

	test('(a) grace signs in with her operator account and registers with a token: no IMS password', async () => {
		demo();
		grace = await openWic(session.contexts[0], OPERATOR);
		grace.who = 'grace';
		grace.on('response', async (r) => {
			if (r.url().startsWith(OPERATOR) && /json/.test(r.headers()['content-type'] || ''))
				seen.push({ url: r.url(), body: await r.text().catch(() => '') });
		});
		assert.equal(await grace.isVisible('#oauth-operator'), true, 'the operator sign-in is offered');
		assert.equal(await grace.isVisible('#pool-guest'), false, 'no guests on the operator site');
		await screenshot(grace, 'tna-login');
		await operatorSignIn(grace, 'grace', 'grace-web', ['tna-waf-signin', 'tna-waf-consent']);
		await waitRegistered(grace);
		const via = await authVia(grace);
		assert.equal(via.source, 'token');
		assert.equal(via.text, 'Registered with a token from the operator (WAF), as sip:grace@ims.example.org');
		const s = await statusPanel(grace);
		assert.equal(s.algorithm, 'Bearer token (OAuth 2.0), trusted node authentication');
		assert.ok(s.associated.includes('sip:grace@ims.example.org'), s.associated.join());
		/* no IMS password field in this mode, and none ever filled */
		assert.equal(await grace.isVisible('#password'), false);
		assert.equal(await grace.inputValue('#password'), '');
		/* what went on the wire: Bearer with the session's token, once per
		 * REGISTER, never Digest */
		const tok = await sessionToken(grace);
		assert.equal(tok.status, 200);
		assert.equal(tok.json.impu, 'sip:grace@ims.example.org');
		assert.equal(tok.json.via, 'operator');
		assert.equal(tok.json.wwsf, 'wwsf.ims.example.org');
		const regs = await sentRegisters(grace);
		assert.ok(regs.length >= 1);
		for (const r of regs) {
			const auth = r.split('\r\n').filter((l) => /^Authorization:/i.test(l));
			assert.deepEqual(auth, [`Authorization: Bearer ${tok.json.access_token}`]);
		}
		assert.ok(!(await grace.evaluate(() => window.wic.trace.some((m) => /^Authorization: Digest/mi.test(m.text)))));
		/* nothing the page got from its site carries a password */
		assert.ok(seen.some((x) => /\/oauth\/token$/.test(x.url)), 'the page asked /oauth/token');
		for (const x of seen)
			assert.doesNotMatch(x.body, /password|secret|"ha1"/i, x.url);
		/* the WAF's pages may log their own 404s (favicon); the WIC throws nothing */
		assert.deepEqual(grace.problems.filter((p) => p.startsWith('pageerror')), []);
		await screenshot(grace, 'tna-registered-operator');
	});

	test('(a) grace writes to alice (Digest): the network asserts grace\'s identity', async () => {
		demo();
		assert.equal((await statusPanel(grace)).state, 'registered', 'grace is registered');
		alice = await registeredPage(session.contexts[1], OPERATOR, 'alice');
		await sendText(grace, 'alice', 'Hello alice, I have no IMS password');
		await waitBubble(grace, { dir: 'out', text: 'Hello alice, I have no IMS password', status: 'sent' });
		await waitBubble(alice, { dir: 'in', text: 'Hello alice, I have no IMS password' });
		const a = await messagesPanel(alice);
		assert.equal(a.conversations[0].key, 'sip:grace@ims.example.org');
		assert.match(a.threadBadge || '', /sip:grace@ims\.example\.org/, 'asserted by the network');
		await sendText(alice, 'grace', 'Hello grace!');
		await waitBubble(grace, { dir: 'in', text: 'Hello grace!' });
		await screenshot(alice, 'tna-alice-message');
	});

	test('(b) a guest of the third-party WWSF registers with an identity of its pool; a second guest gets another', async () => {
		demo();
		guest1 = await openWic(session.contexts[2], POOL);
		guest1.who = 'guest1';
		assert.equal(await guest1.isVisible('#pool-guest'), true, 'the guest choice is offered');
		assert.equal(await guest1.isVisible('#oauth-operator'), false);
		await guest1.click('#pool-guest');
		await waitRegistered(guest1);
		const v1 = await authVia(guest1);
		const impu1 = (await statusPanel(guest1)).associated.find((u) => POOL_IMPU.test(u));
		assert.ok(impu1, `registered as a pool IMPU: ${v1.text}`);
		assert.equal(v1.text, `Registered as guest ${impu1} from the pool of webshop.example.net`);
		assert.match((await sentRegisters(guest1))[0], /^Authorization: Bearer [A-Za-z0-9\-._~+/]+=*$/m);
		await screenshot(guest1, 'tna-pool-guest');

		guest2 = await openWic(session.contexts[3], POOL);
		guest2.who = 'guest2';
		await guest2.click('#pool-guest');
		await waitRegistered(guest2);
		const v2 = await authVia(guest2);
		const impu2 = POOL_IMPU.exec(/guest (\S+) from/.exec(v2.text)[1]);
		assert.ok(impu2, v2.text);
		assert.notEqual(impu2[0], impu1, 'another identity of the pool');
		assert.deepEqual(guest1.problems, []);
	});

	test('(c) the operator blocks the third-party WWSF with one command; the operator WWSF\'s user carries on', async () => {
		const w = demo();
		assert.ok(guest1 && grace, 'earlier tests registered guest1 and grace');
		const block = await wimsCli(['hss', 'wwsf-block', 'webshop.example.net', '--reason', 'e2e: blocked by the operator'],
			{ dataDir: w.dataDir });
		assert.equal(block.code, 0, block.out);
		try {
			/* a new guest: the WAF issues no token for a blocked WWSF */
			const guest3 = await openWic(session.contexts[6], POOL);
			guest3.who = 'guest3';
			await guest3.click('#pool-guest');
			await guest3.waitForFunction(() => !document.getElementById('token-error').hidden ||
				['registered', 'failed'].includes(document.getElementById('state').dataset.state), null, { timeout: 20000 });
			const s3 = await statusPanel(guest3);
			assert.notEqual(s3.state, 'registered', 'a blocked WWSF\'s guest does not register');
			const shown = await guest3.evaluate(() => [document.getElementById('token-error').textContent,
				document.getElementById('failure-title').textContent].join(' '));
			assert.match(shown, /block/i, shown);
			await screenshot(guest3, 'tna-blocked-guest');
			await guest3.close();

			/* a guest already holding a token: the IMS core refuses the
			 * registration (the reload makes a new REGISTER with it) */
			await guest1.reload();
			assert.equal(await waitForState(guest1, ['registered', 'failed'], 30000), 'failed');
			const s1 = await statusPanel(guest1);
			assert.match(`${s1.failureTitle} ${s1.failureDetail}`, /WWSF blocked/, JSON.stringify(s1));
			await screenshot(guest1, 'tna-blocked-refused');

			/* grace, of the operator's WWSF, registers again meanwhile */
			await grace.reload();
			await waitRegistered(grace);
			assert.equal((await authVia(grace)).source, 'token');
		} finally {
			const unblock = await wimsCli(['hss', 'wwsf-unblock', 'webshop.example.net'], { dataDir: w.dataDir });
			assert.equal(unblock.code, 0, unblock.out);
		}
		/* unblocked: the guest registers again with the same way */
		/* (register() starts a new trace: wait for that, not the old failure) */
		await guest1.evaluate(() => {
			window.lastTrace = window.wic.trace;
		});
		await guest1.click('#token-register');
		await guest1.waitForFunction(() => window.wic.trace !== window.lastTrace, null, { timeout: 15000 });
		await waitRegistered(guest1);
		assert.match((await authVia(guest1)).text, /^Registered as guest sip:pool[1-4]@ims\.example\.org from the pool of webshop\.example\.net$/);
	});

	test('(d) bob links his IMS identity to his WAF account with a code sent by SIP MESSAGE, then signs in with it', async () => {
		demo();
		const bobPhone = await registeredPage(session.contexts[4], OPERATOR, 'bob');
		const web = await session.contexts[5].newPage();
		web.who = 'bob (web)';
		/* bob signs in to his operator account at the WAF, then asks */
		await web.goto(`${WAF}/signin`);
		await wafSignIn(web, 'bob', 'bob-web');
		assert.match(await web.textContent('body'), /No IMS identity is linked/);
		await web.goto(`${WAF}/link`);
		await web.waitForSelector('input[name="impu"]', { timeout: 15000 });
		await web.fill('input[name="impu"]', 'sip:bob@ims.example.org');
		await Promise.all([web.waitForLoadState('load'), web.click('form[action="/link"] button[type="submit"]')]);
		const asked = (await web.textContent('body')).replace(/\s+/g, ' ');
		assert.match(asked, /code/i, asked);
		assert.doesNotMatch(asked, /\b\d{8}\b/, 'the code is not shown to the web page');
		await screenshot(web, 'tna-link-asked');
		/* the code arrives on bob's registered device, from the WAF */
		const code = await linkCode(bobPhone);
		const from = (await messagesPanel(bobPhone)).conversations[0];
		assert.equal(from.key, 'sip:waf@ims.example.org');
		await screenshot(bobPhone, 'tna-link-code');
		/* a wrong code first: refused */
		await web.goto(`${WAF}/link/confirm`);
		await confirmCode(web, code === '00000000' ? '11111111' : '00000000');
		assert.notEqual(await web.textContent('h1'), 'Link confirmed');
		assert.match(await web.textContent('body'), /not valid|refused/i);
		await web.goto(`${WAF}/link/confirm`);
		await confirmCode(web, code);
		assert.equal(await web.textContent('h1'), 'Link confirmed');
		assert.match(await web.textContent('body'), /is now linked to the IMS identity sip:bob@ims\.example\.org/);
		await screenshot(web, 'tna-link-confirmed');
		/* now bob may sign in with his operator account */
		const bob = await openWic(session.contexts[5], OPERATOR);
		bob.who = 'bob';
		await operatorSignIn(bob, 'bob', 'bob-web');
		await waitRegistered(bob);
		assert.equal((await authVia(bob)).text, 'Registered with a token from the operator (WAF), as sip:bob@ims.example.org');
		await screenshot(bob, 'tna-registered-bob');
		await web.close();
	});

	test('(e) grace\'s token replayed from another Origin is refused', async () => {
		const w = demo();
		assert.ok(grace, 'grace signed in');
		const tok = await sessionToken(grace);
		assert.equal(tok.status, 200, 'grace\'s session holds a token');
		/* a foreign origin: the WebSocket does not even open */
		assert.equal(await wsUpgradeStatus(w.pcscfUrl, foreign.origin), 403);
		const page = await openWic(session.contexts[6], foreign.url);
		const opened = await page.evaluate((url) => new Promise((res) => {
			const ws = new WebSocket(url, 'sip');
			ws.onopen = () => res(true);
			ws.onerror = () => res(false);
			setTimeout(() => res(false), 8000);
		}), w.pcscfUrl);
		assert.equal(opened, false);
		await page.close();
		/* the other WWSF's page (an Origin the P-CSCF allows): the token
		 * carries wwsf.ims.example.org, whose site is 8443 */
		const thief = await openWic(session.contexts[6], POOL);
		thief.who = 'replay';
		await thief.evaluate(({ t, server }) => window.wic.register({ impu: t.impu, impi: t.impi, server,
			token: { accessToken: t.access_token, via: 'operator', wwsf: t.wwsf } }), { t: tok.json, server: w.pcscfUrl });
		assert.equal(await waitForState(thief, ['registered', 'failed'], 20000), 'failed');
		const s = await statusPanel(thief);
		assert.equal(s.failureKind, 'token-refused');
		assert.match(`${s.failureTitle} ${s.failureDetail}`, /another site/, JSON.stringify(s));
		const last = (await thief.evaluate(() => window.wic.trace.filter((m) => m.dir === 'in')
			.map((m) => m.text.split('\r\n', 1)[0]))).pop();
		assert.match(last, /^SIP\/2\.0 403 /);
		await screenshot(thief, 'tna-replayed');
		await thief.close();
	});
	test('(f) erin, signed in to the site, links her IMS identity through it and registers with her web account\'s token', async () => {
		const w = demo();
		/* the demo gives erin IMS AKA only: let her subscription use TNA */
		const schemes = await wimsCli(['hss', 'schemes', 'erin@ims.example.org', 'akav2,tna'], { dataDir: w.dataDir });
		assert.equal(schemes.code, 0, schemes.out);
		/* her phone: IMS AKA through the network ISIM */
		const phone = await openWic(session.contexts[7], OPERATOR);
		phone.who = 'erin (phone)';
		await signInToSite(phone, { user: 'erin', password: 'erin-web' });
		await phone.click('#register');
		await waitRegistered(phone);
		/* her browser: the web account's way, not signed in yet */
		const web = await openWic(session.contexts[8], OPERATOR);
		web.who = 'erin';
		await web.click('#web-linked');
		await web.waitForSelector('#linked-user', { state: 'visible', timeout: 15000 });
		assert.match(await web.textContent('#token-error'), /Sign in to this site first/);
		await web.fill('#linked-user', 'erin');
		await web.fill('#linked-password', 'erin-web');
		await web.click('#linked-go');
		/* signed in, but the operator vouches for no IMS identity of hers */
		await web.waitForSelector('#link-box', { state: 'visible', timeout: 15000 });
		assert.match(await web.textContent('#link-status'), /No IMS identity is linked to your web account erin/);
		assert.equal(await web.inputValue('#link-impu'), 'sip:erin@ims.example.org', 'her subscription proposed');
		await web.click('#link-send');
		await web.waitForSelector('#link-sent', { state: 'visible', timeout: 15000 });
		const href = await web.getAttribute('#link-confirm', 'href');
		assert.equal(href, `${WAF}/link/confirm`);
		await screenshot(web, 'tna-web-link');
		const code = await linkCode(phone);
		const confirm = await session.contexts[8].newPage();
		await confirm.goto(href);
		await confirmCode(confirm, code);
		assert.equal(await confirm.textContent('h1'), 'Link confirmed');
		assert.match(await confirm.textContent('body'), /wwsf\.ims\.example\.org may now register you/);
		await confirm.close();
		/* now her web account's token registers her */
		await web.click('#web-linked');
		await waitRegistered(web);
		assert.equal((await authVia(web)).text,
			'Registered with a token for your web account erin on wwsf.ims.example.org, as sip:erin@ims.example.org');
		const regs = await sentRegisters(web);
		assert.match(regs[regs.length - 1], /^Authorization: Bearer [A-Za-z0-9\-._~+/]+=*$/m);
		await screenshot(web, 'tna-registered-web-account');
	});
	test('(g) a tampered token: the P-CSCF\'s 401 Bearer challenge is shown, and the page tries nothing else', async () => {
		const w = demo();
		assert.ok(grace, 'grace signed in');
		const tok = await sessionToken(grace);
		assert.equal(tok.status, 200);
		/* one character of the signature changed */
		const t = tok.json.access_token;
		const at = t.length - 5;
		const forged = t.slice(0, at) + (t[at] === 'A' ? 'B' : 'A') + t.slice(at + 1);
		const page = await openWic(session.contexts[6], OPERATOR);
		page.who = 'forger';
		await page.evaluate(({ t, server, forged }) => window.wic.register({ impu: t.impu, impi: t.impi, server,
			token: { accessToken: forged, via: 'operator', wwsf: t.wwsf } }), { t: tok.json, server: w.pcscfUrl, forged });
		assert.equal(await waitForState(page, ['registered', 'failed'], 20000), 'failed');
		const s = await statusPanel(page);
		assert.equal(s.failureKind, 'token-invalid', JSON.stringify(s));
		assert.match(s.failureTitle, /^The network refused the token: .+\.$/);
		assert.match(s.failureDetail, /401 .*invalid_token/);
		/* what the P-CSCF said is what the page says */
		const answer = await page.evaluate(() => window.wic.trace.filter((m) => m.dir === 'in').pop().text);
		const desc = /error_description="([^"]*)"/.exec(answer);
		assert.ok(desc, answer);
		assert.ok(s.failureTitle.includes(desc[1]), `${s.failureTitle} / ${desc[1]}`);
		/* one REGISTER, never a Digest answer */
		await new Promise((r) => setTimeout(r, 1000));
		const regs = await sentRegisters(page);
		assert.equal(regs.length, 1, await sipTrace(page));
		assert.doesNotMatch(regs[0], /^Authorization: Digest/mi);
		await screenshot(page, 'tna-tampered');
		await page.close();
	});
});
