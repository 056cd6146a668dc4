# harness.sh - shared helpers for integration and attack tests (bash).
#
# Source it from a test script:
#	. "$(dirname "$0")/../lib/harness.sh"
#	wims_start demo            # wims on 127.0.0.1 with a fresh data dir
#	check "REGISTER gets 401"  sipp ...
#	finish                     # prints the tally, exits 1 if anything failed
#
# Every process started here is stopped by PID when the script exits, also
# on failure.  Results are TAP-like lines ("ok - name" / "not ok - name")
# that tests/run-checks.sh counts.
set -u

HARNESS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WIMS_BIN=${WIMS_BIN:-$HARNESS_ROOT/build/wims}
TEST_TMP=$(mktemp -d /tmp/wims-test.XXXXXX)
HARNESS_PIDS=()
HARNESS_PASSED=0
HARNESS_FAILED=0

harness_cleanup() {
	local pid
	for pid in "${HARNESS_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${HARNESS_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null
	done
	if [ "${KEEP_TMP:-}" = "" ]; then rm -rf "$TEST_TMP"; fi
}
trap harness_cleanup EXIT

# spawn NAME CMD...: start CMD in the background, log to $TEST_TMP/NAME.log,
# remember its PID for cleanup; sets SPAWNED_PID.
spawn() {
	local name=$1
	shift
	"$@" >"$TEST_TMP/$name.log" 2>&1 &
	SPAWNED_PID=$!
	HARNESS_PIDS+=("$SPAWNED_PID")
}

# wait_tcp PORT [SECONDS]: until something listens on 127.0.0.1:PORT.
wait_tcp() {
	local port=$1 secs=${2:-20}
	for _ in $(seq $((secs * 10))); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "# nothing listens on 127.0.0.1:$port after ${secs}s" >&2
	return 1
}

# wims_start ROLE [--set k=v]...: start wims with its data and TLS files in
# $TEST_TMP; waits for the demo ports of the roles it starts.
wims_start() {
	local role=$1
	shift
	spawn "wims-$role" "$WIMS_BIN" --set "global.data_dir=$TEST_TMP/data" \
		--set "global.tls_cert=$TEST_TMP/data/tls/cert.pem" \
		--set "global.tls_key=$TEST_TMP/data/tls/key.pem" "$@" "$role"
	WIMS_PID=$SPAWNED_PID
	case $role in
	demo) wait_tcp 5060 && wait_tcp 7443 && wait_tcp 8443 && wait_tcp 8445 && wait_tcp 9443 && wait_tcp 8446 ;;
	cscf) wait_tcp 5060 ;;
	pcscf) wait_tcp 7443 ;;
	wwsf) wait_tcp 8443 ;;
	waf) wait_tcp 9443 ;;
	me) wait_tcp 8445 ;;
	esac
}

# check NAME CMD...: run CMD, record ok/not ok under NAME.
check() {
	local name=$1
	shift
	if "$@" >"$TEST_TMP/check.out" 2>&1; then
		echo "ok - $name"
		HARNESS_PASSED=$((HARNESS_PASSED + 1))
	else
		echo "not ok - $name"
		sed 's/^/#   /' "$TEST_TMP/check.out" | tail -n 30
		HARNESS_FAILED=$((HARNESS_FAILED + 1))
	fi
}

# expect_fail NAME CMD...: CMD must fail (an attack that must be refused).
expect_fail() {
	local name=$1
	shift
	if "$@" >"$TEST_TMP/check.out" 2>&1; then
		echo "not ok - $name (expected a refusal, it succeeded)"
		sed 's/^/#   /' "$TEST_TMP/check.out" | tail -n 30
		HARNESS_FAILED=$((HARNESS_FAILED + 1))
	else
		echo "ok - $name"
		HARNESS_PASSED=$((HARNESS_PASSED + 1))
	fi
}

finish() {
	echo "# $HARNESS_PASSED passed, $HARNESS_FAILED failed"
	[ "$HARNESS_FAILED" -eq 0 ]
}
