"""A full disk, on a small loop-mounted ext4 file system (tmpfs refuses O_DIRECT, so it must be a real
block file system): uploads that do not fit fail with a clean 507 and leave nothing behind, what was
stored reads back byte-exact, reads and deletes keep working, and writes resume once space is freed.
Needs root for the loop mount; skipped, with the reason, where the sandbox cannot loop-mount."""
import glob
import os
import shutil
import sqlite3
import subprocess

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from conftest import ACCESS_KEY, SECRET_KEY, Server

MiB = 1024 * 1024


@pytest.fixture
def small_fs(tmp_path):
    """A 64 MiB ext4 file system on a loop device; unmounted and deleted afterwards, even on failure."""
    if os.geteuid() != 0:
        pytest.skip("a loop mount needs root")
    for tool in ("mkfs.ext4", "mount", "umount"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is missing (scripts/setup-test-deps installs e2fsprogs and mount)")
    image, mountpoint = tmp_path / "fs.img", tmp_path / "mnt"
    mountpoint.mkdir()
    try:
        with open(image, "wb") as file:
            file.truncate(64 * MiB)
        subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", "-b", "4096", str(image)], check=True, capture_output=True)
        mounted = subprocess.run(["mount", "-o", "loop", str(image), str(mountpoint)], capture_output=True, text=True)
        if mounted.returncode != 0:
            pytest.skip(f"cannot loop-mount an ext4 image here: {mounted.stderr.strip()}")
        try:
            yield mountpoint
        finally:
            if subprocess.run(["umount", str(mountpoint)], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True)
    finally:
        image.unlink(missing_ok=True)


@pytest.fixture
def full_server(small_fs):
    """`coffer serve` with its data folder on the small file system; stopped before it is unmounted."""
    server = Server(data=str(small_fs / "data")).start()
    yield server
    server.stop()


def client(server):
    # Never retried: one attempt in all (total_max_attempts), so each failure is seen once.
    return boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
                        config=Config(retries={"total_max_attempts": 1}))


def free(path):
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


def fill(mountpoint, leave):
    """A filler file beside (not in) the data folder leaving about `leave` bytes free; with `leave=0`
    it is topped up block by block until the file system refuses."""
    descriptor = os.open(mountpoint / "filler", os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        os.posix_fallocate(descriptor, 0, free(mountpoint) - max(leave, MiB))
        if leave == 0:
            os.lseek(descriptor, 0, os.SEEK_END)
            try:
                while True:
                    os.write(descriptor, bytes(4096))
            except OSError:
                pass
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def unfill(mountpoint):
    os.unlink(mountpoint / "filler")
    os.sync()


def attempt(call, **kwargs):
    """The call's result, or the (HTTP status, S3 error code) of its S3 error document."""
    try:
        return call(**kwargs)
    except ClientError as error:
        answer = (error.response["ResponseMetadata"]["HTTPStatusCode"], error.response["Error"]["Code"])
        print(f"disk full: {call.__name__} {kwargs.get('Key', '')} -> {answer}")
        return answer


def failure(call, **kwargs):
    answer = attempt(call, **kwargs)
    assert isinstance(answer, tuple), f"{call.__name__} {kwargs.get('Key')} succeeded"
    return answer


def versions(s3, bucket, key=None):
    listing = s3.list_object_versions(Bucket=bucket, **({"Prefix": key} if key else {}))
    entries = listing.get("Versions", []) + listing.get("DeleteMarkers", [])
    return {(entry["Key"], entry["VersionId"]) for entry in entries if key in (None, entry["Key"])}


def read(s3, bucket, key, version_id=None):
    return s3.get_object(Bucket=bucket, Key=key, **({"VersionId": version_id} if version_id else {}))["Body"].read()


def check_intact(server, s3, bucket, stored):
    """The server is up, every remembered version reads back byte-exact, and the listing has them all."""
    assert requests.get(server.endpoint + "/health", timeout=10).text == "ok\n"
    for (key, version_id), body in stored.items():
        assert read(s3, bucket, key, version_id) == body, key
    assert set(stored) <= versions(s3, bucket)


def no_leftovers(server):
    """No partial upload is left in the temporary folders."""
    assert glob.glob(os.path.join(server.data, "tmp", "*", "*")) == []


def integrity_check(server):
    server.stop()
    with sqlite3.connect(os.path.join(server.data, "coffer.sqlite")) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def setup_bucket(server, bucket):
    """A versioned bucket with small (inline) and medium (blob file) objects: {(key, version): bytes}."""
    s3 = client(server)
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    stored = {}
    for key, size in [("small-a", 1000), ("small-b", 40_000), ("medium-a", 300_000), ("medium-b", 2 * MiB),
                      ("victim", 5000)]:
        body = os.urandom(size)
        stored[(key, s3.put_object(Bucket=bucket, Key=key, Body=body)["VersionId"])] = body
    return s3, stored


def test_full_disk_refuses_uploads_cleanly_and_recovers(full_server, small_fs):
    s3, stored = setup_bucket(full_server, "full")
    fill(small_fs, leave=10 * MiB)

    # Large PUTs until one does not fit: a clean 507, nothing partial left, no new version.
    big, bigs = os.urandom(4 * MiB), []
    for index in range(20):
        before = free(small_fs)
        answer = attempt(s3.put_object, Bucket="full", Key=f"big-{index}", Body=big)
        if isinstance(answer, tuple):
            break
        bigs.append(answer["VersionId"])
    else:
        pytest.fail("the disk never filled up")
    assert answer == (507, "InsufficientStorage")
    assert versions(s3, "full", f"big-{index}") == set()
    assert failure(s3.get_object, Bucket="full", Key=f"big-{index}") == (404, "NoSuchKey")
    assert free(small_fs) > before - MiB, "the refused upload's bytes were not given back"
    no_leftovers(full_server)
    stored.update({(f"big-{i}", version_id): big for i, version_id in enumerate(bigs)})

    # Overwriting a key with something that does not fit keeps the previous version current.
    victim = next(k for k in stored if k[0] == "victim")
    assert failure(s3.put_object, Bucket="full", Key="victim", Body=big) == (507, "InsufficientStorage")
    assert versions(s3, "full", "victim") == {victim}
    assert read(s3, "full", "victim") == stored[victim]
    check_intact(full_server, s3, "full", stored)

    # A multipart part that does not fit: 507, and the upload has no part.
    upload = s3.create_multipart_upload(Bucket="full", Key="multi")["UploadId"]
    part1 = os.urandom(6 * MiB)
    assert failure(s3.upload_part, Bucket="full", Key="multi", UploadId=upload, PartNumber=1,
                   Body=part1) == (507, "InsufficientStorage")
    assert s3.list_parts(Bucket="full", Key="multi", UploadId=upload).get("Parts", []) == []
    no_leftovers(full_server)

    # Deletes while full: a delete marker (a small database write), a permanent delete that frees space.
    assert s3.delete_object(Bucket="full", Key="small-a")["DeleteMarker"]
    assert failure(s3.get_object, Bucket="full", Key="small-a") == (404, "NoSuchKey")
    before = free(small_fs)
    s3.delete_object(Bucket="full", Key="big-0", VersionId=bigs[0])
    del stored[("big-0", bigs[0])]
    os.sync()
    assert free(small_fs) >= before + 3 * MiB
    check_intact(full_server, s3, "full", stored)

    # Writes resume in the freed space, and fully once the filler is gone.
    after = os.urandom(3 * MiB)
    stored[("after-delete", s3.put_object(Bucket="full", Key="after-delete", Body=after)["VersionId"])] = after
    unfill(small_fs)
    part2 = os.urandom(MiB)
    etags = [s3.upload_part(Bucket="full", Key="multi", UploadId=upload, PartNumber=number, Body=body)["ETag"]
             for number, body in [(1, part1), (2, part2)]]
    done = s3.complete_multipart_upload(Bucket="full", Key="multi", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": number, "ETag": etag} for number, etag in zip((1, 2), etags)]})
    stored[("multi", done["VersionId"])] = part1 + part2
    stored[("victim", s3.put_object(Bucket="full", Key="victim", Body=big)["VersionId"])] = big
    check_intact(full_server, s3, "full", stored)

    # The database is sound and everything survives a restart.
    integrity_check(full_server)
    full_server.start()
    check_intact(full_server, s3, "full", stored)


@pytest.fixture
def db_full(full_server, small_fs):
    """The disk filled to the last block: neither blob files nor the database's WAL can grow."""
    s3, stored = setup_bucket(full_server, "db-full")
    fill(small_fs, leave=0)
    assert free(small_fs) < 64 * 1024
    return s3, stored


def test_database_writes_on_a_full_disk_fail_cleanly_and_resume(full_server, small_fs, db_full):
    s3, stored = db_full
    # Small (inline) PUTs live in the database only: sooner or later its WAL cannot grow.
    small = os.urandom(48 * 1024)
    for index in range(300):
        answer = attempt(s3.put_object, Bucket="db-full", Key=f"inline-{index}", Body=small)
        if isinstance(answer, tuple):
            break
        stored[(f"inline-{index}", answer["VersionId"])] = small
    else:
        pytest.fail("the database never ran out of space")
    # SQLite's "database or disk is full" is the same condition as a blob's ENOSPC: a clean 507.
    assert answer == (507, "InsufficientStorage")
    assert versions(s3, "db-full", f"inline-{index}") == set()
    # Deletes still commit: the ballast (DATA/ballast) is released for them when nothing else is left.
    marker = s3.delete_object(Bucket="db-full", Key="small-a")
    assert marker["DeleteMarker"] and not os.path.exists(os.path.join(full_server.data, "ballast"))
    assert (("small-a", marker["VersionId"]) in versions(s3, "db-full", "small-a"))
    check_intact(full_server, s3, "db-full", stored)  # every read still works

    unfill(small_fs)
    fresh = os.urandom(48 * 1024)
    stored[("fresh", s3.put_object(Bucket="db-full", Key="fresh", Body=fresh)["VersionId"])] = fresh
    assert s3.delete_object(Bucket="db-full", Key="small-b")["DeleteMarker"]
    check_intact(full_server, s3, "db-full", stored)
    integrity_check(full_server)


def test_a_full_database_answers_507(db_full):
    s3, _ = db_full
    assert failure(s3.put_object, Bucket="db-full", Key="tiny", Body=b"x") == (507, "InsufficientStorage")


def test_a_permanent_delete_frees_space_on_a_completely_full_disk(small_fs, db_full):
    s3, stored = db_full
    key, version_id = next(k for k in stored if k[0] == "medium-b")
    before = free(small_fs)
    s3.delete_object(Bucket="db-full", Key=key, VersionId=version_id)
    os.sync()
    assert free(small_fs) >= before + MiB
