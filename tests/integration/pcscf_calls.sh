#!/usr/bin/env bash
# pcscf_calls.sh - the eP-CSCF carrying calls and messages (calls.md), with
# SIPp standing in for the core on 127.0.0.1:5090 and python WSS clients
# (tests/integration/lib/pcscf_wsclient.py) as WICs.
#
# WIC -> core (sipp/pcscf_call_core.xml checks the core side): INVITE gets
#   the eP-CSCF's Record-Route on top, the Service-Route as Route, our
#   P-Asserted-Identity (a forged one replaced); ACK and BYE in the dialog
#   lose the Route entry naming the eP-CSCF and keep the core's; a CANCEL
#   (and the ACK to the 487) leaves with the INVITE's very branch and Route;
#   forged From on INVITE/MESSAGE 403; Max-Forwards 0 483.
# core -> WIC (sipp/pcscf_mw_*.xml through Mw 5070, the WIC checks its
#   side): INVITE keeps P-Asserted-Identity, gets the eP-CSCF's
#   Record-Route on top, loses the Path Route entry; ACK/BYE come back by
#   that Record-Route; CANCEL and the ACK to a 487 reach the WIC with the
#   INVITE's branch; Max-Forwards 0 483; a WebSocket dropped while ringing
#   turns the INVITE into 430 at once.
# Dead flow: pings every 500 ms; a client that answers none is dropped, its
#   flow then answers 430.
# Core gone: an INVITE ringing when the core's connection closes gets 503
#   at once (sipp/pcscf_core_dies.xml).
. "$(dirname "$0")/../lib/harness.sh"

LIB=$HARNESS_ROOT/tests/integration/lib
SIPP=$HARNESS_ROOT/tests/integration/sipp
client() { python3 "$LIB/pcscf_wsclient.py" "$@"; }
CORE_PORT=5090

# sipp_mw SCENARIO TOKEN: one call from the "core" to Mw 5070 over TCP.
sipp_mw() {
	sipp -sf "$SIPP/$1" -t t1 -i 127.0.0.1 -p 5093 127.0.0.1:5070 -key token "$2" \
		-m 1 -timeout 15s -nostdin -trace_err -error_file "$TEST_TMP/sipp-$1.err"
}

# wait_file FILE: until it exists and is not empty (10 s).
wait_file() {
	for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done
	return 1
}

# 3 REGISTERs (three flows), 2 INVITEs (answered, cancelled), 1 MESSAGE
spawn sipp-core sipp -sf "$SIPP/pcscf_call_core.xml" -t t1 -i 127.0.0.1 -p $CORE_PORT \
	-m 6 -timeout 60s -nostdin -trace_err -error_file "$TEST_TMP/sipp-core.err"
SIPP_CORE=$SPAWNED_PID
wims_start pcscf --set pcscf.cscf_addr=127.0.0.1:$CORE_PORT --set pcscf.ping_interval_ms=500
PCSCF=$WIMS_PID

# ---- WIC -> core ----------------------------------------------------------
client core-calls >"$TEST_TMP/core-calls.log" 2>&1
while read -r line; do
	case $line in
	"ok - "*) check "${line#ok - }" true ;;
	"FAIL - "*) check "${line#FAIL - }" false ;;
	esac
done <"$TEST_TMP/core-calls.log"
grep -q "^ok - \|^FAIL - " "$TEST_TMP/core-calls.log" ||
	check "core-calls client ran" bash -c "cat '$TEST_TMP/core-calls.log'; false"

# ---- core -> WIC ----------------------------------------------------------
rm -f "$TEST_TMP/token"
client answer --token-file "$TEST_TMP/token" >"$TEST_TMP/answer.log" 2>&1 &
ANSWER=$!
HARNESS_PIDS+=("$ANSWER")
if wait_file "$TEST_TMP/token"; then
	TOKEN=$(cat "$TEST_TMP/token")
	check "core->WIC INVITE/200/ACK/BYE: Record-Route of the eP-CSCF on top of the 200" \
		sipp_mw pcscf_mw_call.xml "$TOKEN"
	check "core->WIC CANCEL before the answer: 200, 487" sipp_mw pcscf_mw_cancel.xml "$TOKEN"
	check "core->WIC Max-Forwards 0: 483" sipp_mw pcscf_mw_483.xml "$TOKEN"
	check "core->WIC INVITE, WebSocket dropped while ringing: 430 at once" \
		sipp_mw pcscf_mw_vanish.xml "$TOKEN"
	check "the flow is gone: 430 Flow Failed" sipp_mw pcscf_mw_430.xml "$TOKEN"
	wait "$ANSWER"
	RC=$?
	sed 's/^/# /' "$TEST_TMP/answer.log" | grep -v "^# \[" || true
	check "the WIC saw every core request as it must (PAI kept, RR, branches)" test $RC -eq 0
else
	check "answering flow registered" bash -c "cat '$TEST_TMP/answer.log'; false"
fi

# ---- dead flow ------------------------------------------------------------
rm -f "$TEST_TMP/token"
client silent --token-file "$TEST_TMP/token" --seconds 3 >"$TEST_TMP/silent.log" 2>&1 &
SILENT=$!
HARNESS_PIDS+=("$SILENT")
if wait_file "$TEST_TMP/token"; then
	TOKEN=$(cat "$TEST_TMP/token")
	sleep 2.5
	check "a flow that answers no ping is closed as dead" \
		grep -q "closed (1006 no answer to ping)" "$TEST_TMP/wims-pcscf.log"
	check "requests to the dead flow: 430 Flow Failed" sipp_mw pcscf_mw_430.xml "$TOKEN"
	check "the silent client found its connection dropped" wait "$SILENT"
else
	check "silent flow registered" bash -c "cat '$TEST_TMP/silent.log'; false"
fi

check "the SIPp core saw every forwarded request as expected" wait "$SIPP_CORE"

# ---- the core connection dies under a ringing INVITE ---------------------
spawn sipp-dies sipp -sf "$SIPP/pcscf_core_dies.xml" -t t1 -i 127.0.0.1 -p $CORE_PORT \
	-m 2 -timeout 30s -nostdin
sleep 0.5
check "INVITE ringing when the core connection closes: 503 at once" client core-dies

kill "$PCSCF"
wait "$PCSCF" 2>/dev/null
check "pcscf exited without sanitizer reports" \
	bash -c "! grep -E 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error' '$TEST_TMP/wims-pcscf.log'"

finish
