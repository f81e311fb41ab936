"""Another process holding the data folder's write lock (issue 21 §3, on the embedded store): past
`--busy-timeout`, a write answers `503 SlowDown` (S3) or `ServiceUnavailable` (IAM) — retryable,
never a 500 — and leaves nothing half-written; reads go on meanwhile, and writes resume once the
lock is released. The lock is a real one: a second SQLite connection in `BEGIN IMMEDIATE`, as
`coffer admin` or a second server would hold it."""
import os
import shutil
import sqlite3
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, SECRET_KEY, Server


def stored_files(server):
    """Blob files, committed or staged."""
    return sum(len(files) for folder in ("blobs", "tmp") for _, _, files in os.walk(os.path.join(server.data, folder)))


@pytest.fixture
def busy_server():
    server = Server(extra_args=["--busy-timeout", "1"]).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.data, ignore_errors=True)


def test_a_write_waiting_past_the_busy_timeout_answers_slow_down_and_writes_nothing(busy_server):
    server = busy_server
    s3 = server.client()
    s3.create_bucket(Bucket="busy")
    s3.put_object(Bucket="busy", Key="before", Body=b"stored before the lock" * 10_000)
    blobs_before = stored_files(server)
    assert blobs_before >= 1
    holder = sqlite3.connect(os.path.join(server.data, "coffer.sqlite"), timeout=0, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        started = time.time()
        with pytest.raises(ClientError) as refused:
            s3.put_object(Bucket="busy", Key="during", Body=b"x" * 200_000)  # past the inline limit: a blob file
        waited = time.time() - started
        assert refused.value.response["Error"]["Code"] == "SlowDown"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert 0.9 < waited < 10, waited
        # IAM writes too, in IAM's words.
        iam = boto3.client("iam", endpoint_url=server.endpoint, aws_access_key_id=ACCESS_KEY,
                           aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
                           config=Config(retries={"total_max_attempts": 1}))
        with pytest.raises(ClientError) as busy:
            iam.create_user(UserName="waiting")
        assert busy.value.response["Error"]["Code"] == "ServiceUnavailable"
        assert busy.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        # Reads go on while the lock is held.
        assert s3.get_object(Bucket="busy", Key="before")["Body"].read() == b"stored before the lock" * 10_000
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # Nothing half-written: no version, no staged or orphaned blob, no user.
    keys = [entry["Key"] for entry in s3.list_object_versions(Bucket="busy").get("Versions", [])]
    assert keys == ["before"]
    blobs_after = stored_files(server)
    assert blobs_after == blobs_before
    # Writes resume once the lock is gone; a client's retry succeeds.
    s3.put_object(Bucket="busy", Key="during", Body=b"x" * 200_000)
    assert s3.head_object(Bucket="busy", Key="during")["ContentLength"] == 200_000
    assert b"internal error" not in server.output
