"""Buckets, versioning configuration, ACLs, wire hygiene."""
import socket
import uuid

import pytest
from botocore.exceptions import ClientError
from conftest import error_code


def test_bucket_lifecycle(s3):
    name = f"life-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    head = s3.head_bucket(Bucket=name)
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "eu-west-1"
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=name)
    assert error_code(e) == "BucketAlreadyOwnedByYou"
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=name)
    assert error_code(e) == "BucketNotEmpty"
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=name)
    assert error_code(e) == "404"


def test_us_east_1_location_is_empty(s3, bucket):
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None


@pytest.mark.parametrize("name", ["ab", "UPPER-case", "under_score", "a..b", "192.168.5.4", "-dash"])
def test_invalid_bucket_names(s3, name):
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=name)
    assert error_code(e) == "InvalidBucketName"


def test_bucket_not_empty_with_only_markers(s3, versioned):
    s3.delete_object(Bucket=versioned, Key="ghost")  # a marker, nothing else
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=versioned)
    assert error_code(e) == "BucketNotEmpty"
    versions = s3.list_object_versions(Bucket=versioned)
    marker = versions["DeleteMarkers"][0]["VersionId"]
    s3.delete_object(Bucket=versioned, Key="ghost", VersionId=marker)
    s3.delete_bucket(Bucket=versioned)


def test_versioning_configuration_rules(s3, bucket):
    # Never configured: an empty configuration (only ResponseMetadata).
    got = s3.get_bucket_versioning(Bucket=bucket)
    assert set(got) == {"ResponseMetadata"}
    # Straight to Suspended is legal.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    assert "MFADelete" not in s3.get_bucket_versioning(Bucket=bucket)
    # MfaDelete=Disabled without any header is accepted, and is returned once configured.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Disabled"})
    got = s3.get_bucket_versioning(Bucket=bucket)
    assert got["Status"] == "Enabled" and got["MFADelete"] == "Disabled"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    got = s3.get_bucket_versioning(Bucket=bucket)
    assert got["Status"] == "Suspended" and got["MFADelete"] == "Disabled"


def raw_versioning(server, bucket, body):
    """PUT ?versioning with a hand-made body, signed by botocore."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    from conftest import ACCESS_KEY, SECRET_KEY
    import hashlib, base64, requests, zlib
    url = f"{server.endpoint}/{bucket}?versioning"
    crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    request = botocore.awsrequest.AWSRequest(method="PUT", url=url, data=body,
                                             headers={"x-amz-checksum-crc32": crc})
    request.context["payload_signing_enabled"] = True
    request.headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
    botocore.auth.S3SigV4Auth(botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY), "s3",
                              "us-east-1").add_auth(request)
    return requests.put(url, data=body, headers=dict(request.headers.items()))


@pytest.mark.parametrize("body,code", [
    (b"<VersioningConfiguration/>", "IllegalVersioningConfigurationException"),
    (b"<VersioningConfiguration><Status>enabled</Status></VersioningConfiguration>", "MalformedXML"),
    (b"<VersioningConfiguration><Status>Enabled</Status><MFADelete>Enabled</MFADelete></VersioningConfiguration>",
     "MalformedXML"),
    (b"<VersioningConfiguration><Status>Enabled</Status><MfaDelete>on</MfaDelete></VersioningConfiguration>",
     "MalformedXML"),
    (b"<VersioningConfiguration><Status>Enabled</Status>", "MalformedXML"),
    (b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><VersioningConfiguration><Status>&e;</Status></VersioningConfiguration>',
     "MalformedXML"),
])
def test_versioning_bad_documents(server, bucket, body, code):
    response = raw_versioning(server, bucket, body)
    assert response.status_code == 400
    assert f"<Code>{code}</Code>" in response.text
    assert "<RequestId>" in response.text and response.headers["x-amz-request-id"]


def test_acls_owner_full_control(s3, bucket):
    acl = s3.get_bucket_acl(Bucket=bucket)
    assert acl["Grants"][0]["Permission"] == "FULL_CONTROL"
    assert acl["Grants"][0]["Grantee"]["ID"] == acl["Owner"]["ID"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    assert s3.get_object_acl(Bucket=bucket, Key="k")["Grants"][0]["Permission"] == "FULL_CONTROL"


def test_unknown_operations_are_not_implemented(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=bucket)
    assert error_code(e) == "NotImplemented"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_request_id_on_every_response(s3, bucket):
    assert s3.list_buckets()["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="missing")
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    assert e.value.response["Error"]["Key"] == "missing"


def test_expect_100_continue_answered_before_the_body(server, bucket):
    """The server says 100 Continue before the client sends a byte of body."""
    import botocore.auth, botocore.awsrequest, botocore.credentials
    from conftest import ACCESS_KEY, SECRET_KEY
    url = f"{server.endpoint}/{bucket}/continued"
    request = botocore.awsrequest.AWSRequest(method="PUT", url=url, data=b"hello", headers={"Expect": "100-continue"})
    botocore.auth.S3SigV4Auth(botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY), "s3",
                              "us-east-1").add_auth(request)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        head = f"PUT /{bucket}/continued HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Length: 5\r\n"
        for name, value in request.headers.items():
            head += f"{name}: {value}\r\n"
        sock.sendall((head + "\r\n").encode())
        first = sock.recv(4096)
        assert first.startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(b"hello")
        rest = b""
        while b"\r\n\r\n" not in rest:
            rest += sock.recv(4096)
        assert b"200 OK" in rest, rest.decode()


def test_health_probe(server):
    import requests
    assert requests.get(server.endpoint + "/health").text == "ok\n"
