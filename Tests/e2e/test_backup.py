"""coffer admin backup (online, consistent, under write load) and coffer admin verify [--deep]."""
import glob
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading

import pytest
from conftest import COFFER, Server

MiB = 1024 * 1024


def admin(*args, env=None):
    return subprocess.run([COFFER, "admin", *args], capture_output=True, text=True, env=env, timeout=300)


def blob_files(data):
    return sorted(glob.glob(os.path.join(data, "blobs", "*", "*")))


@pytest.fixture
def loaded():
    """A server with inline, blob-file, multipart and copied objects: (server, {(key, version): sha256})."""
    server = Server().start()
    s3 = server.client()
    s3.create_bucket(Bucket="vault")
    s3.put_bucket_versioning(Bucket="vault", VersioningConfiguration={"Status": "Enabled"})
    stored = {}
    for key, size in [("small", 1000), ("medium", 300_000), ("large", 3 * MiB), ("small", 2000)]:
        body = os.urandom(size)
        stored[(key, s3.put_object(Bucket="vault", Key=key, Body=body)["VersionId"])] = hashlib.sha256(body).hexdigest()
    upload = s3.create_multipart_upload(Bucket="vault", Key="multi")["UploadId"]
    parts = [os.urandom(5 * MiB), os.urandom(100_000)]
    etags = [s3.upload_part(Bucket="vault", Key="multi", UploadId=upload, PartNumber=n + 1, Body=b)["ETag"]
             for n, b in enumerate(parts)]
    done = s3.complete_multipart_upload(Bucket="vault", Key="multi", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": n + 1, "ETag": e} for n, e in enumerate(etags)]})
    stored[("multi", done["VersionId"])] = hashlib.sha256(b"".join(parts)).hexdigest()
    copy = s3.copy_object(Bucket="vault", Key="copy", CopySource={"Bucket": "vault", "Key": "large"})
    stored[("copy", copy["VersionId"])] = stored[next(k for k in stored if k[0] == "large")]
    yield server, stored
    server.stop()
    shutil.rmtree(server.data, ignore_errors=True)


def test_backup_under_write_load_serves_from_the_copy(loaded):
    server, stored = loaded
    s3 = server.client()
    stop = threading.Event()
    written = []

    def load():
        index = 0
        while not stop.is_set():
            body = os.urandom(100_000 if index % 2 else 500)
            s3.put_object(Bucket="vault", Key=f"load-{index}", Body=body)
            written.append(index)
            index += 1

    writer = threading.Thread(target=load)
    writer.start()
    destination = tempfile.mkdtemp(prefix="coffer-backup-") + "/copy"
    try:
        result = admin("backup", "--data", server.data, "--include-master-key", destination, env=server.env)
    finally:
        stop.set()
        writer.join()
    assert result.returncode == 0, result.stderr
    assert "with the master key" in result.stdout and len(written) > 0
    assert os.stat(os.path.join(destination, "master.key")).st_mode & 0o777 == 0o600
    check = admin("verify", "--data", destination, "--deep")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "0 damaged, 0 orphan" in check.stdout

    copy = Server(data=destination).start()
    try:
        c3 = copy.client()
        for (key, version), digest in stored.items():
            body = c3.get_object(Bucket="vault", Key=key, VersionId=version)["Body"].read()
            assert hashlib.sha256(body).hexdigest() == digest, key
        listing = c3.list_object_versions(Bucket="vault")["Versions"]
        for entry in listing:  # whatever the copy lists, it can serve whole
            got = c3.get_object(Bucket="vault", Key=entry["Key"], VersionId=entry["VersionId"])
            assert len(got["Body"].read()) == entry["Size"]
    finally:
        copy.stop()
        shutil.rmtree(os.path.dirname(destination), ignore_errors=True)


def test_backup_leaves_the_master_key_out_unless_asked(loaded):
    server, _ = loaded
    destination = tempfile.mkdtemp(prefix="coffer-backup-")
    try:
        result = admin("backup", "--data", server.data, destination, env=server.env)
        assert result.returncode == 0, result.stderr
        assert not os.path.exists(os.path.join(destination, "master.key"))
        assert "not included" in result.stdout
        again = admin("backup", "--data", server.data, destination, env=server.env)
        assert again.returncode != 0 and "not empty" in again.stderr
    finally:
        shutil.rmtree(destination, ignore_errors=True)


def test_verify_finds_missing_short_and_corrupt_blobs_and_orphans(loaded):
    server, _ = loaded
    server.stop()
    assert admin("verify", "--data", server.data, "--deep").returncode == 0
    files = blob_files(server.data)
    assert len(files) >= 4
    # An orphan is listed but is not damage.
    stray = os.path.join(os.path.dirname(files[0]), "stray-orphan-file")
    open(stray, "wb").write(b"x")
    result = admin("verify", "--data", server.data)
    assert result.returncode == 0 and "ORPHAN\tstray-orphan-file" in result.stdout
    # One flipped byte: only --deep sees it.
    victim = max(files, key=os.path.getsize)
    with open(victim, "r+b") as f:
        f.seek(10)
        byte = f.read(1)
        f.seek(10)
        f.write(bytes([byte[0] ^ 0xFF]))
    assert admin("verify", "--data", server.data).returncode == 0
    deep = admin("verify", "--data", server.data, "--deep")
    assert deep.returncode == 1 and "MD5" in deep.stdout
    # A short blob and a missing one: damage without --deep.
    by_size = {os.path.getsize(f): f for f in files}
    with open(by_size[3 * MiB], "r+b") as f:  # "large" (and its copy, which shares the blob)
        f.truncate(1)
    os.remove(by_size[300_000])  # "medium"
    shallow = admin("verify", "--data", server.data)
    assert shallow.returncode == 1
    assert "is missing" in shallow.stdout and "bytes, not" in shallow.stdout
    assert os.path.exists(stray)  # verify changed nothing
