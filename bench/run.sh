#!/bin/bash
# run.sh BUILD_DIR - what `make bench` runs: wims against Kamailio, same
# generator, same subscribers, same parameters, in the same run.
#
#  1. writes BENCH_USERS subscribers (user0000@ims.example.org ..., password
#     pw-N) to a CSV and imports it into a fresh wims data dir with
#     `wims hss import`; Kamailio loads the same CSV (bench/kamailio);
#  2. starts `wims demo` (log level warn) and Kamailio as a WSS registrar
#     (bench/kamailio/start.sh), all on 127.0.0.1 with one self-signed
#     certificate, on ports of their own so that a demo or a test running
#     beside the bench cannot answer in its place (wims's listeners use
#     SO_REUSEPORT: a second process on the same port would share the
#     traffic): wims pcscf 17443 (cscf 17060, Mw 17070, wwsf 18443),
#     Kamailio MD5 17444, SHA-256 17445;
#  3. warms each target up, then for BENCH_ROUNDS rounds and each Digest
#     algorithm runs wims-loadgen against wims and against Kamailio,
#     alternating which goes first (ABBA), and records the server's CPU
#     time during each run;
#  4. prints the medians over the rounds and the ratio wims/Kamailio, and
#     keeps everything in BUILD_DIR/bench/results-DATE/ (results.jsonl: one
#     RESULT line of the generator per run; summary.md; logs).
#
# Builds nothing: BUILD_DIR must hold wims and bench/wims-loadgen.
# Loopback only; bounded: about ROUNDS x algorithms x 2 x DURATION seconds
# plus start-up.  Every process it starts is stopped by PID on exit.
#
# Knobs (environment): BENCH_CONNECTIONS (100), BENCH_DURATION (20 s),
# BENCH_ROUNDS (3), BENCH_ALGORITHMS ("MD5 SHA-256"), BENCH_USERS
# (= connections), BENCH_THREADS (generator threads, 1), BENCH_EXPIRES
# (600), BENCH_KAMAILIO_CHILDREN (Kamailio TCP workers, 2),
# BENCH_WIMS_WORKERS (wims [global] workers, 0 = one per core),
# BENCH_TARGETS ("wims kamailio"; one of them alone measures only it).
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
CONNECTIONS=${BENCH_CONNECTIONS:-100}
DURATION=${BENCH_DURATION:-20}
ROUNDS=${BENCH_ROUNDS:-3}
ALGORITHMS=${BENCH_ALGORITHMS:-MD5 SHA-256}
USERS=${BENCH_USERS:-$CONNECTIONS}
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
case $WIMS_WORKERS in '' | *[!0-9]*) echo "run.sh: BENCH_WIMS_WORKERS must be a number" >&2; exit 2 ;; esac
if [ "$USERS" -lt "$CONNECTIONS" ]; then
	echo "run.sh: BENCH_USERS ($USERS) < BENCH_CONNECTIONS ($CONNECTIONS)" >&2
	exit 2
fi
if [ "$DURATION" -gt 300 ] || [ "$ROUNDS" -gt 20 ] || [ "$CONNECTIONS" -gt 20000 ]; then
	echo "run.sh: refusing more than 300 s per run, 20 rounds or 20000 connections" >&2
	exit 2
fi
for a in $ALGORITHMS; do
	case $a in MD5 | SHA-256) ;; *) echo "run.sh: unknown algorithm $a" >&2; exit 2 ;; esac
done
want_wims= want_kam=
for t in $TARGETS; do
	case $t in wims) want_wims=1 ;; kamailio) want_kam=1 ;; *) echo "run.sh: unknown target $t" >&2; exit 2 ;; esac
done
need=("$LOADGEN")
[ -n "$want_wims" ] && need+=("$WIMS")
[ -n "$want_kam" ] && need+=("$KAMAILIO")
for f in "${need[@]}"; do
	if [ ! -x "$f" ]; then
		echo "run.sh: $f is missing (build first: make bench builds it)" >&2
		exit 1
	fi
done

WIMS_PORT=17443
declare -A KAM_PORT=([MD5]=17444 [SHA-256]=17445)
for port in 17060 17070 17443 18443 17444 17445; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "run.sh: something already listens on 127.0.0.1:$port (a wims demo or Kamailio?): stop it first" >&2
		exit 1
	fi
done

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$build/bench/results-$stamp
mkdir -p "$out"
work=$(mktemp -d /tmp/wims-bench.XXXXXX)
wims_pid=
declare -A kam_pid
server_pids() { echo $wims_pid "${kam_pid[@]}"; }
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

echo "== wims bench: $CONNECTIONS connections, $DURATION s x $ROUNDS rounds, algorithms: $ALGORITHMS"
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
	--set "wwsf.listen=127.0.0.1:18443" --set "wwsf.pcscf_url=wss://127.0.0.1:$WIMS_PORT/")
if [ -n "$want_wims" ]; then
	t=$(date +%s.%N)
	if ! "$WIMS" "${wims_set[@]}" hss import "$csv" >"$out/hss-import.log" 2>&1; then
		echo "run.sh: wims hss import failed:" >&2
		tail -n 20 "$out/hss-import.log" >&2
		exit 1
	fi
	echo "   provisioned $USERS subscribers in wims in $(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
fi

# 2. Servers.
# Debian's Kamailio 5.6.3 with OpenSSL 3 may corrupt its shared memory when
# its TCP worker processes run their first TLS handshakes at the same time
# (kamailio issue #3791; fixed upstream by tls_threads_mode in later
# versions) and a worker dies.  So each instance first takes a few
# handshakes one after the other, and a run during which it died is
# reported, the instance restarted and the run repeated (twice at most).
start_kamailio() { # start_kamailio ALGORITHM
	local a=$1 flag=() i old=${kam_pid[$1]:-}
	if [ -n "$old" ]; then # what is left of a crashed instance
		kill "$old" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$old" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$old" 2>/dev/null || true
	fi
	[ "$a" = SHA-256 ] && flag=(--sha256)
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
			--connections 1 --duration 0.2 --algorithm "$a" >/dev/null 2>&1 || true
	done
}
if [ -n "$want_wims" ]; then
	"$WIMS" "${wims_set[@]}" demo >"$out/wims.log" 2>&1 &
	wims_pid=$!
	if ! wait_tcp "$WIMS_PORT" "$wims_pid"; then
		echo "run.sh: wims did not start:" >&2
		tail -n 20 "$out/wims.log" >&2
		exit 1
	fi
fi
for a in $ALGORITHMS; do
	[ -n "$want_kam" ] || break
	start_kamailio "$a" || exit 1
done

# 3. Runs.
results=$out/results.jsonl
: >"$results"
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
one_attempt() { # one_attempt SERVER ALGORITHM ROUND DURATION: 1 if the server died
	local server=$1 alg=$2 round=$3 secs=$4 port pid before after line rc=0
	if [ "$server" = wims ]; then port=$WIMS_PORT pid=$wims_pid; else port=${KAM_PORT[$alg]} pid=${kam_pid[$alg]}; fi
	before=$(cpu_ticks "$pid")
	line=$("$LOADGEN" --host 127.0.0.1 --port "$port" --insecure --quiet \
		--users "0-$((USERS - 1))" --connections "$CONNECTIONS" --duration "$secs" \
		--threads "$THREADS" --expires "$EXPIRES" --algorithm "$alg" \
		--label "$server $alg $round" 2>>"$out/loadgen.log" | sed -n 's/^RESULT //p') || rc=$?
	after=$(cpu_ticks "$pid")
	# A Kamailio worker that crashes makes the main process stop them all.
	if ! kill -0 "$pid" 2>/dev/null ||
		{ [ "$server" = kamailio ] && [ "$(pgrep -c -P "$pid" || true)" -eq 0 ]; }; then
		[ -n "$line" ] && echo "$line" >>"$out/incidents.jsonl"
		return 1
	fi
	if [ -z "$line" ]; then
		echo "run.sh: the generator printed no result against $server ($alg); see $out/loadgen.log" >&2
		count_failed "$server"
		return 0
	fi
	[ "$rc" -eq 0 ] || count_failed "$server"
	if [ "$round" != warmup ]; then
		echo "$line" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
r["server"], r["alg"], r["round"] = sys.argv[1], sys.argv[2], int(sys.argv[3])
r["server_cpu_s"] = (int(sys.argv[5]) - int(sys.argv[4])) / int(sys.argv[6])
print(json.dumps(r))' "$server" "$alg" "$round" "$before" "$after" "$HZ" >>"$results"
	fi
	python3 -c '
import json, sys
r = json.loads(sys.argv[1])
l = r["latency_ms"]
print("   %-6s %-7s %-6s %8.0f reg/s (median %8.0f)  p50 %6.2f  p99 %6.2f ms  failures %d, connections failed %d" % (
    sys.argv[2], sys.argv[3], sys.argv[4], r["rate"], r["rate_median"], l["p50"], l["p99"],
    r["failures"], r["connections_failed"]))' "$line" "$server" "$alg" "$round"
}

echo "== warm-up (not counted)"
for a in $ALGORITHMS; do
	for s in $TARGETS; do one_run "$s" "$a" warmup 3; done
done
echo "== measured runs"
for r in $(seq 1 "$ROUNDS"); do
	for a in $ALGORITHMS; do
		order=$TARGETS
		if [ $((r % 2)) -eq 0 ]; then order=$(echo "$TARGETS" | awk '{ for (i = NF; i > 0; i--) printf "%s ", $i }'); fi
		for s in $order; do
			one_run "$s" "$a" "$r" "$DURATION"
		done
	done
done

if [ "$incidents" -gt 0 ]; then
	echo "   $incidents run(s) repeated after a Kamailio crash; their partial results: $out/incidents.jsonl"
fi
note_incidents() {
	[ "$incidents" -eq 0 ] ||
		echo "$incidents run(s) repeated after a Kamailio crash (see kamailio-*.log; Debian's 5.6.3 with OpenSSL 3 is known to crash in TLS, kamailio issue #3791)."
}

# 4. Summary.
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
open(sys.argv[2], "w").write(table)
json.dump(summary, open(sys.argv[3], "w"), indent=1)
print(table)
PY
note_incidents | tee -a "$out/summary.md"
echo "raw results: $results"
if [ "$peer_failed_runs" -ne 0 ]; then
	echo "run.sh: warning: $peer_failed_runs Kamailio run(s) had failures or dropped connections (see the table)" >&2
fi
if [ "$failed_runs" -ne 0 ]; then
	echo "run.sh: $failed_runs wims run(s) had failures or dropped connections (see the table and $out/loadgen.log)" >&2
	exit 1
fi
