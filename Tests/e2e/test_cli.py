"""The aws cli (s3api and s3) against Coffer, with the keys a user would export."""
import json
import os
import uuid


def test_s3api_commands_end_to_end(server, tmp_path):
    bucket = f"cli-{uuid.uuid4().hex[:8]}"
    cli = server.cli
    cli("s3api", "create-bucket", "--bucket", bucket)
    assert bucket in cli("s3api", "list-buckets", "--query", "Buckets[].Name", "--output", "text")[1]
    cli("s3api", "head-bucket", "--bucket", bucket)
    cli("s3api", "get-bucket-location", "--bucket", bucket)
    cli("s3api", "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Enabled")
    status = json.loads(cli("s3api", "get-bucket-versioning", "--bucket", bucket)[1])
    assert status["Status"] == "Enabled"
    source = tmp_path / "file with spaces.txt"
    source.write_bytes(b"cli body\n")
    v1 = json.loads(cli("s3api", "put-object", "--bucket", bucket, "--key", "docs/ü +%.txt", "--body", str(source),
                        "--metadata", "team=blue")[1])["VersionId"]
    v2 = json.loads(cli("s3api", "put-object", "--bucket", bucket, "--key", "docs/ü +%.txt", "--body",
                        str(source))[1])["VersionId"]
    out = tmp_path / "out.txt"
    head = json.loads(cli("s3api", "get-object", "--bucket", bucket, "--key", "docs/ü +%.txt", "--version-id", v1,
                          str(out))[1])
    assert out.read_bytes() == b"cli body\n" and head["Metadata"] == {"team": "blue"}
    cli("s3api", "head-object", "--bucket", bucket, "--key", "docs/ü +%.txt")
    listed = json.loads(cli("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "docs/")[1])
    assert [o["Key"] for o in listed["Contents"]] == ["docs/ü +%.txt"]
    json.loads(cli("s3api", "list-objects", "--bucket", bucket)[1])
    marker = json.loads(cli("s3api", "delete-object", "--bucket", bucket, "--key", "docs/ü +%.txt")[1])
    assert marker["DeleteMarker"] is True
    versions = json.loads(cli("s3api", "list-object-versions", "--bucket", bucket)[1])
    assert {v["VersionId"] for v in versions["Versions"]} == {v1, v2}
    cli("s3api", "get-bucket-acl", "--bucket", bucket)
    deleted = json.loads(cli("s3api", "delete-objects", "--bucket", bucket, "--delete", json.dumps(
        {"Objects": [{"Key": "docs/ü +%.txt", "VersionId": v} for v in (v1, v2, marker["VersionId"])]}))[1])
    assert len(deleted["Deleted"]) == 3
    cli("s3api", "delete-bucket", "--bucket", bucket)
    code, _, err = cli("s3api", "head-bucket", "--bucket", bucket, check=False)
    assert code != 0 and "404" in err


def test_s3_high_level_commands(server, tmp_path):
    bucket = f"cli-s3-{uuid.uuid4().hex[:8]}"
    cli = server.cli
    cli("s3", "mb", f"s3://{bucket}")
    folder = tmp_path / "tree"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("b")
    cli("s3", "cp", str(folder / "a.txt"), f"s3://{bucket}/a.txt")
    cli("s3", "sync", str(folder), f"s3://{bucket}/synced")
    listing = cli("s3", "ls", f"s3://{bucket}", "--recursive")[1]
    assert "synced/sub/b.txt" in listing and "a.txt" in listing
    cli("s3", "cp", f"s3://{bucket}/synced/sub/b.txt", str(tmp_path / "b-copy.txt"))
    assert (tmp_path / "b-copy.txt").read_text() == "b"
    cli("s3", "rm", f"s3://{bucket}", "--recursive")
    cli("s3", "rb", f"s3://{bucket}")
