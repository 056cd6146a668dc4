#!/usr/bin/env bash
# run-checks.sh BUILD_DIR - every test of wims, in order, with one tally.
#
#   1. source checks: style (banned calls) and the include graph (layers)
#   2. unit tests and fuzz-corpus replays (meson test, ASan+UBSan build)
#   3. integration and attack scripts (tests/integration, tests/attack)
#   4. browser end to end (tests/e2e, headless Chromium)
#
# Each script prints "ok - ..." / "not ok - ..." lines; meson and node
# report per test.  The last line is "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
build=${1:-build-check}
export WIMS_BIN=$PWD/$build/wims
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
results=$PWD/$build/check-results.txt
: >"$results"
passed=0
failed=0
started=$(date +%s)

record() { # record ok|fail NAME
	if [ "$1" = ok ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
	echo "$1 $2" >>"$results"
}

echo "== source checks"
for s in scripts/check-style.sh scripts/check-includes.sh; do
	if "$s"; then record ok "$s"; else record fail "$s"; echo "FAIL $s"; fi
done

# docs/config.md and etc/wims.ini come from the config tables: stale copies
# mislead operators.
if "$WIMS_BIN" --config-doc | cmp -s - docs/config.md &&
	"$WIMS_BIN" --config-sample | cmp -s - etc/wims.ini; then
	record ok "docs/config.md and etc/wims.ini match the config tables"
else
	record fail "docs/config.md or etc/wims.ini is stale: run make config-doc"
	echo "FAIL docs/config.md or etc/wims.ini is stale: run make config-doc"
fi

echo "== unit tests and fuzz replays"
meson test -C "$build" --no-rebuild --print-errorlogs --suite unit --suite fuzz \
	>"$build/meson-test.out" 2>&1
tail -n 12 "$build/meson-test.out"
while read -r result name; do
	if [ "$result" = OK ]; then record ok "$name"; else record fail "$name"; echo "FAIL $name ($result)"; fi
done < <(python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    print(t["result"], t["name"])
PY
)

run_script() { # run_script PATH TIMEOUT_S
	local script=$1 limit=$2 out ok notok rc
	echo "== $script"
	out=$(mktemp)
	timeout --kill-after=10 "$limit" bash "$script" >"$out" 2>&1
	rc=$?
	cat "$out"
	ok=$(grep -c '^ok ' "$out")
	notok=$(grep -c '^not ok ' "$out")
	passed=$((passed + ok))
	failed=$((failed + notok))
	grep -E '^(not )?ok ' "$out" | sed "s|^|$script: |" >>"$results"
	if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
		record fail "$script (exit $rc$([ "$rc" -eq 124 ] && echo ', timed out'))"
		echo "FAIL $script exited $rc"
	fi
	rm -f "$out"
}

for script in tests/integration/*.sh tests/attack/*.sh; do
	[ -f "$script" ] || continue
	run_script "$script" 600
done

if [ -x tests/e2e/run.sh ]; then
	echo "== browser end to end"
	out=$(mktemp)
	timeout --kill-after=10 900 tests/e2e/run.sh >"$out" 2>&1
	rc=$?
	cat "$out"
	# node --test prints "# pass N" and "# fail N" at the end.
	p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$out" | tail -n 1)
	f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$out" | tail -n 1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	echo "e2e pass=${p:-0} fail=${f:-0}" >>"$results"
	if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
		record fail "tests/e2e/run.sh (exit $rc)"
	fi
	rm -f "$out"
fi

echo "== done in $(($(date +%s) - started)) s; details in $results"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
