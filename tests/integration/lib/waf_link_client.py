#!/usr/bin/env python3
"""waf_link_client.py - the two sides of identity linking (TR 33.871 REQ 2.5,
Annex C M2) for tests/integration/waf_link.sh, in python3 stdlib only.

  ua --user U --password P --out F --ready F [--hold S]
        a phone registered straight at the S-CSCF over TCP with Digest
        (no P-CSCF, so its registration connection and a listening port
        of its own both reach it); answers every request 200 and appends
        the body of each MESSAGE (with its From and P-Asserted-Identity)
        to --out, one JSON object a line
  link --user U --password P --impu I --expect N
        signs in to the WAF (/signin with its CSRF cookie), reads the
        /link form, posts it; the answer's status must be N
    --no-csrf / --origin O   the CSRF attacks: must be refused (403)
    --browser                Origin: null + Sec-Fetch-Site: same-origin, as
                             a browser posts a form of a no-referrer page
  confirm --code C --expect N [--origin O | --browser] [--text T]
        POST /link/confirm; status N and, if given, T in the page
  wwsf-link --cert F --key F --subject S --impu I --expect N
        POST /link as a WWSF over mutual TLS
  token --cert F --key F --subject S --expect N
        POST /token grant_type=client_credentials&subject=S over mutual
        TLS: N 200 (a token whose impus hold --impu) or an error status
Options: --waf https://127.0.0.1:9443 --cscf 127.0.0.1:5060 --domain D
Exit 0 when the server behaved as expected, 1 otherwise.
"""
import argparse
import hashlib
import http.client
import json
import random
import re
import select
import socket
import ssl
import sys
import time
import urllib.parse


def fail(why):
    print("FAIL: " + why)
    sys.exit(1)


def rnd(n=10):
    return "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


# --- HTTPS side ---

class Web:
    """A browser-ish HTTPS client: a cookie jar, no certificate check (the
    demo's certificate is self-signed), optionally a client certificate."""

    def __init__(self, base, cert=None, key=None):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port or 443
        self.origin = f"{u.scheme}://{u.netloc}"
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE
        if cert:
            self.ctx.load_cert_chain(cert, key)
        self.cookies = {}

    def request(self, method, path, form=None, headers=None):
        c = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=20)
        h = {"Accept": "application/json"}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        h.update(headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read().decode(errors="replace")
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        c.close()
        return r.status, data

    def signin(self, user, password):
        st, page = self.request("GET", "/signin", headers={"Accept": "text/html"})
        m = re.search(r'name="csrf" value="([^"]+)"', page)
        if st != 200 or not m:
            fail(f"GET /signin: {st}, no CSRF field")
        st, page = self.request("POST", "/signin",
                                {"csrf": m.group(1), "username": user, "password": password},
                                {"Origin": self.origin, "Accept": "text/html"})
        if st != 200:
            fail(f"sign-in as {user}: {st} {page[:300]}")


# What Chromium sends for a form posted from a page served with
# Referrer-Policy: no-referrer (the WAF's): Origin null, and the fetch
# metadata that tells it is our own page.
BROWSER_FORM_POST = {"Origin": "null", "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate",
                     "Sec-Fetch-Dest": "document"}


def cmd_link(a):
    w = Web(a.waf)
    w.signin(a.user, a.password)
    st, page = w.request("GET", "/link", headers={"Accept": "text/html"})
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    if st != 200 or not m:
        fail(f"GET /link: {st}, no CSRF field\n{page[:500]}")
    form = {"impu": a.impu}
    if not a.no_csrf:
        form["csrf"] = m.group(1)
    h = {"Origin": a.origin or w.origin}
    if a.browser:
        h = BROWSER_FORM_POST
    st, body = w.request("POST", "/link", form, h)
    print(f"POST /link {a.impu} as {a.user} -> {st} {body.strip()}")
    if re.search(r"\b\d{8}\b", body):
        fail("an 8-digit number (a code?) in the HTTP answer")
    if st != a.expect:
        fail(f"expected {a.expect}")
    if st == 202:
        j = json.loads(body)
        if j.get("status") != "pending" or not j.get("confirm_url", "").endswith("/link/confirm"):
            fail("202 without status pending and confirm_url")
    if a.text and a.text not in body:
        fail(f"{a.text!r} not in the answer")


def cmd_confirm(a):
    w = Web(a.waf)
    h = {"Accept": "text/html", "Origin": a.origin or w.origin}
    if a.no_origin:
        h["Origin"] = None
    if a.browser:
        h = dict(BROWSER_FORM_POST, Accept="text/html")
    st, page = w.request("POST", "/link/confirm", {"code": a.code}, h)
    text = re.sub(r"<[^>]+>", "", page)
    text = re.sub(r"\s+", " ", text)
    print(f"POST /link/confirm -> {st}: {text[-300:].strip()}")
    if st != a.expect:
        fail(f"expected {a.expect}")
    if a.text and a.text not in text:
        fail(f"{a.text!r} not in the page")


def cmd_wwsf_link(a):
    w = Web(a.waf, a.cert, a.key)
    st, body = w.request("POST", "/link", {"subject": a.subject, "impu": a.impu})
    print(f"POST /link (mTLS) subject={a.subject} {a.impu} -> {st} {body.strip()}")
    if st != a.expect:
        fail(f"expected {a.expect}")


def cmd_token(a):
    w = Web(a.waf, a.cert, a.key)
    st, body = w.request("POST", "/token",
                         {"grant_type": "client_credentials", "subject": a.subject})
    print(f"POST /token client_credentials subject={a.subject} -> {st} {body.strip()[:300]}")
    if st != a.expect:
        fail(f"expected {a.expect}")
    if st == 200:
        j = json.loads(body)
        if a.impu and a.impu not in j.get("impus", []):
            fail(f"{a.impu} not among the token's impus")
    elif "access_token" in body:
        fail("an error answer with an access_token")


# --- SIP side: a phone registered at the S-CSCF ---

class Stream:
    def __init__(self, sock):
        self.s, self.buf = sock, b""

    def messages(self):
        """Read what is there; return the complete messages."""
        try:
            chunk = self.s.recv(65536)
        except OSError:
            chunk = b""
        if not chunk:
            return None
        self.buf += chunk
        out = []
        while True:
            self.buf = self.buf.lstrip(b"\r\n")
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                break
            head = self.buf[:end].decode(errors="replace")
            m = re.search(r"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
            total = end + 4 + (int(m.group(1)) if m else 0)
            if len(self.buf) < total:
                break
            out.append((head, self.buf[end + 4:total].decode(errors="replace")))
            self.buf = self.buf[total:]
        return out


def hdr(head, name):
    for line in head.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return None


def respond(sock, head, code, reason):
    lines = [f"SIP/2.0 {code} {reason}"]
    for line in head.split("\r\n")[1:]:
        k = line.partition(":")[0].strip().lower()
        if k in ("via", "v", "from", "f", "call-id", "i", "cseq"):
            lines.append(line)
        elif k in ("to", "t"):
            lines.append(line if ";tag=" in line else line + ";tag=" + rnd(8))
    lines.append("Content-Length: 0")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())


def digest(challenge, impi, password, uri):
    p = {k.lower(): (q or t) for k, q, t in
         re.findall(r'([\w-]+)=(?:"([^"]*)"|([^,\s]+))', challenge)}
    alg = p.get("algorithm", "MD5")
    h = (lambda s: hashlib.sha256(s.encode()).hexdigest()) if alg.upper() == "SHA-256" \
        else (lambda s: hashlib.md5(s.encode()).hexdigest())
    cnonce, nc = rnd(16), "00000001"
    ha1 = h(f"{impi}:{p['realm']}:{password}")
    ha2 = h(f"REGISTER:{uri}")
    resp = h(f"{ha1}:{p['nonce']}:{nc}:{cnonce}:auth:{ha2}")
    return (f'Digest username="{impi}", realm="{p["realm"]}", nonce="{p["nonce"]}", '
            f'uri="{uri}", response="{resp}", algorithm={alg}, cnonce="{cnonce}", '
            f'qop=auth, nc={nc}')


def cmd_ua(a):
    host, port = a.cscf.rsplit(":", 1)
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    lport = lsock.getsockname()[1]
    reg = socket.create_connection((host, int(port)), timeout=10)
    rs = Stream(reg)
    impi, impu, ruri = f"{a.user}@{a.domain}", f"sip:{a.user}@{a.domain}", f"sip:{a.domain}"
    call_id, tag = rnd(16) + "@waf-link-test", rnd(8)
    lh, lp = reg.getsockname()

    def register(cseq, auth=None):
        msg = (f"REGISTER {ruri} SIP/2.0\r\n"
               f"Via: SIP/2.0/TCP {lh}:{lp};branch=z9hG4bK{rnd(12)};rport\r\n"
               f"Max-Forwards: 70\r\nFrom: <{impu}>;tag={tag}\r\nTo: <{impu}>\r\n"
               f"Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\n"
               f"Contact: <sip:{a.user}@127.0.0.1:{lport};transport=tcp>\r\nExpires: 600\r\n")
        if auth:
            msg += f"Authorization: {auth}\r\n"
        reg.sendall((msg + "Content-Length: 0\r\n\r\n").encode())
        while True:
            msgs = rs.messages()
            if msgs is None:
                fail("the S-CSCF closed the connection")
            for head, _ in msgs:
                m = re.match(r"SIP/2\.0 (\d{3})", head)
                if m and int(m.group(1)) >= 200:
                    return int(m.group(1)), head

    code, head = register(1)
    if code != 401:
        fail(f"REGISTER: {code}, expected 401")
    chs = [v.partition(":")[2].strip() for v in head.split("\r\n")
           if v.lower().startswith("www-authenticate:")]
    ch = next((c for c in chs if re.search(r"algorithm=\"?MD5\b", c, re.I)), chs[0])
    code, head = register(2, digest(ch, impi, a.password, ruri))
    if code != 200:
        fail(f"REGISTER with Digest: {code}\n{head}")
    print(f"{impu} registered at {a.cscf}, contact port {lport}")
    sys.stdout.flush()
    with open(a.ready, "w") as f:
        f.write("ready\n")

    socks = {reg: rs}
    deadline = time.time() + a.hold
    while time.time() < deadline:
        r, _, _ = select.select([lsock] + list(socks), [], [], 0.5)
        for s in r:
            if s is lsock:
                c, _ = lsock.accept()
                socks[c] = Stream(c)
                continue
            msgs = socks[s].messages()
            if msgs is None:
                del socks[s]
                continue
            for head, body in msgs:
                if head.startswith("SIP/2.0"):
                    continue
                method = head.split(" ", 1)[0]
                respond(s, head, 200, "OK")
                if method == "MESSAGE":
                    rec = {"from": hdr(head, "From"), "pai": hdr(head, "P-Asserted-Identity"),
                           "content_type": hdr(head, "Content-Type"), "ruri": head.split(" ")[1],
                           "body": body}
                    with open(a.out, "a") as f:
                        f.write(json.dumps(rec) + "\n")
                    print(f"MESSAGE from {rec['from']}: {len(body)} bytes")
                    sys.stdout.flush()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cmd", choices=["ua", "link", "confirm", "wwsf-link", "token"])
    p.add_argument("--waf", default="https://127.0.0.1:9443")
    p.add_argument("--cscf", default="127.0.0.1:5060")
    p.add_argument("--domain", default="ims.example.org")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--impu")
    p.add_argument("--subject")
    p.add_argument("--code")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--expect", type=int)
    p.add_argument("--text")
    p.add_argument("--origin")
    p.add_argument("--no-origin", action="store_true")
    p.add_argument("--no-csrf", action="store_true")
    p.add_argument("--browser", action="store_true",
                   help="send the headers a browser sends for a form on our page")
    p.add_argument("--out")
    p.add_argument("--ready")
    p.add_argument("--hold", type=float, default=120)
    a = p.parse_args()
    {"ua": cmd_ua, "link": cmd_link, "confirm": cmd_confirm, "wwsf-link": cmd_wwsf_link,
     "token": cmd_token}[a.cmd](a)


if __name__ == "__main__":
    main()
