/*
 * main.js - the WIC page: reads the form, drives a WicClient, draws its
 * state.  Everything SIP lives in wic.js; this file only touches the DOM.
 *
 * The P-CSCF address comes from /config.json, served by the wwsf beside
 * this page, so the same build works wherever it is served from; the
 * "Advanced" section lets the person point it elsewhere.
 */
import { WicClient } from './wic.js';
import { impiFromImpu, normaliseImpu } from './identity.js';

const $ = (id) => document.getElementById(id);

const STATE_TEXT = {
	unregistered: 'Unregistered',
	registering: 'Registering…',
	registered: 'Registered',
	unregistering: 'Unregistering…',
	failed: 'Failed',
};

const config = { pcscf_url: '', domain: 'ims.example.org' };
const client = new WicClient();
let countdown = null;

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

function onSubmit(event) {
	event.preventDefault();
	formError('');
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
	if (!password) {
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
	try {
		client.register({ impu, impi, password, server });
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

	const busy = s.state === 'registering' || s.state === 'unregistering';
	$('register').disabled = busy;
	$('register').textContent = s.state === 'registered' ? 'Register again' : 'Register';
	$('unregister').disabled = !(s.state === 'registered' || s.state === 'registering');
	for (const id of ['impu', 'impi', 'password', 'server'])
		$(id).disabled = busy;

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

	$('algorithm-row').hidden = !(registered && s.algorithm);
	$('algorithm').textContent = s.algorithm ? `SIP Digest ${s.algorithm}` : '';

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

client.addEventListener('state', draw);
client.addEventListener('trace', drawTrace);
$('register-form').addEventListener('submit', onSubmit);
$('unregister').addEventListener('click', () => client.unregister());
$('impu').addEventListener('input', updateImpiHint);
window.addEventListener('pagehide', () => client.unregister());
/* For the browser tests and the curious: the client's current state. */
window.wic = client;
loadConfig();
