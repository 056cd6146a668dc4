#!/usr/bin/env python3
"""pcscf_wsclient.py - a SIP over secure WebSocket client (RFC 7118) for the
eP-CSCF tests, in python3 stdlib only: ssl + socket, our own WebSocket
framing (RFC 6455, masked client frames), Digest MD5/SHA-256 via hashlib.

Each subcommand is one scenario; it prints what it saw and exits 0 when the
eP-CSCF behaved as it must, 1 otherwise:

  origin ORIGIN            the upgrade must be refused with HTTP 403
  register                 REGISTER -> 401 -> REGISTER+Digest -> 200 (checks
                           Path, P-Associated-URI, Service-Route), then the
                           optional steps below on the same flow
    --message-to URI         a MESSAGE from the bound identity must not be
                             refused by the eP-CSCF (any answer from the core)
    --spoof-from URI         a MESSAGE with another From must get 403
    --ppi URI                P-Preferred-Identity to send with --message-to
    --expect-status N        the status --message-to must get
    --token-file F           write the flow token (user part of the Path)
    --deregister             REGISTER Expires: 0 at the end, then a MESSAGE
                             must get 403 Not registered
    --hold S                 keep the WebSocket open S seconds at the end,
                             answering 200 to requests from the core
  register-status N        a first REGISTER must get status N (e.g. 503 with
                           the core down) within --within seconds
  unregistered             a MESSAGE on a fresh flow must get 403
  malformed                a broken SIP message must get 400 with a reason
  oversize                 a message above 64 KiB must close the WebSocket
                           with 1009
"""
import argparse
import base64
import hashlib
import os
import random
import re
import socket
import ssl
import struct
import sys
import time

DEFAULT_ORIGIN = "https://127.0.0.1:8443"


class WsError(Exception):
    pass


class WsClient:
    def __init__(self, host, port, origin=DEFAULT_ORIGIN, path="/", timeout=10):
        raw = socket.create_connection((host, port), timeout=timeout)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the demo's self-signed certificate
        self.sock = ctx.wrap_socket(raw, server_hostname=host)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.close_code = None
        self.http_status = None
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n")
        if origin:
            req += f"Origin: {origin}\r\n"
        self.sock.sendall((req + "\r\n").encode())
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode(errors="replace").split("\r\n")
        m = re.match(r"HTTP/1\.1 (\d{3})", lines[0]) if lines else None
        self.http_status = int(m.group(1)) if m else None
        if self.http_status != 101:
            raise WsError(f"upgrade refused: {lines[0] if lines else '(nothing)'}")
        want = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        hdrs = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip()
                for l in lines[1:] if ":" in l}
        if hdrs.get("sec-websocket-accept") != want:
            raise WsError("bad Sec-WebSocket-Accept")
        if hdrs.get("sec-websocket-protocol") != "sip":
            raise WsError("subprotocol sip not accepted")

    def send_frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + body)

    def send(self, text):
        self.send_frame(0x1, text.encode())

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise WsError("connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        """The next SIP message (str); None when the peer closed (see
        close_code)."""
        while True:
            b0, b1 = self._read(2)
            op, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            if b1 & 0x80:
                raise WsError("server frames must not be masked")
            payload = self._read(n)
            if op == 0x9:
                self.send_frame(0xA, payload)
            elif op == 0x8:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                try:
                    self.send_frame(0x8, payload[:2])
                except OSError:
                    pass
                return None
            elif op in (0x1, 0x2):
                return payload.decode(errors="replace")

    def close(self):
        try:
            self.send_frame(0x8, struct.pack("!H", 1000))
            self.sock.close()
        except OSError:
            pass


# --- SIP helpers ---

def hdr(msg, name):
    """Every value of header name (case-insensitive), in order."""
    head = msg.split("\r\n\r\n", 1)[0]
    out = []
    for line in head.split("\r\n")[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            if k.strip().lower() == name.lower():
                out.append(v.strip())
    return out


def status(msg):
    m = re.match(r"SIP/2\.0 (\d{3}) ?(.*)", msg or "")
    return (int(m.group(1)), m.group(2)) if m else (None, None)


def rnd(n=10):
    return "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


class Ua:
    """Enough of a UA to register and send a MESSAGE, JsSIP-style."""

    def __init__(self, ws, user, domain, password, alg):
        self.ws, self.user, self.domain, self.password, self.alg = ws, user, domain, password, alg
        self.impu = f"sip:{user}@{domain}"
        self.impi = f"{user}@{domain}"
        self.host = rnd(12) + ".invalid"
        self.contact = f"<sip:{rnd(8)}@{self.host};transport=ws>"
        self.call_id = rnd(20)
        self.cseq = 0
        self.from_tag = rnd(10)

    def via(self):
        return f"Via: SIP/2.0/WSS {self.host};branch=z9hG4bK{rnd(12)}"

    def register(self, auth=None, expires=600):
        self.cseq += 1
        lines = [f"REGISTER sip:{self.domain} SIP/2.0", self.via(), "Max-Forwards: 69",
                 f"To: <{self.impu}>", f"From: <{self.impu}>;tag={self.from_tag}",
                 f"Call-ID: {self.call_id}", f"CSeq: {self.cseq} REGISTER",
                 f"Contact: {self.contact};expires={expires}",
                 "Supported: path, outbound, gruu",
                 "P-Asserted-Identity: <sip:mallory@ims.example.org>",
                 "Path: <sip:evil@192.0.2.66;lr>"]
        if auth:
            lines.append(auth)
        lines.append("Content-Length: 0")
        self.ws.send("\r\n".join(lines) + "\r\n\r\n")
        return self.recv_final()

    def recv_final(self):
        while True:
            msg = self.ws.recv()
            if msg is None:
                return None
            code, _ = status(msg)
            if code is None or code >= 200:
                return msg

    def digest(self, challenge, method, uri):
        params = {k.lower(): (q or t) for k, q, t in
                  re.findall(r'([\w-]+)=(?:"([^"]*)"|([^,\s]+))', challenge)}
        alg = params.get("algorithm", "MD5")
        h = (lambda s: hashlib.sha256(s.encode()).hexdigest()) if alg.upper() == "SHA-256" \
            else (lambda s: hashlib.md5(s.encode()).hexdigest())
        realm, nonce = params["realm"], params["nonce"]
        cnonce, nc = rnd(16), "00000001"
        ha1 = h(f"{self.impi}:{realm}:{self.password}")
        ha2 = h(f"{method}:{uri}")
        resp = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        auth = (f'Authorization: Digest username="{self.impi}", realm="{realm}", '
                f'nonce="{nonce}", uri="{uri}", response="{resp}", algorithm={alg}, '
                f'cnonce="{cnonce}", qop=auth, nc={nc}')
        if "opaque" in params:
            auth += f', opaque="{params["opaque"]}"'
        return auth

    def message(self, to, from_uri=None, ppi=None, pai=None):
        self.cseq += 1
        lines = [f"MESSAGE {to} SIP/2.0", self.via(), "Max-Forwards: 69",
                 f"To: <{to}>", f"From: <{from_uri or self.impu}>;tag={rnd(8)}",
                 f"Call-ID: {rnd(20)}", f"CSeq: {self.cseq} MESSAGE",
                 "Content-Type: text/plain"]
        if ppi:
            lines.append(f"P-Preferred-Identity: <{ppi}>")
        if pai:
            lines.append(f"P-Asserted-Identity: <{pai}>")
        body = "hello"
        lines.append(f"Content-Length: {len(body)}")
        self.ws.send("\r\n".join(lines) + "\r\n\r\n" + body)
        return self.recv_final()


def answer_until(ws, deadline):
    """Answer 200 to every request the core sends through the flow until
    deadline (a terminating MESSAGE arrives with the eP-CSCF's WSS Via)."""
    while time.time() < deadline:
        ws.sock.settimeout(max(0.1, deadline - time.time()))
        try:
            msg = ws.recv()
        except (socket.timeout, TimeoutError):
            break
        except (WsError, OSError):
            return
        if msg is None:
            return
        if status(msg)[0] is not None:
            continue
        first = msg.split("\r\n", 1)[0]
        vias = hdr(msg, "Via")
        print(f"got {first} via {vias[0] if vias else '?'}")
        resp = ["SIP/2.0 200 OK"] + [f"Via: {v}" for v in vias]
        resp += [f"From: {hdr(msg, 'From')[0]}", f"To: {hdr(msg, 'To')[0]};tag={rnd(8)}",
                 f"Call-ID: {hdr(msg, 'Call-ID')[0]}", f"CSeq: {hdr(msg, 'CSeq')[0]}",
                 "Content-Length: 0"]
        ws.send("\r\n".join(resp) + "\r\n\r\n")


def fail(why):
    print(f"FAIL: {why}")
    sys.exit(1)


def connect(a, origin=DEFAULT_ORIGIN):
    try:
        return WsClient(a.host, a.port, origin=origin, path=a.path)
    except (WsError, OSError) as e:
        fail(f"cannot open the WebSocket: {e}")


def do_register(a):
    ws = connect(a)
    ua = Ua(ws, a.user, a.domain, a.password, a.alg)
    r1 = ua.register()
    code, reason = status(r1)
    print(f"REGISTER -> {code} {reason}")
    if code != 401:
        fail(f"expected 401, got {code}")
    challenges = hdr(r1, "WWW-Authenticate")
    pick = [c for c in challenges if re.search(r"algorithm=\"?" + re.escape(a.alg) + r"\"?(,|$|\s)", c, re.I)]
    if not pick:
        fail(f"no {a.alg} challenge among {challenges}")
    r2 = ua.register(ua.digest(pick[0], "REGISTER", f"sip:{a.domain}"))
    code, reason = status(r2)
    print(f"REGISTER+Digest {a.alg} -> {code} {reason}")
    if code != 200:
        fail(f"expected 200, got {code} {reason}")
    paths = hdr(r2, "Path")
    pau = hdr(r2, "P-Associated-URI")
    print(f"Path: {paths}\nP-Associated-URI: {pau}\nService-Route: {hdr(r2, 'Service-Route')}")
    if len(paths) != 1 or "evil" in paths[0]:
        fail("the 200 must echo exactly our eP-CSCF's Path, not the client's")
    m = re.match(r"<sip:([A-Za-z0-9_-]{34})@127\.0\.0\.1:5070;transport=tcp;lr;ob>", paths[0])
    if not m:
        fail(f"Path is not a flow token URI: {paths[0]}")
    if not any(ua.impu in p for p in pau):
        fail("P-Associated-URI does not list the registered IMPU")
    if a.token_file:
        with open(a.token_file, "w") as f:
            f.write(m.group(1))
    if a.message_to:
        r = ua.message(a.message_to, ppi=a.ppi, pai="sip:mallory@ims.example.org")
        code, reason = status(r)
        print(f"MESSAGE from {ua.impu} -> {code} {reason}")
        if a.expect_status and code != a.expect_status:
            fail(f"expected {a.expect_status}, got {code} {reason}")
        if a.expect_status is None and code == 403 and "registered identity" in (reason or ""):
            fail("the eP-CSCF refused the bound identity")
        if code is None:
            fail("no answer")
    if a.spoof_from:
        r = ua.message(a.message_to or f"sip:bob@{a.domain}", from_uri=a.spoof_from)
        code, reason = status(r)
        print(f"MESSAGE from {a.spoof_from} -> {code} {reason} {hdr(r, 'Warning')}")
        if code != 403:
            fail(f"a spoofed From must get 403, got {code}")
    if a.deregister:
        r = ua.register(None, expires=0)
        code, reason = status(r)
        if code == 401:
            pick = [c for c in hdr(r, "WWW-Authenticate") if a.alg.lower() in c.lower()]
            r = ua.register(ua.digest(pick[0], "REGISTER", f"sip:{a.domain}"), expires=0)
            code, reason = status(r)
        print(f"de-REGISTER -> {code} {reason}")
        if code != 200:
            fail(f"de-registration: {code}")
        r = ua.message(f"sip:bob@{a.domain}")
        code, reason = status(r)
        print(f"MESSAGE after de-registration -> {code} {reason}")
        if code != 403:
            fail("a de-registered flow must get 403")
    if a.hold:
        answer_until(ws, time.time() + a.hold)
    ws.close()
    print("ok")


def do_origin(a):
    try:
        WsClient(a.host, a.port, origin=a.origin or None, path=a.path)
    except WsError as e:
        print(str(e))
        if "403" in str(e):
            print("ok")
            return
        fail("refused, but not with HTTP 403")
    except OSError as e:
        fail(f"connection failed: {e}")
    fail(f"Origin {a.origin!r} was accepted")


def do_register_status(a):
    ws = connect(a)
    ua = Ua(ws, a.user, a.domain, a.password, a.alg)
    t0 = time.time()
    r = ua.register()
    code, reason = status(r)
    took = time.time() - t0
    print(f"REGISTER -> {code} {reason} after {took:.2f} s")
    if code != a.status:
        fail(f"expected {a.status}")
    if took > a.within:
        fail(f"the answer took longer than {a.within} s")
    print("ok")


def do_unregistered(a):
    ws = connect(a)
    ua = Ua(ws, a.user, a.domain, a.password, a.alg)
    r = ua.message(f"sip:bob@{a.domain}")
    code, reason = status(r)
    print(f"MESSAGE on an unregistered flow -> {code} {reason}")
    if code != 403 or "Not registered" not in reason:
        fail("expected 403 Not registered")
    print("ok")


def do_malformed(a):
    ws = connect(a)
    # A bad CSeq (method differs from the request's) but every header a
    # response needs is there: 400 with the parser's reason.
    ws.send("OPTIONS sip:bob@ims.example.org SIP/2.0\r\n"
            "Via: SIP/2.0/WSS x.invalid;branch=z9hG4bKmal1\r\n"
            "From: <sip:alice@ims.example.org>;tag=1\r\nTo: <sip:bob@ims.example.org>\r\n"
            "Call-ID: mal1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
    r = ws.recv()
    code, reason = status(r)
    print(f"bad CSeq -> {code} {reason}")
    if code != 400 or not reason:
        fail("expected 400 with a reason")
    if "CSeq" not in reason:
        fail(f"the reason should name the problem: {reason!r}")
    # Garbage that cannot be answered is dropped, the flow stays usable.
    ws.send("this is not SIP\r\n\r\n")
    ws.send("OPTIONS sip:bob@ims.example.org SIP/2.0\r\n"
            "Via: SIP/2.0/WSS x.invalid;branch=z9hG4bKmal2\r\n"
            "From: <sip:alice@ims.example.org>;tag=1\r\nTo: <sip:bob@ims.example.org>\r\n"
            "Call-ID: mal2\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 99\r\n\r\n")
    r = ws.recv()
    code, reason = status(r)
    print(f"Content-Length past the end -> {code} {reason}")
    if code != 400:
        fail("expected 400")
    print("ok")


def do_oversize(a):
    ws = connect(a)
    body = "x" * (70 * 1024)
    msg = ("MESSAGE sip:bob@ims.example.org SIP/2.0\r\n"
           "Via: SIP/2.0/WSS x.invalid;branch=z9hG4bKbig\r\n"
           "From: <sip:alice@ims.example.org>;tag=1\r\nTo: <sip:bob@ims.example.org>\r\n"
           f"Call-ID: big\r\nCSeq: 1 MESSAGE\r\nContent-Length: {len(body)}\r\n\r\n" + body).encode()
    # In 16 KiB fragments (RFC 6455 5.4), as a browser may: the server may
    # close as soon as the total passes its limit, so stop sending when it
    # does and read its close frame.
    chunks = [msg[i:i + 16384] for i in range(0, len(msg), 16384)]
    try:
        for i, c in enumerate(chunks):
            op = 0x1 if i == 0 else 0x0
            if i == len(chunks) - 1:
                ws.send_frame(op, c)
            else:
                mask = os.urandom(4)
                head = bytes([op, 0x80 | 126]) + struct.pack("!H", len(c))
                ws.sock.sendall(head + mask + bytes(b ^ mask[j % 4] for j, b in enumerate(c)))
    except OSError as e:
        print(f"send stopped: {e}")
    try:
        r = ws.recv()
    except (WsError, OSError) as e:
        fail(f"connection dropped without a close frame: {e}")
    print(f"oversize -> message {status(r)}, close code {ws.close_code}")
    if r is not None or ws.close_code != 1009:
        fail("expected close 1009")
    print("ok")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7443)
    p.add_argument("--path", default="/")
    p.add_argument("--user", default="alice")
    p.add_argument("--password", default=None)
    p.add_argument("--domain", default="ims.example.org")
    p.add_argument("--alg", default="SHA-256", choices=["SHA-256", "MD5"])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("register")
    r.add_argument("--message-to")
    r.add_argument("--spoof-from")
    r.add_argument("--ppi")
    r.add_argument("--expect-status", type=int)
    r.add_argument("--token-file")
    r.add_argument("--deregister", action="store_true")
    r.add_argument("--hold", type=float, default=0)
    o = sub.add_parser("origin")
    o.add_argument("origin", nargs="?", default="")
    rs = sub.add_parser("register-status")
    rs.add_argument("status", type=int)
    rs.add_argument("--within", type=float, default=5)
    sub.add_parser("unregistered")
    sub.add_parser("malformed")
    sub.add_parser("oversize")
    a = p.parse_args()
    if a.password is None:
        a.password = f"{a.user}-secret"
    random.seed()
    {"register": do_register, "origin": do_origin, "register-status": do_register_status, "unregistered": do_unregistered,
     "malformed": do_malformed, "oversize": do_oversize}[a.cmd](a)


if __name__ == "__main__":
    main()
