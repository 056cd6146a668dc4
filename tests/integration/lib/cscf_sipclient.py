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
    if code != a.expect:
        fail("TNA REGISTER answered %d %s, expected %d" % (code, reason, a.expect))
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
    p.add_argument("--expect", type=int, default=403)
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
