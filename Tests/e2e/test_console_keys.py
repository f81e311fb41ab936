"""Security keys and passkeys in the console (WebAuthn), through Chromium's virtual authenticator
(the DevTools WebAuthn domain, driven by Selenium): registration, sign-in with the key, and the
refusals — a counter rolled back (a cloned key?), another user's key, a replayed challenge — plus
what a key cannot do (codes for the API), as on AWS."""
import re

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from selenium.webdriver.common.virtual_authenticator import Credential, VirtualAuthenticatorOptions

from conftest import ACCESS_KEY, SECRET_KEY
from console_browser import Console, get, running_console, screenshot_folder

PASSWORD = "Keys-Console-Root-1!"


@pytest.fixture(scope="module")
def key_server():
    # WebAuthn needs a domain origin: browsers refuse it on IP addresses.
    yield from running_console(PASSWORD, host="localhost")


@pytest.fixture(scope="module")
def shots():
    return screenshot_folder()


def authenticator(console):
    options = VirtualAuthenticatorOptions(protocol="ctap2", transport="usb", has_resident_key=False,
                                          has_user_verification=True, is_user_consenting=True, is_user_verified=True)
    console.driver.add_virtual_authenticator(options)


def ceremony(console, allow=None):
    """Runs the sign-in ceremony by the page's own functions without navigating: (body, result)."""
    outcome = console.driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const csrf = document.getElementById("use-key").dataset.csrf;
        window.cofferKeys.assertion(csrf, arguments[0]).then(
            body => window.cofferKeys.signIn(csrf, body).then(result => done({body: body, result: result})),
            error => done({error: String(error)}));
    """, allow)
    assert "error" not in outcome, outcome
    return outcome["body"], outcome["result"]


def replay(console, body):
    return console.driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const csrf = document.getElementById("use-key").dataset.csrf;
        window.cofferKeys.signIn(csrf, arguments[0]).then(done, error => done({error: String(error)}));
    """, body)


def register(console, name):
    console.open("/security/mfa/new")
    console.fill("#device-name", name)
    console.find("#type-key").click()
    console.click("#next")
    assert console.find("#register-key")
    return console


def test_security_key_story(key_server, shots):
    server = key_server
    iam = boto3.client("iam", endpoint_url=server.endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                       region_name="us-east-1", config=Config(retries={"total_max_attempts": 1}))
    sts = boto3.client("sts", endpoint_url=server.endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                       region_name="us-east-1", config=Config(retries={"total_max_attempts": 1}))
    root = Console(server.console, shots)
    bob = Console(server.console, shots)
    try:
        authenticator(root)
        root.sign_in_root(PASSWORD)
        assert root.path() == "/home", root.error()

        # Registration: Assign MFA device → Security key or passkey.
        register(root, "yubikey")
        root.shot("12-security-key-register")
        root.click("#register-key")
        assert "security key is registered" in root.notice(), root.text("main")
        assert "Security key" in root.text("#mfa-devices")
        # An MFA device like any other: ListMFADevices shows it, with AWS's u2f serial shape.
        serials = [d["SerialNumber"] for d in iam.list_mfa_devices()["MFADevices"]]
        key_serial = [s for s in serials if ":u2f/root/yubikey-" in s]
        assert len(key_serial) == 1, serials
        assert key_serial[0].startswith(f"arn:aws:iam::{server.account}:u2f/root/yubikey-")
        # It gives no codes: GetSessionToken (like x-amz-mfa) says so.
        with pytest.raises(ClientError) as refused:
            sts.get_session_token(SerialNumber=key_serial[0], TokenCode="123456")
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
        assert "security key" in refused.value.response["Error"]["Message"]

        # The console says where a key cannot serve: MFA Delete needs a TOTP device.
        s3 = server.client()
        s3.create_bucket(Bucket="keys-only")
        # And x-amz-mfa with the key's serial is refused in words.
        with pytest.raises(ClientError) as refused:
            s3.put_bucket_versioning(Bucket="keys-only", MFA=f"{key_serial[0]} 123456",
                                     VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
        assert "security key" in refused.value.response["Error"]["Message"]
        root.open("/buckets/keys-only")
        assert "cannot be used for MFA Delete" in root.text("#keys-only")

        # Sign out; sign in again: the key answers the second step.
        root.sign_out()
        root.sign_in_root(PASSWORD)
        assert root.path() == "/signin/mfa"
        assert root.finds("#use-key") and not root.finds("#code")  # no TOTP device: no code field
        root.shot("13-security-key-sign-in")
        root.click("#use-key")
        assert root.path() == "/home", root.text("#key-status") if root.finds("#key-status") else root.error()
        assert "Signed in with MFA" in root.text("main") and "Yes" in root.text(".facts")

        # Again, by the page's functions, keeping the answer: a replay of it later is refused.
        root.sign_out()
        root.sign_in_root(PASSWORD)
        body, result = ceremony(root)
        assert result["ok"] and result["text"] == "/home", result
        root.open("/home")
        assert root.path() == "/home"
        root.sign_out()
        root.sign_in_root(PASSWORD)
        replayed = replay(root, body)
        assert replayed["status"] == 401 and "challenge" in replayed["text"], replayed
        assert root.path() == "/signin/mfa"

        # The counter rolled back (a cloned key would look like this): refused, audited.
        credential = root.driver.get_credentials()[0]
        assert credential.sign_count >= 2
        root.driver.remove_all_credentials()
        root.driver.add_credential(Credential.create_non_resident_credential(
            credential._id, "localhost", credential._private_key, 1))
        root.open("/signin/mfa")
        body, result = ceremony(root)
        assert result["status"] == 401 and "counter went backwards" in result["text"], result
        root.driver.remove_all_credentials()
        root.driver.add_credential(Credential.create_non_resident_credential(
            credential._id, "localhost", credential._private_key, credential.sign_count + 10))
        root.open("/signin/mfa")
        body, result = ceremony(root)
        assert result["ok"], result
        root.open("/home")

        # Another user's key is refused: bob, pending his second step, offers the root's key.
        iam.create_user(UserName="bob")
        iam.create_login_profile(UserName="bob", Password="Bob-Console-Pass-1", PasswordResetRequired=False)
        iam.attach_user_policy(UserName="bob", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        authenticator(bob)
        bob.sign_in_user(server.account, "bob", "Bob-Console-Pass-1")
        assert bob.path() == "/home", bob.error()
        register(bob, "bob-key")
        bob.click("#register-key")
        assert "security key is registered" in bob.notice(), bob.text("main")
        bob.sign_out()
        bob.sign_in_user(server.account, "bob", "Bob-Console-Pass-1")
        assert bob.path() == "/signin/mfa"
        bob.driver.add_credential(Credential.create_non_resident_credential(
            credential._id, "localhost", credential._private_key, credential.sign_count + 20))
        root_id = credential.id.rstrip("=")
        body, result = ceremony(bob, [root_id])
        assert result["status"] == 401 and "not one of this user's" in result["text"], result
        body, result = ceremony(bob)  # his own key still works
        assert result["ok"], result

        # The audit log names each refusal; /metrics counts the assertions by outcome.
        root.open("/audit?outcome=failed")
        audit = root.text("#audit")
        assert "possible cloned key" in audit and "wrongChallenge" in audit and "unknownCredential" in audit
        root.shot("14-audit-security-keys")
        metrics = get(server.endpoint, "/metrics")[1]
        assert re.search(r'coffer_security_key_assertions_total\{outcome="passed"\} [1-9]', metrics), metrics
        assert re.search(r'coffer_security_key_assertions_total\{outcome="counterNotIncreasing"\} 1', metrics)

        # Removing the key (DeactivateMFADevice) deletes it; ListMFADevices no longer shows it.
        iam.deactivate_mfa_device(UserName="bob", SerialNumber=[d["SerialNumber"] for d in
                                                                iam.list_mfa_devices(UserName="bob")["MFADevices"]][0])
        assert iam.list_mfa_devices(UserName="bob")["MFADevices"] == []
    finally:
        root.shot("zz-keys-root-last")
        bob.shot("zz-keys-bob-last")
        root.close()
        bob.close()
