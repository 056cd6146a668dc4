#!/bin/bash
# cscf_register.sh - `wims cscf` as a registrar, driven by peers we did not
# write (SIPp, sipsak, sipvicious) and by a python3 stdlib SIP client
# (lib/cscf_sipclient.py: SIPp 3.6.1 cannot answer SHA-256 challenges).
#
#   - TCP and UDP: MD5 and SHA-256 registrations with P-Associated-URI,
#     Service-Route, Path, Contact;expires and rspauth checked; re-REGISTER
#     on the same nonce with nc=2; a replayed nc refused; wrong password 403;
#     unknown user 404; password guessing blocked; Expires 0 and Contact: *
#     de-register; 423 with Min-Expires; an older CSeq refused; malformed
#     requests get 400 with the parser's reason; OPTIONS, CRLF keep-alive
#   - a stale nonce (nonce_lifetime=2) gets 401 stale=true
#   - trusted node authentication refused from an untrusted node (here
#     127.0.0.1 is made untrusted: trusted_nodes=192.0.2.1; the accepted
#     cases, with P-WWSF-Identity, are cscf_tna.sh's)
#   - bindings survive a restart (REGISTER without Contact lists them)
#   - sipsak (OPTIONS, flood, random trash) and svmap identify the server
#     and do not take it down; every stop is a clean exit (ASan included)
#
# Uses 127.0.0.1:5060 (TCP and UDP), like the demo.
. "$(dirname "$0")/../lib/harness.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
SIPC=(python3 "$HERE/lib/cscf_sipclient.py")
SIPP_DIR=$HERE/sipp
DATA=$TEST_TMP/data

# The demo subscribers, as `wims hss` would seed them.
provision() {
	local name i=1
	for name in alice bob carol; do
		"$WIMS_BIN" --set "global.data_dir=$DATA" hss add "$name@ims.example.org" \
			--impu "sip:$name@ims.example.org" --impu "tel:+1555000000$i" \
			--password "$name-secret" >/dev/null || return 1
		i=$((i + 1))
	done
}

# stop_cscf: SIGTERM by PID; it must exit 0 (a clean stop, no sanitizer
# report) and free the port.
stop_cscf() {
	kill "$WIMS_PID" 2>/dev/null
	wait "$WIMS_PID"
	local rc=$?
	if grep -qE "AddressSanitizer|runtime error|LeakSanitizer" "$TEST_TMP/wims-cscf.log"; then
		echo "# sanitizer report in the cscf log:"
		grep -E -A5 "AddressSanitizer|runtime error|LeakSanitizer" "$TEST_TMP/wims-cscf.log" | head -20
		rc=1
	fi
	cp "$TEST_TMP/wims-cscf.log" "$TEST_TMP/wims-cscf.$(date +%s%N).log"
	return $rc
}

# sipp SCENARIO TRANSPORT ARGS...: one call, must succeed.
sipp_run() {
	local sf=$1 t=$2
	shift 2
	timeout 30 sipp 127.0.0.1:5060 -sf "$SIPP_DIR/$sf" -t "$t" -i 127.0.0.1 -m 1 \
		-timeout 10s -timeout_error -nostdin -auth_uri ims.example.org \
		-trace_err -error_file "$TEST_TMP/sipp-err.txt" "$@" >"$TEST_TMP/sipp.out" 2>&1 ||
		{ cat "$TEST_TMP/sipp-err.txt" 2>/dev/null; tail -n 5 "$TEST_TMP/sipp.out"; return 1; }
}

check "provision alice, bob, carol in the HSS store" provision

# --- the default configuration: SHA-256 then MD5 (127.0.0.1 not a
# trusted node, so that its TNA claims are refused) ---
wims_start cscf --set cscf.trusted_nodes=192.0.2.1
for t in tcp udp; do
	c=("${SIPC[@]}" --transport "$t")
	check "$t: 401 offers SHA-256 then MD5 (RFC 8760 order); SHA-256 register -> 200" \
		"${c[@]}" register alice --alg SHA-256 --expect-algs SHA-256,MD5
	check "$t: MD5 register -> 200 with P-Associated-URI, Service-Route, Path, rspauth" \
		"${c[@]}" register bob --alg MD5
	check "$t: Expires 100000 is shortened to max_expires" \
		"${c[@]}" register alice --expires 100000
	check "$t: re-REGISTER on the same nonce with nc=2 -> 200 without a challenge" \
		"${c[@]}" nc-increment alice
	check "$t: the same Authorization twice: the replay is refused" "${c[@]}" replay alice
	check "$t: wrong password -> 403 Wrong password" "${c[@]}" wrong-password carol
	check "$t: unknown user -> 404 Unknown user" "${c[@]}" unknown-user mallory
	check "$t: Expires: 0 removes the contact" "${c[@]}" deregister alice
	check "$t: Contact: * with Expires: 0 removes every contact" "${c[@]}" star bob
	check "$t: Expires below min_expires -> 423 with Min-Expires" "${c[@]}" min-expires alice
	check "$t: lower CSeq on the same Call-ID is refused" "${c[@]}" cseq-order alice
	check "$t: malformed REGISTER (bad CSeq) -> 400 Bad CSeq" "${c[@]}" malformed
	check "$t: OPTIONS -> 200 with Allow" "${c[@]}" options
	check "$t: REGISTER for another domain -> 403" "${c[@]}" foreign-domain alice
	check "$t: integrity-protected=\"auth-done\" from an untrusted node -> 403" \
		"${c[@]}" tna alice --expect 403
	check "$t: a MESSAGE with integrity-protected=\"auth-done\" from an untrusted node -> 403" \
		"${c[@]}" tna-message
done
check "udp: a retransmitted REGISTER gets the same 200 (RFC 3261 17.2.2), not a replay refusal" \
	"${SIPC[@]}" --transport udp retransmit alice
check "alice's oldest bindings made room: more than 10 registrations still succeed" "${SIPC[@]}" register alice
check "tcp: a REGISTER above 64 KiB -> 513 Message Too Large, then close" "${SIPC[@]}" oversize
check "tcp: CRLF CRLF ping gets a CRLF pong (RFC 5626 3.5.1)" "${SIPC[@]}" keepalive
check "password guessing: after 10 failures even the right password gets 403" \
	"${SIPC[@]}" ratelimit carol

# Peers we did not write.
check "sipsak OPTIONS -> 200" timeout 10 sipsak -s sip:alice@127.0.0.1:5060
check "sipsak flood of 300 OPTIONS" timeout 20 sipsak -F -e 300 -s sip:alice@127.0.0.1:5060
timeout 30 sipsak -R -t 30 -s sip:alice@127.0.0.1:5060 >"$TEST_TMP/sipsak-random.out" 2>&1
check "svmap identifies wims-cscf" bash -c \
	"timeout 30 svmap 127.0.0.1 -p 5060 2>&1 | tee /dev/stderr | grep -q wims-cscf"
check "still answering after sipsak random trash and svmap" "${SIPC[@]}" options
check "cscf stops cleanly" stop_cscf

# --- SIPp (MD5 only in 3.6.1: offer MD5 first) ---
wims_start cscf --set cscf.digest_algorithms=MD5,SHA-256
for t in t1 u1; do
	check "sipp $t: MD5 register -> 200 (P-Associated-URI, Service-Route by regexp), de-register" \
		sipp_run cscf_register.xml "$t" -s carol -au carol@ims.example.org -ap carol-secret
	check "sipp $t: wrong password -> 403" \
		sipp_run cscf_register_403.xml "$t" -s bob -au bob@ims.example.org -ap wrong
	check "sipp $t: unknown user -> 404" sipp_run cscf_register_404.xml "$t" -s mallory
	check "sipp $t: Expires 30 -> 423 Min-Expires" \
		sipp_run cscf_register_423.xml "$t" -s carol -au carol@ims.example.org -ap carol-secret
	check "sipp $t: Content-Length: none -> 400 Bad Content-Length" \
		sipp_run cscf_malformed.xml "$t" -s carol
done
check "cscf stops cleanly" stop_cscf

# --- a nonce that outlives nonce_lifetime ---
wims_start cscf --set cscf.nonce_lifetime=2
check "tcp: nonce older than nonce_lifetime -> 401 stale=true, fresh nonce -> 200" \
	"${SIPC[@]}" stale alice --wait 3
check "udp: nonce older than nonce_lifetime -> 401 stale=true, fresh nonce -> 200" \
	"${SIPC[@]}" --transport udp stale alice --wait 3
check "cscf stops cleanly" stop_cscf

# --- registrations survive a restart ---
wims_start cscf
CONTACT="sip:alice@192.0.2.7:5099;transport=tcp"
check "register alice at $CONTACT" "${SIPC[@]}" register-contact alice --contact "$CONTACT"
check "cscf stops cleanly" stop_cscf
wims_start cscf
check "after a restart, a REGISTER without Contact lists $CONTACT (RFC 3261 10.2.3)" \
	"${SIPC[@]}" fetch alice --contact "$CONTACT"
check "cscf stops cleanly" stop_cscf

finish
