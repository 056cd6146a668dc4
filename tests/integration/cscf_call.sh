#!/bin/bash
# cscf_call.sh - `wims cscf` as the proxy between registered users (wire
# contract /work/brief/calls.md, RFC 3261 16), with SIPp phones attached
# directly (127.0.0.2 calls 127.0.0.3) and python stand-ins for a P-CSCF
# holding WIC flows (lib/cscf_sipclient.py fake-pcscf: Path and
# Record-Route <sip:TOKEN@127.0.0.1:507x;transport=tcp;lr>):
#
#   - SIPp UAC -> SIPp UAS over UDP and TCP: INVITE/100/180/200/ACK/BYE,
#     our Record-Route, Max-Forwards decremented, P-Asserted-Identity
#   - 100 concurrent calls (SIPp -l 100, each held 2.5 s)
#   - to a WIC through its P-CSCF (Path as Route set): INVITE, ACK and BYE
#     along Record-Route; MESSAGE; OPTIONS to a user and to us
#   - CANCEL before the answer (487), CANCEL racing a 200, forking to two
#     bindings (one answers, the other is CANCELled), Timer C, a silent
#     UDP phone (retransmissions, then 408)
#   - 480 not registered, 404 unknown, 483, 482 (a loop through a Path
#     naming us), spoofed From 403, PAI from a phone replaced, 430 from the
#     P-CSCF (binding removed, 480 with a Warning; other branch answers),
#     malformed requests 400
#   - every stop is a clean exit (ASan), no transaction left over TCP
#
# Uses 127.0.0.1:5060 (cscf), 127.0.0.1:5070-5071 (fake P-CSCFs) and
# 127.0.0.2-3:5090 (phones).
. "$(dirname "$0")/../lib/harness.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
SIPC=(python3 "$HERE/lib/cscf_sipclient.py")
SIPP_DIR=$HERE/sipp
DATA=$TEST_TMP/data

provision() {
	local name i=1
	for name in alice bob carol dave erin frank grace heidi; do
		"$WIMS_BIN" --set "global.data_dir=$DATA" hss add "$name@ims.example.org" \
			--impu "sip:$name@ims.example.org" --impu "tel:+1555000000$i" \
			--password "$name-secret" >/dev/null || return 1
		i=$((i + 1))
	done
}

stop_cscf() {
	kill "$WIMS_PID" 2>/dev/null
	wait "$WIMS_PID"
	local rc=$?
	if grep -qE "AddressSanitizer|runtime error|LeakSanitizer" "$TEST_TMP/wims-cscf.log"; then
		grep -E -A5 "AddressSanitizer|runtime error|LeakSanitizer" "$TEST_TMP/wims-cscf.log" | head -20
		rc=1
	fi
	# a transaction still waiting for an answer or an ACK once every test
	# call has ended is stuck (answered ones on UDP may linger: Timer J/L)
	grep "transactions pending at stop" "$TEST_TMP/wims-cscf.log"
	if grep "transactions pending at stop" "$TEST_TMP/wims-cscf.log" | grep -vq ": 0 transactions"; then
		echo "# transactions left pending at stop"
		rc=1
	fi
	cp "$TEST_TMP/wims-cscf.log" "$TEST_TMP/wims-cscf.$(date +%s%N).log"
	return $rc
}

# register_phone IP USER TRANSPORT: a SIPp phone registers from
# IP:$PHONE_PORT (5090 for UDP, 5091 for TCP: the two runs' bindings stay
# apart).
PHONE_PORT=5090
CALLEE=bob
register_phone() {
	timeout 20 sipp 127.0.0.1:5060 -sf "$SIPP_DIR/cscf_phone_register.xml" -t "$3" -i "$1" \
		-p "$PHONE_PORT" -m 1 -s "$2" -au "$2@ims.example.org" -ap "$2-secret" \
		-auth_uri ims.example.org -nostdin -timeout 10s -timeout_error \
		>"$TEST_TMP/sipp-reg.out" 2>&1 || { tail -n 5 "$TEST_TMP/sipp-reg.out"; return 1; }
}

# sipp_uas NAME SCENARIO TRANSPORT CALLS [ARGS]: the callee phone at 127.0.0.3:5090
sipp_uas() {
	local name=$1 sf=$2 t=$3 m=$4
	shift 4
	spawn "$name" timeout 60 sipp -sf "$SIPP_DIR/$sf" -t "$t" -i 127.0.0.3 -p "$PHONE_PORT" -m "$m" \
		-s "$CALLEE" -nostdin -trace_err -error_file "$TEST_TMP/$name-err.txt" "$@"
	UAS_PID=$SPAWNED_PID
	sleep 0.5
}

# sipp_uac SCENARIO TRANSPORT ARGS: the caller phone at 127.0.0.2:5090
sipp_uac() {
	local sf=$1 t=$2
	shift 2
	timeout 60 sipp 127.0.0.1:5060 -sf "$SIPP_DIR/$sf" -t "$t" -i 127.0.0.2 -p "$PHONE_PORT" -s "$CALLEE" \
		-key caller alice -nostdin -timeout 30s -timeout_error -trace_err \
		-error_file "$TEST_TMP/uac-err.txt" "$@" >"$TEST_TMP/sipp-uac.out" 2>&1 ||
		{ cat "$TEST_TMP/uac-err.txt" 2>/dev/null | tail -n 20; tail -n 15 "$TEST_TMP/sipp-uac.out"; return 1; }
}

# uas_ok NAME: the SIPp callee ended successfully.
uas_ok() {
	wait "$UAS_PID" || { tail -n 20 "$TEST_TMP/$1-err.txt" 2>/dev/null; tail -n 15 "$TEST_TMP/$1.log"; return 1; }
}

# reg_both TRANSPORT: bob at 127.0.0.3:5090, alice at 127.0.0.2:5090.
reg_both() {
	register_phone 127.0.0.3 "$CALLEE" "$1" && register_phone 127.0.0.2 alice "$1"
}

# fake_pcscf NAME PORT USER ARGS...: a P-CSCF stand-in registering USER
# through Path to 127.0.0.1:PORT, answering as told; waits for the
# registration.
fake_pcscf() {
	local name=$1 port=$2 user=$3
	shift 3
	spawn "$name" "${SIPC[@]}" fake-pcscf "$user" --listen-port "$port" "$@"
	FAKE_PID=$SPAWNED_PID
	for _ in $(seq 50); do
		grep -q "^registered" "$TEST_TMP/$name.log" 2>/dev/null && return 0
		kill -0 "$FAKE_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$TEST_TMP/$name.log"
	return 1
}

# fake_ok NAME: the stand-in saw what it expected.
fake_ok() {
	wait "$FAKE_PID" || { tail -n 40 "$TEST_TMP/$1.log"; return 1; }
	tail -n 3 "$TEST_TMP/$1.log"
}

check "provision alice, bob, carol, dave, erin, frank, grace, heidi in the HSS store" provision

# --- SIPp phones attached directly, MD5 ---
wims_start cscf --set cscf.digest_algorithms=MD5
for t in u1 t1; do
	# apart: the UDP run's bob, the TCP run's heidi at 5091
	PHONE_PORT=5090 CALLEE=bob
	[ "$t" = t1 ] && PHONE_PORT=5091 CALLEE=heidi
	check "sipp $t: $CALLEE registers from 127.0.0.3:$PHONE_PORT" register_phone 127.0.0.3 "$CALLEE" "$t"
	check "sipp $t: alice registers from 127.0.0.2:$PHONE_PORT" register_phone 127.0.0.2 alice "$t"
	sipp_uas "uas-$t" cscf_uas.xml "$t" 1
	check "sipp $t: alice calls $CALLEE: INVITE/100/180/200/ACK/BYE, Record-Route <sip:127.0.0.1:5060;lr>" \
		sipp_uac cscf_uac.xml "$t" -m 1 -d 200
	check "sipp $t: $CALLEE saw Record-Route, Max-Forwards 69 and P-Asserted-Identity" uas_ok "uas-$t"
	sipp_uas "uas-msg-$t" cscf_uas_message.xml "$t" 1
	check "sipp $t: MESSAGE from alice delivered to $CALLEE (200)" sipp_uac cscf_uac_message.xml "$t" -m 1
	check "sipp $t: $CALLEE got the MESSAGE with alice asserted" uas_ok "uas-msg-$t"
done

PHONE_PORT=5090 CALLEE=bob
# 100 concurrent calls, each held 2.5 s, over UDP.
calls100() {
	reg_both u1 || return 1
	sipp_uas uas-100 cscf_uas.xml u1 100
	sipp_uac cscf_uac.xml u1 -m 100 -l 100 -r 100 -d 2500
	local rc=$?
	grep -E "Successful call|Failed call" "$TEST_TMP/sipp-uac.out" | head -4
	uas_ok uas-100 || rc=1
	return $rc
}
check "sipp u1: 100 concurrent calls (held 2.5 s each) all succeed" calls100
grep -E "Successful call|Failed call" "$TEST_TMP/sipp-uac.out" | sed 's/^/# /' | head -4

# CANCEL before the answer.
check "sipp u1: registrations for the CANCEL test" reg_both u1
sipp_uas uas-cancel cscf_uas_cancel.xml u1 1
check "sipp u1: CANCEL after 180 -> 200 for the CANCEL, 487 for the INVITE" \
	sipp_uac cscf_uac_cancel.xml u1 -m 1
check "sipp u1: bob saw the CANCEL" uas_ok uas-cancel

# Spoofed identity from a phone.
check "a phone at 127.0.0.2 claiming to be carol (registered elsewhere) -> 403" \
	"${SIPC[@]}" --transport udp --bind 127.0.0.2 call carol --to sip:bob@ims.example.org \
	--expect 403 --expect-reason "not registered from this address"
check "udp: OPTIONS to the cscf itself -> 200 with Allow" "${SIPC[@]}" --transport udp options
check "cscf stops cleanly" stop_cscf

# --- WICs behind a P-CSCF (python stand-ins), default algorithms ---
wims_start cscf
for t in tcp udp; do
	c=("${SIPC[@]}" --transport "$t")
	fake_pcscf "wic-call-$t" 5070 frank --expect-methods INVITE,ACK,UPDATE,BYE \
		--expect-header '^Record-Route: <sip:127\.0\.0\.1:5060;lr>' \
		--expect-header '^Max-Forwards: 69' \
		--expect-header '^P-Asserted-Identity: <sip:alice@ims.example.org>'
	check "$t: alice (via pcscf) calls frank's WIC: INVITE by Path; ACK, re-INVITE, UPDATE, BYE by Record-Route" \
		"${c[@]}" call alice --in-dialog --to sip:frank@ims.example.org --route "<sip:orig@127.0.0.1:5060;lr>" \
		--header "P-Asserted-Identity: <sip:alice@ims.example.org>" --expect 200
	check "$t: frank's P-CSCF got INVITE (Route = Path, RR, MF 69, PAI kept), ACK, re-INVITE, UPDATE, BYE" fake_ok "wic-call-$t"
	fake_pcscf "wic-msg-$t" 5070 frank --expect-methods MESSAGE --check-method MESSAGE \
		--answer 200 --expect-header '^P-Asserted-Identity: <sip:alice@ims.example.org>'
	check "$t: MESSAGE to frank's WIC -> 200" "${c[@]}" call alice --method MESSAGE \
		--to sip:frank@ims.example.org --route "<sip:orig@127.0.0.1:5060;lr>" \
		--header "P-Asserted-Identity: <sip:alice@ims.example.org>" --expect 200
	check "$t: frank's P-CSCF got the MESSAGE" fake_ok "wic-msg-$t"
	fake_pcscf "wic-opt-$t" 5070 frank --expect-methods OPTIONS --check-method OPTIONS --answer 200
	check "$t: OPTIONS to a user (frank) reaches his WIC -> 200" "${c[@]}" call alice \
		--to sip:frank@ims.example.org --method OPTIONS --expect 200
	check "$t: frank's P-CSCF got the OPTIONS" fake_ok "wic-opt-$t"
done
fake_pcscf wic-tel 5070 frank --expect-methods MESSAGE --check-method MESSAGE --answer 200
check "a MESSAGE to sip:+1-555-000-0006@ims.example.org;user=phone reaches frank (tel:+15550000006)" \
	"${SIPC[@]}" call alice --method MESSAGE --to "tel:+15550000006" \
	--ruri "sip:+1-555-000-0006@ims.example.org;user=phone" --expect 200
check "frank's P-CSCF got the MESSAGE sent to his number" fake_ok wic-tel
check "grace is registered nowhere -> 480" "${SIPC[@]}" call alice --to sip:grace@ims.example.org \
	--expect 480
check "mallory is nobody -> 404" "${SIPC[@]}" call alice --to sip:mallory@ims.example.org --expect 404
check "Max-Forwards: 0 -> 483 Too Many Hops" "${SIPC[@]}" call alice --mf 0 --expect 483
check "a foreign Request-URI without Route -> 403 Not our domain" "${SIPC[@]}" call alice \
	--to sip:bob@example.com --expect 403 --expect-reason "Not our domain"
cat >"$TEST_TMP/cancel481.txt" <<'MSG'
CANCEL sip:bob@ims.example.org SIP/2.0
Via: SIP/2.0/{tp} {lh}:{lp};branch=z9hG4bK{rand};rport
Max-Forwards: 70
From: <sip:alice@ims.example.org>;tag={rand}
To: <sip:bob@ims.example.org>
Call-ID: {rand}
CSeq: 1 CANCEL
Content-Length: 0

MSG
cat >"$TEST_TMP/badroute.txt" <<'MSG'
INVITE sip:bob@ims.example.org SIP/2.0
Via: SIP/2.0/{tp} {lh}:{lp};branch=z9hG4bK{rand};rport
Route: <sip:127.0.0.1:5060;lr>, <sip:broken
Max-Forwards: 70
From: <sip:alice@ims.example.org>;tag={rand}
To: <sip:bob@ims.example.org>
Call-ID: {rand}
CSeq: 1 INVITE
Content-Length: 0

MSG
check "CANCEL matching nothing -> 481" "${SIPC[@]}" raw alice --raw-file "$TEST_TMP/cancel481.txt" --expect 481
check "INVITE with a malformed Route -> 400 Bad Route" "${SIPC[@]}" raw alice \
	--raw-file "$TEST_TMP/badroute.txt" --expect 400 --expect-reason "Bad Route"
check "malformed request (bad CSeq) -> 400" "${SIPC[@]}" malformed

# forking: two WICs of dave; one answers, the other is CANCELled
fake_pcscf fork-a 5070 dave --answer sleep0.5,180,sleep0.5,200 --expect-methods INVITE,ACK,BYE
A_PID=$FAKE_PID
fake_pcscf fork-b 5071 dave --answer 180 --expect-methods INVITE,CANCEL
B_PID=$FAKE_PID
check "dave has two bindings: the call forks, one WIC answers 200" "${SIPC[@]}" call alice \
	--to sip:dave@ims.example.org --expect 200
FAKE_PID=$A_PID
check "the answering WIC got INVITE, ACK, BYE" fake_ok fork-a
FAKE_PID=$B_PID
check "the other WIC got the INVITE, then a CANCEL" fake_ok fork-b

# CANCEL racing a 200: the callee answers at once after its 180
race() {
	local i
	for i in 1 2 3; do
		fake_pcscf "race-$i" 5070 carol --answer 180,200 --timeout 5 || return 1
		"${SIPC[@]}" call alice --to sip:carol@ims.example.org --cancel-on-180 \
			--expect 200,487 || return 1
		wait "$FAKE_PID"
	done
}
check "CANCEL racing a 200 (3 times): caller ends with ACK+BYE or 487" race

# 430 Flow Failed
fake_pcscf flow-dead 5070 dave --answer 430 --expect-methods INVITE
DEAD_PID=$FAKE_PID
DEAD_CONTACT=$(grep -o 'at sip:[^ ]*' "$TEST_TMP/flow-dead.log" | cut -c4-)
fake_pcscf flow-live 5071 dave --answer 180,200 --expect-methods INVITE,ACK,BYE
LIVE_PID=$FAKE_PID
check "430 on one branch: the other branch answers 200" "${SIPC[@]}" call alice \
	--to sip:dave@ims.example.org --expect 200
FAKE_PID=$DEAD_PID; check "the dead flow's P-CSCF got the INVITE" fake_ok flow-dead
FAKE_PID=$LIVE_PID; check "the live flow's P-CSCF got INVITE, ACK, BYE" fake_ok flow-live
check "the 430 binding of dave is gone" "${SIPC[@]}" bindings dave --contact "$DEAD_CONTACT" --absent
fake_pcscf flow-only 5070 carol --answer 430 --expect-methods INVITE
ONLY_CONTACT=$(grep -o 'at sip:[^ ]*' "$TEST_TMP/flow-only.log" | cut -c4-)
check "430 on the only branch: the caller gets 480 with a Warning, never 430" "${SIPC[@]}" call \
	alice --to sip:carol@ims.example.org --expect 480 --expect-header '^Warning: 399 .*[Ff]low'
check "the P-CSCF got the INVITE" fake_ok flow-only
check "carol's 430 binding is gone" "${SIPC[@]}" bindings carol --contact "$ONLY_CONTACT" --absent

# a loop: bob registered with a Path naming the cscf itself
check "register erin with Path <sip:127.0.0.1:5060;lr> (a loop)" "${SIPC[@]}" register-path erin \
	--contact "sip:erin@ims.example.org" --path "<sip:127.0.0.1:5060;lr>"
check "a request looping through the cscf -> 482 Loop Detected" "${SIPC[@]}" call alice \
	--to sip:erin@ims.example.org --method MESSAGE --expect 482
check "cscf stops cleanly, no transaction left" stop_cscf

# --- timers: Timer C 2 s ---
wims_start cscf --set cscf.timer_c=2
fake_pcscf timer-c 5070 frank --answer 180 --expect-methods INVITE,CANCEL --timeout 8
check "Timer C: 180 and no answer: the branch is CANCELled, the caller gets its 487" \
	"${SIPC[@]}" call alice --to sip:frank@ims.example.org --expect 487
check "the ringing WIC got a CANCEL" fake_ok timer-c
spawn silent "${SIPC[@]}" silent-phone carol --bind 127.0.0.3 --bind-port 5092 --timeout 4 --min-copies 3
SILENT_PID=$SPAWNED_PID
for _ in $(seq 30); do grep -q "^registered" "$TEST_TMP/silent.log" && break; sleep 0.1; done
check "a silent UDP phone: the caller gets 408 at Timer C" "${SIPC[@]}" call alice \
	--to sip:carol@ims.example.org --expect 408
silent_ok() {
	wait "$SILENT_PID"
	local rc=$?
	cat "$TEST_TMP/silent.log"
	return $rc
}
check "the silent phone got the INVITE 3 times or more (Timer A retransmissions)" silent_ok
fake_pcscf pai 5070 frank --expect-methods INVITE,ACK,BYE \
	--expect-header '^P-Asserted-Identity: <sip:dave@ims.example.org>\r?$'
check "a phone (dave at 127.0.0.2:5093) sends PAI carol: the INVITE carries PAI dave only" \
	"${SIPC[@]}" --transport udp --bind 127.0.0.2 --bind-port 5093 call dave --register \
	--to sip:frank@ims.example.org --header "P-Asserted-Identity: <sip:carol@ims.example.org>" \
	--expect 200
check "frank's P-CSCF saw P-Asserted-Identity dave, not carol" fake_ok pai
check "cscf stops cleanly" stop_cscf

finish
