// The reasons the page shows for failed registrations.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { explainConnectFailure, explainSipFailure, probeUrlFor } from '../src/failure.js';

test('a second 401 (credentials sent) is a wrong password', () => {
	const f = explainSipFailure({ status: 401, reason: 'Unauthorized', withCredentials: true });
	assert.equal(f.kind, 'password');
	assert.match(f.title, /Wrong password/);
	assert.match(f.detail, /401 Unauthorized/);
});

test('403 after credentials, or naming the password, is a wrong password', () => {
	assert.equal(explainSipFailure({ status: 403, reason: 'Forbidden', withCredentials: true }).kind, 'password');
	assert.equal(explainSipFailure({ status: 403, reason: 'Authentication Failed' }).kind, 'password');
	assert.equal(explainSipFailure({ status: 403, reason: 'Forbidden',
		warnings: [{ code: 399, agent: 'x', text: 'wrong digest response' }] }).kind, 'password');
});

test('404 and 403 naming an unknown user are unknown user', () => {
	assert.equal(explainSipFailure({ status: 404, reason: 'Not Found' }).kind, 'unknown-user');
	const f = explainSipFailure({ status: 403, reason: 'Forbidden',
		warnings: [{ code: 399, agent: 'cscf', text: 'Unknown user' }] });
	assert.equal(f.kind, 'unknown-user');
	assert.match(f.detail, /403 Forbidden \(Unknown user\)/);
});

test('other refusals keep the server reason', () => {
	const f = explainSipFailure({ status: 403, reason: 'WWSF not allowed' });
	assert.equal(f.kind, 'forbidden');
	assert.match(f.detail, /WWSF not allowed/);
	assert.equal(explainSipFailure({ status: 503, reason: 'Service Unavailable' }).kind, 'server');
	assert.equal(explainSipFailure({ status: 408, reason: 'Request Timeout' }).kind, 'timeout');
});

test('a refused WebSocket: origin if the server answered, else origin-or-unreachable', () => {
	const args = { url: 'wss://127.0.0.1:7443/', origin: 'https://127.0.0.1:8543' };
	const refused = explainConnectFailure({ ...args, probe: 'answered' });
	assert.equal(refused.kind, 'origin');
	assert.match(refused.title, /refused this page's origin/);
	assert.match(refused.detail, /https:\/\/127\.0\.0\.1:8543/);
	const silent = explainConnectFailure({ ...args, probe: 'silent' });
	assert.equal(silent.kind, 'unreachable');
	assert.match(silent.title, /refused this page's origin or is unreachable/);
});

test('probeUrlFor maps wss to https on the same host and port', () => {
	assert.equal(probeUrlFor('wss://127.0.0.1:7443/ws?x'), 'https://127.0.0.1:7443/');
	assert.equal(probeUrlFor('ws://h/'), 'http://h/');
	assert.equal(probeUrlFor('https://h/'), null);
});
