"""Live-server fuzzer: mutated, correctly signed S3 and IAM/STS requests against a real `coffer serve`.

Requests come from fuzz_requests.py: a valid seed (PutObject with metadata, plain or aws-chunked;
GetObject/HeadObject with Range, conditionals, versionId, response-* overrides; DeleteObject; the three
listings with max-keys, prefix, delimiter, markers, tokens; multipart create/part/part-copy/complete/
abort/list; DeleteObjects; PutBucketVersioning; CopyObject; bucket calls; IAM and STS forms) filled with
ids the server handed out, then mutated (header values, query names and values, path and key bytes,
XML/chunked/form bodies, the method). Each is signed *after* mutating, with botocore's SigV4 and the
root keys (or an STS session's), so it passes authentication; a few mutations land after signing to
reach the authentication parser. Requests go out as raw bytes on keep-alive sockets, a few connections
at once, in batches of 1,000 requests.

Fails on: the server exiting (it is restarted on the same folder and port, and the requests in flight
are replayed one at a time to name the culprit), crash text in its output, `GET /health` not 200 after
a batch, a 5xx other than 500 InternalError (IAM: ServiceFailure) / 501 NotImplemented / 503 SlowDown
/ 507 InsufficientStorage, XML that xml.etree cannot parse, a valid request left without an answer
(dropped, or none within 15 s).

Env: COFFER_FUZZ_LIVE_REQUESTS (20000), COFFER_FUZZ_LIVE_SEED (random, printed: replays a failure),
COFFER_FUZZ_LIVE_WORKERS (connections, 3), COFFER_FUZZ_LIVE_STRICT_XML=1 (see `xml_problem`).
scripts/fuzz-live runs it.
"""
import base64
import collections
import hashlib
import http.client
import os
import random
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import traceback
import xml.etree.ElementTree as ET
from urllib.parse import quote_plus

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from conftest import Server
from fuzz_requests import Req, State, mutate, seed, versioning

REQUESTS = int(os.environ.get("COFFER_FUZZ_LIVE_REQUESTS") or 20000)
SEED = int(os.environ.get("COFFER_FUZZ_LIVE_SEED") or random.SystemRandom().randrange(2 ** 32))
WORKERS = int(os.environ.get("COFFER_FUZZ_LIVE_WORKERS") or 3)
BATCH, TIMEOUT, MAX_RESTARTS = 1000, 15, 25
CRASH_TEXT = (rb"Fatal error|Swift runtime failure|Program crashed|Segmentation fault|Illegal instruction"
              rb"|Precondition failed|Assertion failed|Stack dump|Backtrace")
ALLOWED_5XX = {500: {"InternalError", "ServiceFailure"}, 501: {"NotImplemented"},
               503: {"SlowDown", "ServiceUnavailable"}, 507: {"InsufficientStorage"}}
STS_ACTIONS = {"GetSessionToken", "GetCallerIdentity"}
TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+")


class Signer(SigV4Auth):
    """botocore's SigV4 signing the raw path (as S3 does) and keeping a fuzzed Date header."""

    def _normalize_url_path(self, path): return path

    def _set_necessary_date_headers(self, request):
        if "X-Amz-Date" in request.headers: del request.headers["X-Amz-Date"]  # case-insensitive
        request.headers["X-Amz-Date"] = request.context["timestamp"]


def render(req, port):
    """Signs the mutated request; returns its exact bytes."""
    if req.form is not None:
        req.body = req.form_raw or "&".join(quote_plus(n) + "=" + quote_plus(v) for n, v in req.form).encode()
    host = "127.0.0.1" if req.vhost is None else req.vhost + ".fuzz.test"
    headers = dict(req.headers, Host=f"{host}:{port}")
    has = lambda name: any(n.lower() == name.lower() for n in headers)  # noqa: E731
    if req.md5 and not has("Content-MD5"):
        headers["Content-MD5"] = base64.b64encode(hashlib.md5(req.body).digest()).decode()
    service = "s3" if req.form is None else "sts" if dict(req.form).get("Action") in STS_ACTIONS else "iam"
    if service != "s3" and not has("Content-Type"):
        headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    if service == "s3" and not has("X-Amz-Content-SHA256"):
        headers["X-Amz-Content-SHA256"] = hashlib.sha256(req.body).hexdigest()
    target = req.target()
    aws = AWSRequest(method=req.method, url=f"http://127.0.0.1:{port}{target}", data=req.body, headers=headers)
    Signer(Credentials(*req.creds), service, "us-east-1").add_auth(aws)
    fields = dict(aws.headers.items())
    for name, value in req.post.items():
        for old in [n for n in fields if n.lower() == name.lower()]: del fields[old]
        if value is not None: fields[name] = value
    if req.body or req.method in ("PUT", "POST"): fields["Content-Length"] = str(len(req.body))
    head = f"{req.method} {target} HTTP/1.1\r\n" + "".join(f"{n}: {v}\r\n" for n, v in fields.items()) + "\r\n"
    return head.encode() + req.body


def valid_http(raw):
    """Whether the request head is legal HTTP/1.1 (else the server may rightly just close the connection)."""
    lines = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    start, fields = lines[0].split(b" "), [line.split(b":", 1) for line in lines[1:]]
    return (len(start) == 3 and TOKEN.fullmatch(start[0]) and start[1] and all(0x20 < b < 0x7F for b in start[1])
            and all(len(f) == 2 and TOKEN.fullmatch(f[0]) for f in fields)
            and all(b >= 0x20 and b != 0x7F or b == 9 for f in fields for b in f[1]))


def xml_problem(body):
    """None if xml.etree parses `body`; "refs" if it only fails on character references XML 1.0 forbids
    (`&#1;` from a key holding U+0001: AWS S3 answers such keys the same way, which is why boto3 lists with
    encoding-type=url) -- tolerated unless COFFER_FUZZ_LIVE_STRICT_XML=1; else the parse error."""
    try:
        ET.fromstring(body)
        return None
    except ET.ParseError as error:
        problem = str(error)
    def legal(m):
        c = int(m[1][1:], 16) if m[1][:1] in b"xX" else int(m[1])
        return c in (9, 10, 13) or 0x20 <= c <= 0xD7FF or 0xE000 <= c <= 0xFFFD or 0x10000 <= c <= 0x10FFFF
    cleaned = re.sub(rb"&#([xX][0-9a-fA-F]+|[0-9]+);", lambda m: m[0] if legal(m) else b"?", body)
    if cleaned == body or os.environ.get("COFFER_FUZZ_LIVE_STRICT_XML") == "1": return problem
    try:
        ET.fromstring(cleaned)
        return "refs"
    except ET.ParseError:
        return problem


class Fuzz:
    """One run: the server (restarted after a crash), each worker's State, and what the answers broke."""

    def __init__(self, data):
        self.data, self.port, self.states = data, None, [State(f"fz{SEED % 10000}-{w}") for w in range(WORKERS)]
        self.outputs, self.lock = [], threading.Lock()
        self.violations, self.statuses, self.tolerated = [], collections.Counter(), collections.Counter()
        self.sent, self.restarts, self.gave_up = 0, 0, False

    def start(self):
        self.server = Server(data=self.data, extra_args=["--domain", "fuzz.test"])
        self.server.port = self.port or self.server.port  # the same port after a crash: Host is signed
        self.server.start()
        self.port, process, out = self.server.port, self.server.process, []
        self.outputs.append(out)
        self.drain = threading.Thread(target=lambda: out.extend(iter(process.stdout.readline, b"")), daemon=True)
        self.drain.start()

    def dead(self, grace=0):
        """Whether the server exited, allowing it `grace` seconds to (then waits for the rest of its output)."""
        try: self.server.process.wait(grace)
        except subprocess.TimeoutExpired: return False
        self.drain.join(5)
        return True

    def tail(self): return b"".join(self.outputs[-1])[-3000:].decode(errors="replace")

    def violation(self, kind, raw, detail="", where=""):
        with self.lock: self.violations.append((kind, detail, raw, where))

    def check(self, raw, status, headers, body, where):
        text = body[:4000].decode(errors="replace")
        code = (re.search(r"<Code>([^<]*)</Code>", text) or [None, None])[1]
        with self.lock: self.statuses[status] += 1
        if status >= 500:
            if status in ALLOWED_5XX and (code in ALLOWED_5XX[status] or raw.startswith(b"HEAD ")):
                with self.lock: self.tolerated[f"{status} {code}"] += 1
            else: self.violation(f"{status} {code}", raw, text[:300], where)
        download = status in (200, 206) and "ETag" in headers and raw.startswith(b"GET ")  # an object's own bytes
        is_xml = "xml" in headers.get("Content-Type", "").lower() and body and not download
        problem = xml_problem(body) if is_xml else None
        if problem == "refs":
            with self.lock: self.tolerated["XML refs to XML-1.0-illegal chars (as AWS)"] += 1
        elif problem: self.violation("malformed XML response", raw, f"{problem}: {text[:300]}", where)

    def exchange(self, sock, raw, where):
        """Sends `raw` on `sock` (None: a new connection). Returns (socket to reuse or None, answer or None)."""
        try:
            sock = sock or socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT)
            try: sock.sendall(raw)
            except OSError: pass  # the server may answer and close before reading the whole body
            response = http.client.HTTPResponse(sock, method=raw.split(b" ", 1)[0].decode(errors="replace"))
            response.begin()
            answer = response.status, response.headers, response.read()
            self.check(raw, *answer, where)
            # After a 400 (maybe an HTTP parse error) the server closes the connection 200 ms later.
            if response.will_close or answer[0] == 400 or not valid_http(raw): sock = sock.close()
            return sock, answer
        except socket.timeout:
            self.violation(f"no answer within {TIMEOUT} s (hang)", raw, "", where)
        except (OSError, http.client.HTTPException) as error:
            if self.dead(grace=1): return None, "crash"  # the reset can come before the exit
            if valid_http(raw): self.violation("connection dropped without an answer", raw, repr(error), where)
        if sock: sock.close()
        return None, None

    def worker(self, w, batch, count, in_flight):
        """Sends `count` mutated requests on one keep-alive connection; stops at a crash."""
        rng, st, sock = random.Random(f"{SEED}:{batch}:{w}"), self.states[w], None
        try:
            for i in range(count):
                req = seed(st, rng)
                for _ in range(0 if rng.random() < 0.15 else min(6, int(rng.expovariate(0.7)) + 1)):
                    mutate(req, rng, st)
                raw = render(req, self.port)
                sock, answer = self.exchange(sock, raw, f"seed {SEED} batch {batch} worker {w} request {i}")
                with self.lock: self.sent += 1
                if answer == "crash": return in_flight.append(raw)
                if answer: st.harvest(req, *answer)
        except Exception:  # noqa: BLE001 -- a bug in the fuzzer must fail the run, not vanish with its thread
            self.violation("fuzzer error (in the test, not in coffer)", b"", traceback.format_exc(), f"worker {w}")

    def batch(self, batch):
        in_flight, per = [], max(1, min(BATCH, REQUESTS - self.sent) // WORKERS)
        threads = [threading.Thread(target=self.worker, args=(w, batch, per, in_flight)) for w in range(WORKERS)]
        for t in threads: t.start()
        for t in threads: t.join()
        if self.dead(): self.crashed(in_flight, batch)
        if self.gave_up: return
        sock, answer = self.exchange(None, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", f"after batch {batch}")
        if not answer or answer == "crash" or answer[0] != 200:
            self.violation("GET /health did not answer 200", b"GET /health", repr(answer), f"after batch {batch}")
        if sock: sock.close()

    def crashed(self, in_flight, batch):
        """Records a crash; restarts the server, replaying each request that was in flight alone."""
        code, tail, culprits = self.server.process.returncode, self.tail(), []
        for raw in [None] + in_flight:
            if raw is not None:
                _, answer = self.exchange(None, raw, "replay")
                if not self.dead(grace=0.5 if answer and answer != "crash" else 30): continue  # backtraces take time
                code, tail = self.server.process.returncode, self.tail()
                culprits.append(raw)
            if self.restarts >= MAX_RESTARTS:
                self.gave_up = True
                return self.violation("too many crashes: stopped early", b"", tail, f"batch {batch}")
            self.restarts += 1
            self.start()
        for raw in culprits or [b"(no single request reproduces it; in flight:)\n" + b"\n----\n".join(in_flight)]:
            self.violation(f"server exited (code {code})", raw, tail, f"seed {SEED} batch {batch}")

    def report(self):
        lines, seen = [], collections.Counter()
        for kind, detail, raw, where in self.violations:
            seen[kind] += 1
            if seen[kind] <= 3: lines.append(f"--- {kind} [{where}]\n{detail.strip()[:1500]}\nrequest: {raw[:1500]!r}"
                                             + (f" ... ({len(raw)} bytes)" if len(raw) > 1500 else ""))
        counts = ", ".join(f"{kind}: {n}" for kind, n in seen.most_common())
        return f"{len(self.violations)} violations (COFFER_FUZZ_LIVE_SEED={SEED}; {counts})\n" + "\n".join(lines)


def test_fuzz_live_server():
    fuzz = Fuzz(tempfile.mkdtemp(prefix=f"coffer-fuzz-live-{SEED}-"))
    print(f"\ncoffer live fuzz: COFFER_FUZZ_LIVE_SEED={SEED}, {REQUESTS} requests, {WORKERS} connections")
    fuzz.start()
    started = time.time()
    try:
        for w, st in enumerate(fuzz.states):  # unmutated seeds must pass, or the fuzzing proves nothing
            chunked = {"Content-Encoding": "aws-chunked", "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                       "x-amz-decoded-content-length": "2"}
            for req in [Req("PUT", st.buckets[0]), Req("PUT", st.buckets[1]), versioning(st.buckets[0]),
                        Req("PUT", st.buckets[1], "c", headers=chunked, body=b"2\r\nhi\r\n0\r\n\r\n"),
                        Req("PUT", st.buckets[0], "k", body=b"hi"),
                        Req("POST", st.buckets[0], "k", [("uploads", None)]),
                        Req("POST", form=[("Action", "CreateVirtualMFADevice"), ("VirtualMFADeviceName", f"s{w}")]),
                        Req("POST", form=[("Action", "CreateUser"), ("UserName", f"s{w}")]),
                        Req("POST", form=[("Action", "GetSessionToken"), ("DurationSeconds", "900")])]:
                _, answer = fuzz.exchange(None, render(req, fuzz.port), "setup")
                assert answer and answer[0] == 200, f"unmutated seed failed: {req.method} {req.target()}: {answer}"
                st.harvest(req, *answer)
        batch = 0
        while fuzz.sent < REQUESTS and not fuzz.gave_up:
            fuzz.batch(batch)
            batch += 1
        if fuzz.dead(): fuzz.violation("coffer exited at the end of the run", b"", fuzz.tail(), "end")
    finally:
        elapsed = time.time() - started
        if fuzz.server.process.poll() is None:
            fuzz.server.process.terminate()
            fuzz.server.process.wait(30)
        fuzz.drain.join(5)
    output = b"".join(b"".join(out) for out in fuzz.outputs)
    for line in sorted(set(re.findall(rb"[^\n]*(?:" + CRASH_TEXT + rb")[^\n]*", output))):
        fuzz.violation("crash text in the server output", b"", line.decode(errors="replace"), "server output")
    print(f"{fuzz.sent} requests in {elapsed:.1f} s ({fuzz.sent / elapsed:.0f}/s), {fuzz.restarts} restarts; "
          f"statuses {dict(sorted(fuzz.statuses.items()))}; tolerated {dict(fuzz.tolerated)}")
    if not fuzz.violations: shutil.rmtree(fuzz.data, ignore_errors=True)
    assert not fuzz.violations, fuzz.report() + f"\n(data folder kept: {fuzz.data})"
