"""No dead ends in the console (issue 20 §1), in a real browser (headless Chromium): a Sign out
button on every page, the half-signed-in ones included; GET /signout shows that button and never
signs out; a half-done sign-in resumes at `/`; a word after signing out; the current page marked
in the menu; a tab icon instead of a 404; no "every user has MFA" when there are no users."""
import json

import boto3
import pytest
from botocore.config import Config

from conftest import ACCESS_KEY, SECRET_KEY
from console_browser import Authenticator, Console, get, post, running_console, screenshot_folder

ROOT_PASSWORD = "Dead-Ends-Root-Pass-1!"


@pytest.fixture(scope="module")
def console_server():
    yield from running_console(ROOT_PASSWORD)


def iam(server):
    return boto3.client("iam", endpoint_url=server.endpoint, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
                        config=Config(retries={"total_max_attempts": 1}))


def test_sign_out_is_always_in_reach_and_never_happens_by_a_get(console_server):
    server = console_server
    root = Console(server.console, screenshot_folder())
    try:
        root.sign_in_root(ROOT_PASSWORD)
        assert root.path() == "/home"
        # The current page is marked in the menu.
        assert [a.text for a in root.finds("nav a[aria-current='page']")] == ["Home"]
        # No users: no claim that every user has a device.
        assert "no IAM users yet" in root.text("#users-mfa")
        root.open("/buckets")
        assert [a.text for a in root.finds("nav a[aria-current='page']")] == ["Buckets"]

        # GET /signout (a link, an <img>) shows the button and signs nobody out.
        root.open("/signout")
        assert root.path() == "/signout"
        assert root.find("#signout-confirm").text == "Sign out"
        root.open("/home")
        assert root.path() == "/home"
        root.open("/signout")
        root.click("#signout-confirm")
        assert root.path().startswith("/signin")
        assert root.notice() == "You have signed out."
        root.open("/home")
        assert root.path().startswith("/signin")
    finally:
        root.close()


def test_a_user_who_may_not_change_the_required_password_can_still_leave(console_server):
    server = console_server
    client = iam(server)
    client.create_user(UserName="trapped")
    client.create_login_profile(UserName="trapped", Password="Trapped-First-Pass-1", PasswordResetRequired=True)
    client.put_user_policy(UserName="trapped", PolicyName="NoPasswordChange", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "iam:ChangePassword", "Resource": "*"}]}))
    user = Console(server.console, screenshot_folder())
    try:
        user.sign_in_user(server.account, "trapped", "Trapped-First-Pass-1")
        assert user.path() == "/password", user.error()
        # The change is refused by policy, in words, and the page keeps its way out.
        user.fill("#old", "Trapped-First-Pass-1")
        user.fill("#new", "Trapped-Second-Pass-2")
        user.fill("#confirm", "Trapped-Second-Pass-2")
        user.click("#change-password")
        assert user.path() == "/password" and user.error(), user.path()
        assert user.find("#signout").text == "Sign out"
        # A half-done sign-in resumes where it stopped, from `/`.
        user.open("/")
        assert user.path() == "/password"
        user.open("/signout")
        assert user.find("#signout-confirm")
        user.click("#signout")
        assert user.path().startswith("/signin")
        assert user.notice() == "You have signed out."
        user.open("/password")
        assert user.path().startswith("/signin")
    finally:
        user.close()


def test_the_tab_icon_is_served(console_server):
    status, body, headers = get(console_server.console, "/favicon.ico")
    assert status == 200 and headers["Content-Type"] == "image/png"
    raw = urllib_get_bytes(console_server.console + "/favicon.ico")
    assert raw.startswith(b"\x89PNG\r\n\x1a\n") and len(raw) > 60


def urllib_get_bytes(url):
    import urllib.request
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def test_destruction_needs_the_words_typed(console_server):
    """Destruction needs intent (issue 20 §1): a delete marker asks for `delete`, versions for
    `permanently delete`, a user for its name — checked by the server, not only by the form."""
    server = console_server
    s3 = server.client()
    bucket = "intent-bucket"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket=bucket, Key="keep.txt", Body=b"keep")["VersionId"]
    iam(server).create_user(UserName="doomed")
    root = Console(server.console, screenshot_folder())
    try:
        root.sign_in_root(ROOT_PASSWORD)
        cookie = f"coffer_session={root.session_cookie()}"
        root.open(f"/buckets/{bucket}/objects")
        csrf = root.find("input[name=_csrf]").get_attribute("value")
        # Without the words (a forged form, or a script): refused in words, nothing deleted.
        for form in ({"v": "keep.txt"}, {"v": "keep.txt", "confirm": "yes"}):
            status, body, _ = post(server.console, f"/buckets/{bucket}/delete", dict(form, _csrf=csrf), cookie=cookie)
            assert status == 400 and "type \u201cdelete\u201d" in body, (status, body[:300])
        status, body, _ = post(server.console, f"/buckets/{bucket}/delete",
                               {"v": f"{version} keep.txt", "versions": "1", "confirm": "delete", "_csrf": csrf},
                               cookie=cookie)
        assert status == 400 and "permanently delete" in body
        assert [v["VersionId"] for v in s3.list_object_versions(Bucket=bucket)["Versions"]] == [version]
        assert "DeleteMarkers" not in s3.list_object_versions(Bucket=bucket)

        # In the browser: the box names the words; a wrong word keeps the selection and deletes nothing.
        root.open(f"/buckets/{bucket}/objects?versions=1")
        assert "permanently delete" in root.text("label[for=confirm-delete]")
        root.find(f"input[name=v][value='{version} keep.txt']").click()
        root.fill("#confirm-delete", "permanently")
        root.click("#delete-versions")
        assert "permanently delete" in root.error()
        assert root.find(f"input[name=v][value='{version} keep.txt']").is_selected()
        root.shot("confirm-permanent-delete")
        root.fill("#confirm-delete", "permanently delete")
        root.click("#delete-versions")
        assert "permanently deleted" in root.notice(), root.error()
        assert "Versions" not in s3.list_object_versions(Bucket=bucket)

        # A user: its name.
        root.open("/users/doomed")
        root.fill("#confirm-user", "Doomed")
        root.click("#delete-user")
        assert "doomed" in root.error() and root.path().startswith("/users/doomed")
        assert iam(server).get_user(UserName="doomed")["User"]["UserName"] == "doomed"
        root.fill("#confirm-user", "doomed")
        root.click("#delete-user")
        assert root.path().startswith("/users") and "deleted" in root.notice(), root.error()
        with pytest.raises(Exception):
            iam(server).get_user(UserName="doomed")
    finally:
        root.close()


def test_a_user_is_created_whole_or_not_at_all(console_server):
    """No half-made things (issue 20 §1): a password the policy refuses creates nothing; the page
    shows the rules, keeps the typed name (never the password) and the checkbox."""
    server = console_server
    root = Console(server.console, screenshot_folder())
    try:
        root.sign_in_root(ROOT_PASSWORD)
        root.open("/users")
        assert "8 characters" in root.text("#password-rules")
        root.fill("#new-user", "halfmade")
        root.fill("#new-password", "weak")
        root.find("#new-reset").click()  # unchecked
        root.click("#create-user")
        assert "was not created" in root.error() and "8 characters" in root.error(), root.error()
        assert root.find("#new-user").get_attribute("value") == "halfmade"
        assert root.find("#new-password").get_attribute("value") == ""
        assert not root.find("#new-reset").is_selected()
        with pytest.raises(Exception):
            iam(server).get_user(UserName="halfmade")
        root.fill("#new-password", "Whole-User-Pass-1")
        root.click("#create-user")
        assert root.path().startswith("/users/halfmade"), root.error()
        assert iam(server).get_login_profile(UserName="halfmade")["LoginProfile"]["PasswordResetRequired"] is False
    finally:
        root.close()


def test_security_keys_on_an_ip_address_say_to_use_localhost(console_server):
    """Browsers refuse WebAuthn on an IP-address origin ("This is an invalid domain"): the wizard
    says where to go instead, and does not offer what cannot work there."""
    server = console_server
    root = Console(server.console, screenshot_folder())
    try:
        root.sign_in_root(ROOT_PASSWORD)
        root.open("/security/mfa/new")
        port = server.console.rsplit(":", 1)[1]
        link = f"http://localhost:{port}/security/mfa/new"
        assert link in root.text("#keys-need-name")
        assert root.find("#keys-need-name a").get_attribute("href") == link
        assert not root.find("#type-key").is_enabled()
        # Under the name, nothing to warn about.
        cookie = f"coffer_session={root.session_cookie()}"
        status, body, _ = get(f"http://localhost:{port}", "/security/mfa/new", cookie=cookie)
        assert status == 200 and 'id="type-key"' in body and "keys-need-name" not in body
    finally:
        root.close()


def test_a_bucket_says_what_its_versioning_is_and_why_it_looks_empty(console_server):
    """Small things (issue 20 §1): a new bucket's versioning selector says "Not enabled" as its
    header does; a listing whose objects are all behind delete markers says so, not "Nothing here yet"."""
    server = console_server
    s3 = server.client()
    s3.create_bucket(Bucket="plain-new")
    s3.create_bucket(Bucket="all-hidden")
    s3.put_bucket_versioning(Bucket="all-hidden", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="all-hidden", Key="gone.txt", Body=b"x")
    s3.delete_object(Bucket="all-hidden", Key="gone.txt")
    root = Console(server.console, screenshot_folder())
    try:
        root.sign_in_root(ROOT_PASSWORD)
        root.open("/buckets/plain-new")
        assert root.text("#versioning-state") == "Not enabled"
        selected = root.find("#status option:checked")
        assert selected.text == "Not enabled"
        root.open("/buckets/plain-new/objects")
        assert root.text("#empty") == "Nothing here yet."
        root.open("/buckets/all-hidden/objects")
        assert "Delete markers hide every object here" in root.text("#empty")
        root.click("#empty a")
        assert "gone.txt" in root.text("#objects") and "Delete marker" in root.text("#objects")
    finally:
        root.close()


def test_removing_detaching_and_trapping_ask_first(console_server):
    """Destruction needs intent, and a trap is announced (issue 20 §1): deactivating a user's MFA
    device asks for `deactivate`, detaching a policy asks once more, and attaching a policy that
    would leave the user stuck at sign-in warns first. Nothing changes until confirmed."""
    server = console_server
    client = iam(server)
    client.create_user(UserName="keeper")
    client.create_login_profile(UserName="keeper", Password="Keeper-First-Pass-1", PasswordResetRequired=True)
    device = client.create_virtual_mfa_device(VirtualMFADeviceName="keeper-phone")["VirtualMFADevice"]
    phone = Authenticator(device["Base32StringSeed"].decode())
    first, second = phone.pair()
    client.enable_mfa_device(UserName="keeper", SerialNumber=device["SerialNumber"], AuthenticationCode1=first,
                             AuthenticationCode2=second)
    read_only = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    may_change = "arn:aws:iam::aws:policy/IAMUserChangePassword"
    client.attach_user_policy(UserName="keeper", PolicyArn=read_only)
    client.attach_user_policy(UserName="keeper", PolicyArn=may_change)

    def attached():
        return sorted(p["PolicyArn"] for p in client.list_attached_user_policies(UserName="keeper")["AttachedPolicies"])

    def detach_button(name):
        return next(li for li in root.finds("#attached li") if name in li.text).find_element("css selector", "button")
    no_change = client.create_policy(PolicyName="NoPasswordChanges", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "iam:ChangePassword", "Resource": "*"}]}))["Policy"]["Arn"]
    root = Console(server.console, screenshot_folder())
    try:
        root.sign_in_root(ROOT_PASSWORD)
        root.open("/users/keeper")
        root.click("#deactivate-0")
        assert root.path() == "/users/keeper/deactivate-mfa"
        assert device["SerialNumber"] in root.text("#confirmation")
        assert "deactivate" in root.text("label[for=confirm-word]")
        root.shot("confirm-deactivate-mfa")
        root.fill("#confirm-word", "Deactivate")
        root.click("#confirm-button")
        assert "Nothing was changed" in root.error()
        assert len(client.list_mfa_devices(UserName="keeper")["MFADevices"]) == 1
        root.click("#confirm-cancel")
        assert root.path() == "/users/keeper"
        root.click("#deactivate-0")
        root.fill("#confirm-word", "deactivate")
        root.click("#confirm-button")
        assert "deactivated" in root.notice(), root.error()
        assert client.list_mfa_devices(UserName="keeper")["MFADevices"] == []

        # Detach: a confirmation that names the policy; Cancel keeps it.
        root.press(detach_button("AmazonS3ReadOnlyAccess"))
        assert "AmazonS3ReadOnlyAccess" in root.text("#confirmation")
        root.click("#confirm-cancel")
        assert attached() == sorted([read_only, may_change])
        root.press(detach_button("AmazonS3ReadOnlyAccess"))
        root.click("#confirm-button")
        assert attached() == [may_change]

        # A policy that denies the password change keeper must make: a warning first.
        root.find(f"#policy option[value='{no_change}']").click()
        root.click("#attach")
        assert "would trap keeper" in root.text("h1")
        assert "new password" in root.text("#confirmation .warning")
        assert attached() == [may_change]
        root.shot("confirm-trap-warning")
        root.click("#confirm-button")
        assert attached() == sorted([may_change, no_change])
        # A policy that changes nothing there attaches at once (keeper is stuck already: not this policy's doing).
        root.find(f"#policy option[value='{read_only}']").click()
        root.click("#attach")
        assert root.path().startswith("/users/keeper?") and "attached" in root.notice(), root.error()
    finally:
        root.close()


def test_nothing_typed_is_lost(console_server):
    """After a refused save the form shows what was typed, beside the error (issue 20 §1): the
    bucket policy editor, the versioning choices, the MFA wizard's QR code; a name the API's
    pattern refuses is explained in words, not as a regular expression."""
    server = console_server
    s3 = server.client()
    s3.create_bucket(Bucket="typed-bucket")
    client = iam(server)
    client.create_user(UserName="typist")
    client.create_login_profile(UserName="typist", Password="Typist-First-Pass-1", PasswordResetRequired=False)
    client.put_user_policy(UserName="typist", PolicyName="OwnMFA", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice",
                                                     "iam:DeleteVirtualMFADevice", "iam:ListMFADevices"],
                       "Resource": "*"}]}))
    root = Console(server.console, screenshot_folder())
    user = Console(server.console, screenshot_folder())
    try:
        root.sign_in_root(ROOT_PASSWORD)
        root.open("/buckets/typed-bucket")
        broken = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",}]}'
        root.fill("#policy-text", broken)
        root.click("#save-policy")
        assert "not saved" in root.error()
        assert root.find("#policy-text").get_attribute("value") == broken
        # The root has no MFA device: turning MFA Delete on is refused, the choice stays.
        root.find("#status option[value=Enabled]").click()
        root.find("#mfa-delete option[value=Enabled]").click()
        root.click("#save-versioning")
        assert "not saved" in root.error()
        assert root.find("#mfa-delete option[value=Enabled]").is_selected()
        assert root.find("#status option[value=Enabled]").is_selected()

        user.sign_in_user(server.account, "typist", "Typist-First-Pass-1")
        assert user.path() == "/home", user.error()
        # The browser holds the form back (the field's pattern); the server, asked anyway, says it in words.
        user.open("/security/mfa/new")
        csrf = user.find("input[name=_csrf]").get_attribute("value")
        status, body, _ = post(server.console, "/security/mfa/new", {"name": "bad name!", "_csrf": csrf},
                               cookie=f"coffer_session={user.session_cookie()}")
        assert status == 400 and "letters, digits" in body and "regular expression" not in body, (status, body[-600:])
        devices = []
        seed = user.wizard("typist-phone", devices)
        user.fill("#code1", "000000")
        user.fill("#code2", "000001")
        user.click("#add-mfa")
        assert "not valid" in user.error()
        assert user.find("#qr").get_attribute("src").startswith("data:image/png;base64,")
        user.find("#show-secret summary").click()
        assert user.text("#secret-key").strip() == seed
        user.shot("wizard-keeps-qr")
        user.finish_wizard(devices[0])
        assert "assigned" in user.notice(), user.error()
        # Once assigned, the seed is never shown again, even to its owner.
        csrf = user.find("input[name=_csrf]").get_attribute("value")
        status, body, _ = post(server.console, "/security/mfa/enable",
                               {"serial": f"arn:aws:iam::{server.account}:mfa/typist-phone", "code1": "000000",
                                "code2": "000001", "_csrf": csrf}, cookie=f"coffer_session={user.session_cookie()}")
        assert status in (400, 403, 409) and 'id="add-mfa"' in body, (status, body[-400:])
        assert seed not in body and "data:image/png" not in body
    finally:
        root.close()
        user.close()
