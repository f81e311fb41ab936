"""Multipart uploads: boto3's transfer manager and the aws cli, the low-level API and its errors."""
import hashlib
import os
import subprocess

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError
from conftest import ACCESS_KEY, SECRET_KEY, Server, error_code

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def tls():
    server = Server(extra_args=["--tls-self-signed"]).start()
    server.ca = os.path.join(server.data, "tls", "cert.pem")
    yield server
    server.stop()


def https_client(server):
    return boto3.client("s3", endpoint_url=f"https://127.0.0.1:{server.port}", verify=server.ca,
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
                        config=Config(retries={"total_max_attempts": 1}))


@pytest.mark.parametrize("algorithm", [None, "CRC32", "CRC32C", "SHA256"])
def test_transfer_manager_over_https(tls, tmp_path, algorithm):
    s3 = https_client(tls)
    bucket = f"mp-{(algorithm or 'default').lower()}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(17 * MiB + 123))
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=4)
    extra = {"ChecksumAlgorithm": algorithm} if algorithm else None
    s3.upload_file(str(source), bucket, "big.bin", Config=config, ExtraArgs=extra)
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ETag"].strip('"').endswith("-4") and head["ContentLength"] == source.stat().st_size
    target = tmp_path / "back.bin"
    s3.download_file(bucket, "big.bin", str(target))
    assert hashlib.md5(target.read_bytes()).digest() == hashlib.md5(source.read_bytes()).digest()
    assert len(s3.list_object_versions(Bucket=bucket)["Versions"]) == 1  # exactly one version
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    got = s3.get_object(Bucket=bucket, Key="big.bin", ChecksumMode="ENABLED")
    got["Body"].read()
    if algorithm:
        assert got[f"Checksum{algorithm}"].endswith("-4")


def test_aws_cli_cp_large_file_over_https(tls, tmp_path):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
               AWS_DEFAULT_REGION="us-east-1", AWS_CA_BUNDLE=tls.ca)
    aws = ["aws", "--endpoint-url", f"https://127.0.0.1:{tls.port}"]
    source = tmp_path / "file.bin"
    source.write_bytes(os.urandom(20 * MiB))
    for args in (["s3", "mb", "s3://cli-mp"], ["s3", "cp", str(source), "s3://cli-mp/file.bin"],
                 ["s3", "cp", "s3://cli-mp/file.bin", str(tmp_path / "copy.bin")]):
        subprocess.run(aws + args, env=env, check=True, capture_output=True)
    assert (tmp_path / "copy.bin").read_bytes() == source.read_bytes()
    head = subprocess.run(aws + ["s3api", "head-object", "--bucket", "cli-mp", "--key", "file.bin"], env=env,
                          check=True, capture_output=True, text=True).stdout
    assert '-3\\""' in head  # 8 MiB parts: 3 of them


def test_low_level_api_and_errors(s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="k", ContentType="text/x-parts", Metadata={"m": "1"})
    uid = upload["UploadId"]
    part1 = os.urandom(5 * MiB)
    e1 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=part1)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=2, Body=b"tail")["ETag"]
    parts = s3.list_parts(Bucket=bucket, Key="k", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 5 * MiB), (2, 4)]
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [uid]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={"Parts": [
            {"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]})
    assert error_code(e) == "InvalidPartOrder"
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}, {"PartNumber": 2, "ETag": e2}]})
    assert error_code(e) == "InvalidPart"
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": e1}, {"PartNumber": 3, "ETag": e2}]})  # no part 3
    assert error_code(e) == "InvalidPart"
    small = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"too small")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": small}, {"PartNumber": 2, "ETag": e2}]})
    assert error_code(e) == "EntityTooSmall"
    e1 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=part1)["ETag"]  # replace it
    done = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    expected = hashlib.md5(bytes.fromhex(e1.strip('"')) + bytes.fromhex(e2.strip('"'))).hexdigest() + "-2"
    assert done["ETag"] == f'"{expected}"'
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == part1 + b"tail" and got["ContentType"] == "text/x-parts" and got["Metadata"] == {"m": "1"}
    with pytest.raises(ClientError) as e:
        s3.list_parts(Bucket=bucket, Key="k", UploadId=uid)
    assert error_code(e) == "NoSuchUpload"
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"x")
    assert error_code(e) == "NoSuchUpload"


def test_abort_reclaims_parts_and_part_copy(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="source", Body=b"0123456789" * 600_000)  # 6 MB
    uid = s3.create_multipart_upload(Bucket=bucket, Key="copied")["UploadId"]
    first = s3.upload_part_copy(Bucket=bucket, Key="copied", UploadId=uid, PartNumber=1,
                                CopySource={"Bucket": bucket, "Key": "source"}, CopySourceRange="bytes=0-5242879")
    second = s3.upload_part_copy(Bucket=bucket, Key="copied", UploadId=uid, PartNumber=2,
                                 CopySource={"Bucket": bucket, "Key": "source"}, CopySourceRange="bytes=5242880-5999999")
    s3.complete_multipart_upload(Bucket=bucket, Key="copied", UploadId=uid, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": first["CopyPartResult"]["ETag"]},
        {"PartNumber": 2, "ETag": second["CopyPartResult"]["ETag"]}]})
    whole = b"0123456789" * 600_000
    assert s3.get_object(Bucket=bucket, Key="copied")["Body"].read() == whole
    # The object is its parts' blobs in order: ranges within and across the part boundary.
    for first_byte, last_byte in [(5242870, 5242889), (0, 5242879), (5242880, 5999999), (5242879, 5242880), (5999990, 5999999)]:
        got = s3.get_object(Bucket=bucket, Key="copied", Range=f"bytes={first_byte}-{last_byte}")
        assert got["Body"].read() == whole[first_byte:last_byte + 1]
        assert got["ContentRange"] == f"bytes {first_byte}-{last_byte}/6000000"
    # A part copied out of a multipart object across its boundary, and one out of an empty object.
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    uid = s3.create_multipart_upload(Bucket=bucket, Key="recopied")["UploadId"]
    across = s3.upload_part_copy(Bucket=bucket, Key="recopied", UploadId=uid, PartNumber=1,
                                 CopySource={"Bucket": bucket, "Key": "copied"}, CopySourceRange="bytes=5000000-5999999")
    nothing = s3.upload_part_copy(Bucket=bucket, Key="recopied", UploadId=uid, PartNumber=2,
                                  CopySource={"Bucket": bucket, "Key": "empty"})
    assert nothing["CopyPartResult"]["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    with pytest.raises(ClientError) as e:  # parts before the last must be at least 5 MiB
        s3.complete_multipart_upload(Bucket=bucket, Key="recopied", UploadId=uid, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": across["CopyPartResult"]["ETag"]},
            {"PartNumber": 2, "ETag": nothing["CopyPartResult"]["ETag"]}]})
    assert error_code(e) == "EntityTooSmall"
    s3.complete_multipart_upload(Bucket=bucket, Key="recopied", UploadId=uid, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": across["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="recopied")["Body"].read() == whole[5000000:]
    # A copy range is never clamped: past the end of the source, or not first-last, it is refused.
    uid = s3.create_multipart_upload(Bucket=bucket, Key="badrange")["UploadId"]
    for bad in ["bytes=5999990-6000100", "bytes=100-", "bytes=-100", "bytes=10-5", "items=0-1"]:
        with pytest.raises(ClientError) as e:
            s3.upload_part_copy(Bucket=bucket, Key="badrange", UploadId=uid, PartNumber=1,
                                CopySource={"Bucket": bucket, "Key": "copied"}, CopySourceRange=bad)
        assert error_code(e) == "InvalidArgument", bad
    assert s3.list_parts(Bucket=bucket, Key="badrange", UploadId=uid).get("Parts", []) == []
    s3.abort_multipart_upload(Bucket=bucket, Key="badrange", UploadId=uid)
    count = lambda: len(server.blob_names())
    before = count()
    uid = s3.create_multipart_upload(Bucket=bucket, Key="aborted")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="aborted", UploadId=uid, PartNumber=1, Body=os.urandom(5 * MiB))
    assert count() == before + 1
    s3.abort_multipart_upload(Bucket=bucket, Key="aborted", UploadId=uid)
    assert count() == before
    with pytest.raises(ClientError) as e:
        s3.abort_multipart_upload(Bucket=bucket, Key="aborted", UploadId=uid)
    assert error_code(e) == "NoSuchUpload"
