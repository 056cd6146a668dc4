// session.mjs - the set-up every two-party browser test shares: one
// Chromium with `contexts` browser contexts (separate cookie jars and
// WebSockets: separate users) and one `wims demo` on ports of its own,
// started before the file's tests and stopped after them.
//
// A demo that fails to start does not abort the file: each test calls
// session.demo(), which throws the start-up error there, so every test
// reports it.
import { after, before } from 'node:test';

import { launchChromium } from './browser.mjs';
import { newContext } from './phone.mjs';
import { startDemo, startFixedDemo } from './wims.mjs';

/* fixedPorts: the demo on the README's ports (startFixedDemo), as the
 * TNA test needs. */
export function demoSession({ sets = [], contexts = 1, skip = false, fixedPorts = false } = {}) {
	const session = {
		chrome: null,
		contexts: [],
		error: null,
		wims: null,
		demo() {
			if (this.error)
				throw this.error;
			return this.wims;
		},
	};
	before(async () => {
		if (skip)
			return;
		session.chrome = await launchChromium();
		session.contexts.push(session.chrome.context);
		for (let i = 1; i < contexts; i++)
			session.contexts.push(await newContext(session.chrome));
		session.wims = await (fixedPorts ? startFixedDemo : startDemo)({ sets }).catch((e) => {
			session.error = e;
		});
	});
	after(async () => {
		await session.chrome?.close();
		await session.wims?.stop();
	});
	return session;
}
