#!/usr/bin/env bash
# origin.sh - TR 33.871, NOTE on Origin in every registration scenario
# (DESIGN 4 step 2, 5): the eP-CSCF opens SIP over WebSocket only for pages
# of the allowed origins.  A foreign, look-alike or missing Origin gets
# HTTP 403 before the upgrade (so no SIP message, not even a REGISTER, is
# ever read on it) and a log line; the allowed origin is served.
. "$(dirname "$0")/../lib/harness.sh"

client() { python3 "$HARNESS_ROOT/tests/integration/lib/pcscf_wsclient.py" "$@"; }

# No core needed: nothing gets past the upgrade.
wims_start pcscf --set pcscf.cscf_addr=127.0.0.1:5091

check "foreign Origin: HTTP 403 before the upgrade" client origin https://evil.example
check "allowed host on another port: 403" client origin https://127.0.0.1:9443
check "allowed host over http: 403" client origin http://127.0.0.1:8443
check "look-alike suffix: 403" client origin https://127.0.0.1:8443.evil.example
check "opaque origin \"null\" (sandboxed page, file:): 403" client origin null
check "no Origin at all: 403" client origin ""
check "refusals are logged with the Origin" \
	grep -q 'WebSocket from Origin "https://evil.example" refused (HTTP 403)' "$TEST_TMP/wims-pcscf.log"
check "missing Origin is logged" grep -q "WebSocket without Origin refused" "$TEST_TMP/wims-pcscf.log"
expect_fail "the allowed origin is not refused" client origin https://127.0.0.1:8443
expect_fail "the allowed origin (localhost) is not refused" client origin https://localhost:8443
check "the allowed origin gets a working SIP flow" client unregistered

finish
