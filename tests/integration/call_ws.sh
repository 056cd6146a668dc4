#!/usr/bin/env bash
# call_ws.sh - calls and messages between WICs through the real pcscf and
# cscf (`wims demo`, calls.md), with python WSS clients
# (tests/integration/lib/pcscf_wsclient.py) as alice and bob, and a SIPp
# phone attached directly to the cscf (127.0.0.2:5090, Digest MD5) calling
# and called by a WIC.
#
# WIC to WIC (client ws-calls): INVITE/180/200/ACK with the Record-Route
#   set pcscf/cscf/pcscf and bob seeing alice's asserted identity although
#   her From's display name lies and she sent a forged P-Asserted-Identity;
#   re-INVITE, UPDATE and BYE in the dialog; MESSAGE with the asserted
#   identity; 486 from the callee; 480 for a user registered nowhere;
#   CANCEL before the answer (487, the CANCEL reaching bob with the
#   INVITE's branch); spoofed From 403; bob on two flows with one closed:
#   the call reaches the open one and the dead flow's binding is gone (430
#   handled in cscf); every flow closed: 480.
# WIC and SIPp phone: alice (WSS) calls carol (SIPp UAS, sipp/call_phone_uas.xml
#   checks the Record-Route set cscf/pcscf, Max-Forwards and alice
#   asserted); carol (SIPp UAC, sipp/call_phone_uac.xml, checking the
#   Record-Route set pcscf/cscf of the 200) calls alice, who checks carol
#   is asserted.
. "$(dirname "$0")/../lib/harness.sh"

LIB=$HARNESS_ROOT/tests/integration/lib
SIPP=$HARNESS_ROOT/tests/integration/sipp
# SIPp 3.6.1 answers MD5 challenges only: the core offers MD5.
client() { python3 "$LIB/pcscf_wsclient.py" --alg MD5 "$@"; }

# wait_file FILE: until it exists and is not empty (10 s).
wait_file() {
	for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done
	return 1
}

# register_phone USER: a SIPp phone registers from 127.0.0.2:5090 (UDP).
register_phone() {
	timeout 20 sipp 127.0.0.1:5060 -sf "$SIPP/cscf_phone_register.xml" -t u1 -i 127.0.0.2 \
		-p 5090 -m 1 -s "$1" -au "$1@ims.example.org" -ap "$1-secret" \
		-auth_uri ims.example.org -nostdin -timeout 10s -timeout_error \
		>"$TEST_TMP/sipp-reg.out" 2>&1 || { tail -n 5 "$TEST_TMP/sipp-reg.out"; return 1; }
}

wims_start demo --set cscf.digest_algorithms=MD5

client ws-calls >"$TEST_TMP/ws-calls.log" 2>&1
while read -r line; do
	case $line in
	"ok - "*) check "${line#ok - }" true ;;
	"FAIL - "*) check "${line#FAIL - }" false ;;
	esac
done <"$TEST_TMP/ws-calls.log"
grep -q "^ok - \|^FAIL - " "$TEST_TMP/ws-calls.log" ||
	check "ws-calls client ran" bash -c "cat '$TEST_TMP/ws-calls.log'; false"

# ---- a SIPp phone on the cscf --------------------------------------------
check "SIPp phone carol registers on cscf from 127.0.0.2:5090 (MD5)" register_phone carol
spawn sipp-uas timeout 60 sipp -sf "$SIPP/call_phone_uas.xml" -t u1 -i 127.0.0.2 -p 5090 -m 1 \
	-s carol -nostdin -trace_err -error_file "$TEST_TMP/uas-err.txt"
UAS=$SPAWNED_PID
sleep 0.5
check "WIC alice calls the SIPp phone carol: 200, ACK, BYE" \
	client call-one --to sip:carol@ims.example.org
check "carol saw the cscf's Record-Route and alice asserted" wait "$UAS"

rm -f "$TEST_TMP/ready"
client answer-one --ready-file "$TEST_TMP/ready" --expect-pai sip:carol@ims.example.org \
	>"$TEST_TMP/answer-one.log" 2>&1 &
ANSWER=$!
HARNESS_PIDS+=("$ANSWER")
if wait_file "$TEST_TMP/ready"; then
	check "SIPp phone carol calls WIC alice: INVITE/180/200/ACK/BYE" \
		timeout 60 sipp 127.0.0.1:5060 -sf "$SIPP/call_phone_uac.xml" -t u1 -i 127.0.0.2 -p 5090 \
		-s alice -key caller carol -m 1 -d 200 -nostdin -timeout 30s -timeout_error \
		-trace_err -error_file "$TEST_TMP/uac-err.txt"
	check "alice answered and saw carol asserted" \
		bash -c "wait $ANSWER 2>/dev/null; tail -n 3 '$TEST_TMP/answer-one.log' | grep -q '^ok'"
else
	check "alice registered to answer" bash -c "cat '$TEST_TMP/answer-one.log'; false"
fi

kill "$WIMS_PID"
wait "$WIMS_PID" 2>/dev/null
check "demo exited without sanitizer reports" \
	bash -c "! grep -E 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error' '$TEST_TMP/wims-demo.log'"

finish
