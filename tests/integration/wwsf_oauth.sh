#!/usr/bin/env bash
# wwsf_oauth.sh - the WWSF as OAuth client of the real WAF (issue 5,
# TR 33.871 6.1.2 and 6.1.3; tna.md section 6), over real HTTPS with curl:
#
#  - the code flow with PKCE for grace: /oauth/start redirects to the WAF's
#    /authorize with an S256 challenge and a state, the WAF's sign-in and
#    consent forms are posted as a browser would, the callback's code is
#    exchanged over mutual TLS, the session gets the token (/oauth/token);
#  - the attacks on it: a wrong state, a callback replayed, a callback
#    opened in another browser (login CSRF), /oauth/token asked from
#    another site (Origin, Sec-Fetch-Site) or without a session;
#  - client credentials for a user signed in to the WWSF (erin): refused
#    by the WAF until her link is confirmed, then given; /link passed on;
#  - the third-party pool site (the demo's second process on 8446): guests
#    get distinct IMPIs, the fifth gets 503 pool exhausted, a sign-out
#    frees an IMPI for the next guest and the old session's token is gone;
#    a user signed in to the pool site takes a freed IMPI; a pool WWSF
#    with anonymous = no (a process of its own on 8447) refuses visitors.
#
# Starts `wims demo` (with the waf role and the pool WWSF) with its own
# data_dir; run it under flock /tmp/wims-ports.lock like every script on
# the demo ports.
. "$(dirname "$0")/../lib/harness.sh"

DATA=$TEST_TMP/data
OP=https://127.0.0.1:8443
SHOP=https://127.0.0.1:8446
WAF=https://127.0.0.1:9443

# req NAME [curl args...] URL: headers to NAME.h, body to NAME.b; prints
# the status code.
req() {
	local name=$1
	shift
	curl -sk -o "$TEST_TMP/$name.b" -D "$TEST_TMP/$name.h" -w '%{http_code}' "$@"
}
status_is() {
	local name=$1 want=$2 got
	shift 2
	got=$(req "$name" "$@")
	[ "$got" = "$want" ] || { echo "status $got, wanted $want: $(head -c 600 "$TEST_TMP/$name.b")"; return 1; }
}
body_has() { grep -q -F -- "$2" "$TEST_TMP/$1.b" || { echo "body: $(head -c 600 "$TEST_TMP/$1.b")"; return 1; }; }
head_has() { grep -q -i -F -- "$2" "$TEST_TMP/$1.h" || { echo "headers: $(cat "$TEST_TMP/$1.h")"; return 1; }; }
json_field() { jq -r ".$2 // empty" "$TEST_TMP/$1.b"; }
location() { sed -n 's/^[Ll]ocation: //p' "$TEST_TMP/$1.h" | tr -d '\r'; }

# form_body FILE [name=value...]: the first <form> of an HTML page as a
# browser would post it (hidden fields as they are), with the given fields
# set; application/x-www-form-urlencoded on stdout.
form_body() {
	python3 - "$@" <<'EOF'
import html.parser, sys, urllib.parse
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.fields = []; self.done = False; self.inform = False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'form' and not self.done: self.inform = True
        elif tag == 'input' and self.inform and a.get('type') == 'hidden':
            self.fields.append((a.get('name'), a.get('value') or ''))
    def handle_endtag(self, tag):
        if tag == 'form' and self.inform: self.inform = False; self.done = True
p = P(); p.feed(open(sys.argv[1]).read())
f = p.fields + [tuple(kv.split('=', 1)) for kv in sys.argv[2:]]
print(urllib.parse.urlencode(f))
EOF
}

# signin JAR NAME [CONSENT]: from /oauth/start through the WAF's sign-in and consent
# as grace, up to (not following) the WAF's redirect to the callback;
# prints the callback URL.
signin() {
	local jar=$1 n=$2 consent=${3:-allow} loc code
	code=$(req "${n}_start" -c "$jar" -b "$jar" "$OP/oauth/start")
	[ "$code" = 302 ] || { echo "start: $code" >&2; return 1; }
	loc=$(location "${n}_start")
	code=$(req "${n}_authz" -c "$jar" -b "$jar" "$loc")
	[ "$code" = 200 ] || { echo "authorize: $code $(cat "$TEST_TMP/${n}_authz.b")" >&2; return 1; }
	code=$(req "${n}_signin" -c "$jar" -b "$jar" -H "Origin: $WAF" \
		--data "$(form_body "$TEST_TMP/${n}_authz.b" username=grace password=grace-web)" \
		"$WAF/authorize")
	if [ "$code" = 200 ]; then
		code=$(req "${n}_consent" -c "$jar" -b "$jar" -H "Origin: $WAF" \
			--data "$(form_body "$TEST_TMP/${n}_signin.b" consent="$consent")" "$WAF/authorize")
		[ "$code" = 302 ] || { echo "consent: $code $(cat "$TEST_TMP/${n}_consent.b")" >&2; return 1; }
		location "${n}_consent"
	elif [ "$code" = 302 ]; then
		location "${n}_signin"
	else
		echo "sign-in: $code $(cat "$TEST_TMP/${n}_signin.b")" >&2
		return 1
	fi
}

wims_start demo
check "the WAF listens (9443)" wait_tcp 9443
check "the third-party WWSF listens (8446)" wait_tcp 8446
check "the demo names the third-party WWSF's PID" \
	grep -q "third-party WWSF webshop.example.net .* pid [0-9]" "$TEST_TMP/wims-demo.log"

# --- configuration ---
check "operator /config.json: waf, identity, pool false" status_is cfg 200 "$OP/config.json"
check "  waf" test "$(json_field cfg waf)" = "$WAF"
check "  identity" test "$(json_field cfg identity)" = wwsf.ims.example.org
check "  pool false" test "$(jq -r .pool "$TEST_TMP/cfg.b")" = false
check "the page's CSP lets its forms go to the WAF" \
	bash -c "curl -sk -D - -o /dev/null $OP/ | grep -i '^content-security-policy:' | grep -q \"form-action 'self' $WAF\""
check "third-party /config.json: identity webshop.example.net, pool true" status_is cfg3 200 "$SHOP/config.json"
check "  identity" test "$(json_field cfg3 identity)" = webshop.example.net
check "  pool true" test "$(jq -r .pool "$TEST_TMP/cfg3.b")" = true

# --- the code flow (grace) ---
JAR=$TEST_TMP/grace.jar
check "/oauth/start: 302 to the WAF's /authorize" status_is start 302 -c "$JAR" -b "$JAR" "$OP/oauth/start"
LOC=$(location start)
check "  client_id, redirect_uri, scope, response_type code" bash -c "case '$LOC' in
	$WAF/authorize\?response_type=code\&client_id=wwsf.ims.example.org\&redirect_uri=https%3A%2F%2F127.0.0.1%3A8443%2Foauth%2Fcallback\&scope=webrtc-ims-client-access-to-ims\&state=*) ;; *) echo '$LOC'; exit 1;; esac"
check "  PKCE: an S256 challenge of 43 characters" bash -c "echo '$LOC' | grep -Eq 'code_challenge=[A-Za-z0-9_-]{43}&code_challenge_method=S256$'"
check "  the pre-session cookie: Path=/oauth/, 10 min, Secure, HttpOnly, SameSite=Lax" \
	grep -Eq '^[Ss]et-[Cc]ookie: wims_oauth=[A-Za-z0-9_-]{43}; Path=/oauth/; Max-Age=600; Secure; HttpOnly; SameSite=Lax' "$TEST_TMP/start.h"
CB=$(signin "$JAR" g1)
check "grace signs in at the WAF and allows the site: redirected to the callback" \
	bash -c "case '$CB' in $OP/oauth/callback\?code=*state=*) ;; *) echo 'got: $CB'; exit 1;; esac"
BADCB=$(echo "$CB" | sed -E 's/state=[A-Za-z0-9_-]{5}/state=AAAAA/')
check "callback with a wrong state: 400 page" status_is cb_bad 400 -c "$JAR" -b "$JAR" "$BADCB"
check "  saying why" body_has cb_bad "does not belong to a sign-in started in this browser"
CB=$(signin "$JAR" g2)
check "callback: 302 to / with a session cookie" status_is cb 302 -c "$JAR" -b "$JAR" "$CB"
check "  Location /" test "$(location cb)" = /
check "  session cookie Secure, HttpOnly, SameSite=Strict" \
	grep -Eq '^[Ss]et-[Cc]ookie: wims_session=[A-Za-z0-9_-]{43}; Path=/; Secure; HttpOnly; SameSite=Strict' "$TEST_TMP/cb.h"
check "the same callback again (state used): 400" status_is cb_again 400 -c "$JAR" -b "$JAR" "$CB"
check "GET /oauth/token: 200" status_is tok 200 -b "$JAR" -H 'Sec-Fetch-Site: same-origin' "$OP/oauth/token"
check "  via operator" test "$(json_field tok via)" = operator
check "  impi grace@ims.example.org" test "$(json_field tok impi)" = grace@ims.example.org
check "  impu sip:grace@ims.example.org" test "$(json_field tok impu)" = sip:grace@ims.example.org
check "  wwsf wwsf.ims.example.org" test "$(json_field tok wwsf)" = wwsf.ims.example.org
check "  the access token is a JWT" bash -c "jq -r .access_token '$TEST_TMP/tok.b' | grep -Eq '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$'"
check "  expires_in > 0" test "$(json_field tok expires_in)" -gt 0
check "  not cached" head_has tok "cache-control: no-store"
check "/oauth/token asked by another site (Sec-Fetch-Site cross-site): 403" \
	status_is tok_xs 403 -b "$JAR" -H 'Sec-Fetch-Site: cross-site' "$OP/oauth/token"
check "/oauth/token with a foreign Origin: 403" \
	status_is tok_xo 403 -b "$JAR" -H 'Origin: https://evil.example' "$OP/oauth/token"
check "/oauth/token without a session: 401" status_is tok_none 401 "$OP/oauth/token"

# login CSRF: a callback URL made in one browser, opened in another
CB=$(signin "$JAR" g3)
OTHER=$TEST_TMP/other.jar
check "a callback opened in another browser (no pre-session cookie): 400" \
	status_is cb_other 400 -c "$OTHER" -b "$OTHER" "$CB"
check "  and its state is spent: the first browser gets 400 too" \
	status_is cb_other2 400 -c "$JAR" -b "$JAR" "$CB"

# the WAF's refusals shown with its reason
CB=$(signin "$JAR" g4)
FORGED=$(echo "$CB" | sed -E 's/code=[A-Za-z0-9_-]{6}/code=AAAAAA/')
check "a forged code (right state): the WAF refuses it, a page with its reason" \
	status_is cb_forged 403 -c "$JAR" -b "$JAR" "$FORGED"
check "  The operator's sign-in service refused: ..." body_has cb_forged "The operator&#39;s sign-in service refused:"
CB=$(signin "$JAR" g5 deny)
check "grace denies the site: the callback shows the WAF's error_description" \
	status_is cb_deny 403 -c "$JAR" -b "$JAR" "$CB"
check "  the user denied the request" body_has cb_deny "the user denied the request"
check "  and the session has no new token: still grace's first" \
	status_is tok2 200 -b "$JAR" "$OP/oauth/token"

# --- client credentials for a user of the WWSF (erin) ---
EJAR=$TEST_TMP/erin.jar
check "POST /oauth/token without a session: 401" \
	status_is cc_none 401 -X POST -H "Origin: $OP" "$OP/oauth/token"
check "erin signs in to the WWSF" status_is erin 200 -c "$EJAR" -b "$EJAR" -H "Origin: $OP" \
	-H 'Content-Type: application/json' --data '{"user":"erin","password":"erin-web"}' "$OP/login"
check "POST /oauth/token without Origin: 403" status_is cc_noorigin 403 -b "$EJAR" -X POST "$OP/oauth/token"
check "POST /oauth/token for erin, no confirmed link: the WAF's refusal passed on" \
	bash -c "code=\$(curl -sk -o '$TEST_TMP/cc0.b' -w '%{http_code}' -b '$EJAR' -X POST -H 'Origin: $OP' '$OP/oauth/token'); case \$code in 4??) ;; *) echo \$code; exit 1;; esac"
check "  with the WAF's reason" body_has cc0 "the WAF refused:"
check "POST /link for erin (not registered): the WAF's answer passed on (409)" \
	status_is link 409 -b "$EJAR" -H "Origin: $OP" -H 'Content-Type: application/json' \
	--data '{"impu":"sip:erin@ims.example.org"}' "$OP/link"
check "  saying to register first" body_has link "not registered"
check "POST /link with a malformed IMPU: 400" status_is link_bad 400 -b "$EJAR" -H "Origin: $OP" \
	--data '{"impu":"http://x"}' "$OP/link"
check "POST /link without a WWSF sign-in: 401" status_is link_anon 401 -H "Origin: $OP" \
	--data '{"impu":"sip:erin@ims.example.org"}' "$OP/link"
check "the operator confirms erin's link (wims waf link ... --confirmed)" \
	"$WIMS_BIN" --set "global.data_dir=$DATA" waf link erin sip:erin@ims.example.org \
	--idp wwsf.ims.example.org --grant wwsf.ims.example.org --confirmed
check "POST /oauth/token for erin: 200" status_is cc 200 -b "$EJAR" -X POST -H "Origin: $OP" "$OP/oauth/token"
check "  via wwsf-login, impi erin@ims.example.org" \
	test "$(json_field cc via) $(json_field cc impi)" = "wwsf-login erin@ims.example.org"
check "  kept in the session: GET /oauth/token gives it" status_is cc_get 200 -b "$EJAR" "$OP/oauth/token"
check "  the same token" test "$(json_field cc_get access_token)" = "$(json_field cc access_token)"

# --- the pool site (scenario 3) ---
check "/pool/session on the operator's site (no pool): 404" \
	status_is nopool 404 -X POST -H "Origin: $OP" "$OP/pool/session"
check "/pool/session without Origin: 403" status_is pool_noorigin 403 -X POST "$SHOP/pool/session"
IMPIS=""
for g in 1 2 3 4; do
	check "guest $g gets a pool identity: 200" status_is "pool$g" 200 -c "$TEST_TMP/guest$g.jar" \
		-b "$TEST_TMP/guest$g.jar" -X POST -H "Origin: $SHOP" "$SHOP/pool/session"
	IMPIS="$IMPIS $(json_field "pool$g" impi)"
done
check "  via pool, from webshop.example.net" \
	test "$(json_field pool1 via) $(json_field pool1 wwsf)" = "pool webshop.example.net"
check "  four guests, four different IMPIs of the pool" \
	bash -c "test \$(echo $IMPIS | tr ' ' '\n' | grep -c '^pool[1-4]@ims.example.org$') = 4 && test \$(echo $IMPIS | tr ' ' '\n' | sort -u | wc -l) = 4"
check "  guest 1 asking again keeps its IMPI" status_is pool1b 200 -b "$TEST_TMP/guest1.jar" \
	-X POST -H "Origin: $SHOP" "$SHOP/pool/session"
check "  the same one" test "$(json_field pool1b impi)" = "$(json_field pool1 impi)"
check "a fifth guest: 503 pool exhausted" status_is pool5 503 -c "$TEST_TMP/guest5.jar" \
	-b "$TEST_TMP/guest5.jar" -X POST -H "Origin: $SHOP" "$SHOP/pool/session"
check "  saying so" body_has pool5 '{"error":"pool exhausted"}'
check "guest 1 signs out: 204" status_is out1 204 -b "$TEST_TMP/guest1.jar" -X POST -H "Origin: $SHOP" "$SHOP/logout"
check "  its token is gone: 401" status_is tok_out1 401 -b "$TEST_TMP/guest1.jar" "$SHOP/oauth/token"
check "the fifth guest now gets guest 1's IMPI" status_is pool5b 200 -c "$TEST_TMP/guest5.jar" \
	-b "$TEST_TMP/guest5.jar" -X POST -H "Origin: $SHOP" "$SHOP/pool/session"
check "  which is free again" test "$(json_field pool5b impi)" = "$(json_field pool1 impi)"
# a user signed in to the pool site takes an identity too
check "the pool site gets a web account (wims wwsf user-add)" bash -c \
	"printf 'shopper-web' | '$WIMS_BIN' --set 'global.data_dir=$DATA' wwsf --db '$DATA/webshop.db' user-add shopper --password-stdin"
check "shopper signs in to the pool site" status_is shop_login 200 -c "$TEST_TMP/shopper.jar" \
	-b "$TEST_TMP/shopper.jar" -H "Origin: $SHOP" --data '{"user":"shopper","password":"shopper-web"}' "$SHOP/login"
check "guest 2 signs out" status_is out2 204 -b "$TEST_TMP/guest2.jar" -X POST -H "Origin: $SHOP" "$SHOP/logout"
check "the signed-in shopper gets a pool identity: 200" status_is pool_shop 200 -b "$TEST_TMP/shopper.jar" \
	-X POST -H "Origin: $SHOP" "$SHOP/pool/session"
check "  guest 2's, free again" test "$(json_field pool_shop impi)" = "$(json_field pool2 impi)"

# a pool site without guests (anonymous = no): a WWSF of its own on 8447
spawn wwsf-noanon "$WIMS_BIN" --set "global.data_dir=$TEST_TMP/noanon" \
	--set "global.tls_cert=$DATA/tls/cert.pem" --set "global.tls_key=$DATA/tls/key.pem" \
	--set wwsf.listen=127.0.0.1:8447 --set wwsf.identity=webshop.example.net \
	--set "wwsf.pool=pool4@ims.example.org" --set wwsf.anonymous=no \
	--set wwsf.demo_accounts=no --set "wwsf.allowed_origins=https://127.0.0.1:8447" wwsf
check "a pool WWSF without guests starts (8447)" wait_tcp 8447
check "  a visitor not signed in: 401" status_is noanon 401 -X POST -H "Origin: https://127.0.0.1:8447" \
	"https://127.0.0.1:8447/pool/session"
check "  saying to sign in" body_has noanon "sign in to this site first"
check "  and no session cookie is made" bash -c "! grep -qi '^set-cookie' '$TEST_TMP/noanon.h'"

check "the third-party WWSF is still running" \
	bash -c "! grep -q 'the third-party WWSF (pid [0-9]*) \(exited\|was killed\)' '$TEST_TMP/wims-demo.log'"

finish
