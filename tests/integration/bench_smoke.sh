#!/bin/bash
# bench_smoke.sh - `make check` keeps the benchmark honest: wims-loadgen
# (bench/loadgen.c) registers briefly against the bench Kamailio (MD5 and
# SHA-256, bench/kamailio) and against `wims demo`, with no failure; and it
# does count a wrong password as a failure (403) instead of hiding it.
# Its call mode (--call, bench/loadgen_call.c) places a few seconds of
# calls over WSS through the Kamailio proxy and through pcscf+cscf to a
# SIPp callee over TCP (bench/sipp), with no failure; a call to an unknown
# user is a failure by code; a callee that hangs up first gets its BYE
# answered through the proxies.  Its AKA mode (--algorithm AKAv2-SHA-256 /
# AKAv1-MD5) registers AKA subscribers with the demo keys through pcscf, and
# counts a network that does not know the card (AUTN MAC wrong) as a failure.
# Its Bearer mode (--bearer-key, TNA) registers TNA-only subscribers through
# pcscf with tokens it signs (the pcscf reading its JWKS from a file),
# cached and uncached, with no failure; a token of another key is a 401
# and a subscriber who did not allow the WWSF a 403, both counted.
#
# Uses 127.0.0.1 ports 7443/5060/8443 (wims demo), 7444/7445 (Kamailio
# registrars), 7446 + TCP 7461 (Kamailio proxy), 7090/7091 (SIPp callees)
# (and whatever else `wims demo` listens on).
. "$(dirname "$0")/../lib/harness.sh"

LOADGEN=${LOADGEN_BIN:-$(dirname "$WIMS_BIN")/bench/wims-loadgen}
KAMAILIO=${KAMAILIO_BIN:-/usr/sbin/kamailio}
USERS=10

csv=$TEST_TMP/users.csv
{
	echo "impi,impu,password"
	for i in $(seq 0 $((USERS - 1))); do
		u=$(printf 'user%04d' "$i")
		echo "$u@ims.example.org,sip:$u@ims.example.org,pw-$i"
	done
	echo "uas@ims.example.org,sip:uas@ims.example.org,pw-uas"
	echo "hangup@ims.example.org,sip:hangup@ims.example.org,pw-hangup"
} >"$csv"

# loadgen PORT [ARGS...]: 5 connections for 3 s; the RESULT line goes to
# $TEST_TMP/result.
loadgen() {
	local port=$1
	shift
	"$LOADGEN" --host 127.0.0.1 --port "$port" --insecure --quiet --users "0-$((USERS - 1))" \
		--connections 5 --duration 3 --timeout 3000 "$@" >"$TEST_TMP/result"
}

# Exit 0 (some registrations, nothing failed) and the algorithm asked for.
registers() { # registers PORT ALGORITHM [ARGS...]
	local port=$1 alg=$2
	shift 2
	loadgen "$port" --algorithm "$alg" "$@" || { cat "$TEST_TMP/result"; return 1; }
	cat "$TEST_TMP/result"
	grep -q '"registrations":[1-9]' "$TEST_TMP/result" &&
		grep -q '"failures":0,' "$TEST_TMP/result" &&
		grep -q "\"algorithm\":\"$alg\"" "$TEST_TMP/result"
}

# A wrong password: exit 1, no registration, every failure a 403.  One
# attempt per connection and second stays under wims's per-IMPI failure
# limit (WIMS_AUTH_MAX_FAILURES_PER_MIN), so every answer is the plain 403.
refused() { # refused PORT ALGORITHM
	if loadgen "$1" --algorithm "$2" --password-pattern 'wrong-%u' --fail-pause 1000; then
		echo "the generator reported success with wrong passwords"
		return 1
	fi
	cat "$TEST_TMP/result"
	grep -q '"registrations":0,' "$TEST_TMP/result" &&
		grep -q '"failures_by_code":{"403":[1-9][0-9]*}' "$TEST_TMP/result"
}

# --- call mode -------------------------------------------------------------

SIPP_DIR=$HARNESS_ROOT/bench/sipp
# callee NAME PORT [SCENARIO]: a SIPp UAS over TCP on 127.0.0.1:PORT.
callee() {
	spawn "sipp-$1" sipp -sf "$SIPP_DIR/${3:-uas.xml}" -t t1 -i 127.0.0.1 -p "$2" -nostdin \
		-trace_err -error_file "$TEST_TMP/sipp-$1-errors.log"
}
# register_callee REGISTRAR_PORT USER CONTACT_PORT LOCAL_PORT: SIPp registers
# USER over TCP from LOCAL_PORT (not its default 5060, the demo's cscf) with
# a Contact on CONTACT_PORT (bench/sipp/register.xml).
register_callee() {
	timeout 20 sipp "127.0.0.1:$1" -sf "$SIPP_DIR/register.xml" -t t1 -i 127.0.0.1 -p "$4" -m 1 \
		-s "$2" -au "$2@ims.example.org" -ap "pw-$2" -auth_uri ims.example.org \
		-key contact_port "$3" -nostdin -trace_err -error_file "$TEST_TMP/sipp-reg-errors.log" \
		>"$TEST_TMP/sipp-reg.log" 2>&1 ||
		{ tail -n 20 "$TEST_TMP/sipp-reg-errors.log" 2>/dev/null; return 1; }
}
# calls PORT URI [ARGS...]: 3 callers for 3 s; exit 0, some calls, no failure.
calls() {
	local port=$1 uri=$2
	shift 2
	"$LOADGEN" --host 127.0.0.1 --port "$port" --insecure --quiet --users "0-$((USERS - 1))" \
		--connections 3 --duration 3 --timeout 3000 --algorithm MD5 --call "$uri" "$@" \
		>"$TEST_TMP/result" || { cat "$TEST_TMP/result"; return 1; }
	cat "$TEST_TMP/result"
	grep -q '"calls":[1-9]' "$TEST_TMP/result" && grep -q '"failures":0,' "$TEST_TMP/result"
}
# calls_refused PORT URI CODE...: exit 1, no call, every failure one of the
# codes (a 4xx from the proxy, never counted as a call).
calls_refused() {
	local port=$1 uri=$2 codes
	shift 2
	codes=$(IFS='|'; echo "$*")
	if "$LOADGEN" --host 127.0.0.1 --port "$port" --insecure --quiet --users 0-1 \
		--connections 2 --duration 2 --timeout 3000 --fail-pause 200 --algorithm MD5 \
		--call "$uri" >"$TEST_TMP/result"; then
		echo "the generator reported success for calls that failed"
		cat "$TEST_TMP/result"
		return 1
	fi
	cat "$TEST_TMP/result"
	grep -q '"calls":0,' "$TEST_TMP/result" &&
		grep -Eq "\"failures_by_code\":\{(\"($codes)\":[1-9][0-9]*,?)+\}" "$TEST_TMP/result"
}
# The callee hung up first: its BYEs were answered (requests_answered).
hangups_answered() {
	calls "$@" --call-hold 2000 && grep -q '"requests_answered":[1-9]' "$TEST_TMP/result"
}
# The calls' count at the callee: SIPp saw them succeed, none fail.
callee_clean() { # callee_clean NAME
	[ ! -s "$TEST_TMP/sipp-$1-errors.log" ] || { cat "$TEST_TMP/sipp-$1-errors.log"; return 1; }
}
have_sipp() { command -v sipp >/dev/null; }

if [ ! -x "$LOADGEN" ]; then
	check "wims-loadgen is built ($LOADGEN)" false
	finish
	exit
fi

# Usage errors are refused before connecting anywhere.
expect_fail "loadgen refuses more connections than users" \
	"$LOADGEN" --users 0-1 --connections 3 --duration 1
expect_fail "loadgen refuses a pattern with another conversion" \
	"$LOADGEN" --user-pattern 'user%s' --duration 1
expect_fail "loadgen refuses --callees for a --call URI without %u" \
	"$LOADGEN" --call sip:uas@ims.example.org --callees 0-3 --duration 1
expect_fail "loadgen refuses a --call URI that is not sip:" \
	"$LOADGEN" --call http://ims.example.org/ --duration 1
expect_fail "loadgen refuses --bearer-mode without --bearer-key" \
	"$LOADGEN" --bearer-mode uncached --duration 1
expect_fail "loadgen refuses --bearer-key with a Digest --algorithm" \
	"$LOADGEN" --bearer-key /dev/null --algorithm MD5 --duration 1
expect_fail "loadgen refuses an unknown --bearer-mode" \
	"$LOADGEN" --bearer-key /dev/null --bearer-mode sometimes --duration 1

# The SIPp callees serve the calls through Kamailio and through wims.
if have_sipp; then
	callee uas 7090
	callee hangup 7091 uas_hangup.xml
fi

if [ -x "$KAMAILIO" ]; then
	mkdir -p "$TEST_TMP/kamtls"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$TEST_TMP/kamtls/key.pem" -out "$TEST_TMP/kamtls/cert.pem" -days 2 \
		-subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>/dev/null
	kam() { # kam ALGORITHM PORT [--sha256]
		spawn "kamailio-$1" "$HARNESS_ROOT/bench/kamailio/start.sh" --dir "$TEST_TMP/kam-$1" \
			--cert "$TEST_TMP/kamtls/cert.pem" --key "$TEST_TMP/kamtls/key.pem" \
			--users "$csv" --port "$2" --children 1 "${@:3}"
	}
	kam MD5 7444
	kam SHA-256 7445 --sha256
	if wait_tcp 7444 && wait_tcp 7445; then
		check "loadgen registers against Kamailio with MD5" registers 7444 MD5
		check "loadgen registers against Kamailio with SHA-256" registers 7445 SHA-256
		check "loadgen counts Kamailio's 403 for a wrong password as failures" refused 7444 MD5
		expect_fail "loadgen with a foreign Origin gets no connection to Kamailio" \
			loadgen 7444 --origin https://evil.example
	else
		check "bench Kamailio starts" false
		tail -n 20 "$TEST_TMP"/kamailio-*.log | sed 's/^/# /'
	fi
	if have_sipp; then
		kam call 7446 --calls 7461
		if wait_tcp 7446 && wait_tcp 7090 && wait_tcp 7091; then
			check "SIPp callees register on the Kamailio proxy over TCP" \
				eval 'register_callee 7461 uas 7090 7092 && register_callee 7461 hangup 7091 7093'
			check "loadgen --call: calls through Kamailio to a SIPp callee over TCP" \
				calls 7446 sip:uas@ims.example.org
			check "loadgen --call counts Kamailio's 404 for an unknown callee as failures" \
				calls_refused 7446 sip:nobody@ims.example.org 404
			check "loadgen --call answers the BYE of a callee that hangs up (via Kamailio)" \
				hangups_answered 7446 sip:hangup@ims.example.org
		else
			check "bench Kamailio proxy and SIPp callees start" false
			tail -n 20 "$TEST_TMP"/kamailio-call.log | sed 's/^/# /'
		fi
	fi
else
	echo "# kamailio not installed: Kamailio checks skipped"
fi

# wims: the same subscribers imported with the hss CLI.
import_users() {
	"$WIMS_BIN" --set "global.data_dir=$TEST_TMP/data" hss import "$csv" && touch "$TEST_TMP/imported"
}
check "wims hss import provisions the bench subscribers" import_users
# AKA subscribers aka0000..: the demo keys of their IMPI (bench/run.sh does
# the same), AKAv1-MD5 for 5-8 and AKAv2-SHA-256 for the others; aka0009's
# K is another, so its network cannot prove itself.
aka_csv=$TEST_TMP/aka-users.csv
python3 - "$USERS" >"$aka_csv" <<'PY'
import hashlib, sys
print("impi,impu,password,schemes,k,opc,amf")
for i in range(int(sys.argv[1])):
    impi = "aka%04d@ims.example.org" % i
    key = lambda label: hashlib.sha256(("wims demo AKA %s %s" % (label, impi)).encode()).hexdigest()[:32]
    k = key("K") if i != 9 else "00" * 16
    scheme = "akav1" if 5 <= i <= 8 else "akav2"
    print("%s,sip:%s,,%s,%s,%s,8000" % (impi, impi, scheme, k, key("OPc")))
PY
check "wims hss import provisions the bench AKA subscribers" \
	"$WIMS_BIN" --set "global.data_dir=$TEST_TMP/data" hss import "$aka_csv"
# The network of aka0009 holds another K: the card refuses its AUTN, the
# generator counts every registration as failed and none as done.
aka_refused() {
	if "$LOADGEN" --host 127.0.0.1 --port 7443 --insecure --quiet --users 9-9 \
		--user-pattern 'aka%04u' --connections 1 --duration 2 --timeout 3000 \
		--algorithm AKAv2-SHA-256 --fail-pause 500 >"$TEST_TMP/result"; then
		echo "the generator reported success against a network without the card's K"
		return 1
	fi
	cat "$TEST_TMP/result"
	grep -q '"registrations":0,' "$TEST_TMP/result" && grep -q '"failures":[1-9]' "$TEST_TMP/result"
}
# TNA subscribers tna0000..: scheme tna only, no password; all but tna0005
# allow the WWSF the generator's tokens name (its default,
# wwsf.ims.example.org).  The generator makes the key and the JWKS the
# pcscf reads ([pcscf] waf_jwks); a second key is the attacker's.
tna_csv=$TEST_TMP/tna-users.csv
{
	echo "impi,impu,password,schemes"
	for i in $(seq 0 5); do
		u=$(printf 'tna%04d@ims.example.org' "$i")
		echo "$u,sip:$u,,tna"
	done
} >"$tna_csv"
tna_provision() {
	"$WIMS_BIN" --set "global.data_dir=$TEST_TMP/data" hss import "$tna_csv" || return 1
	for i in $(seq 0 4); do
		"$WIMS_BIN" --set "global.data_dir=$TEST_TMP/data" hss wwsf-allow \
			"$(printf 'tna%04d@ims.example.org' "$i")" wwsf.ims.example.org || return 1
	done
	"$LOADGEN" --bearer-key "$TEST_TMP/bearer.jwk" --bearer-keygen "$TEST_TMP/jwks.json" &&
		"$LOADGEN" --bearer-key "$TEST_TMP/other.jwk" --bearer-keygen "$TEST_TMP/other-jwks.json"
}
check "wims hss import and wwsf-allow provision the bench TNA subscribers" tna_provision
# bearer_registers MODE: Bearer registrations with no failure and, uncached,
# every token signed before the window.
bearer_registers() {
	loadgen 7443 --users 0-4 --user-pattern 'tna%04u' --bearer-key "$TEST_TMP/bearer.jwk" \
		--bearer-mode "$1" || { cat "$TEST_TMP/result"; return 1; }
	cat "$TEST_TMP/result"
	grep -q '"registrations":[1-9]' "$TEST_TMP/result" &&
		grep -q '"failures":0,' "$TEST_TMP/result" &&
		grep -q "\"algorithm\":\"Bearer-$1\"" "$TEST_TMP/result" &&
		grep -q '"bearer_signed_in_window":0' "$TEST_TMP/result"
}
# bearer_refused CODE USERS KEY: no registration, every failure CODE.
bearer_refused() {
	if "$LOADGEN" --host 127.0.0.1 --port 7443 --insecure --quiet --users "$2" \
		--user-pattern 'tna%04u' --connections 1 --duration 2 --timeout 3000 \
		--fail-pause 300 --bearer-key "$3" >"$TEST_TMP/result"; then
		echo "the generator reported success for refused tokens"
		cat "$TEST_TMP/result"
		return 1
	fi
	cat "$TEST_TMP/result"
	grep -q '"registrations":0,' "$TEST_TMP/result" &&
		grep -q "\"failures_by_code\":{\"$1\":[1-9][0-9]*}" "$TEST_TMP/result"
}
if [ -e "$TEST_TMP/imported" ]; then
	wims_start demo --set global.log_level=warn --set "pcscf.waf_jwks=$TEST_TMP/jwks.json"
	check "loadgen registers against wims demo with SHA-256" registers 7443 SHA-256
	check "loadgen registers against wims demo with MD5" registers 7443 MD5
	check "loadgen counts wims's 403 for a wrong password as failures" refused 7443 SHA-256
	check "loadgen registers AKA subscribers through pcscf with AKAv2-SHA-256" \
		registers 7443 AKAv2-SHA-256 --user-pattern 'aka%04u' --users 0-4
	check "loadgen registers AKA subscribers through pcscf with AKAv1-MD5" \
		registers 7443 AKAv1-MD5 --user-pattern 'aka%04u' --users 5-8 --connections 4
	check "loadgen counts a network that fails the card's AUTN check as failures" aka_refused
	check "loadgen registers TNA subscribers through pcscf with a cached Bearer token" \
		bearer_registers cached
	check "loadgen registers TNA subscribers through pcscf with a new Bearer token each time" \
		bearer_registers uncached
	check "loadgen counts the pcscf's 401 for a token of another key as failures" \
		bearer_refused 401 0-0 "$TEST_TMP/other.jwk"
	check "loadgen counts the 403 for a subscriber who did not allow the WWSF as failures" \
		bearer_refused 403 5-5 "$TEST_TMP/bearer.jwk"
	# Calls: cscf challenges with MD5 only, the one SIPp answers.
	if have_sipp; then
		kill "$WIMS_PID"
		wait "$WIMS_PID" 2>/dev/null
		wims_start demo --set global.log_level=warn --set cscf.digest_algorithms=MD5
		check "SIPp callees register on cscf over TCP" \
			eval 'register_callee 5060 uas 7090 7094 && register_callee 5060 hangup 7091 7095'
		check "loadgen --call: calls through pcscf+cscf to a SIPp callee over TCP" \
			calls 7443 sip:uas@ims.example.org
		check "loadgen --call counts wims's 404/480 for an unknown callee as failures" \
			calls_refused 7443 sip:nobody@ims.example.org 404 480
		check "loadgen --call answers the BYE of a callee that hangs up (via pcscf+cscf)" \
			hangups_answered 7443 sip:hangup@ims.example.org
		check "the SIPp callees saw no failed call" eval 'callee_clean uas && callee_clean hangup'
	else
		echo "# sipp not installed: call checks skipped"
	fi
fi

finish
