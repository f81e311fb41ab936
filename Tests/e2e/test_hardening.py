"""The pen test of f2a41ab, finding by finding: each test failed on that build and passes now.

1 absurd numbers in dates kill nothing; 2 parallel wrong codes cannot outrun the throttle; 3 unsigned
x-amz-* headers, an unsigned host or a foreign region never authenticate; 4 IAM/STS bodies match
their signed hash; 5 a NUL never cuts a key; 6 codes and secrets follow the transport rule on every
service; 7 unknown sub-resources are 501; 9 the low findings.
"""
import base64
import concurrent.futures
import hashlib
import json
import os
import socket
import subprocess
import threading
import time
import urllib.parse

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from conftest import ACCESS_KEY, COFFER, SECRET_KEY, Server, error_code

import pyotp

CREDENTIALS = botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY)


def signed(method, url, service="s3", region="us-east-1", headers=None, data=b"", credentials=CREDENTIALS):
    """A request signed by botocore's own SigV4 signer; returns (url, headers)."""
    request = botocore.awsrequest.AWSRequest(method=method, url=url, data=data, headers=headers or {})
    if service == "s3":
        botocore.auth.S3SigV4Auth(credentials, "s3", region).add_auth(request)
    else:
        botocore.auth.SigV4Auth(credentials, service, region).add_auth(request)
    return request.url, dict(request.headers.items())


def alive(server):
    assert server.process.poll() is None, server.output.decode(errors="replace")[-2000:]
    assert requests.get(server.endpoint + "/health", timeout=5).status_code == 200


def clients(server, access=ACCESS_KEY, secret=SECRET_KEY, token=None, region="us-east-1"):
    config = Config(retries={"total_max_attempts": 1})
    kwargs = dict(endpoint_url=server.endpoint, aws_access_key_id=access, aws_secret_access_key=secret,
                  aws_session_token=token, region_name=region, config=config)
    return boto3.client("iam", **kwargs), boto3.client("sts", **kwargs), boto3.client("s3", **kwargs)


def root_device(iam, name="root-phone"):
    created = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
    totp = pyotp.TOTP(created["Base32StringSeed"].decode())
    iam.enable_mfa_device(UserName="root", SerialNumber=created["SerialNumber"],
                          AuthenticationCode1=totp.at(time.time() - 60), AuthenticationCode2=totp.at(time.time() - 30))
    return created["SerialNumber"], totp


def metric(server, text):
    for line in requests.get(server.endpoint + "/metrics").text.splitlines():
        if line.startswith(text + " "):
            return float(line.split()[-1])
    return 0.0


@pytest.fixture
def fresh():
    server = Server().start()
    yield server
    server.stop()


# 1 — one request must never kill Coffer

@pytest.mark.parametrize("date", [
    "Thu, 01 Jan 300000000000 00:00:00 GMT", "Thu, 01 Jan 9223372036854775807 00:00:00 GMT",
    "Thu, 99999999999999999999 Jan 2020 00:00:00 GMT", "Sun Nov  6 08:49:37 300000000000", "Thu, 01 Jan 2020 25:00:00 GMT",
])
def test_absurd_dates_are_refused_not_fatal(server, bucket, date):
    auth = "AWS4-HMAC-SHA256 Credential=AKIAE2ETESTROOTKEY01/20260101/us-east-1/s3/aws4_request, " \
           "SignedHeaders=date;host, Signature=" + "0" * 64
    response = requests.get(f"{server.endpoint}/{bucket}", headers={"Date": date, "Authorization": auth,
                                                                   "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    assert response.status_code == 403
    s3 = server.client()
    s3.put_object(Bucket=bucket, Key="dated", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "dated"})
    for header in ("If-Modified-Since", "If-Unmodified-Since"):
        assert requests.get(url, headers={header: date}).status_code == 200  # an unparseable date is ignored
    bad_amz = "AWS4-HMAC-SHA256 Credential=AKIAE2ETESTROOTKEY01/+0260101/us-east-1/s3/aws4_request, " \
              "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
    assert requests.get(f"{server.endpoint}/{bucket}", headers={"x-amz-date": "+0260101T000000Z",
                                                               "Authorization": bad_amz}).status_code == 403
    alive(server)


def test_absurd_numbers_in_every_parsed_field_are_4xx(server, versioned):
    s3 = server.client()
    s3.put_object(Bucket=versioned, Key="n", Body=b"0123456789")
    huge = str(2 ** 64)
    cases = [
        ("GET", f"/{versioned}/n", {"Range": f"bytes={huge}-"}),
        ("GET", f"/{versioned}/n", {"Range": f"bytes=-{huge}"}),
        ("GET", f"/{versioned}/n", {"Range": "bytes=9223372036854775807-"}),
        ("GET", f"/{versioned}?list-type=2&max-keys={huge}", {}),
        ("GET", f"/{versioned}?versions&max-keys=-1", {}),
        ("GET", f"/{versioned}/n?partNumber={huge}", {}),
        ("PUT", f"/{versioned}/n?partNumber={huge}&uploadId=x", {}),
        ("GET", f"/{versioned}/n?uploadId=x&max-parts={huge}&part-number-marker=-{huge}", {}),
        ("GET", f"/{versioned}?uploads&max-uploads={huge}", {}),
    ]
    for method, path, headers in cases:
        url, signed_headers = signed(method, server.endpoint + path, headers=headers)
        response = requests.request(method, url, headers=signed_headers)
        assert response.status_code < 500, (path, headers, response.status_code, response.text)
    alive(server)


# 2 — the throttle holds under concurrency

def test_parallel_wrong_codes_judge_no_more_than_one_by_one(fresh):
    iam, _, _ = clients(fresh)
    serial, totp = root_device(iam)
    wrong = totp.at(time.time() + 30 * 9)
    # 100 connections released at once, as the pen test sent them.
    sts = boto3.client("sts", endpoint_url=fresh.endpoint, aws_access_key_id=ACCESS_KEY,
                       aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
                       config=Config(retries={"total_max_attempts": 1}, max_pool_connections=100))
    start = threading.Barrier(100)

    def attempt(_):
        start.wait()
        try:
            sts.get_session_token(SerialNumber=serial, TokenCode=wrong)
            return "accepted"
        except ClientError as e:
            return e.response["Error"]["Code"]

    with concurrent.futures.ThreadPoolExecutor(100) as pool:
        outcomes = list(pool.map(attempt, range(100)))
    assert set(outcomes) == {"AccessDenied"}
    # One by one: 5 judged per step, the 6th judged and starting a back-off; the rest refused unjudged.
    judged = metric(fresh, 'coffer_mfa_checks_total{outcome="wrongCode"}')
    assert 1 <= judged <= 6, judged
    assert metric(fresh, 'coffer_mfa_checks_total{outcome="throttled"}') == 100 - judged


# 3 — nothing unsigned acts

def test_unsigned_copy_source_on_a_presigned_put_is_refused(server, bucket):
    s3 = server.client()
    s3.create_bucket(Bucket=bucket + "-secret")
    s3.put_object(Bucket=bucket + "-secret", Key="secret", Body=b"the crown jewels")
    # SigV2 presigned URLs sign every x-amz-* header the request carries, so one added later breaks
    # the signature; SigV4 ones sign only what SignedHeaders lists, so the rest must be refused.
    v2 = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "dropbox"})
    assert requests.put(v2, data=b"", headers={"x-amz-copy-source": f"{bucket}-secret/secret"}).status_code == 403
    url = server.client(signature_version="s3v4").generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "dropbox"})
    response = requests.put(url, data=b"", headers={"x-amz-copy-source": f"{bucket}-secret/secret"})
    assert response.status_code == 403
    assert "<Code>AccessDenied</Code>" in response.text and "x-amz-copy-source" in response.text
    assert "not signed" in response.text
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="dropbox")
    response = requests.put(url, data=b"hello", headers={"x-amz-meta-evil": "1"})
    assert response.status_code == 403 and "x-amz-meta-evil" in response.text
    assert requests.put(url, data=b"hello").status_code == 200


def test_header_signed_request_must_sign_every_x_amz_header_and_host(server, bucket):
    url, headers = signed("PUT", f"{server.endpoint}/{bucket}/meta", data=b"abc")
    headers["x-amz-meta-added"] = "later"
    response = requests.put(url, data=b"abc", headers=headers)
    assert response.status_code == 403 and "HeadersNotSigned" in response.text
    # A request whose SignedHeaders leave host out.
    request = botocore.awsrequest.AWSRequest(method="GET", url=f"{server.endpoint}/{bucket}")
    auth = botocore.auth.S3SigV4Auth(CREDENTIALS, "s3", "us-east-1")
    def without_host(r):
        headers = botocore.awsrequest.HTTPHeaders()
        headers["x-amz-date"] = r.headers["x-amz-date"]
        headers["x-amz-content-sha256"] = r.headers["x-amz-content-sha256"]
        return headers
    auth.headers_to_sign = without_host
    auth.add_auth(request)
    response = requests.get(f"{server.endpoint}/{bucket}", headers=dict(request.headers.items()))
    assert response.status_code == 403 and "host" in response.text


def test_a_foreign_region_in_the_scope_is_refused(server):
    _, _, s3 = clients(server, region="ap-southeast-2")
    with pytest.raises(ClientError) as e:
        s3.list_buckets()
    assert error_code(e) == "AuthorizationHeaderMalformed"
    assert e.value.response["Error"]["Region"] == "us-east-1"
    v4 = boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=ACCESS_KEY,
                      aws_secret_access_key=SECRET_KEY, region_name="ap-southeast-2",
                      config=Config(signature_version="s3v4"))
    response = requests.get(v4.generate_presigned_url("list_buckets"))
    assert response.status_code == 400 and "<Code>AuthorizationQueryParametersError</Code>" in response.text
    assert "the region" in response.text and "<Region>us-east-1</Region>" in response.text
    # A service other than the endpoint's.
    url, headers = signed("GET", server.endpoint + "/", service="sqs")
    assert requests.get(url, headers=headers).status_code in (400, 403)


def test_the_server_region_is_the_one_accepted():
    server = Server(extra_args=["--region", "eu-west-1"]).start()
    try:
        _, sts, s3 = clients(server, region="eu-west-1")
        assert "Buckets" in s3.list_buckets()
        assert sts.get_caller_identity()["Account"]
        iam, _, _ = clients(server, region="eu-west-1")  # botocore signs IAM for us-east-1: accepted
        assert "Users" in iam.list_users()
        _, _, wrong = clients(server)
        with pytest.raises(ClientError) as e:
            wrong.list_buckets()
        assert e.value.response["Error"]["Region"] == "eu-west-1"
    finally:
        server.stop()


# 4 — IAM/STS bodies match their signed hash

def test_iam_body_must_match_its_signed_hash(fresh):
    body = "Action=ListUsers&Version=2010-05-08"
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
               "x-amz-content-sha256": hashlib.sha256(body.encode()).hexdigest()}
    url, signed_headers = signed("POST", fresh.endpoint + "/", service="iam", headers=headers, data=body.encode())
    evil = "Action=CreateUser&UserName=mallory&Version=2010-05-08"
    response = requests.post(url, data=evil, headers=signed_headers)
    assert response.status_code == 403 and "AccessDenied" in response.text
    iam, _, _ = clients(fresh)
    assert [u["UserName"] for u in iam.list_users()["Users"]] == []
    # UNSIGNED-PAYLOAD is S3's, never IAM's.
    headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
    url, signed_headers = signed("POST", fresh.endpoint + "/", service="iam", headers=headers, data=evil.encode())
    response = requests.post(url, data=evil, headers=signed_headers)
    assert response.status_code == 403 and "UNSIGNED-PAYLOAD" in response.text
    assert [u["UserName"] for u in iam.list_users()["Users"]] == []
    # The honest request works.
    headers["x-amz-content-sha256"] = hashlib.sha256(body.encode()).hexdigest()
    url, signed_headers = signed("POST", fresh.endpoint + "/", service="iam", headers=headers, data=body.encode())
    assert requests.post(url, data=body, headers=signed_headers).status_code == 200


# 5 — a NUL never cuts a key

def test_nul_in_a_key_is_refused_never_another_key(server, bucket):
    s3 = server.client()
    s3.put_object(Bucket=bucket, Key="config.json", Body=b"original")
    s3.put_object(Bucket=bucket, Key="a", Body=b"just a")
    for method, path, data in [("PUT", f"/{bucket}/config.json%00.upload", b"evil"), ("GET", f"/{bucket}/a%00c", b""),
                               ("DELETE", f"/{bucket}/a%00c", b""), ("GET", f"/{bucket}?prefix=a%00c", b"")]:
        url, headers = signed(method, server.endpoint + path, data=data)
        response = requests.request(method, url, data=data, headers=headers)
        assert response.status_code == 400, (path, response.status_code, response.text)
    # Copy sources and DeleteObjects keys too.
    url, headers = signed("PUT", f"{server.endpoint}/{bucket}/copy",
                          headers={"x-amz-copy-source": f"{bucket}/a%00c"})
    assert requests.put(url, headers=headers).status_code == 400
    body = f"<Delete><Object><Key>a&#0;c</Key></Object></Delete>".encode()
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    url, headers = signed("POST", f"{server.endpoint}/{bucket}?delete", data=body, headers={"Content-MD5": md5})
    assert requests.post(url, data=body, headers=headers).status_code == 400
    assert s3.get_object(Bucket=bucket, Key="config.json")["Body"].read() == b"original"
    assert s3.get_object(Bucket=bucket, Key="a")["Body"].read() == b"just a"
    # Keys that are not UTF-8 are refused.
    url, headers = signed("PUT", f"{server.endpoint}/{bucket}/bad%FFkey", data=b"x")
    assert requests.put(url, data=b"x", headers=headers).status_code == 400


# 6 — codes and secrets need HTTPS (or loopback) on every service

def test_codes_and_secrets_refused_from_a_forwarded_plain_http_peer(fresh):
    iam, sts, s3 = clients(fresh)
    serial, totp = root_device(iam)
    before = subprocess.run([COFFER, "admin", "audit", "--data", fresh.data, "--json"], capture_output=True,
                            text=True, env=fresh.env).stdout.count("\n")

    def forwarded(request, **_):
        request.headers["X-Forwarded-For"] = "203.0.113.9"

    for client in (iam, sts):
        client.meta.events.register("before-sign", forwarded)
    calls = [
        lambda: sts.get_session_token(SerialNumber=serial, TokenCode=totp.now()),
        lambda: sts.get_session_token(),
        lambda: iam.create_virtual_mfa_device(VirtualMFADeviceName="leaked"),
        lambda: iam.create_access_key(UserName="nobody"),
        lambda: iam.resync_mfa_device(UserName="root", SerialNumber=serial, AuthenticationCode1="123456",
                                      AuthenticationCode2="654321"),
    ]
    for call in calls:
        with pytest.raises(ClientError) as e:
            call()
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert "HTTPS" in e.value.response["Error"]["Message"]
    plain_iam, _, _ = clients(fresh)
    assert [d["SerialNumber"] for d in plain_iam.list_virtual_mfa_devices()["VirtualMFADevices"]] == [serial]
    after = subprocess.run([COFFER, "admin", "audit", "--data", fresh.data, "--json"], capture_output=True,
                           text=True, env=fresh.env).stdout
    assert after.count("\n") == before  # refused before any code check: nothing judged, nothing created
    assert metric(fresh, 'coffer_mfa_checks_total{outcome="wrongCode"}') == 0


# 7 — unknown sub-resources never fall through to the base operation

def test_unknown_valueless_parameters_are_not_implemented(server, bucket):
    s3 = server.client()
    s3.put_object(Bucket=bucket, Key="k", Body=b"kept")
    for method, path in [("DELETE", f"/{bucket}?metadataConfiguration"), ("DELETE", f"/{bucket}?notAThing"),
                         ("DELETE", f"/{bucket}?versioning"), ("GET", f"/{bucket}?delete"),
                         ("PUT", f"/{bucket}/k?notAThing"), ("DELETE", f"/{bucket}/k?versions"),
                         ("GET", f"/{bucket}/k?uploads"), ("HEAD", f"/{bucket}?anything")]:
        url, headers = signed(method, server.endpoint + path)
        response = requests.request(method, url, headers=headers)
        assert response.status_code == 501, (method, path, response.status_code, response.text)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"kept"
    # Unknown parameters with a value are ignored (SDKs send x-id=GetObject).
    url, headers = signed("GET", f"{server.endpoint}/{bucket}/k?x-id=GetObject&unknown=1")
    assert requests.get(url, headers=headers).status_code == 200


# 8 — coffer admin never makes keys

def test_admin_never_writes_root_credentials_or_a_master_key(fresh):
    iam, _, _ = clients(fresh)
    iam.create_virtual_mfa_device(VirtualMFADeviceName="sealed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COFFER_")}
    result = subprocess.run([COFFER, "admin", "devices", "--data", fresh.data], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert not os.path.exists(os.path.join(fresh.data, "root-credentials"))
    os.rename(os.path.join(fresh.data, "master.key"), os.path.join(fresh.data, "master.key.away"))
    result = subprocess.run([COFFER, "admin", "devices", "--data", fresh.data], capture_output=True, text=True, env=env)
    assert result.returncode != 0 and "master key" in result.stderr and "COFFER_MASTER_KEY" in result.stderr
    assert not os.path.exists(os.path.join(fresh.data, "master.key"))
    fresh.stop()
    restarted = Server(data=fresh.data)
    with pytest.raises(RuntimeError) as e:  # serve refuses too: sealed data without its key
        restarted.start()
    assert "master key" in str(e.value)
    os.rename(os.path.join(fresh.data, "master.key.away"), os.path.join(fresh.data, "master.key"))
    restarted = Server(data=fresh.data).start()
    try:
        alive(restarted)
    finally:
        restarted.stop()


# 9 — the low findings

def test_only_the_creator_or_root_may_enable_an_unassigned_device(fresh):
    iam, _, _ = clients(fresh)
    created = iam.create_virtual_mfa_device(VirtualMFADeviceName="roots")["VirtualMFADevice"]
    iam.create_user(UserName="eve")
    # Eve may manage MFA devices (her policy says so), but not enable a device someone else created.
    iam.put_user_policy(UserName="eve", PolicyName="self-manage", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice"],
                       "Resource": ["arn:aws:iam::*:mfa/*", "arn:aws:iam::*:user/${aws:username}"]}]}))
    key = iam.create_access_key(UserName="eve")["AccessKey"]
    eve, _, _ = clients(fresh, key["AccessKeyId"], key["SecretAccessKey"])
    for _ in range(8):
        with pytest.raises(ClientError) as e:
            eve.enable_mfa_device(UserName="eve", SerialNumber=created["SerialNumber"], AuthenticationCode1="123456",
                                  AuthenticationCode2="654321")
        assert error_code(e) in ("AccessDenied", "NoSuchEntity")
    assert metric(fresh, 'coffer_mfa_checks_total{outcome="wrongCode"}') == 0
    totp = pyotp.TOTP(created["Base32StringSeed"].decode())
    iam.enable_mfa_device(UserName="root", SerialNumber=created["SerialNumber"],
                          AuthenticationCode1=totp.at(time.time() - 60), AuthenticationCode2=totp.at(time.time() - 30))
    # Unassigned devices per user are capped, and paths keep within 512 characters.
    made = 0
    with pytest.raises(ClientError) as e:
        for index in range(40):
            eve.create_virtual_mfa_device(VirtualMFADeviceName=f"eve-{index}")
            made += 1
    assert error_code(e) == "LimitExceeded" and 1 <= made <= 10
    with pytest.raises(ClientError) as e:
        iam.create_virtual_mfa_device(VirtualMFADeviceName="deep", Path="/" + "a/" * 300)
    assert error_code(e) == "ValidationError"


def test_swapped_mfa_tokens_never_log_the_code(fresh):
    iam, _, s3 = clients(fresh)
    serial, totp = root_device(iam)
    s3.create_bucket(Bucket="swapped")
    code = totp.now()
    with pytest.raises(ClientError):
        s3.put_bucket_versioning(Bucket="swapped", MFA=f"{code} {serial}",
                                 VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
    out = subprocess.run([COFFER, "admin", "audit", "--data", fresh.data, "--json"], capture_output=True, text=True,
                         env=fresh.env).stdout
    assert code not in out and "malformed" in out


def test_a_trickled_request_head_is_cut_off():
    server = Server(extra_args=["--request-head-timeout", "2"]).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\n")
            started = time.time()
            closed = False
            while time.time() - started < 8:
                try:
                    sock.sendall(b"X-Slow: 1\r\n")
                    sock.settimeout(1)
                    if sock.recv(1024) == b"":
                        closed = True
                        break
                except socket.timeout:
                    continue
                except OSError:
                    closed = True
                    break
            assert closed and time.time() - started < 6
        alive(server)
    finally:
        server.stop()


def test_many_concurrent_connections_wait_rather_than_reset(server):
    sockets = []
    try:
        for _ in range(1100):
            sockets.append(socket.create_connection(("127.0.0.1", server.port), timeout=10))
        for sock in sockets[-50:]:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        for sock in sockets[-50:]:
            assert sock.recv(100).startswith(b"HTTP/1.1 200")
    finally:
        for sock in sockets:
            sock.close()
    alive(server)


def test_sigv2_presigned_urls_are_capped_at_seven_days(server, bucket):
    s3 = server.client()
    s3.put_object(Bucket=bucket, Key="v2", Body=b"x")
    v2 = boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=ACCESS_KEY,
                      aws_secret_access_key=SECRET_KEY, region_name="us-east-1", config=Config(signature_version="s3"))
    assert requests.get(v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "v2"},
                                                  ExpiresIn=3600)).status_code == 200
    url = v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "v2"}, ExpiresIn=8 * 86400)
    response = requests.get(url)
    assert response.status_code == 403 and "seven days" in response.text


def test_delete_bucket_takes_its_unfinished_uploads_along(fresh):
    _, _, s3 = clients(fresh)
    s3.create_bucket(Bucket="pending")
    upload = s3.create_multipart_upload(Bucket="pending", Key="big")["UploadId"]
    s3.upload_part(Bucket="pending", Key="big", UploadId=upload, PartNumber=1, Body=os.urandom(200 * 1024))
    s3.delete_bucket(Bucket="pending")
    blobs = [f for _, _, files in os.walk(os.path.join(fresh.data, "blobs")) for f in files]
    assert blobs == []
    s3.create_bucket(Bucket="pending")
    assert s3.list_multipart_uploads(Bucket="pending").get("Uploads", []) == []


def broken_chunked_answer(server, method, path, headers, first, rest):
    """Sends a signed request whose chunked body breaks after a good first chunk (so the handler is
    already reading it); returns the start of the answer."""
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()
                                                     if k.lower() != "content-length")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall((head + "Transfer-Encoding: chunked\r\n\r\n").encode() + first)
        time.sleep(0.3)
        sock.sendall(rest)
        return sock.recv(4096)


def test_a_broken_chunked_body_is_400(server, bucket):
    url, headers = signed("PUT", f"{server.endpoint}/{bucket}/chunked",
                          headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
    answer = broken_chunked_answer(server, "PUT", urllib.parse.urlparse(url).path, headers,
                                   b"5\r\nhello\r\n", b"ZZZ\r\nhello\r\n0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    # The IAM/STS Query API reads its form body the same way.
    _, headers = signed("POST", server.endpoint + "/", service="iam",
                        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    answer = broken_chunked_answer(server, "POST", "/", headers, b"5\r\nActio\r\n", b"ZZZ\r\nn=ListUsers\r\n0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    alive(server)


def test_connections_over_the_limit_wait_and_are_served():
    server = Server(extra_args=["--max-connections", "4"]).start()
    try:
        held = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(4)]
        for sock in held:  # four connections in use
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.1 200")
        waiting = socket.create_connection(("127.0.0.1", server.port), timeout=10)  # accepted by the kernel only
        waiting.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        waiting.settimeout(1.5)
        with pytest.raises(socket.timeout):
            waiting.recv(100)  # not served while four are open...
        held[0].close()
        waiting.settimeout(10)
        assert waiting.recv(100).startswith(b"HTTP/1.1 200")  # ...and served, not reset, once one closes
        for sock in held[1:] + [waiting]:
            sock.close()
    finally:
        server.stop()
