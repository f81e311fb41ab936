"""CopyObject: versions, metadata directives, delete-marker rules, copy onto itself."""
import pytest
from botocore.exceptions import ClientError
from conftest import error_code


def test_copy_versions_and_metadata(s3, versioned, bucket):
    v1 = s3.put_object(Bucket=versioned, Key="src", Body=b"one" * 30000, ContentType="text/plain",
                       Metadata={"a": "1"})["VersionId"]
    s3.put_object(Bucket=versioned, Key="src", Body=b"two", Metadata={"a": "2"})
    copied = s3.copy_object(Bucket=versioned, Key="dst", CopySource={"Bucket": versioned, "Key": "src", "VersionId": v1})
    assert copied["CopySourceVersionId"] == v1 and copied["VersionId"]
    got = s3.get_object(Bucket=versioned, Key="dst")
    assert got["Body"].read() == b"one" * 30000 and got["Metadata"] == {"a": "1"} and got["ContentType"] == "text/plain"
    assert copied["CopyObjectResult"]["ETag"] == got["ETag"]
    # REPLACE takes the request's metadata; COPY (the default) the source's.
    s3.copy_object(Bucket=versioned, Key="dst2", CopySource=f"{versioned}/src", MetadataDirective="REPLACE",
                   Metadata={"b": "new"}, ContentType="application/json")
    got = s3.get_object(Bucket=versioned, Key="dst2")
    assert got["Body"].read() == b"two" and got["Metadata"] == {"b": "new"} and got["ContentType"] == "application/json"
    # Across buckets, keys with odd characters.
    s3.put_object(Bucket=bucket, Key="ä b+c", Body=b"odd")
    s3.copy_object(Bucket=versioned, Key="from other", CopySource={"Bucket": bucket, "Key": "ä b+c"})
    assert s3.get_object(Bucket=versioned, Key="from other")["Body"].read() == b"odd"


def test_copy_onto_itself_needs_replace(s3, bucket):
    s3.put_object(Bucket=bucket, Key="self", Body=b"x" * 100_000, Metadata={"v": "1"})
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="self", CopySource={"Bucket": bucket, "Key": "self"})
    assert error_code(e) == "InvalidRequest"
    s3.copy_object(Bucket=bucket, Key="self", CopySource={"Bucket": bucket, "Key": "self"}, MetadataDirective="REPLACE",
                   Metadata={"v": "2"})
    got = s3.get_object(Bucket=bucket, Key="self")
    assert got["Metadata"] == {"v": "2"} and got["Body"].read() == b"x" * 100_000  # the shared blob survived


def test_keys_are_byte_strings_for_copy_and_multipart(s3, bucket):
    """"café" composed (NFC) and decomposed (NFD) are two keys, as S3 has them."""
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    s3.put_object(Bucket=bucket, Key=composed, Body=b"composed")
    s3.copy_object(Bucket=bucket, Key=decomposed, CopySource={"Bucket": bucket, "Key": composed})  # not "onto itself"
    assert s3.get_object(Bucket=bucket, Key=decomposed)["Body"].read() == b"composed"
    upload = s3.create_multipart_upload(Bucket=bucket, Key=composed)["UploadId"]
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key=decomposed, UploadId=upload, PartNumber=1, Body=b"part")
    assert error_code(e) == "NoSuchUpload"
    s3.abort_multipart_upload(Bucket=bucket, Key=composed, UploadId=upload)


def test_copy_delete_marker_rules(s3, versioned):
    s3.put_object(Bucket=versioned, Key="gone", Body=b"x")
    marker = s3.delete_object(Bucket=versioned, Key="gone")["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=versioned, Key="c", CopySource={"Bucket": versioned, "Key": "gone"})
    assert error_code(e) == "NoSuchKey"
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=versioned, Key="c", CopySource={"Bucket": versioned, "Key": "gone", "VersionId": marker})
    assert error_code(e) == "InvalidRequest"
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=versioned, Key="c", CopySource={"Bucket": "no-such-bucket-x", "Key": "gone"})
    assert error_code(e) == "NoSuchBucket"


def test_shared_blob_outlives_its_source(s3, versioned):
    body = b"shared" * 20000
    v = s3.put_object(Bucket=versioned, Key="orig", Body=body)["VersionId"]
    s3.copy_object(Bucket=versioned, Key="copy", CopySource={"Bucket": versioned, "Key": "orig"})
    s3.delete_object(Bucket=versioned, Key="orig", VersionId=v)  # the source's bytes stay for the copy
    assert s3.get_object(Bucket=versioned, Key="copy")["Body"].read() == body


def test_cli_copy(server, bucket, tmp_path):
    source = tmp_path / "f.txt"
    source.write_text("copy me")
    server.cli("s3api", "put-object", "--bucket", bucket, "--key", "f.txt", "--body", str(source))
    server.cli("s3api", "copy-object", "--bucket", bucket, "--key", "g.txt", "--copy-source", f"{bucket}/f.txt")
    server.cli("s3", "cp", f"s3://{bucket}/g.txt", str(tmp_path / "g.txt"))
    assert (tmp_path / "g.txt").read_text() == "copy me"


def test_copying_an_older_version_onto_its_key_restores_it(s3, versioned):
    old = s3.put_object(Bucket=versioned, Key="doc", Body=b"first draft")["VersionId"]
    current = s3.put_object(Bucket=versioned, Key="doc", Body=b"second draft")["VersionId"]
    restored = s3.copy_object(Bucket=versioned, Key="doc", CopySource={"Bucket": versioned, "Key": "doc", "VersionId": old})
    assert restored["CopySourceVersionId"] == old
    assert s3.get_object(Bucket=versioned, Key="doc")["Body"].read() == b"first draft"
    assert len(s3.list_object_versions(Bucket=versioned, Prefix="doc")["Versions"]) == 3
    with pytest.raises(ClientError) as e:  # the current version onto itself is still refused
        s3.copy_object(Bucket=versioned, Key="doc",
                       CopySource={"Bucket": versioned, "Key": "doc", "VersionId": restored["VersionId"]})
    assert error_code(e) == "InvalidRequest"
    assert current
