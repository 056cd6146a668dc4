/*
 * main.js - the WIC page: reads the forms, drives a WicClient, draws its
 * state: the registration (sign-in and status cards), the phone (dialler
 * and call screen) and the messages.  Everything SIP lives in wic.js;
 * this file only touches the DOM.
 *
 * The P-CSCF address comes from /config.json, served by the wwsf beside
 * this page, so the same build works wherever it is served from; the
 * "Advanced" section lets the person point it elsewhere.  So does the ME
 * agent's address (me_url).
 *
 * Three ways to sign in (the radio buttons): a password (SIP Digest), or
 * IMS AKA answered by this device's ISIM through the ME agent, or by the
 * network ISIM of this site once the person has signed in to the site
 * with its own web account.  For both ISIMs the page first asks which
 * subscriptions there are and fills the identity fields from the answer.
 *
 * And three ways without any IMS credential in the page (token.js), shown
 * when /config.json names a WAF: "Sign in with your operator account" (the
 * OAuth code flow: the page navigates to /oauth/start and comes back
 * from the WAF with a token in the site's session), "Use my web account's
 * linked IMS identity" (a person signed in to this site), and on a
 * third-party pool site ("pool": true) "Continue as a guest".  The way
 * chosen is kept in sessionStorage across the WAF round trip (and a
 * reload): only then does the page ask the site for the session's token,
 * so a page nobody signed in on asks nothing.
 */
import { WicClient } from './wic.js';
import { dialTarget, formatDuration, peerKey, uriParts } from './call.js';
import { impiFromImpu, normaliseImpu } from './identity.js';
import { explainIsimFailure, meAgent, networkIsim } from './isim.js';
import { TOKEN_VIAS, explainTokenFetchFailure, tokenSource, tokenViaText } from './token.js';

const $ = (id) => document.getElementById(id);

const STATE_TEXT = {
	unregistered: 'Unregistered',
	registering: 'Registering…',
	registered: 'Registered',
	unregistering: 'Unregistering…',
	failed: 'Failed',
};

const config = { pcscf_url: '', domain: 'ims.example.org', me_url: '', waf: '', identity: '', pool: false };
const client = new WicClient();
let countdown = null;

/* The ISIMs: the ME agent (made once config.json names it) and this
 * site's network ISIM; the web account signed in to the latter. */
let me = null;
const siteIsim = networkIsim();
let webAccount = null;

async function loadConfig() {
	try {
		const res = await fetch('config.json', { cache: 'no-store' });
		if (res.ok)
			Object.assign(config, await res.json());
	} catch {
		/* served without a wwsf (a plain file server): use the defaults */
	}
	if (!config.pcscf_url)
		config.pcscf_url = `wss://${location.hostname}:7443/`;
	$('domain-label').textContent = config.domain || '';
	const saved = localStorage.getItem('wic.server');
	$('server').value = saved || config.pcscf_url;
	$('server').placeholder = config.pcscf_url;
	const impu = localStorage.getItem('wic.impu');
	if (impu && !$('impu').value)
		$('impu').value = impu;
	$('impu').placeholder = `sip:alice@${config.domain}`;
	updateImpiHint();
	config.me_url = config.me_url || 'https://127.0.0.1:8445';
	me = meAgent({ url: config.me_url });
	const saved_auth = localStorage.getItem('wic.auth');
	const radio = document.querySelector(`input[name="auth"][value="${saved_auth}"]`);
	if (radio)
		radio.checked = true;
	setAuthMode(authMode());
	drawTokenBox();
	resumeToken();
}

/* ---- without an IMS password: a token (token.js) ---- */

const tokens = tokenSource();
/* sessionStorage key: the token way chosen in this tab ('operator',
 * 'wwsf-login', 'pool'), across the WAF round trip and reloads. */
const TOKEN_WAY = 'wic.token';
/* { via, account, token } while registering with a token, else null */
let tokenMode = null;
/* A web account's token is renewed before it ends (POST /oauth/token):
 * the network keeps a binding no longer than its token.  The operator
 * sign-in's and a guest's are the session's one token: they end with it. */
const RENEW_BEFORE_MS = 120 * 1000;
let renewTimer = null;

function scheduleRenewal() {
	clearTimeout(renewTimer);
	renewTimer = null;
	const t = tokenMode && tokenMode.token;
	if (!t || tokenMode.via !== 'wwsf-login' || !t.expiresAt)
		return;
	renewTimer = setTimeout(renewWebAccountToken, Math.max(10000, t.expiresAt - Date.now() - RENEW_BEFORE_MS));
}

async function renewWebAccountToken() {
	if (!tokenMode || tokenMode.via !== 'wwsf-login')
		return;
	const mode = tokenMode;
	try {
		const t = await tokens.forWebAccount();
		if (tokenMode !== mode || t.impu !== mode.token.impu)
			return; /* another way meanwhile, or another identity: not a renewal */
		client.renewToken({ ...t, via: 'wwsf-login', account: mode.account });
		mode.token = t;
		scheduleRenewal();
	} catch (e) {
		const f = explainTokenFetchFailure(e, 'wwsf-login');
		tokenError(`Your token could not be renewed: ${f.title} ${f.detail}`);
	}
}

function tokenError(text) {
	$('token-error').textContent = text || '';
	$('token-error').hidden = !text;
}

function drawTokenBox() {
	const pool = !!config.pool;
	const waf = !!config.waf;
	$('token-box').hidden = !waf && !pool;
	$('oauth-operator').hidden = !waf || pool;
	$('web-linked').hidden = !waf || pool;
	$('pool-guest').hidden = !pool;
	$('token-head').textContent = pool ?
		`Guests of ${config.identity || 'this site'} register without an IMS account` :
		'Without an IMS password';
	$('token-actions').hidden = !!tokenMode;
	$('token-or').hidden = !!tokenMode;
	$('register-form').hidden = !!tokenMode;
	$('token-active').hidden = !tokenMode;
	if (tokenMode) {
		$('linked-signin').hidden = true;
		$('link-box').hidden = true;
		const t = tokenMode.token;
		$('token-active-text').textContent = !t ? 'Asking this site for your token…' :
			tokenMode.via === 'pool' ?
				`Guest identity ${t.impu} from the pool of ${t.wwsf || config.identity || 'this site'}: ` +
				'no IMS password is used.' :
				tokenMode.via === 'wwsf-login' ?
					`Your web account${tokenMode.account ? ` ${tokenMode.account}` : ''} on this site is linked to ` +
					`${t.impu}: the operator vouches for it, no IMS password is used.` :
					`Signed in with your operator account as ${t.impu}: the operator vouches for you, ` +
					'no IMS password is used.';
	}
}

/* The way chosen before a navigation or reload: ask the site for the
 * session's token and register with it; also what the site's callback
 * said when the sign-in failed (?error=...&error_description=...). */
function resumeToken() {
	const q = new URLSearchParams(location.search);
	if (q.has('error') || q.has('error_description')) {
		sessionStorage.removeItem(TOKEN_WAY);
		tokenError(`The operator sign-in failed: ${q.get('error_description') || q.get('error')}.`);
		history.replaceState(null, '', location.pathname);
		return;
	}
	const way = sessionStorage.getItem(TOKEN_WAY);
	if (!TOKEN_VIAS.includes(way) || $('token-box').hidden)
		return;
	registerWithToken(way, way === 'wwsf-login' ? tokens.forWebAccount : tokens.session);
}

/* Get a token (get()) and register with it. */
async function registerWithToken(via, get, { account = null } = {}) {
	tokenError('');
	formError('');
	tokenMode = { via, account, token: null };
	drawTokenBox();
	$('token-register').disabled = true;
	let token;
	try {
		token = await get();
	} catch (e) {
		sessionStorage.removeItem(TOKEN_WAY);
		tokenMode = null;
		scheduleRenewal();
		drawTokenBox();
		const f = explainTokenFetchFailure(e, via);
		tokenError(`${f.title} ${f.detail}`);
		$('token-error').dataset.kind = f.kind;
		if (via === 'wwsf-login' && e.kind === 'no-session') {
			$('linked-signin').hidden = false;
			$('linked-user').focus();
		} else if (via === 'wwsf-login') {
			showLinkBox(account || (webAccount && webAccount.user));
		}
		return false;
	} finally {
		$('token-register').disabled = false;
	}
	/* a token of the session is what the session was got for */
	const way = via === 'wwsf-login' ? via : token.via || via;
	sessionStorage.setItem(TOKEN_WAY, way);
	tokenMode = { via: way, account, token };
	drawTokenBox();
	scheduleRenewal();
	const server = $('server').value.trim() || config.pcscf_url;
	try {
		client.register({ impu: token.impu, impi: token.impi, server, token: { ...token, via: way, account } });
	} catch (e) {
		tokenError(e.message);
		return false;
	}
	return true;
}

/* Signed in to this site, but the operator vouches for no IMS identity of
 * this account (yet): offer to link one (Annex C M2, the code by SIP
 * MESSAGE to that identity). */
function showLinkBox(account) {
	$('link-box').hidden = false;
	$('link-sent').hidden = true;
	$('link-status').textContent = `No IMS identity is linked to your web account${account ? ` ${account}` : ''} ` +
		'yet. Link one: the operator sends a code to it by SIP message, which you enter on the operator\'s page.';
	if (!$('link-impu').value && webAccount && webAccount.subscriptions && webAccount.subscriptions.length)
		$('link-impu').value = webAccount.subscriptions[0].impu;
}

async function sendLinkCode() {
	tokenError('');
	const impu = normaliseImpu($('link-impu').value, config.domain) ||
		(/^tel:\+?[0-9]+$/i.test($('link-impu').value.trim()) ? $('link-impu').value.trim() : null);
	if (!impu) {
		tokenError('Enter the IMS identity to link, e.g. sip:you@' + config.domain + '.');
		$('link-impu').focus();
		return;
	}
	$('link-send').disabled = true;
	try {
		const { confirmUrl } = await tokens.link(impu);
		const sent = $('link-sent');
		sent.hidden = false;
		sent.replaceChildren(`A code is on its way to ${impu} by SIP message. Enter it on `);
		if (confirmUrl) {
			const a = document.createElement('a');
			a.href = confirmUrl;
			a.target = '_blank';
			a.rel = 'noopener';
			a.id = 'link-confirm';
			a.textContent = 'the operator\'s confirmation page';
			sent.append(a);
		} else {
			sent.append('the operator\'s confirmation page');
		}
		sent.append(', then press "Use my web account\'s linked IMS identity" again.');
	} catch (e) {
		tokenError(e.kind === 'not-registered' ? `${e.message}.` : `Linking failed: ${e.message}.`);
	} finally {
		$('link-send').disabled = false;
	}
}

function startOperatorSignIn() {
	tokenError('');
	sessionStorage.setItem(TOKEN_WAY, 'operator');
	location.assign(tokens.startUrl);
}

/* The web account's linked identity: asked at once (the person may be
 * signed in already); without a session the sign-in fields show. */
function useLinkedIdentity() {
	$('link-box').hidden = true;
	return registerWithToken('wwsf-login', tokens.forWebAccount, { account: webAccount ? webAccount.user : null });
}

async function linkedSignIn() {
	tokenError('');
	const user = $('linked-user').value.trim();
	const password = $('linked-password').value;
	if (!user || !password) {
		tokenError('Enter your user name and password on this site.');
		$(user ? 'linked-password' : 'linked-user').focus();
		return;
	}
	$('linked-go').disabled = true;
	try {
		const account = await siteIsim.login(user, password);
		$('linked-password').value = '';
		$('linked-signin').hidden = true;
		webAccount = account && account.user ? account : null;
		await registerWithToken('wwsf-login', tokens.forWebAccount, { account: user });
	} catch (e) {
		tokenError(webLoginError(e));
	} finally {
		$('linked-go').disabled = false;
	}
}

/* Register again with the way of tokenMode (a fresh token of the session). */
function tokenRegisterAgain() {
	if (!tokenMode)
		return;
	const { via, account } = tokenMode;
	registerWithToken(via, via === 'wwsf-login' ? tokens.forWebAccount : via === 'pool' && !tokenMode.token ?
		tokens.guest : tokens.session, { account });
}

function leaveTokenMode() {
	sessionStorage.removeItem(TOKEN_WAY);
	tokenMode = null;
	scheduleRenewal();
	tokenError('');
	if (registration.state === 'registering')
		client.unregister();
	drawTokenBox();
}

/* ---- how to sign in ---- */

const AUTH_MODES = ['digest', 'me', 'network-isim'];

function authMode() {
	const r = document.querySelector('input[name="auth"]:checked');
	return r && AUTH_MODES.includes(r.value) ? r.value : 'digest';
}

function setAuthMode(mode) {
	$('password-row').hidden = mode !== 'digest';
	$('me-panel').hidden = mode !== 'me';
	$('isim-panel').hidden = mode !== 'network-isim';
	$('auth-choice').dataset.mode = mode;
	formError('');
	/* one ISIM's subscription is not the identity of another way in */
	if (filledBy && filledBy !== mode) {
		$('impu').value = '';
		$('impi').value = '';
		filledBy = null;
		updateImpiHint();
	}
	if (mode === 'me')
		askMe();
	else if (mode === 'network-isim')
		checkSession();
}

function onAuthChange() {
	const mode = authMode();
	localStorage.setItem('wic.auth', mode);
	setAuthMode(mode);
}

/* Which way filled the identity fields, if an ISIM did. */
let filledBy = null;

/* Fill the identity fields with a subscription an ISIM holds. */
function useSubscription(sub, by = authMode()) {
	if (!sub)
		return;
	$('impu').value = sub.impu;
	$('impi').value = sub.impi;
	filledBy = by;
	updateImpiHint();
}

function fillSelect(select, subs) {
	select.replaceChildren(...subs.map((sub, i) => {
		const o = document.createElement('option');
		o.value = String(i);
		o.textContent = sub.impu === `sip:${sub.impi}` ? sub.impu : `${sub.impu} (${sub.impi})`;
		return o;
	}));
}

function meStatus(text, state) {
	$('me-status').textContent = text;
	$('me-status').dataset.state = state;
}

let meIdentities = [];
let meAsking = null;

/* Which subscriptions does this device's ISIM hold?  (GET /identity) */
function askMe() {
	if (!me || meAsking)
		return meAsking;
	meStatus(`Asking this device's ISIM (ME agent at ${config.me_url})…`, 'busy');
	$('me-retry').hidden = true;
	meAsking = me.identities().then((list) => {
		meIdentities = list;
		fillSelect($('me-identity'), list);
		$('me-identity-row').hidden = list.length < 2;
		if (!list.length) {
			meStatus('This device\'s ISIM holds no IMS subscription.', 'error');
			$('me-retry').hidden = false;
			return;
		}
		useSubscription(list[0]);
		meStatus(list.length === 1 ?
			`This device's ISIM holds ${list[0].impi}; it will answer the network's challenge.` :
			`This device's ISIM holds ${list.length} subscriptions; choose one.`, 'ok');
	}, (e) => {
		meIdentities = [];
		$('me-identity-row').hidden = true;
		const f = explainIsimFailure(e, { source: 'me', meUrl: config.me_url });
		if (e.confirmUrl && /^https:\/\//.test(e.confirmUrl)) {
			/* the agent's own page, where the person allows this site */
			meStatus(`${f.title} `, 'error');
			const a = document.createElement('a');
			a.href = e.confirmUrl;
			a.target = '_blank';
			a.rel = 'noopener';
			a.textContent = 'Allow this site on the ME agent\'s page';
			$('me-status').append(a, ', then press Ask again.');
		} else {
			meStatus(`${f.title} ${f.detail}`, 'error');
		}
		$('me-retry').hidden = false;
	}).finally(() => {
		meAsking = null;
	});
	return meAsking;
}

function webError(text) {
	$('web-error').textContent = text || '';
	$('web-error').hidden = !text;
}

/* Show the signed-in web account and its subscriptions, or the sign-in box. */
function drawAccount(account) {
	webAccount = account && account.user ? account : null;
	$('web-signin-box').hidden = !!webAccount;
	$('web-account-box').hidden = !webAccount;
	if (!webAccount)
		return;
	const subs = webAccount.subscriptions;
	$('web-account').textContent = subs.length ?
		`Signed in to this site as ${webAccount.user}; the network ISIM answers for ${subs.length === 1 ?
			subs[0].impi : `${subs.length} subscriptions`}.` :
		`Signed in to this site as ${webAccount.user}, but no IMS subscription is mapped to this account.`;
	$('web-account').dataset.state = subs.length ? 'ok' : 'error';
	fillSelect($('isim-subscription'), subs);
	$('isim-subscription').disabled = subs.length < 2;
	useSubscription(subs[0]);
}

async function checkSession() {
	webError('');
	try {
		drawAccount(await siteIsim.session());
	} catch {
		drawAccount(null); /* no network ISIM here: signing in will say so */
	}
}

function webLoginError(e) {
	if (e.kind === 'not-signed-in')
		return 'Wrong user name or password for this site.';
	if (e.kind === 'rate-limit')
		return 'Too many sign-in attempts: wait a minute and try again.';
	if (e.kind === 'unreachable' || e.status === 404 || e.status === 405)
		return `This site has no network ISIM to sign in to (${e.message}).`;
	return `Signing in failed: ${e.message}.`;
}

/* POST /login with what is typed; true once signed in. */
async function webSignIn() {
	webError('');
	const user = $('web-user').value.trim();
	const password = $('web-password').value;
	if (!user || !password) {
		webError('Enter your user name and password on this site.');
		$(user ? 'web-password' : 'web-user').focus();
		return false;
	}
	$('web-signin').disabled = true;
	try {
		drawAccount(await siteIsim.login(user, password));
		$('web-password').value = '';
		return true;
	} catch (e) {
		webError(webLoginError(e));
		return false;
	} finally {
		$('web-signin').disabled = false;
	}
}

async function webSignOut() {
	webError('');
	try {
		await siteIsim.logout();
	} catch {
		/* the session is gone either way for this page */
	}
	drawAccount(null);
	$('web-user').focus();
}

function updateImpiHint() {
	const impu = normaliseImpu($('impu').value, config.domain);
	const derived = impu && impiFromImpu(impu);
	$('impi').placeholder = derived || `alice@${config.domain}`;
	$('impi-hint').textContent = derived ?
		`Leave empty to use ${derived}, derived from your public identity.` :
		'Leave empty to use the one derived from your public identity.';
}

function formError(text) {
	$('form-error').textContent = text || '';
	$('form-error').hidden = !text;
}

async function onSubmit(event) {
	event.preventDefault();
	formError('');
	const mode = authMode();
	/* network ISIM: Register first signs in with what is typed */
	if (mode === 'network-isim' && !webAccount && !(await webSignIn()))
		return;
	if (mode === 'network-isim' && !webAccount.subscriptions.length) {
		formError('No IMS subscription is mapped to your account on this site.');
		return;
	}
	const impu = normaliseImpu($('impu').value, config.domain);
	if (!impu) {
		formError('Enter your public identity, e.g. sip:alice@' + config.domain + '.');
		$('impu').focus();
		return;
	}
	const impi = $('impi').value.trim();
	if (!impi && !impiFromImpu(impu)) {
		formError('This public identity has no user part: enter your private identity.');
		$('impi').focus();
		return;
	}
	const password = $('password').value;
	if (mode === 'digest' && !password) {
		formError('Enter your password.');
		$('password').focus();
		return;
	}
	const server = $('server').value.trim() || config.pcscf_url;
	if (!/^wss?:\/\/[^/\s]+/i.test(server)) {
		formError('The server must be a wss:// address.');
		$('advanced').open = true;
		$('server').focus();
		return;
	}
	localStorage.setItem('wic.impu', $('impu').value.trim());
	if (server !== config.pcscf_url)
		localStorage.setItem('wic.server', server);
	else
		localStorage.removeItem('wic.server');
	let aka = null;
	if (mode === 'me')
		aka = { source: me };
	else if (mode === 'network-isim')
		aka = { source: siteIsim, account: webAccount.user };
	try {
		client.register({ impu, impi, password: aka ? undefined : password, server, aka });
	} catch (e) {
		formError(e.message);
	}
}

function formatRemaining(ms) {
	const s = Math.max(0, Math.round(ms / 1000));
	const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
	const two = (n) => String(n).padStart(2, '0');
	return h ? `${h}:${two(m)}:${two(r)}` : `${m}:${two(r)}`;
}

function tick(snapshot) {
	const left = snapshot.expiresAt - Date.now();
	$('expires').textContent = left > 0 ? formatRemaining(left) : 'renewing…';
	$('expires').dataset.seconds = String(Math.max(0, Math.round(left / 1000)));
}

function draw({ detail: s }) {
	const state = $('state');
	state.dataset.state = s.state;
	state.textContent = STATE_TEXT[s.state] || s.state;
	document.body.dataset.state = s.state;
	registration = s;
	drawPanels();
	$('phone-me').textContent = s.impu ? uriParts(s.impu).user || s.impu : '';
	$('phone-me').title = s.impu || '';
	$('phone-net').textContent = s.state === 'registered' ? (client.domain || '') : (STATE_TEXT[s.state] || '');

	const busy = s.state === 'registering' || s.state === 'unregistering';
	$('register').disabled = busy;
	$('register').textContent = s.state === 'registered' ? 'Register again' : 'Register';
	$('unregister').disabled = !(s.state === 'registered' || s.state === 'registering');
	$('unregister').hidden = !(s.state === 'registered' || s.state === 'registering' || s.state === 'unregistering');
	for (const id of ['impu', 'impi', 'password', 'server', 'web-user', 'web-password', 'me-identity',
		'isim-subscription', 'auth-password', 'auth-me', 'auth-network', 'oauth-operator', 'pool-guest',
		'web-linked', 'linked-go', 'token-register'])
		$(id).disabled = busy;
	$('token-register').textContent = s.state === 'failed' ? 'Try again' : 'Register';
	/* green only while the token is doing its job */
	$('token-active-text').dataset.state = s.state === 'failed' ? '' : 'ok';
	if (!busy && webAccount)
		$('isim-subscription').disabled = webAccount.subscriptions.length < 2;

	const showId = s.state !== 'unregistered' && s.impu;
	$('identity-row').hidden = !showId;
	if (showId)
		$('identity').textContent = s.impi && s.impi !== impiFromImpu(s.impu) ?
			`${s.impu} (private ${s.impi})` : s.impu;

	clearInterval(countdown);
	countdown = null;
	const registered = s.state === 'registered';
	$('expires-row').hidden = !(registered && s.expiresAt);
	if (registered && s.expiresAt) {
		tick(s);
		countdown = setInterval(() => tick(s), 1000);
	}

	const aka = /^AKA/i.test(s.algorithm || '');
	$('algorithm-row').hidden = !(registered && s.algorithm);
	$('algorithm').textContent = !s.algorithm ? '' : s.algorithm === 'Bearer' ?
		'Bearer token (OAuth 2.0), trusted node authentication' :
		`${aka ? 'IMS AKA' : 'SIP Digest'} ${s.algorithm}`;
	drawAuthVia(s, registered);
	$('token-row').hidden = !(registered && s.authSource === 'token' && s.tokenExpiresAt);
	$('token-expires').textContent = s.tokenExpiresAt ? clock(s.tokenExpiresAt) : '';

	const list = $('associated');
	list.replaceChildren(...(registered ? s.associated || [] : []).map((uri) => {
		const li = document.createElement('li');
		li.textContent = uri;
		return li;
	}));
	$('associated-row').hidden = !(registered && list.children.length);

	const failed = s.state === 'failed' && s.failure;
	$('failure').hidden = !failed;
	$('failure').dataset.kind = failed ? s.failure.kind : '';
	$('failure-title').textContent = failed ? s.failure.title : '';
	$('failure-detail').textContent = failed ? s.failure.detail : '';

	$('idle-note').hidden = s.state !== 'unregistered';
}

/* Registered how: the words the person reads, and data-auth-source. */
function authViaText(s) {
	const alg = s.algorithm || '';
	const resynced = s.akaResyncs ? ' (after resynchronising the sequence numbers with the network)' : '';
	if (s.authSource === 'token')
		return tokenViaText({ via: s.tokenVia, impu: s.impu, wwsf: s.tokenWwsf, account: s.authAccount });
	if (s.authSource === 'me')
		return `Registered with IMS AKA (${alg}) using this device's ISIM (ME agent)${resynced}`;
	if (s.authSource === 'network-isim')
		return `Registered with IMS AKA (${alg}) using the network ISIM, signed in as ${s.authAccount}${resynced}`;
	return `Registered with your password (SIP Digest ${alg})`;
}

function drawAuthVia(s, registered) {
	const el = $('auth-via');
	el.hidden = !(registered && s.algorithm);
	el.dataset.authSource = registered ? s.authSource || 'digest' : '';
	el.dataset.tokenVia = registered && s.authSource === 'token' ? s.tokenVia || '' : '';
	el.textContent = registered && s.algorithm ? authViaText(s) : '';
}

function drawTrace({ detail }) {
	if (!detail) {
		$('trace').replaceChildren();
		return;
	}
	const { dir, text } = detail;
	const li = document.createElement('li');
	li.className = dir;
	const first = text.split('\r\n', 1)[0];
	li.textContent = `${dir === 'out' ? '→' : '←'} ${first}`;
	li.title = text;
	const list = $('trace');
	list.append(li);
	while (list.children.length > 30)
		list.firstElementChild.remove();
}

/* ---- the phone ---- */

let registration = { state: 'unregistered' };
let currentCall = null;
let callTimer = null;
const TITLE = document.title;

/* Which cards show: the phone once registered, and while a call's end is
 * still on screen (a lost connection must not hide why the call ended);
 * the sign-in form otherwise. */
function drawPanels() {
	const registered = registration.state === 'registered';
	const phone = registered || !!currentCall;
	$('phone').hidden = !phone;
	$('signin-card').hidden = phone;
	$('messages-card').hidden = !registered;
	$('call').disabled = !registered;
	$('message-start').disabled = !registered;
	$('msg-send').disabled = !registered;
}

const CALL_TEXT = {
	calling: 'Calling…',
	ringing: 'Ringing…',
	incoming: 'is calling you',
	connecting: 'Connecting…',
	connected: '',
	ended: 'Call ended',
};

function initial(name) {
	const m = /[A-Za-z0-9]/.exec(name || '');
	return m ? m[0].toUpperCase() : '?';
}

/* A stable hue per peer, so the same person always gets the same colour. */
function hue(text) {
	let h = 0;
	for (const ch of text || '')
		h = (h * 31 + ch.codePointAt(0)) % 360;
	return h;
}

/*
 * Ring tones, made with Web Audio (no sound files to serve): the ringtone
 * for an incoming call, the ringback tone while the callee's phone rings
 * (440 + 480 Hz, as the North American tones).  The browser may refuse
 * sound before the person has clicked on the page: then it stays silent.
 */
const tone = { ctx: null, gain: null, oscs: [], timer: null, kind: null };

function stopTone() {
	clearInterval(tone.timer);
	tone.timer = null;
	for (const o of tone.oscs)
		o.stop();
	tone.oscs = [];
	tone.kind = null;
	delete document.body.dataset.tone;
}

function playTone(kind) {
	if (tone.kind === kind)
		return;
	stopTone();
	try {
		tone.ctx = tone.ctx || new AudioContext();
		tone.ctx.resume().catch(() => {});
		const ctx = tone.ctx;
		tone.gain = ctx.createGain();
		tone.gain.gain.value = 0;
		tone.gain.connect(ctx.destination);
		tone.oscs = [440, 480].map((hz) => {
			const o = ctx.createOscillator();
			o.frequency.value = hz;
			o.connect(tone.gain);
			o.start();
			return o;
		});
		/* [on, off] seconds: ringtone 0.4 on 0.2 off 0.4 on 2 off; ringback 2 on 4 off */
		const pattern = kind === 'ring' ? [[0, 0.4], [0.6, 1.0]] : [[0, 2]];
		const period = kind === 'ring' ? 3 : 6;
		const level = kind === 'ring' ? 0.12 : 0.06;
		const cycle = () => {
			const t = ctx.currentTime;
			for (const [on, off] of pattern) {
				tone.gain.gain.setValueAtTime(level, t + on);
				tone.gain.gain.setValueAtTime(0, t + off);
			}
		};
		cycle();
		tone.timer = setInterval(cycle, period * 1000);
		tone.kind = kind;
		document.body.dataset.tone = kind; /* what is sounding, for the tests */
	} catch {
		stopTone();
	}
}

function dialError(text) {
	$('dial-error').textContent = text || '';
	$('dial-error').hidden = !text;
}

function drawCall({ detail: c }) {
	currentCall = c;
	drawPanels();
	$('dialer').hidden = !!c;
	$('call-screen').hidden = !c;
	clearInterval(callTimer);
	callTimer = null;
	if (c && c.state === 'incoming')
		playTone('ring');
	else if (c && c.state === 'ringing')
		playTone('ringback');
	else
		stopTone();
	if (!c) {
		document.title = TITLE;
		$('remote-audio').srcObject = null;
		return;
	}
	const screen = $('call-screen');
	screen.dataset.state = c.state;
	screen.dataset.direction = c.direction;
	$('call-direction').textContent = c.state === 'ended' ? '' :
		c.state === 'connected' ? 'In call' :
		c.direction === 'incoming' ? 'Incoming call' : 'Outgoing call';
	const peer = c.peer || {};
	$('call-avatar').textContent = initial(peer.name);
	$('call-avatar').style.setProperty('--hue', String(hue(peer.uri)));
	$('call-name').textContent = peer.name || peer.uri || '';
	$('call-uri').textContent = peer.uri || '';
	const number = peer.number && peer.number !== peer.name && !(peer.uri || '').includes(peer.number) ?
		peer.number : '';
	$('call-number').textContent = number;
	$('call-number').hidden = !number;
	const badge = $('call-badge');
	if (c.direction === 'incoming') {
		badge.hidden = false;
		badge.dataset.verified = peer.verified ? 'yes' : 'no';
		badge.textContent = peer.verified ? '✓ Verified by your network' : 'Not verified';
		badge.title = peer.verified ? 'P-Asserted-Identity: the network checked who calls' :
			'No asserted identity: the caller may not be who the call says';
	} else {
		badge.hidden = true;
	}
	const claimed = peer.claimed;
	/* What the caller's From said, only as a footnote: a name it chose,
	 * or an address other than the asserted one. */
	let claimedText = '';
	if (claimed && claimed.uri && peerKey(claimed.uri) !== peerKey(peer.uri))
		claimedText = `Claims to be ${claimed.display ? `"${claimed.display}" ` : ''}${claimed.uri}`;
	else if (claimed && claimed.display && claimed.display !== peer.name)
		claimedText = `Calls as "${claimed.display}"`;
	$('call-claimed').textContent = claimedText;
	$('call-claimed').hidden = !claimedText || c.direction !== 'incoming';

	$('call-status').textContent = CALL_TEXT[c.state] ?? c.state;
	$('call-status').dataset.state = c.state;
	if (c.state === 'connected') {
		const tick = () => {
			$('call-status').textContent = formatDuration(Date.now() - c.connectedAt);
		};
		tick();
		callTimer = setInterval(tick, 1000);
	}
	const ended = c.state === 'ended';
	$('call-end').hidden = !ended;
	$('call-end').dataset.kind = ended && c.end ? c.end.kind : '';
	$('call-end-title').textContent = ended && c.end ? c.end.title : '';
	$('call-end-detail').textContent = ended && c.end ? c.end.detail : '';
	if (ended && c.connectedAt)
		$('call-status').textContent = `Call ended · ${formatDuration(c.endedAt - c.connectedAt)}`;

	$('accept').hidden = c.state !== 'incoming';
	$('reject').hidden = c.state !== 'incoming';
	$('hangup').hidden = c.state === 'incoming' || ended;
	$('mute').hidden = c.state !== 'connected';
	$('mute').setAttribute('aria-pressed', c.muted ? 'true' : 'false');
	$('mute-label').textContent = c.muted ? 'Unmute' : 'Mute';
	$('call-done').hidden = !ended;

	document.title = c.state === 'incoming' ? `Incoming call from ${peer.name} · wims` :
		c.state === 'ended' ? TITLE : `${peer.name} · ${TITLE}`;
	if (c.state === 'incoming')
		$('accept').focus();
	else if (ended)
		$('call-done').focus();
}

function drawMedia({ detail }) {
	const audio = $('remote-audio');
	audio.srcObject = detail.stream || null;
	if (detail.stream)
		audio.play().catch(() => { /* autoplay refused until the person clicks */ });
}

function onDial(event) {
	event.preventDefault();
	dialError('');
	try {
		client.call($('dial').value);
	} catch (e) {
		dialError(e.message);
		$('dial').focus();
	}
}

function onKey(event) {
	const key = event.target.closest('button[data-key]');
	if (!key)
		return;
	const input = $('dial');
	input.value += key.dataset.key;
	input.focus();
}

/* ---- messages ---- */

let conversations = [];
let selected = null; /* key of the conversation shown */
let shown = null; /* the one whose address is in the To field */

function msgError(text) {
	$('msg-error').textContent = text || '';
	$('msg-error').hidden = !text;
}

function clock(at) {
	const d = new Date(at);
	return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

function select(key) {
	selected = key;
	client.markRead(key);
	drawMessages({ detail: client.conversations });
}

function drawMessages({ detail }) {
	conversations = detail;
	if (!selected && conversations.length && conversations[0].unread)
		selected = conversations[0].key;
	if (selected && !conversations.some((c) => c.key === selected))
		selected = null;

	$('conv-empty').hidden = conversations.length > 0;
	$('conversations').replaceChildren(...conversations.map((c) => {
		const li = document.createElement('li');
		const b = document.createElement('button');
		b.type = 'button';
		b.className = 'conversation';
		b.dataset.key = c.key;
		if (c.key === selected)
			b.setAttribute('aria-current', 'true');
		const av = document.createElement('span');
		av.className = 'avatar small';
		av.textContent = initial(c.name);
		av.style.setProperty('--hue', String(hue(c.uri)));
		const text = document.createElement('span');
		text.className = 'conv-text';
		const name = document.createElement('span');
		name.className = 'conv-name';
		name.textContent = c.name;
		const last = document.createElement('span');
		last.className = 'conv-last';
		const lm = c.messages[c.messages.length - 1];
		last.textContent = lm ? `${lm.dir === 'out' ? 'You: ' : ''}${lm.text}` : '';
		text.append(name, last);
		b.append(av, text);
		if (c.unread && c.key !== selected) {
			const n = document.createElement('span');
			n.className = 'unread';
			n.textContent = String(c.unread);
			b.append(n);
		}
		li.append(b);
		return li;
	}));

	const conv = conversations.find((c) => c.key === selected);
	if (conv && shown !== conv.key)
		$('msg-to').value = conv.uri;
	shown = conv ? conv.key : null;
	if (conv && conv.unread)
		queueMicrotask(() => client.markRead(conv.key));
	$('thread-name').textContent = conv ? conv.name : 'New message';
	$('thread-name').title = conv ? conv.uri : '';
	$('thread-badge').hidden = !(conv && conv.verified);
	$('thread-badge').dataset.verified = 'yes';
	$('thread-badge').textContent = conv ? `✓ ${conv.uri}` : '';
	$('thread-badge').title = 'Identity asserted by your network (P-Asserted-Identity)';
	$('thread-empty').hidden = !!(conv && conv.messages.length);
	const thread = $('thread');
	thread.replaceChildren(...(conv ? conv.messages : []).map((m) => {
		const li = document.createElement('li');
		li.className = `bubble ${m.dir}`;
		li.dataset.status = m.status;
		const p = document.createElement('p');
		p.className = 'bubble-text';
		p.textContent = m.text;
		const meta = document.createElement('span');
		meta.className = 'bubble-meta';
		meta.textContent = m.dir === 'out' ?
			`${clock(m.at)} · ${m.status === 'sending' ? 'sending…' : m.status === 'sent' ? 'delivered ✓' : 'not delivered'}` :
			`${clock(m.at)}${m.verified ? '' : ' · not verified'}`;
		li.append(p, meta);
		if (m.error) {
			const e = document.createElement('span');
			e.className = 'bubble-error';
			e.textContent = m.error;
			li.append(e);
		}
		return li;
	}));
	thread.scrollTop = thread.scrollHeight;
}

function onSend(event) {
	event.preventDefault();
	msgError('');
	const text = $('msg-text').value;
	try {
		selected = client.sendMessage($('msg-to').value, text);
		$('msg-text').value = '';
		drawMessages({ detail: client.conversations });
		$('msg-text').focus();
	} catch (e) {
		msgError(e.message);
	}
}

function onMessageStart() {
	dialError('');
	const to = $('dial').value.trim();
	const uri = dialTarget(to, client.domain);
	if (to && !uri) {
		dialError(`"${to}" is not an address: type a user name, a SIP URI or a number.`);
		return;
	}
	if (uri) {
		const key = peerKey(uri);
		selected = conversations.some((c) => c.key === key) ? key : null;
		drawMessages({ detail: client.conversations });
		$('msg-to').value = to;
	}
	$(uri ? 'msg-text' : 'msg-to').focus();
}

client.addEventListener('state', draw);
client.addEventListener('trace', drawTrace);
client.addEventListener('call', drawCall);
client.addEventListener('media', drawMedia);
client.addEventListener('messages', drawMessages);
$('register-form').addEventListener('submit', onSubmit);
for (const r of document.querySelectorAll('input[name="auth"]'))
	r.addEventListener('change', onAuthChange);
$('me-retry').addEventListener('click', () => askMe());
$('me-identity').addEventListener('change', () => useSubscription(meIdentities[Number($('me-identity').value)]));
$('isim-subscription').addEventListener('change', () =>
	useSubscription(webAccount && webAccount.subscriptions[Number($('isim-subscription').value)]));
$('web-signin').addEventListener('click', () => webSignIn());
$('web-password').addEventListener('keydown', (e) => {
	if (e.key === 'Enter') {
		e.preventDefault();
		webSignIn();
	}
});
$('web-signout').addEventListener('click', () => webSignOut());
$('oauth-operator').addEventListener('click', startOperatorSignIn);
$('pool-guest').addEventListener('click', () => registerWithToken('pool', tokens.guest));
$('web-linked').addEventListener('click', useLinkedIdentity);
$('linked-go').addEventListener('click', linkedSignIn);
$('linked-password').addEventListener('keydown', (e) => {
	if (e.key === 'Enter') {
		e.preventDefault();
		linkedSignIn();
	}
});
$('token-register').addEventListener('click', tokenRegisterAgain);
$('link-send').addEventListener('click', sendLinkCode);
$('token-cancel').addEventListener('click', leaveTokenMode);
$('unregister').addEventListener('click', () => client.unregister());
$('impu').addEventListener('input', updateImpiHint);
$('dialer').addEventListener('submit', onDial);
$('keypad').addEventListener('click', onKey);
$('dial-erase').addEventListener('click', () => {
	$('dial').value = $('dial').value.slice(0, -1);
	$('dial').focus();
});
$('dial').addEventListener('input', () => dialError(''));
$('message-start').addEventListener('click', onMessageStart);
$('accept').addEventListener('click', () => client.answer());
$('reject').addEventListener('click', () => client.reject());
$('hangup').addEventListener('click', () => client.hangup());
$('mute').addEventListener('click', () => client.setMuted(!(currentCall && currentCall.muted)));
$('call-done').addEventListener('click', () => client.dismissCall());
$('conversations').addEventListener('click', (e) => {
	const b = e.target.closest('button[data-key]');
	if (b)
		select(b.dataset.key);
});
$('msg-form').addEventListener('submit', onSend);
window.addEventListener('pagehide', () => {
	client.hangup();
	client.unregister();
});
/* For the browser tests and the curious: the client's current state. */
window.wic = client;
loadConfig();
