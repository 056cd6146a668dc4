#!/usr/bin/env python3
"""cscf_sipclient.py - a small SIP UA (python3 stdlib) that drives the cscf
registrar over TCP or UDP, computing Digest MD5 and SHA-256 itself (SIPp
3.6.1 only knows MD5 and AKAv1-MD5).  Each subcommand is one scenario that
asserts what the cscf must answer and exits 0 (as expected) or 1.

  register USER PW [--alg A] [--expires N]   401 then 200 with Contact;expires,
                                             P-Associated-URI, Service-Route,
                                             Path echoed, rspauth verified
  nc-increment USER PW      same nonce, nc=2: 200 without a new challenge
  replay USER PW            the same Authorization (same nc) again: refused
  wrong-password USER       403 "Wrong password"
  unknown-user USER         404 "Unknown user"
  ratelimit USER PW         11 wrong passwords, then the right one: 403
                            "Too many failed attempts"
  stale USER PW --wait S    a nonce older than the lifetime: 401 stale=true
  deregister USER PW        Expires: 0 removes the contact (200 without it)
  star USER PW              Contact: * / Expires: 0 removes every contact
  min-expires USER PW       Expires: 30 -> 423 with Min-Expires
  cseq-order USER PW        same Call-ID, lower CSeq -> 400
  fetch USER PW --contact C REGISTER without Contact lists C (RFC 3261 10.2.3)
  tna USER --expect CODE    integrity-protected="auth-done" credentials
  tna-message               the same on a MESSAGE from an untrusted node: 403
  retransmit USER PW        UDP: the same REGISTER again (same branch) gets
                            the same 200 (server transaction), not a refusal
  malformed                 a REGISTER with a broken CSeq -> 400 "Bad CSeq"
  options                   OPTIONS to us -> 200 with Allow
  oversize                  TCP REGISTER above 64 KiB -> 513, then close
  keepalive                 TCP "\\r\\n\\r\\n" ping -> "\\r\\n" pong (RFC 5626)
  foreign-domain USER       REGISTER for another domain -> 403
Options: --host 127.0.0.1 --port 5060 --transport tcp|udp --domain D
"""
import argparse
import hashlib
import os
import random
import re
import socket
import sys
import time


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


class Conn:
    def __init__(self, host, port, transport):
        self.transport = transport
        self.addr = (host, port)
        if transport == "tcp":
            self.s = socket.create_connection(self.addr, timeout=5)
        else:
            self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.s.settimeout(5)
            self.s.connect(self.addr)
        self.buf = b""
        self.local = self.s.getsockname()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        if self.transport == "tcp":
            self.s.sendall(data)
        else:
            self.s.send(data)

    def recv_raw(self, n=1):
        return self.s.recv(n)

    def recv(self):
        """One SIP response: (code, reason, headers [(name, value)], raw)."""
        if self.transport == "udp":
            raw = self.s.recv(65535).decode(errors="replace")
            return parse_response(raw)
        while True:
            head_end = self.buf.find(b"\r\n\r\n")
            if head_end >= 0:
                head = self.buf[:head_end].decode(errors="replace")
                m = re.search(r"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
                clen = int(m.group(1)) if m else 0
                total = head_end + 4 + clen
                if len(self.buf) >= total:
                    raw = self.buf[:total].decode(errors="replace")
                    self.buf = self.buf[total:]
                    return parse_response(raw)
            chunk = self.s.recv(65535)
            if not chunk:
                fail("connection closed by the cscf")
            self.buf += chunk

    def close(self):
        self.s.close()


def parse_response(raw):
    lines = raw.split("\r\n")
    m = re.match(r"SIP/2\.0 (\d{3}) (.*)", lines[0])
    if not m:
        fail("not a SIP response: %r" % lines[0])
    headers = []
    for line in lines[1:]:
        if line == "":
            break
        name, _, value = line.partition(":")
        headers.append((name.strip().lower(), value.strip()))
    return int(m.group(1)), m.group(2), headers, raw


def hdrs(headers, name):
    return [v for n, v in headers if n == name.lower()]


def auth_params(value):
    """Digest challenge parameters into a dict."""
    value = re.sub(r"^\s*Digest\s+", "", value, flags=re.I)
    out = {}
    for m in re.finditer(r'([\w-]+)\s*=\s*("([^"]*)"|[^,\s]+)', value):
        out[m.group(1).lower()] = m.group(3) if m.group(3) is not None else m.group(2)
    return out


def H(alg, s):
    f = hashlib.sha256 if alg.upper().startswith("SHA-256") else hashlib.md5
    return f(s.encode()).hexdigest()


def rand_token(n=10):
    return "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


class UA:
    def __init__(self, args, user, password=None):
        self.a = args
        self.user = user
        self.password = password
        self.domain = args.domain
        self.impi = "%s@%s" % (user, self.domain)
        self.impu = "sip:%s@%s" % (user, self.domain)
        self.c = Conn(args.host, args.port, args.transport)
        self.callid = rand_token(16) + "@wims-test"
        self.cseq = 0
        self.tag = rand_token(8)
        lh, lp = self.c.local
        self.contact = "sip:%s@%s:%d;transport=%s" % (user, lh, lp, args.transport)
        self.ruri = "sip:" + self.domain
        self.path = "<sip:tok%s@127.0.0.1:5070;transport=tcp;lr;ob>" % rand_token(6)

    def register(self, auth=None, contact=True, expires=None, extra="", cseq=None,
                 contact_value=None, branch=None):
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        lh, lp = self.c.local
        msg = (
            "REGISTER %s SIP/2.0\r\n"
            "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK%s;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <%s>;tag=%s\r\n"
            "To: <%s>\r\n"
            "Call-ID: %s\r\n"
            "CSeq: %d REGISTER\r\n"
            "Supported: path\r\n"
            "Path: %s\r\n"
            % (self.ruri, self.a.transport.upper(), lh, lp, branch or rand_token(12), self.impu,
               self.tag, self.impu, self.callid, cseq, self.path))
        if contact:
            msg += "Contact: %s\r\n" % (contact_value or "<%s>" % self.contact)
        if expires is not None:
            msg += "Expires: %d\r\n" % expires
        if auth:
            msg += "Authorization: %s\r\n" % auth
        msg += extra
        msg += "Content-Length: 0\r\n\r\n"
        self.c.send(msg)
        return self.c.recv()

    def credentials(self, ch, nc=1, password=None, cnonce=None):
        alg = ch.get("algorithm", "MD5")
        cnonce = cnonce or rand_token(12)
        ncs = "%08x" % nc
        ha1 = H(alg, "%s:%s:%s" % (self.impi, ch["realm"], password or self.password))
        ha2 = H(alg, "REGISTER:%s" % self.ruri)
        resp = H(alg, "%s:%s:%s:%s:auth:%s" % (ha1, ch["nonce"], ncs, cnonce, ha2))
        self.last = dict(ha1=ha1, alg=alg, nonce=ch["nonce"], nc=ncs, cnonce=cnonce)
        return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", '
                'algorithm=%s, cnonce="%s", qop=auth, nc=%s'
                % (self.impi, ch["realm"], ch["nonce"], self.ruri, resp, alg, cnonce, ncs))

    def challenge(self, alg=None, **kw):
        code, reason, h, raw = self.register(**kw)
        if code != 401:
            fail("expected 401, got %d %s\n%s" % (code, reason, raw))
        chs = [auth_params(v) for v in hdrs(h, "www-authenticate")]
        if not chs:
            fail("401 without WWW-Authenticate")
        if alg is None:
            return chs[0], chs
        for ch in chs:
            if ch.get("algorithm", "MD5").upper() == alg.upper():
                return ch, chs
        fail("no %s challenge among %s" % (alg, [c.get("algorithm") for c in chs]))

    def check_rspauth(self, h):
        info = hdrs(h, "authentication-info")
        if not info:
            fail("200 without Authentication-Info")
        p = auth_params(info[0])
        l = self.last
        ha2 = H(l["alg"], ":%s" % self.ruri)
        want = H(l["alg"], "%s:%s:%s:%s:auth:%s" % (l["ha1"], l["nonce"], l["nc"], l["cnonce"], ha2))
        if p.get("rspauth") != want:
            fail("rspauth %s, expected %s" % (p.get("rspauth"), want))

    def full_register(self, alg=None, expires=None):
        ch, _ = self.challenge(alg, expires=expires)
        code, reason, h, raw = self.register(auth=self.credentials(ch), expires=expires)
        if code != 200:
            fail("expected 200, got %d %s\n%s" % (code, reason, raw))
        return ch, h, raw


def contacts_of(h):
    return hdrs(h, "contact")


def cmd_register(a):
    ua = UA(a, a.user, a.password)
    ch, chs = ua.challenge()
    algs = [c.get("algorithm") for c in chs]
    if a.expect_algs and algs != a.expect_algs.split(","):
        fail("challenges %s, expected %s" % (algs, a.expect_algs))
    for c in chs:
        if c.get("qop") != "auth" or c.get("realm") != a.domain:
            fail("bad challenge %s" % c)
    ch, h, raw = ua.full_register(a.alg, a.expires)
    ua.check_rspauth(h)
    cs = contacts_of(h)
    if not any(ua.contact in c and re.search(r";expires=\d+", c) for c in cs):
        fail("our Contact with expires not in the 200: %s" % cs)
    pau = hdrs(h, "p-associated-uri")
    if not pau or not re.match(r"<sip:%s@%s>" % (a.user, re.escape(a.domain)), pau[0]):
        fail("P-Associated-URI %s" % pau)
    sr = hdrs(h, "service-route")
    if not sr or not re.match(r"<sip:orig@127\.0\.0\.1:%d;lr>" % a.port, sr[0]):
        fail("Service-Route %s" % sr)
    if hdrs(h, "path") != [ua.path]:
        fail("Path not echoed: %s" % hdrs(h, "path"))
    if not hdrs(h, "date"):
        fail("no Date")
    if a.expires is not None:
        m = re.search(r";expires=(\d+)", [c for c in cs if ua.contact in c][0])
        if abs(int(m.group(1)) - min(a.expires, 7200)) > 2:
            fail("expires %s, asked %d" % (m.group(1), a.expires))
    print("200 OK with %s; P-Associated-URI: %s; Service-Route: %s" % (cs, pau, sr))


def cmd_nc_increment(a):
    ua = UA(a, a.user, a.password)
    ch, _, _ = ua.full_register(a.alg)
    code, reason, h, raw = ua.register(auth=ua.credentials(ch, nc=2))
    if code != 200:
        fail("re-REGISTER with nc=2 on the same nonce: %d %s" % (code, reason))
    ua.check_rspauth(h)
    print("nc=2 accepted without a new challenge")


def cmd_replay(a):
    ua = UA(a, a.user, a.password)
    ch, _ = ua.challenge(a.alg)
    cred = ua.credentials(ch)
    code, reason, h, raw = ua.register(auth=cred)
    if code != 200:
        fail("first use: %d %s" % (code, reason))
    code, reason, h, raw = ua.register(auth=cred)
    if code == 200:
        fail("the replayed Authorization was accepted")
    if code not in (401, 403):
        fail("replay answered %d %s" % (code, reason))
    print("replay refused: %d %s" % (code, reason))


def cmd_retransmit(a):
    """UDP: the same authenticated REGISTER sent again (same branch, a
    retransmission, RFC 3261 17.2.2) gets the same 200 back, not a
    replay refusal: the server transaction answers it."""
    ua = UA(a, a.user, a.password)
    ch, _ = ua.challenge(a.alg)
    cred = ua.credentials(ch)
    branch = rand_token(12)
    ua.cseq += 1
    code1, _, h1, raw1 = ua.register(auth=cred, branch=branch, cseq=ua.cseq)
    code2, reason2, h2, raw2 = ua.register(auth=cred, branch=branch, cseq=ua.cseq)
    if code1 != 200 or code2 != 200:
        fail("first %d, retransmission %d %s" % (code1, code2, reason2))
    if hdrs(h1, "to") != hdrs(h2, "to"):
        fail("the retransmission got a new response (To %s vs %s)" % (hdrs(h1, "to"), hdrs(h2, "to")))
    print("retransmission answered with the same 200")


def cmd_tna_message(a):
    """A MESSAGE claiming trusted node authentication from an untrusted
    node: 403."""
    c = Conn(a.host, a.port, a.transport)
    lh, lp = c.local
    c.send("MESSAGE sip:bob@%s SIP/2.0\r\n"
           "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK%s\r\n"
           "From: <sip:alice@%s>;tag=1\r\nTo: <sip:bob@%s>\r\n"
           "Call-ID: tna-%s\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n"
           "Authorization: Digest username=\"alice@%s\", realm=\"%s\", nonce=\"\", "
           "uri=\"sip:bob@%s\", response=\"\", integrity-protected=\"auth-done\"\r\n"
           "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi"
           % (a.domain, a.transport.upper(), lh, lp, rand_token(), a.domain, a.domain,
              rand_token(), a.domain, a.domain, a.domain))
    code, reason, h, raw = c.recv()
    if code != 403 or "trusted" not in reason.lower():
        fail("expected 403 naming the trusted node, got %d %s" % (code, reason))
    print("%d %s" % (code, reason))


def cmd_wrong_password(a):
    ua = UA(a, a.user, "not-the-password")
    ch, _ = ua.challenge(a.alg)
    code, reason, h, raw = ua.register(auth=ua.credentials(ch))
    if code != 403 or "password" not in reason.lower():
        fail("expected 403 with a reason naming the password, got %d %s" % (code, reason))
    print("%d %s" % (code, reason))


def cmd_unknown_user(a):
    ua = UA(a, a.user)
    code, reason, h, raw = ua.register()
    if code != 404 or "unknown user" not in reason.lower():
        fail("expected 404 Unknown user, got %d %s" % (code, reason))
    print("%d %s" % (code, reason))


def cmd_ratelimit(a):
    ua = UA(a, a.user, a.password)
    ch, _ = ua.challenge(a.alg)
    codes = []
    for i in range(11):
        code, reason, h, raw = ua.register(auth=ua.credentials(ch, nc=i + 1, password="guess%d" % i))
        codes.append(code)
    if any(c != 403 for c in codes):
        fail("wrong guesses answered %s" % codes)
    code, reason, h, raw = ua.register(auth=ua.credentials(ch, nc=20))
    if code != 403 or "too many" not in reason.lower():
        fail("right password after 11 guesses: %d %s (expected 403 Too many failed attempts)"
             % (code, reason))
    print("%d %s" % (code, reason))


def cmd_stale(a):
    ua = UA(a, a.user, a.password)
    ch, _ = ua.challenge(a.alg)
    time.sleep(a.wait)
    code, reason, h, raw = ua.register(auth=ua.credentials(ch))
    chs = [auth_params(v) for v in hdrs(h, "www-authenticate")]
    if code != 401 or not chs or any(c.get("stale", "").lower() != "true" for c in chs):
        fail("expected 401 stale=true, got %d %s\n%s" % (code, reason, raw))
    if any(c["nonce"] == ch["nonce"] for c in chs):
        fail("the stale nonce was offered again")
    # the fresh nonce works
    code, reason, h, raw = ua.register(auth=ua.credentials(chs[0]))
    if code != 200:
        fail("fresh nonce after stale: %d %s" % (code, reason))
    print("401 stale=true, then 200")


def cmd_deregister(a):
    ua = UA(a, a.user, a.password)
    ch, h, raw = ua.full_register(a.alg)
    code, reason, h, raw = ua.register(auth=ua.credentials(ch, nc=2), expires=0)
    if code != 200:
        fail("de-REGISTER: %d %s" % (code, reason))
    if any(ua.contact in c for c in contacts_of(h)):
        fail("contact still listed after Expires: 0: %s" % contacts_of(h))
    print("de-registered; contacts left: %s" % contacts_of(h))


def cmd_star(a):
    ua = UA(a, a.user, a.password)
    ch, h, raw = ua.full_register(a.alg)
    code, reason, h, raw = ua.register(auth=ua.credentials(ch, nc=2), expires=0,
                                       contact_value="*")
    if code != 200 or contacts_of(h):
        fail("Contact: * answered %d %s with %s" % (code, reason, contacts_of(h)))
    print("every binding removed")


def cmd_min_expires(a):
    ua = UA(a, a.user, a.password)
    ch, _ = ua.challenge(a.alg)
    code, reason, h, raw = ua.register(auth=ua.credentials(ch), expires=30)
    if code != 423 or not hdrs(h, "min-expires"):
        fail("expected 423 with Min-Expires, got %d %s" % (code, reason))
    print("%d %s, Min-Expires: %s" % (code, reason, hdrs(h, "min-expires")[0]))


def cmd_cseq_order(a):
    ua = UA(a, a.user, a.password)
    ch, _ = ua.challenge(a.alg)
    ua.cseq = 10
    code, reason, h, raw = ua.register(auth=ua.credentials(ch))
    if code != 200:
        fail("register: %d %s" % (code, reason))
    code, reason, h, raw = ua.register(auth=ua.credentials(ch, nc=2), cseq=5)
    if code not in (400, 500):
        fail("lower CSeq for the same Call-ID answered %d %s" % (code, reason))
    print("%d %s" % (code, reason))


def cmd_fetch(a):
    ua = UA(a, a.user, a.password)
    ch, _ = ua.challenge(a.alg, contact=False)
    code, reason, h, raw = ua.register(auth=ua.credentials(ch), contact=False)
    cs = contacts_of(h)
    if code != 200 or not any(a.contact in c for c in cs):
        fail("fetch: %d %s, contacts %s (want %s)" % (code, reason, cs, a.contact))
    print("bindings: %s" % cs)


def cmd_register_contact(a):
    """register with a fixed Contact and print nothing else (for restart)."""
    ua = UA(a, a.user, a.password)
    ua.contact = a.contact
    ch, h, raw = ua.full_register(a.alg, a.expires)
    if not any(a.contact in c for c in contacts_of(h)):
        fail("contact not bound: %s" % contacts_of(h))
    print("bound %s" % a.contact)


def cmd_tna(a):
    ua = UA(a, a.user)
    cred = ('Digest username="%s", realm="%s", nonce="", uri="%s", response="", '
            'integrity-protected="auth-done"' % (ua.impi, a.domain, ua.ruri))
    code, reason, h, raw = ua.register(auth=cred)
    if code != int(a.expect):
        fail("TNA REGISTER answered %d %s, expected %s" % (code, reason, a.expect))
    if code == 403 and "trusted" not in reason.lower():
        fail("403 without saying why: %s" % reason)
    print("%d %s" % (code, reason))


def cmd_malformed(a):
    c = Conn(a.host, a.port, a.transport)
    lh, lp = c.local
    c.send("REGISTER sip:%s SIP/2.0\r\n"
           "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK%s\r\n"
           "From: <sip:alice@%s>;tag=1\r\nTo: <sip:alice@%s>\r\n"
           "Call-ID: bad-%s\r\nCSeq: one REGISTER\r\nContent-Length: 0\r\n\r\n"
           % (a.domain, a.transport.upper(), lh, lp, rand_token(), a.domain, a.domain,
              rand_token()))
    code, reason, h, raw = c.recv()
    if code != 400 or "cseq" not in reason.lower():
        fail("expected 400 with the parser's reason, got %d %s" % (code, reason))
    print("%d %s" % (code, reason))


def cmd_oversize(a):
    """A REGISTER above 64 KiB on TCP: 513, then the connection closes
    (cleanly: the answer must not be lost to a reset)."""
    if a.transport != "tcp":
        fail("oversize is a TCP scenario")
    c = Conn(a.host, a.port, "tcp")
    lh, lp = c.local
    body = "x" * 70000
    try:
        c.send("REGISTER sip:%s SIP/2.0\r\n"
               "Via: SIP/2.0/TCP %s:%d;branch=z9hG4bK%s\r\n"
               "From: <sip:alice@%s>;tag=1\r\nTo: <sip:alice@%s>\r\n"
               "Call-ID: big-%s\r\nCSeq: 1 REGISTER\r\nContent-Length: %d\r\n\r\n%s"
               % (a.domain, lh, lp, rand_token(), a.domain, a.domain, rand_token(), len(body),
                  body))
    except OSError:
        pass  # the cscf may stop reading once it has answered
    code, reason, h, raw = c.recv()
    if code != 513:
        fail("expected 513, got %d %s" % (code, reason))
    if c.recv_raw(1) != b"":
        fail("the connection stayed open after the 513")
    print("%d %s, then closed" % (code, reason))


def cmd_options(a):
    c = Conn(a.host, a.port, a.transport)
    lh, lp = c.local
    c.send("OPTIONS sip:%s:%d SIP/2.0\r\n"
           "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK%s\r\n"
           "From: <sip:probe@%s>;tag=1\r\nTo: <sip:%s:%d>\r\n"
           "Call-ID: opt-%s\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
           % (a.host, a.port, a.transport.upper(), lh, lp, rand_token(), a.domain, a.host,
              a.port, rand_token()))
    code, reason, h, raw = c.recv()
    if code != 200 or not hdrs(h, "allow") or "REGISTER" not in hdrs(h, "allow")[0]:
        fail("OPTIONS: %d %s %s" % (code, reason, hdrs(h, "allow")))
    print("%d %s; Allow: %s" % (code, reason, hdrs(h, "allow")[0]))


def cmd_keepalive(a):
    if a.transport != "tcp":
        fail("keepalive is a TCP scenario")
    c = Conn(a.host, a.port, "tcp")
    c.send("\r\n\r\n")
    got = c.recv_raw(2)
    if got != b"\r\n":
        fail("ping answered %r" % got)
    print("pong")


def cmd_foreign_domain(a):
    ua = UA(a, a.user)
    ua.ruri = "sip:example.com"
    code, reason, h, raw = ua.register()
    if code != 403:
        fail("REGISTER for another domain answered %d %s" % (code, reason))
    print("%d %s" % (code, reason))



# --- calls through the proxy (cscf_call.sh) ---

def parse_msg(raw):
    """A request or response: (start line, [(name, value)], body)."""
    head, _, body = raw.partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip().lower(), value.strip()))
    return lines[0], headers, body


class Stream:
    """Whole SIP messages from a TCP socket or UDP datagrams."""

    def __init__(self, s, udp=False):
        self.s, self.udp, self.buf = s, udp, b""

    def has_msg(self):
        """A whole message already buffered (TCP): read() returns it at once."""
        head_end = self.buf.find(b"\r\n\r\n")
        if self.udp or head_end < 0:
            return False
        m = re.search(rb"(?im)^(?:content-length|l)\s*:\s*(\d+)", self.buf[:head_end])
        return len(self.buf) >= head_end + 4 + (int(m.group(1)) if m else 0)

    def read(self, timeout=10):
        self.s.settimeout(timeout)
        if self.udp:
            data, addr = self.s.recvfrom(65535)
            self.last_addr = addr
            return data.decode(errors="replace")
        while True:
            head_end = self.buf.find(b"\r\n\r\n")
            if head_end >= 0:
                head = self.buf[:head_end].decode(errors="replace")
                m = re.search(r"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
                total = head_end + 4 + (int(m.group(1)) if m else 0)
                if len(self.buf) >= total:
                    raw = self.buf[:total].decode(errors="replace")
                    self.buf = self.buf[total:]
                    return raw
            chunk = self.s.recv(65535)
            if not chunk:
                raise EOFError("closed")
            self.buf += chunk


def response_to(req_raw, code, reason, extra="", to_tag=None, body="", top=""):
    """Our UA's response to a request: Via, From, To, Call-ID, CSeq copied."""
    start, h, _ = parse_msg(req_raw)
    out = "SIP/2.0 %d %s\r\n" % (code, reason) + top
    for n, v in h:
        if n in ("via", "v", "from", "f", "call-id", "i", "cseq", "record-route"):
            out += "%s: %s\r\n" % (n, v)
        elif n in ("to", "t"):
            if to_tag and ";tag=" not in v:
                v += ";tag=" + to_tag
            out += "To: %s\r\n" % v
    out += extra
    out += "Content-Length: %d\r\n\r\n%s" % (len(body), body)
    return out


class Caller:
    """A UA sending one request through the cscf (from 127.0.0.1, a
    [cscf] pcscf_nodes address, unless --bind says otherwise)."""

    def __init__(self, a):
        self.a = a
        fam = socket.AF_INET
        if a.transport == "tcp":
            self.s = socket.socket(fam, socket.SOCK_STREAM)
            if a.bind:
                self.s.bind((a.bind, 0))
            self.s.settimeout(5)
            self.s.connect((a.host, a.port))
        else:
            self.s = socket.socket(fam, socket.SOCK_DGRAM)
            self.s.bind((a.bind or "127.0.0.1", a.bind_port or 0))
            self.s.connect((a.host, a.port))
        self.st = Stream(self.s, a.transport == "udp")
        self.lh, self.lp = self.s.getsockname()
        self.callid = rand_token(16) + "@wims-call"
        self.tag = rand_token(8)
        self.user = a.user

    def send(self, msg):
        self.s.send(msg.encode()) if self.a.transport == "udp" else self.s.sendall(msg.encode())

    def via(self, branch=None):
        return "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK%s;rport\r\n" % (
            self.a.transport.upper(), self.lh, self.lp, branch or rand_token(12))

    def request(self, method, ruri, cseq=1, branch=None, to_tag="", routes=(), extra="",
                body="", mf=None, to=None):
        to = to or self.a.to
        msg = "%s %s SIP/2.0\r\n" % (method, ruri) + self.via(branch)
        for r in routes:
            msg += "Route: %s\r\n" % r
        msg += "Max-Forwards: %d\r\n" % (70 if mf is None else mf)
        msg += "From: <sip:%s@%s>;tag=%s\r\n" % (self.user, self.a.domain, self.tag)
        msg += "To: <%s>%s\r\n" % (to, (";tag=" + to_tag) if to_tag else "")
        msg += "Call-ID: %s\r\nCSeq: %d %s\r\n" % (self.callid, cseq, method)
        msg += "Contact: <sip:%s@%s:%d;transport=%s>\r\n" % (self.user, self.lh, self.lp,
                                                             self.a.transport)
        msg += extra
        if body:
            msg += "Content-Type: %s\r\n" % ("text/plain" if method == "MESSAGE"
                                             else "application/sdp")
        msg += "Content-Length: %d\r\n\r\n%s" % (len(body), body)
        self.send(msg)
        return msg

    def final(self, timeout=10, method=None, seen=None):
        """Read until a final response (to `method` if given)."""
        while True:
            raw = self.st.read(timeout)
            start, h, body = parse_msg(raw)
            if not start.startswith("SIP/2.0 "):
                continue
            code = int(start.split()[1])
            cseq = hdrs(h, "cseq")[0] if hdrs(h, "cseq") else ""
            if method and not cseq.endswith(method):
                continue
            if seen is not None:
                seen.append((code, start, h, raw))
            if code >= 200:
                return code, start, h, raw


SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n"


def dialog_route(h):
    """The caller's route set from a 2xx: Record-Route reversed."""
    rr = []
    for v in hdrs(h, "record-route"):
        rr += [x.strip() for x in re.findall(r"<[^>]*>", v)]
    return list(reversed(rr))


def phone_register(c, a):
    """REGISTER c's user from c's own socket (a directly attached phone),
    MD5 or the first challenge, password USER-secret."""
    impu = "sip:%s@%s" % (c.user, a.domain)
    ruri = "sip:" + a.domain
    def reg(cseq, auth=None):
        msg = ("REGISTER %s SIP/2.0\r\n" % ruri + c.via() + "Max-Forwards: 70\r\n"
               "From: <%s>;tag=%s\r\nTo: <%s>\r\nCall-ID: reg-%s\r\nCSeq: %d REGISTER\r\n"
               "Contact: <sip:%s@%s:%d;transport=%s>\r\nExpires: 600\r\n"
               % (impu, c.tag, impu, c.callid, cseq, c.user, c.lh, c.lp, a.transport))
        if auth:
            msg += "Authorization: %s\r\n" % auth
        c.send(msg + "Content-Length: 0\r\n\r\n")
        return c.final(method="REGISTER")
    code, start, h, raw = reg(1)
    if code != 401:
        fail("phone REGISTER: %s" % start)
    ch = auth_params(hdrs(h, "www-authenticate")[0])
    alg = ch.get("algorithm", "MD5")
    impi = "%s@%s" % (c.user, a.domain)
    ha1 = H(alg, "%s:%s:%s-secret" % (impi, ch["realm"], c.user))
    cn = rand_token(8)
    resp = H(alg, "%s:%s:00000001:%s:auth:%s" % (ha1, ch["nonce"], cn, H(alg, "REGISTER:" + ruri)))
    auth = ('Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", '
            'algorithm=%s, cnonce="%s", qop=auth, nc=00000001'
            % (impi, ch["realm"], ch["nonce"], ruri, resp, alg, cn))
    code, start, h, raw = reg(2, auth)
    if code != 200:
        fail("phone REGISTER: %s" % start)


def cmd_call(a):
    """Send --method to --to; the final answer must be --expect (and match
    --expect-reason / --expect-header); a 2xx INVITE is ACKed and BYEd along
    its Record-Route; --cancel-on-180 CANCELs on the first 180 (the race
    with a 200 is accepted either way)."""
    c = Caller(a)
    if a.register:
        phone_register(c, a)
    extra = "".join("%s\r\n" % x for x in (a.header or []))
    body = SDP if a.method == "INVITE" else ("hello bob" if a.method == "MESSAGE" else "")
    ruri = a.ruri or a.to
    inv = c.request(a.method, ruri, routes=a.route or [], extra=extra, body=body, mf=a.mf)
    branch = re.search(r"branch=([^;\r]+)", inv).group(1)
    seen = []
    cancelled = False
    while True:
        code, start, h, raw = c.final(timeout=a.timeout, method=a.method, seen=seen) \
            if not a.cancel_on_180 else (None, None, None, None)
        if a.cancel_on_180 and not cancelled:
            # wait for a 180, then CANCEL (same branch)
            while True:
                raw = c.st.read(a.timeout)
                start, h, body_ = parse_msg(raw)
                if start.startswith("SIP/2.0 18"):
                    break
                if start.startswith("SIP/2.0 ") and int(start.split()[1]) >= 200:
                    fail("final before 180: %s" % start)
            if a.delay:
                time.sleep(a.delay)
            cmsg = ("CANCEL %s SIP/2.0\r\n" % ruri
                    + "Via: SIP/2.0/%s %s:%d;branch=%s;rport\r\n" % (a.transport.upper(), c.lh,
                                                                     c.lp, branch)
                    + "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s\r\nTo: <%s>\r\n"
                    % (c.user, a.domain, c.tag, a.to)
                    + "Call-ID: %s\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n" % c.callid)
            c.send(cmsg)
            cancelled = True
            got = {}
            while "CANCEL" not in got or "INVITE" not in got:
                raw = c.st.read(a.timeout)
                start, h2, _ = parse_msg(raw)
                if not start.startswith("SIP/2.0 "):
                    continue
                cs = hdrs(h2, "cseq")[0]
                cd = int(start.split()[1])
                if cd < 200:
                    continue
                m = cs.split()[-1]
                got[m] = (cd, start, h2, raw)
            if got["CANCEL"][0] != 200 and got["CANCEL"][0] != 481:
                fail("CANCEL answered %s" % got["CANCEL"][1])
            code, start, h, raw = got["INVITE"]
            print("CANCEL: %s; INVITE: %s" % (got["CANCEL"][1], start))
        break
    for s in seen:
        print("got %s" % s[1])
    ok = str(code) in a.expect.split(",")
    if not ok:
        fail("%s answered %s, expected %s\n%s" % (a.method, start, a.expect, raw))
    if a.expect_reason and a.expect_reason.lower() not in raw.lower():
        fail("expected %r in the answer:\n%s" % (a.expect_reason, raw))
    for rx in a.expect_header or []:
        if not re.search(rx, raw, re.M):
            fail("answer lacks %r:\n%s" % (rx, raw))
    if a.method == "INVITE":
        to = hdrs(h, "to")[0]
        tt = re.search(r";tag=([^;>]+)", to)
        ttag = tt.group(1) if tt else ""
        if 200 <= code < 300:
            routes = dialog_route(h)
            target = re.search(r"<([^>]+)>", hdrs(h, "contact")[0]).group(1)
            c.request("ACK", target, cseq=1, to_tag=ttag, routes=routes)
            time.sleep(a.hold)
            cseq = 2
            if a.in_dialog:
                # re-INVITE and UPDATE inside the dialog, along its route set
                for meth in ("INVITE", "UPDATE"):
                    c.request(meth, target, cseq=cseq, to_tag=ttag, routes=routes,
                              body=SDP)
                    rc_, rstart, rh, rraw = c.final(method=meth)
                    if rc_ != 200:
                        fail("in-dialog %s answered %s" % (meth, rstart))
                    if meth == "INVITE":
                        c.request("ACK", target, cseq=cseq, to_tag=ttag, routes=routes)
                    print("in-dialog %s: %s" % (meth, rstart))
                    cseq += 1
            c.request("BYE", target, cseq=cseq, to_tag=ttag, routes=routes)
            bc, bstart, bh, braw = c.final(method="BYE")
            if bc != 200:
                fail("BYE answered %s" % bstart)
            print("ACK and BYE along %s to %s: %s" % (routes, target, bstart))
        else:
            # the ACK of a non-2xx goes hop by hop (same branch)
            amsg = ("ACK %s SIP/2.0\r\n" % ruri
                    + "Via: SIP/2.0/%s %s:%d;branch=%s;rport\r\n" % (a.transport.upper(), c.lh,
                                                                     c.lp, branch)
                    + "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s\r\nTo: %s\r\n"
                    % (c.user, a.domain, c.tag, to)
                    + "Call-ID: %s\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n" % c.callid)
            c.send(amsg)
    print("%s -> %s" % (a.method, start))


class FakePcscf:
    """A P-CSCF on 127.0.0.1:--listen-port holding WIC flows: it registers
    USER through the cscf with Path <sip:TOKEN@127.0.0.1:PORT;transport=tcp;lr>
    and answers what the cscf sends there."""

    def __init__(self, a):
        self.a = a
        self.token = "tok" + rand_token(10)
        self.path = "<sip:%s@127.0.0.1:%d;transport=tcp;lr>" % (self.token, a.listen_port)
        self.contact = "sip:%s@%s.invalid;transport=ws" % (rand_token(8), rand_token(8))
        self.errors = []
        self.log = []

    def register(self, expires=None):
        a = self.a
        ua = UA(a, a.user, a.password)
        ua.path = self.path
        ua.contact = self.contact
        ua.full_register(None, expires)
        if expires == 0:
            return
        print("registered %s at %s via %s" % (a.user, self.contact, self.path), flush=True)

    def check_request(self, raw):
        start, h, _ = parse_msg(raw)
        method = start.split()[0]
        routes = hdrs(h, "route")
        if method != "ACK" or routes:
            if not routes or self.token not in routes[0]:
                self.errors.append("%s without our Path/Record-Route on top: %s"
                                   % (method, routes))
        if self.contact not in start and method not in ("ACK", "BYE", "CANCEL"):
            self.errors.append("%s Request-URI is not the contact: %s" % (method, start))
        if len(hdrs(h, "p-asserted-identity")) > 1:
            self.errors.append("%s with several P-Asserted-Identity" % method)
        initial = not re.search(r";tag=", (hdrs(h, "to") or [""])[0])
        for rx in self.a.expect_header or []:
            if method == self.a.check_method and initial and not re.search(rx, raw, re.M):
                self.errors.append("%s lacks %r" % (method, rx))
        return method, h

    def serve(self):
        a = self.a
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", a.listen_port))
        ls.listen(8)
        self.register()
        answers = [x for x in a.answer.split(",") if x]
        want = set(a.expect_methods.split(",")) if a.expect_methods else set()
        seen = []
        conns = []
        deadline = time.time() + a.timeout
        import select
        invite = None
        ttag = rand_token(8)
        streams = {}
        while time.time() < deadline:
            if want and want.issubset(set(seen)):
                break
            # messages that came in one segment with the last one first
            r = [c for c in conns if streams[c].has_msg()]
            if not r:
                r, _, _ = select.select([ls] + conns, [], [], 0.2)
            for s in r:
                if s is ls:
                    c, _ = ls.accept()
                    conns.append(c)
                    streams[c] = Stream(c)
                    continue
                try:
                    raw = streams[s].read(5)
                except (EOFError, OSError):
                    conns.remove(s)
                    continue
                if raw.startswith("SIP/2.0"):
                    continue
                start = raw.split("\r\n")[0]
                route = hdrs(parse_msg(raw)[1], "route")
                if route and self.token not in route[0]:
                    # a flow of an earlier stand-in: gone, as a real
                    # P-CSCF says (RFC 5626 430)
                    if not start.startswith("ACK"):
                        s.sendall(response_to(raw, 430, "Flow Failed").encode())
                    continue
                method, h = self.check_request(raw)
                seen.append(method)
                print("got %s" % raw.split("\r\n")[0], flush=True)
                self.log.append(raw)
                if method == "INVITE" and re.search(r";tag=", hdrs(h, "to")[0]):
                    s.sendall(response_to(raw, 200, "OK", "Contact: <%s>\r\n" % self.contact,
                                          ttag, SDP).encode())
                elif method == "INVITE":
                    invite = raw
                    for ans in answers:
                        if ans.startswith("sleep"):
                            time.sleep(float(ans[5:]))
                            continue
                        code = int(ans)
                        extra = top = ""
                        if code < 300:
                            # a proxy's Record-Route goes on top of the others
                            top = "Record-Route: <sip:%s@127.0.0.1:%d;transport=tcp;lr>\r\n" % (
                                self.token, a.listen_port)
                            extra = "Contact: <%s>\r\n" % self.contact
                        resp = response_to(raw, code, sip_reason(code), extra, ttag,
                                           SDP if code == 200 else "", top)
                        s.sendall(resp.encode())
                elif method == "CANCEL":
                    s.sendall(response_to(raw, 200, "OK", "", ttag).encode())
                    if invite:
                        s.sendall(response_to(invite, 487, "Request Terminated", "",
                                              ttag).encode())
                elif method == "ACK":
                    pass
                else:
                    code = int(answers[0]) if answers and method == a.check_method else 200
                    s.sendall(response_to(raw, code, sip_reason(code), "", ttag).encode())
        print("methods seen: %s" % seen)
        ls.close()
        try:
            self.register(0)
        except SystemExit:
            print("(de-registration failed)")
        if want and not want.issubset(set(seen)):
            self.errors.append("expected %s, saw %s" % (sorted(want), seen))
        if a.expect_none and seen:
            self.errors.append("expected no request, saw %s" % seen)
        if self.errors:
            for r in self.log:
                print("---\n" + r)
            fail("; ".join(self.errors))


def sip_reason(code):
    return {180: "Ringing", 183: "Session Progress", 200: "OK", 430: "Flow Failed",
            480: "Temporarily Unavailable", 486: "Busy Here", 487: "Request Terminated",
            603: "Decline"}.get(code, "Whatever")


def cmd_fake_pcscf(a):
    FakePcscf(a).serve()


def cmd_silent_phone(a):
    """A phone registered over UDP from --bind that never answers: counts
    the INVITE copies (retransmissions) it gets; needs --min-copies."""
    a.transport = "udp"
    c = Caller(a)
    phone_register(c, a)
    print("registered %s from %s:%d" % (c.user, c.lh, c.lp), flush=True)
    copies = 0
    end = time.time() + a.timeout
    cancels = 0
    while time.time() < end:
        try:
            raw = c.st.read(max(0.1, end - time.time()))
        except socket.timeout:
            break
        if raw.startswith("INVITE "):
            copies += 1
        if raw.startswith("CANCEL "):
            cancels += 1
    print("INVITE copies: %d, CANCELs: %d" % (copies, cancels))
    if copies < a.min_copies:
        fail("only %d INVITE copies (retransmissions expected)" % copies)


def cmd_bindings(a):
    """REGISTER without Contact (from 127.0.0.1): --contact must (or with
    --absent must not) be among the bindings."""
    ua = UA(a, a.user, a.password)
    ch, _ = ua.challenge(None, contact=False)
    code, reason, h, raw = ua.register(auth=ua.credentials(ch), contact=False)
    cs = contacts_of(h)
    there = any(a.contact in c for c in cs)
    if code != 200 or there == a.absent:
        fail("bindings of %s: %d %s %s (want %s %s)" % (a.user, code, reason, cs,
                                                       "no" if a.absent else "", a.contact))
    print("bindings: %s" % cs)


def cmd_register_path(a):
    """Register USER with --contact and Path --path (e.g. one naming the
    cscf itself, to make a loop)."""
    ua = UA(a, a.user, a.password)
    ua.contact = a.contact
    ua.path = a.path
    ua.full_register(None, None)
    print("bound %s via %s" % (a.contact, a.path))


def cmd_raw(a):
    """Send --raw-file's request (with {lh} {lp} {tp} {rand} filled in)
    and expect --expect (and --expect-reason)."""
    c = Caller(a)
    msg = open(a.raw_file).read().replace("\n", "\r\n").replace("\r\r\n", "\r\n")
    msg = msg.format(lh=c.lh, lp=c.lp, tp=a.transport.upper(), rand=rand_token(10))
    c.send(msg)
    code, start, h, raw = c.final(timeout=a.timeout)
    if str(code) not in a.expect.split(",") or (a.expect_reason and a.expect_reason.lower()
                                                not in start.lower()):
        fail("answered %s, expected %s %s" % (start, a.expect, a.expect_reason or ""))
    print(start)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5060)
    p.add_argument("--transport", default="tcp", choices=["tcp", "udp"])
    p.add_argument("--domain", default="ims.example.org")
    p.add_argument("--alg", default=None, help="pick this challenge (default: the first)")
    p.add_argument("--expect-algs", default=None)
    p.add_argument("--expires", type=int, default=None)
    p.add_argument("--wait", type=float, default=3)
    p.add_argument("--contact", default=None)
    p.add_argument("--expect", default="403")
    p.add_argument("--to", default="sip:bob@ims.example.org")
    p.add_argument("--ruri", default=None)
    p.add_argument("--method", default="INVITE")
    p.add_argument("--mf", type=int, default=None)
    p.add_argument("--route", action="append")
    p.add_argument("--header", action="append")
    p.add_argument("--expect-reason", default=None)
    p.add_argument("--expect-header", action="append")
    p.add_argument("--expect-methods", default=None)
    p.add_argument("--expect-none", action="store_true")
    p.add_argument("--check-method", default="INVITE")
    p.add_argument("--bind", default=None)
    p.add_argument("--bind-port", type=int, default=0)
    p.add_argument("--register", action="store_true")
    p.add_argument("--cancel-on-180", action="store_true")
    p.add_argument("--delay", type=float, default=0)
    p.add_argument("--hold", type=float, default=0.2)
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("--listen-port", type=int, default=5070)
    p.add_argument("--answer", default="180,200")
    p.add_argument("--min-copies", type=int, default=3)
    p.add_argument("--absent", action="store_true")
    p.add_argument("--in-dialog", action="store_true",
                   help="call: re-INVITE and UPDATE before the BYE")
    p.add_argument("--path", default=None)
    p.add_argument("--raw-file", default=None)
    p.add_argument("cmd")
    p.add_argument("user", nargs="?", default="alice")
    p.add_argument("password", nargs="?", default=None)
    a = p.parse_args()
    cmds = {
        "register": cmd_register, "nc-increment": cmd_nc_increment, "replay": cmd_replay,
        "wrong-password": cmd_wrong_password, "unknown-user": cmd_unknown_user,
        "ratelimit": cmd_ratelimit, "stale": cmd_stale, "deregister": cmd_deregister,
        "star": cmd_star, "min-expires": cmd_min_expires, "cseq-order": cmd_cseq_order,
        "fetch": cmd_fetch, "register-contact": cmd_register_contact, "tna": cmd_tna,
        "malformed": cmd_malformed, "options": cmd_options, "keepalive": cmd_keepalive,
        "foreign-domain": cmd_foreign_domain, "oversize": cmd_oversize,
        "retransmit": cmd_retransmit, "tna-message": cmd_tna_message,
        "call": cmd_call, "fake-pcscf": cmd_fake_pcscf, "silent-phone": cmd_silent_phone,
        "bindings": cmd_bindings, "register-path": cmd_register_path, "raw": cmd_raw,
    }
    if a.cmd not in cmds:
        p.error("unknown scenario " + a.cmd)
    if a.password is None and a.user:
        a.password = a.user + "-secret"
    try:
        cmds[a.cmd](a)
    except socket.timeout:
        fail("no answer from %s:%d/%s" % (a.host, a.port, a.transport))
    except OSError as e:
        fail("%s" % e)


if __name__ == "__main__":
    main()
