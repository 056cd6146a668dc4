#!/bin/bash
# waf_oauth.sh - the WAF (OAuth 2.0 authorization server, TR 33.871 6.1.2,
# 6.1.3) over real HTTPS with curl and openssl.  `wims hss` seeds the HSS
# store and stops; the waf role then runs alone on 9443 over the same data
# directory.  Client certificates are the demo's (made by the waf at
# start) plus one made here with openssl that no client registered.
#
#   metadata (RFC 8414) and JWKS; the code flow with PKCE for grace (sign-in
#   and consent pages, CSRF token; the token verifies with
#   jwt_verify_access_token against /jwks.json); refusals: missing/wrong
#   verifier, redirect_uri mismatch, code reuse, code of another client, no
#   client certificate / unknown certificate / Basic for client credentials;
#   client credentials with impi= (pool, REQ 3.2) and subject= (confirmed
#   link, REQ 2.5; the subscriber's permission, REQ 2.1); REQ 2.2 blocks at
#   the WAF and in the HSS, the other WWSF unaffected; introspection
#   (RFC 7662); key rotation; escaping.  Then, restarted with opaque tokens
#   and the implicit grant: introspection of opaque tokens (expired and
#   blocked ones inactive), response_type=token, and the per-user and
#   per-IP sign-in failure limits.
#
# Uses port 9443: run under flock /tmp/wims-ports.lock.
. "$(dirname "$0")/../lib/harness.sh"

DATA=$TEST_TMP/data
URL=https://127.0.0.1:9443
JWTCHECK=${WAF_JWTCHECK:-$(dirname "$WIMS_BIN")/src/waf/waf_jwtcheck}
CB=https://127.0.0.1:8443/oauth/callback
WWSF=wwsf.ims.example.org
SHOP=webshop.example.net
SCOPE=webrtc-ims-client-access-to-ims
AUD=sip:ims.example.org
SETS=(--set "global.data_dir=$DATA" --set "global.tls_cert=$DATA/tls/cert.pem"
	--set "global.tls_key=$DATA/tls/key.pem")
W=("$WIMS_BIN" "${SETS[@]}")
O=$TEST_TMP/out
H=$TEST_TMP/hdr
JAR=$TEST_TMP/jar

check "the jwtcheck test tool is built" test -x "$JWTCHECK"

# The HSS's demo subscribers (grace, bob, pool1..4 ...), then the waf alone.
spawn hss "${W[@]}" hss
HSS_PID=$SPAWNED_PID
# (asking the store while the role creates it could find it locked)
for _ in $(seq 100); do
	grep -q "provisioned" "$TEST_TMP/hss.log" 2>/dev/null && break
	sleep 0.1
done
kill "$HSS_PID"
wait "$HSS_PID" 2>/dev/null
check "the HSS has the demo subscriber grace" "${W[@]}" hss show grace@ims.example.org

wims_start waf --set waf.key_publish_lead_s=3 --set waf.signin_failures_per_user=50
check "waf listens on 9443" wait_tcp 9443

WWSF_CERT=(--cert "$DATA/wwsf-client/cert.pem" --key "$DATA/wwsf-client/key.pem")
SHOP_CERT=(--cert "$DATA/webshop-client/cert.pem" --key "$DATA/webshop-client/key.pem")
PCSCF_CERT=(--cert "$DATA/pcscf-client/cert.pem" --key "$DATA/pcscf-client/key.pem")

# json FILE EXPR: a python expression over the JSON in FILE (as j).
json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

# post PATH CURLARGS...: POST to the WAF; the body lands in $O, the status
# is printed.
post() {
	local path=$1
	shift
	curl -sk -o "$O" -w '%{http_code}' -X POST "$@" "$URL$path"
}

# status_is WANT PATTERN CMD...: CMD prints a status that must be WANT, and
# the body ($O) must hold PATTERN (grep -E; '' for any).
status_is() {
	local want=$1 pat=$2 got
	shift 2
	got=$("$@")
	if [ "$got" != "$want" ]; then
		echo "status $got, expected $want"
		cat "$O"
		return 1
	fi
	if [ -n "$pat" ] && ! grep -qE -- "$pat" "$O"; then
		echo "body lacks /$pat/:"
		cat "$O"
		return 1
	fi
}

token_req() { # CODE VERIFIER REDIRECT_URI [CURLARGS...]
	local c=$1 v=$2 r=$3
	shift 3
	if [ -n "$v" ]; then
		post /token "$@" -d grant_type=authorization_code --data-urlencode "code=$c" \
			--data-urlencode "redirect_uri=$r" --data-urlencode "code_verifier=$v"
	else
		post /token "$@" -d grant_type=authorization_code --data-urlencode "code=$c" \
			--data-urlencode "redirect_uri=$r"
	fi
}
cc() { post /token "$@" -d grant_type=client_credentials; }
intro() { post /introspect "$@"; }
kid_of() {
	python3 -c "import base64,json,sys; h=open(sys.argv[1]).read().split('.')[0]; print(json.loads(base64.urlsafe_b64decode(h+'==='))['kid'])" "$1"
}
jwtcheck() { "$JWTCHECK" "$1" "$2" "$URL" "$AUD" "$SCOPE"; }

# --- metadata and keys ---
curl -sk "$URL/.well-known/oauth-authorization-server" >"$TEST_TMP/meta.json"
check "metadata (RFC 8414): issuer, endpoints, S256, response type code only" python3 -c "
import json; j = json.load(open('$TEST_TMP/meta.json'))
assert j['issuer'] == '$URL', j
assert j['token_endpoint'] == '$URL/token' and j['jwks_uri'] == '$URL/jwks.json', j
assert j['introspection_endpoint'] == '$URL/introspect', j
assert j['authorization_endpoint'] == '$URL/authorize', j
assert j['code_challenge_methods_supported'] == ['S256'], j
assert j['response_types_supported'] == ['code'], j
assert j['scopes_supported'] == ['$SCOPE'], j
assert j['token_endpoint_auth_methods_supported'] == ['self_signed_tls_client_auth', 'client_secret_basic'], j"
curl -sk "$URL/jwks.json" >"$TEST_TMP/jwks1.json"
check "JWKS publishes one key" test "$(json "$TEST_TMP/jwks1.json" 'len(j["keys"])')" = 1
check "JWKS keys are public ES256 keys (no d)" python3 -c "
import json; k = json.load(open('$TEST_TMP/jwks1.json'))['keys'][0]
assert k['kty'] == 'EC' and k['crv'] == 'P-256' and k['alg'] == 'ES256' and 'd' not in k, k"
check "the key directory is 0700, the key files 0600" bash -c "
	test \"\$(stat -c %a $DATA/waf-keys)\" = 700 &&
	for f in $DATA/waf-keys/*.jwk; do test \"\$(stat -c %a \$f)\" = 600 || exit 1; done"

# --- the code flow ---
VERIFIER=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
CHALLENGE=$(printf %s "$VERIFIER" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=\n')

# authorize_url [EXTRA]: the authorization request of the operator WWSF.
authorize_url() {
	echo "$URL/authorize?response_type=code&client_id=$WWSF&redirect_uri=$CB&scope=$SCOPE&state=st4te&code_challenge=$CHALLENGE&code_challenge_method=S256${1:-}"
}

# form_fields PAGE: the hidden fields of the page's form as curl arguments.
form_fields() {
	python3 - "$1" <<'EOF'
import html, re, sys
page = open(sys.argv[1]).read()
for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page):
    print("--data-urlencode")
    print(name + "=" + html.unescape(value))
EOF
}

# code_for USER PASSWORD: a whole sign-in + consent; the code in $CODE.
code_for() {
	rm -f "$JAR"
	CODE=
	curl -sk -c "$JAR" -b "$JAR" -o "$TEST_TMP/p1.html" "$(authorize_url)"
	mapfile -t F < <(form_fields "$TEST_TMP/p1.html")
	curl -sk -c "$JAR" -b "$JAR" -o "$TEST_TMP/p2.html" "${F[@]}" \
		--data-urlencode "username=$1" --data-urlencode "password=$2" "$URL/authorize"
	mapfile -t F < <(form_fields "$TEST_TMP/p2.html")
	curl -sk -c "$JAR" -b "$JAR" -D "$H" -o /dev/null "${F[@]}" -d consent=allow \
		"$URL/authorize"
	CODE=$(sed -n 's/^[Ll]ocation: .*[?&]code=\([^&[:space:]]*\).*/\1/p' "$H")
}

rm -f "$JAR"
curl -sk -c "$JAR" -o "$TEST_TMP/p1.html" -D "$H" "$(authorize_url)"
check "GET /authorize: the sign-in page with a CSRF token" \
	grep -q 'name="csrf" value="[A-Za-z0-9_-]\{22\}"' "$TEST_TMP/p1.html"
check "the pre-session cookie is Secure, HttpOnly, SameSite=Strict" \
	grep -qi '^set-cookie: waf_pre=.*Secure; HttpOnly; SameSite=Strict' "$H"
check "the page's CSP lets the form lead back to the WWSF only" \
	grep -qi "^content-security-policy: .*form-action 'self' https://127.0.0.1:8443;" "$H"
mapfile -t F < <(form_fields "$TEST_TMP/p1.html")
BAD=()
for a in "${F[@]}"; do
	case $a in csrf=*) BAD+=("csrf=AAAAAAAAAAAAAAAAAAAAAA") ;; *) BAD+=("$a") ;; esac
done
check "POST /authorize with a wrong CSRF token: 403" status_is 403 'CSRF' \
	post /authorize -b "$JAR" "${BAD[@]}" -d username=grace -d password=grace-web
check "POST /authorize without the pre-session cookie: 403" status_is 403 'CSRF' \
	post /authorize "${F[@]}" -d username=grace -d password=grace-web
check "a wrong password: 401, the sign-in page again" status_is 401 'Wrong user name or password' \
	post /authorize -b "$JAR" "${F[@]}" -d username=grace -d password=nope
curl -sk -c "$JAR" -b "$JAR" -o "$TEST_TMP/p2.html" "${F[@]}" -d username=grace \
	-d password=grace-web "$URL/authorize"
check "grace signs in: the consent page names the WWSF and her IMPU" grep -q \
	"$WWSF</span> wants to register you with IMS as <span class=\"who\">sip:grace@ims.example.org</span>" \
	"$TEST_TMP/p2.html"
mapfile -t F < <(form_fields "$TEST_TMP/p2.html")
curl -sk -c "$JAR" -b "$JAR" -D "$H" -o /dev/null "${F[@]}" -d consent=allow "$URL/authorize"
check "consent: redirect to the registered redirect_uri with code and state" \
	grep -q "^[Ll]ocation: $CB?code=[A-Za-z0-9_-]\{43\}&state=st4te" "$H"
CODE=$(sed -n 's/^[Ll]ocation: .*[?&]code=\([^&[:space:]]*\).*/\1/p' "$H")
check "the consent allowed the WWSF for grace in the HSS (REQ 2.1)" bash -c \
	"'$WIMS_BIN' ${SETS[*]} hss wwsfs | grep grace@ims.example.org | grep -q $WWSF"

check "the code redeems over mTLS: 200" status_is 200 '"access_token"' \
	token_req "$CODE" "$VERIFIER" "$CB" "${WWSF_CERT[@]}"
cp "$O" "$TEST_TMP/tok1.json"
check "token response: Bearer, expires_in, scope, impu, impus, impi" python3 -c "
import json; j = json.load(open('$TEST_TMP/tok1.json'))
assert j['token_type'] == 'Bearer' and j['expires_in'] == 3600, j
assert j['impu'] == 'sip:grace@ims.example.org' and j['impus'] == ['sip:grace@ims.example.org'], j
assert j['impi'] == 'grace@ims.example.org' and j['scope'] == '$SCOPE', j"
json "$TEST_TMP/tok1.json" 'j["access_token"]' >"$TEST_TMP/tok1"
check "the JWT verifies with jwt_verify_access_token against /jwks.json" bash -c "
	'$JWTCHECK' $TEST_TMP/jwks1.json $TEST_TMP/tok1 $URL $AUD $SCOPE | grep -q \
	'^ok impi=grace@ims.example.org impus=sip:grace@ims.example.org wwsf=$WWSF client_id=$WWSF sub=grace exp-iat=3600'"
check "the same code again: invalid_grant" status_is 400 '"error":"invalid_grant"' \
	token_req "$CODE" "$VERIFIER" "$CB" "${WWSF_CERT[@]}"

code_for grace grace-web
check "missing code_verifier: invalid_grant" status_is 400 'code_verifier missing' \
	token_req "$CODE" "" "$CB" "${WWSF_CERT[@]}"
check "... and that code is spent" status_is 400 'invalid_grant' \
	token_req "$CODE" "$VERIFIER" "$CB" "${WWSF_CERT[@]}"
code_for grace grace-web
WRONG=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
check "a wrong code_verifier: invalid_grant" status_is 400 '"invalid_grant".*code_verifier does not match' \
	token_req "$CODE" "$WRONG" "$CB" "${WWSF_CERT[@]}"
code_for grace grace-web
check "redirect_uri mismatch at the token endpoint: invalid_grant" \
	status_is 400 '"invalid_grant".*redirect_uri does not match' \
	token_req "$CODE" "$VERIFIER" https://127.0.0.1:8443/oauth/other "${WWSF_CERT[@]}"

# another client that may use codes, authenticating with Basic
echo -n "other-secret-0123456789" | "${W[@]}" waf client-add other.example.net --kind wwsf \
	--domain third-party --redirect-uri "$CB" --grants code --secret-stdin >/dev/null
code_for grace grace-web
check "a code issued to another client (Basic auth): invalid_grant" \
	status_is 400 '"invalid_grant".*issued to another client' \
	token_req "$CODE" "$VERIFIER" "$CB" -u other.example.net:other-secret-0123456789
check "a wrong Basic secret: 401 invalid_client" status_is 401 'invalid_client' \
	token_req x "$VERIFIER" "$CB" -u other.example.net:wrong
check "the registry keeps no client secret in clear" \
	bash -c "! grep -qa other-secret-0123456789 $DATA/waf.db*"
check "no client authentication at /token: 401 invalid_client" status_is 401 'invalid_client' \
	token_req x "$VERIFIER" "$CB"

# --- authorization request refusals ---
st=$(curl -sk -o "$O" -D "$H" -w '%{http_code}' "$URL/authorize?response_type=code&client_id=$WWSF&redirect_uri=https://evil.example/cb&code_challenge=$CHALLENGE&code_challenge_method=S256")
check "an unregistered redirect_uri: 400 page, no redirect" \
	bash -c "test $st = 400 && ! grep -qi '^location:' $H"
curl -sk -D "$H" -o /dev/null "$URL/authorize?response_type=code&client_id=$WWSF&redirect_uri=$CB&state=s"
check "no code_challenge: back with invalid_request (PKCE required)" \
	grep -q "^[Ll]ocation: $CB?error=invalid_request&error_description=code_challenge" "$H"
curl -sk -D "$H" -o /dev/null "$URL/authorize?response_type=code&client_id=$WWSF&redirect_uri=$CB&code_challenge=$CHALLENGE&code_challenge_method=plain"
check "code_challenge_method=plain: invalid_request" grep -q "error=invalid_request" "$H"
curl -sk -D "$H" -o /dev/null "$URL/authorize?response_type=token&client_id=$WWSF&redirect_uri=$CB&state=s"
check "response_type=token while the implicit grant is off: unsupported_response_type" \
	grep -q "error=unsupported_response_type" "$H"
curl -sk -o "$O" "$URL/authorize?response_type=code&client_id=%3Cscript%3E&redirect_uri=$CB"
check "an unknown client_id is not echoed" bash -c "grep -q 'Unknown client' $O && ! grep -q '<script>' $O"
curl -sk -o "$O" "$(authorize_url | sed 's/state=st4te/state=st4te%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E/')"
check "state is HTML-escaped in the page" \
	bash -c "grep -q 'st4te&quot;&gt;&lt;script&gt;' $O && ! grep -q '<script>' $O"
curl -sk -o "$O" "$URL/authorize?response_type=code&response_type=token&client_id=$WWSF"
check "a parameter sent twice is refused (RFC 6749 3.1)" grep -q "more than once" "$O"

# --- client credentials (W4) ---
check "a pool IMPI for its owner over mTLS: 200 with its IMPU (scenario 3)" \
	status_is 200 '"impus":\["sip:pool1@ims.example.org"\]' \
	cc "${SHOP_CERT[@]}" -d impi=pool1@ims.example.org
json "$O" 'j["access_token"]' >"$TEST_TMP/tokpool"
check "the pool token names the WWSF and the pool IMPI" bash -c \
	"'$JWTCHECK' $TEST_TMP/jwks1.json $TEST_TMP/tokpool $URL $AUD $SCOPE | grep -q 'impi=pool1@ims.example.org impus=sip:pool1@ims.example.org wwsf=$SHOP'"
check "an IMPI outside the client's pool: invalid_grant (REQ 3.2)" \
	status_is 400 '"invalid_grant".*REQ 3.2' cc "${SHOP_CERT[@]}" -d impi=grace@ims.example.org
check "client credentials with Basic: 401 invalid_client (mTLS only)" \
	status_is 401 '"invalid_client".*mutual TLS' \
	cc -u other.example.net:other-secret-0123456789 -d impi=pool1@ims.example.org
check "client credentials without a certificate: 401 invalid_client" \
	status_is 401 'invalid_client' cc -d impi=pool1@ims.example.org
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
	-subj "/CN=$SHOP" -keyout "$TEST_TMP/rogue.key" -out "$TEST_TMP/rogue.pem" 2>/dev/null
check "a certificate nobody registered (same CN): 401 invalid_client" \
	status_is 401 '"invalid_client".*unknown client certificate' \
	cc --cert "$TEST_TMP/rogue.pem" --key "$TEST_TMP/rogue.key" -d impi=pool1@ims.example.org
check "client_id naming another client than the certificate's: 401" \
	status_is 401 'invalid_client' cc "${WWSF_CERT[@]}" -d client_id=$SHOP -d impi=pool1@ims.example.org
check "subject without a confirmed link: invalid_grant (REQ 2.5)" \
	status_is 400 'no confirmed link' cc "${WWSF_CERT[@]}" -d subject=erin
"${W[@]}" waf link carol sip:carol@ims.example.org --idp "$WWSF" --confirmed >/dev/null
check "subject linked, but the subscriber never allowed the WWSF: refused (REQ 2.1)" \
	status_is 400 'REQ 2.1' cc "${WWSF_CERT[@]}" -d subject=carol
check "a link made through one WWSF gives another WWSF nothing" \
	status_is 400 'no confirmed link' cc "${SHOP_CERT[@]}" -d subject=carol
"${W[@]}" waf link erin sip:erin@ims.example.org --idp "$WWSF" --grant "$WWSF" --confirmed >/dev/null
check "subject with a confirmed link that granted the WWSF: 200 with the linked IMPU" \
	status_is 200 '"impu":"sip:erin@ims.example.org"' cc "${WWSF_CERT[@]}" -d subject=erin
check "subject and impi together: invalid_request" \
	status_is 400 'invalid_request' cc "${SHOP_CERT[@]}" -d subject=erin -d impi=pool1@ims.example.org
check "an unknown grant_type: unsupported_grant_type" \
	status_is 400 'unsupported_grant_type' post /token "${SHOP_CERT[@]}" -d grant_type=password

# --- REQ 2.2: blocks ---
"${W[@]}" waf client-block "$SHOP" >/dev/null
check "client blocked at the WAF: no token, and error_description says so (REQ 2.2)" \
	status_is 400 'blocked at the WAF' cc "${SHOP_CERT[@]}" -d impi=pool1@ims.example.org
check "... while the other WWSF still gets tokens" status_is 200 '' cc "${WWSF_CERT[@]}" -d subject=erin
st=$(curl -sk -o "$O" -D "$H" -w '%{http_code}' "$URL/authorize?response_type=code&client_id=$SHOP&redirect_uri=$CB")
check "a blocked client's authorization request: a 403 page, no redirect" \
	bash -c "test $st = 403 && grep -q blocked $O && ! grep -qi '^location:' $H"
check "wims waf clients shows the block" bash -c \
	"'$WIMS_BIN' ${SETS[*]} waf clients | grep '^$SHOP ' | grep -q BLOCKED"
"${W[@]}" waf client-unblock "$SHOP" >/dev/null
check "wims waf clients: the three demo clients with their kinds and mTLS" bash -c "
	'$WIMS_BIN' ${SETS[*]} waf clients > $TEST_TMP/clients &&
	grep -q '^$WWSF kind=wwsf domain=operator grants=authorization_code,client_credentials auth=mtls cert_sha256=[0-9a-f]\{64\} redirect_uris=$CB\$' $TEST_TMP/clients &&
	grep -q '^$SHOP kind=wwsf domain=third-party grants=client_credentials auth=mtls cert' $TEST_TMP/clients &&
	grep -q '^pcscf.ims.example.org kind=resource-server domain=operator' $TEST_TMP/clients &&
	! grep -q BLOCKED $TEST_TMP/clients"
"${W[@]}" hss wwsf-block "$SHOP" --reason "test breach" >/dev/null
check "WWSF on the HSS block list: no token (REQ 2.2)" \
	status_is 400 'block list' cc "${SHOP_CERT[@]}" -d impi=pool1@ims.example.org
check "... while the other WWSF still gets tokens" status_is 200 '' cc "${WWSF_CERT[@]}" -d subject=erin
"${W[@]}" hss wwsf-unblock "$SHOP" >/dev/null
check "unblocked: tokens again" status_is 200 '' cc "${SHOP_CERT[@]}" -d impi=pool1@ims.example.org

# --- introspection (W5) ---
check "introspection by the pcscf (resource server, mTLS): active, with the claims" \
	status_is 200 '"active":true.*"impi":"grace@ims.example.org"' \
	intro "${PCSCF_CERT[@]}" --data-urlencode "token=$(cat $TEST_TMP/tok1)"
check "... wwsf and impus included" grep -q "\"wwsf\":\"$WWSF\",.*\"impus\":\[\"sip:grace@ims.example.org\"\]" "$O"
check "introspection by a WWSF (not a resource server): 401" status_is 401 'invalid_client' \
	intro "${WWSF_CERT[@]}" --data-urlencode "token=$(cat $TEST_TMP/tok1)"
check "introspection without client authentication: 401" status_is 401 'invalid_client' \
	intro --data-urlencode "token=$(cat $TEST_TMP/tok1)"
check "an unknown token: active false" status_is 200 '^\{"active":false\}$' \
	intro "${PCSCF_CERT[@]}" -d token=abc.def.ghi
"${W[@]}" waf client-block "$WWSF" >/dev/null
check "a token of a client blocked since its issue: active false (REQ 2.2)" \
	status_is 200 '^\{"active":false\}$' intro "${PCSCF_CERT[@]}" --data-urlencode "token=$(cat $TEST_TMP/tok1)"
"${W[@]}" waf client-unblock "$WWSF" >/dev/null

# --- key rotation ---
OLDKID=$(kid_of "$TEST_TMP/tok1")
check "wims waf rotate-key" "${W[@]}" --set waf.key_publish_lead_s=3 waf rotate-key
curl -sk "$URL/jwks.json" >"$TEST_TMP/jwks2.json"
check "the new key is published at once (2 keys)" \
	test "$(json "$TEST_TMP/jwks2.json" 'len(j["keys"])')" = 2
cc "${SHOP_CERT[@]}" -d impi=pool2@ims.example.org >/dev/null
json "$O" 'j["access_token"]' >"$TEST_TMP/tok2"
check "... the old key still signs during the publish lead" test "$(kid_of "$TEST_TMP/tok2")" = "$OLDKID"
sleep 3.5
cc "${SHOP_CERT[@]}" -d impi=pool2@ims.example.org >/dev/null
json "$O" 'j["access_token"]' >"$TEST_TMP/tok3"
check "after the lead the new key signs" test "$(kid_of "$TEST_TMP/tok3")" != "$OLDKID"
curl -sk "$URL/jwks.json" >"$TEST_TMP/jwks3.json"
check "old and new tokens both verify against the JWKS" bash -c "
	'$JWTCHECK' $TEST_TMP/jwks3.json $TEST_TMP/tok1 $URL $AUD $SCOPE &&
	'$JWTCHECK' $TEST_TMP/jwks3.json $TEST_TMP/tok3 $URL $AUD $SCOPE"
check "the new token does not verify with the JWKS from before the rotation" \
	bash -c "! '$JWTCHECK' $TEST_TMP/jwks1.json $TEST_TMP/tok3 $URL $AUD $SCOPE"
check "wims waf keys: one key signs" \
	bash -c "'$WIMS_BIN' ${SETS[*]} waf keys | grep -c SIGNING | grep -qx 1"
check "nothing secret in the log (tokens, passwords, secrets)" bash -c "
	! grep -qF \"\$(cat $TEST_TMP/tok1)\" $TEST_TMP/wims-waf.log &&
	! grep -q 'grace-web\|other-secret' $TEST_TMP/wims-waf.log"

echo -n "dan-web-password" | "${W[@]}" waf user-add dan >/dev/null
check "wims waf user-add / users: the account is listed, its password not stored" bash -c "
	'$WIMS_BIN' ${SETS[*]} waf users | grep -qx dan && ! grep -qa dan-web-password $DATA/waf.db*"
check "wims waf client-add refuses a client without a credential" bash -c "
	! '$WIMS_BIN' ${SETS[*]} waf client-add x.example --kind wwsf --grants client_credentials 2>$TEST_TMP/err &&
	grep -q 'a credential is required' $TEST_TMP/err"

# --- restarted: opaque tokens, implicit grant, sign-in limits ---
kill "$WIMS_PID"
wait "$WIMS_PID" 2>/dev/null
mv "$TEST_TMP/wims-waf.log" "$TEST_TMP/wims-waf-1.log"
wims_start waf --set waf.token_format=opaque --set waf.implicit_grant=yes \
	--set waf.token_lifetime=60 --set waf.signin_failures_per_user=3 \
	--set waf.signin_failures_per_ip=5
check "waf restarted (opaque tokens, implicit grant)" wait_tcp 9443
cc "${SHOP_CERT[@]}" -d impi=pool3@ims.example.org >/dev/null
json "$O" 'j["access_token"]' >"$TEST_TMP/opaque"
check "an opaque token: 43 base64url characters, not a JWT" grep -qx '[A-Za-z0-9_-]\{43\}' "$TEST_TMP/opaque"
check "introspection of the opaque token: active, pool3" \
	status_is 200 '"active":true.*sip:pool3@ims.example.org' \
	intro "${PCSCF_CERT[@]}" --data-urlencode "token=$(cat $TEST_TMP/opaque)"
check "opaque tokens are stored hashed" bash -c "! grep -qaF \"\$(cat $TEST_TMP/opaque)\" $DATA/waf.db*"
"${W[@]}" hss wwsf-block "$SHOP" >/dev/null
check "a token of a WWSF on the HSS block list: active false" status_is 200 '^\{"active":false\}$' \
	intro "${PCSCF_CERT[@]}" --data-urlencode "token=$(cat $TEST_TMP/opaque)"
"${W[@]}" hss wwsf-unblock "$SHOP" >/dev/null
python3 - "$DATA/waf.db" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=5)
c.execute("UPDATE token SET exp = 1000, claims = json_set(claims, '$.exp', 1000)")
c.commit()
EOF
check "an expired opaque token: active false" status_is 200 '^\{"active":false\}$' \
	intro "${PCSCF_CERT[@]}" --data-urlencode "token=$(cat $TEST_TMP/opaque)"

echo -n "implicit-secret-0123456789" | "${W[@]}" waf client-add implicit.example.net --kind wwsf \
	--domain third-party --redirect-uri "$CB" --grants code,implicit --secret-stdin >/dev/null
rm -f "$JAR"
curl -sk -c "$JAR" -b "$JAR" -o "$TEST_TMP/p1.html" \
	"$URL/authorize?response_type=token&client_id=implicit.example.net&redirect_uri=$CB&state=imp"
mapfile -t F < <(form_fields "$TEST_TMP/p1.html")
curl -sk -c "$JAR" -b "$JAR" -o "$TEST_TMP/p2.html" "${F[@]}" -d username=grace \
	-d password=grace-web "$URL/authorize"
mapfile -t F < <(form_fields "$TEST_TMP/p2.html")
curl -sk -c "$JAR" -b "$JAR" -D "$H" -o /dev/null "${F[@]}" -d consent=allow "$URL/authorize"
check "the implicit grant when configured: the token in the fragment" grep -q \
	"^[Ll]ocation: $CB#access_token=[A-Za-z0-9_-]\{43\}&token_type=Bearer&expires_in=60&scope=$SCOPE&state=imp" "$H"
curl -sk -o "$O" "$URL/.well-known/oauth-authorization-server"
check "the metadata lists response type token when configured" \
	grep -q '"response_types_supported":\["code","token"\]' "$O"

# sign-in limits: 3 failures per account, 5 per address, per window
signin() { # USER PASSWORD: prints the status
	rm -f "$JAR"
	curl -sk -c "$JAR" -b "$JAR" -o "$TEST_TMP/s1.html" "$URL/signin"
	local csrf
	csrf=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$TEST_TMP/s1.html")
	curl -sk -c "$JAR" -b "$JAR" -o "$O" -w '%{http_code}' -d "csrf=$csrf" \
		--data-urlencode "username=$1" --data-urlencode "password=$2" "$URL/signin"
}
check "the WAF's own sign-in: bob signs in" status_is 200 'Signed in as' signin bob bob-web
check "dan (added by the CLI) signs in" status_is 200 'Signed in as' signin dan dan-web-password
signin_next() { # NEXT: sign bob in from /signin?next=NEXT; prints the status, headers in $H
	rm -f "$JAR"
	curl -sk -c "$JAR" -b "$JAR" -o "$TEST_TMP/s1.html" "$URL/signin?next=$1"
	local csrf
	csrf=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$TEST_TMP/s1.html")
	mapfile -t F < <(form_fields "$TEST_TMP/s1.html")
	curl -sk -c "$JAR" -b "$JAR" -D "$H" -o "$O" -w '%{http_code}' "${F[@]}" \
		-d username=bob -d password=bob-web "$URL/signin"
}
check "sign-in from /link's redirect: 303 back to /link" status_is 303 '' signin_next %2Flink
check "... Location: /link" grep -qi '^location: /link' "$H"
check "next=//evil.example is not followed (the account page instead)" \
	status_is 200 'Signed in as' signin_next %2F%2Fevil.example
check "... no Location" bash -c "! grep -qi '^location:' $H"
for _ in 1 2 3; do signin bob wrong >/dev/null; done
check "after 3 failures bob is refused, even with his password (429)" \
	status_is 429 'Too many failed sign-ins' signin bob bob-web
check "... but grace is not (the limit is per account)" status_is 200 '' signin grace grace-web
for _ in 1 2; do signin grace wrong >/dev/null; done
check "after 5 failures from one address every account is refused there (per-IP limit)" \
	status_is 429 'Too many failed sign-ins' signin grace grace-web

finish
