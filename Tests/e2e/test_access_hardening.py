"""Regression tests for what a review of the access model found: each names the attack."""
import json
import time

import boto3
import pytest
from botocore.config import Config
from conftest import ACCESS_KEY, SECRET_KEY, Server, refused
from test_mfa import Device, clients


@pytest.fixture
def fresh():
    server = Server(extra_args=["--trusted-proxy", "127.0.0.1"]).start()
    yield server
    server.stop()



def admin_user(server, iam, name):
    iam.create_user(UserName=name)
    iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return clients(server, key["AccessKeyId"], key["SecretAccessKey"])


def test_no_policy_lets_an_iam_user_touch_the_roots_mfa_devices(fresh):
    iam, _, _ = clients(fresh)
    admin_iam, _, _ = admin_user(fresh, iam, "admin")
    planted = Device(admin_iam, "planted")  # created unassigned by the admin
    refused(lambda: admin_iam.enable_mfa_device(UserName="root", SerialNumber=planted.serial,
                                                AuthenticationCode1=planted.code(-2), AuthenticationCode2=planted.code(-1)),
            "NoSuchEntity", 404)
    root_device = Device(iam, "roots")
    root_device.enable(iam)
    for call in [lambda: admin_iam.deactivate_mfa_device(UserName="root", SerialNumber=root_device.serial),
                 lambda: admin_iam.list_mfa_devices(UserName="root"),
                 lambda: admin_iam.resync_mfa_device(UserName="root", SerialNumber=root_device.serial,
                                                     AuthenticationCode1="123456", AuthenticationCode2="654321")]:
        refused(call, "NoSuchEntity", 404)
    assert [d["SerialNumber"] for d in iam.list_mfa_devices()["MFADevices"]] == [root_device.serial]


def test_a_bucket_policy_that_is_not_utf8_is_refused_and_the_root_keeps_control(fresh):
    _, _, s3 = clients(fresh)
    s3.create_bucket(Bucket="enc")
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::enc/*"}]})
    import base64
    import hashlib
    for body in [policy.encode("utf-16"), policy.encode("utf-16-le"), b"\xef\xbb\xbf" + policy.encode()]:
        def raw(request, body=body, **_):  # the bytes as sent, with their MD5 (boto3 only sends str)
            request.data = body
            for name in list(request.headers.keys()):
                if name.lower().startswith("x-amz-checksum") or name.lower() == "x-amz-sdk-checksum-algorithm":
                    del request.headers[name]
            request.headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
        s3.meta.events.register("before-sign.s3.PutBucketPolicy", raw, unique_id="raw-policy")
        try:
            error = refused(lambda: s3.put_bucket_policy(Bucket="enc", Policy=policy), "MalformedPolicy", 400)
            assert "UTF-8" in error.response["Error"]["Message"]
        finally:
            s3.meta.events.unregister("before-sign.s3.PutBucketPolicy", unique_id="raw-policy")
    s3.put_bucket_policy(Bucket="enc", Policy=policy)
    refused(lambda: s3.get_object(Bucket="enc", Key="k"), "AccessDenied", 403)  # the Deny binds the root…
    s3.delete_bucket_policy(Bucket="enc")  # …but never its policy calls
    s3.delete_bucket(Bucket="enc")


def test_costly_patterns_and_names_are_bounded(fresh):
    iam, _, s3 = clients(fresh)
    s3.create_bucket(Bucket="slow")
    evil = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*" + "a" * 1900 + "b"}}
    started = time.monotonic()
    refused(lambda: iam.simulate_custom_policy(PolicyInputList=[json.dumps(evil)], ActionNames=["s3:GetObject"] * 101),
            "InvalidInput", 400)
    result = iam.simulate_custom_policy(PolicyInputList=[json.dumps(evil)], ActionNames=["s3:GetObject"],
                                        ResourceArns=["a" * 2000])["EvaluationResults"][0]
    assert result["EvalDecision"] == "implicitDeny"
    assert time.monotonic() - started < 10
    refused(lambda: s3.put_object(Bucket="slow", Key="k" * 1025, Body=b"x"), "KeyTooLongError", 400)
    result = s3.delete_objects(Bucket="slow", Delete={"Objects": [{"Key": "k" * 1025}, {"Key": "fine"}]})
    assert [e["Code"] for e in result["Errors"]] == ["KeyTooLongError"]


def test_source_ip_is_the_last_address_a_trusted_proxy_did_not_add(fresh):
    _, _, s3 = clients(fresh)
    s3.create_bucket(Bucket="ips")
    s3.put_object(Bucket="ips", Key="k", Body=b"x")
    s3.put_bucket_policy(Bucket="ips", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::ips/*",
         "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}))

    def get_with(forwarded_for):
        client = boto3.client("s3", endpoint_url=fresh.endpoint, aws_access_key_id=ACCESS_KEY,
                              aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
                              config=Config(retries={"total_max_attempts": 1}))
        client.meta.events.register("before-sign.s3.GetObject",
                                    lambda request, **_: request.headers.__setitem__("X-Forwarded-For", forwarded_for))
        return client.get_object(Bucket="ips", Key="k")

    assert get_with("10.1.2.3")["Body"].read() == b"x"  # the proxy (loopback, trusted) says 10.1.2.3
    # A client that sends its own X-Forwarded-For gets it appended to by the proxy: the last hop counts.
    refused(lambda: get_with("10.1.2.3, 203.0.113.5"), "AccessDenied", 403)
    # Padding on the left (which the client controls) cannot push the proxy's own hop out of what
    # is read: hops are read from the right, the last 64 and the last 4 KiB.
    for padding in ["," * 65, "10.1.2.3," * 100, "10.1.2.3 " * 600 + ","]:
        refused(lambda: get_with(padding + " 203.0.113.5"), "AccessDenied", 403)
    assert get_with("," * 65 + " 10.1.2.3")["Body"].read() == b"x"


def test_policies_may_test_only_keys_coffer_supplies(fresh):
    iam, _, s3 = clients(fresh)
    iam.create_user(UserName="kim")
    unknown = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "iam:AttachUserPolicy", "Resource": "*",
         "Condition": {"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}}}]}
    error = refused(lambda: iam.put_user_policy(UserName="kim", PolicyName="p", PolicyDocument=json.dumps(unknown)),
                    "MalformedPolicyDocument", 400)
    assert "iam:PolicyARN" in error.response["Error"]["Message"]
    s3.create_bucket(Bucket="keys")
    for statement in [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::keys/*",
         "Condition": {"StringEquals": {"s3:authType": "REST-QUERY-STRING"}}},
        {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:user/x"}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::keys/*"},
    ]:
        refused(lambda: s3.put_bucket_policy(Bucket="keys", Policy=json.dumps({"Version": "2012-10-17",
                                                                               "Statement": [statement]})),
                "MalformedPolicy", 400)


def test_change_password_guesses_are_throttled_audited_and_an_explicit_deny_holds():
    server = Server(extra_args=["--password-log-n", "10"]).start()
    try:
        iam, _, _ = clients(server)
        iam.update_account_password_policy(MinimumPasswordLength=8, AllowUsersToChangePassword=True)
        iam.create_user(UserName="gus")
        iam.create_login_profile(UserName="gus", Password="Right-Pass-001")
        key = iam.create_access_key(UserName="gus")["AccessKey"]
        gus, _, _ = clients(server, key["AccessKeyId"], key["SecretAccessKey"])
        for guess in range(5):
            refused(lambda: gus.change_password(OldPassword=f"Guess-{guess:08d}", NewPassword="New-Pass-0002"),
                    "AccessDenied", 403)
        # Locked out for a while: even the right password is not checked.
        refused(lambda: gus.change_password(OldPassword="Right-Pass-001", NewPassword="New-Pass-0002"), "LimitExceeded", 409)
        import subprocess
        from conftest import COFFER
        out = subprocess.run([COFFER, "admin", "audit", "--data", server.data, "--json", "--outcome", "failed"],
                             capture_output=True, text=True, env=server.env).stdout
        assert out.count("wrong old password") == 5 and "Guess-" not in out
        # An explicit Deny beats AllowUsersToChangePassword.
        iam.create_user(UserName="hal")
        iam.create_login_profile(UserName="hal", Password="Right-Pass-001")
        iam.put_user_policy(UserName="hal", PolicyName="no", PolicyDocument=json.dumps({"Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Action": "iam:ChangePassword", "Resource": "*"}]}))
        hal_key = iam.create_access_key(UserName="hal")["AccessKey"]
        hal, _, _ = clients(server, hal_key["AccessKeyId"], hal_key["SecretAccessKey"])
        refused(lambda: hal.change_password(OldPassword="Right-Pass-001", NewPassword="New-Pass-0002"), "AccessDenied", 403)
    finally:
        server.stop()
