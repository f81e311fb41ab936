"""SMS text-message MFA devices (issue 22), end to end: a real `coffer serve` sending codes to a
webhook receiver on loopback (checking each request's HMAC signature) or to an outbox folder, real
Chromium for the wizard and the sign-in, boto3 for what the API must refuse. Time is moved, not
waited for: the server's registry clock reads an offset from a file the tests write (debug builds
only), so a code's expiry and an hour of send limits take seconds."""
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, COFFER, SECRET_KEY, free_port
from console_browser import Console, console_server, emulate_width, fits, get, screenshot_folder

ROOT_PASSWORD = "Sms-Root-Password-1!"
SECRET = "webhook-secret-for-the-e2e-suite-0123"


class Receiver:
    """An SMS relay on loopback: records each POST whose signature is right; `mode` makes it
    answer 500 or not answer in time."""

    def __init__(self):
        self.messages = []
        self.attempts = 0
        self.bad_signatures = 0
        self.mode = "ok"
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.attempts += 1
                stamp = self.headers.get("X-Coffer-Timestamp", "")
                expected = "v1=" + hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
                fresh = stamp.isdigit() and abs(time.time() - int(stamp)) < 300
                if not (fresh and hmac.compare_digest(expected, self.headers.get("X-Coffer-Signature", ""))):
                    receiver.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                if receiver.mode == "timeout":
                    time.sleep(4)
                    return
                if receiver.mode == "500":
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.messages.append(json.loads(body))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def code(self):
        return re.search(r"\b(\d{6})\b", self.messages[-1]["body"]).group(1)

    def close(self):
        self.server.shutdown()


def start(extra):
    """A console server whose registry clock the test moves (`advance`): a file of milliseconds,
    read by debug builds only (COFFER_TEST_CLOCK_OFFSET_FILE)."""
    clock = tempfile.NamedTemporaryFile(prefix="coffer-clock-", delete=False)
    clock.write(b"0")
    clock.close()
    server = console_server(ROOT_PASSWORD, env={"COFFER_SMS_WEBHOOK_SECRET": SECRET,
                                                "COFFER_TEST_CLOCK_OFFSET_FILE": clock.name},
                            extra_args=["--log-level", "debug", *extra])
    server.clock = clock.name
    return server


def advance(server, seconds):
    """Moves the server's registry clock forward (codes expire, limits pass) without waiting."""
    with open(server.clock) as file:
        offset = int(file.read().strip() or "0")
    with open(server.clock, "w") as file:
        file.write(str(offset + seconds * 1000))


@pytest.fixture(scope="module")
def relay():
    receiver = Receiver()
    server = start(["--sms-webhook", f"http://127.0.0.1:{receiver.port}/sms"])
    server.receiver = receiver
    server.pages = []
    try:
        yield server
    finally:
        server.stop()
        receiver.close()
        shutil.rmtree(server.data, ignore_errors=True)


def iam(server):
    return boto3.client("iam", endpoint_url=server.endpoint, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
                        config=Config(retries={"total_max_attempts": 1}))


def make_user(server, name, self_service=True):
    client = iam(server)
    client.create_user(UserName=name)
    client.create_login_profile(UserName=name, Password=f"{name}-Pass-0001!", PasswordResetRequired=False)
    if self_service:
        arn = f"arn:aws:iam::{server.account}:user/{name}"
        client.put_user_policy(UserName=name, PolicyName="OwnMFA", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["iam:EnableMFADevice", "iam:ListMFADevices",
                                                         "iam:CreateVirtualMFADevice"],
                           "Resource": [arn, f"arn:aws:iam::{server.account}:mfa/{name}"]}]}))
    return f"{name}-Pass-0001!"


def seen(server, browser):
    server.pages.append(browser.driver.page_source)


def test_a_user_assigns_an_sms_device_and_signs_in_with_a_texted_code(relay):
    server, receiver = relay, relay.receiver
    password = make_user(server, "sam")
    user = Console(server.console, screenshot_folder())
    try:
        user.sign_in_user(server.account, "sam", password)
        assert user.path() == "/home", user.error()
        user.open("/security/mfa/new")
        seen(server, user)
        assert not user.finds("#sms-unavailable")
        user.find("#type-sms").click()
        user.fill("#phone", "+44 (20) 7946-0001")
        user.shot("sms-number")
        user.click("#next")
        seen(server, user)
        assert "+••••••••0001" in user.text("#sms-sent-to"), user.error()
        # The relay got one signed message, to the whole number, with the code.
        assert receiver.bad_signatures == 0
        message = receiver.messages[-1]
        assert message["to"] == "+442079460001" and message["purpose"] == "enable"
        assert set(message) == {"id", "to", "body", "purpose", "created"}
        code = receiver.code()
        user.shot("sms-wizard")
        emulate_width(user, 375)
        assert fits(user)
        user.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        # A wrong code says how many tries are left; the wizard stays.
        user.fill("#sms-code", "000000" if code != "000000" else "111111")
        user.click("#add-sms")
        seen(server, user)
        assert "2 tries left" in user.error()
        # Resend at once: a limit, in words.
        user.click("#resend")
        seen(server, user)
        assert "30 seconds" in user.error()
        user.fill("#sms-code", code)
        user.click("#add-sms")
        assert user.path() == "/security?done=mfa-assigned", user.error()
        seen(server, user)
        assert "SMS to +••••••••0001" in user.driver.page_source
        user.shot("sms-assigned")
        user.sign_out()

        # Sign-in: the password, then the code texted at once (the only device is this phone).
        advance(server, 31)  # the per-user and per-number gap since the last send
        before = len(receiver.messages)
        user.sign_in_user(server.account, "sam", password)
        assert user.path() == "/signin/mfa?done=sms-sent", user.path()
        seen(server, user)
        assert "sent to your phone" in user.notice()
        assert len(receiver.messages) == before + 1 and receiver.messages[-1]["purpose"] == "sign-in"
        user.shot("sms-sign-in")
        emulate_width(user, 375)
        assert fits(user)
        user.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        user.enter_code(receiver.code())
        assert user.path() == "/home", user.error()
        # The code worked once: signed out and in again, the old code is refused.
        old = receiver.code()
        user.sign_out()
        user.sign_in_user(server.account, "sam", password)
        assert user.path().startswith("/signin/mfa")  # limited now (30 s), said on the page
        assert "moments ago" in user.notice()
        user.enter_code(old)
        seen(server, user)
        assert "No code is waiting" in user.error()
    finally:
        user.close()


def test_a_code_expires_after_5_minutes_and_a_user_gets_10_codes_an_hour(relay):
    """Time moved by the test (the server's registry clock), not waited for."""
    server, receiver = relay, relay.receiver
    password = make_user(server, "ula")
    user = Console(server.console, screenshot_folder())
    try:
        user.sign_in_user(server.account, "ula", password)
        user.open("/security/mfa/new")
        user.find("#type-sms").click()
        user.fill("#phone", "+1 555 010 0020")
        user.click("#next")
        code = receiver.code()
        advance(server, 301)
        user.fill("#sms-code", code)
        user.click("#add-sms")
        assert "expired" in user.error(), user.error()
        # Nine more sends, each past the 30-second gap: ten in the hour, and the eleventh refused.
        for _ in range(9):
            advance(server, 31)
            user.click("#resend")
            assert "new code was sent" in user.notice(), user.error()
        advance(server, 31)
        user.click("#resend")
        assert "last hour" in user.error(), user.error()
        # An hour on, the unfinished wizard has lapsed (its sealed number is not kept for ever):
        # started again, a new code comes, and works.
        advance(server, 3600)
        user.click("#resend")
        assert "start again" in user.error(), user.error()
        user.open("/security/mfa/new")
        user.find("#type-sms").click()
        user.fill("#phone", "+1 555 010 0020")
        user.click("#next")
        assert "+•••••••0020" in user.text("#sms-sent-to"), user.error()
        user.fill("#sms-code", receiver.code())
        user.click("#add-sms")
        assert user.path() == "/security?done=mfa-assigned", user.error()
    finally:
        user.close()


def test_the_api_refuses_an_sms_serial_for_session_tokens_and_mfa_delete(relay):
    server = relay
    client = iam(server)
    serial = [d["SerialNumber"] for d in client.list_mfa_devices(UserName="sam")["MFADevices"]]
    assert len(serial) == 1 and ":sms-mfa/sam/" in serial[0]
    serial = serial[0]
    key = client.create_access_key(UserName="sam")["AccessKey"]
    sts = boto3.client("sts", endpoint_url=server.endpoint, aws_access_key_id=key["AccessKeyId"],
                       aws_secret_access_key=key["SecretAccessKey"], region_name="us-east-1",
                       config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(ClientError) as refused:
        sts.get_session_token(SerialNumber=serial, TokenCode="123456")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert "SMS device" in refused.value.response["Error"]["Message"]
    # MFA Delete (x-amz-mfa): the serial is refused for what it is.
    s3 = server.client()
    s3.create_bucket(Bucket="sms-mfa-delete")
    with pytest.raises(ClientError) as refused:
        s3.put_bucket_versioning(Bucket="sms-mfa-delete", MFA=f"{serial} 123456",
                                 VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert "SMS device" in refused.value.response["Error"]["Message"]
    # EnableMFADevice through the API: in words, not "wrong code".
    with pytest.raises(ClientError) as refused:
        client.resync_mfa_device(UserName="sam", SerialNumber=serial, AuthenticationCode1="123456",
                                 AuthenticationCode2="654321")
    assert "SMS device" in refused.value.response["Error"]["Message"]


def test_an_administrator_assigns_one_and_the_root_cannot_have_one(relay):
    server, receiver = relay, relay.receiver
    make_user(server, "tia", self_service=False)
    root = Console(server.console, screenshot_folder())
    try:
        root.sign_in_root(ROOT_PASSWORD)
        root.open("/security/mfa/new")
        seen(server, root)
        assert "root user cannot use SMS" in root.text("#sms-unavailable")
        assert not root.find("#type-sms").is_enabled()
        root.open("/users/tia")
        root.fill("#user-phone", "+1 555 010 0002")
        root.click("#assign-sms")
        seen(server, root)
        assert "+•••••••0002" in root.text("#sms-sent-to") and "tia" in root.driver.page_source
        # Three wrong tries void the code: the right one no longer works; a new one must be sent.
        code = receiver.code()
        wrong = "000000" if code != "000000" else "111111"
        for expected in ("2 tries left", "1 try left", "no longer works"):
            root.fill("#sms-code", wrong)
            root.click("#add-sms")
            assert expected in root.error(), root.error()
        root.fill("#sms-code", code)
        root.click("#add-sms")
        assert "No code is waiting" in root.error()
        advance(server, 31)
        root.click("#resend")
        assert "new code was sent" in root.notice(), root.error()
        root.fill("#sms-code", receiver.code())
        root.click("#add-sms")
        assert root.path() == "/users/tia?done=sms-assigned", root.error()
        seen(server, root)
        assert "SMS to +•••••••0002" in root.driver.page_source
        # The same number for another user: the number's own limit (30 s across users).
        make_user(server, "uma", self_service=False)
        root.open("/users/uma")
        root.fill("#user-phone", "+15550100002")
        root.click("#assign-sms")
        seen(server, root)
        assert "this phone number" in root.error()
        # Deactivating deletes it (a new number is a new device).
        root.open("/users/tia")
        root.click("#deactivate-0")
        root.fill("#confirm-word", "deactivate")
        root.click("#confirm-button")
        assert "done=device-deactivated" in root.path(), root.error()
        assert iam(server).list_mfa_devices(UserName="tia")["MFADevices"] == []
        root.open("/audit")
        seen(server, root)
    finally:
        root.close()


def test_a_failing_webhook_is_told_in_words_within_10_seconds_and_audited(relay):
    server, receiver = relay, relay.receiver
    password = make_user(server, "vic", self_service=False)
    root = Console(server.console, screenshot_folder())
    try:
        root.sign_in_root(ROOT_PASSWORD)
        root.open("/users/vic")
        root.fill("#user-phone", "+15550100003")
        root.click("#assign-sms")
        root.fill("#sms-code", receiver.code())
        root.click("#add-sms")
        assert root.path() == "/users/vic?done=sms-assigned", root.error()
    finally:
        root.close()
    advance(server, 31)
    user = Console(server.console, screenshot_folder())
    try:
        for mode, attempts in (("500", 3), ("timeout", 3)):
            receiver.mode = mode
            before = receiver.attempts
            started = time.time()
            user.sign_in_user(server.account, "vic", password)
            elapsed = time.time() - started
            assert user.path() == "/signin/mfa?done=sms-not-sent", user.path()
            assert "could not send" in user.notice()
            assert elapsed < 10.5, elapsed
            assert receiver.attempts - before == attempts  # retried, and bounded
            user.click(".send-sms")  # a failed send still counts: the limit answers in words
            assert "30 seconds" in user.error()
            user.sign_out()
            advance(server, 31)
        receiver.mode = "ok"
    finally:
        receiver.mode = "ok"
        user.close()
    failed = [row for row in audit_rows(server) if "could not be sent" in row]
    assert len(failed) == 2 and any("answered 500" in row for row in failed) and any("in time" in row for row in failed)
    metrics = get(server.endpoint, "/metrics")[1]
    assert re.search(r'coffer_sms_sends_total\{outcome="failed"\} [2-9]', metrics), metrics
    assert re.search(r'coffer_sms_sends_total\{outcome="sent"\} \d', metrics)
    assert re.search(r'coffer_sms_sends_total\{outcome="limited"\} \d', metrics)


def audit_rows(server):
    result = subprocess.run([COFFER, "admin", "audit", "--data", server.data], capture_output=True,
                            text=True, env=server.env)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_no_whole_number_in_any_page_log_audit_row_or_answer(relay):
    server = relay
    numbers = ["442079460001", "5550100002", "5550100003"]
    texts = list(server.pages)
    texts += audit_rows(server)
    devices = subprocess.run([COFFER, "admin", "devices", "--data", server.data], capture_output=True, text=True,
                             env=server.env)
    texts.append(devices.stdout)
    # `coffer admin users`: each user's password, device kinds and keys, never a secret or a number.
    users = subprocess.run([COFFER, "admin", "users", "--data", server.data], capture_output=True, text=True,
                           env=server.env)
    assert users.returncode == 0, users.stderr
    sam = [line.split("\t") for line in users.stdout.splitlines() if line.startswith("sam\t")]
    assert sam and sam[0][3:] == ["yes", "sms", "1"], users.stdout
    texts.append(users.stdout)
    client = iam(server)
    texts.append(json.dumps(client.list_mfa_devices(UserName="sam"), default=str))
    client.generate_credential_report()
    texts.append(client.get_credential_report()["Content"].decode())
    server.stop()
    texts.append(server.output.decode(errors="replace"))  # every log line, at debug level
    assert len(texts) > 10
    for text in texts:
        for number in numbers:
            assert number not in re.sub(r"[\s().-]", "", text), text[:2000]


@pytest.fixture(scope="module")
def outbox_server(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("outbox"))
    server = start(["--sms-outbox", folder, "--sms-per-minute", "2"])
    server.outbox = folder
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.data, ignore_errors=True)


def test_the_outbox_holds_one_private_file_per_message_and_the_global_cap_holds(outbox_server):
    server = outbox_server
    for name in ("wes", "xia", "yul"):
        make_user(server, name, self_service=False)
    root = Console(server.console, screenshot_folder())
    try:
        root.sign_in_root(ROOT_PASSWORD)
        for index, name in enumerate(("wes", "xia")):
            root.open(f"/users/{name}")
            root.fill("#user-phone", f"+1555010010{index}")
            root.click("#assign-sms")
            assert root.finds("#sms-sent-to"), root.error()
        # The third message this minute, to anyone: refused in words (429), nothing written.
        root.open("/users/yul")
        root.fill("#user-phone", "+15550100109")
        root.click("#assign-sms")
        assert "this minute" in root.error()
    finally:
        root.close()
    files = sorted(os.listdir(server.outbox))
    assert len(files) == 2
    for name in files:
        assert os.stat(os.path.join(server.outbox, name)).st_mode & 0o777 == 0o600
    assert os.stat(server.outbox).st_mode & 0o777 == 0o700
    listed = subprocess.run([COFFER, "admin", "sms-outbox", "--outbox", server.outbox], capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 3 and "+•••••••0101" in lines[1] and "+•••••••0100" in lines[2]
    assert re.search(r"\b\d{6}\b is your verification code", lines[1])
    assert "5550100101" not in listed.stdout
