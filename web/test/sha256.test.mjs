// SHA-256 against FIPS 180-4 examples and node:crypto on many lengths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

import { sha256Hex } from '../src/sha256.js';

test('FIPS 180-4 example "abc"', () => {
	assert.equal(sha256Hex('abc'),
		'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('empty input', () => {
	assert.equal(sha256Hex(''),
		'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

test('FIPS 180-4 two-block example (448 bits)', () => {
	assert.equal(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'),
		'248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
});

test('one million "a"', () => {
	assert.equal(sha256Hex('a'.repeat(1000000)),
		'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
});

test('agrees with node:crypto on every length around the block edges', () => {
	for (let n = 0; n < 200; n++) {
		const bytes = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
		const want = createHash('sha256').update(bytes).digest('hex');
		assert.equal(sha256Hex(bytes), want, `length ${n}`);
	}
});

test('strings are hashed as UTF-8', () => {
	const s = 'Jäsøn Doe — 日本';
	assert.equal(sha256Hex(s), createHash('sha256').update(s, 'utf8').digest('hex'));
});

test('refuses other input types', () => {
	assert.throws(() => sha256Hex(42), TypeError);
});
