#!/bin/bash
# bench_smoke.sh - `make check` keeps the benchmark honest: wims-loadgen
# (bench/loadgen.c) registers briefly against the bench Kamailio (MD5 and
# SHA-256, bench/kamailio) and against `wims demo`, with no failure; and it
# does count a wrong password as a failure (403) instead of hiding it.
#
# Uses 127.0.0.1 ports 7443/5060/8443 (wims demo), 7444/7445 (Kamailio).
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
else
	echo "# kamailio not installed: Kamailio checks skipped"
fi

# wims: the same subscribers imported with the hss CLI.
import_users() {
	"$WIMS_BIN" --set "global.data_dir=$TEST_TMP/data" hss import "$csv" && touch "$TEST_TMP/imported"
}
check "wims hss import provisions the bench subscribers" import_users
if [ -e "$TEST_TMP/imported" ]; then
	wims_start demo --set global.log_level=warn
	check "loadgen registers against wims demo with SHA-256" registers 7443 SHA-256
	check "loadgen registers against wims demo with MD5" registers 7443 MD5
	check "loadgen counts wims's 403 for a wrong password as failures" refused 7443 SHA-256
fi

finish
