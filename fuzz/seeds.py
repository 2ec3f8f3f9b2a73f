#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/<target>/ from the messages of
handover-proto's unit tests and doc examples.

The string and byte-string literals (and numeric byte arrays) of each
source file are extracted, the ones that fit a target are wrapped in that
target's input layout (`[config][plan length = 0][message]`, see
fuzz/src/lib.rs), and written as files named by their SHA-1, as libFuzzer
names corpus entries. A few messages the tests build in code (the NTLM
Type 2 of MS-NLMP 4.2.4.3, SOCKS conversations, WebSocket send sequences,
a certificate) are built here the same way.

    python3 fuzz/seeds.py            # rewrite fuzz/corpus/ (existing files kept)
    python3 fuzz/seeds.py --clean    # start from empty directories
    python3 fuzz/seeds.py doh ocsp   # only these targets' corpora

The committed corpora were minimised after they were written (see
FUZZING.md): rewriting a target's corpus brings back the seeds that
minimising dropped, so name the targets whose seeds changed.

Entries are small (at most 4 KiB, libFuzzer's default -max_len).
"""

import hashlib
import os
import re
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "crates", "handover-proto", "src")
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
MAX_LEN = 4096


def read(path):
    with open(os.path.join(SRC, path), encoding="utf-8") as f:
        return f.read()


def unescape(body, is_bytes):
    """The value of a Rust (byte) string literal body."""
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
            continue
        n = body[i + 1]
        if n == "\n":  # line continuation: skip the newline and leading whitespace
            i += 2
            while i < len(body) and body[i] in " \t\n\r":
                i += 1
            continue
        simple = {"n": b"\n", "r": b"\r", "t": b"\t", "\\": b"\\", "0": b"\0", '"': b'"', "'": b"'"}
        if n in simple:
            out += simple[n]
            i += 2
        elif n == "x":
            value = int(body[i + 2 : i + 4], 16)
            out += bytes([value]) if is_bytes else chr(value).encode("utf-8")
            i += 4
        elif n == "u":
            end = body.index("}", i)
            out += chr(int(body[i + 3 : end], 16)).encode("utf-8")
            i = end + 1
        else:
            out += body[i : i + 2].encode("utf-8")
            i += 2
    return bytes(out)


LITERAL = re.compile(r'(b?)r(#*)"(.*?)"\2|(b?)"((?:[^"\\]|\\.)*)"', re.S)
ARRAY = re.compile(r"\[((?:\s*(?:0x[0-9a-fA-F]{1,2}|\d{1,3})\s*,)+\s*(?:0x[0-9a-fA-F]{1,2}|\d{1,3})?\s*)\]")


def literals(path):
    """Every string, byte-string and small numeric array literal of a file."""
    text = read(path)
    # Doc comments hold examples too: strip the comment markers.
    text = re.sub(r"^\s*//[/!] ?", "", text, flags=re.M)
    found = []
    for m in LITERAL.finditer(text):
        if m.group(3) is not None:
            found.append(m.group(3).encode("utf-8"))
        else:
            try:
                found.append(unescape(m.group(5), m.group(4) == "b"))
            except (ValueError, IndexError):
                pass
    for m in ARRAY.finditer(text):
        values = [int(v, 0) for v in m.group(1).replace(" ", "").replace("\n", "").split(",") if v]
        if all(v < 256 for v in values):
            found.append(bytes(values))
    return found


def seed(config, message):
    """The input layout: config bytes, a plan of length 0, the message."""
    return bytes(config) + b"\0" + message


# The targets named on the command line; none means every target.
ONLY = {a for a in sys.argv[1:] if not a.startswith("--")}


def write(target, entries):
    if ONLY and target not in ONLY:
        return 0
    os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    count = 0
    for entry in entries:
        if not entry or len(entry) > MAX_LEN:
            continue
        name = hashlib.sha1(entry).hexdigest()
        with open(os.path.join(CORPUS, target, name), "wb") as f:
            f.write(entry)
        count += 1
    return count


def heads(files):
    return [l for f in files for l in literals(f) if l.startswith(b"HTTP/1.")]


def ntlm_type2():
    """MS-NLMP 4.2.4.3's CHALLENGE_MESSAGE, as the unit test lays it out."""
    name = "Server".encode("utf-16-le")
    info = b""
    for av_id, value in ((2, "Domain"), (1, "Server")):
        v = value.encode("utf-16-le")
        info += struct.pack("<HH", av_id, len(v)) + v
    info += b"\0" * 4
    msg = b"NTLMSSP\0" + struct.pack("<I", 2)
    msg += struct.pack("<HHI", len(name), len(name), 0x38)
    msg += struct.pack("<I", 0xE28A8233) + bytes.fromhex("0123456789abcdef") + b"\0" * 8
    msg += struct.pack("<HHI", len(info), len(info), 0x38 + len(name))
    msg += bytes.fromhex("060070170000000f") + name + info
    # The tunnel tests' minimal one: target name "DOM", no target info.
    dom = b"DOM"
    small = b"NTLMSSP\0" + struct.pack("<I", 2) + struct.pack("<HHI", 3, 3, 32)
    small += struct.pack("<I", 0x00000202) + bytes(range(1, 9)) + dom
    return [msg, small]


def answer_101():
    """A 101 whose accept key the ws targets fill in where it says ACCEPT."""
    return (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: ACCEPT\r\n\r\n")


def certificate():
    """A self-signed certificate and its public key (DER), made by openssl."""
    with tempfile.TemporaryDirectory() as tmp:
        key, cert, pub = (os.path.join(tmp, n) for n in ("key.pem", "cert.der", "pub.der"))
        try:
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-keyout", key, "-outform", "DER", "-out", cert, "-days", "365",
                 "-subj", "/CN=localhost/O=handover fuzz", "-addext", "subjectAltName=DNS:localhost,DNS:example.com"],
                check=True, capture_output=True)
            subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER", "-out", pub],
                           check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError):
            return None, None
        with open(cert, "rb") as f, open(pub, "rb") as g:
            return f.read(), g.read()


def string_fields(path, field):
    """The values of `field: "..."` (or `field: Some("...")`) in a file."""
    pattern = re.compile(field + r':\s*(?:Some\()?"((?:[^"\\]|\\.)*)"', re.S)
    return [unescape(m.group(1), False) for m in pattern.finditer(read(path))]


def string_lists(path, field):
    """The string lists of `field: &[...]` in a file, each as its values."""
    found = []
    for m in re.finditer(field + r':\s*&\[(.*?)\]', read(path), re.S):
        found.append([unescape(v, False) for v in re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1))])
    return found


def sigv4_requests():
    """The sigv4 tests' requests (parameter, host, method, path, query, user,
    header lines), mixed in turn so each test value appears in some seed."""
    tests = "auth/sigv4/tests.rs"
    params = string_fields(tests, "param") + [l for l in literals(tests) + literals("auth/sigv4.rs")
                                              if re.match(rb"^[\w-]*(:[\w-]*){0,4}$", l) and b":" in l]
    hosts = string_fields(tests, "host_name") + [b"sqs.eu-west-1.amazonaws.com", b"s.r.example", b"localhost"]
    columns = [
        params,
        hosts,
        string_fields(tests, "method") + [b"GET"],
        string_fields(tests, "path"),
        string_fields(tests, "query") + [b"Action=ListQueues"],
        string_fields(tests, "user"),
        [b"\n".join(lines) for lines in string_lists(tests, "headers")],
    ]
    bodies = [b"", b"postData", b"post\0Data"]
    seeds = []
    for i in range(max(len(c) for c in columns)):
        row = [c[i % len(c)] for c in columns]
        if any(b"\n" in v for v in row[:6]):
            continue
        # Config: query present, body known, the time of the row's index.
        config = (i % 8) << 2 | (2 if i % 5 == 4 else 0)
        headers = row[6] + b"\n" if row[6] else b""
        seeds.append(seed([config], b"\n".join(row[:6]) + b"\n" + headers + b"\n" + bodies[i % 3]))
    return seeds


def dns_name(name):
    return b"".join(bytes([len(l)]) + l for l in name.encode().split(b".") if l) + b"\0"


def dns_reply(host, qtype, answers, ident=0, rcode=0, additional=b"", arcount=0):
    """A DNS reply as the doh tests build them with hickory: one question,
    then `answers` as (type, class, ttl, rdata) with the name compressed to
    the question's."""
    msg = struct.pack(">HHHHHH", ident, 0x8180 | rcode, 1, len(answers), 0, arcount)
    msg += dns_name(host) + struct.pack(">HH", qtype, 1)
    for rtype, rclass, ttl, rdata in answers:
        msg += b"\xc0\x0c" + struct.pack(">HHIH", rtype, rclass, ttl, len(rdata)) + rdata
    return msg + additional


def doh_replies():
    """The doh tests' messages: dnsdist's captures and the replies the tests
    build in code."""
    captures = [bytes.fromhex(l.decode()) for l in literals("doh/tests.rs")
                if re.match(rb"^0000[0-9a-f]+$", l) and len(l) % 2 == 0]
    opt = b"\0\0\x29\x04\xd0\0\0\0\0\0\0"
    host = "h.example"
    a = lambda ip: (1, 1, 5, bytes(ip))
    aaaa = (28, 1, 1, bytes(15) + b"\1")
    replies = []
    for capture in captures:
        # The question (uncompressed): its name and type say what was asked.
        at, labels = 12, []
        while capture[at]:
            labels.append(capture[at + 1 : at + 1 + capture[at]].decode())
            at += 1 + capture[at]
        qtype = struct.unpack(">H", capture[at + 1 : at + 3])[0]
        replies.append((1 if qtype == 28 else 0, ".".join(labels), capture))
    replies += [
        (0, host, dns_reply(host, 1, [a([10, 0, 0, 1])])),
        (0, host, dns_reply(host, 1, [a([10, 0, 0, 1])], ident=7)),
        (0, host, dns_reply(host, 1, [], rcode=2)),
        (0, host, dns_reply(host, 1, [], rcode=3, additional=opt, arcount=1)),
        (0, host, dns_reply("other.example", 1, [a([10, 0, 0, 1])])),
        (0, host, dns_reply(host, 1, [(5, 1, 300, dns_name("real.example")), a([192, 0, 2, 1]),
                                      (1, 1, 200000, bytes([192, 0, 2, 2]))])),
        (1, host, dns_reply(host, 28, [a([1, 2, 3, 4])])),
        (0, host, dns_reply(host, 1, [aaaa])),
        (1, host, dns_reply(host, 28, [aaaa, (39, 1, 60, dns_name("x.example"))])),
        (0, host, dns_reply(host, 1, [(15, 1, 1, b"\0\1" + dns_name("mx.example"))])),
        (0, host, dns_reply(host, 1, [(1, 3, 1, bytes([1, 2, 3, 4]))])),
        (0, host, dns_reply(host, 1, [(1, 1, 999999, bytes([10, 0, 0, i])) for i in range(40)])),
    ]
    # Config: the family, both queries answered, the DoH media type.
    return [seed([family], name.encode() + b"\n" + body) for family, name, body in replies]


def ocsp_inputs():
    """The OCSP tests' responses and certificates (their testdata), each
    asked about the server certificate at the tests' time; the responses
    also about the responder's certificate, and after they expired."""
    testdata = os.path.join(SRC, "ocsp", "testdata")
    inputs = []
    for name in sorted(os.listdir(testdata)):
        with open(os.path.join(testdata, name), "rb") as f:
            der = f.read()
        inputs.append(seed([0], der))
        if name not in ("ca.der", "srv.der", "rsp.der"):
            inputs += [seed([0x10], der), seed([0x0a], der)]
    inputs += [seed([0], l) for l in literals("ocsp.rs") + literals("ocsp/tests.rs") if l[:1] == b"\x30"]
    return inputs


# Server lines of the connect phases' unit tests: the replies a test feeds
# its machine, in file order, up to the client lines it expects.
SERVER_LINE = {
    "ftp": rb"^(\d{3}[ \r-])",
    "smtp": rb"^(\d{3}[ \r-])",
    "imap": rb"^(\* |\+ |\+\r|[A-Z]\d{3} (OK|NO|BAD)|[A-Z]\d{3} \{)",
    "pop3": rb"^(\+OK|-ERR|\+ |\+\r)",
}


def transcripts(proto):
    """The server side of each conversation in `<proto>/tests.rs` and the
    module's doc examples: consecutive server literals, joined, cut where
    the test turns to what the client wrote."""
    pattern = re.compile(SERVER_LINE[proto])
    # FTP tests pair each reply with the command it brings: a conversation
    # there ends where the next greeting starts.
    greeting = re.compile(rb"^(220|120)[ -]") if proto == "ftp" else None
    groups, current = [], []
    for path in (f"{proto}/tests.rs", f"{proto}.rs"):
        for lit in literals(path):
            if greeting and greeting.match(lit) and current:
                groups.append(b"".join(current))
                current = [lit]
            elif pattern.match(lit):
                current.append(lit)
            elif greeting:
                continue
            elif current and (lit.endswith(b"\r\n") or lit == b""):
                groups.append(b"".join(current))
                current = []
    if current:
        groups.append(b"".join(current))
    singles = {l for path in (f"{proto}/tests.rs", f"{proto}.rs") for l in literals(path) if pattern.match(l)}
    return groups + sorted(singles)


def sasl_inputs():
    """Each mechanism offered, with the tests' challenges (base64 ones as
    they are, DIGEST-MD5 directive lists encoded) then a success."""
    import base64
    texts = literals("sasl/tests.rs") + literals("sasl/messages.rs")
    challenges = [t for t in texts if len(t) >= 8 and re.fullmatch(rb"[A-Za-z0-9+/]+=*", t)]
    challenges += [base64.b64encode(t) for t in texts if b"nonce=" in t or t.startswith(b"<") or t.startswith(b"rspauth=")]
    mechs = [b"PLAIN", b"LOGIN", b"CRAM-MD5", b"DIGEST-MD5", b"NTLM", b"EXTERNAL", b"XOAUTH2", b"OAUTHBEARER"]

    def replies(items):
        out = b""
        for kind, field in items:
            out += bytes([kind, min(len(field), 255)]) + field[:255]
        return out

    inputs = []
    for i, mech in enumerate(mechs):
        for config in ((0x04, 0x02), (0x09, 0x13), (0x16, 0x02)):
            chosen = challenges[i % len(challenges): i % len(challenges) + 2]
            inputs.append(bytes(config) + b"\n" + mech + b" PLAIN\n"
                          + replies([(0, c) for c in chosen] + [(2, b"")]))
    for c in challenges:
        inputs.append(bytes([0x04, 0x00]) + b"AUTH=*\nDIGEST-MD5 CRAM-MD5 NTLM LOGIN\n" + replies([(0, c), (0, b""), (2, b"")]))
    inputs.append(bytes([0x04, 0x00]) + b"AUTH=PLAIN;auth=LOGIN;\nPLAIN LOGIN\n" + replies([(3, b"-ERR no")]))
    return inputs


def main():
    if "--clean" in sys.argv:
        for target in os.listdir(CORPUS) if os.path.isdir(CORPUS) else []:
            if ONLY and target not in ONLY:
                continue
            for name in os.listdir(os.path.join(CORPUS, target)):
                os.remove(os.path.join(CORPUS, target, name))
    counts = {}
    http_files = ["http1/head.rs", "http1/body.rs", "http1/mod.rs", "tunnel.rs"]
    response_heads = heads(http_files)

    counts["head"] = write("head", [seed([0], h) for h in response_heads])

    body_literals = literals("http1/body.rs")
    bodies = [seed([0], h) for h in heads(["http1/body.rs", "http1/mod.rs"])]
    bodies += [seed([0x01], l) for l in body_literals if re.match(rb"^[0-9a-fA-F]+[;\r\n ]", l)]
    bodies += [seed([0x02, 5, 0], l) for l in body_literals if l and not l.startswith(b"HTTP/")]
    counts["body"] = write("body", bodies)

    request_lines = [l for l in literals("http1/request.rs") if re.match(rb"^[!-9;-~]+[:;]", l) and b"\n" not in l]
    options = b"\n/status\nexample.com\nhandover\nhttps://example.com/\nAccept: */*\n"
    requests = [seed([0], options + b"\n".join(request_lines[i : i + 4])) for i in range(0, len(request_lines), 4)]
    requests.append(seed([0x2f], b"PATCH\nhttp://example.com/x\nexample.com\nua\nref\nX-Default: 1\nHost: other\nX-Empty;\nAccept:"))
    counts["request"] = write("request", requests)

    exchange = [seed([c, 0], h) for h in response_heads for c in (0x00, 0x01, 0x22)]
    exchange.append(seed([0x18, 0], answer_101()))
    exchange.append(seed([0x05, 4], b"body" + b"\0HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"))
    counts["exchange"] = write("exchange", exchange)

    tunnel_replies = heads(["tunnel.rs", "auth/mod.rs", "auth/digest.rs"])
    counts["tunnel"] = write("tunnel", [seed([c], r) for r in tunnel_replies for c in (0x00, 0x11, 0x13, 0x12, 0x1b)])

    socks = literals("socks.rs")
    socks4_replies = [l for l in socks if len(l) == 8 and l[0] == 0]
    counts["socks4"] = write("socks4", [seed([c], r + b"SSH-2.0-x") for r in socks4_replies for c in (0, 1, 0x0d)])
    replies5 = [l for l in socks if len(l) >= 2 and l[0] == 5 and l[1] < 0x0a]
    conversations = [
        bytes([5, 0, 5, 0, 0, 1, 10, 0, 0, 1, 0x1F, 0x90]) + b"tunnel",
        bytes([5, 2, 1, 0, 5, 0, 0, 4]) + bytes(15) + bytes([1, 4, 0x38]),
        bytes([5, 0, 5, 0, 0, 3, 5]) + b"proxy" + bytes([0, 0x50]),
        bytes([5, 0xFF]),
        bytes([5, 2, 1, 1]),
    ]
    counts["socks5"] = write("socks5", [seed([c], r) for r in replies5 + conversations for c in (0, 4, 5, 7)])

    challenge_files = ["auth/challenge.rs", "auth/digest.rs", "auth/mod.rs", "tunnel.rs"]
    challenges = [l for f in challenge_files for l in literals(f)
                  if re.search(rb"(?i)^(digest|basic|ntlm|negotiate|bearer)\b", l) or b"realm=" in l]
    for h in tunnel_replies:
        for line in h.split(b"\r\n"):
            if line.lower().startswith(b"proxy-authenticate:"):
                challenges.append(line.split(b":", 1)[1].strip())
    counts["auth_challenge"] = write("auth_challenge", [seed([0xFF, 0x00], c) for c in challenges])

    type2 = ntlm_type2()
    import base64
    counts["ntlm_type2"] = write("ntlm_type2", [seed([0], m) for m in type2] + [seed([1], base64.b64encode(m)) for m in type2])

    ws_literals = [l for f in ("ws/tests.rs", "ws/decode.rs", "ws/mod.rs", "ws/session.rs") for l in literals(f)
                   if l and (l[0] & 0x70) == 0 and (l[0] & 0x0F) in (0, 1, 2, 8, 9, 10)]
    counts["ws_decoder"] = write("ws_decoder", [seed([0], l) for l in ws_literals])
    counts["ws_session"] = write("ws_session", [seed([c], l) for l in ws_literals for c in (0, 1, 4, 5)])

    ops = []
    for flags, length, payload in ((0, 5, b"hello"), (2, 3, b"Hel"), (0, 2, b"lo"), (7, 4, b"ping"),
                                   (8, 0, b""), (1, 200, b"b" * 200), (6, 2, b"\x03\xe8")):
        ops.append(bytes([flags, length]) + bytes([0x37, 0xFA, 0x21, 0x3D]) + payload)
    encoder = [seed([0], b"".join(ops)), seed([0], ops[1] + ops[3] + ops[2]), seed([0], bytes([0x80 | 1, 200, 9, 0, 0, 0]) + b"x" * 200)]
    counts["ws_encoder"] = write("ws_encoder", encoder)

    answer = answer_101()
    key = b"the sample nonce"
    handshakes = [bytes([1]) + key + b"\0" + answer, bytes([0]) + key + b"\0" + answer,
                  bytes([1]) + key + b"\0" + b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]
    handshakes += [bytes([0]) + key + b"\0" + h for h in response_heads[:8]]
    counts["ws_handshake"] = write("ws_handshake", handshakes)

    url_like = [l for f in ("url.rs", "proxy.rs", "socks.rs", "tunnel.rs") for l in literals(f)
                if (b"://" in l or re.match(rb"^[\w.-]+(:\d+)?(/|$)", l)) and b"\n" not in l and len(l) < 300]
    counts["url"] = write("url", [seed([0], u) for u in url_like])

    proxy_literals = literals("proxy.rs")
    proxies = [l for l in proxy_literals if b"\n" not in l and (b"://" in l or b"." in l)]
    lists = [l for l in proxy_literals if b"," in l or l in (b"*", b".internal")]
    hosts = b"\n".join(sorted({l for l in proxy_literals if re.match(rb"^[\w.:\[\]-]+$", l)})[:40])
    env = b"\nhttps_proxy=http://proxy.corp:3128\nall_proxy=socks5://127.0.0.1\nhttp_proxy=http://h:1"
    pn = []
    for i, p in enumerate(proxies):
        pn.append(seed([i % 7, 0x90, 0x1F], p + b"\n" + (lists[i % len(lists)] if lists else b"") + b"\nhttps\n" + hosts + env))
    counts["proxy_noproxy"] = write("proxy_noproxy", pn)

    host_entries = [l for l in literals("hosts.rs") if b":" in l and b"\n" not in l]
    counts["hosts"] = write("hosts", [seed([0], b"\n".join(host_entries[i : i + 6])) for i in range(0, len(host_entries), 6)]
                            + [seed([0], e) for e in host_entries])

    cert, pub = certificate()
    pin_specs = [l for l in literals("pin.rs") if l.startswith(b"sha256//")]
    pins = [seed([0], s + b"\n\0") for s in pin_specs]
    x509 = []
    if cert:
        x509.append(seed([0], cert))
        pins.append(seed([0], b"sha256//" + base64.b64encode(hashlib.sha256(pub).digest()) + b"\n"
                         + bytes([len(pub)]) + pub + pub))
    pins.append(seed([0], b"sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\x05\x30\x03\x02\x01\x05\x30\x03\x02\x01\x05"))
    counts["der_x509"] = write("der_x509", x509 + [seed([0], l) for l in literals("x509.rs") + literals("der.rs") if l[:1] == b"\x30"])
    counts["pin"] = write("pin", pins)

    eyeballs = [bytes([3, 200, 0, 0b010, 0]) + bytes([0, 0, 0, 0, 2, 0, 1, 0]),
                bytes([5, 50, 0, 0b11100, 0]) + bytes([4, 0, 200, 0, 1, 1, 0, 0, 200, 0, 2, 2]),
                bytes([2, 0, 0, 0, 0]) + bytes([0, 0, 1, 0, 0, 0, 1, 1])]
    counts["happy_eyeballs"] = write("happy_eyeballs", eyeballs)

    counts["ocsp"] = write("ocsp", ocsp_inputs())
    counts["sigv4"] = write("sigv4", sigv4_requests())
    counts["doh"] = write("doh", doh_replies())

    # ftp: anonymous; a user; a user asking for TLS (Try, Control); implicit TLS.
    counts["ftp"] = write("ftp", [seed([a, 0], t) for t in transcripts("ftp") for a in (0x00, 0x01, 0x09, 0x17, 0x21)])
    # mail: no credentials; a password; a password and TLS asked (Try,
    # Control) with an initial response; an empty password and a token.
    for proto in ("smtp", "imap", "pop3"):
        counts[proto] = write(proto, [seed([a, b, 0], t) for t in transcripts(proto)
                                      for a, b in ((0x00, 0), (0x01, 0), (0x05, 1), (0x09, 0), (0x02, 2))])
    counts["sasl"] = write("sasl", sasl_inputs())

    for target, n in counts.items():
        if ONLY and target not in ONLY:
            continue
        print(f"{target:16} {n:4} seeds")


if __name__ == "__main__":
    main()
