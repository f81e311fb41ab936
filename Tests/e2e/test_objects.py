"""Objects: metadata, ranges, conditionals, integrity headers, odd keys, and every versioning rule."""
import base64
import hashlib
import concurrent.futures

import pytest
from botocore.exceptions import ClientError
from conftest import error_code

ODD_KEYS = ["a b.txt", "100%.txt", "a+b=c", "dir//double/slash", "ünïcødé/日本語.txt", "tab\there", "~!@$&*()'",
            "  leading-spaces", "trailing-dot.", "q?uery#frag"]


@pytest.mark.parametrize("key", ODD_KEYS)
def test_odd_keys_round_trip(s3, bucket, key):
    s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == [key]
    s3.delete_object(Bucket=bucket, Key=key)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_metadata_and_entity_headers(s3, bucket):
    s3.put_object(Bucket=bucket, Key="m", Body=b"body", ContentType="text/plain; charset=utf-8",
                  ContentDisposition='attachment; filename="x.txt"', CacheControl="max-age=60",
                  ContentEncoding="identity", ContentLanguage="en", Expires="Wed, 21 Oct 2026 07:28:00 GMT",
                  Metadata={"Colour": "blue", "n": "1"})
    got = s3.get_object(Bucket=bucket, Key="m")
    assert got["ContentType"] == "text/plain; charset=utf-8"
    assert got["ContentDisposition"] == 'attachment; filename="x.txt"'
    assert got["CacheControl"] == "max-age=60" and got["ContentLanguage"] == "en"
    assert got["Metadata"] == {"colour": "blue", "n": "1"}
    assert got["ETag"] == '"%s"' % hashlib.md5(b"body").hexdigest()
    head = s3.head_object(Bucket=bucket, Key="m")
    assert head["ContentLength"] == 4 and head["Metadata"] == {"colour": "blue", "n": "1"}
    # response-* overrides
    over = s3.get_object(Bucket=bucket, Key="m", ResponseContentType="application/json",
                         ResponseContentDisposition="inline", ResponseCacheControl="no-store")
    assert over["ContentType"] == "application/json" and over["ContentDisposition"] == "inline"
    assert over["CacheControl"] == "no-store"
    # default content type
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    assert s3.head_object(Bucket=bucket, Key="plain")["ContentType"] == "binary/octet-stream"


def test_metadata_too_large(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="big-meta", Body=b"x", Metadata={"a": "x" * 2100})
    assert error_code(e) == "MetadataTooLarge"


def test_ranges(s3, bucket):
    body = bytes(range(256)) * 400  # 102,400 bytes: stored as a blob file
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    for header, expected in [("bytes=0-9", body[0:10]), ("bytes=100-", body[100:]), ("bytes=-7", body[-7:]),
                             ("bytes=102390-999999", body[102390:])]:
        got = s3.get_object(Bucket=bucket, Key="r", Range=header)
        assert got["Body"].read() == expected
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert got["ContentRange"].startswith("bytes ")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=102400-")
    assert error_code(e) == "InvalidRange"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416
    # Unparseable ranges are ignored: the whole object.
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=abc")["Body"].read() == body
    # A small (inline) object too.
    s3.put_object(Bucket=bucket, Key="small", Body=b"0123456789")
    assert s3.get_object(Bucket=bucket, Key="small", Range="bytes=2-4")["Body"].read() == b"234"


def test_empty_object(s3, versioned):
    # GET of an empty object once built the byte range 0...-1, a trap that killed the server.
    version = s3.put_object(Bucket=versioned, Key="empty", Body=b"")["VersionId"]
    for extra in [{}, {"VersionId": version}]:
        got = s3.get_object(Bucket=versioned, Key="empty", **extra)
        assert got["Body"].read() == b""
        assert got["ContentLength"] == 0
        assert got["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
        assert s3.head_object(Bucket=versioned, Key="empty", **extra)["ContentLength"] == 0
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=versioned, Key="empty", Range="bytes=0-0")
    assert error_code(e) == "InvalidRange"
    # Still serving.
    assert s3.head_object(Bucket=versioned, Key="empty")["VersionId"] == version


def test_conditionals(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"v")["ETag"]
    last = s3.head_object(Bucket=bucket, Key="c")["LastModified"]
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"v"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"0000"')
    assert error_code(e) == "PreconditionFailed"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=last)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    import datetime
    earlier = last - datetime.timedelta(days=1)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=earlier)
    assert error_code(e) == "PreconditionFailed"
    assert s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=earlier)["Body"].read() == b"v"


def test_integrity_headers(s3, bucket):
    good = base64.b64encode(hashlib.md5(b"data").digest()).decode()
    s3.put_object(Bucket=bucket, Key="i", Body=b"data", ContentMD5=good)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="i", Body=b"other", ContentMD5=good)
    assert error_code(e) == "BadDigest"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="i", Body=b"data", ContentMD5="not-base64!")
    assert error_code(e) == "InvalidDigest"
    # The failed PUTs left the first version untouched.
    assert s3.get_object(Bucket=bucket, Key="i")["Body"].read() == b"data"
    # boto3's default CRC32 checksum is verified and returned on request.
    put = s3.put_object(Bucket=bucket, Key="crc", Body=b"hello world")
    assert put["ChecksumCRC32"] == "DUoRhQ=="
    got = s3.get_object(Bucket=bucket, Key="crc", ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == "DUoRhQ==" and got["Body"].read() == b"hello world"
    # Never a full-object checksum on a range.
    ranged = s3.get_object(Bucket=bucket, Key="crc", ChecksumMode="ENABLED", Range="bytes=0-4")
    assert "ChecksumCRC32" not in ranged and ranged["Body"].read() == b"hello"
    put = s3.put_object(Bucket=bucket, Key="sha", Body=b"hello world", ChecksumAlgorithm="SHA256")
    assert put["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(b"hello world").digest()).decode()


def test_wrong_crc32_is_bad_digest(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"hello world", ChecksumCRC32="AAAAAA==")
    assert error_code(e) == "BadDigest"
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="bad")
    assert error_code(e) == "404"


def test_spec_checklist_versions_markers_null(s3, bucket):
    """Spec §8 items 1-6."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"null-version")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [v["VersionId"] for v in versions] == [v2, v1, "null"]
    assert [v["IsLatest"] for v in versions] == [True, False, False]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"null-version"

    deleted = s3.delete_object(Bucket=bucket, Key="k")
    assert deleted["DeleteMarker"] is True
    marker = deleted["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k")
    assert error_code(e) == "NoSuchKey"
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", VersionId=marker)
    assert error_code(e) == "MethodNotAllowed"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 405
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="k", VersionId=marker)
    assert error_code(e) == "405"
    headers = e.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-delete-marker"] == "true" and headers["x-amz-version-id"] == marker
    assert headers["allow"] == "DELETE" and headers["last-modified"].endswith(" GMT")

    removed = s3.delete_object(Bucket=bucket, Key="k", VersionId=marker)
    assert removed["DeleteMarker"] is True and removed["VersionId"] == marker
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"

    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"suspended-1")
    assert "VersionId" not in put
    s3.put_object(Bucket=bucket, Key="k", Body=b"suspended-2")
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [v["VersionId"] for v in versions] == ["null", v2, v1]
    assert versions[0]["IsLatest"] is True
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"suspended-2"


def test_version_id_errors(s3, bucket, versioned):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", VersionId="not-a-version")
    assert error_code(e) == "InvalidArgument"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", VersionId="A" * 32)
    assert error_code(e) == "NoSuchVersion"
    # Deleting an unknown, well-formed version is idempotent.
    assert s3.delete_object(Bucket=bucket, Key="k", VersionId="A" * 32)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=bucket, Key="k", VersionId="bad")
    assert error_code(e) == "InvalidArgument"


def test_stacked_markers_and_suspended_null_marker(s3, versioned):
    for _ in range(3):
        s3.delete_object(Bucket=versioned, Key="stack")
    markers = s3.list_object_versions(Bucket=versioned)["DeleteMarkers"]
    assert len(markers) == 3 and sum(m["IsLatest"] for m in markers) == 1
    s3.put_bucket_versioning(Bucket=versioned, VersioningConfiguration={"Status": "Suspended"})
    deleted = s3.delete_object(Bucket=versioned, Key="stack")
    assert deleted["DeleteMarker"] is True and deleted["VersionId"] == "null"
    s3.delete_object(Bucket=versioned, Key="stack")
    markers = s3.list_object_versions(Bucket=versioned)["DeleteMarkers"]
    assert len(markers) == 4 and markers[0]["VersionId"] == "null"


def test_unversioned_delete_is_idempotent(s3, bucket):
    s3.put_object(Bucket=bucket, Key="u", Body=b"1")
    first = s3.delete_object(Bucket=bucket, Key="u")
    assert "DeleteMarker" not in first
    assert s3.delete_object(Bucket=bucket, Key="u")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.list_object_versions(Bucket=bucket).get("Versions") is None


def test_concurrent_puts_all_become_versions(server, versioned):
    def put(index):
        return server.client().put_object(Bucket=versioned, Key="hot", Body=b"x" * (index * 5000))["VersionId"]
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        ids = list(pool.map(put, range(48)))
    assert len(set(ids)) == 48
    versions = server.client().list_object_versions(Bucket=versioned)["Versions"]
    assert len(versions) == 48 and sum(v["IsLatest"] for v in versions) == 1


def test_no_such_bucket(s3):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="no-such-bucket-here", Key="k", Body=b"x")
    assert error_code(e) == "NoSuchBucket"
    assert e.value.response["Error"]["BucketName"] == "no-such-bucket-here"
