"""The bucket pages of issue 20 §2, in headless Chromium: emptying and deleting a bucket.

Emptying is DeleteObjects, 1,000 versions and delete markers a request, as the API does it. On a
bucket with MFA Delete each request needs its own code (a code works once), so emptying more than
1,000 asks for a code per 1,000: tested here on 1,051."""
import boto3
from botocore.config import Config

from conftest import ACCESS_KEY, SECRET_KEY
from console_browser import Authenticator, Console, console_server, screenshot_folder

ROOT_PASSWORD = "Bucket-Pages-Root-Pass-1!"


def clients(server):
    kwargs = dict(endpoint_url=server.endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                  region_name="us-east-1", config=Config(retries={"total_max_attempts": 1}))
    return boto3.client("iam", **kwargs), boto3.client("s3", **kwargs)


def test_emptying_an_mfa_delete_bucket_takes_a_code_per_thousand_then_it_can_be_deleted():
    server = console_server(ROOT_PASSWORD)
    root = Console(server.console, screenshot_folder())
    try:
        iam, s3 = clients(server)
        created = iam.create_virtual_mfa_device(VirtualMFADeviceName="root-phone")["VirtualMFADevice"]
        serial, phone = created["SerialNumber"], Authenticator(created["Base32StringSeed"].decode())
        first, second = phone.pair()
        iam.enable_mfa_device(UserName="root", SerialNumber=serial, AuthenticationCode1=first, AuthenticationCode2=second)
        root.sign_in_root(ROOT_PASSWORD)
        root.enter_code(phone.next())
        assert root.path() == "/home", root.error()

        bucket = "history"
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, MFA=f"{serial} {phone.next()}",
                                 VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
        for n in range(1050):
            s3.put_object(Bucket=bucket, Key=f"log/{n % 40:02d}.txt", Body=f"entry {n}".encode())
        s3.delete_object(Bucket=bucket, Key="log/00.txt")  # a delete marker: 1,051 in all

        # Deleting it now: refused in words, with the way forward.
        root.open(f"/buckets/{bucket}")
        root.fill("#confirm-bucket", bucket)
        root.click("#delete-bucket")
        assert "Empty it first" in root.error()

        root.click("#empty-link")
        assert "1,051 versions and delete markers" in root.text("#empty-count")
        assert "own code" in root.text("#per-batch") and "about 2 codes" in root.text("#per-batch")
        root.shot("confirm-empty-bucket")
        # A wrong code deletes nothing.
        root.fill("#mfa-code-empty", "000000")
        root.fill("#confirm-empty", "permanently delete")
        root.click("#empty-button")
        assert "Nothing was deleted" in root.error(), root.error()
        assert "1,051" in root.text("#empty-count")

        assert not root.finds("#confirm-empty")  # typed once: a retry with another code carries the words on
        root.fill("#mfa-code-empty", phone.next())
        root.click("#empty-button")
        assert "1,000 versions and delete markers were permanently deleted" in root.notice(), root.error()
        assert "51 versions" in root.text("#empty-count")
        assert not root.finds("#confirm-empty")  # the words were typed once for this emptying
        listed = s3.list_object_versions(Bucket=bucket)
        assert len(listed.get("Versions", [])) + len(listed.get("DeleteMarkers", [])) == 51
        # The next 51 need the next code; the one just used is refused (each code works once).
        root.fill("#mfa-code-empty", phone.code_at(phone.seed, phone.last * 30))
        root.click("#empty-button")
        assert "used already" in root.error(), root.error()
        root.fill("#mfa-code-empty", phone.next())
        root.click("#empty-button")
        assert "The bucket is empty" in root.notice(), root.error()
        assert root.finds("#empty-state")
        assert "Versions" not in s3.list_object_versions(Bucket=bucket)

        root.open(f"/buckets/{bucket}")
        root.fill("#confirm-bucket", bucket.upper())
        root.click("#delete-bucket")
        assert "type the bucket's name" in root.error()
        root.fill("#confirm-bucket", bucket)
        root.click("#delete-bucket")
        assert root.path().startswith("/buckets?") and "deleted" in root.notice(), root.error()
        assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    finally:
        root.close()
        server.stop()


def test_emptying_without_mfa_delete_takes_one_confirmation():
    server = console_server(ROOT_PASSWORD)
    root = Console(server.console, screenshot_folder())
    try:
        _, s3 = clients(server)
        s3.create_bucket(Bucket="scratch")
        s3.put_bucket_versioning(Bucket="scratch", VersioningConfiguration={"Status": "Enabled"})
        for n in range(1200):
            s3.put_object(Bucket="scratch", Key=f"k{n % 3}", Body=b"x")
        root.sign_in_root(ROOT_PASSWORD)
        root.open("/buckets/scratch/empty")
        assert not root.finds("#mfa-code-empty")
        root.fill("#confirm-empty", "permanently")
        root.click("#empty-button")
        assert "permanently delete" in root.error()
        assert len(s3.list_object_versions(Bucket="scratch")["Versions"]) == 1000  # a page: nothing deleted
        root.fill("#confirm-empty", "permanently delete")
        root.click("#empty-button")
        assert "1,200 versions" in root.notice() and "The bucket is empty" in root.notice(), root.error()
        root.open("/buckets/scratch")
        root.fill("#confirm-bucket", "scratch")
        root.click("#delete-bucket")
        assert "deleted" in root.notice(), root.error()
    finally:
        root.close()
        server.stop()
