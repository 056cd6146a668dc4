#!/usr/bin/env bash
# wwsf_isim.sh - the network ISIM on the WWSF (shared/seeds/001, TR 33.871
# 6.1.1.3) over real HTTPS: sign-in (ok, wrong password, the per-user
# limit), the session cookie's flags, /session, and /isim/aka answering a
# real challenge (from libosmogsm, src/wwsf/akavec_tool.c) with the AKAv2
# password the network expects, then auts for the same challenge again;
# and the attacks: no session, another user's subscription, a foreign or
# missing Origin (CSRF), a session used after logout, AKAv1, malformed and
# oversized bodies.  The CLI adds and maps a user; no password is stored
# or logged in clear.
#
# Starts `wims wwsf` alone with its own data_dir; run it under
# flock /tmp/wims-ports.lock like every script on the demo ports.
. "$(dirname "$0")/../lib/harness.sh"

AKAVEC=${WWSF_AKAVEC:-$(dirname "$WIMS_BIN")/src/wwsf/wwsf_akavec}
DATA=$TEST_TMP/data
URL=https://127.0.0.1:8443
ORIGIN=https://127.0.0.1:8443
ERIN=erin@ims.example.org
FRANK=frank@ims.example.org
ww() { "$WIMS_BIN" --set "global.data_dir=$DATA" wwsf "$@"; }

# api NAME METHOD PATH [BODY] [curl args...]: the response headers go to
# $TEST_TMP/NAME.h, the body to NAME.b; prints the status code.
api() {
	local name=$1 method=$2 path=$3 body=${4:-}
	shift 4 2>/dev/null || shift $#
	local args=(-sk -o "$TEST_TMP/$name.b" -D "$TEST_TMP/$name.h" -w '%{http_code}'
		-X "$method" -H 'Content-Type: application/json')
	[ -n "$body" ] && args+=(--data-binary "$body")
	curl "${args[@]}" "$@" "$URL$path"
}
# status_is NAME WANT METHOD PATH BODY [curl args...]
status_is() {
	local name=$1 want=$2
	shift 2
	local got
	got=$(api "$name" "$@")
	[ "$got" = "$want" ] || { echo "status $got, wanted $want: $(cat "$TEST_TMP/$name.b")"; return 1; }
}
body_has() { grep -q -F -- "$2" "$TEST_TMP/$1.b" || { echo "body: $(cat "$TEST_TMP/$1.b")"; return 1; }; }
json_field() { jq -r ".$2 // empty" "$TEST_TMP/$1.b"; }
cookie_of() { sed -n 's/^[Ss]et-[Cc]ookie: \(wims_session=[^;]*\);.*/\1/p' "$TEST_TMP/$1.h" | tr -d '\r'; }
login_body() { printf '{"user":"%s","password":"%s"}' "$1" "$2"; }
aka_body() { printf '{"impi":"%s","nonce":"%s","algorithm":"%s"}' "$1" "$2" "${3:-AKAv2-SHA-256}"; }

check "the akavec test tool is built" test -x "$AKAVEC"
wims_start wwsf

# --- sign-in ---
check "erin signs in: 200" status_is login_erin 200 POST /login "$(login_body erin erin-web)" -H "Origin: $ORIGIN"
check "the answer lists erin's subscription with IMPU and realm" body_has login_erin \
	'"subscriptions":[{"impi":"erin@ims.example.org","impu":"sip:erin@ims.example.org","realm":"ims.example.org"}]'
check "cookie: wims_session=<43 base64url>; Path=/; Secure; HttpOnly; SameSite=Strict" \
	grep -E -q '^[Ss]et-[Cc]ookie: wims_session=[A-Za-z0-9_-]{43}; Path=/; Secure; HttpOnly; SameSite=Strict' "$TEST_TMP/login_erin.h"
check "API answers are not cached (Cache-Control: no-store)" grep -q -i '^cache-control: no-store' "$TEST_TMP/login_erin.h"
ERIN_COOKIE=$(cookie_of login_erin)
check "wrong password: 401 wrong user or password" status_is login_bad 401 POST /login "$(login_body erin nope)" -H "Origin: $ORIGIN"
check "  with the contract's message" body_has login_bad '{"error":"wrong user or password"}'
check "  and no cookie" bash -c "! grep -qi '^set-cookie' '$TEST_TMP/login_bad.h'"
check "unknown user: the same 401" status_is login_nobody 401 POST /login "$(login_body nobody x)" -H "Origin: $ORIGIN"

# --- /session ---
check "/session with the cookie: 200 erin" status_is sess 200 GET /session "" -H "Cookie: $ERIN_COOKIE"
check "  names erin" test "$(json_field sess user)" = erin
check "/session without a cookie: 401 not signed in" status_is sess_none 401 GET /session ""
check "  with the contract's message" body_has sess_none '{"error":"not signed in"}'
check "/session with a forged cookie: 401" status_is sess_forged 401 GET /session "" \
	-H "Cookie: wims_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

# --- /isim/aka with real challenges ---
"$AKAVEC" "$ERIN" --sqn 0 >"$TEST_TMP/vec1" || echo "# akavec failed"
NONCE=$(sed -n 's/^nonce=//p' "$TEST_TMP/vec1")
WANT_PW=$(sed -n 's/^password=//p' "$TEST_TMP/vec1")
check "not signed in: /isim/aka 401" status_is aka_anon 401 POST /isim/aka "$(aka_body "$ERIN" "$NONCE")" -H "Origin: $ORIGIN"
check "frank signs in" status_is login_frank 200 POST /login "$(login_body frank frank-web)" -H "Origin: $ORIGIN"
FRANK_COOKIE=$(cookie_of login_frank)
check "frank asking for erin's IMPI: 403" status_is aka_frank 403 POST /isim/aka "$(aka_body "$ERIN" "$NONCE")" \
	-H "Origin: $ORIGIN" -H "Cookie: $FRANK_COOKIE"
check "  because it is not mapped to him" body_has aka_frank \
	'{"error":"subscription erin@ims.example.org is not mapped to user frank"}'
check "erin with a real nonce: 200" status_is aka1 200 POST /isim/aka "$(aka_body "$ERIN" "$NONCE")" \
	-H "Origin: $ORIGIN" -H "Cookie: $ERIN_COOKIE"
check "  the password is the one the network computes (libosmogsm + HMAC)" \
	test -n "$WANT_PW" -a "$(json_field aka1 password)" = "$WANT_PW"
check "  and nothing else (no CK/IK/RES)" test "$(jq -c 'keys' "$TEST_TMP/aka1.b")" = '["password"]'
check "the same nonce again: 200 with auts (SQN already used)" status_is aka2 200 POST /isim/aka \
	"$(aka_body "$ERIN" "$NONCE")" -H "Origin: $ORIGIN" -H "Cookie: $ERIN_COOKIE"
check "  auts is 20 base64 characters, no password" bash -c \
	"[ \"\$(jq -r '.auts | length' '$TEST_TMP/aka2.b')\" = 20 ] && ! grep -q password '$TEST_TMP/aka2.b'"
"$AKAVEC" "$ERIN" --sqn 32 --bad-mac >"$TEST_TMP/vec2"
BAD_NONCE=$(sed -n 's/^nonce=//p' "$TEST_TMP/vec2")
check "a challenge with a wrong AUTN MAC: 409" status_is aka_mac 409 POST /isim/aka "$(aka_body "$ERIN" "$BAD_NONCE")" \
	-H "Origin: $ORIGIN" -H "Cookie: $ERIN_COOKIE"
check "AKAv1-MD5: 400" status_is aka_v1 400 POST /isim/aka "$(aka_body "$ERIN" "$NONCE" AKAv1-MD5)" \
	-H "Origin: $ORIGIN" -H "Cookie: $ERIN_COOKIE"
check "  saying why" body_has aka_v1 "AKAv1-MD5 would hand RES to the page"
check "malformed JSON: 400" status_is aka_json 400 POST /isim/aka '{"impi":"erin@' \
	-H "Origin: $ORIGIN" -H "Cookie: $ERIN_COOKIE"
head -c 8192 /dev/zero | tr '\0' ' ' >"$TEST_TMP/big.json"
check "oversized body: 413" status_is aka_big 413 POST /isim/aka "@$TEST_TMP/big.json" \
	-H "Origin: $ORIGIN" -H "Cookie: $ERIN_COOKIE"

# --- CSRF ---
"$AKAVEC" "$ERIN" --sqn 64 >"$TEST_TMP/vec3"
NONCE3=$(sed -n 's/^nonce=//p' "$TEST_TMP/vec3")
check "foreign Origin on /isim/aka: 403" status_is csrf1 403 POST /isim/aka "$(aka_body "$ERIN" "$NONCE3")" \
	-H "Origin: https://evil.example" -H "Cookie: $ERIN_COOKIE"
check "  naming the origin" body_has csrf1 '"origin https://evil.example is not allowed"'
check "missing Origin on /isim/aka: 403" status_is csrf2 403 POST /isim/aka "$(aka_body "$ERIN" "$NONCE3")" \
	-H "Cookie: $ERIN_COOKIE"
check "foreign Origin on /login: 403" status_is csrf3 403 POST /login "$(login_body erin erin-web)" \
	-H "Origin: https://evil.example"
check "foreign Origin on /logout: 403, the session lives" bash -c \
	"[ \"\$(curl -sk -o /dev/null -w '%{http_code}' -X POST -H 'Origin: https://evil.example' -H 'Cookie: $ERIN_COOKIE' $URL/logout)\" = 403 ] && [ \"\$(curl -sk -o /dev/null -w '%{http_code}' -H 'Cookie: $ERIN_COOKIE' $URL/session)\" = 200 ]"
check "after the refused ones, the next challenge is still answered" status_is aka3 200 POST /isim/aka \
	"$(aka_body "$ERIN" "$NONCE3")" -H "Origin: $ORIGIN" -H "Cookie: $ERIN_COOKIE"
check "  correctly" test "$(json_field aka3 password)" = "$(sed -n 's/^password=//p' "$TEST_TMP/vec3")"

# --- logout ---
check "logout: 204" status_is logout 204 POST /logout "" -H "Origin: $ORIGIN" -H "Cookie: $ERIN_COOKIE"
check "  clears the cookie" grep -q -i '^set-cookie: wims_session=; Path=/; Max-Age=0' "$TEST_TMP/logout.h"
"$AKAVEC" "$ERIN" --sqn 96 >"$TEST_TMP/vec4"
check "the old cookie after logout: /isim/aka 401" status_is aka_out 401 POST /isim/aka \
	"$(aka_body "$ERIN" "$(sed -n 's/^nonce=//p' "$TEST_TMP/vec4")")" -H "Origin: $ORIGIN" -H "Cookie: $ERIN_COOKIE"

# --- CLI while the role runs ---
check "CLI user-add (password from stdin)" bash -c "printf 'gina-Pa55word\n' | '$WIMS_BIN' --set global.data_dir='$DATA' wwsf user-add gina --password-stdin"
check "CLI map gina -> gina@ims.example.org" ww map gina gina@ims.example.org
check "CLI users lists her with the IMPI" bash -c "'$WIMS_BIN' --set global.data_dir='$DATA' wwsf users | grep -qx 'gina gina@ims.example.org'"
expect_fail "CLI map of an unknown user fails" ww map nobody x@ims.example.org
check "gina signs in with her password" status_is login_gina 200 POST /login "$(login_body gina gina-Pa55word)" -H "Origin: $ORIGIN"
check "  and sees the mapped subscription" body_has login_gina '"impi":"gina@ims.example.org"'
check "CLI isim-list shows the demo entries, no keys" bash -c \
	"out=\$('$WIMS_BIN' --set global.data_dir='$DATA' wwsf isim-list) && echo \"\$out\" | grep -q erin@ims.example.org && echo \"\$out\" | grep -q frank@ims.example.org"

GINA_COOKIE=$(cookie_of login_gina)
check "CLI unmap gina" ww unmap gina gina@ims.example.org
check "  her session now lists no subscription" bash -c \
	"curl -sk -H 'Cookie: $GINA_COOKIE' $URL/session | jq -e '.subscriptions == []' >/dev/null"
check "CLI user-add without --password-stdin reads stdin too" bash -c "printf 'hank-Pa55word\n' | '$WIMS_BIN' --set global.data_dir='$DATA' wwsf user-add hank"
check "hank signs in" status_is login_hank 200 POST /login "$(login_body hank hank-Pa55word)" -H "Origin: $ORIGIN"
HANK_COOKIE=$(cookie_of login_hank)
check "CLI user-remove hank" ww user-remove hank
check "  his live session ends with the account (401)" status_is sess_hank 401 GET /session "" -H "Cookie: $HANK_COOKIE"
check "  and he cannot sign in again" status_is login_hank2 401 POST /login "$(login_body hank hank-Pa55word)" -H "Origin: $ORIGIN"

# --- per-user sign-in limit (gina: erin and frank stay usable) ---
for _ in $(seq 10); do api rl POST /login "$(login_body gina wrong)" -H "Origin: $ORIGIN" >/dev/null; done
check "after 10 failures: 429, even with the right password" status_is rl_block 429 POST /login \
	"$(login_body gina gina-Pa55word)" -H "Origin: $ORIGIN"
check "another user is not blocked" status_is rl_other 200 POST /login "$(login_body frank frank-web)" -H "Origin: $ORIGIN"

# --- /config.json and the CSP ---
check "/config.json gives me_url" bash -c "curl -sk $URL/config.json | jq -e '.me_url == \"https://127.0.0.1:8445\"' >/dev/null"
check "the page's CSP lets it reach the ME agent" bash -c \
	"curl -sk -D - -o /dev/null $URL/config.json $URL/ | grep -i '^content-security-policy' | grep -q 'connect-src .*https://127.0.0.1:8445'"

# --- nothing in clear ---
no_plaintext() {
	local f pw
	for pw in erin-web frank-web gina-Pa55word hank-Pa55word; do
		for f in "$DATA"/wwsf.db*; do
			if grep -a -F -q -- "$pw" "$f"; then echo "$pw in $f"; return 1; fi
		done
		if sqlite3 "$DATA/wwsf.db" .dump | grep -F -q -- "$pw"; then echo "$pw in the dump"; return 1; fi
		if grep -a -F -q -- "$pw" "$TEST_TMP/wims-wwsf.log"; then echo "$pw in the log"; return 1; fi
	done
	sqlite3 "$DATA/wwsf.db" 'SELECT pwhash FROM account' | grep -q '^scrypt\$'
}
check "passwords are stored as scrypt hashes, never in clear (db, WAL, log)" no_plaintext
check "the log names user, IMPI and outcome" grep -q 'isim: user erin impi erin@ims.example.org: password given' \
	"$TEST_TMP/wims-wwsf.log"
check "no AKAv2 password in the log" bash -c "! grep -a -F -q -- '$WANT_PW' '$TEST_TMP/wims-wwsf.log'"

kill "$WIMS_PID"
wait "$WIMS_PID"
rc=$?
check "wwsf stops cleanly (exit 0, no sanitizer report)" bash -c \
	"[ $rc -eq 0 ] && ! grep -q 'Sanitizer' '$TEST_TMP/wims-wwsf.log'"
finish
