"""The web console in a real browser (headless Chromium via Selenium): the MFA stories of AWS's
console, end to end, against a real `coffer serve --console-port`. Codes come from `coffer totp`;
every page is saved as a screenshot (COFFER_SCREENSHOTS=DIR keeps them; the README's come from here)."""
import hashlib
import os
import re
import subprocess
import uuid

import pytest

from console_browser import Console, get, post, running_console, screenshot_folder

ROOT_PASSWORD = "Root-Console-Pass-1!"


@pytest.fixture(scope="module")
def console_server():
    yield from running_console(ROOT_PASSWORD)


@pytest.fixture(scope="module")
def shots():
    return screenshot_folder()


def test_console_mfa_story(console_server, shots, tmp_path):
    server = console_server
    s3 = server.client()
    root = Console(server.console, shots)
    devices = []
    try:
        # Sign-in page first: a heading and a line saying what Coffer is.
        root.open("/")
        assert root.path() == "/signin"
        assert root.text("h1") == "Sign in to Coffer"
        assert "S3-compatible" in root.text(".lead")
        root.shot("01-sign-in")

        # A wrong password is refused in words; the right one signs the root in (no device yet).
        root.sign_in_root("not-the-password")
        assert "not correct" in root.error()
        root.sign_in_root(ROOT_PASSWORD)
        assert root.path() == "/home"
        assert server.account in root.text("#account-id")
        assert "no MFA device" in root.text("#root-mfa")
        root.shot("02-home-without-mfa")

        # The Assign MFA device wizard: QR code, "show secret key", two consecutive codes.
        root.wizard("root-phone", devices)
        phone = devices[0]
        qr = root.find("#qr")
        assert int(qr.get_attribute("width")) > 100
        root.shot("03-assign-mfa-wizard")
        # The QR code is the seed's otpauth URI, as an authenticator app scans it.
        png = tmp_path / "qr.png"
        import base64
        png.write_bytes(base64.b64decode(qr.get_attribute("src").split(",", 1)[1]))
        scanned = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True).stdout.strip()
        assert scanned == f"otpauth://totp/Coffer:root-phone@{server.account}?secret={phone.seed}&issuer=Coffer"
        root.finish_wizard(phone)
        assert root.path().startswith("/security"), root.error()
        assert "assigned" in root.notice()
        assert "root-phone" in root.text("#mfa-devices")
        root.shot("04-security-credentials")

        # Sign out, sign in again: now a code is asked for.
        root.sign_out()
        root.sign_in_root(ROOT_PASSWORD)
        assert root.path() == "/signin/mfa"
        root.shot("05-mfa-code")
        used = phone.next()
        root.enter_code(used)
        assert root.path() == "/home", root.error()
        assert "has an MFA device" in root.text("#root-mfa")

        # A replayed code is refused (each code is good once, at sign-in or anywhere else).
        root.sign_out()
        root.sign_in_root(ROOT_PASSWORD)
        root.enter_code(used)
        assert root.path() == "/signin/mfa"
        assert "used already" in root.error()
        root.enter_code(phone.next())
        assert root.path() == "/home", root.error()

        # A bucket with versioning, then MFA Delete (a root code, as the API asks).
        bucket = f"console-{uuid.uuid4().hex[:8]}"
        root.open("/buckets")
        root.fill("#bucket-name", bucket)
        root.click("#create-bucket")
        assert root.path().startswith(f"/buckets/{bucket}"), root.error()
        root.find("#status option[value=Enabled]").click()
        root.click("#save-versioning")
        assert root.text("#versioning-state") == "Enabled", root.error()
        root.find("#mfa-delete option[value=Enabled]").click()
        root.click("#save-versioning")
        assert "Mfa Authentication must be used" in root.error()  # no code: refused in the API's words
        root.find("#mfa-delete option[value=Enabled]").click()
        root.fill("#mfa-code-versioning", phone.next())
        root.click("#save-versioning")
        assert root.text("#mfa-delete-state") == "Enabled", root.error()
        versioning = s3.get_bucket_versioning(Bucket=bucket)
        assert versioning["Status"] == "Enabled" and versioning["MFADelete"] == "Enabled"
        root.shot("06-bucket-versioning")

        # Upload 50 MiB through the page: the progress bar reaches 100 % (a multipart upload).
        big = tmp_path / "big.bin"
        block = os.urandom(1 << 20)
        with open(big, "wb") as out:
            for index in range(50):
                out.write(block[:-4] + index.to_bytes(4, "big"))
        root.open(f"/buckets/{bucket}/objects")
        root.find("#upload-file").send_keys(str(big))
        root.find("#upload-button").click()  # the script uploads; the page stays
        root.wait.until(lambda _: root.finds("#upload-done") or "failed" in root.text("#upload-status"))
        assert root.text("#upload-status").startswith("100 %"), root.text("#upload-status")
        assert root.find("#upload-progress").get_attribute("value") == "100"
        root.shot("07-upload-complete")
        head = s3.head_object(Bucket=bucket, Key="big.bin")
        assert head["ContentLength"] == 50 << 20
        assert head["ETag"].endswith('-7"')  # 8 MiB parts
        body = s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read()
        assert hashlib.sha256(body).digest() == hashlib.sha256(big.read_bytes()).digest()

        # A second version and a delete marker (through the API); the versions view shows them all.
        s3.put_object(Bucket=bucket, Key="notes/todo.txt", Body=b"first")
        second = s3.put_object(Bucket=bucket, Key="notes/todo.txt", Body=b"second")["VersionId"]
        first = [v["VersionId"] for v in s3.list_object_versions(Bucket=bucket, Prefix="notes/")["Versions"]
                 if v["VersionId"] != second][0]
        root.open(f"/buckets/{bucket}/objects")
        root.click("table#objects tr.folder a")
        assert "todo.txt" in root.text("#objects")
        root.click("#show-versions")
        table = root.text("#objects")
        assert first in table and second in table
        # Delete (a marker): the versions stay.
        root.click("#hide-versions")
        root.find("input[name=v][value='notes/todo.txt']").click()
        root.fill("#confirm-delete", "delete")
        root.click("#delete-objects")
        assert "Delete markers now hide" in root.notice(), root.error()
        root.click("#show-versions")
        assert "Delete marker" in root.text("#objects")
        assert len(s3.list_object_versions(Bucket=bucket, Prefix="notes/")["Versions"]) == 2

        # A permanent delete: refused without a code, done with one.
        def select(version):
            root.find(f"input[name=v][value='{version} notes/todo.txt']").click()
        select(first)
        root.fill("#confirm-delete", "permanently delete")
        root.click("#delete-versions")
        # In words for people, with AWS's in brackets.
        assert "type the code your MFA device shows now" in root.error()
        assert "Mfa Authentication must be used for this request" in root.error()
        root.shot("08-versions-mfa-prompt")
        # What was selected stays selected after the refusal.
        assert root.find(f"input[name=v][value='{first} notes/todo.txt']").is_selected()
        root.fill("#mfa-code-delete", phone.next())
        root.fill("#confirm-delete", "permanently delete")
        root.click("#delete-versions")
        assert "permanently deleted" in root.notice(), root.error()
        remaining = [v["VersionId"] for v in s3.list_object_versions(Bucket=bucket, Prefix="notes/")["Versions"]]
        assert remaining == [second]
        # The same code again: a replay, refused with the API's words.
        select(second)
        root.fill("#mfa-code-delete", replay(phone))
        root.fill("#confirm-delete", "permanently delete")
        root.click("#delete-versions")
        assert "used already" in root.error() and "wait for the next code" in root.error()
        assert "Mfa Authentication must be used for this request" in root.error()
        assert [v["VersionId"] for v in s3.list_object_versions(Bucket=bucket, Prefix="notes/")["Versions"]] == [second]

        # A request without the CSRF token is refused, and so is a foreign Origin.
        cookie = f"coffer_session={root.session_cookie()}"
        status, body, _ = post(server.console, "/buckets", {"name": "no-csrf-bucket"}, cookie=cookie)
        assert status == 403 and "security token" in body
        csrf = root.find("input[name=_csrf]").get_attribute("value")
        status, _, _ = post(server.console, "/buckets", {"name": "foreign-origin", "_csrf": csrf}, cookie=cookie,
                            headers={"Origin": "https://evil.example"})
        assert status == 403
        names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
        assert "no-csrf-bucket" not in names and "foreign-origin" not in names

        # An IAM user with a console password who must change it at first sign-in.
        root.open("/users")
        root.fill("#new-user", "alice")
        root.fill("#new-password", "Alice-First-Pass-1")
        root.click("#create-user")
        assert root.path().startswith("/users/alice"), root.error()
        root.find("#policy option[value='arn:aws:iam::aws:policy/AdministratorAccess']").click()
        root.click("#attach")
        assert "AdministratorAccess" in root.text("#attached"), root.error()
        root.open("/users")
        root.shot("09-users")
    finally:
        root.shot("zz-root-last")

    alice = Console(server.console, shots)
    try:
        alice.sign_in_user(server.account, "alice", "Alice-First-Pass-1")
        assert alice.path() == "/password", alice.error()
        alice.shot("10-forced-password-change")
        alice.fill("#old", "Alice-First-Pass-1")
        alice.fill("#new", "Alice-Second-Pass-2")
        alice.fill("#confirm", "Alice-Second-Pass-2")
        alice.click("#change-password")
        assert alice.path() == "/home", alice.error()
        # Her device, then sign-in with its code.
        alice.wizard("alice", devices)
        alice_phone = devices[-1]
        alice.finish_wizard(alice_phone)
        assert "assigned" in alice.notice(), alice.error()
        alice.sign_out()
        alice.sign_in_user(server.account, "alice", "Alice-Second-Pass-2")
        alice.enter_code(alice_phone.next())
        assert alice.path() == "/home", alice.error()
        alice_cookie = f"coffer_session={alice.session_cookie()}"
        assert get(server.console, "/home", cookie=alice_cookie)[0] == 200

        # Alice loses her phone: the root deactivates the device; her sessions end with it.
        root.open(f"/users/alice")
        root.click("#deactivate-0")
        root.fill("#confirm-word", "deactivate")
        root.click("#confirm-button")
        assert "deactivated" in root.notice(), root.error()
        assert root.finds("#no-user-mfa")
        status, _, headers = get(server.console, "/home", cookie=alice_cookie)
        assert status == 303 and headers["Location"] == "/signin"
        # She signs in with her password alone and enrols a new device.
        alice.sign_in_user(server.account, "alice", "Alice-Second-Pass-2")
        assert alice.path() == "/home", alice.error()
        alice.wizard("alice", devices)
        new_phone = devices[-1]
        assert new_phone.seed != alice_phone.seed
        alice.finish_wizard(new_phone)
        assert "assigned" in alice.notice(), alice.error()
        alice.sign_out()
        alice.sign_in_user(server.account, "alice", "Alice-Second-Pass-2")
        alice.enter_code(new_phone.next())
        assert alice.path() == "/home", alice.error()
    finally:
        alice.shot("zz-alice-last")
        alice.close()

    try:
        # The audit page: sign-ins, the refused replay, the deactivation, newest first.
        root.open("/audit")
        table = root.text("#audit")
        assert "ConsoleLogin" in table and "DeactivateMFADevice" in table and "EnableMFADevice" in table
        root.shot("11-audit")
        root.fill("#audit-user", "root")
        root.find("#audit-outcome option[value=failed]").click()
        root.click("#filter")
        rows = root.finds("#audit tbody tr")
        assert rows and all("Failed" in row.text and row.get_attribute("class") == "failed" for row in rows)
        assert any("ConsoleLogin" in row.text for row in rows)  # the replayed sign-in code
        metrics = get(server.endpoint, "/metrics")[1]
        assert re.search(r'coffer_console_sign_ins_total\{outcome="success"\} [1-9]', metrics), metrics
        assert re.search(r'coffer_console_sign_ins_total\{outcome="wrongCode"\} [1-9]', metrics)
        assert re.search(r'coffer_console_sign_ins_total\{outcome="wrongPassword"\} [1-9]', metrics)
    finally:
        root.close()


def replay(authenticator):
    """The last code the authenticator gave (a replay)."""
    return authenticator.code_at(authenticator.seed, authenticator.last * 30)
