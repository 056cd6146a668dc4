#!/bin/bash
# waf_link.sh - identity linking (TR 33.871 REQ 2.5, Annex C mechanism M2)
# with real processes: `wims demo` (cscf, hss store, waf on 9443, ...) and
# bob's phone registered with Digest straight at the S-CSCF
# (lib/waf_link_client.py ua), which receives the WAF's SIP MESSAGE with
# the one-time code.
#
#   - a link to an IMPU nobody registered: 409 "... is not registered"
#   - the /link form without its CSRF token, or from another Origin, and
#     the confirmation form from another Origin: 403
#   - bob (WAF account bob/bob-web) asks to link sip:bob@: 202, and the
#     phone gets a text/plain MESSAGE from sip:waf@ (P-Asserted-Identity
#     the same) with an 8-digit code; the code is in neither the HTTP
#     answer nor the WAF's log; the link is not confirmed yet
#   - a wrong code: 400 "code not valid"; the right one: 200 naming bob,
#     the IMPU and the grant; the same code again: 400
#   - an expired code (its expiry moved into the past in the store): 400
#   - a WWSF over mTLS (subject=erin): the unconfirmed link gives no token
#     (client_credentials subject=erin refused); confirmed, it gives one
#     whose impus hold the IMPU
#   - the same through the P-CSCF: alice's WIC (lib/pcscf_wsclient.py
#     over WSS) takes the MESSAGE, the WWSF's request gets 202
#   - guessing: the 6th wrong code from one address within 10 min gets 429
#
# Uses the demo ports (5060, 7443, 8443, 8445, 9443): run under
# flock /tmp/wims-ports.lock.
. "$(dirname "$0")/../lib/harness.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
CL=(python3 "$HERE/lib/waf_link_client.py")
DATA=$TEST_TMP/data
MSGS=$TEST_TMP/messages.jsonl

wims_start demo
wait_tcp 9443 || { echo "not ok - the waf listens on 9443"; finish; exit 1; }
HSS_DB=$DATA/hss.db

# bob's phone
spawn ua "${CL[@]}" ua --user bob --password bob-secret --out "$MSGS" \
	--ready "$TEST_TMP/ua.ready" --hold 120
for _ in $(seq 100); do [ -f "$TEST_TMP/ua.ready" ] && break; sleep 0.1; done
check "bob's phone registers at the S-CSCF with Digest" test -f "$TEST_TMP/ua.ready"

# nth_code N: the code in the Nth MESSAGE the phone got (waits up to 5 s).
nth_code() {
	local n=$1
	for _ in $(seq 50); do
		[ "$(wc -l <"$MSGS" 2>/dev/null || echo 0)" -ge "$n" ] && break
		sleep 0.1
	done
	sed -n "${n}p" "$MSGS" 2>/dev/null | python3 -c '
import json, re, sys
m = json.loads(sys.stdin.read())
c = re.search(r" is (\d{8})\. Enter it at https://127\.0\.0\.1:9443/link/confirm within 10 minutes", m["body"])
print(c.group(1) if c else "")'
}

# link_state WEBID IDP IMPU: "pending", "confirmed" or "none" in the HSS store.
link_state() {
	python3 - "$HSS_DB" "$@" <<'EOF'
import sqlite3, sys
db, web_id, idp, impu = sys.argv[1:5]
c = sqlite3.connect(db, timeout=5)
r = c.execute("SELECT confirmed FROM web_identity WHERE web_id=? AND idp=? AND impu=?",
              (web_id, idp, impu)).fetchone()
print("none" if r is None else ("confirmed" if r[0] else "pending"))
EOF
}

check "link to an unregistered IMPU: 409" \
	"${CL[@]}" link --user bob --password bob-web --impu sip:carol@ims.example.org \
	--expect 409 --text "sip:carol@ims.example.org is not registered: register a device first"
check "the /link form without its CSRF token: 403" \
	"${CL[@]}" link --user bob --password bob-web --impu sip:bob@ims.example.org \
	--no-csrf --expect 403
check "the confirmation form posted from another site: 403" \
	"${CL[@]}" confirm --code 12345678 --origin https://evil.example --expect 403
check "the /link form posted from another Origin: 403" \
	"${CL[@]}" link --user bob --password bob-web --impu sip:bob@ims.example.org \
	--origin https://evil.example --expect 403
check "no MESSAGE went out for the refused requests" test ! -s "$MSGS"

check "bob asks to link sip:bob@ (a browser's form POST): 202 pending" \
	"${CL[@]}" link --user bob --password bob-web --impu sip:bob@ims.example.org --expect 202 \
	--browser
CODE1=$(nth_code 1)
check "the phone got the code by SIP MESSAGE" test -n "$CODE1"
check "the MESSAGE is text/plain from sip:waf@ with P-Asserted-Identity sip:waf@" python3 -c '
import json, sys
m = json.loads(open(sys.argv[1]).readline())
assert m["from"].startswith("<sip:waf@ims.example.org>;tag="), m["from"]
assert m["pai"] == "<sip:waf@ims.example.org>", m["pai"]
assert m["content_type"].startswith("text/plain"), m["content_type"]
assert m["body"].startswith("wims: your code to link bob (waf) to sip:bob@ims.example.org is "), m["body"]
' "$MSGS"
check "the WAF logged the request (so the next check reads the right log)" \
	grep -q "link bob (waf) -> sip:bob@ims.example.org: code sent" "$TEST_TMP/wims-demo.log"
check "the code is not in the WAF's log" bash -c "! grep -q '$CODE1' '$TEST_TMP/wims-demo.log'"
check "before confirmation the link is only pending" \
	test "$(link_state bob waf sip:bob@ims.example.org)" = pending

WRONG=$(printf '%08d' $(((10#$CODE1 + 1) % 100000000)))
check "a wrong code: 400 code not valid" \
	"${CL[@]}" confirm --code "$WRONG" --expect 400 --text "code not valid"
check "still pending after the wrong code" \
	test "$(link_state bob waf sip:bob@ims.example.org)" = pending
check "the right code confirms: 200 names bob, the IMPU, no grant" \
	"${CL[@]}" confirm --code "$CODE1" --expect 200 --browser \
	--text "the web identity bob (operator account) is now linked to the IMS identity sip:bob@ims.example.org"
check "the link is confirmed in the HSS store" \
	test "$(link_state bob waf sip:bob@ims.example.org)" = confirmed
check "the same code again: 400" \
	"${CL[@]}" confirm --code "$CODE1" --expect 400 --text "code not valid"
check "linking it again: 409 already linked" \
	"${CL[@]}" link --user bob --password bob-web --impu sip:bob@ims.example.org --expect 409

check "bob asks to link his tel: IMPU: 202" \
	"${CL[@]}" link --user bob --password bob-web --impu tel:+15550000002 --expect 202
CODE2=$(nth_code 2)
check "a second code arrived" test -n "$CODE2"
python3 - "$HSS_DB" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=5)
c.execute("UPDATE web_identity SET code_expires = 1 WHERE web_id='bob' AND impu='tel:+15550000002'")
c.commit()
EOF
check "an expired code: 400" \
	"${CL[@]}" confirm --code "$CODE2" --expect 400 --text "code not valid"
check "the expired link stays unconfirmed" \
	test "$(link_state bob waf tel:+15550000002)" != confirmed

WWSF_CERT=$DATA/wwsf-client/cert.pem
WWSF_KEY=$DATA/wwsf-client/key.pem
check "the operator WWSF asks to link erin to sip:bob@ over mTLS: 202" \
	"${CL[@]}" wwsf-link --cert "$WWSF_CERT" --key "$WWSF_KEY" --subject erin \
	--impu sip:bob@ims.example.org --expect 202
CODE3=$(nth_code 3)
check "the code for erin's link arrived" test -n "$CODE3"
check "REQ 2.5: the unconfirmed link gives no token (client_credentials subject=erin)" \
	"${CL[@]}" token --cert "$WWSF_CERT" --key "$WWSF_KEY" --subject erin --expect 400
check "erin's link confirmed: 200 names the WWSF granted" \
	"${CL[@]}" confirm --code "$CODE3" --expect 200 \
	--text "wwsf.ims.example.org may now register you"
check "the confirmed link gives a token for sip:bob@" \
	"${CL[@]}" token --cert "$WWSF_CERT" --key "$WWSF_KEY" --subject erin --expect 200 \
	--impu sip:bob@ims.example.org

# The code also reaches a WIC through the P-CSCF: alice registered over
# WSS (its flow answers 200 to what the core sends it).
spawn wic python3 -u "$HERE/lib/pcscf_wsclient.py" --user alice --password alice-secret \
	register --hold 15
WIC_LOG=$TEST_TMP/wic.log
for _ in $(seq 100); do grep -q "REGISTER+Digest .* -> 200" "$WIC_LOG" 2>/dev/null && break; sleep 0.1; done
check "alice's WIC registers over WSS through the P-CSCF" grep -q "REGISTER+Digest .* -> 200" "$WIC_LOG"
check "the operator WWSF links erin to sip:alice@: 202 once the WIC took the MESSAGE" \
	"${CL[@]}" wwsf-link --cert "$WWSF_CERT" --key "$WWSF_KEY" --subject erin \
	--impu sip:alice@ims.example.org --expect 202
check "the MESSAGE reached alice's WebSocket flow" grep -q "^got MESSAGE " "$WIC_LOG"

# Wrong codes so far from 127.0.0.1: 3 (wrong, reused, expired).
check "the 4th and 5th wrong codes: 400" bash -c "
	'${CL[0]}' '${CL[1]}' confirm --code 00000000 --expect 400 &&
	'${CL[0]}' '${CL[1]}' confirm --code 00000001 --expect 400"
check "the 6th attempt within 10 minutes: 429" \
	"${CL[@]}" confirm --code 00000002 --expect 429
check "the WAF log shows no code at all" bash -c \
	"! grep -qE '$CODE1|$CODE2|$CODE3' '$TEST_TMP/wims-demo.log'"

finish
