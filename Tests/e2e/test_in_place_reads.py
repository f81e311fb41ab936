"""GET and HEAD answered in the channel pipeline (`InPlaceReads`), on raw sockets against a real server.

Every request is read by one HTTP parser (NIO's) and its signature checked once, whichever path
answers it. Every answer must leave in request order whoever answers it: pipelined heads in one
write, heads split into single bytes, a PUT between GETs, a malformed request after good ones, a
half-close after pipelined requests. The connection's idle timeout (kept beside the head
deadline) closes idle connections, never busy ones.
"""
import socket
import time
import uuid

import requests

import pytest
from conftest import Server
from test_hardening import metric, signed


def presigned(s3, method, bucket, key, **params):
    operation = {"GET": "get_object", "HEAD": "head_object"}[method]
    return s3.generate_presigned_url(operation, Params={"Bucket": bucket, "Key": key, **params}, ExpiresIn=600)


def request_bytes(server, method, url, headers=None, body=b""):
    """The request line, fields and body of URL as bytes, with Host."""
    target = url[len(server.endpoint):]
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{server.port}"]
    for name, value in (headers or {}).items():
        if name.lower() not in ("host", "content-length"):
            lines.append(f"{name}: {value}")
    if body or method == "PUT":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Responses:
    """Reads HTTP/1.1 responses off a socket, one at a time (HEAD's have no body)."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buffer += chunk

    def next(self, head_request=False):
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        fields = {}
        for line in lines[1:]:
            name, value = line.split(":", 1)
            fields[name.strip().lower()] = value.strip()
        length = 0 if head_request else int(fields.get("content-length", "0"))
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, fields, body

    def closed(self, timeout=5):
        self.sock.settimeout(timeout)
        try:
            return self.buffer == b"" and self.sock.recv(1) == b""
        except (ConnectionResetError, socket.timeout):
            return False


@pytest.fixture
def objects(server, s3, bucket):
    bodies = {f"k{n}": f"object {n} ".encode() * (n + 1) for n in range(3)}
    for key, body in bodies.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    return bodies


def connect(server):
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def test_pipelined_heads_in_one_write_are_answered_in_order(server, s3, bucket, objects):
    before = metric(server, "coffer_in_place_reads_total")
    wire = b"".join(request_bytes(server, "GET", presigned(s3, "GET", bucket, key)) for key in objects)
    wire += request_bytes(server, "HEAD", presigned(s3, "HEAD", bucket, "k1"))
    with connect(server) as sock:
        sock.sendall(wire)
        responses = Responses(sock)
        for key, body in objects.items():
            status, fields, got = responses.next()
            assert (status, got) == (200, body), key
            assert fields["content-length"] == str(len(body)) and fields["x-amz-request-id"]
        status, fields, got = responses.next(head_request=True)
        assert status == 200 and got == b"" and fields["content-length"] == str(len(objects["k1"]))
    assert metric(server, "coffer_in_place_reads_total") - before == 4


def test_a_head_sent_byte_by_byte_is_answered(server, s3, bucket, objects):
    wire = request_bytes(server, "GET", presigned(s3, "GET", bucket, "k2")) * 2
    with connect(server) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for byte in wire:
            sock.send(bytes([byte]))
        responses = Responses(sock)
        assert responses.next()[::2] == (200, objects["k2"])
        assert responses.next()[::2] == (200, objects["k2"])


def test_gets_around_a_put_on_one_connection_answer_in_order(server, s3, bucket, objects):
    url, headers = signed("PUT", f"{server.endpoint}/{bucket}/k0", data=b"replaced")
    put = request_bytes(server, "PUT", url, headers, b"replaced")
    get = request_bytes(server, "GET", presigned(s3, "GET", bucket, "k0"))
    with connect(server) as sock:
        sock.sendall(get + put + get)  # pipelined: the PUT goes to the general path
        responses = Responses(sock)
        assert responses.next()[::2] == (200, objects["k0"])
        assert responses.next()[0] == 200
        assert responses.next()[::2] == (200, b"replaced")
        sock.sendall(get)  # the connection goes on after the hand-over
        assert responses.next()[::2] == (200, b"replaced")


def test_a_malformed_request_after_good_ones_gets_the_decoders_400(server, s3, bucket, objects):
    get = request_bytes(server, "GET", presigned(s3, "GET", bucket, "k1"))
    with connect(server) as sock:
        sock.sendall(get + get + b"GET /x HTTP/1.1\r\nHost: a\r\nBad Header: 1\r\n\r\n")
        responses = Responses(sock)
        assert responses.next()[::2] == (200, objects["k1"])
        assert responses.next()[::2] == (200, objects["k1"])
        assert responses.next()[0] == 400
        assert responses.closed()


def test_requests_outside_the_strict_subset_get_the_decoders_reading(server, s3, bucket, objects):
    url = presigned(s3, "GET", bucket, "k2")
    target = url[len(server.endpoint):]
    # A GET with a body: NIO reads the five bytes as its body, not as the next request.
    with_body = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Length: 5\r\n\r\nGET /".encode()
    # A chunked GET: the chunk is its body.
    chunked = (f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nGET /\r\n0\r\n\r\n").encode()
    closing = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nConnection: close\r\n\r\n".encode()
    for wire in (with_body + request_bytes(server, "GET", url), chunked + request_bytes(server, "GET", url)):
        with connect(server) as sock:
            sock.sendall(wire)
            responses = Responses(sock)
            responses.next()  # the GET with a body: answered by the general path, whatever it says
            assert responses.next()[::2] == (200, objects["k2"])
    with connect(server) as sock:
        sock.sendall(request_bytes(server, "GET", url) + closing)
        responses = Responses(sock)
        assert responses.next()[::2] == (200, objects["k2"])
        assert responses.next()[::2] == (200, objects["k2"])
        assert responses.closed()


def test_a_half_close_after_pipelined_requests_gets_every_answer(server, s3, bucket, objects):
    wire = b"".join(request_bytes(server, "GET", presigned(s3, "GET", bucket, key)) for key in objects) * 3
    with connect(server) as sock:
        sock.sendall(wire)
        sock.shutdown(socket.SHUT_WR)
        responses = Responses(sock)
        for _ in range(3):
            for key, body in objects.items():
                assert responses.next()[::2] == (200, body), key
        assert responses.closed()


def test_refusals_and_misses_are_answered_by_the_general_path(server, s3, bucket, objects):
    good = presigned(s3, "GET", bucket, "k0")
    tampered = good.replace("k0", "k1")
    missing = presigned(s3, "GET", bucket, "missing")
    with connect(server) as sock:
        sock.sendall(b"".join(request_bytes(server, "GET", url) for url in (good, tampered, missing, good)))
        responses = Responses(sock)
        assert responses.next()[::2] == (200, objects["k0"])
        status, _, body = responses.next()
        assert status == 403 and b"SignatureDoesNotMatch" in body
        status, _, body = responses.next()
        assert status == 404 and b"NoSuchKey" in body
        assert responses.next()[::2] == (200, objects["k0"])


def test_idle_connections_are_closed_and_busy_ones_are_not():
    server = Server(extra_args=["--idle-timeout", "2"]).start()
    try:
        s3 = server.client()
        bucket = f"idle-{uuid.uuid4().hex[:8]}"
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="k", Body=b"still here")
        get = request_bytes(server, "GET", presigned(s3, "GET", bucket, "k"))
        with connect(server) as idle, connect(server) as busy:
            idle.sendall(get)
            idle_responses = Responses(idle)
            assert idle_responses.next()[::2] == (200, b"still here")
            busy_responses = Responses(busy)
            started = time.time()
            while time.time() - started < 4.5:  # past two idle timeouts, one request every 0.5 s
                busy.sendall(get)
                assert busy_responses.next()[::2] == (200, b"still here")
                time.sleep(0.5)
            assert idle_responses.closed(timeout=1)
            busy.sendall(get)
            assert busy_responses.next()[::2] == (200, b"still here")

        # A body that stops coming is idleness too (Hummingbird's rule, kept); one that keeps
        # coming, however slowly, is not.
        body = b"0123456789"
        url, headers = signed("PUT", f"{server.endpoint}/{bucket}/slow", data=body)
        head = request_bytes(server, "PUT", url, headers, body)[:-len(body)]
        with connect(server) as stalled, connect(server) as slow:
            stalled.sendall(head + body[:3])
            slow.sendall(head)
            started = time.time()
            for byte in body:  # one byte every 0.4 s: 4 s in all, past two idle timeouts
                slow.sendall(bytes([byte]))
                time.sleep(0.4)
            assert Responses(slow).next()[0] == 200
            assert Responses(stalled).closed(timeout=1)
            assert time.time() - started < 6
        assert s3.get_object(Bucket=bucket, Key="slow")["Body"].read() == body
    finally:
        server.stop()


def test_every_signed_request_is_verified_once_whichever_path_answers_it(server, s3, bucket, objects):
    """In place, or declined there (a body in a file, a missing key, a bad signature, a refusal)
    and answered by the general path: one signature check per request."""
    s3.put_object(Bucket=bucket, Key="large", Body=b"L" * (200 * 1024))  # past the inline limit: a file
    urls = [presigned(s3, "GET", bucket, "k0"), presigned(s3, "GET", bucket, "large"),
            presigned(s3, "GET", bucket, "missing"), presigned(s3, "GET", bucket, "k0").replace("k0", "k1"),
            presigned(s3, "HEAD", bucket, "large")]
    before = metric(server, "coffer_signature_checks_total")
    in_place = metric(server, "coffer_in_place_reads_total")
    with connect(server) as sock:
        sock.sendall(b"".join(request_bytes(server, "GET", url) for url in urls[:4]))
        responses = Responses(sock)
        assert responses.next()[::2] == (200, objects["k0"])
        status, _, body = responses.next()
        assert status == 200 and body == b"L" * (200 * 1024)
        assert responses.next()[0] == 404
        assert responses.next()[0] == 403
    with connect(server) as sock:
        sock.sendall(request_bytes(server, "HEAD", urls[4]))
        assert Responses(sock).next(head_request=True)[0] == 200
    assert metric(server, "coffer_signature_checks_total") - before == 5
    assert metric(server, "coffer_in_place_reads_total") - in_place == 2  # k0, and the HEAD of the file


def test_an_answer_after_a_head_answered_in_place_keeps_its_body(server, s3, bucket, objects):
    """Answers given in place are written below NIO's encoder, so the S3 listener's decoder is not
    paired with it: were it paired, the encoder would take each in-place answer's request for the
    next answer's, and the answer after an in-place HEAD would lose its body (seen once: a
    GetObjectAcl after an in-place HEAD hung its client)."""
    head = presigned(s3, "HEAD", bucket, "k0")
    acl = s3.generate_presigned_url("get_object_acl", Params={"Bucket": bucket, "Key": "k0"}, ExpiresIn=600)
    with connect(server) as sock:
        responses = Responses(sock)
        for _ in range(2):
            sock.sendall(request_bytes(server, "HEAD", head))
            status, fields, body = responses.next(head_request=True)
            assert status == 200 and fields["content-length"] == str(len(objects["k0"])) and body == b""
            sock.sendall(request_bytes(server, "GET", acl))
            status, fields, body = responses.next()
            assert status == 200 and b"AccessControlPolicy" in body and len(body) == int(fields["content-length"])
        sock.sendall(request_bytes(server, "GET", presigned(s3, "GET", bucket, "k0")))
        assert responses.next()[::2] == (200, objects["k0"])


def test_head_answers_from_either_path_never_carry_a_body(server, s3, bucket, objects):
    """The S3 listener frames its own HEAD answers (its decoder is not paired with NIO's encoder):
    a HEAD answered by the general path — a body in a file, a missing key, a bucket — must leave
    no bytes behind for the next answer on the connection to be misread."""
    s3.put_object(Bucket=bucket, Key="large-head", Body=b"H" * (200 * 1024))
    etag = s3.head_object(Bucket=bucket, Key="k1")["ETag"]
    k1 = presigned(s3, "HEAD", bucket, "k1")
    heads = [(presigned(s3, "HEAD", bucket, "large-head"), {}, 200), (presigned(s3, "HEAD", bucket, "missing"), {}, 404),
             (s3.generate_presigned_url("head_bucket", Params={"Bucket": bucket}, ExpiresIn=600), {}, 200),
             (k1, {}, 200), (k1, {"If-None-Match": etag}, 304), (k1, {"If-Match": '"0123"'}, 412),
             (f"{server.endpoint}/{bucket}/k1", {}, 403),  # unsigned
             (f"{server.endpoint}/health", {}, 404), (f"{server.endpoint}/", {}, 501)]
    get = presigned(s3, "GET", bucket, "k0")
    with connect(server) as sock:
        responses = Responses(sock)
        for url, headers, expected in heads:
            sock.sendall(request_bytes(server, "HEAD", url, headers) + request_bytes(server, "GET", get))
            status, _, body = responses.next(head_request=True)
            assert status == expected and body == b"", (url, headers, status)
            assert responses.next()[::2] == (200, objects["k0"])
        sock.settimeout(0.5)
        with pytest.raises(socket.timeout):
            sock.recv(1)  # nothing left over


def test_sigv2_presigned_urls_on_a_bucket_sign_the_bucket_with_its_slash(server, s3, bucket):
    """botocore signs `/bucket/` for a path-style `/bucket` (AWS's canonical resource); such a
    URL was refused with 403 before."""
    v2 = server.client(signature_version="s3")
    for method, url in [("HEAD", v2.generate_presigned_url("head_bucket", Params={"Bucket": bucket}, ExpiresIn=600)),
                        ("GET", v2.generate_presigned_url("list_objects", Params={"Bucket": bucket}, ExpiresIn=600))]:
        assert "Signature=" in url and "X-Amz-Signature" not in url
        response = requests.request(method, url, timeout=10)
        assert response.status_code == 200, (method, response.text)
    tampered = v2.generate_presigned_url("list_objects", Params={"Bucket": bucket}, ExpiresIn=600)
    assert requests.get(tampered.replace("Signature=", "Signature=A"), timeout=10).status_code == 403
