"""IAM lifecycle, STS and S3 MFA Delete end to end with boto3, on the real clock.

Codes come from the seed the server returned once. Scenarios that need codes run on their own
servers (one root device each), so they can run back to back without waiting for steps: a device
enabled with the codes of steps now-2 and now-1 leaves now and now+1 usable at once.
"""
import json
import base64
import io
import os
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from conftest import ACCESS_KEY, SECRET_KEY, Server, error_code

import pyotp


# Manage your own MFA devices (the IAM actions Device() and the lifecycle test use), nothing else.
SELF_MANAGE_MFA = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "iam:CreateVirtualMFADevice", "Resource": "arn:aws:iam::*:mfa/*"},
        {"Effect": "Allow", "Action": ["iam:EnableMFADevice", "iam:ResyncMFADevice", "iam:ListMFADevices"],
         "Resource": "arn:aws:iam::*:user/*${aws:username}"},
    ],
}


def clients(server, access=ACCESS_KEY, secret=SECRET_KEY, token=None, validate=True):
    """IAM, STS and S3 clients; validate=False lets out-of-range values reach the server."""
    config = Config(retries={"total_max_attempts": 1}, parameter_validation=validate)
    kwargs = dict(endpoint_url=server.endpoint, aws_access_key_id=access, aws_secret_access_key=secret,
                  aws_session_token=token, region_name="us-east-1", config=config)
    return boto3.client("iam", **kwargs), boto3.client("sts", **kwargs), boto3.client("s3", **kwargs)


class Device:
    def __init__(self, iam, name, user="root"):
        created = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
        self.serial = created["SerialNumber"]
        self.seed = created["Base32StringSeed"].decode()
        self.png = created["QRCodePNG"]
        self.totp = pyotp.TOTP(self.seed)
        self.user = user

    def code(self, offset=0):
        return self.totp.at(time.time() + 30 * offset)

    def enable(self, iam):
        # Codes of the two previous steps (typed "late"): now and now+1 stay usable.
        iam.enable_mfa_device(UserName=self.user, SerialNumber=self.serial, AuthenticationCode1=self.code(-2),
                              AuthenticationCode2=self.code(-1))


@pytest.fixture
def fresh():
    server = Server().start()
    yield server
    server.stop()


def test_virtual_device_creation_returns_seed_and_qr_once(fresh):
    iam, _, _ = clients(fresh)
    device = Device(iam, "phone")
    assert device.serial.startswith("arn:aws:iam::") and device.serial.endswith(":mfa/phone")
    assert len(device.seed) == 64 and set(device.seed) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert device.png.startswith(b"\x89PNG\r\n\x1a\n")
    path = os.path.join(fresh.data, "qr.png")
    open(path, "wb").write(device.png)
    import subprocess
    scanned = subprocess.run(["zbarimg", "--raw", "-q", path], capture_output=True, text=True).stdout.strip()
    account = device.serial.split(":")[4]
    assert scanned == f"otpauth://totp/Coffer:phone@{account}?secret={device.seed}&issuer=Coffer"
    listed = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    assert [d["SerialNumber"] for d in listed] == [device.serial]
    assert "Base32StringSeed" not in listed[0] and "QRCodePNG" not in listed[0]
    with pytest.raises(ClientError) as e:
        iam.create_virtual_mfa_device(VirtualMFADeviceName="phone")
    assert error_code(e) == "EntityAlreadyExists"
    with pytest.raises(ClientError) as e:
        iam.create_virtual_mfa_device(VirtualMFADeviceName="bad name!")
    assert error_code(e) == "ValidationError"


def test_iam_user_lifecycle_keys_devices_and_reports(fresh):
    iam, sts, _ = clients(fresh)
    user = iam.create_user(UserName="alice", Path="/team/")["User"]
    assert user["Arn"].endswith(":user/team/alice") and user["UserId"].startswith("AIDA")
    assert iam.get_user(UserName="alice")["User"]["UserName"] == "alice"
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["alice"]
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName="alice")
    assert error_code(e) == "EntityAlreadyExists"
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    alice_iam, alice_sts, alice_s3 = clients(fresh, key["AccessKeyId"], key["SecretAccessKey"])
    assert alice_sts.get_caller_identity()["Arn"].endswith(":user/team/alice")
    assert alice_sts.get_caller_identity()["Account"] == sts.get_caller_identity()["Account"]
    # A new user can do nothing until a policy allows it (AWS)…
    with pytest.raises(ClientError) as e:
        Device(alice_iam, "alice-phone", user="alice")
    assert error_code(e) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        alice_s3.list_buckets()
    assert error_code(e) == "AccessDenied"
    # …then, with a self-service policy, Alice manages her own device…
    iam.put_user_policy(UserName="alice", PolicyName="own-mfa", PolicyDocument=json.dumps(SELF_MANAGE_MFA))
    device = Device(alice_iam, "alice-phone", user="alice")
    device.enable(alice_iam)
    assert [d["SerialNumber"] for d in alice_iam.list_mfa_devices()["MFADevices"]] == [device.serial]
    # …but not other IAM things, and not deactivate her own device (her policy does not allow it).
    with pytest.raises(ClientError) as e:
        alice_iam.create_user(UserName="mallory")
    assert error_code(e) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        alice_iam.deactivate_mfa_device(UserName="alice", SerialNumber=device.serial)
    assert error_code(e) == "AccessDenied"
    # S3 works with her keys once a policy allows it, except what MFA Delete reserves to the root.
    iam.attach_user_policy(UserName="alice", PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")
    alice_s3.create_bucket(Bucket="alice-bucket")
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["Users"] == 1 and summary["MFADevicesInUse"] == 1 and summary["AccountMFAEnabled"] == 0
    iam.generate_credential_report()
    report = iam.get_credential_report()["Content"].decode()
    rows = {line.split(",")[0]: line.split(",") for line in report.strip().split("\n")}
    header = rows["user"]
    assert rows["<root_account>"][header.index("mfa_active")] == "false"
    assert rows["alice"][header.index("mfa_active")] == "true"
    assert rows["alice"][header.index("access_key_1_active")] == "true"
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName="alice")
    assert error_code(e) == "DeleteConflict"
    with pytest.raises(ClientError) as e:
        iam.delete_virtual_mfa_device(SerialNumber=device.serial)
    assert error_code(e) == "DeleteConflict"
    iam.deactivate_mfa_device(UserName="alice", SerialNumber=device.serial)
    iam.delete_virtual_mfa_device(SerialNumber=device.serial)
    iam.update_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError):
        alice_s3.list_buckets()
    iam.delete_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"])
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName="alice")
    assert error_code(e) == "DeleteConflict"  # policies first
    iam.delete_user_policy(UserName="alice", PolicyName="own-mfa")
    iam.detach_user_policy(UserName="alice", PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")
    iam.delete_user(UserName="alice")
    with pytest.raises(ClientError) as e:
        iam.get_user(UserName="alice")
    assert error_code(e) == "NoSuchEntity"


def test_enable_errors_tags_and_pagination(fresh):
    iam, _, _ = clients(fresh)
    device = Device(iam, "tagged")
    with pytest.raises(ClientError) as e:
        clients(fresh, validate=False)[0].enable_mfa_device(UserName="root", SerialNumber=device.serial, AuthenticationCode1="12345",
                              AuthenticationCode2="123456")
    assert error_code(e) == "ValidationError"
    with pytest.raises(ClientError) as e:
        iam.enable_mfa_device(UserName="root", SerialNumber=device.serial, AuthenticationCode1=device.code(0),
                              AuthenticationCode2=device.code(0))
    assert error_code(e) == "InvalidAuthenticationCode"
    with pytest.raises(ClientError) as e:
        iam.enable_mfa_device(UserName="root", SerialNumber="arn:aws:iam::000000000000:mfa/other",
                              AuthenticationCode1="123456", AuthenticationCode2="654321")
    assert error_code(e) == "NoSuchEntity"
    iam.tag_mfa_device(SerialNumber=device.serial, Tags=[{"Key": "team", "Value": "ops"}, {"Key": "a", "Value": "1"}])
    assert [t["Key"] for t in iam.list_mfa_device_tags(SerialNumber=device.serial)["Tags"]] == ["a", "team"]
    iam.untag_mfa_device(SerialNumber=device.serial, TagKeys=["a"])
    assert iam.list_mfa_device_tags(SerialNumber=device.serial)["Tags"] == [{"Key": "team", "Value": "ops"}]
    for index in range(3):
        Device(iam, f"extra-{index}")
    pages = list(iam.get_paginator("list_virtual_mfa_devices").paginate(PaginationConfig={"PageSize": 1}))
    assert len(pages) == 4 and sum(len(p["VirtualMFADevices"]) for p in pages) == 4


def test_mfa_delete_flow_and_root_rule(fresh):
    iam, sts, s3 = clients(fresh)
    device = Device(iam, "root-phone")
    device.enable(iam)
    s3.create_bucket(Bucket="vault")
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket="vault", VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
    assert error_code(e) == "AccessDenied"
    s3.put_bucket_versioning(Bucket="vault", VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"},
                             MFA=f"{device.serial} {device.code(0)}")
    assert s3.get_bucket_versioning(Bucket="vault")["MFADelete"] == "Enabled"
    versions = [s3.put_object(Bucket="vault", Key="doc", Body=f"v{i}".encode())["VersionId"] for i in range(3)]
    marker = s3.delete_object(Bucket="vault", Key="doc")
    assert marker["DeleteMarker"] is True
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket="vault", Key="doc", VersionId=versions[0])
    assert error_code(e) == "AccessDenied" and "Mfa Authentication must be used" in str(e.value)
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket="vault", Key="doc", VersionId=versions[0], MFA="123456")
    assert error_code(e) == "InvalidArgument"
    assert "123456" not in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        s3.delete_objects(Bucket="vault", Delete={"Objects": [{"Key": "doc", "VersionId": versions[0]}, {"Key": "x"}]})
    assert error_code(e) == "AccessDenied"
    assert len(s3.list_object_versions(Bucket="vault")["Versions"]) == 3
    good = f"{device.serial} {device.code(1)}"
    deleted = s3.delete_objects(Bucket="vault", MFA=good,
                                Delete={"Objects": [{"Key": "doc", "VersionId": v} for v in versions[:2]]})
    assert len(deleted["Deleted"]) == 2
    with pytest.raises(ClientError) as e:  # replay
        s3.delete_object(Bucket="vault", Key="doc", VersionId=versions[2], MFA=good)
    assert error_code(e) == "AccessDenied"
    # Stolen root keys alone cannot touch the root's device.
    with pytest.raises(ClientError) as e:
        iam.deactivate_mfa_device(UserName="root", SerialNumber=device.serial)
    assert error_code(e) == "AccessDenied" and "MFA" in e.value.response["Error"]["Message"]
    # A session without MFA cannot call IAM; sessions may not send x-amz-mfa.
    plain = sts.get_session_token(DurationSeconds=900)["Credentials"]
    plain_iam, _, plain_s3 = clients(fresh, plain["AccessKeyId"], plain["SecretAccessKey"], plain["SessionToken"])
    with pytest.raises(ClientError) as e:
        plain_iam.list_mfa_devices(UserName="root")
    assert error_code(e) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        plain_s3.delete_object(Bucket="vault", Key="doc", VersionId=versions[2], MFA=f"{device.serial} 000000")
    assert error_code(e) == "InvalidRequest"
    assert plain_s3.list_buckets()["Buckets"][0]["Name"] == "vault"  # session credentials work for S3


def test_sts_session_token_rules(fresh):
    iam, sts, _ = clients(fresh)
    device = Device(iam, "root-sts")
    device.enable(iam)
    with pytest.raises(ClientError) as e:
        sts.get_session_token(SerialNumber=device.serial, TokenCode="000000")
    assert error_code(e) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        clients(fresh, validate=False)[1].get_session_token(DurationSeconds=60)
    assert error_code(e) == "ValidationError"
    creds = sts.get_session_token(SerialNumber=device.serial, TokenCode=device.code(0),
                                  DurationSeconds=7200)["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    remaining = creds["Expiration"].timestamp() - time.time()
    assert 3500 < remaining <= 3600  # the root gets at most an hour
    session_iam, session_sts, _ = clients(fresh, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    assert session_sts.get_caller_identity()["Arn"].endswith(":root")
    # With an MFA session the root may change its own devices.
    session_iam.deactivate_mfa_device(UserName="root", SerialNumber=device.serial)
    assert iam.list_mfa_devices(UserName="root")["MFADevices"] == []
    # A wrong session token is refused.
    _, bad_sts, _ = clients(fresh, creds["AccessKeyId"], creds["SecretAccessKey"], "forged-token")
    with pytest.raises(ClientError):
        bad_sts.get_caller_identity()


def test_throttle_refuses_even_the_right_code_then_recovers(fresh):
    iam, sts, s3 = clients(fresh)
    device = Device(iam, "throttled")
    device.enable(iam)
    wrong = device.totp.at(time.time() + 30 * 9)
    for _ in range(6):
        with pytest.raises(ClientError):
            sts.get_session_token(SerialNumber=device.serial, TokenCode=wrong)
    with pytest.raises(ClientError) as e:  # throttled: the same error as a wrong code
        sts.get_session_token(SerialNumber=device.serial, TokenCode=device.code(0))
    assert error_code(e) == "AccessDenied"
    time.sleep(1.2)
    assert sts.get_session_token(SerialNumber=device.serial, TokenCode=device.code(0))["Credentials"]


def test_mfa_over_plain_http_from_a_forwarded_peer_is_refused(fresh):
    iam, _, s3 = clients(fresh)
    device = Device(iam, "proxied")
    device.enable(iam)
    s3.create_bucket(Bucket="proxied")

    def forwarded(request, **_):
        request.headers["X-Forwarded-For"] = "203.0.113.7"

    s3.meta.events.register("before-sign.s3.PutBucketVersioning", forwarded)
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket="proxied", MFA=f"{device.serial} {device.code(0)}",
                                 VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
    assert error_code(e) == "InvalidRequest" and "HTTPS" in e.value.response["Error"]["Message"]


def test_audit_log_has_events_and_never_codes(fresh):
    iam, sts, _ = clients(fresh)
    device = Device(iam, "audited")
    device.enable(iam)
    code = device.code(0)
    sts.get_session_token(SerialNumber=device.serial, TokenCode=code)
    with pytest.raises(ClientError):
        sts.get_session_token(SerialNumber=device.serial, TokenCode=code)  # replay
    # An S3 MFA Delete refusal (no x-amz-mfa) and an IAM user with a path: both named by ARN.
    _, _, s3 = clients(fresh)
    s3.create_bucket(Bucket="audited")
    with pytest.raises(ClientError):
        s3.put_bucket_versioning(Bucket="audited", VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
    iam.create_user(UserName="bob", Path="/ops/")
    key = iam.create_access_key(UserName="bob")["AccessKey"]
    bob_iam, _, _ = clients(fresh, key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError):
        Device(bob_iam, "bob-phone", user="bob")  # no policy allows it: refused and audited
    iam.put_user_policy(UserName="bob", PolicyName="own-mfa", PolicyDocument=json.dumps(SELF_MANAGE_MFA))
    Device(bob_iam, "bob-phone", user="bob")
    import subprocess
    from conftest import COFFER
    out = subprocess.run([COFFER, "admin", "audit", *fresh.admin_args(), "--json"], capture_output=True, text=True,
                         env=fresh.env).stdout
    assert "CreateVirtualMFADevice" in out and "EnableMFADevice" in out and "GetSessionToken" in out
    assert '"outcome":"failed"' in out and "code already used" in out
    assert code not in out and device.seed not in out
    assert device.seed not in fresh.output.decode()
    account = sts.get_caller_identity()["Account"]
    entries = [json.loads(line) for line in out.splitlines()]
    refusal = [e for e in entries if e["event"] == "S3:PutBucketVersioning"]
    assert refusal and refusal[-1]["outcome"] == "refused" and refusal[-1]["principal"] == f"arn:aws:iam::{account}:root"
    bob = [e for e in entries if e["event"] == "CreateVirtualMFADevice" and "bob-phone" in e.get("serial", "")]
    assert bob and bob[-1]["principal"] == f"arn:aws:iam::{account}:user/ops/bob"
    assert f'"principal":"arn:aws:iam::{account}:user/ops/bob"' in out  # JSON lines a grep can find: "/", not "\/"
    denied = [e for e in entries if e["outcome"] == "denied" and e["event"] == "IAM:CreateVirtualMFADevice"]
    assert denied and "iam:CreateVirtualMFADevice on arn:aws:iam::" in denied[0]["detail"]
    assert "no identity-based policy allows" in denied[0]["detail"]
    filtered = subprocess.run([COFFER, "admin", "audit", *fresh.admin_args(), "--json", "--outcome", "denied"],
                              capture_output=True, text=True, env=fresh.env).stdout
    assert filtered.strip() and all(json.loads(line)["outcome"] == "denied" for line in filtered.splitlines())


def test_metrics_count_requests_checks_and_throttled_devices(fresh):
    import requests
    iam, sts, s3 = clients(fresh)
    device = Device(iam, "metered")
    device.enable(iam)
    s3.list_buckets()
    wrong = device.totp.at(time.time() + 30 * 9)
    for _ in range(6):
        with pytest.raises(ClientError):
            sts.get_session_token(SerialNumber=device.serial, TokenCode=wrong)
    text = requests.get(fresh.endpoint + "/metrics").text
    assert 'coffer_requests_total{operation="ListBuckets",status="200"} 1' in text
    assert 'coffer_mfa_checks_total{outcome="passed"} 1' in text  # the enable
    assert 'coffer_mfa_checks_total{outcome="wrongCode"} 6' in text
    assert "coffer_mfa_throttled_devices 1" in text
    assert device.seed not in text


def test_allow_insecure_mfa_accepts_plain_http_from_any_peer():
    server = Server(extra_args=["--allow-insecure-mfa"]).start()
    try:
        iam, _, s3 = clients(server)
        device = Device(iam, "insecure-ok")
        device.enable(iam)
        s3.create_bucket(Bucket="insecure")

        def forwarded(request, **_):
            request.headers["X-Forwarded-For"] = "203.0.113.50"

        s3.meta.events.register("before-sign.s3.PutBucketVersioning", forwarded)
        s3.put_bucket_versioning(Bucket="insecure", MFA=f"{device.serial} {device.code(0)}",
                                 VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
        assert s3.get_bucket_versioning(Bucket="insecure")["MFADelete"] == "Enabled"
    finally:
        server.stop()


def test_key_changes_through_one_process_are_seen_by_another(fresh):
    """Each process caches access-key lookups; a key deactivated, reactivated or deleted through
    one process is refused or accepted by the other at once."""
    other = Server(data=fresh.data, extra_args=fresh.cluster_args).start()
    try:
        iam, _, _ = clients(fresh)
        iam.create_user(UserName="carol")
        iam.attach_user_policy(UserName="carol", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        key = iam.create_access_key(UserName="carol")["AccessKey"]
        _, _, carol = clients(other, key["AccessKeyId"], key["SecretAccessKey"])
        for _ in range(2):
            carol.list_buckets()
        for status, works in [("Inactive", False), ("Active", True), ("Inactive", False)]:
            iam.update_access_key(UserName="carol", AccessKeyId=key["AccessKeyId"], Status=status)
            if works:
                carol.list_buckets()
            else:
                with pytest.raises(ClientError) as e:
                    carol.list_buckets()
                assert error_code(e) == "InvalidAccessKeyId"
        iam.delete_access_key(UserName="carol", AccessKeyId=key["AccessKeyId"])
        with pytest.raises(ClientError) as e:
            carol.list_buckets()
        assert error_code(e) == "InvalidAccessKeyId"
    finally:
        other.stop()


def test_look_alike_access_key_id_does_not_shadow_the_real_one(fresh):
    """A Kelvin sign (U+212A) for the K of AKIA equals K as a Swift String; a request with that id
    must be refused without touching the cache the real key is looked up in."""
    import requests
    iam, _, _ = clients(fresh)
    iam.create_user(UserName="dave")
    iam.attach_user_policy(UserName="dave", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    key = iam.create_access_key(UserName="dave")["AccessKey"]
    _, _, dave = clients(fresh, key["AccessKeyId"], key["SecretAccessKey"])
    dave.list_buckets()
    dave_v4 = boto3.client("s3", endpoint_url=fresh.endpoint, aws_access_key_id=key["AccessKeyId"],
                           aws_secret_access_key=key["SecretAccessKey"], region_name="us-east-1",
                           config=Config(signature_version="s3v4"))
    for client, parameter in [(dave, "AWSAccessKeyId="), (dave_v4, "X-Amz-Credential=")]:  # SigV2 and SigV4
        url = client.generate_presigned_url("list_buckets", ExpiresIn=300)
        assert parameter + "AKIA" in url
        for _ in range(3):
            forged = requests.get(url.replace(parameter + "AKIA", parameter + "A%E2%84%AAIA"))
            assert forged.status_code == 403 and b"<Code>InvalidAccessKeyId</Code>" in forged.content
            dave.list_buckets()
            assert requests.get(url).status_code == 200
