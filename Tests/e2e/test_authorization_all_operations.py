"""Every S3 operation, over HTTP, through the one authorization point: an IAM user with no policy and
an anonymous caller are refused every one of them; the same user, given a policy that allows exactly
the IAM action(s) AWS's Service Authorization Reference names for the operation (and nothing else),
may make the call. Both read paths — small objects answered in place on the event loop, large ones
on the general path — and presigned URLs are checked alike, and a revoked permission applies at the
very next request in another process on the same data folder.

The table must name every operation Coffer routes (S3Operation in Sources/CofferCore/MFAGate.swift),
which the last test checks.
"""
import json
import os
import re
import uuid

import pytest
import requests
from botocore.exceptions import ClientError
from conftest import Server
from test_policies import Caller, anonymous, new_user, statement_policy

SMALL = b"small object, its body inline in the database row\n" * 4  # the in-place read path
LARGE = os.urandom(1024 * 1024)  # 1 MiB: a blob file, the general path

REFUSED = "AccessDenied 403"
HEAD_REFUSED = "403 403"  # HEAD has no body: botocore reports the status as the code
DONE = "done"


@pytest.fixture(scope="module")
def server():
    srv = Server().start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def root(server):
    return Caller(server.endpoint)


def arn(bucket, key=None):
    return f"arn:aws:s3:::{bucket}" if key is None else f"arn:aws:s3:::{bucket}/{key}"


def allow(*statements):
    """An identity policy of Allow statements, each (action or actions, resource or resources)."""
    return statement_policy(*({"Effect": "Allow", "Action": action, "Resource": resource}
                              for action, resource in statements))


def actions_of(statements):
    found = []
    for action, _ in statements:
        for name in [action] if isinstance(action, str) else action:
            if name not in found:
                found.append(name)
    return found


def delete_batch(s3, bucket, objects):
    """DeleteObjects, its result tagged with how many entries were asked for."""
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": objects})
    result["_requested"] = len(objects)
    return result


def outcome(call):
    """'done', or '<error code> <HTTP status>'; DeleteObjects' per-entry refusals summarised."""
    try:
        result = call()
    except ClientError as error:
        return f'{error.response["Error"]["Code"]} {error.response["ResponseMetadata"]["HTTPStatusCode"]}'
    if isinstance(result, dict) and "_requested" in result:
        errors, deleted = result.get("Errors", []), result.get("Deleted", [])
        if errors:
            codes = "/".join(sorted({e["Code"] for e in errors}))
            return f'{result["ResponseMetadata"]["HTTPStatusCode"]}, {len(errors)} of {result["_requested"]} ' \
                   f'{codes}, {len(deleted)} deleted'
        if len(deleted) != result["_requested"]:
            return f"{len(deleted)} of {result['_requested']} deleted, no errors"
    return DONE


def refusal(name, count=None):
    """What a refused call of operation `name` looks like."""
    if name.startswith(("HeadBucket", "HeadObject")):
        return HEAD_REFUSED
    if name.startswith("DeleteObjects"):
        # AWS authorizes each entry on its own: 200, every entry AccessDenied, nothing deleted.
        return f"200, {count} of {count} AccessDenied, 0 deleted"
    return REFUSED


class World:
    """Buckets, objects and uploads (made by the root) such that every operation in the table can
    succeed, in the table's order, for a caller allowed to make it."""

    def __init__(self, root, tag):
        s3 = root.s3
        self.tag = tag
        self.bucket, self.source = f"{tag}-main", f"{tag}-src"
        self.created, self.doomed, self.policied = f"{tag}-created", f"{tag}-doomed", f"{tag}-pol"
        for name in [self.bucket, self.source, self.doomed, self.policied]:
            s3.create_bucket(Bucket=name)
        for name in [self.bucket, self.source]:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        b = self.bucket
        self.old = s3.put_object(Bucket=b, Key="obj", Body=b"old " + SMALL)["VersionId"]
        s3.put_object(Bucket=b, Key="obj", Body=SMALL)
        s3.put_object(Bucket=b, Key="del", Body=b"d")
        self.del_version = s3.put_object(Bucket=b, Key="del-v", Body=b"dv")["VersionId"]
        for key in ["batch/1", "batch/2"]:
            s3.put_object(Bucket=b, Key=key, Body=b"b")
        self.batch_version = s3.put_object(Bucket=b, Key="vbatch", Body=b"vb")["VersionId"]
        self.source_old = s3.put_object(Bucket=self.source, Key="src", Body=b"source one")["VersionId"]
        s3.put_object(Bucket=self.source, Key="src", Body=b"source two")
        self.uploads = {key: s3.create_multipart_upload(Bucket=b, Key=key)["UploadId"]
                        for key in ["mp-part", "mp-copy", "mp-copy-v", "mp-done", "mp-abort", "mp-list"]}
        self.etag = s3.upload_part(Bucket=b, Key="mp-done", UploadId=self.uploads["mp-done"], PartNumber=1,
                                   Body=b"last part")["ETag"]
        s3.upload_part(Bucket=b, Key="mp-list", UploadId=self.uploads["mp-list"], PartNumber=1, Body=b"listed")
        # A harmless bucket policy (it denies a prefix nothing here touches), for the policy reads.
        self.bucket_policy = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Sid": "LockedPrefix", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
            "Resource": arn(self.policied, "locked/*")}]})
        s3.put_bucket_policy(Bucket=self.policied, Policy=self.bucket_policy)

    def operations(self):
        """Operation -> (the statements AWS needs for it: (actions, resources); the call on a client).
        A name with a suffix in parentheses is a variant of the operation (a version id named)."""
        b, src, up = self.bucket, self.source, self.uploads
        return {
            "ListBuckets": ([("s3:ListAllMyBuckets", "*")], lambda s3: s3.list_buckets()),
            "CreateBucket": ([("s3:CreateBucket", arn(self.created))],
                             lambda s3: s3.create_bucket(Bucket=self.created)),
            "HeadBucket": ([("s3:ListBucket", arn(b))], lambda s3: s3.head_bucket(Bucket=b)),
            "GetBucketLocation": ([("s3:GetBucketLocation", arn(b))], lambda s3: s3.get_bucket_location(Bucket=b)),
            "GetBucketVersioning": ([("s3:GetBucketVersioning", arn(b))],
                                    lambda s3: s3.get_bucket_versioning(Bucket=b)),
            "PutBucketVersioning": ([("s3:PutBucketVersioning", arn(b))], lambda s3: s3.put_bucket_versioning(
                Bucket=b, VersioningConfiguration={"Status": "Enabled"})),
            "GetBucketAcl": ([("s3:GetBucketAcl", arn(b))], lambda s3: s3.get_bucket_acl(Bucket=b)),
            "ListObjects": ([("s3:ListBucket", arn(b))], lambda s3: s3.list_objects(Bucket=b)),
            "ListObjectsV2": ([("s3:ListBucket", arn(b))], lambda s3: s3.list_objects_v2(Bucket=b)),
            "ListObjectVersions": ([("s3:ListBucketVersions", arn(b))],
                                   lambda s3: s3.list_object_versions(Bucket=b)),
            "GetObject": ([("s3:GetObject", arn(b, "obj"))], lambda s3: s3.get_object(Bucket=b, Key="obj")),
            "GetObject (version)": ([("s3:GetObjectVersion", arn(b, "obj"))],
                                    lambda s3: s3.get_object(Bucket=b, Key="obj", VersionId=self.old)),
            "HeadObject": ([("s3:GetObject", arn(b, "obj"))], lambda s3: s3.head_object(Bucket=b, Key="obj")),
            "HeadObject (version)": ([("s3:GetObjectVersion", arn(b, "obj"))],
                                     lambda s3: s3.head_object(Bucket=b, Key="obj", VersionId=self.old)),
            "GetObjectAcl": ([("s3:GetObjectAcl", arn(b, "obj"))], lambda s3: s3.get_object_acl(Bucket=b, Key="obj")),
            "GetObjectAcl (version)": ([("s3:GetObjectVersionAcl", arn(b, "obj"))],
                                       lambda s3: s3.get_object_acl(Bucket=b, Key="obj", VersionId=self.old)),
            "PutObject": ([("s3:PutObject", arn(b, "put"))],
                          lambda s3: s3.put_object(Bucket=b, Key="put", Body=b"put")),
            "CopyObject": ([("s3:PutObject", arn(b, "copy")), ("s3:GetObject", arn(src, "src"))],
                           lambda s3: s3.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": src, "Key": "src"})),
            "CopyObject (version)": (
                [("s3:PutObject", arn(b, "copy-v")), ("s3:GetObjectVersion", arn(src, "src"))],
                lambda s3: s3.copy_object(Bucket=b, Key="copy-v", CopySource={
                    "Bucket": src, "Key": "src", "VersionId": self.source_old})),
            "CreateMultipartUpload": ([("s3:PutObject", arn(b, "mp-new"))],
                                      lambda s3: s3.create_multipart_upload(Bucket=b, Key="mp-new")),
            "UploadPart": ([("s3:PutObject", arn(b, "mp-part"))], lambda s3: s3.upload_part(
                Bucket=b, Key="mp-part", UploadId=up["mp-part"], PartNumber=1, Body=b"part")),
            "UploadPartCopy": (
                [("s3:PutObject", arn(b, "mp-copy")), ("s3:GetObject", arn(src, "src"))],
                lambda s3: s3.upload_part_copy(Bucket=b, Key="mp-copy", UploadId=up["mp-copy"], PartNumber=1,
                                               CopySource={"Bucket": src, "Key": "src"})),
            "UploadPartCopy (version)": (
                [("s3:PutObject", arn(b, "mp-copy-v")), ("s3:GetObjectVersion", arn(src, "src"))],
                lambda s3: s3.upload_part_copy(Bucket=b, Key="mp-copy-v", UploadId=up["mp-copy-v"], PartNumber=1,
                                               CopySource={"Bucket": src, "Key": "src", "VersionId": self.source_old})),
            "ListParts": ([("s3:ListMultipartUploadParts", arn(b, "mp-list"))],
                          lambda s3: s3.list_parts(Bucket=b, Key="mp-list", UploadId=up["mp-list"])),
            "ListMultipartUploads": ([("s3:ListBucketMultipartUploads", arn(b))],
                                     lambda s3: s3.list_multipart_uploads(Bucket=b)),
            "CompleteMultipartUpload": ([("s3:PutObject", arn(b, "mp-done"))], lambda s3: s3.complete_multipart_upload(
                Bucket=b, Key="mp-done", UploadId=up["mp-done"],
                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": self.etag}]})),
            "AbortMultipartUpload": ([("s3:AbortMultipartUpload", arn(b, "mp-abort"))],
                                     lambda s3: s3.abort_multipart_upload(Bucket=b, Key="mp-abort",
                                                                          UploadId=up["mp-abort"])),
            "DeleteObject": ([("s3:DeleteObject", arn(b, "del"))], lambda s3: s3.delete_object(Bucket=b, Key="del")),
            "DeleteObject (version)": ([("s3:DeleteObjectVersion", arn(b, "del-v"))], lambda s3: s3.delete_object(
                Bucket=b, Key="del-v", VersionId=self.del_version)),
            "DeleteObjects": ([("s3:DeleteObject", [arn(b, "batch/1"), arn(b, "batch/2")])],
                              lambda s3: delete_batch(s3, b, [{"Key": "batch/1"}, {"Key": "batch/2"}])),
            "DeleteObjects (version)": ([("s3:DeleteObjectVersion", arn(b, "vbatch"))], lambda s3: delete_batch(
                s3, b, [{"Key": "vbatch", "VersionId": self.batch_version}])),
            "GetBucketPolicy": ([("s3:GetBucketPolicy", arn(self.policied))],
                                lambda s3: s3.get_bucket_policy(Bucket=self.policied)),
            "GetBucketPolicyStatus": ([("s3:GetBucketPolicyStatus", arn(self.policied))],
                                      lambda s3: s3.get_bucket_policy_status(Bucket=self.policied)),
            "PutBucketPolicy": ([("s3:PutBucketPolicy", arn(self.policied))], lambda s3: s3.put_bucket_policy(
                Bucket=self.policied, Policy=self.bucket_policy)),
            "DeleteBucketPolicy": ([("s3:DeleteBucketPolicy", arn(self.policied))],
                                   lambda s3: s3.delete_bucket_policy(Bucket=self.policied)),
            "DeleteBucket": ([("s3:DeleteBucket", arn(self.doomed))], lambda s3: s3.delete_bucket(Bucket=self.doomed)),
        }

    @staticmethod
    def entries(name):
        return {"DeleteObjects": 2, "DeleteObjects (version)": 1}.get(name)

    def snapshot(self, root):
        """Everything a wrongly allowed call would change."""
        s3, b = root.s3, self.bucket

        def versions(bucket):
            listing = s3.list_object_versions(Bucket=bucket)
            return sorted((v["Key"], v["VersionId"], v["IsLatest"], v.get("ETag")) for v in
                          listing.get("Versions", []) + listing.get("DeleteMarkers", []))
        uploads = sorted((u["Key"], u["UploadId"]) for u in s3.list_multipart_uploads(Bucket=b).get("Uploads", []))
        return {
            "buckets": sorted(x["Name"] for x in s3.list_buckets()["Buckets"] if x["Name"].startswith(self.tag)),
            "main": versions(b),
            "source": versions(self.source),
            "uploads": uploads,
            "parts": {key: [(p["PartNumber"], p["ETag"]) for p in
                            s3.list_parts(Bucket=b, Key=key, UploadId=upload).get("Parts", [])]
                      for key, upload in uploads},
            "versioning": s3.get_bucket_versioning(Bucket=b).get("Status"),
            "policy": s3.get_bucket_policy(Bucket=self.policied)["Policy"],
        }


def tag():
    return f"az{uuid.uuid4().hex[:8]}"


# --- 1. Nothing without a policy; exactly the tabled actions allow each operation ----------------------


def test_no_policy_user_and_anonymous_are_refused_every_operation(server, root):
    world = World(root, tag())
    nobody = new_user(root, f"nobody-{world.tag}")
    unsigned = anonymous(server.endpoint)
    table = world.operations()
    before = world.snapshot(root)
    for who, s3 in [("no-policy user", nobody.s3), ("anonymous", unsigned)]:
        seen = {name: outcome(lambda: call(s3)) for name, (_, call) in table.items()}
        want = {name: refusal(name, World.entries(name)) for name in table}
        assert seen == want, who
    assert world.snapshot(root) == before  # nothing happened


def test_exactly_the_tabled_actions_allow_each_operation(server, root):
    world = World(root, tag())
    user = new_user(root, f"permitted-{world.tag}")
    table = world.operations()
    seen, want = {}, {}
    for name, (statements, call) in table.items():
        refused = refusal(name, World.entries(name))
        # Everything but the operation's actions: refused (the server asks for no other action).
        root.iam.put_user_policy(UserName=user.name, PolicyName="Exactly", PolicyDocument=statement_policy(
            {"Effect": "Allow", "NotAction": actions_of(statements), "Resource": "*"}))
        seen[f"{name}: all but its actions"] = outcome(lambda: call(user.s3))
        want[f"{name}: all but its actions"] = refused
        # Each needed statement is needed: without one of them (copy: the target's or the source's), refused.
        if len(statements) > 1:
            for index in range(len(statements)):
                root.iam.put_user_policy(UserName=user.name, PolicyName="Exactly",
                                         PolicyDocument=allow(*(statements[:index] + statements[index + 1:])))
                seen[f"{name}: without {statements[index]}"] = outcome(lambda: call(user.s3))
                want[f"{name}: without {statements[index]}"] = refused
        # Exactly its actions, on exactly its resources: allowed.
        root.iam.put_user_policy(UserName=user.name, PolicyName="Exactly", PolicyDocument=allow(*statements))
        seen[name] = outcome(lambda: call(user.s3))
        want[name] = DONE
    assert seen == want
    # The allowed calls did their work.
    s3, b = root.s3, world.bucket
    names = [x["Name"] for x in s3.list_buckets()["Buckets"]]
    assert world.created in names and world.doomed not in names
    assert s3.get_object(Bucket=b, Key="copy")["Body"].read() == b"source two"
    assert s3.get_object(Bucket=b, Key="copy-v")["Body"].read() == b"source one"
    assert s3.get_object(Bucket=b, Key="mp-done")["Body"].read() == b"last part"
    assert s3.get_object(Bucket=b, Key="put")["Body"].read() == b"put"
    assert sorted(u["Key"] for u in s3.list_multipart_uploads(Bucket=b)["Uploads"]) == \
        ["mp-copy", "mp-copy-v", "mp-list", "mp-new", "mp-part"]
    remaining = s3.list_object_versions(Bucket=b)
    assert not any(v["VersionId"] in (world.del_version, world.batch_version) for v in remaining["Versions"])
    assert {m["Key"] for m in remaining.get("DeleteMarkers", [])} == {"del", "batch/1", "batch/2"}
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_policy(Bucket=world.policied)
    assert excinfo.value.response["Error"]["Code"] == "NoSuchBucketPolicy"


# --- 2. Both read paths, and presigned URLs ------------------------------------------------------------


def in_place_reads(server):
    text = requests.get(server.endpoint + "/metrics", timeout=10).text
    line = next(x for x in text.splitlines() if x.startswith("coffer_in_place_reads_total "))
    return float(line.split()[1])


def test_both_read_paths_and_presigned_urls_are_authorized(server, root):
    bucket = f"{tag()}-read"
    root.s3.create_bucket(Bucket=bucket)
    root.s3.put_object(Bucket=bucket, Key="small", Body=SMALL)
    root.s3.put_object(Bucket=bucket, Key="large", Body=LARGE)
    reader = new_user(root, f"reader-{bucket}")
    unsigned = anonymous(server.endpoint)

    def reads(s3):
        return {f"{verb} {key}": outcome(lambda: (s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                                                  if verb == "GET" else s3.head_object(Bucket=bucket, Key=key)))
                for key in ["small", "large"] for verb in ["GET", "HEAD"]}

    refused = {"GET small": REFUSED, "HEAD small": HEAD_REFUSED, "GET large": REFUSED, "HEAD large": HEAD_REFUSED}
    allowed = {name: DONE for name in refused}
    counted = in_place_reads(server)
    assert reads(reader.s3) == refused
    assert reads(unsigned) == refused
    assert in_place_reads(server) == counted  # a refusal is never answered in place

    # Presigned by a user with no policy: refused, on the in-place path's object as on the other.
    for key in ["small", "large"]:
        url = reader.s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
        response = requests.get(url, timeout=10)
        assert response.status_code == 403, (key, response.status_code, response.text)
        assert "<Code>AccessDenied</Code>" in response.text, response.text
        assert SMALL not in response.content
        head = requests.head(reader.s3.generate_presigned_url(
            "head_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300), timeout=10)
        assert head.status_code == 403, (key, head.status_code)
    assert in_place_reads(server) == counted

    # s3:GetObject on the bucket's objects: both paths answer, the small GET in place.
    root.iam.put_user_policy(UserName=reader.name, PolicyName="Read",
                             PolicyDocument=allow(("s3:GetObject", arn(bucket, "*"))))
    assert reads(reader.s3) == allowed
    assert reader.s3.get_object(Bucket=bucket, Key="small")["Body"].read() == SMALL
    assert reader.s3.get_object(Bucket=bucket, Key="large")["Body"].read() == LARGE
    assert in_place_reads(server) > counted
    counted = in_place_reads(server)
    assert reader.s3.get_object(Bucket=bucket, Key="large")["Body"].read() == LARGE
    assert in_place_reads(server) == counted  # the 1 MiB body is not in the row: general path
    url = reader.s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "small"}, ExpiresIn=300)
    response = requests.get(url, timeout=10)
    assert (response.status_code, response.content) == (200, SMALL)
    assert reads(unsigned) == refused  # the user's policy grants the anonymous caller nothing

    # Anonymous callers only where a bucket policy allows Principal "*".
    root.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": arn(bucket, "*")}]}))
    counted = in_place_reads(server)
    assert reads(unsigned) == allowed
    assert unsigned.get_object(Bucket=bucket, Key="small")["Body"].read() == SMALL
    assert unsigned.get_object(Bucket=bucket, Key="large")["Body"].read() == LARGE
    assert in_place_reads(server) > counted
    refused_list = outcome(lambda: unsigned.list_objects_v2(Bucket=bucket))
    assert refused_list == REFUSED  # GetObject only
    root.s3.delete_bucket_policy(Bucket=bucket)
    assert reads(unsigned) == refused


# --- 3. A revocation through one process applies at once in another -------------------------------------


def test_revocation_through_one_process_applies_at_once_in_another(server, root):
    bucket = f"{tag()}-live"
    root.s3.create_bucket(Bucket=bucket)
    root.s3.put_object(Bucket=bucket, Key="small", Body=SMALL)
    root.s3.put_object(Bucket=bucket, Key="large", Body=LARGE)
    first = root
    second = Server(data=server.data).start()
    try:
        reader = new_user(first, f"live-{bucket}", endpoint=second.endpoint)
        read_policy = allow(("s3:GetObject", arn(bucket, "*")))

        def read(key, verb="GET"):
            s3 = reader.s3
            return outcome(lambda: s3.get_object(Bucket=bucket, Key=key)["Body"].read() if verb == "GET"
                           else s3.head_object(Bucket=bucket, Key=key))

        def warm():
            # Several reads, fresh connections too, so every thread of the second process has
            # decided (and cached) the allowing answer.
            for _ in range(3):
                assert [read("small"), read("large"), read("small", "HEAD")] == [DONE] * 3
            for _ in range(3):
                fresh = Caller(second.endpoint, reader.access, reader.secret).s3
                assert fresh.get_object(Bucket=bucket, Key="small")["Body"].read() == SMALL

        # An inline policy deleted through the first process.
        first.iam.put_user_policy(UserName=reader.name, PolicyName="Read", PolicyDocument=read_policy)
        warm()
        first.iam.delete_user_policy(UserName=reader.name, PolicyName="Read")
        assert read("small") == REFUSED
        assert read("large") == REFUSED
        assert read("small", "HEAD") == HEAD_REFUSED

        # A managed policy detached through the first process.
        policy_arn = first.iam.create_policy(PolicyName=f"Read-{bucket}", PolicyDocument=read_policy)["Policy"]["Arn"]
        first.iam.attach_user_policy(UserName=reader.name, PolicyArn=policy_arn)
        warm()
        first.iam.detach_user_policy(UserName=reader.name, PolicyArn=policy_arn)
        assert read("small") == REFUSED
        assert read("large") == REFUSED

        # A managed policy's new default version, set through the first process.
        first.iam.attach_user_policy(UserName=reader.name, PolicyArn=policy_arn)
        warm()
        first.iam.create_policy_version(PolicyArn=policy_arn, SetAsDefault=True,
                                        PolicyDocument=allow(("s3:ListBucket", arn(bucket))))
        assert read("small") == REFUSED
        first.iam.detach_user_policy(UserName=reader.name, PolicyArn=policy_arn)

        # A bucket policy Deny added through the first process, then removed.
        first.iam.put_user_policy(UserName=reader.name, PolicyName="Read", PolicyDocument=read_policy)
        warm()
        first.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Principal": {"AWS": reader.arn}, "Action": "s3:GetObject",
            "Resource": arn(bucket, "*")}]}))
        assert read("small") == REFUSED
        assert read("large") == REFUSED
        assert read("small", "HEAD") == HEAD_REFUSED
        first.s3.delete_bucket_policy(Bucket=bucket)
        assert read("small") == DONE

        # A public-read bucket policy removed through the first process: anonymous reads stop at once.
        unsigned = anonymous(second.endpoint)
        first.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": arn(bucket, "*")}]}))
        for _ in range(3):
            assert unsigned.get_object(Bucket=bucket, Key="small")["Body"].read() == SMALL
        first.s3.delete_bucket_policy(Bucket=bucket)
        assert outcome(lambda: unsigned.get_object(Bucket=bucket, Key="small")) == REFUSED
        assert outcome(lambda: unsigned.get_object(Bucket=bucket, Key="large")) == REFUSED
    finally:
        second.stop()


# --- 4. The table names every routed operation ----------------------------------------------------------


def test_the_table_names_every_routed_operation():
    source = open(os.path.join(os.path.dirname(__file__), "..", "..", "Sources", "CofferCore", "MFAGate.swift")).read()
    routed = set(re.findall(r'case \w+ = "(\w+)"', source))
    here = open(__file__).read()
    missing = sorted(name for name in routed if f'"{name}": (' not in here)
    assert routed and not missing, f"operations without an entry in the table: {missing}"
