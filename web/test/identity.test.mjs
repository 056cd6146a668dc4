// IMPU completion and TS 33.203 Annex N IMPI derivation.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { impiFromImpu, impuDomain, normaliseImpu } from '../src/identity.js';

test('Annex N: IMPI is user@domain of the IMPU', () => {
	assert.equal(impiFromImpu('sip:alice@ims.example.org'), 'alice@ims.example.org');
	assert.equal(impiFromImpu('sips:bob@IMS.Example.org;transport=ws'), 'bob@ims.example.org');
	assert.equal(impiFromImpu('sip:carol@ims.example.org:5060'), 'carol@ims.example.org');
	assert.equal(impiFromImpu(' sip:alice@ims.example.org?x=y '), 'alice@ims.example.org');
});

test('no IMPI from URIs without a user part or of other schemes', () => {
	assert.equal(impiFromImpu('sip:ims.example.org'), null);
	assert.equal(impiFromImpu('tel:+15551234'), null);
	assert.equal(impiFromImpu(''), null);
	assert.equal(impiFromImpu(undefined), null);
});

test('normaliseImpu completes what a person types', () => {
	assert.equal(normaliseImpu('alice', 'ims.example.org'), 'sip:alice@ims.example.org');
	assert.equal(normaliseImpu(' alice@ims.example.org ', 'x'), 'sip:alice@ims.example.org');
	assert.equal(normaliseImpu('SIP:alice@ims.example.org', 'x'), 'sip:alice@ims.example.org');
	assert.equal(normaliseImpu('sips:alice@ims.example.org', 'x'), 'sips:alice@ims.example.org');
});

test('normaliseImpu refuses what cannot be an IMPU', () => {
	assert.equal(normaliseImpu('', 'ims.example.org'), null);
	assert.equal(normaliseImpu('al ice', 'ims.example.org'), null);
	assert.equal(normaliseImpu('alice', ''), null);
	assert.equal(normaliseImpu('sip:ims.example.org', 'x'), null);
	assert.equal(normaliseImpu('tel:+15551234', 'x'), null);
	assert.equal(normaliseImpu('a@b@c', 'x'), null);
});

test('impuDomain', () => {
	assert.equal(impuDomain('sip:alice@IMS.example.org;x'), 'ims.example.org');
	assert.equal(impuDomain('alice'), null);
});
