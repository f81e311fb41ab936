"""The IAM pages of issue 20 §2, in headless Chromium: a user's access keys (the secret shown
once, deactivate, delete with the key's id typed, last used), and GetAccessKeyLastUsed for
boto3."""
import time

import boto3
import pytest
from botocore.config import Config

from conftest import ACCESS_KEY, SECRET_KEY
from console_browser import Console, running_console, screenshot_folder

ROOT_PASSWORD = "Iam-Pages-Root-Pass-1!"


@pytest.fixture(scope="module")
def console_server():
    yield from running_console(ROOT_PASSWORD)


def client(server, service, key=ACCESS_KEY, secret=SECRET_KEY):
    return boto3.client(service, endpoint_url=server.endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
                        region_name="us-east-1", config=Config(retries={"total_max_attempts": 1}))


def eventually(probe, seconds=5):
    deadline = time.time() + seconds
    while True:
        value = probe()
        if value or time.time() > deadline:
            return value
        time.sleep(0.1)


def test_a_users_access_keys_from_the_console_and_when_they_were_last_used(console_server):
    server = console_server
    iam = client(server, "iam")
    iam.create_user(UserName="worker")
    iam.attach_user_policy(UserName="worker", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    root = Console(server.console, screenshot_folder())
    try:
        root.sign_in_root(ROOT_PASSWORD)
        root.open("/users/worker")
        assert root.text("#no-user-keys") == "No access keys."
        root.click("#create-user-key")
        shown = root.find("#new-key").text
        key_id = root.find("#new-key code").text
        secret = root.text("#new-secret")
        assert key_id.startswith("AKIA") and len(secret) == 40 and key_id in shown
        root.open("/users/worker")
        assert secret not in root.driver.page_source  # shown once
        assert "Never" in root.text("#user-keys")
        meta = iam.get_access_key_last_used(AccessKeyId=key_id)
        assert meta["UserName"] == "worker" and meta["AccessKeyLastUsed"]["ServiceName"] == "N/A"
        assert "LastUsedDate" not in meta["AccessKeyLastUsed"]

        # The key signs a request: its last use is recorded (S3, the region), for the page and the API.
        client(server, "s3", key_id, secret).list_buckets()
        used = eventually(lambda: iam.get_access_key_last_used(AccessKeyId=key_id)["AccessKeyLastUsed"].get("LastUsedDate"))
        assert used, "the use was never recorded"
        last = iam.get_access_key_last_used(AccessKeyId=key_id)["AccessKeyLastUsed"]
        assert last["ServiceName"] == "s3" and last["Region"] == "us-east-1"
        root.open("/users/worker")
        assert "s3 · us-east-1" in root.text("#user-keys")
        with pytest.raises(Exception) as missing:
            iam.get_access_key_last_used(AccessKeyId="AKIANOSUCHKEY0000000")
        assert "NoSuchEntity" in str(missing.value)
        with pytest.raises(Exception) as malformed:  # longer than the model allows: refused, not echoed
            iam.get_access_key_last_used(AccessKeyId="A" * 300)
        assert "ValidationError" in str(malformed.value) and "A" * 200 not in str(malformed.value)

        # Make inactive, then delete — the key's id typed, as AWS asks.
        root.click("#user-keys button:not(.danger)")
        assert "Inactive" in root.text("#user-keys")
        root.click("#user-keys button.danger")
        assert key_id in root.text("#confirmation") and key_id in root.text("label[for=confirm-word]")
        root.fill("#confirm-word", "delete")
        root.click("#confirm-button")
        assert "Nothing was changed" in root.error()
        assert len(iam.list_access_keys(UserName="worker")["AccessKeyMetadata"]) == 1
        root.fill("#confirm-word", key_id)
        root.click("#confirm-button")
        assert "deleted" in root.notice(), root.error()
        assert iam.list_access_keys(UserName="worker")["AccessKeyMetadata"] == []
    finally:
        root.close()


def test_groups_members_and_policies(console_server):
    """User groups (issue 20 §2): create, add and remove members, attach and detach policies
    (detach asks first), delete with the name typed; what a member's group allows, the member may do."""
    server = console_server
    iam = client(server, "iam")
    for name in ("ann", "ben"):
        iam.create_user(UserName=name)
    key = iam.create_access_key(UserName="ann")["AccessKey"]
    ann_s3 = client(server, "s3", key["AccessKeyId"], key["SecretAccessKey"])
    root = Console(server.console, screenshot_folder())
    try:
        root.sign_in_root(ROOT_PASSWORD)
        root.open("/groups")
        assert root.text("#no-groups") == "No groups yet."
        assert [a.text for a in root.finds("nav a[aria-current='page']")] == ["Groups"]
        root.fill("#group-name", "readers")
        root.click("#create-group")
        assert root.path().startswith("/groups/readers") and "created" in root.notice(), root.error()
        for name in ("ann", "ben"):
            root.find(f"#add-user option[value='{name}']").click()
            root.click("#add-member")
        assert sorted(u["UserName"] for u in iam.get_group(GroupName="readers")["Users"]) == ["ann", "ben"]
        assert [li.text for li in root.finds("#members li")] == ["ann", "ben"]
        root.find("#group-policy option[value='arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess']").click()
        root.click("#group-attach")
        ann_s3.list_buckets()  # allowed through the group
        root.find("#members input[value='ben']").click()
        root.click("#remove-members")
        assert [u["UserName"] for u in iam.get_group(GroupName="readers")["Users"]] == ["ann"]
        root.click("#group-attached button")
        assert "AmazonS3ReadOnlyAccess" in root.text("#confirmation")
        root.click("#confirm-button")
        assert iam.list_attached_group_policies(GroupName="readers")["AttachedPolicies"] == []
        with pytest.raises(Exception):
            ann_s3.list_buckets()
        root.fill("#confirm-group", "Readers")
        root.click("#delete-group")
        assert "type the group's name" in root.error()
        root.fill("#confirm-group", "readers")
        root.click("#delete-group")
        assert root.path().startswith("/groups?") and "deleted" in root.notice(), root.error()
        assert iam.list_groups()["Groups"] == []
        assert iam.get_user(UserName="ann")["User"]["UserName"] == "ann"  # the users stay
    finally:
        root.close()


def test_the_policy_editor_says_where_an_error_is_and_simulates_the_text_being_edited(console_server):
    """The IAM policy editor (issue 20 §2): JSON with errors located by line and column, AWS's MFA
    examples one click away, the simulator beside it evaluating the unsaved text, versions on
    save, delete with the name typed."""
    import json
    server = console_server
    iam = client(server, "iam")
    root = Console(server.console, screenshot_folder())
    try:
        root.sign_in_root(ROOT_PASSWORD)
        root.open("/policies")
        assert "AmazonS3ReadOnlyAccess" in root.text("#policies")
        root.click("#create-policy")
        root.click("#template-force-mfa")
        text = root.find("#policy-json").get_attribute("value")
        assert "DenyAllExceptListedIfNoMFA" in text

        def simulate(action, resource, mode):
            root.fill("#sim-action", action)
            root.fill("#sim-resource", resource)
            root.find(f"#sim-mfa option[value={mode}]").click()
            root.click("#simulate")
            return root.text("#simulation")

        result = simulate("s3:ListAllMyBuckets", "*", "session")
        assert "explicit deny" in result and "DenyAllExceptListedIfNoMFA" in result and "lines 23–31" in result, result
        assert "implicit deny" in simulate("s3:ListAllMyBuckets", "*", "mfa")
        own = f"arn:aws:iam::{server.account}:user/simulated-user"
        assert simulate("iam:EnableMFADevice", own, "session").startswith("Allowed")
        assert root.find("#policy-json").get_attribute("value") == text  # the text under test stays
        root.shot("policy-editor")

        # A syntax error: where it is, and the text kept.
        broken = text.replace('"Effect": "Allow",', '"Effect": "Allow"', 1)
        root.fill("#policy-name", "ForceMFA")
        root.fill("#policy-json", broken)
        root.click("#save-policy-doc")
        error = root.error()
        assert "not saved" in error and "(line 7, column 7)" in error, error  # where the comma is missing
        assert root.find("#policy-json").get_attribute("value") == broken
        assert root.find("#policy-name").get_attribute("value") == "ForceMFA"
        root.fill("#policy-json", text)
        root.click("#save-policy-doc")
        assert "saved" in root.notice(), root.error()
        arn = f"arn:aws:iam::{server.account}:policy/ForceMFA"
        assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"

        # Editing makes a new default version.
        changed = json.dumps(dict(json.loads(text), Statement=json.loads(text)["Statement"][:3]), indent=2)
        root.fill("#policy-json", changed)
        root.click("#save-policy-doc")
        assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
        assert "DenyAllExceptListedIfNoMFA" not in root.find("#policy-json").get_attribute("value")

        root.fill("#confirm-policy", "forcemfa")
        root.click("#delete-policy")
        assert "type the policy's name" in root.error()
        root.fill("#confirm-policy", "ForceMFA")
        root.click("#delete-policy")
        assert "deleted" in root.notice(), root.error()
        with pytest.raises(Exception):
            iam.get_policy(PolicyArn=arn)
    finally:
        root.close()
