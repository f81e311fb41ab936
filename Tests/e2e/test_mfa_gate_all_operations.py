"""Every S3 operation, over HTTP, against a bucket with MFA Delete enabled and no x-amz-mfa: exactly
the protected ones are refused (a versioning change, a permanent delete, DeleteObjects naming a
version), every other one does its work. An operation that forgot the gate, or one that gained it by
mistake, fails here. The list must name every operation Coffer routes (S3Operation in
Sources/CofferCore/MFAGate.swift), which the last test checks."""
import json
import os
import re

import pytest
from botocore.exceptions import ClientError
from conftest import Server
from test_mfa import Device, clients

REFUSED = "Mfa Authentication must be used for this request"


@pytest.fixture(scope="module")
def vault():
    server = Server().start()
    iam, _, s3 = clients(server)
    device = Device(iam, "gate-root")
    device.enable(iam)
    s3.create_bucket(Bucket="gated")
    s3.put_bucket_versioning(Bucket="gated", MFA=f"{device.serial} {device.code(0)}",
                             VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
    s3.create_bucket(Bucket="gated-src")
    yield s3
    server.stop()


def outcome(call):
    try:
        call()
        return "done"
    except ClientError as error:
        message = error.response["Error"].get("Message", "")
        return "refused" if error.response["Error"]["Code"] == "AccessDenied" and REFUSED in message else \
            error.response["Error"]["Code"]


def test_exactly_the_protected_operations_need_a_code(vault):
    s3 = vault
    version = s3.put_object(Bucket="gated", Key="k", Body=b"v1")["VersionId"]
    s3.put_object(Bucket="gated-src", Key="src", Body=b"source")
    upload = s3.create_multipart_upload(Bucket="gated", Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket="gated", Key="mp", UploadId=upload, PartNumber=1, Body=b"part")["ETag"]
    upload2 = s3.create_multipart_upload(Bucket="gated", Key="mp2")["UploadId"]
    expected = {
        "ListBuckets": ("done", lambda: s3.list_buckets()),
        "CreateBucket": ("done", lambda: s3.create_bucket(Bucket="gated-new")),
        "HeadBucket": ("done", lambda: s3.head_bucket(Bucket="gated")),
        "GetBucketLocation": ("done", lambda: s3.get_bucket_location(Bucket="gated")),
        "GetBucketVersioning": ("done", lambda: s3.get_bucket_versioning(Bucket="gated")),
        "PutBucketVersioning": ("refused", lambda: s3.put_bucket_versioning(
            Bucket="gated", VersioningConfiguration={"Status": "Suspended"})),
        "GetBucketAcl": ("done", lambda: s3.get_bucket_acl(Bucket="gated")),
        "ListObjects": ("done", lambda: s3.list_objects(Bucket="gated")),
        "ListObjectsV2": ("done", lambda: s3.list_objects_v2(Bucket="gated")),
        "ListObjectVersions": ("done", lambda: s3.list_object_versions(Bucket="gated")),
        "PutObject": ("done", lambda: s3.put_object(Bucket="gated", Key="new", Body=b"x")),
        "CopyObject": ("done", lambda: s3.copy_object(Bucket="gated", Key="copy",
                                                      CopySource={"Bucket": "gated-src", "Key": "src"})),
        "CreateMultipartUpload": ("done", lambda: s3.create_multipart_upload(Bucket="gated", Key="mp3")),
        "UploadPart": ("done", lambda: s3.upload_part(Bucket="gated", Key="mp2", UploadId=upload2, PartNumber=1,
                                                      Body=b"p")),
        "UploadPartCopy": ("done", lambda: s3.upload_part_copy(Bucket="gated", Key="mp2", UploadId=upload2,
                                                               PartNumber=2,
                                                               CopySource={"Bucket": "gated-src", "Key": "src"})),
        "ListParts": ("done", lambda: s3.list_parts(Bucket="gated", Key="mp", UploadId=upload)),
        "ListMultipartUploads": ("done", lambda: s3.list_multipart_uploads(Bucket="gated")),
        "CompleteMultipartUpload": ("done", lambda: s3.complete_multipart_upload(
            Bucket="gated", Key="mp", UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})),
        "AbortMultipartUpload": ("done", lambda: s3.abort_multipart_upload(Bucket="gated", Key="mp2",
                                                                           UploadId=upload2)),
        "GetObject": ("done", lambda: s3.get_object(Bucket="gated", Key="k")),
        "HeadObject": ("done", lambda: s3.head_object(Bucket="gated", Key="k")),
        "GetObjectAcl": ("done", lambda: s3.get_object_acl(Bucket="gated", Key="k")),
        "DeleteObject": ("refused", lambda: s3.delete_object(Bucket="gated", Key="k", VersionId=version)),
        "DeleteObjects": ("refused", lambda: s3.delete_objects(Bucket="gated", Delete={
            "Objects": [{"Key": "new"}, {"Key": "k", "VersionId": version}]})),
        # Without a version id a delete only stacks a marker: never protected.
        "DeleteObject (marker)": ("done", lambda: s3.delete_object(Bucket="gated", Key="new")),
        "DeleteObjects (markers)": ("done", lambda: s3.delete_objects(Bucket="gated", Delete={
            "Objects": [{"Key": "copy"}]})),
        "PutBucketPolicy": ("done", lambda: s3.put_bucket_policy(Bucket="gated", Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                    "Resource": "arn:aws:s3:::gated/public/*"}]}))),
        "GetBucketPolicy": ("done", lambda: s3.get_bucket_policy(Bucket="gated")),
        "GetBucketPolicyStatus": ("done", lambda: s3.get_bucket_policy_status(Bucket="gated")),
        "DeleteBucketPolicy": ("done", lambda: s3.delete_bucket_policy(Bucket="gated")),
        "DeleteBucket": ("BucketNotEmpty", lambda: s3.delete_bucket(Bucket="gated")),
    }
    seen = {name: outcome(call) for name, (_, call) in expected.items()}
    assert seen == {name: want for name, (want, _) in expected.items()}
    # Nothing protected happened: the version is still there and versioning is unchanged.
    assert s3.get_object(Bucket="gated", Key="k", VersionId=version)["Body"].read() == b"v1"
    state = s3.get_bucket_versioning(Bucket="gated")
    assert (state["Status"], state["MFADelete"]) == ("Enabled", "Enabled")


def test_the_list_names_every_routed_operation():
    source = open(os.path.join(os.path.dirname(__file__), "..", "..", "Sources", "CofferCore", "MFAGate.swift")).read()
    routed = set(re.findall(r'case \w+ = "(\w+)"', source))
    here = open(__file__).read()
    missing = sorted(name for name in routed if f'"{name}": (' not in here)
    assert routed and not missing, f"operations without a case here: {missing}"
