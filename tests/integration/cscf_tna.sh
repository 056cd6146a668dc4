#!/bin/bash
# cscf_tna.sh - trusted node authentication at the cscf (TR 33.871 6.1.2.2
# step 4, 6.1.3; REQ 2.1, 2.2, 2.3, 3.2) against the demo subscribers that
# the hss role seeds: grace (tna only, allows wwsf.ims.example.org) and
# pool1..pool4 (webshop.example.net's pool).
#
# A trusted node (the pcscf's address, 127.0.0.1, the default [cscf]
# trusted_nodes) sends REGISTERs as the pcscf forwards a Bearer one: the
# TNA Authorization (integrity-protected="auth-done") and P-WWSF-Identity.
# An attacker does the same from 127.0.0.2, which is not trusted.  Each
# REGISTER has a Contact of its own, so that every check also looks in the
# store (`wims hss show`) for a binding that must, or must not, be there.
#
#   grace via wwsf.ims.example.org             -> 200, bound
#   the same from 127.0.0.2 (TCP, UDP)         -> 403, not bound
#   no P-WWSF-Identity                         -> 403 "WWSF identity missing"
#   grace via webshop.example.net              -> 403 not allowed
#   pool1 via webshop.example.net              -> 200; via wwsf.ims... -> 403
#   MESSAGEs as the pcscf sends them (Route orig, P-Asserted-Identity)
#       from grace to pool1 and from pool1 to grace -> 200, delivered to a
#       stand-in P-CSCF on 5070 (where the Path of every binding points)
#   `wims hss wwsf-block webshop.example.net`  -> says it removed pool1's
#       registration: the binding is gone, the HSS has pool1 deregistered
#       (no S-CSCF name), grace's stay; grace -> pool1 480, not
#       delivered; pool1 (asserted) -> anyone 403 "Not registered" with a
#       Warning (TS 24.229 5.4.3.2), inside a dialog still forwarded;
#       grace still registered and reachable; pool1 (re-registration) and
#       pool2 403 "WWSF blocked", grace via the operator WWSF still 200
#   `wims hss wwsf-unblock`                    -> pool2 200 again
#   the cscf log names the WWSF of each TNA registration
#
# Uses 127.0.0.1:5060 like the demo: run under flock /tmp/wims-ports.lock.
. "$(dirname "$0")/../lib/harness.sh"

DATA=$TEST_TMP/data
wh() { "$WIMS_BIN" --set "global.data_dir=$DATA" hss "$@"; }
TNA=$TEST_TMP/tna.py

# tna.py --bind ADDR [--transport T] USER WWSF|- EXPECT [REASON]: one TNA
# REGISTER for USER (IMPI USER@ims.example.org, IMPU sip:USER@...) with
# P-WWSF-Identity WWSF ("-": none) and a fresh Contact; the status must be
# EXPECT, a refusal's reason phrase and Warning must say REASON, a 200
# must list the Contact.  Prints the Contact on its last line.
cat >"$TNA" <<'PY'
import argparse, random, socket, string, sys

p = argparse.ArgumentParser()
p.add_argument("--bind", default="127.0.0.1")
p.add_argument("--transport", default="tcp", choices=["tcp", "udp"])
p.add_argument("--domain", default="ims.example.org")
p.add_argument("user")
p.add_argument("wwsf")
p.add_argument("expect", type=int)
p.add_argument("reason", nargs="?", default=None)
a = p.parse_args()

def tok(n=10):
    return "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(n))

def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)

if a.transport == "tcp":
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
# The source address is what the cscf trusts or not.
s.bind((a.bind, 0))
s.settimeout(5)
s.connect(("127.0.0.1", 5060))
lh, lp = s.getsockname()
impi = "%s@%s" % (a.user, a.domain)
impu = "sip:" + impi
contact = "sip:%s-%s@192.0.2.50:5060;transport=ws" % (a.user, tok(6))
msg = ("REGISTER sip:%s SIP/2.0\r\n"
       "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK%s;rport\r\n"
       "Max-Forwards: 70\r\n"
       "From: <%s>;tag=%s\r\nTo: <%s>\r\n"
       "Call-ID: %s@tna-test\r\nCSeq: 1 REGISTER\r\n"
       "Supported: path\r\nPath: <sip:tok%s@127.0.0.1:5070;transport=tcp;lr;ob>\r\n"
       "Contact: <%s>\r\nExpires: 600\r\n"
       'Authorization: Digest username="%s", realm="%s", uri="sip:%s", nonce="", '
       'response="", integrity-protected="auth-done"\r\n'
       % (a.domain, a.transport.upper(), lh, lp, tok(), impu, tok(6), impu, tok(16), tok(6),
          contact, impi, a.domain, a.domain))
if a.wwsf != "-":
    msg += "P-WWSF-Identity: %s\r\n" % a.wwsf
msg += "Content-Length: 0\r\n\r\n"
s.sendall(msg.encode()) if a.transport == "tcp" else s.send(msg.encode())
data = b""
while b"\r\n\r\n" not in data:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
text = data.decode(errors="replace")
lines = text.split("\r\n")
print(lines[0])
parts = lines[0].split(" ", 2)
if len(parts) < 2 or not parts[1].isdigit():
    fail("no SIP response: %r" % text[:200])
code, phrase = int(parts[1]), parts[2] if len(parts) > 2 else ""
if code != a.expect:
    fail("expected %d, got %d %s" % (a.expect, code, phrase))
if a.reason is not None:
    if phrase != a.reason:
        fail("reason phrase %r, expected %r" % (phrase, a.reason))
    warn = [l for l in lines if l.lower().startswith("warning:")]
    if not any('399 ' in w and '"%s"' % a.reason in w for w in warn):
        fail("no Warning: 399 ... \"%s\" in %r" % (a.reason, warn))
if code == 200 and ("<%s>" % contact) not in text:
    fail("200 without our Contact")
print(contact)
PY

# msg.py FROM TO EXPECT [REASON] [--in-dialog]: a MESSAGE as the pcscf
# forwards a WIC's (from 127.0.0.1 over TCP, Route <sip:orig@...>,
# P-Asserted-Identity <sip:FROM@...>) to sip:TO@...; the status must be
# EXPECT, and a refusal's reason phrase and Warning must say REASON.
MSG=$TEST_TMP/msg.py
cat >"$MSG" <<'PY'
import random, socket, string, sys

a = [x for x in sys.argv[1:] if x != "--in-dialog"]
in_dialog = "--in-dialog" in sys.argv
frm, to, expect = a[0], a[1], int(a[2])
reason = a[3] if len(a) > 3 else None
d = "ims.example.org"
tok = lambda n=10: "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(n))
s = socket.create_connection(("127.0.0.1", 5060), timeout=5)
lh, lp = s.getsockname()
body = "hello from %s" % frm
msg = ("MESSAGE sip:%s@%s SIP/2.0\r\n"
       "Via: SIP/2.0/TCP %s:%d;branch=z9hG4bK%s;rport\r\n"
       "Max-Forwards: 70\r\n"
       "Route: <sip:orig@127.0.0.1:5060;lr>\r\n"
       "From: <sip:%s@%s>;tag=%s\r\nTo: <sip:%s@%s>%s\r\n"
       "Call-ID: %s@msg-test\r\nCSeq: 1 MESSAGE\r\n"
       "P-Asserted-Identity: <sip:%s@%s>\r\n"
       "Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s"
       % (to, d, lh, lp, tok(), frm, d, tok(6), to, d, ";tag=" + tok(6) if in_dialog else "",
          tok(16), frm, d, len(body), body))
s.sendall(msg.encode())
data = b""
while True:
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            print("FAIL: connection closed: %r" % data[:200])
            sys.exit(1)
        data += chunk
    head, _, data = data.partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    code = int(lines[0].split(" ", 2)[1])
    if code >= 200:
        break
print(lines[0])
phrase = lines[0].split(" ", 2)[2] if len(lines[0].split(" ", 2)) > 2 else ""
if code != expect:
    print("FAIL: expected %d" % expect)
    sys.exit(1)
if reason is not None:
    warn = [l for l in lines if l.lower().startswith("warning:")]
    if phrase != reason or not any(' 399 ' in w and '"%s"' % reason in w for w in warn):
        print("FAIL: expected %r with Warning: 399, got %r %r" % (reason, phrase, warn))
        sys.exit(1)
PY
# ue.py: a stand-in P-CSCF on 127.0.0.1:5070 (the Path of the bindings
# above): answers 200 to every request and logs its request line.
UE=$TEST_TMP/ue.py
cat >"$UE" <<'PY'
import re, select, socket, time
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 5070))
ls.listen(8)
print("listening", flush=True)
conns, bufs = [], {}
end = time.time() + 120
while time.time() < end:
    r, _, _ = select.select([ls] + conns, [], [], 0.5)
    for c in r:
        if c is ls:
            n, _ = ls.accept()
            conns.append(n)
            bufs[n] = b""
            continue
        d = c.recv(65536)
        if not d:
            conns.remove(c)
            continue
        bufs[c] += d
        while b"\r\n\r\n" in bufs[c]:
            head, _, rest = bufs[c].partition(b"\r\n\r\n")
            lines = head.decode(errors="replace").split("\r\n")
            m = re.search(r"(?im)^content-length:\s*(\d+)", head.decode(errors="replace"))
            blen = int(m.group(1)) if m else 0
            if len(rest) < blen:
                break
            bufs[c] = rest[blen:]
            if lines[0].startswith("SIP/2.0"):
                continue
            pai = [l for l in lines if l.lower().startswith("p-asserted-identity:")]
            print("got %s %s" % (lines[0], pai[0] if pai else ""), flush=True)
            keep = [l for l in lines[1:] if l.split(":")[0].strip().lower() in
                    ("via", "from", "to", "call-id", "cseq")]
            keep = [l + ";tag=ue1" if l.lower().startswith("to:") and "tag=" not in l else l
                    for l in keep]
            c.sendall(("SIP/2.0 200 OK\r\n" + "\r\n".join(keep) +
                       "\r\nContent-Length: 0\r\n\r\n").encode())
PY
msg() { python3 "$MSG" "$@"; }
# delivered USER: the stand-in got a MESSAGE for one of USER's Contacts
# since the mark (`got_mark`).
got_mark() { GOT_FROM=$(($(wc -l <"$TEST_TMP/ue.log") + 1)); }
delivered() { tail -n +"$GOT_FROM" "$TEST_TMP/ue.log" | grep -E "^got MESSAGE sip:$1-"; }
undelivered() { ! delivered "$@"; }
# no_binding USER: `wims hss show` lists no Contact for USER.
no_binding() {
	if wh show "$1@ims.example.org" | grep -F "contact "; then
		echo "$1 still has bindings"
		return 1
	fi
}
has_binding() { wh show "$1@ims.example.org" | grep -F "contact "; }

# reg ARGS...: tna.py; the Contact it used is kept in $TEST_TMP/contact.
reg() {
	python3 "$TNA" "$@" >"$TEST_TMP/tna.out" 2>&1
	local rc=$?
	cat "$TEST_TMP/tna.out"
	tail -n 1 "$TEST_TMP/tna.out" >"$TEST_TMP/contact"
	return $rc
}
# bound USER / unbound USER: the last Contact is (not) a binding of USER.
bound() {
	local c
	c=$(cat "$TEST_TMP/contact")
	wh show "$1@ims.example.org" | grep -F "contact $c " || { echo "$c is not bound"; return 1; }
}
unbound() {
	local c
	c=$(cat "$TEST_TMP/contact")
	if wh show "$1@ims.example.org" | grep -F "contact $c"; then
		echo "$c is bound"
		return 1
	fi
}
# accepted FROM TRANSPORT USER WWSF / refused FROM TRANSPORT USER WWSF
# REASON: a TNA REGISTER from address FROM, then the store.
accepted() { reg --bind "$1" --transport "$2" "$3" "$4" 200 && bound "$3"; }
refused() { reg --bind "$1" --transport "$2" "$3" "$4" 403 "$5" && unbound "$3"; }
logged() {
	grep -F -- "$1" "$TEST_TMP/wims-cscf.log" || { echo "not in the cscf log: $1"; return 1; }
}

# The hss role seeds the demo subscribers (grace, pool1..pool4 with them).
wims_start hss
seeded() {
	for _ in $(seq 100); do
		grep -q 'provisioned .* demo subscribers' "$TEST_TMP/wims-hss.log" && return 0
		sleep 0.1
	done
	cat "$TEST_TMP/wims-hss.log"
	return 1
}
check "hss seeds the demo subscribers" seeded
check "grace allows wwsf.ims.example.org, pool1..4 are webshop's" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss wwsfs | tee /dev/stderr | grep -qx 'allowed wwsf.ims.example.org grace@ims.example.org' && $WIMS_BIN --set global.data_dir=$DATA hss wwsfs | grep -qx 'pool webshop.example.net pool4@ims.example.org'"
wims_start cscf
check "cscf started with trusted node 127.0.0.1 by default" logged "trusted nodes: 127.0.0.1"

# --- scenario 2: grace through the operator's WWSF ---
check "grace via wwsf.ims.example.org from the trusted node -> 200 and a binding" \
	accepted 127.0.0.1 tcp grace wwsf.ims.example.org
check "the cscf log names the WWSF of the TNA registration" \
	logged "REGISTER sip:grace@ims.example.org (grace@ims.example.org) by trusted node 127.0.0.1 for WWSF wwsf.ims.example.org: authorized"
check "udp: grace via wwsf.ims.example.org -> 200 and a binding" \
	accepted 127.0.0.1 udp grace wwsf.ims.example.org
check "attack: the same REGISTER from 127.0.0.2 (not a trusted node) -> 403, no binding" \
	refused 127.0.0.2 tcp grace wwsf.ims.example.org \
	"Trusted node authentication from an untrusted node"
check "attack: udp from 127.0.0.2 -> 403, no binding" \
	refused 127.0.0.2 udp grace wwsf.ims.example.org \
	"Trusted node authentication from an untrusted node"
check "attack: from 127.0.0.2 without P-WWSF-Identity -> 403, no binding" \
	refused 127.0.0.2 tcp grace - "Trusted node authentication from an untrusted node"
check "REQ 2.3: no P-WWSF-Identity from the trusted node -> 403 WWSF identity missing" \
	refused 127.0.0.1 tcp grace - "WWSF identity missing"
check "REQ 2.1: grace via webshop.example.net (not allowed by her) -> 403" \
	refused 127.0.0.1 tcp grace webshop.example.net "WWSF not allowed for this subscription"
check "the refusal is logged with the WWSF" \
	logged "for WWSF webshop.example.net: refused, WWSF not allowed for this subscription"
check "a WWSF identity that is not one -> 403" \
	refused 127.0.0.1 tcp grace "wwsf.ims.example.org,evil" "Bad WWSF identity"
check "alice (Digest only) through TNA -> 403" \
	refused 127.0.0.1 tcp alice wwsf.ims.example.org \
	"trusted node authentication not allowed for this IMPI"

# --- scenario 3: the third-party WWSF's pool ---
check "pool1 via webshop.example.net (its pool) -> 200 and a binding" \
	accepted 127.0.0.1 tcp pool1 webshop.example.net
check "REQ 3.2: pool1 via wwsf.ims.example.org (not its pool, not allowed) -> 403" \
	refused 127.0.0.1 tcp pool1 wwsf.ims.example.org "IMPI not in the WWSF's pool"
check "attack: pool2 via webshop.example.net from 127.0.0.2 -> 403" \
	refused 127.0.0.2 tcp pool2 webshop.example.net \
	"Trusted node authentication from an untrusted node"

# --- their requests, as the pcscf forwards them ---
spawn ue python3 "$UE"
UE_PID=$SPAWNED_PID
wait_tcp 5070
got_mark
check "a MESSAGE from grace to pool1 -> 200" msg grace pool1 200
check "... delivered to pool1's Contact" delivered pool1
check "a MESSAGE from pool1 (registered through webshop.example.net) to grace -> 200" \
	msg pool1 grace 200
check "... delivered to grace" delivered grace
check "TS 24.229 5.4.3.2: a MESSAGE asserted as pool3 (not registered) -> 403 Not registered" \
	msg pool3 grace 403 "Not registered"

# --- REQ 2.2: one command blocks a WWSF, at once, its registrations too ---
blocked_out() {
	local out
	out=$(wh wwsf-block webshop.example.net --reason "cscf_tna test") || return 1
	echo "$out"
	[ "$out" = "blocked webshop.example.net; removed 1 registration; reason: cscf_tna test" ]
}
check "wims hss wwsf-block webshop.example.net says it removed pool1's registration" blocked_out
check "pool1's binding is gone" no_binding pool1
check "... and the HSS no longer names an S-CSCF for pool1 (deregistered)" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss show pool1@ims.example.org | grep -x 'scscf (none)'"
check "... while grace keeps hers" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss show grace@ims.example.org | grep -x 'scscf sip:127.0.0.1:5060'"
check "grace (wwsf.ims.example.org) is still registered" has_binding grace
got_mark
check "blocked: a MESSAGE from grace to pool1 -> 480" msg grace pool1 480
check "... not delivered" undelivered pool1
check "blocked: a MESSAGE asserted as pool1 from the trusted node -> 403 Not registered + Warning" \
	msg pool1 grace 403 "Not registered"
check "... not delivered" undelivered grace
check "a request inside a dialog asserted as pool1 is still forwarded (200)" \
	msg pool1 grace 200 --in-dialog
check "others unaffected: a MESSAGE from grace to grace -> 200, delivered" msg grace grace 200
check "... delivered to grace" delivered grace
check "the refusal is logged with the served user" logged "for sip:pool1@ims.example.org: not registered: 403"
kill "$UE_PID" 2>/dev/null
wait "$UE_PID" 2>/dev/null
check "blocked: pool2 via webshop.example.net -> 403 WWSF blocked" \
	refused 127.0.0.1 tcp pool2 webshop.example.net "WWSF blocked"
check "blocked: pool1's re-registration via webshop.example.net -> 403 WWSF blocked" \
	refused 127.0.0.1 tcp pool1 webshop.example.net "WWSF blocked"
check "the block is logged with the WWSF" \
	logged "REGISTER sip:pool2@ims.example.org (pool2@ims.example.org) by trusted node 127.0.0.1 for WWSF webshop.example.net: refused, WWSF blocked"
check "others unaffected: grace via wwsf.ims.example.org -> 200" \
	accepted 127.0.0.1 tcp grace wwsf.ims.example.org
check "wims hss wwsf-unblock webshop.example.net" wh wwsf-unblock webshop.example.net
check "unblocked: pool2 via webshop.example.net -> 200 again" \
	accepted 127.0.0.1 tcp pool2 webshop.example.net

stop_cscf() {
	kill "$WIMS_PID" 2>/dev/null
	wait "$WIMS_PID"
	local rc=$?
	if grep -qE "AddressSanitizer|runtime error|LeakSanitizer" "$TEST_TMP/wims-cscf.log"; then
		grep -E -A5 "AddressSanitizer|runtime error|LeakSanitizer" "$TEST_TMP/wims-cscf.log" | head -20
		rc=1
	fi
	return $rc
}
check "cscf stops cleanly" stop_cscf
finish
