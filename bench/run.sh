#!/bin/bash
# run.sh BUILD_DIR - what `make bench` runs: wims against Kamailio, same
# generator, same subscribers, same parameters, in the same run, in
# phases (BENCH_PHASES; they run in the order reg, aka, tna, call):
#
#  reg   registrations over WSS: REGISTER -> 401 -> REGISTER -> 200 in a
#        loop on each connection, MD5 and SHA-256 (BENCH_ALGORITHMS);
#  call  calls through the proxies: wims-loadgen --call over WSS is the
#        callers (each connection registers once, then loops on INVITE ->
#        100/180/200 -> ACK -> BYE -> 200 to sip:uas@ims.example.org), and
#        one SIPp UAS over TCP (bench/sipp/uas.xml), registered on both
#        servers with bench/sipp/register.xml, is the callee: wims-loadgen
#        -> pcscf -> cscf -> SIPp, or wims-loadgen -> Kamailio -> SIPp;
#  aka   IMS AKA registrations over WSS through pcscf (TS 33.203 Annex X):
#        AKAv2-SHA-256 and AKAv1-MD5 (BENCH_AKA_ALGORITHMS) against Digest
#        MD5 in the same run, wims only (Kamailio's AKA needs its IMS
#        modules and a Diameter HSS, which Debian does not ship).  The AKA
#        subscribers akav1-0000..., akav2-0000... have K/OPc from aka_demo_keys(IMPI)
#        (computed here with the same SHA-256 derivation) and are imported
#        with a second `wims hss import`; wims-loadgen is their cards.
#  tna   Trusted Node Authentication (issue 5, TR 33.871 6.1.2) over WSS
#        through pcscf: REGISTER with Authorization: Bearer <ES256 JWT> ->
#        200 (no 401 round trip), the token checked by the pcscf (verified,
#        or found in its cache of verified tokens) and the WWSF by the
#        cscf+HSS (cx_tna_authorize), against Digest MD5 in the same run,
#        wims only (Kamailio has no equivalent: no OAuth/TNA registrar).
#        Two modes: tna-cached (one token per subscriber, reused: the pcscf
#        verifies each once, then hits its cache) and tna-uncached (a new
#        token, new jti, every registration: an ECDSA verification each).
#        wims-loadgen stands in for the WAF: it makes a key
#        (--bearer-keygen), the pcscf reads its JWKS from a file ([pcscf]
#        waf_jwks), and it signs every token before the window opens (the
#        uncached pool sized from the cached warm-up, see bench/README.md).
#        Subscribers tna-0000... allow scheme tna only and the WWSF
#        wwsf.ims.example.org.
#
#  1. writes BENCH_USERS subscribers (user0000@ims.example.org ..., password
#     pw-N) and the callee uas@ims.example.org (pw-uas) to a CSV and
#     imports it into a fresh wims data dir with `wims hss import`;
#     Kamailio loads the same CSV (bench/kamailio);
#  2. starts `wims demo` (log level warn) and Kamailio (bench/kamailio/
#     start.sh), all on 127.0.0.1 with one self-signed certificate, on
#     ports of their own so that a demo or a test running beside the bench
#     cannot answer in its place (wims's listeners use SO_REUSEPORT: a
#     second process on the same port would share the traffic): wims pcscf
#     17443 (cscf 17060, Mw 17070, wwsf 18443, me 18445, waf 19443; the
#     demo's third-party WWSF keeps its fixed 8446); Kamailio registrar MD5
#     17444, SHA-256 17445; Kamailio proxy WSS 17446 + TCP 17461; SIPp UAS
#     17090.  For the call phase wims is restarted with [cscf]
#     digest_algorithms = MD5 (SIPp 3.6.1 answers MD5 only);
#  3. warms each target up, then for BENCH_ROUNDS rounds (and each Digest
#     algorithm in the reg phase) runs wims-loadgen against wims and
#     against Kamailio, alternating which goes first (ABBA), and records
#     the server's CPU time during each run;
#  4. prints the medians over the rounds and the ratio wims/Kamailio, and
#     keeps everything in BUILD_DIR/bench/results-DATE/ (results.jsonl and
#     calls.jsonl: one RESULT line of the generator per run; summary.md;
#     logs).
#
# Builds nothing: BUILD_DIR must hold wims and bench/wims-loadgen.
# Loopback only; bounded: about ROUNDS x DURATION seconds per instance
# (2 x algorithms + 1 call, + AKA algorithms + 1, + TNA modes + 1) plus
# start-up.  Every process it starts is stopped by PID on exit.
# Fails (exit 1) only when a wims run had failures; Kamailio's are a warning.
#
# Knobs (environment): BENCH_PHASES ("reg call aka tna", or "reg,call,aka,tna"; a
# subset runs only those), BENCH_CONNECTIONS (100), BENCH_DURATION (20 s),
# BENCH_ROUNDS (3), BENCH_ALGORITHMS ("MD5 SHA-256"), BENCH_USERS
# (= the larger of the connection counts), BENCH_THREADS (generator
# threads, 1), BENCH_EXPIRES (600), BENCH_KAMAILIO_CHILDREN (Kamailio TCP
# workers, 2), BENCH_WIMS_WORKERS (wims [global] workers, 0 = one per
# core), BENCH_TARGETS ("wims kamailio"; one of them alone measures only
# it); for the call phase BENCH_CALL_CONNECTIONS (callers, 50),
# BENCH_CALL_DURATION (= BENCH_DURATION), BENCH_CALL_ROUNDS
# (= BENCH_ROUNDS), BENCH_CALL_HOLD_MS (ACK to BYE, 0); for the aka phase
# BENCH_AKA_ALGORITHMS ("AKAv2-SHA-256 AKAv1-MD5"); for the tna phase
# BENCH_TNA_MODES ("cached uncached").
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: bench/run.sh BUILD_DIR" >&2
	exit 2
fi
build=$(cd "$1" && pwd)
WIMS=$build/wims
LOADGEN=$build/bench/wims-loadgen
KAMAILIO=${KAMAILIO_BIN:-/usr/sbin/kamailio}

num() { # num NAME VALUE: a positive integer or die
	case $2 in '' | *[!0-9]* | 0) echo "run.sh: $1 must be a positive integer" >&2; exit 2 ;; esac
}
PHASES=${BENCH_PHASES:-reg call aka tna}
PHASES=${PHASES//,/ }
CONNECTIONS=${BENCH_CONNECTIONS:-100}
DURATION=${BENCH_DURATION:-20}
ROUNDS=${BENCH_ROUNDS:-3}
ALGORITHMS=${BENCH_ALGORITHMS:-MD5 SHA-256}
CALL_CONNECTIONS=${BENCH_CALL_CONNECTIONS:-50}
CALL_DURATION=${BENCH_CALL_DURATION:-$DURATION}
CALL_ROUNDS=${BENCH_CALL_ROUNDS:-$ROUNDS}
CALL_HOLD_MS=${BENCH_CALL_HOLD_MS:-0}
AKA_ALGORITHMS=${BENCH_AKA_ALGORITHMS:-AKAv2-SHA-256 AKAv1-MD5}
TNA_MODES=${BENCH_TNA_MODES:-cached uncached}
max_conns=$CONNECTIONS
[ "${CALL_CONNECTIONS:-0}" -gt "$max_conns" ] 2>/dev/null && max_conns=$CALL_CONNECTIONS
USERS=${BENCH_USERS:-$max_conns}
THREADS=${BENCH_THREADS:-1}
EXPIRES=${BENCH_EXPIRES:-600}
KAM_CHILDREN=${BENCH_KAMAILIO_CHILDREN:-2}
WIMS_WORKERS=${BENCH_WIMS_WORKERS:-0}
TARGETS=${BENCH_TARGETS:-wims kamailio}
num BENCH_CONNECTIONS "$CONNECTIONS"
num BENCH_DURATION "$DURATION"
num BENCH_ROUNDS "$ROUNDS"
num BENCH_USERS "$USERS"
num BENCH_THREADS "$THREADS"
num BENCH_EXPIRES "$EXPIRES"
num BENCH_KAMAILIO_CHILDREN "$KAM_CHILDREN"
num BENCH_CALL_CONNECTIONS "$CALL_CONNECTIONS"
num BENCH_CALL_DURATION "$CALL_DURATION"
num BENCH_CALL_ROUNDS "$CALL_ROUNDS"
case $CALL_HOLD_MS in '' | *[!0-9]*) echo "run.sh: BENCH_CALL_HOLD_MS must be a number" >&2; exit 2 ;; esac
want_reg= want_call= want_aka= want_tna=
for p in $PHASES; do
	case $p in reg) want_reg=1 ;; call) want_call=1 ;; aka) want_aka=1 ;; tna) want_tna=1 ;;
	*) echo "run.sh: unknown phase $p (reg, call, aka, tna)" >&2; exit 2 ;; esac
done
[ -n "$want_reg$want_call$want_aka$want_tna" ] || { echo "run.sh: BENCH_PHASES is empty" >&2; exit 2; }
case $WIMS_WORKERS in '' | *[!0-9]*) echo "run.sh: BENCH_WIMS_WORKERS must be a number" >&2; exit 2 ;; esac
if [ "$USERS" -lt "$max_conns" ]; then
	echo "run.sh: BENCH_USERS ($USERS) < the connections asked for ($max_conns)" >&2
	exit 2
fi
if [ "$DURATION" -gt 300 ] || [ "$CALL_DURATION" -gt 300 ] || [ "$ROUNDS" -gt 20 ] ||
	[ "$CALL_ROUNDS" -gt 20 ] || [ "$max_conns" -gt 20000 ]; then
	echo "run.sh: refusing more than 300 s per run, 20 rounds or 20000 connections" >&2
	exit 2
fi
for a in $ALGORITHMS; do
	case $a in MD5 | SHA-256) ;; *) echo "run.sh: unknown algorithm $a" >&2; exit 2 ;; esac
done
for a in $AKA_ALGORITHMS; do
	case $a in AKAv1-MD5 | AKAv2-SHA-256) ;; *) echo "run.sh: unknown AKA algorithm $a" >&2; exit 2 ;; esac
done
tna_instances=()
for m in $TNA_MODES; do
	case $m in cached | uncached) tna_instances+=("tna-$m") ;; *) echo "run.sh: unknown TNA mode $m (cached, uncached)" >&2; exit 2 ;; esac
done
if [ -n "$want_tna" ] && [ ${#tna_instances[@]} -eq 0 ]; then
	echo "run.sh: BENCH_TNA_MODES is empty" >&2
	exit 2
fi
want_wims= want_kam=
for t in $TARGETS; do
	case $t in wims) want_wims=1 ;; kamailio) want_kam=1 ;; *) echo "run.sh: unknown target $t" >&2; exit 2 ;; esac
done
SIPP=${SIPP_BIN:-$(command -v sipp || echo /usr/bin/sipp)}
need=("$LOADGEN")
[ -n "$want_wims" ] && need+=("$WIMS")
[ -n "$want_kam" ] && need+=("$KAMAILIO")
[ -n "$want_call" ] && need+=("$SIPP")
for f in "${need[@]}"; do
	if [ ! -x "$f" ]; then
		echo "run.sh: $f is missing (build first: make bench builds it; sipp: scripts/install-deps.sh)" >&2
		exit 1
	fi
done

WIMS_PORT=17443
CSCF_PORT=17060
WAF_PORT=19443
declare -A KAM_PORT=([MD5]=17444 [SHA-256]=17445 [call]=17446)
KAM_CALL_TCP=17461
UAS_PORT=17090
CALLEE=sip:uas@ims.example.org
for port in 17060 17070 17443 18443 18445 19443 17444 17445 17446 17461 17090; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "run.sh: something already listens on 127.0.0.1:$port (a wims demo or Kamailio?): stop it first" >&2
		exit 1
	fi
done

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$build/bench/results-$stamp
mkdir -p "$out"
work=$(mktemp -d /tmp/wims-bench.XXXXXX)
wims_pid= uas_pid=
declare -A kam_pid
server_pids() { echo $wims_pid $uas_pid "${kam_pid[@]}"; }
stop_pid() { # stop_pid PID: TERM, then KILL after 5 s
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
cleanup() {
	local pid
	for pid in $(server_pids); do kill "$pid" 2>/dev/null || true; done
	for pid in $(server_pids); do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_tcp() { # wait_tcp PORT PID: until PORT listens, while PID lives
	for _ in $(seq 300); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# CPU time (clock ticks) of a process and its children processes (Kamailio
# forks one process per worker; wims is one process with threads).
cpu_ticks() {
	local main=$1 total=0 pid rest
	for pid in $main $(pgrep -P "$main" || true); do
		[ -r "/proc/$pid/stat" ] || continue
		# Fields after the ")" that ends the command name: 12 utime, 13 stime.
		rest=$(sed 's/.*) //' "/proc/$pid/stat")
		set -- $rest
		total=$((total + ${12} + ${13}))
	done
	echo "$total"
}
HZ=$(getconf CLK_TCK)

echo "== wims bench, phases: $PHASES"
[ -n "$want_reg" ] && echo "   reg: $CONNECTIONS connections, $DURATION s x $ROUNDS rounds, algorithms: $ALGORITHMS"
[ -n "$want_aka" ] && echo "   aka: $CONNECTIONS connections, $DURATION s x $ROUNDS rounds, wims only: $AKA_ALGORITHMS against MD5"
[ -n "$want_tna" ] && echo "   tna: $CONNECTIONS connections, $DURATION s x $ROUNDS rounds, wims only: Bearer ($TNA_MODES) against MD5"
[ -n "$want_call" ] && echo "   call: $CALL_CONNECTIONS callers, $CALL_DURATION s x $CALL_ROUNDS rounds, hold $CALL_HOLD_MS ms, to $CALLEE (SIPp over TCP)"
echo "   machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "   results: $out"

# 1. Subscribers and certificate.
csv=$work/users.csv
{
	echo "impi,impu,password"
	last=$((USERS - 1))
	for i in $(seq 0 "$last"); do
		u=$(printf 'user%04d' "$i")
		echo "$u@ims.example.org,sip:$u@ims.example.org,pw-$i"
	done
	echo "uas@ims.example.org,$CALLEE,pw-uas"
} >"$csv"
mkdir -p "$work/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$work/tls/key.pem" -out "$work/tls/cert.pem" -days 2 -subj /CN=127.0.0.1 \
	-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>/dev/null

wims_set=(--set "global.data_dir=$work/wims" --set "global.tls_cert=$work/tls/cert.pem"
	--set "global.tls_key=$work/tls/key.pem" --set "global.log_level=warn"
	--set "global.workers=$WIMS_WORKERS"
	--set "pcscf.listen=127.0.0.1:$WIMS_PORT" --set "pcscf.mw_listen=127.0.0.1:17070"
	--set "pcscf.cscf_addr=127.0.0.1:17060" --set "cscf.listen=127.0.0.1:17060"
	--set "wwsf.listen=127.0.0.1:18443" --set "wwsf.pcscf_url=wss://127.0.0.1:$WIMS_PORT/"
	--set "me.listen=127.0.0.1:18445"
	--set "waf.listen=127.0.0.1:$WAF_PORT" --set "waf.cscf_addr=127.0.0.1:17060"
	--set "wwsf.waf_url=https://127.0.0.1:$WAF_PORT"
	--set "pcscf.waf_jwks=https://127.0.0.1:$WAF_PORT/jwks.json"
	--set "pcscf.waf_introspect=https://127.0.0.1:$WAF_PORT/introspect")
if [ -n "$want_wims" ]; then
	t=$(date +%s.%N)
	if ! "$WIMS" "${wims_set[@]}" hss import "$csv" >"$out/hss-import.log" 2>&1; then
		echo "run.sh: wims hss import failed:" >&2
		tail -n 20 "$out/hss-import.log" >&2
		exit 1
	fi
	echo "   provisioned $USERS subscribers in wims in $(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
fi
# The AKA subscribers: akav1-NNNN allow AKAv1-MD5 only, akav2-NNNN
# AKAv2-SHA-256 only (cscf offers one AKA challenge per 401, the first its
# list and the HSS allow); keys: aka_demo_keys(IMPI), AMF 8000, SQN 0.
if [ -n "$want_aka" ] && [ -n "$want_wims" ]; then
	aka_csv=$work/aka-users.csv
	python3 - "$CONNECTIONS" >"$aka_csv" <<'PY'
import hashlib, sys
print("impi,impu,password,schemes,k,opc,amf")
for scheme in ("akav1", "akav2"):
    for i in range(int(sys.argv[1])):
        impi = "%s-%04d@ims.example.org" % (scheme, i)
        key = lambda label: hashlib.sha256(("wims demo AKA %s %s" % (label, impi)).encode()).hexdigest()[:32]
        print("%s,sip:%s,,%s,%s,%s,8000" % (impi, impi, scheme, key("K"), key("OPc")))
PY
	if ! "$WIMS" "${wims_set[@]}" hss import "$aka_csv" >"$out/hss-import-aka.log" 2>&1; then
		echo "run.sh: wims hss import of the AKA subscribers failed:" >&2
		tail -n 20 "$out/hss-import-aka.log" >&2
		exit 1
	fi
	echo "   provisioned 2 x $CONNECTIONS AKA subscribers in wims"
fi
# The TNA subscribers: tna-NNNN allow scheme tna only (no password at
# all), and the WWSF the tokens name; the key the generator signs with and
# the JWKS the pcscf reads it from.
TNA_WWSF=wwsf.ims.example.org
if [ -n "$want_tna" ] && [ -n "$want_wims" ]; then
	tna_csv=$work/tna-users.csv
	{
		echo "impi,impu,password,schemes"
		for i in $(seq 0 $((CONNECTIONS - 1))); do
			u=$(printf 'tna-%04d@ims.example.org' "$i")
			echo "$u,sip:$u,,tna"
		done
	} >"$tna_csv"
	if ! "$WIMS" "${wims_set[@]}" hss import "$tna_csv" >"$out/hss-import-tna.log" 2>&1; then
		echo "run.sh: wims hss import of the TNA subscribers failed:" >&2
		tail -n 20 "$out/hss-import-tna.log" >&2
		exit 1
	fi
	# Outside the timed part: one CLI call per subscriber.
	t=$(date +%s.%N)
	for i in $(seq 0 $((CONNECTIONS - 1))); do
		if ! "$WIMS" "${wims_set[@]}" hss wwsf-allow "$(printf 'tna-%04d@ims.example.org' "$i")" \
			"$TNA_WWSF" >>"$out/hss-import-tna.log" 2>&1; then
			echo "run.sh: wims hss wwsf-allow failed:" >&2
			tail -n 5 "$out/hss-import-tna.log" >&2
			exit 1
		fi
	done
	"$LOADGEN" --bearer-key "$work/bearer-key.json" --bearer-keygen "$work/jwks.json" >/dev/null
	echo "   provisioned $CONNECTIONS TNA subscribers in wims (allowed WWSF $TNA_WWSF in $(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s), bearer key and JWKS made"
fi

# 2. Servers.
# Debian's Kamailio 5.6.3 with OpenSSL 3 may corrupt its shared memory when
# its TCP worker processes run their first TLS handshakes at the same time
# (kamailio issue #3791; fixed upstream by tls_threads_mode in later
# versions) and a worker dies.  So each instance first takes a few
# handshakes one after the other, and a run during which it died is
# reported, the instance restarted and the run repeated (twice at most).
start_kamailio() { # start_kamailio INSTANCE: MD5 or SHA-256 (registrar), call (proxy)
	local a=$1 flag=() alg=$1 i
	stop_pid "${kam_pid[$a]:-}" # what is left of a crashed instance
	case $a in
	SHA-256) flag=(--sha256) ;;
	call) flag=(--calls "$KAM_CALL_TCP") alg=MD5 ;;
	esac
	"$root/bench/kamailio/start.sh" --dir "$work/kamailio-$a" --cert "$work/tls/cert.pem" \
		--key "$work/tls/key.pem" --users "$csv" --port "${KAM_PORT[$a]}" \
		--children "$KAM_CHILDREN" "${flag[@]}" >>"$out/kamailio-$a.log" 2>&1 &
	kam_pid[$a]=$!
	if ! wait_tcp "${KAM_PORT[$a]}" "${kam_pid[$a]}"; then
		echo "run.sh: Kamailio ($a) did not start:" >&2
		tail -n 20 "$out/kamailio-$a.log" >&2
		return 1
	fi
	for i in $(seq $((2 * KAM_CHILDREN))); do
		"$LOADGEN" --host 127.0.0.1 --port "${KAM_PORT[$a]}" --insecure --quiet --users 0-0 \
			--connections 1 --duration 0.2 --algorithm "$alg" >/dev/null 2>&1 || true
	done
	if [ "$a" = call ]; then
		ensure_callee || return 1
		register_callee kamailio || return 1
	fi
}
stop_kamailio() { # stop_kamailio INSTANCE
	stop_pid "${kam_pid[$1]:-}"
	unset "kam_pid[$1]"
}
start_wims() { # start_wims [--set section.key=value ...]: wims demo, restarted
	stop_pid "$wims_pid"
	wims_pid=
	"$WIMS" "${wims_set[@]}" "$@" demo >>"$out/wims.log" 2>&1 &
	wims_pid=$!
	if ! wait_tcp "$WIMS_PORT" "$wims_pid"; then
		echo "run.sh: wims did not start:" >&2
		tail -n 20 "$out/wims.log" >&2
		return 1
	fi
}

# The callee of the call phase: one SIPp UAS over TCP on UAS_PORT, which
# register.xml registers on cscf and on the Kamailio proxy with that port
# as its Contact.  The REGISTERs go from ports of their own so that SIPp
# does not take its default 5060 (the demo's cscf).
start_callee() {
	"$SIPP" -sf "$root/bench/sipp/uas.xml" -t t1 -i 127.0.0.1 -p "$UAS_PORT" -nostdin \
		-trace_err -error_file "$out/sipp-uas-errors.log" \
		-trace_stat -stf "$out/sipp-uas-stats.csv" -fd 1 >"$out/sipp-uas.log" 2>&1 &
	uas_pid=$!
	if ! wait_tcp "$UAS_PORT" "$uas_pid"; then
		echo "run.sh: the SIPp callee did not start:" >&2
		tail -n 20 "$out/sipp-uas.log" >&2
		return 1
	fi
}
# SIPp (-t t1) stops when a peer resets its connection, as a crashing
# Kamailio does (kamailio issue #3791): the callee is then started again and
# registered again on both servers.
ensure_callee() {
	[ -n "$uas_pid" ] && kill -0 "$uas_pid" 2>/dev/null && return 0
	if [ -n "$uas_pid" ]; then
		echo "   ! the SIPp callee had stopped (see sipp-uas.log): started again"
		wait "$uas_pid" 2>/dev/null || true
		mv "$out/sipp-uas.log" "$out/sipp-uas-$(date +%H%M%S).log"
		mv "$out/sipp-uas-stats.csv" "$out/sipp-uas-stats-$(date +%H%M%S).csv"
	fi
	start_callee || return 1
	if [ -n "$want_wims" ] && [ -n "$wims_pid" ]; then register_callee wims || return 1; fi
}
# callee_count SuccessfulCall|FailedCall: SIPp's cumulative count, from the
# statistics it writes every second (-trace_stat).
callee_count() {
	local n
	n=$(awk -F';' -v col="$1(C)" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
		c { v = $c } END { print v + 0 }' "$out/sipp-uas-stats.csv" 2>/dev/null)
	echo "${n:-0}"
}
register_callee() { # register_callee wims|kamailio
	local port=$CSCF_PORT local_port=17091
	[ "$1" = kamailio ] && port=$KAM_CALL_TCP local_port=17092
	if ! timeout 30 "$SIPP" "127.0.0.1:$port" -sf "$root/bench/sipp/register.xml" -t t1 \
		-i 127.0.0.1 -p "$local_port" -m 1 -s uas -au uas@ims.example.org -ap pw-uas \
		-auth_uri ims.example.org -key contact_port "$UAS_PORT" -nostdin \
		-trace_err -error_file "$out/sipp-register-$1-errors.log" \
		>"$out/sipp-register-$1.log" 2>&1; then
		echo "run.sh: the SIPp callee could not register on $1:" >&2
		tail -n 20 "$out/sipp-register-$1-errors.log" "$out/sipp-register-$1.log" >&2
		return 1
	fi
}

# 3. Runs.
results=$out/results.jsonl
: >"$results"
aka_results=$out/aka.jsonl
: >"$aka_results"
aka_phase= # set while the aka phase runs: one_attempt then uses the AKA subscribers
tna_results=$out/tna.jsonl
: >"$tna_results"
tna_phase= # set while the tna phase runs
# The best rate of any run of the tna phase so far (warm-ups included):
# the uncached run's tokens, all signed before its window, are twice what
# that rate would spend (an uncached registration costs the server more
# than a cached one, but a cold warm-up can be slower than what follows,
# and the pool is split evenly between connections that are not).
tna_best_rate=0
failed_runs=0
incidents=0
one_run() { # one_run SERVER ALGORITHM ROUND DURATION
	local server=$1 alg=$2 round=$3 secs=$4 attempt
	for attempt in 1 2 3; do
		one_attempt "$@" && return
		if [ "$server" = wims ] || [ "$attempt" -eq 3 ]; then
			echo "run.sh: $server ($alg) died during the run: stopping" >&2
			exit 1
		fi
		incidents=$((incidents + 1))
		echo "   ! Kamailio ($alg) died during that run (see kamailio-$alg.log): restarted, run repeated"
		start_kamailio "$alg" || exit 1
	done
}
# Failures against wims fail `make bench`; the peer's (Kamailio 5.6.3 drops
# a connection now and then under TLS load) are shown in the table and
# warned about, since they say nothing of wims.
peer_failed_runs=0
count_failed() { # count_failed SERVER
	if [ "$1" = wims ]; then failed_runs=$((failed_runs + 1)); else peer_failed_runs=$((peer_failed_runs + 1)); fi
}
# one_attempt SERVER INSTANCE ROUND DURATION: 1 if the server died.
# INSTANCE is the algorithm of a registration run, or "call" for a run of
# the call phase.
one_attempt() {
	local server=$1 alg=$2 round=$3 secs=$4 port pid before after cbefore=0 cafter=0 line rc=0
	local fbefore=0 fafter=0
	local mode=(--algorithm "$alg" --connections "$CONNECTIONS") file=$results unit=reg/s
	local users=(--users "0-$((USERS - 1))")
	if [ "$server" = wims ]; then port=$WIMS_PORT pid=$wims_pid; else port=${KAM_PORT[$alg]} pid=${kam_pid[$alg]}; fi
	if [ -n "$aka_phase" ]; then
		file=$aka_results users=(--users "0-$((CONNECTIONS - 1))")
		case $alg in
		AKAv1-MD5) users+=(--user-pattern 'akav1-%04u') ;;
		AKAv2-SHA-256) users+=(--user-pattern 'akav2-%04u') ;;
		esac
	fi
	if [ -n "$tna_phase" ]; then
		file=$tna_results
		case $alg in
		tna-*)
			users=(--users "0-$((CONNECTIONS - 1))" --user-pattern 'tna-%04u')
			mode=(--connections "$CONNECTIONS" --bearer-key "$work/bearer-key.json"
				--bearer-mode "${alg#tna-}")
			if [ "$alg" = tna-uncached ]; then
				local floor=$((tna_best_rate > 2000 ? tna_best_rate : 2000))
				mode+=(--bearer-pool "$((floor * 2 * secs + 2 * CONNECTIONS))")
			fi
			;;
		esac
	fi
	if [ "$alg" = call ]; then
		mode=(--algorithm MD5 --connections "$CALL_CONNECTIONS" --call "$CALLEE"
			--call-hold "$CALL_HOLD_MS")
		file=$calls unit=calls/s
		cbefore=$(cpu_ticks "$uas_pid")
		fbefore=$(callee_count FailedCall)
	fi
	before=$(cpu_ticks "$pid")
	line=$("$LOADGEN" --host 127.0.0.1 --port "$port" --insecure --quiet \
		"${users[@]}" --duration "$secs" "${mode[@]}" \
		--threads "$THREADS" --expires "$EXPIRES" \
		--label "$server $alg $round" 2>>"$out/loadgen.log" | sed -n 's/^RESULT //p') || rc=$?
	after=$(cpu_ticks "$pid")
	[ "$alg" = call ] && cafter=$(cpu_ticks "$uas_pid")
	# A Kamailio worker that crashes makes the main process stop them all
	# (and the SIPp callee, whose connection it resets).
	if ! kill -0 "$pid" 2>/dev/null ||
		{ [ "$server" = kamailio ] && [ "$(pgrep -c -P "$pid" || true)" -eq 0 ]; }; then
		[ -n "$line" ] && echo "$line" >>"$out/incidents.jsonl"
		return 1
	fi
	if [ "$alg" = call ] && ! kill -0 "$uas_pid" 2>/dev/null; then
		echo "run.sh: the SIPp callee stopped during a $server run (see $out/sipp-uas.log): stopping" >&2
		exit 1
	fi
	# The generator cannot see everything: a lost ACK, for one, shows only
	# at the callee (SIPp aborts that call on the BYE).  SIPp refreshes its
	# counts every second.
	if [ "$alg" = call ]; then
		sleep 1.2
		fafter=$(callee_count FailedCall)
		if [ "$((fafter - fbefore))" -gt 0 ]; then
			echo "   ! the SIPp callee failed $((fafter - fbefore)) call(s) during that run (see sipp-uas-errors.log)"
			rc=1
		fi
	fi
	if [ -z "$line" ]; then
		echo "run.sh: the generator printed no result against $server ($alg); see $out/loadgen.log" >&2
		count_failed "$server"
		return 0
	fi
	[ "$rc" -eq 0 ] || count_failed "$server"
	if [ -n "$tna_phase" ]; then
		local r inl
		r=$(echo "$line" | sed -n 's/.*"rate":\([0-9]*\).*/\1/p')
		if [ "${r:-0}" -gt "$tna_best_rate" ]; then tna_best_rate=$r; fi
		inl=$(echo "$line" | sed -n 's/.*"bearer_signed_in_window":\([0-9]*\).*/\1/p')
		if [ "${inl:-0}" -gt 0 ]; then
			echo "   ! $inl token(s) were signed during that run (its pool ran out): the generator's ECDSA is in it"
		fi
	fi
	if [ "$round" != warmup ]; then
		echo "$line" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
r["server"], r["alg"], r["round"] = sys.argv[1], sys.argv[2], int(sys.argv[3])
hz = int(sys.argv[6])
r["server_cpu_s"] = (int(sys.argv[5]) - int(sys.argv[4])) / hz
r["callee_cpu_s"] = (int(sys.argv[8]) - int(sys.argv[7])) / hz
r["callee_failed"] = int(sys.argv[9])
print(json.dumps(r))' "$server" "$alg" "$round" "$before" "$after" "$HZ" "$cbefore" "$cafter" \
			"$((fafter - fbefore))" >>"$file"
	fi
	python3 -c '
import json, sys
r = json.loads(sys.argv[1])
l = r["latency_ms"]
print("   %-8s %-7s %-6s %8.0f %s (median %8.0f)  p50 %6.2f  p99 %6.2f ms  failures %d, connections failed %d" % (
    sys.argv[2], sys.argv[3], sys.argv[4], r["rate"], sys.argv[5], r["rate_median"], l["p50"],
    l["p99"], r["failures"], r["connections_failed"]))' "$line" "$server" "$alg" "$round" "$unit"
}

# rounds INSTANCES...: the warm-up, then ROUNDS rounds of every instance
# (an algorithm, or "call"), the targets alternating which goes first.
rounds() {
	local a s r order n=$ROUNDS secs=$DURATION
	if [ "$1" = call ]; then n=$CALL_ROUNDS secs=$CALL_DURATION; fi
	echo "== warm-up (not counted): $*"
	for a in "$@"; do
		for s in $TARGETS; do one_run "$s" "$a" warmup 3; done
	done
	echo "== measured runs: $*"
	local instances=("$@") i
	for r in $(seq 1 "$n"); do
		# Even rounds take the instances backwards too (ABBA across them,
		# as across the targets): a drift of the machine during a round
		# then does not always favour the same one.
		if [ $((r % 2)) -eq 0 ]; then
			instances=()
			for ((i = $#; i > 0; i--)); do instances+=("${!i}"); done
		else
			instances=("$@")
		fi
		for a in "${instances[@]}"; do
			order=$TARGETS
			if [ $((r % 2)) -eq 0 ]; then order=$(echo "$TARGETS" | awk '{ for (i = NF; i > 0; i--) printf "%s ", $i }'); fi
			for s in $order; do
				one_run "$s" "$a" "$r" "$secs"
			done
		done
	done
}

calls=$out/calls.jsonl
: >"$calls"
if [ -n "$want_reg" ]; then
	if [ -n "$want_wims" ]; then start_wims || exit 1; fi
	for a in $ALGORITHMS; do
		[ -n "$want_kam" ] || break
		start_kamailio "$a" || exit 1
	done
	# shellcheck disable=SC2086
	rounds $ALGORITHMS
	# The call phase starts servers of its own.
	for a in $ALGORITHMS; do stop_kamailio "$a"; done
fi
if [ -n "$want_aka" ] && [ -n "$want_wims" ]; then
	echo "== aka phase: wims with its default algorithms (AKA for the AKA subscribers, Digest for the others)"
	start_wims || exit 1
	aka_phase=1
	saved_targets=$TARGETS
	TARGETS=wims
	# shellcheck disable=SC2086
	rounds $AKA_ALGORITHMS MD5
	TARGETS=$saved_targets
	aka_phase=
fi
if [ -n "$want_tna" ] && [ -n "$want_wims" ]; then
	echo "== tna phase: wims with the generator's JWKS ([pcscf] waf_jwks); Digest MD5 beside it"
	start_wims --set "pcscf.waf_jwks=$work/jwks.json" || exit 1
	tna_phase=1
	saved_targets=$TARGETS
	TARGETS=wims
	rounds MD5 "${tna_instances[@]}"
	TARGETS=$saved_targets
	tna_phase=
fi
if [ -n "$want_call" ]; then
	echo "== call phase: starting the SIPp callee, wims with MD5 only, the Kamailio proxy"
	start_callee || exit 1
	if [ -n "$want_wims" ]; then
		start_wims --set cscf.digest_algorithms=MD5 || exit 1
		register_callee wims || exit 1
	fi
	if [ -n "$want_kam" ]; then start_kamailio call || exit 1; fi
	rounds call
fi

if [ "$incidents" -gt 0 ]; then
	echo "   $incidents run(s) repeated after a Kamailio crash; their partial results: $out/incidents.jsonl"
fi
note_incidents() {
	[ "$incidents" -eq 0 ] ||
		echo "$incidents run(s) repeated after a Kamailio crash (see kamailio-*.log; Debian's 5.6.3 with OpenSSL 3 is known to crash in TLS, kamailio issue #3791)."
}

# 4. Summary.
: >"$out/summary.md"
if [ -n "$want_reg" ]; then
echo "== registrations" | tee -a "$out/summary.md"
python3 - "$results" "$out/summary.md" "$out/summary.json" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
groups = {}
for r in runs:
    groups.setdefault((r["alg"], r["server"]), []).append(r)
def med(rs, f):
    return statistics.median(f(r) for r in rs)
rows, summary = [], {}
for alg in sorted({a for a, _ in groups}):
    per = {}
    for server in ("wims", "kamailio"):
        rs = groups.get((alg, server))
        if not rs:
            continue
        ok = sum(r["registrations"] for r in rs)
        cpu = sum(r["server_cpu_s"] for r in rs)
        per[server] = {
            "runs": len(rs),
            "rate": med(rs, lambda r: r["rate"]),
            "rate_median": med(rs, lambda r: r["rate_median"]),
            "p50": med(rs, lambda r: r["latency_ms"]["p50"]),
            "p90": med(rs, lambda r: r["latency_ms"]["p90"]),
            "p99": med(rs, lambda r: r["latency_ms"]["p99"]),
            "max": max(r["latency_ms"]["max"] for r in rs),
            "failures": sum(r["failures"] for r in rs),
            "connections_failed": sum(r["connections_failed"] for r in rs),
            "rates": [round(r["rate"]) for r in rs],
            "cpu_ms_per_reg": 1000.0 * cpu / ok if ok else None,
        }
    summary[alg] = per
    for server, s in per.items():
        cpu = "%.3f" % s["cpu_ms_per_reg"] if s["cpu_ms_per_reg"] is not None else "-"
        rows.append("| %s | %s | %.0f | %s | %.2f | %.2f | %.2f | %.2f | %s | %d | %d |" % (
            alg, server, s["rate"], " / ".join(str(x) for x in s["rates"]), s["p50"], s["p90"],
            s["p99"], s["max"], cpu, s["failures"], s["connections_failed"]))
    if "wims" in per and "kamailio" in per and per["kamailio"]["rate"]:
        w, k = per["wims"], per["kamailio"]
        ratio = w["rate"] / k["rate"]
        lat = w["p50"] / k["p50"] if k["p50"] else float("nan")
        per["ratio_rate"], per["ratio_p50"] = ratio, lat
        rows.append("| %s | **wims/Kamailio** | **%.2f** | | %.2f | | | | | | |" % (alg, ratio, lat))
head = ("| algorithm | server | reg/s (median of runs) | reg/s per run | p50 ms | p90 ms | p99 ms | max ms"
        " | server CPU ms/reg | failures | conns failed |\n"
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
table = head + "\n" + "\n".join(rows) + "\n"
open(sys.argv[2], "a").write(table + "\n")
json.dump(summary, open(sys.argv[3], "w"), indent=1)
print(table)
PY
fi
if [ -n "$want_call" ]; then
# SIPp prints its final screen (cumulative counts in the third column)
# when it stops.
stop_pid "$uas_pid"
uas_pid=
callee_ok=$(callee_count SuccessfulCall)
callee_failed=$(callee_count FailedCall)
echo "== calls: INVITE -> 100/180/200 -> ACK -> BYE -> 200, $CALL_CONNECTIONS callers over WSS, SIPp callee over TCP" |
	tee -a "$out/summary.md"
python3 - "$calls" "$out/summary.md" "$out/summary-calls.json" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def med(rs, f):
    return statistics.median(f(r) for r in rs)
rows, per = [], {}
for server in ("wims", "kamailio"):
    rs = [r for r in runs if r["server"] == server]
    if not rs:
        continue
    ok = sum(r["calls"] for r in rs)
    cpu = sum(r["server_cpu_s"] for r in rs)
    callee = sum(r["callee_cpu_s"] for r in rs)
    fails = {}
    for r in rs:
        for code, n in r["failures_by_code"].items():
            fails[code] = fails.get(code, 0) + n
    s = per[server] = {
        "runs": len(rs),
        "rate": med(rs, lambda r: r["rate"]),
        "rate_median": med(rs, lambda r: r["rate_median"]),
        "p50": med(rs, lambda r: r["latency_ms"]["p50"]),
        "p90": med(rs, lambda r: r["latency_ms"]["p90"]),
        "p99": med(rs, lambda r: r["latency_ms"]["p99"]),
        "max": max(r["latency_ms"]["max"] for r in rs),
        "failures": sum(r["failures"] for r in rs),
        "failures_by_code": fails,
        "callee_failed": sum(r.get("callee_failed", 0) for r in rs),
        "connections_failed": sum(r["connections_failed"] for r in rs),
        "rates": [round(r["rate"]) for r in rs],
        "cpu_ms_per_call": 1000.0 * cpu / ok if ok else None,
        "callee_cpu_ms_per_call": 1000.0 * callee / ok if ok else None,
    }
    f = lambda v: "%.3f" % v if v is not None else "-"
    codes = ", ".join("%s: %d" % kv for kv in sorted(fails.items())) or "0"
    rows.append("| %s | %.0f | %s | %.0f | %.2f | %.2f | %.2f | %.2f | %s | %s | %s | %d | %d |" % (
        server, s["rate"], " / ".join(str(x) for x in s["rates"]), s["rate_median"], s["p50"],
        s["p90"], s["p99"], s["max"], f(s["cpu_ms_per_call"]), f(s["callee_cpu_ms_per_call"]),
        codes, s["callee_failed"], s["connections_failed"]))
if "wims" in per and "kamailio" in per and per["kamailio"]["rate"]:
    w, k = per["wims"], per["kamailio"]
    per["ratio_rate"] = w["rate"] / k["rate"]
    per["ratio_p50"] = w["p50"] / k["p50"] if k["p50"] else None
    per["ratio_cpu"] = (w["cpu_ms_per_call"] / k["cpu_ms_per_call"]
                        if w["cpu_ms_per_call"] and k["cpu_ms_per_call"] else None)
    g = lambda v: "%.2f" % v if v is not None else "-"
    rows.append("| **wims/Kamailio** | **%.2f** | | | %s | | | | %s | | | | |" % (
        per["ratio_rate"], g(per["ratio_p50"]), g(per["ratio_cpu"])))
head = ("| server | calls/s (median of runs) | calls/s per run | per-second median | setup p50 ms"
        " | p90 ms | p99 ms | max ms | server CPU ms/call | SIPp CPU ms/call | failures"
        " | failed at SIPp | conns failed |\n"
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|")
table = head + "\n" + "\n".join(rows) + "\n"
open(sys.argv[2], "a").write(table + "\n")
json.dump(per, open(sys.argv[3], "w"), indent=1)
print(table)
PY
echo "SIPp callee since it (last) started (both targets, warm-ups included): ${callee_ok:-?} calls completed, ${callee_failed:-?} failed." |
	tee -a "$out/summary.md"
fi
if [ -n "$want_aka" ] && [ -n "$want_wims" ]; then
echo "== IMS AKA registrations through pcscf against Digest MD5 (wims, same run)" | tee -a "$out/summary.md"
python3 - "$aka_results" "$out/summary.md" "$out/summary-aka.json" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def med(rs, f):
    return statistics.median(f(r) for r in rs)
rows, per = [], {}
for alg in sorted({r["alg"] for r in runs}, key=lambda a: (a == "MD5", a)):
    rs = [r for r in runs if r["alg"] == alg]
    ok = sum(r["registrations"] for r in rs)
    cpu = sum(r["server_cpu_s"] for r in rs)
    s = per[alg] = {
        "runs": len(rs),
        "rate": med(rs, lambda r: r["rate"]),
        "p50": med(rs, lambda r: r["latency_ms"]["p50"]),
        "p99": med(rs, lambda r: r["latency_ms"]["p99"]),
        "failures": sum(r["failures"] for r in rs),
        "rates": [round(r["rate"]) for r in rs],
        "cpu_ms_per_reg": 1000.0 * cpu / ok if ok else None,
    }
base = per.get("MD5", {}).get("rate")
for alg, s in per.items():
    cpu = "%.3f" % s["cpu_ms_per_reg"] if s["cpu_ms_per_reg"] is not None else "-"
    ratio = "%.2f" % (s["rate"] / base) if base else "-"
    s["ratio_to_md5"] = s["rate"] / base if base else None
    rows.append("| %s | %.0f | %s | %s | %.2f | %.2f | %s | %d |" % (
        alg, s["rate"], " / ".join(str(x) for x in s["rates"]), ratio, s["p50"], s["p99"], cpu,
        s["failures"]))
head = ("| algorithm | reg/s (median of runs) | reg/s per run | ratio to Digest MD5 | p50 ms | p99 ms"
        " | server CPU ms/reg | failures |\n|---|---:|---|---:|---:|---:|---:|---:|")
table = head + "\n" + "\n".join(rows) + "\n"
open(sys.argv[2], "a").write(table + "\n")
json.dump(per, open(sys.argv[3], "w"), indent=1)
print(table)
PY
fi
if [ -n "$want_tna" ] && [ -n "$want_wims" ]; then
echo "== TNA registrations (Bearer token, pcscf as trusted node) against Digest MD5 (wims, same run)" | tee -a "$out/summary.md"
python3 - "$tna_results" "$out/summary.md" "$out/summary-tna.json" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def med(rs, f):
    return statistics.median(f(r) for r in rs)
names = {"MD5": "Digest MD5", "tna-cached": "TNA, token cached", "tna-uncached": "TNA, token verified (uncached)"}
order = ["MD5", "tna-cached", "tna-uncached"]
rows, per = [], {}
for alg in [a for a in order if any(r["alg"] == a for r in runs)]:
    rs = [r for r in runs if r["alg"] == alg]
    ok = sum(r["registrations"] for r in rs)
    cpu = sum(r["server_cpu_s"] for r in rs)
    per[alg] = {
        "runs": len(rs),
        "rate": med(rs, lambda r: r["rate"]),
        "p50": med(rs, lambda r: r["latency_ms"]["p50"]),
        "p99": med(rs, lambda r: r["latency_ms"]["p99"]),
        "failures": sum(r["failures"] for r in rs),
        "connections_failed": sum(r["connections_failed"] for r in rs),
        "rates": [round(r["rate"]) for r in rs],
        "cpu_ms_per_reg": 1000.0 * cpu / ok if ok else None,
        "signed_in_window": sum(r.get("bearer_signed_in_window", 0) for r in rs),
    }
base = per.get("MD5", {}).get("rate")
for alg, s in per.items():
    cpu = "%.3f" % s["cpu_ms_per_reg"] if s["cpu_ms_per_reg"] is not None else "-"
    s["ratio_to_md5"] = s["rate"] / base if base else None
    ratio = "%.2f" % s["ratio_to_md5"] if base else "-"
    signed = str(s["signed_in_window"]) if alg != "MD5" else ""
    rows.append("| %s | %.0f | %s | %s | %.2f | %.2f | %s | %d | %s |" % (
        names[alg], s["rate"], " / ".join(str(x) for x in s["rates"]), ratio, s["p50"], s["p99"],
        cpu, s["failures"] + s["connections_failed"], signed))
head = ("| registration | reg/s (median of runs) | reg/s per run | ratio to Digest MD5 | p50 ms | p99 ms"
        " | server CPU ms/reg | failures | tokens signed in the window |\n"
        "|---|---:|---|---:|---:|---:|---:|---:|---:|")
table = head + "\n" + "\n".join(rows) + "\n"
note = ("Digest MD5 is REGISTER -> 401 -> REGISTER -> 200 (two round trips); TNA is one"
        " REGISTER -> 200. Kamailio has no equivalent (no OAuth token / TNA registrar): not measured.\n")
open(sys.argv[2], "a").write(table + "\n" + note + "\n")
json.dump(per, open(sys.argv[3], "w"), indent=1)
print(table)
print(note)
PY
fi
note_incidents | tee -a "$out/summary.md"
echo "raw results: $results $calls $aka_results $tna_results"
if [ "$peer_failed_runs" -ne 0 ]; then
	echo "run.sh: warning: $peer_failed_runs Kamailio run(s) had failures or dropped connections (see the table)" >&2
fi
if [ "$failed_runs" -ne 0 ]; then
	echo "run.sh: $failed_runs wims run(s) had failures, calls failed at the SIPp callee or dropped connections (see the table, $out/loadgen.log and sipp-uas-errors.log)" >&2
	exit 1
fi
