#!/usr/bin/env bash
# run.sh - the browser end-to-end tests (and the WIC's own unit tests) with
# node's test runner.  Installs nothing: scripts/install-deps.sh has put
# playwright-core in tests/e2e/node_modules and built web/dist.  Uses
# $WIMS_BIN (default build/wims).  Exit code: the runner's.
#   run.sh                      every test file (the WIC's unit tests too)
#   run.sh tna.test.mjs ...     only these files (names under tests/e2e)
set -u
cd "$(dirname "$0")"
repo=$(cd ../.. && pwd)
export WIMS_BIN=${WIMS_BIN:-$repo/build/wims}
for need in node_modules/playwright-core ../../web/dist/index.html; do
	if [ ! -e "$need" ]; then
		echo "e2e: $need missing: run scripts/install-deps.sh" >&2
		exit 1
	fi
done
# One test file at a time: they share the demo ports.
if [ $# -gt 0 ]; then
	files=("$@")
else
	files=(../../web/test/*.test.mjs ./*.test.mjs)
fi
exec timeout --kill-after=10 ${E2E_TIMEOUT:-600} \
	node --test --test-concurrency=1 --test-reporter=tap "${files[@]}"
