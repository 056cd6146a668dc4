#!/usr/bin/env bash
# startup.sh - what an operator sees when starting wims: config errors name
# file:line and what was expected; a second wims on the same ports is
# refused instead of silently sharing them (SO_REUSEPORT).
. "$(dirname "$0")/../lib/harness.sh"

cat >"$TEST_TMP/bad.ini" <<'INI'
[global]
domain = ims.example.org

[pcscf]
listen = 127.0.0.1:notaport
INI
"$WIMS_BIN" -c "$TEST_TMP/bad.ini" pcscf >"$TEST_TMP/bad.out" 2>&1
rc=$?
check "bad config line: exit 2" test "$rc" -eq 2
check "bad config line: file:line and what was expected" \
	grep -q "bad.ini:5: \[pcscf\] listen: expected host:port" "$TEST_TMP/bad.out"

printf '[pcscf]\nno_such_key = 1\n' >"$TEST_TMP/unknown.ini"
"$WIMS_BIN" -c "$TEST_TMP/unknown.ini" demo >"$TEST_TMP/unknown.out" 2>&1
check "unknown key is named with its line" \
	grep -q 'unknown.ini:2: \[pcscf\] has no key "no_such_key"' "$TEST_TMP/unknown.out"
check "the shipped etc/wims.ini loads" "$WIMS_BIN" -c "$HARNESS_ROOT/etc/wims.ini" --help
check "--help lists every role" bash -c "'$WIMS_BIN' --help | grep -q '^  pcscf' && '$WIMS_BIN' --help | grep -q '^  cscf' && '$WIMS_BIN' --help | grep -q '^  hss' && '$WIMS_BIN' --help | grep -q '^  wwsf'"
expect_fail "unknown role is refused" "$WIMS_BIN" nosuchrole

wims_start demo
check "demo starts and serves the WIC" bash -c \
	"curl -sk https://127.0.0.1:8443/ | grep -qi '<html'"
# A second wims on the same ports must not join the SO_REUSEPORT groups.
second_data=$TEST_TMP/second
timeout 20 "$WIMS_BIN" --set "global.data_dir=$second_data" \
	--set "global.tls_cert=$second_data/tls/cert.pem" \
	--set "global.tls_key=$second_data/tls/key.pem" demo >"$TEST_TMP/second.log" 2>&1
rc=$?
check "a second demo on the same ports exits with an error" test "$rc" -eq 1
check "and says which port is taken" grep -q "127.0.0.1:5060 (tcp) is already in use" \
	"$TEST_TMP/second.log"
check "the first demo still answers" bash -c \
	"curl -sk https://127.0.0.1:8443/config.json | grep -q pcscf_url"
kill "$WIMS_PID"
for _ in $(seq 100); do kill -0 "$WIMS_PID" 2>/dev/null || break; sleep 0.1; done
wait "$WIMS_PID"
rc=$?
check "demo stops cleanly on SIGTERM (exit 0, no sanitizer report)" bash -c \
	"[ $rc -eq 0 ] && ! grep -q 'Sanitizer' '$TEST_TMP/wims-demo.log'"
finish
