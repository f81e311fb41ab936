"""A presigned URL fetched again and again (a page's images, a shared link): every change that could
alter its outcome applies at the very next use — a key made inactive or deleted, a policy detached,
the clock passing its expiry — and a request that differs in any byte (a tampered signature, an
added unsigned x-amz-* header) is refused. (Each use is verified afresh: the verified-URL cache of
earlier builds is gone; these tests pin the behaviour it had to keep.)
"""
import time
import uuid

import boto3
import requests
from botocore.config import Config
from conftest import ACCESS_KEY, SECRET_KEY


def user_client(server, iam, policy="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"):
    name = f"reader-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    iam.attach_user_policy(UserName=name, PolicyArn=policy)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    s3 = boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=key["AccessKeyId"],
                      aws_secret_access_key=key["SecretAccessKey"], region_name="us-east-1",
                      config=Config(signature_version="s3v4", retries={"total_max_attempts": 1}))
    return name, key["AccessKeyId"], s3


def iam_client(server):
    return boto3.client("iam", endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)


def sigv4(server):
    return boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                        region_name="us-east-1", config=Config(signature_version="s3v4"))


def fetch(url, **headers):
    return requests.get(url, headers=headers, timeout=10)


def test_a_remembered_url_follows_key_and_policy_changes_at_once(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"cached")
    iam = iam_client(server)
    name, access_key, reader = user_client(server, iam)
    url = reader.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=600)
    for _ in range(3):
        answer = fetch(url)
        assert (answer.status_code, answer.content) == (200, b"cached")

    iam.update_access_key(UserName=name, AccessKeyId=access_key, Status="Inactive")
    answer = fetch(url)
    assert answer.status_code == 403 and b"InvalidAccessKeyId" in answer.content
    iam.update_access_key(UserName=name, AccessKeyId=access_key, Status="Active")
    assert fetch(url).status_code == 200

    iam.detach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    answer = fetch(url)
    assert answer.status_code == 403 and b"AccessDenied" in answer.content

    iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    assert fetch(url).status_code == 200
    iam.delete_access_key(UserName=name, AccessKeyId=access_key)
    answer = fetch(url)
    assert answer.status_code == 403 and b"InvalidAccessKeyId" in answer.content


def test_a_remembered_url_still_expires(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="short", Body=b"briefly")
    url = sigv4(server).generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "short"}, ExpiresIn=2)
    assert "X-Amz-Signature=" in url
    assert fetch(url).status_code == 200
    assert fetch(url).status_code == 200
    time.sleep(3.2)
    answer = fetch(url)
    assert answer.status_code == 403 and b"Request has expired" in answer.content


def test_any_other_byte_is_checked_afresh(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"cached")
    signer = sigv4(server)
    url = signer.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=600)
    assert fetch(url).status_code == 200
    assert fetch(url).status_code == 200
    # An unsigned x-amz-* header added to a remembered URL: refused, as it is on a URL never used.
    fresh = signer.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=599)
    first = fetch(fresh, **{"x-amz-meta-added": "1"})
    answer = fetch(url, **{"x-amz-meta-added": "1"})
    assert answer.status_code == first.status_code == 403
    assert answer.content.split(b"<Message>")[0] == first.content.split(b"<Message>")[0]
    # The signature with one digit changed.
    signature = url.rsplit("X-Amz-Signature=", 1)[1][:64]
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    answer = fetch(url.replace(signature, flipped))
    assert answer.status_code == 403 and b"SignatureDoesNotMatch" in answer.content
    assert fetch(url).status_code == 200
