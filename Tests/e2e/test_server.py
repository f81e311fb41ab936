"""The server process: start-up errors, graceful stop, kill -9 during a large PUT."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import boto3
import botocore.exceptions
import pytest
import requests
from botocore.config import Config
from conftest import COFFER, Server


def test_generated_root_keys_are_stored_0600_and_printed_once():
    data = tempfile.mkdtemp(prefix="coffer-keys-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COFFER_ROOT")}
    first = Server(data=data)
    first.env = dict(env)
    first.start()
    first.stop()
    path = os.path.join(data, "root-credentials")
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    secret = open(path).read().split("secret_key=")[1].strip()
    assert secret.encode() in first.output
    second = Server(data=data)
    second.env = dict(env)
    second.start()
    second.stop()
    assert secret.encode() not in second.output  # printed once only
    account = first.output.split(b"Account ")[1].split(b",")[0]
    assert len(account) == 12 and account in second.output  # stable per data folder
    shutil.rmtree(data)


def test_port_taken_is_a_clear_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        data = tempfile.mkdtemp()
        result = subprocess.run([COFFER, "serve", "--data", data, "--port", str(port)], capture_output=True,
                                text=True, timeout=60, env=dict(os.environ, COFFER_ROOT_ACCESS_KEY="A",
                                                                COFFER_ROOT_SECRET_KEY="B"))
    assert result.returncode == 1
    assert "already in use" in result.stderr


def test_unusable_data_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = subprocess.run([COFFER, "serve", "--data", str(blocker), "--port", "0"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert "cannot use data folder" in result.stderr


def test_graceful_stop_finishes_in_flight_requests():
    server = Server().start()
    s3 = server.client()
    s3.create_bucket(Bucket="graceful")
    body = os.urandom(8 * 1024 * 1024)
    results = {}

    def upload():
        results["etag"] = s3.put_object(Bucket="graceful", Key="big", Body=body)["ETag"]

    thread = threading.Thread(target=upload)
    thread.start()
    time.sleep(0.2)
    assert server.stop(signal.SIGTERM) == 0
    thread.join()
    restarted = Server(data=server.data).start()
    try:
        listed = restarted.client().list_objects_v2(Bucket="graceful").get("Contents", [])
        if "etag" in results:  # the in-flight PUT completed before shutdown: it is whole
            assert restarted.client().get_object(Bucket="graceful", Key="big")["Body"].read() == body
        else:
            assert listed == []
    finally:
        restarted.stop()


def test_kill_9_during_large_put_leaves_nothing_partial():
    server = Server().start()
    s3 = server.client(signature_version="s3v4")
    s3.create_bucket(Bucket="crash")
    s3.put_object(Bucket="crash", Key="big", Body=b"the old version")
    url = s3.generate_presigned_url("put_object", Params={"Bucket": "crash", "Key": "big"}, ExpiresIn=300)
    total = 256 * 1024 * 1024
    sent = {"bytes": 0}

    class Body:
        """A streamed body of known length (so requests sends Content-Length, not chunked)."""
        def __len__(self):
            return total

        def __iter__(self):
            chunk = b"z" * (1024 * 1024)
            while sent["bytes"] < total:
                sent["bytes"] += len(chunk)
                yield chunk

    def upload():
        try:
            requests.put(url, data=Body(), timeout=60)
        except requests.RequestException:
            pass

    thread = threading.Thread(target=upload)
    thread.start()
    deadline = time.time() + 30
    while sent["bytes"] < 32 * 1024 * 1024 and time.time() < deadline:
        time.sleep(0.01)
    tmp = os.path.join(server.data, "tmp")
    (own,) = os.listdir(tmp)  # the process's own temporary folder
    assert [n for n in os.listdir(os.path.join(tmp, own)) if n != ".lock"], "the upload should be streaming"
    server.kill9()
    thread.join()

    restarted = Server(data=server.data).start()
    try:
        client = restarted.client()
        assert client.get_object(Bucket="crash", Key="big")["Body"].read() == b"the old version"
        assert len(client.list_object_versions(Bucket="crash")["Versions"]) == 1
        assert own not in os.listdir(tmp)  # the dead process's partial upload was swept at start
        check = subprocess.run(["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]);"
                                "print(c.execute('PRAGMA integrity_check').fetchone()[0])",
                                os.path.join(server.data, "coffer.sqlite")], capture_output=True, text=True)
        assert check.stdout.strip() == "ok"
    finally:
        restarted.stop()


def test_malformed_http_gets_400_and_the_connection_is_closed():
    server = Server().start()
    try:
        check_malformed_request_is_closed(server)
    finally:
        server.stop()


def check_malformed_request_is_closed(server):
    """Content-Length and Transfer-Encoding together: 400, then the server closes — no hang."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"PUT /x/y HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n")
        started = time.time()
        received = b""
        try:
            for _ in range(2000):  # keep sending, like a client streaming a big body
                sock.sendall(b"z" * 65536)
        except OSError:
            pass
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                received += data
        except OSError:
            pass
        assert time.time() - started < 9
        assert received.startswith(b"HTTP/1.1 400") or received == b""


def test_two_processes_share_a_data_folder_without_errors():
    """SQLite contention between processes is absorbed inside Coffer: no 500 or 503 reaches a client."""
    import concurrent.futures
    first = Server().start()
    second = Server(data=first.data).start()
    try:
        first.client().create_bucket(Bucket="shared")
        first.client().put_bucket_versioning(Bucket="shared", VersioningConfiguration={"Status": "Enabled"})

        def put(index):
            srv = first if index % 2 == 0 else second
            return srv.client().put_object(Bucket="shared", Key="k", Body=os.urandom(70_000 if index % 3 else 100))

        with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
            results = list(pool.map(put, range(60)))
        assert all(r["ResponseMetadata"]["HTTPStatusCode"] == 200 for r in results)
        versions = second.client().list_object_versions(Bucket="shared")["Versions"]
        assert len(versions) == 60
        # Every stored body is readable through either process.
        for version in versions[:10]:
            first.client().get_object(Bucket="shared", Key="k", VersionId=version["VersionId"])["Body"].read()
        # Each process caches small-object reads; a write through the other is still seen at once.
        reader, writer = second.client(), first.client()
        for round in range(10):
            body = f"round {round}".encode()
            writer.put_object(Bucket="shared", Key="small", Body=body)
            for _ in range(2):
                assert reader.get_object(Bucket="shared", Key="small")["Body"].read() == body
        writer.delete_object(Bucket="shared", Key="small")
        with pytest.raises(botocore.exceptions.ClientError) as e:
            reader.get_object(Bucket="shared", Key="small")
        assert e.value.response["Error"]["Code"] == "NoSuchKey"
    finally:
        second.stop()
        first.stop()


def read_response(stream, method):
    """One HTTP/1.1 response from a buffered socket file: (status, headers, body)."""
    status = int(stream.readline().split(b" ")[1])
    headers = {}
    while True:
        line = stream.readline()
        if line in (b"\r\n", b""):
            break
        name, value = line.decode().split(":", 1)
        headers[name.strip().lower()] = value.strip()
    length = 0 if method == "HEAD" else int(headers.get("content-length", "0"))
    return status, headers, stream.read(length)


def test_pipelined_requests_are_answered_in_order(server):
    """Small GETs are answered in the channel pipeline, the rest by the general path: on one
    connection, pipelined requests still get their answers in order, and a GET after a PUT sees it."""
    from urllib.parse import urlsplit
    s3 = server.client()
    s3.create_bucket(Bucket="pipelined")
    s3.put_object(Bucket="pipelined", Key="small", Body=b"old contents")

    def target(method, key, **extra):
        url = s3.generate_presigned_url(method, Params={"Bucket": "pipelined", "Key": key, **extra}, ExpiresIn=600)
        parts = urlsplit(url)
        return f"{parts.path}?{parts.query}"

    get_small, get_missing = target("get_object", "small"), target("get_object", "missing")
    put_small = target("put_object", "small")
    host = f"Host: 127.0.0.1:{server.port}\r\n"

    def request(method, path, body=b"", close=False):
        head = f"{method} {path} HTTP/1.1\r\n{host}Content-Length: {len(body)}\r\n"
        return (head + ("Connection: close\r\n" if close else "") + "\r\n").encode() + body

    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        stream = sock.makefile("rb")
        # A 404 (general path) first: the GETs behind it must wait their turn; the last GET
        # comes after the PUT and must see it.
        sock.sendall(request("GET", get_missing) + request("GET", get_small)
                     + request("PUT", put_small, b"new contents") + request("GET", get_small))
        answers = [read_response(stream, method) for method in ["GET", "GET", "PUT", "GET"]]
        assert [status for status, _, _ in answers] == [404, 200, 200, 200]
        assert b"<Code>NoSuchKey</Code>" in answers[0][2]
        assert answers[1][2] == b"old contents" and answers[3][2] == b"new contents"
        ids = [headers["x-amz-request-id"] for _, headers, _ in answers]
        assert len(set(ids)) == 4
        # Only small GETs and HEADs: answered at once, in order.
        sock.sendall(request("HEAD", get_small) + request("GET", get_small) * 3)
        head = read_response(stream, "HEAD")
        assert head[0] == 403  # the signature was for GET
        for _ in range(3):
            assert read_response(stream, "GET")[:3:2] == (200, b"new contents")
        # A GET that announces a body it has not sent yet is answered without waiting for it.
        sock.sendall(f"GET {get_small} HTTP/1.1\r\n{host}Content-Length: 5\r\n\r\n".encode())
        assert read_response(stream, "GET")[:3:2] == (200, b"new contents")
        sock.sendall(b"hello")
        # Connection: close is honoured after the answer.
        sock.sendall(request("GET", get_small, close=True))
        assert read_response(stream, "GET")[2] == b"new contents"
        assert stream.read() == b""
    # Pipelined GETs and then the end of input (a half-close): every answer still arrives, also when
    # a small receive window keeps most of them waiting in the server when the input ends.
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(10)
        sock.connect(("127.0.0.1", server.port))
        stream = sock.makefile("rb")
        sock.sendall(request("GET", get_small) * 400)
        sock.shutdown(socket.SHUT_WR)
        for _ in range(400):
            assert read_response(stream, "GET")[:3:2] == (200, b"new contents")
