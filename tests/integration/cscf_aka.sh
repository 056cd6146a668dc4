#!/bin/bash
# cscf_aka.sh - `wims cscf` as an IMS AKA registrar (RFC 3310 AKAv1-MD5)
# for a peer we did not write: SIPp 3.6.1, whose Milenage answers the
# challenge from K / OP / AMF.  cscf alone, with its own data_dir; the HSS
# store provisioned through `wims hss add --schemes` and `wims hss aka`.
#
#   - AKAv1-MD5 over TCP and UDP: 401 (nonce = base64(RAND||AUTN)), 200
#     with P-Associated-URI, Contact;expires and rspauth
#   - 200 registrations in a row, all 200, and the HSS's SQN moved on by
#     at least one vector each (default aka_vectors 3: one MAR serves three
#     challenges) -- then again with aka_vectors 1, a MAR per challenge
#   - a UE whose K is wrong: SIPp finds AUTN's MAC wrong and gives up (a
#     network it cannot authenticate); the cscf holds no binding for it
#   - a Digest (MD5) user registers beside them
#   - no K, OP or XRES-derived value in the cscf log; clean stops
#
# Uses 127.0.0.1:5060 (TCP and UDP): run under flock /tmp/wims-ports.lock.
. "$(dirname "$0")/../lib/harness.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
SIPP_DIR=$HERE/sipp_aka
DATA=$TEST_TMP/data
# SIPp 3.6.1 takes aka_K / aka_OP / aka_AMF as the raw bytes of their text
# (the scenarios carry these strings): the HSS gets the same bytes in hex.
hex() { printf %s "$1" | od -An -tx1 | tr -d ' \n'; }
K=$(hex wims-sipp-aka-K1)
OP=$(hex wims-sipp-aka-OP)
AMF=$(hex 80)

hss() {
	"$WIMS_BIN" --set "global.data_dir=$DATA" hss "$@"
}

provision() {
	local u
	for u in sippaka sippbad; do
		hss add "$u@ims.example.org" --impu "sip:$u@ims.example.org" --schemes akav1 \
			>/dev/null || return 1
		hss aka "$u@ims.example.org" --k "$K" --op "$OP" --amf "$AMF" >/dev/null || return 1
	done
	hss add alice@ims.example.org --impu sip:alice@ims.example.org \
		--impu tel:+15550000001 --password alice-secret >/dev/null
}

# The SEQ of the HSS's last vector for IMPI (SQN without its 5 IND bits).
hss_seq() {
	local sqn
	sqn=$(hss show "$1" | sed -n 's/^aka sqn \([0-9]*\).*/\1/p')
	[ -n "$sqn" ] && echo $((sqn >> 5))
}

# bindings IMPU: how many the cscf's store holds for it.
bindings() {
	python3 - "$DATA/hss.db" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("select count(*) from binding where impu = ?", (sys.argv[2],)).fetchone()[0])
PY
}

stop_cscf() {
	kill "$WIMS_PID" 2>/dev/null
	wait "$WIMS_PID"
	local rc=$?
	if grep -qE "AddressSanitizer|runtime error|LeakSanitizer" "$TEST_TMP/wims-cscf.log"; then
		grep -E -A5 "AddressSanitizer|runtime error|LeakSanitizer" "$TEST_TMP/wims-cscf.log" | head -20
		rc=1
	fi
	cat "$TEST_TMP/wims-cscf.log" >>"$TEST_TMP/cscf-all.log"
	return $rc
}

# sipp SCENARIO TRANSPORT ARGS...: must succeed.
sipp_run() {
	local sf=$1 t=$2
	shift 2
	timeout 60 sipp 127.0.0.1:5060 -sf "$sf" -t "$t" -i 127.0.0.1 -m 1 \
		-timeout 30s -timeout_error -nostdin -auth_uri ims.example.org \
		-trace_err -error_file "$TEST_TMP/sipp-err.txt" "$@" >"$TEST_TMP/sipp.out" 2>&1 ||
		{ cat "$TEST_TMP/sipp-err.txt" 2>/dev/null | tail -n 20; tail -n 5 "$TEST_TMP/sipp.out"; return 1; }
}

# wrong_responses: the cscf's 403s for a wrong AKA response so far.
wrong_responses() {
	grep -c "wrong Digest response (AKAv1-MD5)" "$TEST_TMP/wims-cscf.log"
}

# many N TRANSPORT: N registrations of sippaka, all ending in 200, and the
# HSS's SEQ moved on by at least N - 2 (each challenge spends one vector;
# up to aka_vectors - 1 = 2 of them may be spares the cscf got from the
# HSS before this run, whose SEQ counted then).
# SIPp 3.6.1 cuts a RES with a zero byte short (see the scenario): those
# few (about 3%) get 403 and start over; more than 10% would be our bug.
many() {
	local n=$1 t=$2 before after w0 w1
	before=$(hss_seq sippaka@ims.example.org) || return 1
	w0=$(wrong_responses)
	sipp_run "$SIPP_DIR/cscf_aka_register.xml" "$t" -s sippaka -m "$n" -r 100 -l 20 || return 1
	grep -E "Successful call +\|" "$TEST_TMP/sipp.out" | tail -n 1
	after=$(hss_seq sippaka@ims.example.org) || return 1
	w1=$(wrong_responses)
	echo "HSS SEQ $before -> $after; 403 for SIPp's cut RES: $((w1 - w0))"
	[ $((after - before)) -ge $((n - 2)) ] && [ $(((w1 - w0) * 10)) -le "$n" ]
}

# wrong_k: SIPp refuses the network (AUTN MAC) and sends no answer (or,
# were it to answer, gets 403); either way the cscf holds no binding of
# sippbad.
wrong_k() {
	if sipp_run "$SIPP_DIR/cscf_aka_wrong_k.xml" t1 -s sippbad; then
		echo "sipp answered and got 403"
	elif grep -q "MAC != eXpectedMAC" "$TEST_TMP/sipp-err.txt" "$TEST_TMP/sipp.out"; then
		echo "sipp found AUTN's MAC wrong and sent no answer"
	else
		echo "sipp failed otherwise"
		return 1
	fi
	local n
	n=$(bindings sip:sippbad@ims.example.org)
	echo "bindings of sip:sippbad@ims.example.org: $n"
	[ "$n" = 0 ]
}

# registered IMPU: the cscf holds a binding for it.
registered() {
	[ "$(bindings "$1")" -ge 1 ]
}

# no_secrets_logged: neither K nor OP (nor anything long and hex-looking
# that could be an XRES/CK/IK dump) reaches the cscf log.
no_secrets_logged() {
	! grep -qiE "$K|$OP|wims-sipp-aka" "$TEST_TMP/cscf-all.log" &&
		! grep -qiE "(xres|res|ck|ik)[=: ]+[0-9a-f]{16}" "$TEST_TMP/cscf-all.log"
}

check "provision sippaka, sippbad (akav1, SIPp's K/OP/AMF) and alice (Digest)" provision
check "hss show: schemes akav1, SQN 0, no K or OP shown" bash -c \
	"'$WIMS_BIN' --set global.data_dir='$DATA' hss show sippaka@ims.example.org | tee /dev/stderr |
	 grep -q '^schemes akav1' && ! '$WIMS_BIN' --set global.data_dir='$DATA' hss show \
	 sippaka@ims.example.org | grep -qi '$K'"

# SIPp 3.6.1 answers AKAv1-MD5 and MD5 only: offer those.
wims_start cscf --set cscf.digest_algorithms=AKAv1-MD5,MD5
for t in t1 u1; do
	check "sipp $t: AKAv1-MD5 register -> 401 with a 44-character nonce, then 200 with rspauth" \
		sipp_run "$SIPP_DIR/cscf_aka_register.xml" "$t" -s sippaka
done
check "the cscf holds a binding of sip:sippaka@ims.example.org" \
	registered sip:sippaka@ims.example.org
check "sipp t1: 200 AKA registrations in a row, all 200, the HSS SQN a vector further each" \
	many 200 t1
check "sipp u1: 100 AKA registrations in a row over UDP, all 200" many 100 u1
check "sipp t1 with a wrong K: SIPp refuses our AUTN (MAC), the cscf has no binding" wrong_k
check "sipp t1: a Digest MD5 user registers beside the AKA ones" \
	sipp_run "$HERE/sipp/cscf_register.xml" t1 -s alice -au alice@ims.example.org -ap alice-secret
check "cscf stops cleanly" stop_cscf

# One vector per MAR: no spares.
wims_start cscf --set cscf.digest_algorithms=AKAv1-MD5,MD5 --set cscf.aka_vectors=1
check "aka_vectors 1: 100 AKA registrations in a row, all 200" many 100 t1
check "cscf stops cleanly" stop_cscf

check "the cscf log holds no K, OP, RES, CK or IK" no_secrets_logged

finish
