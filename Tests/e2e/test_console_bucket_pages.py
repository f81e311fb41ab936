"""The bucket pages of issue 20 §2, in headless Chromium: emptying and deleting a bucket, the
object page, finding and paging, the Public badge, creation options.

Emptying is DeleteObjects, 1,000 versions and delete markers a request, as the API does it. On a
bucket with MFA Delete each request needs its own code (a code works once), so emptying more than
1,000 asks for a code per 1,000: tested here on 1,051."""
import urllib.error

import boto3
import pytest
from botocore.config import Config

from conftest import ACCESS_KEY, SECRET_KEY
from console_browser import Authenticator, Console, console_server, screenshot_folder

ROOT_PASSWORD = "Bucket-Pages-Root-Pass-1!"


def clients(server):
    kwargs = dict(endpoint_url=server.endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                  region_name="us-east-1", config=Config(retries={"total_max_attempts": 1}))
    return boto3.client("iam", **kwargs), boto3.client("s3", **kwargs)


def root_phone(iam):
    """A virtual MFA device enabled for the root: its serial and an authenticator for its codes."""
    created = iam.create_virtual_mfa_device(VirtualMFADeviceName="root-phone")["VirtualMFADevice"]
    serial, phone = created["SerialNumber"], Authenticator(created["Base32StringSeed"].decode())
    first, second = phone.pair()
    iam.enable_mfa_device(UserName="root", SerialNumber=serial, AuthenticationCode1=first, AuthenticationCode2=second)
    return serial, phone


def test_emptying_an_mfa_delete_bucket_takes_a_code_per_thousand_then_it_can_be_deleted():
    server = console_server(ROOT_PASSWORD)
    root = Console(server.console, screenshot_folder())
    try:
        iam, s3 = clients(server)
        serial, phone = root_phone(iam)
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


def png_bytes(width=3, height=2):
    """A real PNG: RGB pixels, zlib-compressed rows."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + b"\xff\x80\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_the_object_page_previews_safely_and_shares_with_temporary_credentials():
    """The object page (issue 20 §2): overview (S3 URI, size, ETag, type, metadata), its
    versions, a preview of text and of PNG/JPEG/GIF/WebP images only (sandboxed, never sniffed:
    SVG, HTML and a PNG that is not one get none), and a presigned link signed with temporary
    credentials of the session — never a long-term key — expiring within 12 h and the session."""
    import urllib.parse
    import urllib.request
    from console_browser import get

    server = console_server(ROOT_PASSWORD)
    viewer = Console(server.console, screenshot_folder())
    root = Console(server.console, screenshot_folder())
    try:
        iam, s3 = clients(server)
        bucket = "object-pages"
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_object(Bucket=bucket, Key="notes/readme.txt", Body=b"first words", ContentType="text/plain")
        etag = s3.put_object(Bucket=bucket, Key="notes/readme.txt", Body=b"Hello <b>reader</b>\nsecond line\n",
                             ContentType="text/plain", Metadata={"team": "storage"})["ETag"].strip('"')
        s3.put_object(Bucket=bucket, Key="img/pixel.png", Body=png_bytes(), ContentType="image/png")
        s3.put_object(Bucket=bucket, Key="img/evil.svg", ContentType="image/svg+xml",
                      Body=b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
        s3.put_object(Bucket=bucket, Key="img/fake.png", ContentType="image/png", Body=b"<html><script>alert(1)</script></html>")
        iam.create_user(UserName="viewer")
        iam.create_login_profile(UserName="viewer", Password="Viewer-First-Pass-1", PasswordResetRequired=False)
        iam.attach_user_policy(UserName="viewer", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")

        viewer.sign_in_user(server.account, "viewer", "Viewer-First-Pass-1")
        viewer.open(f"/buckets/{bucket}/objects?prefix=notes/")
        viewer.press(next(a for a in viewer.finds("#objects a") if a.text == "readme.txt"))
        assert viewer.text("#object-key") == "notes/readme.txt"
        assert viewer.text("#s3-uri") == f"s3://{bucket}/notes/readme.txt"
        assert viewer.text("#etag") == etag
        facts = viewer.text("#object-facts")
        assert "32 bytes" in facts and "text/plain" in facts
        assert "storage" in viewer.text("#metadata")
        assert viewer.text("#text-preview") == "Hello <b>reader</b>\nsecond line"
        assert len(viewer.finds("#object-versions tbody tr")) == 2
        viewer.driver.execute_cdp_cmd("Browser.grantPermissions", {
            "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"], "origin": server.console})
        viewer.find("#copy-uri").click()
        viewer.wait.until(lambda _: viewer.find("#copy-uri").text == "Copied")
        assert viewer.driver.execute_async_script(
            "navigator.clipboard.readText().then(arguments[0])") == f"s3://{bucket}/notes/readme.txt"

        # A presigned link: temporary credentials of this session, 15 minutes.
        viewer.find("#presign-minutes option[value='15']").click()
        viewer.click("#presign")
        url = viewer.find("#presigned-url").get_attribute("href")
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        assert query["X-Amz-Credential"][0].startswith("ASIA") and ACCESS_KEY not in url
        assert int(query["X-Amz-Expires"][0]) <= 900 and query["X-Amz-Security-Token"][0]
        with urllib.request.urlopen(url, timeout=10) as answer:  # no cookie: the link alone
            assert answer.read() == b"Hello <b>reader</b>\nsecond line\n"
        viewer.shot("object-page")

        # Images: a real PNG is shown; SVG and a "PNG" that is HTML are not.
        viewer.open(f"/buckets/{bucket}/object?key=img/pixel.png")
        viewer.wait.until(lambda _: viewer.driver.execute_script(
            "const i = document.getElementById('image-preview'); return i && i.complete && i.naturalWidth === 3"))
        cookie = f"coffer_session={viewer.session_cookie()}"
        for key in ("img/evil.svg", "img/fake.png"):
            viewer.open(f"/buckets/{bucket}/object?key={key}")
            assert not viewer.finds("#image-preview") and not viewer.finds("#text-preview"), key
            assert get(server.console, f"/buckets/{bucket}/preview?key={urllib.parse.quote(key)}", cookie=cookie)[0] == 415
        status, body, headers = get(server.console, f"/buckets/{bucket}/preview?key=notes/readme.txt", cookie=cookie)
        assert status == 200 and headers["Content-Type"] == "text/plain; charset=utf-8"
        assert headers["Content-Security-Policy"].startswith("sandbox") and headers["X-Content-Type-Options"] == "nosniff"
        # A read-only user is offered no write forms here either: only the link, which reads.
        assert not viewer.finds("#delete-objects")
    finally:
        viewer.close()
    try:
        # The root's link: its session lasts an hour, so 12 hours are cut to what is left of it.
        root.sign_in_root(ROOT_PASSWORD)
        root.open(f"/buckets/{bucket}/object?key=notes/readme.txt")
        root.find("#presign-minutes option[value='720']").click()
        root.click("#presign")
        url = root.find("#presigned-url").get_attribute("href")
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        assert query["X-Amz-Credential"][0].startswith("ASIA") and ACCESS_KEY not in url
        assert 3500 <= int(query["X-Amz-Expires"][0]) <= 3600
        with urllib.request.urlopen(url, timeout=10) as answer:
            assert answer.status == 200
        tampered = url.replace("X-Amz-Expires=", "X-Amz-Expires=1")
        try:
            urllib.request.urlopen(tampered, timeout=10)
            raise AssertionError("a tampered link was accepted")
        except urllib.error.HTTPError as error:
            assert error.code == 403
    finally:
        root.close()
        server.stop()


def test_find_by_prefix_and_page_back_and_forth_with_counts():
    """A prefix search box and previous/next paging with counts (issue 20 §2)."""
    server = console_server(ROOT_PASSWORD)
    root = Console(server.console, screenshot_folder())
    try:
        _, s3 = clients(server)
        s3.create_bucket(Bucket="many")
        for n in range(230):
            s3.put_object(Bucket="many", Key=f"logs/day-{n:03d}.txt", Body=b"x")
        for name in ("data-a.csv", "data-b.csv", "readme.md"):
            s3.put_object(Bucket="many", Key=name, Body=b"y")
        root.sign_in_root(ROOT_PASSWORD)
        root.open("/buckets/many/objects")
        root.fill("#find", "data")
        root.click("#find-button")
        names = [row.text.split("\n")[0] for row in root.finds("#objects tbody tr")]
        assert [n.split(" ")[0] for n in names] == ["data-a.csv", "data-b.csv"], names
        assert root.text("#page-range") == "Showing 1–2"

        root.open("/buckets/many/objects?prefix=logs/")
        assert root.text("#page-range") == "Showing 1–100 (page 1)"
        assert not root.finds("#previous-page")
        root.click("#next-page")
        assert root.text("#page-range") == "Showing 101–200 (page 2)"
        assert "day-100.txt" in root.text("#objects")
        root.click("#next-page")
        assert root.text("#page-range") == "Showing 201–230 (page 3)" and not root.finds("#next-page")
        root.click("#previous-page")
        assert root.text("#page-range") == "Showing 101–200 (page 2)" and "day-100.txt" in root.text("#objects")
        root.click("#previous-page")
        assert root.text("#page-range") == "Showing 1–100 (page 1)" and "day-000.txt" in root.text("#objects")
        # Within a folder, the search looks in that folder.
        root.fill("#find", "day-22")
        root.click("#find-button")
        assert len(root.finds("#objects tbody tr")) == 10 and root.text("#page-range") == "Showing 1–10"
    finally:
        root.close()
        server.stop()


def test_a_public_policy_is_warned_about_and_badged():
    """A "Public" badge, and a warning before a bucket policy makes a bucket public — Coffer has
    no Block Public Access, and the page says so (issue 20 §2)."""
    import json
    import urllib.request
    server = console_server(ROOT_PASSWORD)
    root = Console(server.console, screenshot_folder())
    try:
        _, s3 = clients(server)
        s3.create_bucket(Bucket="website")
        s3.put_object(Bucket="website", Key="index.html", Body=b"hello")
        public = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::website/*"}]})
        root.sign_in_root(ROOT_PASSWORD)
        root.open("/buckets/website")
        assert "no Block Public Access" in root.text("#no-bpa") and not root.finds("#public-badge")
        root.fill("#policy-text", public)
        root.click("#save-policy")
        assert "makes the bucket public" in root.text("#public-warning")
        assert root.find("#policy-text").get_attribute("value") == public
        with pytest.raises(Exception):
            s3.get_bucket_policy(Bucket="website")  # nothing saved yet
        root.shot("public-policy-warning")
        root.click("#save-public")
        assert root.text("#public-badge") == "Public", root.error()
        with urllib.request.urlopen(f"{server.endpoint}/website/index.html", timeout=10) as answer:
            assert answer.read() == b"hello"  # anonymous, as the policy says
        root.open("/buckets")
        assert "Public" in next(row.text for row in root.finds("#buckets tbody tr") if "website" in row.text)
    finally:
        root.close()
        server.stop()


def test_a_bucket_is_created_with_versioning_and_mfa_delete_whole_or_not_at_all():
    """Bucket creation options (issue 20 §2): versioning, and for the root MFA Delete with a code;
    a refused code leaves no bucket behind."""
    server = console_server(ROOT_PASSWORD)
    root = Console(server.console, screenshot_folder())
    try:
        iam, s3 = clients(server)
        serial, phone = root_phone(iam)
        root.sign_in_root(ROOT_PASSWORD)
        root.enter_code(phone.next())
        root.open("/buckets")
        root.fill("#bucket-name", "versioned-one")
        root.find("#new-versioning-on").click()
        root.click("#create-bucket")
        assert s3.get_bucket_versioning(Bucket="versioned-one")["Status"] == "Enabled", root.error()

        root.open("/buckets")
        root.fill("#bucket-name", "guarded")
        root.find("#new-versioning-on").click()
        root.find("#new-mfa-delete").click()
        root.fill("#mfa-code-create", "000000")
        root.click("#create-bucket")
        assert "not created" in root.error() and "not accepted" in root.error(), root.error()
        assert "guarded" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
        assert root.find("#bucket-name").get_attribute("value") == "guarded"  # what was typed stays
        assert root.find("#new-mfa-delete").is_selected()
        root.fill("#mfa-code-create", phone.next())
        root.click("#create-bucket")
        versioning = s3.get_bucket_versioning(Bucket="guarded")
        assert versioning["Status"] == "Enabled" and versioning["MFADelete"] == "Enabled", root.error()
    finally:
        root.close()
        server.stop()
