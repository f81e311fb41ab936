"""No dead ends in the console (issue 20 §1), in a real browser (headless Chromium): a Sign out
button on every page, the half-signed-in ones included; GET /signout shows that button and never
signs out; a half-done sign-in resumes at `/`; a word after signing out; the current page marked
in the menu; a tab icon instead of a 404; no "every user has MFA" when there are no users. And the
rest of §1: confirmations, warnings, nothing typed lost, words, read-only pages, the audit page,
a phone's width."""
import json

import boto3
import pytest
from botocore.config import Config

from conftest import ACCESS_KEY, SECRET_KEY
from console_browser import Authenticator, Console, emulate_width, fits, get, post, running_console, screenshot_folder

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


def test_what_a_reader_may_not_do_is_not_offered(console_server):
    """Read-only users see no write forms (issue 20 §1): no create, upload, delete, versioning,
    policy, access-key or MFA forms for a user whose policy only reads S3; the root sees them all,
    and its own access key (from the server's configuration) is listed instead of a button that
    always failed."""
    server = console_server
    s3 = server.client()
    s3.create_bucket(Bucket="read-only-bucket")
    s3.put_bucket_versioning(Bucket="read-only-bucket", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="read-only-bucket", Key="readme.txt", Body=b"read me")
    client = iam(server)
    client.create_user(UserName="reader")
    client.create_login_profile(UserName="reader", Password="Reader-First-Pass-1", PasswordResetRequired=False)
    client.attach_user_policy(UserName="reader", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    write_forms = ["#create-bucket", "#save-versioning", "#save-policy", "#upload", "#delete-objects",
                   "#delete-versions", "input[name=v]"]
    reader = Console(server.console, screenshot_folder())
    root = Console(server.console, screenshot_folder())
    try:
        reader.sign_in_user(server.account, "reader", "Reader-First-Pass-1")
        assert reader.path() == "/home", reader.error()
        seen = []
        for path in ("/buckets", "/buckets/read-only-bucket", "/buckets/read-only-bucket/objects",
                     "/buckets/read-only-bucket/objects?versions=1", "/security"):
            reader.open(path)
            seen += [(path, selector) for selector in write_forms + ["#create-key", "#assign-mfa"]
                     if reader.finds(selector)]
        assert seen == []
        # What the reader may do is still there: the objects and their download links.
        reader.open("/buckets/read-only-bucket/objects")
        assert "readme.txt" in reader.text("#objects") and reader.finds("#objects a[href*=download]")
        reader.shot("read-only-objects")

        root.sign_in_root(ROOT_PASSWORD)
        shown = []
        for path, selectors in (("/buckets", ["#create-bucket"]),
                                ("/buckets/read-only-bucket", ["#save-versioning", "#save-policy"]),
                                ("/buckets/read-only-bucket/objects", ["#upload", "#delete-objects", "input[name=v]"]),
                                ("/security", ["#assign-mfa"])):
            root.open(path)
            shown += [selector for selector in selectors if root.finds(selector)]
        assert len(shown) == 7, shown
        assert not root.finds("#create-key")
        assert ACCESS_KEY in root.text("#access-keys") and "configuration" in root.text("#root-key-note")
        assert SECRET_KEY not in root.driver.page_source
    finally:
        reader.close()
        root.close()


def test_the_audit_page_speaks_plainly_once_and_fits(console_server):
    """The audit page (issue 20 §1): events and outcomes in words (the API's names in small
    print), each event once (no `Console:EnableMFADevice` beside `EnableMFADevice`), a key
    challenge the browser never answered not logged as a registration, and 1280 px wide."""
    server = console_server
    client = iam(server)
    client.create_user(UserName="audited")
    client.create_login_profile(UserName="audited", Password="Audited-First-Pass-1", PasswordResetRequired=False)
    client.put_user_policy(UserName="audited", PolicyName="OwnMFA", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice"],
                       "Resource": "*"}]}))
    user = Console(server.console, screenshot_folder())
    root = Console(server.console, screenshot_folder())
    try:
        user.sign_in_user(server.account, "audited", "Audited-First-Pass-1")
        devices = []
        user.wizard("audited-phone-with-a-rather-long-name-to-wrap", devices)
        user.finish_wizard(devices[0])
        assert "assigned" in user.notice(), user.error()
        # A security-key challenge asked for, never answered (the browser refused): not a registration.
        csrf = user.find("input[name=_csrf]").get_attribute("value")
        status, _, _ = post(server.console, "/security/webauthn/options", {"name": "never", "_csrf": csrf},
                            cookie=f"coffer_session={user.session_cookie()}",
                            headers={"X-CSRF-Token": csrf})
        assert status == 200

        root.sign_in_root(ROOT_PASSWORD)
        root.open("/audit?user=audited")
        rows = [row.text for row in root.finds("#audit tbody tr")]
        assigned = [row for row in rows if "EnableMFADevice" in row]
        assert len(assigned) == 1 and "Assigned an MFA device" in assigned[0], rows
        assert not [row for row in rows if "· console" in row and "MFADevice" in row], rows
        assert not [row for row in rows if "RegisterSecurityKey" in row or "Registered a security key" in row], rows
        assert any("Console sign-in" in row and "ConsoleLogin" in row for row in rows), rows
        assert [o.text for o in root.finds("#audit-outcome option")][1:] == [
            "Done", "Succeeded", "Failed", "Refused", "Denied by policy"]
        root.open("/audit")
        assert fits(root), root.driver.execute_script("return document.documentElement.scrollWidth")
        root.shot("audit-plain-words")
    finally:
        user.close()
        root.close()


def account_lines(console, selector, account):
    """For each element matching `selector` that shows `account`: on how many lines it is drawn."""
    return console.driver.execute_script("""
        const counts = [];
        for (const element of document.querySelectorAll(arguments[0])) {
          const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const at = node.data.indexOf(arguments[1]);
            if (at < 0) continue;
            const range = document.createRange();
            range.setStart(node, at); range.setEnd(node, at + arguments[1].length);
            counts.push(new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top))).size);
          }
        }
        return counts;""", selector, account)


def test_pages_fit_a_phone_and_arns_break_at_their_joints(console_server):
    """Pages fit a phone's width (issue 20 §1), and an ARN wraps after a `:` or `/`, never in the
    middle of the account number."""
    server = console_server
    s3 = server.client()
    s3.create_bucket(Bucket="phone-bucket")
    s3.put_object(Bucket="phone-bucket", Key="a/rather/deep/folder/with-a-long-object-name-that-goes-on.txt", Body=b"x")
    long_name = "a-user-whose-name-is-long-enough-to-wrap-on-a-phone"
    iam(server).create_user(UserName=long_name)
    root = Console(server.console, screenshot_folder())
    try:
        root.sign_in_root(ROOT_PASSWORD)
        emulate_width(root, 375)
        wide = []
        for path in ("/home", "/buckets", "/buckets/phone-bucket", "/buckets/phone-bucket/objects?prefix=a/rather/deep/folder/",
                     "/buckets/phone-bucket/objects?versions=1", "/users", f"/users/{long_name}", "/security", "/audit",
                     "/security/mfa/new"):
            root.open(path)
            if not fits(root):
                wide.append(path)
            # Every field a person types into says what it holds (autocomplete hints).
            unhinted = root.driver.execute_script("""
                return Array.from(document.querySelectorAll('input, textarea'))
                  .filter(f => !['hidden', 'checkbox', 'radio', 'file', 'submit'].includes(f.type) && !f.hasAttribute('autocomplete'))
                  .map(f => f.id || f.name);""")
            assert unhinted == [], (path, unhinted)
        assert wide == []
        root.open(f"/users/{long_name}")
        root.shot("phone-user")
        # At every width from a small phone's up, and in the audit page's narrow device column,
        # the account id stays on one line.
        split = []
        for width in range(300, 460, 8):
            emulate_width(root, width)
            split += [(width, lines) for lines in account_lines(root, "#user-arn", server.account) if lines != 1]
        root.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        root.open("/audit")
        in_audit = account_lines(root, "#audit td", server.account)
        assert in_audit, "the audit page shows device serials (earlier tests assigned devices)"
        split += [("audit", lines) for lines in in_audit if lines != 1]
        assert split == []
    finally:
        root.close()


def test_uploads_several_files_dropped_or_chosen_refresh_the_list_and_say_what_failed(console_server, tmp_path):
    """Uploads (issue 20 §1): several files at once, chosen or dropped, each with its progress and
    outcome; a folder or a key of one's choosing; the list refreshes in place; a refused upload
    says so beside its file; a folder can be made."""
    server = console_server
    s3 = server.client()
    s3.create_bucket(Bucket="upload-bucket")
    client = iam(server)
    client.create_user(UserName="uploader")
    client.create_login_profile(UserName="uploader", Password="Uploader-First-Pass-1", PasswordResetRequired=False)
    client.put_user_policy(UserName="uploader", PolicyName="OkOnly", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:ListBucket", "s3:ListAllMyBuckets", "s3:GetBucketVersioning",
                                                     "s3:GetObject"], "Resource": "*"},
                      {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::upload-bucket/ok/*"}]}))
    files = []
    for name, body in (("first.txt", b"first file"), ("second.txt", b"second file, a little longer")):
        path = tmp_path / name
        path.write_bytes(body)
        files.append(path)
    user = Console(server.console, screenshot_folder())
    try:
        user.sign_in_user(server.account, "uploader", "Uploader-First-Pass-1")
        # At the top of the bucket, where the policy allows no upload, none is offered; in ok/ it is.
        user.open("/buckets/upload-bucket/objects")
        assert not user.finds("#upload")
        user.open("/buckets/upload-bucket/objects?prefix=ok/")
        user.driver.execute_script("window.samePage = true")
        # Two files chosen at once, into the folder shown (the field starts with it).
        assert user.find("#upload-folder").get_attribute("value") == "ok/"
        user.fill("#upload-folder", "ok")
        user.find("#upload-file").send_keys("\n".join(str(path) for path in files))
        user.find("#upload-button").click()
        user.wait.until(lambda _: user.finds("#upload-done"))
        assert [li.get_attribute("class") for li in user.finds("#upload-list li")] == ["done", "done"]
        assert "2 files uploaded" in user.text("#upload-status")
        assert user.driver.execute_script("return window.samePage === true")  # no reload: refreshed in place
        assert "first.txt" in user.text("#objects") and "second.txt" in user.text("#objects")  # refreshed
        assert s3.get_object(Bucket="upload-bucket", Key="ok/second.txt")["Body"].read() == b"second file, a little longer"

        # A file dropped on the page, under a key of one's choosing.
        user.fill("#upload-key", "ok/renamed-drop.txt")
        user.driver.execute_script("""
            const transfer = new DataTransfer();
            transfer.items.add(new File(["dropped bytes"], "dropped.txt", {type: "text/plain"}));
            document.getElementById('drop-zone').dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true}));""")
        user.wait.until(lambda _: user.finds("#upload-done"))
        assert s3.get_object(Bucket="upload-bucket", Key="ok/renamed-drop.txt")["Body"].read() == b"dropped bytes"
        assert s3.head_object(Bucket="upload-bucket", Key="ok/renamed-drop.txt")["ContentType"] == "text/plain"

        # Outside the allowed folder: each file says it failed, and why; nothing is stored.
        assert user.find("#upload-key").get_attribute("value") == ""  # emptied after its one file
        user.fill("#upload-folder", "")
        user.find("#upload-file").send_keys("\n".join(str(path) for path in files))
        user.find("#upload-button").click()
        user.wait.until(lambda _: user.finds("#upload-done"))
        outcomes = [li.text for li in user.finds("#upload-list li")]
        assert len(outcomes) == 2 and all("Failed" in text and "not authorized" in text for text in outcomes), outcomes
        assert "2 of 2 uploads failed" in user.text("#upload-status")
        user.shot("upload-failed")
        assert "Contents" not in s3.list_objects_v2(Bucket="upload-bucket", Prefix="first")
    finally:
        user.close()
    root = Console(server.console, screenshot_folder())
    try:
        root.sign_in_root(ROOT_PASSWORD)
        root.open("/buckets/upload-bucket/objects?prefix=ok/")
        root.fill("#folder-name", "reports")
        root.click("#create-folder")
        assert root.path().startswith("/buckets/upload-bucket/objects?prefix=ok%2Freports%2F"), root.path()
        assert "folder is created" in root.notice(), root.error()
        assert s3.head_object(Bucket="upload-bucket", Key="ok/reports/")["ContentLength"] == 0
        root.fill("#folder-name", "a/b")
        root.click("#create-folder")
        assert "not created" in root.error()
    finally:
        root.close()
