"""S3 behaviour a conformance suite found missing: repeated completes, owned buckets in us-east-1,
partNumber reads, conditional writes, empty continuation tokens, bucket-name rules."""
import concurrent.futures
import os
import uuid

import pytest
from botocore.exceptions import ClientError
from conftest import error_code

MiB = 1024 * 1024


def test_a_repeated_complete_answers_as_the_first(s3, versioned):
    upload = s3.create_multipart_upload(Bucket=versioned, Key="twice")["UploadId"]
    parts = [os.urandom(5 * MiB), os.urandom(1000)]
    etags = [s3.upload_part(Bucket=versioned, Key="twice", UploadId=upload, PartNumber=n + 1, Body=b)["ETag"]
             for n, b in enumerate(parts)]
    request = {"Parts": [{"PartNumber": n + 1, "ETag": e} for n, e in enumerate(etags)]}
    first = s3.complete_multipart_upload(Bucket=versioned, Key="twice", UploadId=upload, MultipartUpload=request)
    again = s3.complete_multipart_upload(Bucket=versioned, Key="twice", UploadId=upload, MultipartUpload=request)
    assert (again["ETag"], again["VersionId"]) == (first["ETag"], first["VersionId"])
    assert len(s3.list_object_versions(Bucket=versioned, Prefix="twice")["Versions"]) == 1
    with pytest.raises(ClientError) as e:  # other parts: the upload is gone
        s3.complete_multipart_upload(Bucket=versioned, Key="twice", UploadId=upload,
                                     MultipartUpload={"Parts": request["Parts"][:1]})
    assert error_code(e) == "NoSuchUpload"


def test_creating_an_owned_bucket_in_us_east_1_is_ok(s3, bucket):
    s3.create_bucket(Bucket=bucket)  # 200, as AWS answers in us-east-1
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert error_code(e) in ("BucketAlreadyOwnedByYou", "IllegalLocationConstraintException")
    for bad in ["a.-b", "a-.b"]:
        with pytest.raises(ClientError) as e:
            s3.create_bucket(Bucket=bad + uuid.uuid4().hex[:6])
        assert error_code(e) == "InvalidBucketName"


def test_part_number_reads(s3, bucket):
    s3.put_object(Bucket=bucket, Key="simple", Body=b"whole")
    simple = s3.get_object(Bucket=bucket, Key="simple", PartNumber=1)
    assert simple["Body"].read() == b"whole" and "PartsCount" not in simple
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="simple", PartNumber=2)
    assert error_code(e) == "InvalidPartNumber"
    upload = s3.create_multipart_upload(Bucket=bucket, Key="multi")["UploadId"]
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(123)]
    etags = [s3.upload_part(Bucket=bucket, Key="multi", UploadId=upload, PartNumber=n + 1, Body=b)["ETag"]
             for n, b in enumerate(parts)]
    s3.complete_multipart_upload(Bucket=bucket, Key="multi", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": n + 1, "ETag": e} for n, e in enumerate(etags)]})
    for number, body in enumerate(parts, start=1):
        got = s3.get_object(Bucket=bucket, Key="multi", PartNumber=number)
        assert got["Body"].read() == body and got["PartsCount"] == 3
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        head = s3.head_object(Bucket=bucket, Key="multi", PartNumber=number)
        assert head["ContentLength"] == len(body) and head["PartsCount"] == 3
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="multi", PartNumber=4)
    assert error_code(e) == "InvalidPartNumber"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="multi", PartNumber=1, Range="bytes=0-1")
    assert error_code(e) == "InvalidRequest"


def test_conditional_writes(s3, versioned):
    first = s3.put_object(Bucket=versioned, Key="cond", Body=b"one", IfNoneMatch="*")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=versioned, Key="cond", Body=b"two", IfNoneMatch="*")
    assert error_code(e) == "PreconditionFailed"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=versioned, Key="cond", Body=b"two", IfMatch='"0000"')
    assert error_code(e) == "PreconditionFailed"
    second = s3.put_object(Bucket=versioned, Key="cond", Body=b"two", IfMatch=first["ETag"])
    assert s3.get_object(Bucket=versioned, Key="cond")["Body"].read() == b"two"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=versioned, Key="absent", Body=b"x", IfMatch=second["ETag"])
    assert error_code(e) == "NoSuchKey"
    # After a delete marker the key has no current object: If-None-Match: * succeeds.
    s3.delete_object(Bucket=versioned, Key="cond")
    s3.put_object(Bucket=versioned, Key="cond", Body=b"three", IfNoneMatch="*")
    # CompleteMultipartUpload takes the same conditions.
    upload = s3.create_multipart_upload(Bucket=versioned, Key="cond")["UploadId"]
    etag = s3.upload_part(Bucket=versioned, Key="cond", UploadId=upload, PartNumber=1, Body=b"p")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=versioned, Key="cond", UploadId=upload, IfNoneMatch="*",
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert error_code(e) == "PreconditionFailed"
    # Racing creators: exactly one wins; the others are refused (412, or 409 when they lost at commit).
    def create(index):
        try:
            s3.put_object(Bucket=versioned, Key="race", Body=os.urandom(200_000), IfNoneMatch="*")
            return "won"
        except ClientError as error:
            return error.response["Error"]["Code"]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(create, range(8)))
    assert outcomes.count("won") == 1
    assert set(outcomes) - {"won"} <= {"PreconditionFailed", "ConditionalRequestConflict"}
    assert len(s3.list_object_versions(Bucket=versioned, Prefix="race")["Versions"]) == 1


def test_an_empty_continuation_token_is_the_first_page(s3, bucket):
    for key in "abc":
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    page = s3.list_objects_v2(Bucket=bucket, ContinuationToken="", MaxKeys=2)
    assert [o["Key"] for o in page["Contents"]] == ["a", "b"] and page["IsTruncated"]
