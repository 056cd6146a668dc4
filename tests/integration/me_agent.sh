#!/usr/bin/env bash
# me_agent.sh - the ME agent (`wims me`, TR 33.871 6.1.1.3 / TS 33.203
# Annex X) over real HTTPS: its Origin policy (allowed, foreign, none,
# preflight), AKAv2 answers checked against the network side computed
# apart (me_vec: libosmogsm as the HSS runs it), resynchronisation by the
# AUTS it returns, the refusals (AKAv1, unknown IMPI, bad JSON or nonce,
# a false network, oversized bodies, the rate limit), the user
# confirmation page and its one-time token, plaintext on the TLS port,
# and the isim-* commands.
#
# Each agent runs alone on a free port with its own data dir, so this
# script needs no port lock.
. "$(dirname "$0")/../lib/harness.sh"

ME_VEC=${ME_VEC:-$(dirname "$WIMS_BIN")/src/me/me_vec}
IMPI=dave@ims.example.org
ALLOWED=https://127.0.0.1:8443
ALLOWED2=https://localhost:8443
FOREIGN=https://evil.example

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_agent NAME [--set k=v]...: a `wims me` with its own data dir;
# sets PORT and DATA.
start_agent() {
	local name=$1
	shift
	PORT=$(free_port)
	DATA=$TEST_TMP/$name
	spawn "$name" "$WIMS_BIN" --set "global.data_dir=$DATA" \
		--set "global.tls_cert=$TEST_TMP/tls/cert.pem" \
		--set "global.tls_key=$TEST_TMP/tls/key.pem" \
		--set "me.listen=127.0.0.1:$PORT" "$@" me
	wait_tcp "$PORT"
}

# req METHOD PATH ORIGIN [BODY]: status code on stdout; headers in
# $TEST_TMP/h, body in $TEST_TMP/b.  ORIGIN "-" sends none.
req() {
	local method=$1 path=$2 origin=$3 body=${4-}
	local args=(-sk -X "$method" -o "$TEST_TMP/b" -D "$TEST_TMP/h" -w '%{http_code}')
	[ "$origin" != - ] && args+=(-H "Origin: $origin")
	if [ -n "$body" ]; then
		args+=(-H 'Content-Type: application/json' --data-binary "$body")
	fi
	curl "${args[@]}" "https://127.0.0.1:$PORT$path"
}

aka_body() { # aka_body NONCE [ALGORITHM] [IMPI]
	printf '{"impi":"%s","nonce":"%s","algorithm":"%s"}' "${3:-$IMPI}" "$1" \
		"${2:-AKAv2-SHA-256}"
}

has_header() { grep -qi "^$1: $2"$'\r'"\?$" "$TEST_TMP/h"; }
no_header() { ! grep -qi "^$1:" "$TEST_TMP/h"; }
body_has() { grep -qF -- "$1" "$TEST_TMP/b"; }
json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$TEST_TMP/b" "$1"; }

[ -x "$ME_VEC" ] || { echo "not ok - me_vec helper missing at $ME_VEC"; exit 1; }

start_agent me1 --set me.max_requests_per_min=30
ME1_PID=$SPAWNED_PID

# --- the policy ---
code=$(req GET /identity "$ALLOWED")
check "allowed Origin: GET /identity 200" test "$code" = 200
check "identity lists dave with his IMPU and realm" body_has \
	'{"identities":[{"impi":"dave@ims.example.org","impu":"sip:dave@ims.example.org","realm":"ims.example.org"}]}'
check "allowed Origin is echoed in Access-Control-Allow-Origin, Vary: Origin" \
	bash -c "grep -qi '^Access-Control-Allow-Origin: $ALLOWED' $TEST_TMP/h && grep -qi '^Vary: Origin' $TEST_TMP/h"
check "answers are not cached" has_header Cache-Control no-store

code=$(req GET /identity "$FOREIGN")
check "foreign Origin: 403" test "$code" = 403
check "foreign Origin: the policy message" body_has \
	"{\"error\":\"origin $FOREIGN is not allowed by the ME's access control policy\"}"
check "foreign Origin: no Access-Control-Allow-Origin (the page cannot read it)" \
	no_header Access-Control-Allow-Origin
code=$(req GET /identity -)
check "no Origin: 403" test "$code" = 403
check "no Origin: no Access-Control-Allow-Origin" no_header Access-Control-Allow-Origin
code=$(req GET /identity null)
check "Origin null (sandboxed page): 403" test "$code" = 403
code=$(req GET /identity "https://127.0.0.1:8443.evil.example")
check "an Origin that only starts like an allowed one: 403" test "$code" = 403

code=$(curl -sk -X OPTIONS -o /dev/null -D "$TEST_TMP/h" -w '%{http_code}' \
	-H "Origin: $ALLOWED" -H 'Access-Control-Request-Method: POST' \
	-H 'Access-Control-Request-Headers: content-type' \
	-H 'Access-Control-Request-Private-Network: true' "https://127.0.0.1:$PORT/aka")
check "preflight from an allowed Origin: 204" test "$code" = 204
check "preflight: methods, headers, private network" bash -c \
	"grep -qi '^Access-Control-Allow-Methods: GET, POST' $TEST_TMP/h &&
	 grep -qi '^Access-Control-Allow-Headers: content-type' $TEST_TMP/h &&
	 grep -qi '^Access-Control-Allow-Private-Network: true' $TEST_TMP/h &&
	 grep -qi '^Access-Control-Allow-Origin: $ALLOWED' $TEST_TMP/h"
code=$(curl -sk -X OPTIONS -o /dev/null -D "$TEST_TMP/h" -w '%{http_code}' \
	-H "Origin: $FOREIGN" -H 'Access-Control-Request-Method: POST' \
	"https://127.0.0.1:$PORT/aka")
check "preflight from a foreign Origin: 403 without CORS headers" bash -c \
	"[ $code = 403 ] && ! grep -qi '^Access-Control-Allow' $TEST_TMP/h"

# --- AKA against the network side ---
read -r NONCE WANT < <("$ME_VEC" nonce "$IMPI" 1 0)
code=$(req POST /aka "$ALLOWED" "$(aka_body "$NONCE")")
GOT=$(json_field password)
check "POST /aka: 200" test "$code" = 200
check "the password is 44 characters" test "${#GOT}" -eq 44
check "the password equals the one computed from libosmogsm's vector" test "$GOT" = "$WANT"
check "the answer carries only the password (no RES, CK, IK)" bash -c \
	"python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(list(d)!=[\"password\"])' $TEST_TMP/b"

code=$(req POST /aka "$ALLOWED" "$(aka_body "$NONCE")")
AUTS=$(json_field auts)
check "the same nonce again: 200 with auts, no password" bash -c \
	"[ $code = 200 ] && [ ${#AUTS} -eq 20 ] && ! grep -q password $TEST_TMP/b"
read -r SEQ_MS NONCE2 WANT2 < <("$ME_VEC" resync "$IMPI" "$NONCE" "$AUTS")
check "the AUTS resynchronises the network side (SEQ_MS 1)" test "${SEQ_MS:-}" = 1
code=$(req POST /aka "$ALLOWED" "$(aka_body "$NONCE2")")
check "the vector after resynchronisation gives the expected password" \
	test "$code:$(json_field password)" = "200:$WANT2"

read -r NONCE3 _ < <("$ME_VEC" nonce "$IMPI" 50 1 --wrong-k)
code=$(req POST /aka "$ALLOWED" "$(aka_body "$NONCE3")")
check "a network without dave's K: 409 network authentication failed" bash -c \
	"[ $code = 409 ] && grep -qF '{\"error\":\"network authentication failed: AUTN MAC is wrong\"}' $TEST_TMP/b"

read -r NONCE4 WANT4 < <("$ME_VEC" nonce "$IMPI" 3 2)
code=$(req POST /aka "$ALLOWED" "$(aka_body "$NONCE4" AKAv1-MD5)")
check "AKAv1-MD5: 400, RES is not handed to the page" bash -c \
	"[ $code = 400 ] && grep -qF 'AKAv1-MD5 would hand RES to the page; only AKAv2-SHA-256 is served' $TEST_TMP/b"
code=$(req POST /aka "$ALLOWED" "$(aka_body "$NONCE4" AKAv2-SHA-256 mallory@ims.example.org)")
check "unknown IMPI: 404" test "$code" = 404
code=$(req POST /aka "$ALLOWED" '{"impi":"dave@ims.example.org","nonce":')
check "malformed JSON: 400" test "$code" = 400
code=$(req POST /aka "$ALLOWED" "$(aka_body 'not*base64')")
check "malformed nonce: 400" test "$code" = 400
code=$(req POST /aka "$ALLOWED" "$(aka_body "$NONCE4")")
check "refusals spent nothing: the vector still gives its password" \
	test "$code:$(json_field password)" = "200:$WANT4"
big=$(printf '{"impi":"%s","nonce":"%s","pad":"%05000d"}' "$IMPI" "$NONCE4" 0)
code=$(req POST /aka "$ALLOWED" "$big")
check "a body over 4 KiB is refused (413)" test "$code" = 413
code=$(req POST /aka "$FOREIGN" "$(aka_body "$NONCE4")")
check "POST /aka from a foreign Origin: 403, no CORS header" bash -c \
	"[ $code = 403 ] && ! grep -qi '^Access-Control-Allow-Origin' $TEST_TMP/h"
code=$(req GET /aka "$ALLOWED")
check "GET /aka: 405" test "$code" = 405

# --- rate limit per Origin (30/min here) ---
codes=""
for _ in $(seq 31); do codes="$codes $(req GET /identity "$ALLOWED2")"; done
check "30 requests from one Origin pass, the 31st gets 429" bash -c \
	"[ \"\$(echo $codes | tr ' ' '\n' | sort | uniq -c | tr -s ' ')\" = ' 30 200
 1 429' ] && [ \"\$(echo $codes | awk '{print \$NF}')\" = 429 ]"
check "429 names the reason" body_has "too many requests"
code=$(req GET /identity "$ALLOWED")
check "another Origin is not held back by it" test "$code" = 200

# --- TLS only ---
expect_fail "plaintext HTTP to the TLS port gets no HTTP answer" \
	curl -s --max-time 5 -o /dev/null -w '%{http_code}' -f "http://127.0.0.1:$PORT/identity"

# --- the CLI on the same store ---
wme() { "$WIMS_BIN" --set "global.data_dir=$DATA" me "$@"; }
K=000102030405060708090a0b0c0d0e0f
check "isim-add with OP" wme isim-add erin@ims.example.org --k $K --op 00112233445566778899aabbccddeeff
check "isim-list shows it without K" bash -c \
	"'$WIMS_BIN' --set global.data_dir=$DATA me isim-list >$TEST_TMP/list &&
	 grep -q '^erin@ims.example.org impu sip:erin@ims.example.org realm ims.example.org' $TEST_TMP/list &&
	 ! grep -qi $K $TEST_TMP/list"
expect_fail "isim-add refuses a short K" wme isim-add x@y --k 0011 --opc $K
expect_fail "isim-add refuses K with neither OP nor OPc" wme isim-add x@y --k $K
code=$(req GET /identity "$ALLOWED")
check "the running agent sees the entry added" body_has '"impi":"erin@ims.example.org"'
check "isim-seq sets dave's card ahead of the network" wme isim-seq "$IMPI" 100
read -r NONCE5 _ < <("$ME_VEC" nonce "$IMPI" 4 0)
code=$(req POST /aka "$ALLOWED" "$(aka_body "$NONCE5")")
AUTS5=$(json_field auts)
read -r SEQ5 _ _ < <("$ME_VEC" resync "$IMPI" "$NONCE5" "$AUTS5")
check "and the AUTS it answers carries SEQ_MS 100" test "${SEQ5:-}" = 100
check "isim-remove" wme isim-remove erin@ims.example.org
expect_fail "isim-remove of an unknown IMPI fails" wme isim-remove erin@ims.example.org
check "the store file is owner-only" test "$(stat -c %a "$DATA/me-isim.db")" = 600
check "no password, K or token in the agent's log" bash -c \
	"! grep -qF -e '$WANT' -e '$WANT2' -e '$WANT4' $TEST_TMP/me1.log"
check "each request is logged with its Origin and outcome" bash -c \
	"grep -q 'POST /aka origin $ALLOWED: 200 AKAv2 password for $IMPI' $TEST_TMP/me1.log &&
	 grep -q 'GET /identity origin $FOREIGN: 403 origin refused' $TEST_TMP/me1.log"

# --- confirm = yes ---
start_agent me2 --set me.confirm=yes
ME2_PID=$SPAWNED_PID
SELF=https://127.0.0.1:$PORT
code=$(req GET /identity "$ALLOWED")
URL=$(json_field confirm_url)
check "confirm=yes: an unconfirmed allowed Origin gets 403 confirmation required" bash -c \
	"[ $code = 403 ] && grep -qF '\"error\":\"confirmation required\"' $TEST_TMP/b"
check "with a confirm_url on the agent's own origin, readable by the page (ACAO)" bash -c \
	"[ '$URL' = '$SELF/confirm?origin=https%3A%2F%2F127.0.0.1%3A8443' ] &&
	 grep -qi '^Access-Control-Allow-Origin: $ALLOWED' $TEST_TMP/h"
code=$(curl -sk -o "$TEST_TMP/page" -D "$TEST_TMP/h" -w '%{http_code}' "$URL")
TOKEN=$(sed -n 's/.*name="token" value="\([^"]*\)".*/\1/p' "$TEST_TMP/page")
check "the confirmation page asks the user" bash -c \
	"[ $code = 200 ] && grep -qF 'Allow $ALLOWED to use your ISIM for IMS registration?' $TEST_TMP/page"
check "the page cannot be framed (X-Frame-Options, frame-ancestors)" bash -c \
	"grep -qi '^X-Frame-Options: DENY' $TEST_TMP/h &&
	 grep -qi \"^Content-Security-Policy: .*frame-ancestors 'none'\" $TEST_TMP/h"
check "the page holds a token" test "${#TOKEN}" -eq 43
# no-referrer would make a browser post the form with "Origin: null".
check "the page's form keeps its Origin (Referrer-Policy: same-origin, once)" bash -c \
	"[ \$(grep -ci '^Referrer-Policy:' $TEST_TMP/h) = 1 ] &&
	 grep -qi '^Referrer-Policy: same-origin' $TEST_TMP/h"
code=$(curl -sk -o /dev/null -w '%{http_code}' "$SELF/confirm?origin=$FOREIGN")
check "no confirmation page for an Origin not on the list" test "$code" = 403
post_confirm() { # post_confirm ORIGIN_HEADER FORM
	curl -sk -o "$TEST_TMP/b" -w '%{http_code}' -H "Origin: $1" \
		-H 'Content-Type: application/x-www-form-urlencoded' --data-binary "$2" "$SELF/confirm"
}
ENC=https%3A%2F%2F127.0.0.1%3A8443
code=$(post_confirm "$SELF" "origin=$ENC")
check "POST /confirm without the token: 403" test "$code" = 403
code=$(post_confirm "$SELF" "origin=$ENC&token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
check "POST /confirm with a made-up token: 403" test "$code" = 403
code=$(post_confirm "$FOREIGN" "origin=$ENC&token=$TOKEN")
check "POST /confirm with the token from another site (cross-site form): 403" test "$code" = 403
code=$(req GET /identity "$ALLOWED")
check "still unconfirmed after those" test "$code" = 403
code=$(post_confirm "$SELF" "origin=$ENC&token=$TOKEN")
check "POST /confirm with the page's token from the agent's page: 200" test "$code" = 200
code=$(req GET /identity "$ALLOWED")
check "the confirmed Origin is served" test "$code" = 200
code=$(post_confirm "$SELF" "origin=$ENC&token=$TOKEN")
check "the token is one-time" test "$code" = 403
code=$(req GET /identity "$ALLOWED2")
check "another allowed Origin still needs its own confirmation" test "$code" = 403
code=$(req GET /identity "$FOREIGN")
check "a foreign Origin is still refused outright (no confirm_url)" bash -c \
	"[ $code = 403 ] && ! grep -q confirm_url $TEST_TMP/b"

check "no confirmation token in the agent's log" bash -c "! grep -qF -- '$TOKEN' $TEST_TMP/me2.log"

stop_agent() { # stop_agent PID: SIGTERM, then its exit status
	kill "$1"
	for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	wait "$1"
}
stop_agent "$ME1_PID"
rc1=$?
stop_agent "$ME2_PID"
rc2=$?
check "the agents stop cleanly on SIGTERM (exit 0, no sanitizer report)" bash -c \
	"[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && ! grep -q Sanitizer $TEST_TMP/me1.log $TEST_TMP/me2.log"
finish
