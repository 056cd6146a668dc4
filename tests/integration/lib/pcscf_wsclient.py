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
  bearer                   REGISTER with Authorization: Bearer (trusted node,
                           TR 33.871 6.1.2): --token T | --token-file F |
                           --auth VALUE (the whole Authorization value),
                           --origin O, --impu URI (To and From; --to/--from
                           apart), --extra "H: v" (repeat); must get
                           --expect-status N (200) with --expect-text RE in
                           the answer; then, on 200: --reregister N more
                           REGISTERs with the same token (each 200),
                           --message-self (a MESSAGE to its own IMPU comes
                           back with P-Asserted-Identity of it), and on a
                           refusal --check-unbound (a MESSAGE gets 403 Not
                           registered: nothing was bound); --send-and-close:
                           close the WebSocket right after the REGISTER;
                           after a 200 (in this order): --refused-from URI
                           and --refused-ppi URI (repeat; a MESSAGE with
                           that From / P-Preferred-Identity gets 403: REQ
                           2.4, the flow speaks only for the token's
                           IMPUs), --expire-after S (S s after the 200 a
                           MESSAGE gets 403 Not registered: the binding
                           ended with the token), --then STATUS:TOKEN
                           (repeat; re-REGISTER on the same flow with
                           another token, must get STATUS; then the
                           --message-self check again, or 403 Not
                           registered after a refusal)

Calls (class Phone: a small RFC 3261 UA with dialogs, one flow each):
  core-calls               WIC -> a SIPp core (pcscf_calls.sh): call, CANCEL,
                           forged From / P-Asserted-Identity, Max-Forwards 0
  core-dies                an INVITE ringing when the core connection
                           closes must get 503 at once
  answer --token-file F    holds a flow answering the core's INVITEs by
                           Subject: answer, cancel, vanish (drops the flow)
  silent --token-file F    registers, then answers no ping: must be dropped
  ws-calls                 alice and bob through the real core (call_ws.sh)
  call-one --to URI        one call, 200 (or --expect-status), ACK, BYE
  answer-one --ready-file F  answers one call (--expect-pai URI), then BYE

The connection options (--user, --alg, ...) go before or after the
subcommand.
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
        self.deadline = None  # time.time() by which recv() gives up
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
                # pings must not stretch a caller's timeout forever
                if self.deadline is not None and time.time() >= self.deadline:
                    raise socket.timeout("deadline")
                if self.deadline is not None:
                    self.sock.settimeout(max(0.01, self.deadline - time.time()))
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



# --- calls: a small SIP UA (RFC 3261 dialogs) on one WebSocket flow ---

SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n")


def split_list(value):
    """The comma-separated elements of a header value, commas inside <>
    or quotes left alone."""
    out, cur, depth, quoted = [], "", 0, False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


class Msg:
    """A received SIP message."""

    def __init__(self, text):
        self.text = text
        head, _, self.body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        self.first = lines[0]
        self.status, self.reason = status(text)
        self.method = None if self.status else self.first.split(" ", 1)[0]
        self.ruri = None if self.status else self.first.split(" ")[1]
        self.headers = []
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                self.headers.append((k.strip(), v.strip()))

    def all(self, name):
        """Every value of name, header lines in order."""
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def values(self, name):
        """Every element of name, comma lists split (Via, Route, ...)."""
        out = []
        for v in self.all(name):
            out += split_list(v)
        return out

    def one(self, name):
        v = self.all(name)
        return v[0] if v else None

    @property
    def cseq(self):
        n, m = self.one("CSeq").split()
        return int(n), m

    def tag(self, name):
        m = re.search(r";\s*tag=([^;>\s]+)", self.one(name) or "")
        return m.group(1) if m else None

    def branch(self):
        m = re.search(r"branch=([^;,\s]+)", self.values("Via")[0])
        return m.group(1) if m else None


def uri_of(nameaddr):
    m = re.search(r"<([^>]*)>", nameaddr)
    return m.group(1) if m else nameaddr.split(";")[0].strip()


class Check(Exception):
    pass


def expect(cond, why):
    if not cond:
        raise Check(why)


class Dialog:
    def __init__(self, call_id, local_tag, remote_tag, local_uri, remote_uri, target, routes,
                 cseq):
        self.call_id, self.local_tag, self.remote_tag = call_id, local_tag, remote_tag
        self.local_uri, self.remote_uri, self.target = local_uri, remote_uri, target
        self.routes, self.cseq = routes, cseq


class Phone:
    """One WIC: a WebSocket flow, a registration, calls and messages."""

    def __init__(self, name, a, user=None, origin=DEFAULT_ORIGIN):
        self.name = name
        self.user = user or a.user
        self.password = f"{self.user}-secret" if user else a.password
        self.domain, self.alg = a.domain, a.alg
        self.ws = WsClient(a.host, a.port, origin=origin, path=a.path)
        self.impu = f"sip:{self.user}@{self.domain}"
        self.impi = f"{self.user}@{self.domain}"
        self.host = rnd(12) + ".invalid"
        self.contact_uri = f"sip:{rnd(8)}@{self.host};transport=ws"
        self.reg_call_id = rnd(20)
        self.reg_cseq = 0
        self.reg_tag = rnd(10)
        self.queue = []
        self.token = None
        self.log = []

    def say(self, text):
        now = time.time()
        stamp = time.strftime("%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}"
        print(f"{stamp} [{self.name}] {text}")

    # -- wire --
    def send(self, text):
        first = text.split("\r\n", 1)[0]
        self.say(f"-> {first}")
        self.ws.send(text)

    def recv(self, timeout=5.0):
        """The next message, None on timeout; raises WsError when closed."""
        self.ws.sock.settimeout(timeout)
        self.ws.deadline = time.time() + timeout
        try:
            text = self.ws.recv()
        except (socket.timeout, TimeoutError):
            return None
        finally:
            self.ws.deadline = None
        if text is None:
            raise WsError(f"closed by the server ({self.ws.close_code})")
        m = Msg(text)
        self.say(f"<- {m.first}")
        return m

    def wait(self, pred, what, timeout=5.0):
        for i, m in enumerate(self.queue):
            if pred(m):
                return self.queue.pop(i)
        end = time.time() + timeout
        while time.time() < end:
            m = self.recv(max(0.05, end - time.time()))
            if m is None:
                break
            if pred(m):
                return m
            if m.status == 100:
                continue
            self.queue.append(m)
        raise Check(f"{self.name}: no {what} within {timeout} s")

    def wait_request(self, method, timeout=5.0):
        return self.wait(lambda m: m.method == method, method, timeout)

    def wait_response(self, call_id, cseq_method, final=True, timeout=5.0, code=None):
        def pred(m):
            if m.status is None or m.one("Call-ID") != call_id or m.cseq[1] != cseq_method:
                return False
            if code is not None:
                return m.status == code
            return m.status >= 200 if final else m.status > 100
        return self.wait(pred, f"{code or ''} response to {cseq_method}", timeout)

    def via(self, branch=None):
        return f"Via: SIP/2.0/WSS {self.host};branch={branch or 'z9hG4bK' + rnd(12)}"

    # -- registration --
    def _register(self, auth=None, expires=600, contact=True):
        self.reg_cseq += 1
        lines = [f"REGISTER sip:{self.domain} SIP/2.0", self.via(), "Max-Forwards: 70",
                 f"To: <{self.impu}>", f"From: <{self.impu}>;tag={self.reg_tag}",
                 f"Call-ID: {self.reg_call_id}", f"CSeq: {self.reg_cseq} REGISTER",
                 "Supported: path, outbound, gruu"]
        if contact:
            lines.append(f"Contact: <{self.contact_uri}>;expires={expires}")
        if auth:
            lines.append(auth)
        lines.append("Content-Length: 0")
        self.send("\r\n".join(lines) + "\r\n\r\n")
        return self.wait_response(self.reg_call_id, "REGISTER")

    def register(self, expires=600, contact=True):
        r = self._register(expires=expires, contact=contact)
        if r.status == 401:
            ua = Ua(None, self.user, self.domain, self.password, self.alg)
            ch = [c for c in r.all("WWW-Authenticate")
                  if re.search(r"algorithm=\"?" + re.escape(self.alg) + r"\"?(,|$|\s)", c, re.I)]
            expect(ch, f"no {self.alg} challenge")
            r = self._register(ua.digest(ch[0], "REGISTER", f"sip:{self.domain}"), expires,
                               contact)
        expect(r.status == 200, f"{self.name}: REGISTER got {r.status} {r.reason}")
        for p in r.values("Path"):
            m = re.match(r"<sip:([A-Za-z0-9_-]{34})@127\.0\.0\.1:5070;", p)
            if m:
                self.token = m.group(1)
        return r

    # -- requests --
    def request(self, method, ruri, to, from_uri=None, call_id=None, cseq=1, from_tag=None,
                to_tag=None, routes=(), branch=None, extra=(), body="", ctype=None,
                max_forwards=70, display=None):
        fr = f"<{from_uri or self.impu}>"
        if display:
            fr = f'"{display}" {fr}'
        lines = [f"{method} {ruri} SIP/2.0", self.via(branch), f"Max-Forwards: {max_forwards}",
                 f"To: <{to}>" + (f";tag={to_tag}" if to_tag else ""),
                 f"From: {fr};tag={from_tag or rnd(8)}", f"Call-ID: {call_id or rnd(20)}",
                 f"CSeq: {cseq} {method}"]
        lines += [f"Route: {r}" for r in routes]
        if method in ("INVITE", "SUBSCRIBE", "REFER", "UPDATE") or method == "INVITE":
            lines.append(f"Contact: <{self.contact_uri};ob>")
        lines += list(extra)
        if body:
            lines.append(f"Content-Type: {ctype or 'application/sdp'}")
        lines.append(f"Content-Length: {len(body.encode())}")
        text = "\r\n".join(lines) + "\r\n\r\n" + body
        self.send(text)
        return Msg(text)

    def respond(self, req, code, reason=None, to_tag=None, body="", extra=()):
        reason = reason or {100: "Trying", 180: "Ringing", 200: "OK", 486: "Busy Here",
                            487: "Request Terminated", 480: "Temporarily Unavailable"}.get(code, "X")
        to = req.one("To")
        if to_tag and ";tag=" not in to:
            to += f";tag={to_tag}"
        lines = [f"SIP/2.0 {code} {reason}"] + [f"Via: {v}" for v in req.all("Via")]
        lines += [f"From: {req.one('From')}", f"To: {to}", f"Call-ID: {req.one('Call-ID')}",
                  f"CSeq: {req.one('CSeq')}"]
        if 100 < code < 300 and req.method in ("INVITE", "SUBSCRIBE", "REFER"):
            lines += [f"Record-Route: {r}" for r in req.all("Record-Route")]
            lines.append(f"Contact: <{self.contact_uri}>")
        lines += list(extra)
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        self.send("\r\n".join(lines) + "\r\n\r\n" + body)

    # -- calls --
    def invite(self, to, from_uri=None, display=None, extra=(), max_forwards=70):
        """Sends an INVITE; returns the request sent (see call_result)."""
        return self.request("INVITE", to, to, from_uri=from_uri, display=display, extra=extra,
                            body=SDP, max_forwards=max_forwards, from_tag=rnd(8))

    def final(self, inv, timeout=8.0, provisional=None):
        """Waits for the final response to INVITE inv (provisional ones
        appended to the provisional list if given); ACKs a non-2xx."""
        while True:
            r = self.wait_response(inv.one("Call-ID"), "INVITE", final=False, timeout=timeout)
            if r.status < 200:
                if provisional is not None:
                    provisional.append(r)
                continue
            if r.status >= 300:
                self.ack_non2xx(inv, r)
            return r

    def ack_non2xx(self, inv, resp):
        """RFC 3261 17.1.1.3: same branch, Request-URI, Route as the INVITE."""
        lines = [f"ACK {inv.ruri} SIP/2.0", f"Via: {inv.values('Via')[0]}", "Max-Forwards: 70",
                 f"To: {resp.one('To')}", f"From: {inv.one('From')}",
                 f"Call-ID: {inv.one('Call-ID')}", f"CSeq: {inv.cseq[0]} ACK"]
        lines += [f"Route: {r}" for r in inv.all("Route")]
        lines.append("Content-Length: 0")
        self.send("\r\n".join(lines) + "\r\n\r\n")

    def uac_dialog(self, inv, ok):
        """RFC 3261 12.1.2: the caller's dialog from the 2xx."""
        return Dialog(inv.one("Call-ID"), inv.tag("From"), ok.tag("To"), uri_of(inv.one("From")),
                      uri_of(inv.one("To")), uri_of(ok.one("Contact")),
                      list(reversed(ok.values("Record-Route"))), inv.cseq[0])

    def uas_dialog(self, inv, to_tag):
        """RFC 3261 12.1.1: the callee's dialog from the INVITE."""
        return Dialog(inv.one("Call-ID"), to_tag, inv.tag("From"), uri_of(inv.one("To")),
                      uri_of(inv.one("From")), uri_of(inv.one("Contact")),
                      inv.values("Record-Route"), 100)

    def ack(self, d, inv_cseq=None):
        return self.in_dialog(d, "ACK", cseq=inv_cseq or d.cseq)

    def in_dialog(self, d, method, cseq=None, body="", ctype=None, from_uri=None):
        if cseq is None:
            d.cseq += 1
            cseq = d.cseq
        return self.request(method, d.target, d.remote_uri, from_uri=from_uri or d.local_uri,
                            call_id=d.call_id, cseq=cseq, from_tag=d.local_tag,
                            to_tag=d.remote_tag, routes=d.routes, body=body, ctype=ctype)

    def cancel(self, inv):
        lines = [f"CANCEL {inv.ruri} SIP/2.0", f"Via: {inv.values('Via')[0]}", "Max-Forwards: 70",
                 f"To: {inv.one('To')}", f"From: {inv.one('From')}",
                 f"Call-ID: {inv.one('Call-ID')}", f"CSeq: {inv.cseq[0]} CANCEL"]
        lines += [f"Route: {r}" for r in inv.all("Route")]
        lines.append("Content-Length: 0")
        self.send("\r\n".join(lines) + "\r\n\r\n")

    def close(self):
        self.ws.close()

    def drop(self):
        """The WebSocket vanishes without a close handshake."""
        try:
            self.ws.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.ws.sock.close()


def pcscf_rr(token):
    return f"<sip:{token}@127.0.0.1:5070;transport=tcp;lr>"


def run_steps(steps):
    """Runs named scenario steps, printing ok/FAIL for each; exit status 1
    if any failed."""
    failed = 0
    for name, fn in steps:
        try:
            fn()
            print(f"ok - {name}")
        except (Check, WsError, OSError, AssertionError) as e:
            failed += 1
            print(f"FAIL - {name}: {e}")
    sys.exit(1 if failed else 0)


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


# --- call scenarios behind a SIPp core (pcscf_calls.sh) ---

def do_core_calls(a):
    """WIC -> core through the eP-CSCF; sipp/pcscf_call_core.xml checks
    the core side."""
    alice = Phone("alice", a)
    alice.register()
    expect(alice.token, "no flow token in the Path")
    bob = f"sip:bob@{a.domain}"

    def call():
        inv = alice.invite(bob, display="Bob", extra=[
            "P-Asserted-Identity: <sip:mallory@ims.example.org>", "Subject: answer"])
        ok = alice.final(inv)
        expect(ok.status == 200, f"INVITE got {ok.status}")
        rr = ok.values("Record-Route")
        expect(rr == ["<sip:127.0.0.1:5090;transport=tcp;lr>", pcscf_rr(alice.token)],
               f"Record-Route of the 200: {rr}")
        d = alice.uac_dialog(inv, ok)
        alice.ack(d)
        alice.in_dialog(d, "BYE")
        r = alice.wait_response(d.call_id, "BYE")
        expect(r.status == 200, f"BYE got {r.status}")

    def cancel():
        inv = alice.invite(bob, extra=["Subject: cancel"])
        alice.wait_response(inv.one("Call-ID"), "INVITE", final=False, code=180)
        alice.cancel(inv)
        r = alice.wait_response(inv.one("Call-ID"), "CANCEL")
        expect(r.status == 200, f"CANCEL got {r.status}")
        f = alice.final(inv)
        expect(f.status == 487, f"INVITE after CANCEL got {f.status}")

    def forged_from_invite():
        inv = alice.invite(bob, from_uri="sip:carol@ims.example.org")
        r = alice.final(inv)
        expect(r.status == 403 and "registered identity" in r.reason,
               f"INVITE with a forged From got {r.status} {r.reason}")

    def forged_from_message():
        alice.request("MESSAGE", bob, bob, from_uri="sip:carol@ims.example.org", body="hi",
                      ctype="text/plain")
        r = alice.wait(lambda m: m.status and m.cseq[1] == "MESSAGE", "MESSAGE answer")
        expect(r.status == 403, f"MESSAGE with a forged From got {r.status}")

    def forged_pai_message():
        m = alice.request("MESSAGE", bob, bob, body="hi", ctype="text/plain",
                          extra=["P-Asserted-Identity: <sip:mallory@ims.example.org>"])
        r = alice.wait_response(m.one("Call-ID"), "MESSAGE")
        expect(r.status == 200, f"MESSAGE got {r.status} (the core checks the PAI)")

    def max_forwards_zero():
        inv = alice.invite(bob, max_forwards=0)
        r = alice.final(inv)
        expect(r.status == 483, f"INVITE with Max-Forwards 0 got {r.status}")
        m = alice.request("MESSAGE", bob, bob, body="hi", ctype="text/plain", max_forwards=0)
        r = alice.wait_response(m.one("Call-ID"), "MESSAGE")
        expect(r.status == 483, f"MESSAGE with Max-Forwards 0 got {r.status}")

    run_steps([
        ("WIC->core INVITE/180/200/ACK/BYE: Record-Route on top, Route popped in dialog", call),
        ("WIC CANCEL leaves with its INVITE's branch and Route; 487 and its ACK", cancel),
        ("INVITE with a forged From: 403", forged_from_invite),
        ("MESSAGE with a forged From: 403", forged_from_message),
        ("MESSAGE with a forged P-Asserted-Identity: replaced by ours", forged_pai_message),
        ("Max-Forwards 0 from the WIC: 483 (INVITE, MESSAGE)", max_forwards_zero),
    ])


def do_core_dies(a):
    """An INVITE rings, then the core's connection closes: 503 at once."""
    alice = Phone("alice", a)
    alice.register()
    inv = alice.invite(f"sip:bob@{a.domain}")
    t0 = time.time()
    r = alice.final(inv, timeout=10)
    took = time.time() - t0
    print(f"INVITE -> {r.status} {r.reason} after {took:.2f} s")
    if r.status != 503 or took > 5:
        fail("expected 503 within 5 s")
    print("ok")


def do_answer(a):
    """Holds a flow and answers the core's INVITEs by their Subject
    (sipp/pcscf_mw_*.xml): answer, cancel, vanish (the last)."""
    wic = Phone("wic", a)
    wic.register()
    with open(a.token_file, "w") as f:
        f.write(wic.token)
    failed = 0

    def common(inv):
        via = inv.values("Via")[0]
        expect(via.startswith("SIP/2.0/WSS 127.0.0.1:7443;branch=z9hG4bK"), f"top Via {via}")
        expect(not inv.all("Route"), f"our Route entry left in: {inv.all('Route')}")
        rr = inv.values("Record-Route")
        expect(rr and rr[0] == pcscf_rr(wic.token), f"Record-Route {rr}")
        pai = inv.all("P-Asserted-Identity")
        if inv.one("Subject") != "vanish":
            expect(pai == ["<sip:bob@ims.example.org>"], f"P-Asserted-Identity {pai}")

    while True:
        try:
            inv = wic.wait_request("INVITE", timeout=a.hold or 30)
        except Check as e:
            print(f"FAIL - {e}")
            sys.exit(1)
        subject = inv.one("Subject")
        tag = rnd(8)
        try:
            common(inv)
            wic.respond(inv, 180, to_tag=tag)
            if subject == "answer":
                wic.respond(inv, 200, to_tag=tag, body=SDP)
                ack = wic.wait_request("ACK")
                expect(not ack.all("Route"), f"ACK Route {ack.all('Route')}")
                bye = wic.wait_request("BYE")
                expect(not bye.all("Route"), f"BYE Route {bye.all('Route')}")
                wic.respond(bye, 200)
                print("ok - core->WIC call: PAI shown, Record-Route on top, in-dialog by it")
            elif subject == "cancel":
                c = wic.wait_request("CANCEL")
                expect(c.branch() == inv.branch(),
                       f"CANCEL branch {c.branch()} != INVITE branch {inv.branch()}")
                wic.respond(c, 200, to_tag=tag)
                wic.respond(inv, 487, to_tag=tag)
                ack = wic.wait_request("ACK")
                expect(ack.branch() == inv.branch(),
                       f"ACK branch {ack.branch()} != INVITE branch {inv.branch()}")
                print("ok - core->WIC CANCEL and ACK reach the WIC with the INVITE's branch")
            elif subject == "vanish":
                wic.drop()
                print("ok - dropped the WebSocket while ringing")
                break
        except (Check, WsError, OSError) as e:
            failed += 1
            print(f"FAIL - {subject}: {e}")
    sys.exit(1 if failed else 0)


def do_silent(a):
    """Registers, then reads nothing (so answers no ping) for --seconds:
    the eP-CSCF must drop the flow as dead."""
    ph = Phone("silent", a)
    ph.register()
    with open(a.token_file, "w") as f:
        f.write(ph.token)
    time.sleep(a.seconds)
    ph.ws.sock.settimeout(3)
    try:
        while True:
            chunk = ph.ws.sock.recv(65536)
            if not chunk:
                break
    except (ssl.SSLError, OSError) as e:
        if isinstance(e, (socket.timeout, TimeoutError)):
            fail("the eP-CSCF kept a flow that answers no ping")
    print("ok - the flow that answered no ping was dropped")


# --- calls through the real core (call_ws.sh) ---

CSCF_RR = "<sip:127.0.0.1:5060;lr>"


def check_rr(rr, callee, caller):
    """The Record-Route set of a WIC-to-WIC call: the callee's eP-CSCF
    entry on top, the cscf's, the caller's eP-CSCF entry last."""
    expect(rr and rr[0] == pcscf_rr(callee.token), f"top Record-Route {rr}")
    expect(rr[-1] == pcscf_rr(caller.token), f"last Record-Route {rr}")
    expect(CSCF_RR in rr, f"no cscf Record-Route in {rr}")


def answer_call(callee, caller, inv, body=SDP):
    tag = rnd(8)
    callee.respond(inv, 180, to_tag=tag)
    callee.respond(inv, 200, to_tag=tag, body=body)
    return callee.uas_dialog(inv, tag)


def do_ws_calls(a):
    alice = Phone("alice", a, user="alice")
    bob = Phone("bob", a, user="bob")
    alice.register()
    bob.register()
    d = {}
    bob_uri = f"sip:bob@{a.domain}"
    alice_uri = f"sip:alice@{a.domain}"

    def call():
        inv = alice.invite(bob_uri, display="Bob the Builder", extra=[
            "P-Asserted-Identity: <sip:bob@ims.example.org>"])
        got = bob.wait_request("INVITE")
        pai = got.all("P-Asserted-Identity")
        expect(pai == [f"<{alice_uri}>"], f"bob sees P-Asserted-Identity {pai}")
        check_rr(got.values("Record-Route"), bob, alice)
        d["bob"] = answer_call(bob, alice, got)
        prov = []
        ok = alice.final(inv, provisional=prov)
        expect(ok.status == 200, f"INVITE got {ok.status} {ok.reason}")
        expect(any(p.status == 180 for p in prov), "no 180 reached alice")
        check_rr(ok.values("Record-Route"), bob, alice)
        d["alice"] = alice.uac_dialog(inv, ok)
        d["inv_cseq"] = inv.cseq[0]
        alice.ack(d["alice"])
        ack = bob.wait_request("ACK")
        expect(not ack.all("Route"), f"ACK reached bob with Route {ack.all('Route')}")

    def reinvite():
        da, db = d["alice"], d["bob"]
        re_inv = alice.in_dialog(da, "INVITE", body=SDP)
        got = bob.wait_request("INVITE")
        expect(got.tag("To") == db.local_tag, "re-INVITE not in bob's dialog")
        bob.respond(got, 200, body=SDP)
        ok = alice.final(re_inv)
        expect(ok.status == 200, f"re-INVITE got {ok.status}")
        alice.ack(da, inv_cseq=re_inv.cseq[0])
        bob.wait_request("ACK")

    def update():
        da, db = d["alice"], d["bob"]
        up = bob.in_dialog(db, "UPDATE", body=SDP)
        got = alice.wait_request("UPDATE")
        expect(got.tag("To") == da.local_tag, "UPDATE not in alice's dialog")
        alice.respond(got, 200, body=SDP)
        r = bob.wait_response(db.call_id, "UPDATE")
        expect(r.status == 200, f"UPDATE got {r.status}")

    def bye_from_callee():
        db = d["bob"]
        bob.in_dialog(db, "BYE")
        got = alice.wait_request("BYE")
        alice.respond(got, 200)
        r = bob.wait_response(db.call_id, "BYE")
        expect(r.status == 200, f"BYE got {r.status}")

    def message():
        m = alice.request("MESSAGE", bob_uri, bob_uri, body="hello bob", ctype="text/plain",
                          extra=["P-Asserted-Identity: <sip:carol@ims.example.org>"])
        got = bob.wait_request("MESSAGE")
        expect(got.body == "hello bob", f"body {got.body!r}")
        pai = got.all("P-Asserted-Identity")
        expect(pai == [f"<{alice_uri}>"], f"MESSAGE P-Asserted-Identity {pai}")
        bob.respond(got, 200, to_tag=rnd(6))
        r = alice.wait_response(m.one("Call-ID"), "MESSAGE")
        expect(r.status == 200, f"MESSAGE got {r.status}")

    def reject():
        inv = alice.invite(bob_uri)
        got = bob.wait_request("INVITE")
        bob.respond(got, 486, to_tag=rnd(8))
        r = alice.final(inv)
        expect(r.status == 486, f"rejected call got {r.status} {r.reason}")
        ack = bob.wait_request("ACK")
        expect(ack.branch() == got.branch(), "the core's ACK to bob's 486 has another branch")

    def offline():
        inv = alice.invite(f"sip:carol@{a.domain}")
        r = alice.final(inv)
        expect(r.status == 480, f"call to an unregistered user got {r.status} {r.reason}")

    def cancel():
        inv = alice.invite(bob_uri)
        got = bob.wait_request("INVITE")
        tag = rnd(8)
        bob.respond(got, 180, to_tag=tag)
        alice.wait_response(inv.one("Call-ID"), "INVITE", final=False, code=180)
        alice.cancel(inv)
        r = alice.wait_response(inv.one("Call-ID"), "CANCEL")
        expect(r.status == 200, f"CANCEL got {r.status}")
        c = bob.wait_request("CANCEL")
        expect(c.branch() == got.branch(), "CANCEL reached bob with another branch")
        bob.respond(c, 200, to_tag=tag)
        bob.respond(got, 487, to_tag=tag)
        f = alice.final(inv)
        expect(f.status == 487, f"cancelled call got {f.status}")
        bob.wait_request("ACK")

    def spoofed():
        inv = alice.invite(bob_uri, from_uri=f"sip:carol@{a.domain}")
        r = alice.final(inv)
        expect(r.status == 403, f"spoofed From got {r.status}")
        m = alice.request("MESSAGE", bob_uri, bob_uri, from_uri=f"sip:carol@{a.domain}",
                          body="x", ctype="text/plain")
        r = alice.wait_response(m.one("Call-ID"), "MESSAGE")
        expect(r.status == 403, f"spoofed MESSAGE got {r.status}")

    def two_flows():
        bob2 = Phone("bob2", a, user="bob")
        bob2.register()
        d["bob2"] = bob2
        bob.drop()
        time.sleep(0.3)
        inv = alice.invite(bob_uri)
        got = bob2.wait_request("INVITE", timeout=10)
        db = answer_call(bob2, alice, got)
        ok = alice.final(inv, timeout=10)
        expect(ok.status == 200, f"call to bob's open flow got {ok.status} {ok.reason}")
        da = alice.uac_dialog(inv, ok)
        alice.ack(da)
        bob2.wait_request("ACK")
        alice.in_dialog(da, "BYE")
        bye = bob2.wait_request("BYE")
        bob2.respond(bye, 200)
        r = alice.wait_response(da.call_id, "BYE")
        expect(r.status == 200, f"BYE got {r.status}")
        q = bob2.register(contact=False)
        contacts = q.values("Contact")
        expect(len(contacts) == 1 and bob2.contact_uri in contacts[0],
               f"bob's bindings after the 430: {contacts}")

    def both_flows_closed():
        bob2 = d.get("bob2")
        expect(bob2, "needs the two-flow step")
        bob2.drop()
        time.sleep(0.3)
        inv = alice.invite(bob_uri)
        r = alice.final(inv, timeout=10)
        expect(r.status == 480, f"call to bob with every flow closed got {r.status} {r.reason}")

    run_steps([
        ("alice calls bob: INVITE/180/200/ACK, bob sees alice asserted, Record-Route "
         "pcscf/cscf/pcscf", call),
        ("re-INVITE in the dialog", reinvite),
        ("UPDATE from the callee in the dialog", update),
        ("BYE from the callee", bye_from_callee),
        ("MESSAGE delivered with the asserted identity", message),
        ("callee rejects: 486 reaches alice, the core ACKs bob with the INVITE's branch", reject),
        ("callee offline: 480", offline),
        ("CANCEL before the answer: 200, CANCEL reaches bob with the INVITE's branch, 487",
         cancel),
        ("spoofed From: 403 (INVITE, MESSAGE)", spoofed),
        ("bob on two flows, one closed: the call reaches the open one, the closed one's "
         "binding is gone", two_flows),
        ("bob's every flow closed: 480", both_flows_closed),
    ])


def do_call_one(a):
    """Calls --to and expects 200 (then ACK, BYE) or --expect-status."""
    ph = Phone(a.user, a)
    ph.register()
    inv = ph.invite(a.to)
    r = ph.final(inv, timeout=10)
    print(f"INVITE {a.to} -> {r.status} {r.reason}")
    if r.status != a.expect_status:
        fail(f"expected {a.expect_status}")
    if r.status == 200:
        d = ph.uac_dialog(inv, r)
        ph.ack(d)
        time.sleep(0.2)
        ph.in_dialog(d, "BYE")
        b = ph.wait_response(d.call_id, "BYE")
        if b.status != 200:
            fail(f"BYE got {b.status}")
    print("ok")


def do_answer_one(a):
    """Registers, writes --ready-file, answers one call (checking the
    caller's asserted identity), then its BYE."""
    ph = Phone(a.user, a)
    ph.register()
    with open(a.ready_file, "w") as f:
        f.write(ph.token)
    inv = ph.wait_request("INVITE", timeout=a.hold)
    pai = inv.all("P-Asserted-Identity")
    if a.expect_pai and pai != [f"<{a.expect_pai}>"]:
        fail(f"P-Asserted-Identity {pai}, expected {a.expect_pai}")
    tag = rnd(8)
    ph.respond(inv, 180, to_tag=tag)
    ph.respond(inv, 200, to_tag=tag, body=SDP)
    ph.wait_request("ACK")
    bye = ph.wait_request("BYE", timeout=a.hold)
    ph.respond(bye, 200)
    print("ok")


def do_bearer(a):
    """REGISTER with a Bearer token (see the module comment)."""
    token = a.token
    if a.token_file:
        with open(a.token_file) as f:
            token = f.read().strip()
    # a cell: --then re-REGISTERs with another token
    auth_now = [a.auth if a.auth is not None else f"Bearer {token}"]
    try:
        ph = Phone("wic", a, user=a.user, origin=a.origin)
    except (WsError, OSError) as e:
        fail(f"cannot open the WebSocket: {e}")
    impu = a.impu or f"sip:{a.user}@{a.domain}"
    to, frm = a.to or impu, getattr(a, "from_") or impu
    cid, tag = rnd(20), rnd(10)

    def register(cseq):
        lines = [f"REGISTER sip:{a.domain} SIP/2.0", ph.via(), "Max-Forwards: 70",
                 f"To: <{to}>", f"From: <{frm}>;tag={tag}", f"Call-ID: {cid}",
                 f"CSeq: {cseq} REGISTER", "Supported: path, outbound, gruu",
                 f"Contact: <{ph.contact_uri}>;expires=600"]
        if auth_now[0]:
            lines.append(f"Authorization: {auth_now[0]}")
        lines += list(a.extra or [])
        lines.append("Content-Length: 0")
        ph.send("\r\n".join(lines) + "\r\n\r\n")
        try:
            return ph.wait_response(cid, "REGISTER", timeout=a.within)
        except Check as e:
            fail(str(e))

    if a.send_and_close:
        lines = [f"REGISTER sip:{a.domain} SIP/2.0", ph.via(), "Max-Forwards: 70",
                 f"To: <{to}>", f"From: <{frm}>;tag={tag}", f"Call-ID: {cid}",
                 "CSeq: 1 REGISTER", f"Contact: <{ph.contact_uri}>;expires=600",
                 f"Authorization: {auth_now[0]}", "Content-Length: 0"]
        ph.send("\r\n".join(lines) + "\r\n\r\n")
        ph.drop()
        print("ok")
        return
    def message_self():
        """A MESSAGE to its own IMPU must come back with P-Asserted-Identity
        of From (the flow speaks for it)."""
        m = ph.request("MESSAGE", impu, impu, from_uri=frm, body="hello me",
                       ctype="text/plain",
                       extra=["P-Asserted-Identity: <sip:mallory@ims.example.org>"])
        try:
            got = ph.wait_request("MESSAGE", timeout=5)
        except Check as e:
            fail(f"the MESSAGE did not come back: {e}")
        pai = got.all("P-Asserted-Identity")
        print(f"MESSAGE came back with P-Asserted-Identity {pai}")
        ph.respond(got, 200, to_tag=rnd(6))
        resp = ph.wait_response(m.one("Call-ID"), "MESSAGE")
        print(f"MESSAGE -> {resp.status} {resp.reason}")
        if pai != [f"<{frm}>"]:
            fail(f"P-Asserted-Identity {pai}, expected <{frm}>")

    def message_refused(reason, from_uri=None, ppi=None):
        """A MESSAGE (From from_uri, or P-Preferred-Identity ppi) must get
        403 with reason from the eP-CSCF."""
        extra = [f"P-Preferred-Identity: <{ppi}>"] if ppi else []
        m = ph.request("MESSAGE", impu, impu, from_uri=from_uri or frm, body="x",
                       ctype="text/plain", extra=extra)
        try:
            resp = ph.wait_response(m.one("Call-ID"), "MESSAGE")
        except Check as e:
            fail(str(e))
        what = f"P-Preferred-Identity {ppi}" if ppi else f"From {from_uri or frm}"
        print(f"MESSAGE with {what} -> {resp.status} {resp.reason}")
        if resp.status != 403 or reason not in (resp.reason or ""):
            fail(f"expected 403 {reason}, got {resp.status} {resp.reason}")

    r = register(1)
    registered_at = time.time()
    text = r.text.split("\r\n\r\n")[0]
    print(f"REGISTER -> {r.status} {r.reason}")
    for h in ("WWW-Authenticate", "Warning", "P-Associated-URI"):
        for v in r.all(h):
            print(f"  {h}: {v}")
    if r.status != a.expect_status:
        fail(f"expected {a.expect_status}, got {r.status} {r.reason}")
    if a.expect_text and not re.search(a.expect_text, text):
        fail(f"the answer does not match {a.expect_text!r}")
    if r.status == 200:
        for i in range(a.reregister):
            r2 = register(2 + i)
            print(f"re-REGISTER {i + 1} -> {r2.status} {r2.reason}")
            if r2.status != 200:
                fail(f"re-REGISTER got {r2.status} {r2.reason}")
        if a.message_self:
            message_self()
        for u in a.refused_from or []:
            message_refused("From is not a registered identity", from_uri=u)
        for u in a.refused_ppi or []:
            message_refused("P-Preferred-Identity is not a registered identity", ppi=u)
        if a.expire_after is not None:
            left = registered_at + a.expire_after - time.time()
            print(f"waiting {left:.1f} s for the binding to end")
            time.sleep(max(0.0, left))
            message_refused("Not registered")
        cseq = 2 + a.reregister
        for then in a.then or []:
            want, _, tok = then.partition(":")
            auth_now[0] = f"Bearer {tok}"
            r3 = register(cseq)
            cseq += 1
            print(f"re-REGISTER with another token -> {r3.status} {r3.reason}")
            if r3.status != int(want):
                fail(f"expected {want}, got {r3.status} {r3.reason}")
            if r3.status == 200 and a.message_self:
                message_self()
            elif r3.status != 200:
                message_refused("Not registered")
    elif a.check_unbound:
        m = ph.request("MESSAGE", impu, impu, from_uri=frm, body="x", ctype="text/plain")
        resp = ph.wait_response(m.one("Call-ID"), "MESSAGE")
        print(f"MESSAGE after the refusal -> {resp.status} {resp.reason}")
        if resp.status != 403 or "Not registered" not in (resp.reason or ""):
            fail("the refused REGISTER left a binding")
    ph.close()
    print("ok")


def main():
    p = argparse.ArgumentParser()
    # The connection options are taken before or after the subcommand
    # ("--user bob register" and "register --user bob" alike): each
    # subcommand gets them too, with no default of its own so that it
    # only overrides what was given.
    def common(parser, suppress):
        d = (lambda v: argparse.SUPPRESS) if suppress else (lambda v: v)
        parser.add_argument("--host", default=d("127.0.0.1"))
        parser.add_argument("--port", type=int, default=d(7443))
        parser.add_argument("--path", default=d("/"))
        parser.add_argument("--user", default=d("alice"))
        parser.add_argument("--password", default=d(None))
        parser.add_argument("--domain", default=d("ims.example.org"))
        parser.add_argument("--alg", default=d("SHA-256"), choices=["SHA-256", "MD5"])
    common(p, False)
    shared = argparse.ArgumentParser(add_help=False)
    common(shared, True)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("register", parents=[shared])
    r.add_argument("--message-to")
    r.add_argument("--spoof-from")
    r.add_argument("--ppi")
    r.add_argument("--expect-status", type=int)
    r.add_argument("--token-file")
    r.add_argument("--deregister", action="store_true")
    r.add_argument("--hold", type=float, default=0)
    o = sub.add_parser("origin", parents=[shared])
    o.add_argument("origin", nargs="?", default="")
    rs = sub.add_parser("register-status", parents=[shared])
    rs.add_argument("status", type=int)
    rs.add_argument("--within", type=float, default=5)
    sub.add_parser("core-calls", parents=[shared])
    sub.add_parser("core-dies", parents=[shared])
    an = sub.add_parser("answer", parents=[shared])
    an.add_argument("--token-file", required=True)
    an.add_argument("--hold", type=float, default=30)
    si = sub.add_parser("silent", parents=[shared])
    si.add_argument("--token-file", required=True)
    si.add_argument("--seconds", type=float, default=3)
    sub.add_parser("ws-calls", parents=[shared])
    c1 = sub.add_parser("call-one", parents=[shared])
    c1.add_argument("--to", required=True)
    c1.add_argument("--expect-status", type=int, default=200)
    a1 = sub.add_parser("answer-one", parents=[shared])
    a1.add_argument("--ready-file", required=True)
    a1.add_argument("--expect-pai")
    a1.add_argument("--hold", type=float, default=30)
    sub.add_parser("unregistered", parents=[shared])
    sub.add_parser("malformed", parents=[shared])
    sub.add_parser("oversize", parents=[shared])
    be = sub.add_parser("bearer", parents=[shared])
    be.add_argument("--token")
    be.add_argument("--token-file")
    be.add_argument("--auth")
    be.add_argument("--origin", default=DEFAULT_ORIGIN)
    be.add_argument("--impu")
    be.add_argument("--to")
    be.add_argument("--from", dest="from_")
    be.add_argument("--extra", action="append")
    be.add_argument("--expect-status", type=int, default=200)
    be.add_argument("--expect-text")
    be.add_argument("--reregister", type=int, default=0)
    be.add_argument("--message-self", action="store_true")
    be.add_argument("--check-unbound", action="store_true")
    be.add_argument("--within", type=float, default=8)
    be.add_argument("--send-and-close", action="store_true")
    be.add_argument("--refused-from", action="append")
    be.add_argument("--refused-ppi", action="append")
    be.add_argument("--expire-after", type=float)
    be.add_argument("--then", action="append")
    a = p.parse_args()
    if a.password is None:
        a.password = f"{a.user}-secret"
    random.seed()
    {"register": do_register, "origin": do_origin, "register-status": do_register_status, "unregistered": do_unregistered,
     "malformed": do_malformed, "oversize": do_oversize, "core-calls": do_core_calls, "core-dies": do_core_dies,
     "answer": do_answer, "silent": do_silent, "ws-calls": do_ws_calls,
     "call-one": do_call_one, "answer-one": do_answer_one, "bearer": do_bearer}[a.cmd](a)


if __name__ == "__main__":
    main()
