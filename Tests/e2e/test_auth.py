"""SigV4 header and presigned-query authentication, as real clients sign."""
import datetime
import time
from unittest import mock

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from conftest import ACCESS_KEY, SECRET_KEY, error_code


def client(server, access=ACCESS_KEY, secret=SECRET_KEY, **config):
    return boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=access, aws_secret_access_key=secret,
                        region_name="us-east-1", config=Config(retries={"total_max_attempts": 1}, **config))


def test_wrong_secret_is_signature_does_not_match(server):
    with pytest.raises(ClientError) as e:
        client(server, secret="wrong").list_buckets()
    assert error_code(e) == "SignatureDoesNotMatch"


def test_unknown_key_is_invalid_access_key_id(server):
    with pytest.raises(ClientError) as e:
        client(server, access="AKIANOSUCHKEY0000000").list_buckets()
    assert error_code(e) == "InvalidAccessKeyId"


def test_anonymous_is_access_denied(server, bucket):
    response = requests.get(f"{server.endpoint}/{bucket}")
    assert response.status_code == 403 and "<Code>AccessDenied</Code>" in response.text


def test_only_the_server_region_is_accepted_in_the_scope(server):
    s3 = boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=ACCESS_KEY,
                      aws_secret_access_key=SECRET_KEY, region_name="ap-southeast-2",
                      config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(ClientError) as e:
        s3.list_buckets()
    assert error_code(e) == "AuthorizationHeaderMalformed"
    assert "expecting 'us-east-1'" in e.value.response["Error"]["Message"]


def test_clock_skew_beyond_15_minutes(server):
    import botocore.auth, botocore.awsrequest, botocore.credentials
    skewed = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=16)
    request = botocore.awsrequest.AWSRequest(method="GET", url=server.endpoint + "/")
    # botocore's Python signer (with awscrt installed, clients use the CRT signer and its own clock).
    with mock.patch("botocore.auth.get_current_datetime", return_value=skewed):
        botocore.auth.S3SigV4Auth(botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY), "s3",
                                  "us-east-1").add_auth(request)
    response = requests.get(server.endpoint + "/", headers=dict(request.headers.items()))
    assert response.status_code == 403 and "<Code>RequestTimeTooSkewed</Code>" in response.text


def test_tampered_body_is_content_sha256_mismatch(server, bucket):
    import hashlib, botocore.auth, botocore.awsrequest, botocore.credentials
    url = f"{server.endpoint}/{bucket}/tampered"
    request = botocore.awsrequest.AWSRequest(method="PUT", url=url, data=b"original")
    botocore.auth.S3SigV4Auth(botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY), "s3",
                              "us-east-1").add_auth(request)
    response = requests.put(url, data=b"tampered", headers=dict(request.headers.items()))
    assert response.status_code == 400 and "XAmzContentSHA256Mismatch" in response.text
    assert requests.get(url).status_code == 403  # and nothing was stored (checked signed below)
    with pytest.raises(ClientError) as e:
        client(server).head_object(Bucket=bucket, Key="tampered")
    assert error_code(e) == "404"


def test_presigned_sigv4_get_and_put_with_plain_http(server, bucket):
    s3 = client(server, signature_version="s3v4")
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "pre sign/d.txt"},
                                        ExpiresIn=300)
    assert "X-Amz-Signature=" in put_url
    assert requests.put(put_url, data=b"presigned body").status_code == 200
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre sign/d.txt"},
                                        ExpiresIn=300)
    got = requests.get(get_url)
    assert got.status_code == 200 and got.content == b"presigned body"
    # Tampering with the query breaks the signature.
    assert requests.get(get_url.replace("d.txt", "e.txt")).status_code == 403


def test_presigned_url_expires(server, bucket):
    s3 = client(server, signature_version="s3v4")
    s3.put_object(Bucket=bucket, Key="soon", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "soon"}, ExpiresIn=1)
    time.sleep(2.1)
    response = requests.get(url)
    assert response.status_code == 403 and "Request has expired" in response.text


def test_sigv2_header_auth_is_refused_clearly(server):
    response = requests.get(server.endpoint + "/", headers={"Authorization": f"AWS {ACCESS_KEY}:c2lnbmF0dXJl",
                                                            "Date": "Mon, 23 Nov 2026 12:00:00 GMT"})
    assert response.status_code == 400 and "AWS4-HMAC-SHA256" in response.text


def test_presigned_sigv2_default_urls(server, bucket, tmp_path):
    """boto3's and the aws cli's default presigned URLs are SigV2 query auth."""
    import subprocess
    s3 = client(server)  # default signature version: presigned URLs come out as SigV2
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "v2/a b+c.txt"}, ExpiresIn=300)
    assert "AWSAccessKeyId=" in put_url and "Signature=" in put_url and "X-Amz-" not in put_url
    source = tmp_path / "upload.txt"
    source.write_bytes(b"put with curl")
    curl = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-T", str(source), put_url],
                          capture_output=True, text=True)
    assert curl.stdout == "200"
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "v2/a b+c.txt",
                                                              "ResponseContentType": "text/plain"}, ExpiresIn=300)
    got = requests.get(get_url)
    assert got.status_code == 200 and got.content == b"put with curl" and got.headers["Content-Type"] == "text/plain"
    cli_url = server.cli("s3", "presign", f"s3://{bucket}/v2/a b+c.txt", "--expires-in", "300")[1].strip()
    assert requests.get(cli_url).content == b"put with curl"
    assert requests.get(get_url.replace("Signature=", "Signature=x")).status_code == 403
    expired = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "v2/a b+c.txt"}, ExpiresIn=1)
    time.sleep(2.1)
    response = requests.get(expired)
    assert response.status_code == 403 and "Request has expired" in response.text
