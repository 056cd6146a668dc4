#!/bin/bash
# start.sh - runs the bench Kamailio (kamailio.cfg beside this file) in the
# foreground as a WSS registrar with Digest (and with --calls TCP_PORT, as
# the proxy routing calls between the WSS users and phones on SIP/TCP at
# 127.0.0.1:TCP_PORT), for bench/run.sh and tests/integration/bench_smoke.sh.  It execs Kamailio, so the PID of this
# script is the PID of Kamailio's main process: stop it with kill PID.
#
#   start.sh --dir DIR --cert CERT --key KEY --users CSV
#            [--port 7444] [--origin https://127.0.0.1:8443]
#            [--sha256] [--children 2] [--calls TCP_PORT] [--shm MB] [--check]
#
# CSV is the file `wims hss import` reads: a header line, then
# impi,impu,password per subscriber.  DIR (created) receives the db_text
# table the htable "pw" loads (IMPI -> password), links to CERT and KEY
# (tls.cfg names them ./cert.pem and ./key.pem) and Kamailio's pid file.
# --shm is Kamailio's shared memory in MB (256, or 1024 with --calls).
# --check only checks the configuration (kamailio -c) and exits.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir= cert= key= users= port=7444 origin=https://127.0.0.1:8443 sha256= children=2 check= calls= shm=
while [ $# -gt 0 ]; do
	case $1 in
	--dir) dir=$2; shift 2 ;;
	--cert) cert=$2; shift 2 ;;
	--key) key=$2; shift 2 ;;
	--users) users=$2; shift 2 ;;
	--port) port=$2; shift 2 ;;
	--origin) origin=$2; shift 2 ;;
	--sha256) sha256=1; shift ;;
	--children) children=$2; shift 2 ;;
	--calls) calls=$2; shift 2 ;;
	--shm) shm=$2; shift 2 ;;
	--check) check=1; shift ;;
	*) echo "start.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
if [ -z "$dir" ] || [ -z "$cert" ] || [ -z "$key" ] || [ -z "$users" ]; then
	echo "usage: start.sh --dir DIR --cert CERT --key KEY --users CSV [--port N] [--origin O] [--sha256] [--children N] [--calls TCP_PORT] [--check]" >&2
	exit 2
fi
case $port in '' | *[!0-9]*) echo "start.sh: bad --port" >&2; exit 2 ;; esac
case $children in '' | *[!0-9]*) echo "start.sh: bad --children" >&2; exit 2 ;; esac
case $calls in *[!0-9]*) echo "start.sh: bad --calls" >&2; exit 2 ;; esac
case $shm in *[!0-9]*) echo "start.sh: bad --shm" >&2; exit 2 ;; esac
# Shared memory: 256 MB holds the registrar's bindings and TLS state.  A
# proxy keeps each finished transaction for tm's wait timer (5 s) at about
# 15 kB each (INVITE and BYE: two per call), so a few thousand calls per
# second need 1 GB.
# Memory manager: TLSF for shared and private memory (-x, -X), as production
# setups choose; the default q_malloc walks its free lists and spent 43 %
# of the proxy's CPU in qm_malloc under the call load (perf), halving its
# rate.
if [ -z "$shm" ]; then
	if [ -n "$calls" ]; then shm=1024; else shm=256; fi
fi
case $origin in *'"'* | *'\'*) echo "start.sh: bad --origin" >&2; exit 2 ;; esac

KAMAILIO=${KAMAILIO_BIN:-/usr/sbin/kamailio}
mkdir -p "$dir/db"
dir=$(cd "$dir" && pwd)
ln -sf "$(readlink -f "$cert")" "$dir/cert.pem"
ln -sf "$(readlink -f "$key")" "$dir/key.pem"

# db_text table for htable: the columns htable reads by default; key_type 0
# (single value), value_type 0 (string).  db_text separates columns with
# ':' and escapes ':' and '\' inside a value with a backslash.
{
	echo "key_name(str) key_type(int) value_type(int) key_value(str) expires(int)"
	tail -n +2 "$users" | tr -d '\r' | awk -F, 'NF >= 3 && $1 != "" {
		k = $1; v = $3
		gsub(/\\/, "\\\\", k); gsub(/:/, "\\:", k)
		gsub(/\\/, "\\\\", v); gsub(/:/, "\\:", v)
		printf "%s:0:0:%s:0\n", k, v
	}'
} >"$dir/db/bench_pw"

args=(-f "$here/kamailio.cfg" -DD -E -w "$dir" -P "$dir/kamailio.pid" -m "$shm" -M 16 -x tlsf -X tlsf
	-A "BENCH_PORT=$port" -A "BENCH_ORIGIN=\"$origin\"" -A "BENCH_CHILDREN=$children"
	-A "BENCH_TLS_CFG=\"$here/tls.cfg\"" -A "BENCH_DB_URL=\"text://$dir/db\"")
if [ -n "$sha256" ]; then args+=(-A WITH_SHA256); fi
if [ -n "$calls" ]; then args+=(-A WITH_CALLS -A "BENCH_TCP_PORT=$calls"); fi
if [ -n "$check" ]; then
	exec "$KAMAILIO" -c "${args[@]}"
fi
cd "$dir"
exec "$KAMAILIO" "${args[@]}"
