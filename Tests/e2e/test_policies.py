"""AWS's access model end to end with boto3: IAM identity policies (inline, customer managed, AWS
managed, through groups), bucket policies, and the evaluation AWS documents — an explicit Deny
anywhere wins, otherwise an Allow in an identity policy or in the bucket policy allows, otherwise the
request is implicitly denied. Every scenario also asks SimulatePrincipalPolicy and expects the
decision the server just enforced.

The policy documents are AWS's own published examples, unchanged but for the bucket names the
examples ask to replace (the source is in a comment above each); the one adaptation (the MFA-age
delete guard) says what it changes.

Each test runs on its own server (a fresh account). Codes: a device enabled with the codes of steps
now-2 and now-1 leaves the codes of now and now+1 usable at once (see test_mfa.py), so no test waits
for a time step.
"""
import json
import os

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from conftest import ACCESS_KEY, SECRET_KEY, Server
from test_mfa import Device

S3_FULL = "arn:aws:iam::aws:policy/AmazonS3FullAccess"
S3_READ_ONLY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
IAM_READ_ONLY = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
CHANGE_PASSWORD = "arn:aws:iam::aws:policy/IAMUserChangePassword"
AWS_MANAGED = {ADMIN, S3_FULL, S3_READ_ONLY, IAM_READ_ONLY, CHANGE_PASSWORD}

# "IAM: Allows IAM users to self-manage an MFA device"
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_iam_mfa-selfmanage.html
SELF_MANAGE_MFA = """{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowListActions",
            "Effect": "Allow",
            "Action": [
                "iam:ListUsers",
                "iam:ListVirtualMFADevices"
            ],
            "Resource": "*"
        },
        {
            "Sid": "AllowUserToCreateVirtualMFADevice",
            "Effect": "Allow",
            "Action": [
                "iam:CreateVirtualMFADevice"
            ],
            "Resource": "arn:aws:iam::*:mfa/*"
        },
        {
            "Sid": "AllowUserToManageTheirOwnMFA",
            "Effect": "Allow",
            "Action": [
                "iam:EnableMFADevice",
                "iam:GetMFADevice",
                "iam:ListMFADevices",
                "iam:ResyncMFADevice"
            ],
            "Resource": "arn:aws:iam::*:user/${aws:username}"
        },
        {
            "Sid": "AllowUserToDeactivateTheirOwnMFAOnlyWhenUsingMFA",
            "Effect": "Allow",
            "Action": [
                "iam:DeactivateMFADevice"
            ],
            "Resource": [
                "arn:aws:iam::*:user/${aws:username}"
            ],
            "Condition": {
                "Bool": {
                    "aws:MultiFactorAuthPresent": "true"
                }
            }
        },
        {
            "Sid": "BlockMostAccessUnlessSignedInWithMFA",
            "Effect": "Deny",
            "NotAction": [
                "iam:CreateVirtualMFADevice",
                "iam:EnableMFADevice",
                "iam:ListMFADevices",
                "iam:ListUsers",
                "iam:ListVirtualMFADevices",
                "iam:ResyncMFADevice"
            ],
            "Resource": "*",
            "Condition": {
                "BoolIfExists": {
                    "aws:MultiFactorAuthPresent": "false"
                }
            }
        }
    ]
}"""

# "Amazon S3: Allows IAM users access to their S3 home directory, programmatically and in the console"
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_s3_home-directory-console.html
HOME_DIRECTORY = """{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "S3ConsoleAccess",
            "Effect": "Allow",
            "Action": [
                "s3:GetAccountPublicAccessBlock",
                "s3:GetBucketAcl",
                "s3:GetBucketLocation",
                "s3:GetBucketPolicyStatus",
                "s3:GetBucketPublicAccessBlock",
                "s3:ListAccessPoints",
                "s3:ListAllMyBuckets"
            ],
            "Resource": "*"
        },
        {
            "Sid": "ListObjectsInBucket",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::amzn-s3-demo-bucket",
            "Condition": {
                "StringLike": {
                    "s3:prefix": [
                        "",
                        "home/",
                        "home/${aws:username}/*"
                    ]
                }
            }
        },
        {
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": [
                "arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}",
                "arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*"
            ]
        }
    ]
}"""

# Amazon S3 User Guide, "Bucket policy examples", "Granting read-only permission to an anonymous user"
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html
# (text of github.com/awsdocs/amazon-s3-userguide doc_source/example-bucket-policies.md)
PUBLIC_READ = """{
  "Version":"2012-10-17",
  "Statement":[
    {
      "Sid":"PublicRead",
      "Effect":"Allow",
      "Principal": "*",
      "Action":["s3:GetObject","s3:GetObjectVersion"],
      "Resource":["arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"]
    }
  ]
}"""

# Same page, "Limiting access to specific IP addresses".
SOURCE_IP = """{
  "Version": "2012-10-17",
  "Id": "S3PolicyId1",
  "Statement": [
    {
      "Sid": "IPAllow",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "s3:*",
      "Resource": [
\t       "arn:aws:s3:::DOC-EXAMPLE-BUCKET",
         "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"
      ],
      "Condition": {
\t "NotIpAddress": {"aws:SourceIp": "54.240.143.0/24"}
      }
    }
  ]
}"""

# Same page, "Adding a bucket policy to require MFA", the third example (Null aws:MultiFactorAuthAge
# plus NumericGreaterThan aws:MultiFactorAuthAge 3600, then a public s3:GetObject Allow). Adapted as
# our issue asks: "Action": "s3:*" -> "s3:DeleteObject*" in both Deny statements (so long-term keys
# may still PUT and GET), 3600 -> 300, and the public GetObject Allow statement dropped. The rest —
# Id, empty Sids, the taxdocuments/ prefix, the JSON boolean `true` and the JSON number — as published.
MFA_AGE_DELETE_GUARD = """{
    "Version": "2012-10-17",
    "Id": "123",
    "Statement": [
      {
        "Sid": "",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:DeleteObject*",
        "Resource": "arn:aws:s3:::DOC-EXAMPLE-BUCKET/taxdocuments/*",
        "Condition": {"Null": {"aws:MultiFactorAuthAge": true }}
      },
      {
        "Sid": "",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:DeleteObject*",
        "Resource": "arn:aws:s3:::DOC-EXAMPLE-BUCKET/taxdocuments/*",
        "Condition": {"NumericGreaterThan": {"aws:MultiFactorAuthAge": 300 }}
       }
    ]
 }"""

# AWS Knowledge Center, "bucket policy that complies with the s3-bucket-ssl-requests-only rule"
# https://repost.aws/knowledge-center/s3-bucket-policy-for-config-rule
HTTPS_ONLY = """{
  "Id": "ExamplePolicy",
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AllowSSLRequestsOnly",
      "Action": "s3:*",
      "Effect": "Deny",
      "Resource": [
        "arn:aws:s3:::DOC-EXAMPLE-BUCKET",
        "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"
      ],
      "Condition": {
        "Bool": {
          "aws:SecureTransport": "false"
        }
      },
      "Principal": "*"
    }
  ]
}"""


def for_bucket(document, bucket, placeholder="DOC-EXAMPLE-BUCKET"):
    """A published document with its example bucket name replaced (text otherwise unchanged)."""
    text = document.replace(placeholder, bucket)
    json.loads(text)
    return text


def statement_policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class Caller:
    """IAM, STS and S3 clients for one set of credentials (the root's unless told)."""

    def __init__(self, endpoint, access=ACCESS_KEY, secret=SECRET_KEY, token=None, verify=None):
        config = Config(retries={"total_max_attempts": 1})
        kwargs = dict(endpoint_url=endpoint, aws_access_key_id=access, aws_secret_access_key=secret,
                      aws_session_token=token, region_name="us-east-1", config=config)
        if verify is not None:
            kwargs["verify"] = verify
        self.endpoint, self.verify = endpoint, verify
        self.access, self.secret, self.token = access, secret, token
        self.iam = boto3.client("iam", **kwargs)
        self.sts = boto3.client("sts", **kwargs)
        self.s3 = boto3.client("s3", **kwargs)

    def on(self, endpoint, verify=None):
        """The same credentials against another endpoint (another listener of the same server)."""
        return Caller(endpoint, self.access, self.secret, self.token, verify)

    def session(self, device=None, offset=0):
        """GetSessionToken credentials, with an MFA code of `device` when given."""
        kwargs = {} if device is None else dict(SerialNumber=device.serial, TokenCode=device.code(offset))
        creds = self.sts.get_session_token(**kwargs)["Credentials"]
        assert creds["AccessKeyId"].startswith("ASIA")
        return Caller(self.endpoint, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"],
                      self.verify)


def new_user(root, name, endpoint=None, verify=None):
    """An IAM user with one access key and no policy; returns its Caller with .name, .arn, .user_id."""
    user = root.iam.create_user(UserName=name)["User"]
    key = root.iam.create_access_key(UserName=name)["AccessKey"]
    caller = Caller(endpoint or root.endpoint, key["AccessKeyId"], key["SecretAccessKey"],
                    verify=root.verify if verify is None else verify)
    caller.name, caller.arn, caller.user_id = name, user["Arn"], user["UserId"]
    return caller


def anonymous(endpoint):
    """An S3 client that signs nothing."""
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}))


def refused(call, code="AccessDenied", status=None):
    """Runs `call`, expects a ClientError with `code` (and HTTP `status`, by default 403 for
    AccessDenied); returns the error."""
    with pytest.raises(ClientError) as excinfo:
        call()
    response = excinfo.value.response
    assert response["Error"]["Code"] == code, response
    if status is None and code == "AccessDenied":
        status = 403
    if status is not None:
        assert response["ResponseMetadata"]["HTTPStatusCode"] == status, response
    return excinfo.value


def context_entries(values):
    """ContextEntries from {key: value}: bool -> boolean, int -> numeric, aws:SourceIp -> ip, else string."""
    entries = []
    for key, value in values.items():
        if isinstance(value, bool):
            kind, text = "boolean", "true" if value else "false"
        elif isinstance(value, int):
            kind, text = "numeric", str(value)
        elif key.lower() == "aws:sourceip":
            kind, text = "ip", value
        else:
            kind, text = "string", value
        entries.append({"ContextKeyName": key, "ContextKeyValues": [text], "ContextKeyType": kind})
    return entries


def simulate(iam, principal_arn, action, resource="*", context=None, resource_policy=None):
    """SimulatePrincipalPolicy's EvalDecision for one action on one resource."""
    kwargs = dict(PolicySourceArn=principal_arn, ActionNames=[action], ResourceArns=[resource])
    if context:
        kwargs["ContextEntries"] = context_entries(context)
    if resource_policy is not None:
        kwargs["ResourcePolicy"] = resource_policy
    results = iam.simulate_principal_policy(**kwargs)["EvaluationResults"]
    assert [r["EvalActionName"] for r in results] == [action], results
    result = results[0]
    assert result["EvalResourceName"] == resource, result
    # Allowed and explicitDeny name the statements that decided; implicitDeny has none.
    assert bool(result.get("MatchedStatements")) == (result["EvalDecision"] != "implicitDeny"), result
    return result["EvalDecision"]


def names(items, field):
    return sorted(item[field] for item in items)


def listed_keys(s3, bucket, **kwargs):
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, **kwargs).get("Contents", [])]


@pytest.fixture
def fresh():
    server = Server().start()
    yield server
    server.stop()


@pytest.fixture
def tls():
    """HTTPS on --port and plain HTTP on a second listener, one server."""
    server = Server(extra_args=["--tls-self-signed", "--http-port", "0"]).start()
    while b"also listening" not in server.output:  # the plain listener's line follows the HTTPS one
        server.output += server.process.stdout.readline()
    server.ca = os.path.join(server.data, "tls", "cert.pem")
    server.https = f"https://127.0.0.1:{server.port}"
    plain_port = int(server.output.decode().split("also listening on http://127.0.0.1:")[1].split()[0])
    server.plain = f"http://127.0.0.1:{plain_port}"
    yield server
    server.stop()


# --- Identity policies: nothing until allowed ---------------------------------------------------------


def test_new_user_can_do_nothing_until_a_policy_allows_it(fresh):
    root = Caller(fresh.endpoint)
    account = root.sts.get_caller_identity()["Account"]
    root.s3.create_bucket(Bucket="data")
    root.s3.put_object(Bucket="data", Key="k", Body=b"v")
    carol = new_user(root, "carol")
    # Who am I and GetSessionToken are never subject to policies.
    assert carol.sts.get_caller_identity()["Arn"] == carol.arn
    plain = carol.session()
    for call in [lambda: carol.s3.list_buckets(),
                 lambda: carol.s3.create_bucket(Bucket="mine"),
                 lambda: carol.s3.list_objects_v2(Bucket="data"),
                 lambda: carol.s3.get_object(Bucket="data", Key="k"),
                 lambda: carol.s3.put_object(Bucket="data", Key="k2", Body=b"x"),
                 lambda: carol.s3.delete_object(Bucket="data", Key="k"),
                 lambda: carol.s3.get_bucket_policy(Bucket="data"),
                 lambda: carol.iam.list_users(),
                 lambda: carol.iam.get_user(),
                 lambda: carol.iam.create_user(UserName="mallory"),
                 lambda: carol.iam.list_mfa_devices(),
                 lambda: carol.iam.create_virtual_mfa_device(VirtualMFADeviceName="carol-phone"),
                 lambda: carol.iam.list_attached_user_policies(UserName="carol"),
                 lambda: plain.s3.list_buckets()]:
        refused(call)
    refused(lambda: carol.s3.head_bucket(Bucket="data"), "403")  # HEAD: no body, the status is the code
    assert root.s3.get_object(Bucket="data", Key="k")["Body"].read() == b"v"  # nothing happened
    assert [b["Name"] for b in root.s3.list_buckets()["Buckets"]] == ["data"]
    # The root is not subject to identity policies.
    assert "carol" in names(root.iam.list_users()["Users"], "UserName")
    assert simulate(root.iam, carol.arn, "s3:ListAllMyBuckets") == "implicitDeny"
    assert simulate(root.iam, carol.arn, "iam:ListUsers") == "implicitDeny"

    # IAMReadOnlyAccess: IAM reads, no writes.
    root.iam.attach_user_policy(UserName="carol", PolicyArn=IAM_READ_ONLY)
    assert "carol" in names(carol.iam.list_users()["Users"], "UserName")
    assert carol.iam.get_user()["User"]["Arn"] == carol.arn
    refused(lambda: carol.iam.create_user(UserName="mallory"))
    refused(lambda: carol.s3.list_buckets())
    assert simulate(root.iam, carol.arn, "iam:ListUsers") == "allowed"
    assert simulate(root.iam, carol.arn, "iam:CreateUser", f"arn:aws:iam::{account}:user/mallory") == "implicitDeny"

    # Session credentials without MFA may not call IAM at all, whatever the policies say; with MFA
    # they carry the user's permissions.
    refused(lambda: plain.iam.list_users())
    device = Device(root.iam, "carol-phone", user="carol")
    device.enable(root.iam)
    with_mfa = carol.session(device)
    assert "carol" in names(with_mfa.iam.list_users()["Users"], "UserName")
    refused(lambda: with_mfa.iam.create_user(UserName="mallory"))
    refused(lambda: with_mfa.s3.list_buckets())


def test_session_without_mfa_cannot_call_iam_even_as_administrator(fresh):
    root = Caller(fresh.endpoint)
    admin = new_user(root, "admin")
    root.iam.attach_user_policy(UserName="admin", PolicyArn=ADMIN)
    admin.iam.create_user(UserName="made-by-admin")  # long-term keys: the policy allows everything
    admin.s3.create_bucket(Bucket="admin-bucket")
    plain = admin.session()
    refused(lambda: plain.iam.list_users())
    refused(lambda: plain.iam.create_user(UserName="made-by-session"))
    assert [b["Name"] for b in plain.s3.list_buckets()["Buckets"]] == ["admin-bucket"]  # S3 is fine
    assert "made-by-session" not in names(root.iam.list_users()["Users"], "UserName")


# --- 1. Self-managed MFA: nothing but enrolment until signed in with MFA -----------------------------


def test_self_manage_mfa_policy_allows_only_enrolment_until_signed_in_with_mfa(fresh):
    root = Caller(fresh.endpoint)
    account = root.sts.get_caller_identity()["Account"]
    root.s3.create_bucket(Bucket="reports")
    root.s3.put_object(Bucket="reports", Key="q1.csv", Body=b"figures")
    alice = new_user(root, "alice")
    root.iam.create_user(UserName="bob")
    root.iam.put_user_policy(UserName="alice", PolicyName="SelfManageMFA", PolicyDocument=SELF_MANAGE_MFA)
    root.iam.attach_user_policy(UserName="alice", PolicyArn=S3_READ_ONLY)

    # Long-term keys never carry MFA: AmazonS3ReadOnlyAccess is overruled by the explicit Deny.
    refused(lambda: alice.s3.list_buckets())
    refused(lambda: alice.s3.get_object(Bucket="reports", Key="q1.csv"))
    refused(lambda: alice.iam.get_user())
    refused(lambda: alice.iam.list_mfa_devices(UserName="bob"))  # only her own user
    # …but she may enrol: create a device (any name), enable it on her own user, list.
    device = Device(alice.iam, "alice-phone", user="alice")
    assert device.serial == f"arn:aws:iam::{account}:mfa/alice-phone"
    device.enable(alice.iam)
    assert [d["SerialNumber"] for d in alice.iam.list_mfa_devices()["MFADevices"]] == [device.serial]
    assert [d["SerialNumber"] for d in alice.iam.list_mfa_devices(UserName="alice")["MFADevices"]] == [device.serial]
    assert device.serial in [d["SerialNumber"] for d in alice.iam.list_virtual_mfa_devices()["VirtualMFADevices"]]
    assert {"alice", "bob"} <= set(names(alice.iam.list_users()["Users"], "UserName"))
    refused(lambda: alice.iam.deactivate_mfa_device(UserName="alice", SerialNumber=device.serial))
    refused(lambda: alice.s3.list_buckets())  # an enabled device changes nothing for long-term keys
    # A session without a code is no better (and may not call IAM at all).
    plain = alice.session()
    refused(lambda: plain.s3.list_buckets())
    refused(lambda: plain.iam.list_mfa_devices())

    # Signed in with MFA: the Deny no longer applies; what the other policies allow, she may do.
    session = alice.session(device)
    assert [b["Name"] for b in session.s3.list_buckets()["Buckets"]] == ["reports"]
    assert session.s3.get_object(Bucket="reports", Key="q1.csv")["Body"].read() == b"figures"
    refused(lambda: session.s3.put_object(Bucket="reports", Key="q2.csv", Body=b"x"))  # read-only
    refused(lambda: session.iam.get_user())  # MFA lifts the Deny; nothing allows iam:GetUser
    assert [d["SerialNumber"] for d in session.iam.list_mfa_devices()["MFADevices"]] == [device.serial]

    # The simulator agrees.
    me = {"aws:username": "alice"}
    mfa = {"aws:username": "alice", "aws:MultiFactorAuthPresent": True}
    user_arn = f"arn:aws:iam::{account}:user/alice"
    assert simulate(root.iam, alice.arn, "s3:ListAllMyBuckets") == "explicitDeny"
    assert simulate(root.iam, alice.arn, "s3:ListAllMyBuckets", context=mfa) == "allowed"
    assert simulate(root.iam, alice.arn, "s3:GetObject", "arn:aws:s3:::reports/q1.csv") == "explicitDeny"
    assert simulate(root.iam, alice.arn, "s3:GetObject", "arn:aws:s3:::reports/q1.csv", mfa) == "allowed"
    assert simulate(root.iam, alice.arn, "s3:PutObject", "arn:aws:s3:::reports/q2.csv", mfa) == "implicitDeny"
    assert simulate(root.iam, alice.arn, "iam:CreateVirtualMFADevice",
                    f"arn:aws:iam::{account}:mfa/alice-phone") == "allowed"
    assert simulate(root.iam, alice.arn, "iam:EnableMFADevice", user_arn, me) == "allowed"
    assert simulate(root.iam, alice.arn, "iam:ListMFADevices", f"arn:aws:iam::{account}:user/bob", me) == "implicitDeny"
    assert simulate(root.iam, alice.arn, "iam:GetUser", user_arn, mfa) == "implicitDeny"
    assert simulate(root.iam, alice.arn, "iam:DeactivateMFADevice", user_arn, me) == "explicitDeny"
    assert simulate(root.iam, alice.arn, "iam:DeactivateMFADevice", user_arn, mfa) == "allowed"

    # AllowUserToDeactivateTheirOwnMFAOnlyWhenUsingMFA: with MFA she may deactivate her own device.
    session.iam.deactivate_mfa_device(UserName="alice", SerialNumber=device.serial)
    assert root.iam.list_mfa_devices(UserName="alice")["MFADevices"] == []


# --- 2. Bucket policy: deletes need a recent MFA sign-in ----------------------------------------------


def test_mfa_age_bucket_policy_refuses_deletes_without_recent_mfa_even_to_the_root(fresh):
    root = Caller(fresh.endpoint)
    root.s3.create_bucket(Bucket="taxes")
    policy = for_bucket(MFA_AGE_DELETE_GUARD, "taxes")
    root.s3.put_bucket_policy(Bucket="taxes", Policy=policy)
    assert json.loads(root.s3.get_bucket_policy(Bucket="taxes")["Policy"]) == json.loads(policy)
    rose = new_user(root, "rose")
    root.iam.attach_user_policy(UserName="rose", PolicyArn=S3_FULL)
    device = Device(root.iam, "rose-phone", user="rose")
    device.enable(root.iam)
    key = "taxdocuments/2024.pdf"

    # Long-term keys: PUT and GET, not DELETE (aws:MultiFactorAuthAge is absent).
    rose.s3.put_object(Bucket="taxes", Key=key, Body=b"return")
    assert rose.s3.get_object(Bucket="taxes", Key=key)["Body"].read() == b"return"
    rose.s3.put_object(Bucket="taxes", Key="outside.txt", Body=b"x")
    rose.s3.delete_object(Bucket="taxes", Key="outside.txt")  # outside taxdocuments/: not guarded
    refused(lambda: rose.s3.delete_object(Bucket="taxes", Key=key))
    result = rose.s3.delete_objects(Bucket="taxes", Delete={"Objects": [{"Key": key}]})
    assert result.get("Deleted", []) == []
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [(key, "AccessDenied")]
    refused(lambda: rose.session().s3.delete_object(Bucket="taxes", Key=key))  # no MFA in the session
    # The bucket policy's Deny binds the root too.
    refused(lambda: root.s3.delete_object(Bucket="taxes", Key=key))
    assert root.s3.get_object(Bucket="taxes", Key=key)["Body"].read() == b"return"

    # Signed in with MFA a moment ago: the delete goes through.
    session = rose.session(device)
    session.s3.delete_object(Bucket="taxes", Key=key)
    refused(lambda: root.s3.head_object(Bucket="taxes", Key=key), "404", 404)

    # The simulator agrees (and sees the age limit, which this test cannot wait for).
    arn = f"arn:aws:s3:::taxes/{key}"
    assert simulate(root.iam, rose.arn, "s3:DeleteObject", arn, resource_policy=policy) == "explicitDeny"
    assert simulate(root.iam, rose.arn, "s3:DeleteObjectVersion", arn, resource_policy=policy) == "explicitDeny"
    recent = {"aws:MultiFactorAuthPresent": True, "aws:MultiFactorAuthAge": 30}
    stale = {"aws:MultiFactorAuthPresent": True, "aws:MultiFactorAuthAge": 301}
    assert simulate(root.iam, rose.arn, "s3:DeleteObject", arn, recent, policy) == "allowed"
    assert simulate(root.iam, rose.arn, "s3:DeleteObject", arn, stale, policy) == "explicitDeny"
    assert simulate(root.iam, rose.arn, "s3:PutObject", arn, resource_policy=policy) == "allowed"
    assert simulate(root.iam, rose.arn, "s3:GetObject", arn, resource_policy=policy) == "allowed"

    # The root may always remove the policy; then its delete works.
    root.s3.put_object(Bucket="taxes", Key="taxdocuments/2025.pdf", Body=b"next")
    refused(lambda: root.s3.delete_object(Bucket="taxes", Key="taxdocuments/2025.pdf"))
    root.s3.delete_bucket_policy(Bucket="taxes")
    root.s3.delete_object(Bucket="taxes", Key="taxdocuments/2025.pdf")
    assert listed_keys(root.s3, "taxes") == []


# --- 3. Deny non-HTTPS, and the root's bucket-policy escape hatch ------------------------------------


def test_https_only_bucket_policy_refuses_plain_http_even_to_the_root_but_not_its_policy_calls(tls):
    root = Caller(tls.https, verify=tls.ca)
    root_http = root.on(tls.plain)
    root.s3.create_bucket(Bucket="secure")
    root.s3.put_object(Bucket="secure", Key="doc", Body=b"secret")
    pat = new_user(root, "pat", verify=tls.ca)
    root.iam.attach_user_policy(UserName="pat", PolicyArn=S3_FULL)
    pat_http = pat.on(tls.plain)
    assert pat_http.s3.get_object(Bucket="secure", Key="doc")["Body"].read() == b"secret"  # no policy yet

    policy = for_bucket(HTTPS_ONLY, "secure")
    root.s3.put_bucket_policy(Bucket="secure", Policy=policy)
    refused(lambda: pat_http.s3.get_object(Bucket="secure", Key="doc"))
    refused(lambda: pat_http.s3.put_object(Bucket="secure", Key="new", Body=b"x"))
    refused(lambda: pat_http.s3.list_objects_v2(Bucket="secure"))
    refused(lambda: pat_http.s3.get_bucket_policy(Bucket="secure"))
    assert "secure" in [b["Name"] for b in pat_http.s3.list_buckets()["Buckets"]]  # not a bucket resource
    # Over HTTPS the same user, same keys, may.
    assert pat.s3.get_object(Bucket="secure", Key="doc")["Body"].read() == b"secret"
    pat.s3.put_object(Bucket="secure", Key="new", Body=b"x")

    # The root over plain HTTP is refused too — except Get/Put/DeleteBucketPolicy.
    refused(lambda: root_http.s3.get_object(Bucket="secure", Key="doc"))
    refused(lambda: root_http.s3.put_object(Bucket="secure", Key="root-new", Body=b"x"))
    assert json.loads(root_http.s3.get_bucket_policy(Bucket="secure")["Policy"]) == json.loads(policy)
    root_http.s3.put_bucket_policy(Bucket="secure", Policy=policy)
    assert root.s3.get_bucket_policy_status(Bucket="secure")["PolicyStatus"]["IsPublic"] is False  # Deny only

    arn = "arn:aws:s3:::secure/doc"
    assert simulate(root.iam, pat.arn, "s3:GetObject", arn, {"aws:SecureTransport": False}, policy) == "explicitDeny"
    assert simulate(root.iam, pat.arn, "s3:GetObject", arn, {"aws:SecureTransport": True}, policy) == "allowed"

    root_http.s3.delete_bucket_policy(Bucket="secure")
    assert pat_http.s3.get_object(Bucket="secure", Key="doc")["Body"].read() == b"secret"
    assert root_http.s3.get_object(Bucket="secure", Key="new")["Body"].read() == b"x"


def test_source_ip_bucket_policy_locks_out_everyone_but_the_roots_policy_calls(fresh):
    root = Caller(fresh.endpoint)
    root.s3.create_bucket(Bucket="office")
    root.s3.put_object(Bucket="office", Key="plan", Body=b"p")
    quinn = new_user(root, "quinn")
    root.iam.attach_user_policy(UserName="quinn", PolicyArn=S3_FULL)
    policy = for_bucket(SOURCE_IP, "office")
    root.s3.put_bucket_policy(Bucket="office", Policy=policy)
    # Requests come from 127.0.0.1, outside 54.240.143.0/24.
    refused(lambda: quinn.s3.get_object(Bucket="office", Key="plan"))
    refused(lambda: root.s3.get_object(Bucket="office", Key="plan"))
    refused(lambda: root.s3.list_objects_v2(Bucket="office"))
    refused(lambda: quinn.s3.delete_bucket_policy(Bucket="office"))  # the escape hatch is the root's only
    assert json.loads(root.s3.get_bucket_policy(Bucket="office")["Policy"]) == json.loads(policy)
    arn = "arn:aws:s3:::office/plan"
    assert simulate(root.iam, quinn.arn, "s3:GetObject", arn, {"aws:SourceIp": "127.0.0.1"}, policy) == "explicitDeny"
    assert simulate(root.iam, quinn.arn, "s3:GetObject", arn, {"aws:SourceIp": "54.240.143.7"}, policy) == "allowed"
    root.s3.delete_bucket_policy(Bucket="office")
    assert quinn.s3.get_object(Bucket="office", Key="plan")["Body"].read() == b"p"


# --- 4. Home directories with ${aws:username} and s3:prefix ------------------------------------------


def test_home_directory_policy_confines_each_user_to_their_own_folder(fresh):
    root = Caller(fresh.endpoint)
    root.s3.create_bucket(Bucket="homes")
    for key in ["home/alice/notes.txt", "home/bob/x", "top.txt"]:
        root.s3.put_object(Bucket="homes", Key=key, Body=key.encode())
    policy = for_bucket(HOME_DIRECTORY, "homes", placeholder="amzn-s3-demo-bucket")
    alice = new_user(root, "alice")
    bob = new_user(root, "bob")
    for user in ("alice", "bob"):
        root.iam.put_user_policy(UserName=user, PolicyName="HomeDirectory", PolicyDocument=policy)

    assert listed_keys(alice.s3, "homes", Prefix="home/alice/") == ["home/alice/notes.txt"]
    top = alice.s3.list_objects_v2(Bucket="homes", Prefix="home/", Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["home/alice/", "home/bob/"]
    alice.s3.put_object(Bucket="homes", Key="home/alice/draft.txt", Body=b"mine")
    assert alice.s3.get_object(Bucket="homes", Key="home/alice/draft.txt")["Body"].read() == b"mine"
    alice.s3.delete_object(Bucket="homes", Key="home/alice/draft.txt")
    assert "homes" in [b["Name"] for b in alice.s3.list_buckets()["Buckets"]]  # S3ConsoleAccess
    alice.s3.get_bucket_location(Bucket="homes")

    refused(lambda: alice.s3.list_objects_v2(Bucket="homes", Prefix="home/bob/"))
    refused(lambda: alice.s3.list_objects_v2(Bucket="homes", Prefix="home/b"))
    refused(lambda: alice.s3.get_object(Bucket="homes", Key="home/bob/x"))
    refused(lambda: alice.s3.put_object(Bucket="homes", Key="home/bob/y", Body=b"y"))
    refused(lambda: alice.s3.get_object(Bucket="homes", Key="top.txt"))
    # The same policy gives bob his folder and not hers.
    assert listed_keys(bob.s3, "homes", Prefix="home/bob/") == ["home/bob/x"]
    refused(lambda: bob.s3.get_object(Bucket="homes", Key="home/alice/notes.txt"))
    assert listed_keys(root.s3, "homes") == ["home/alice/notes.txt", "home/bob/x", "top.txt"]

    as_alice = {"aws:username": "alice"}
    assert simulate(root.iam, alice.arn, "s3:ListBucket", "arn:aws:s3:::homes",
                    {"aws:username": "alice", "s3:prefix": "home/alice/"}) == "allowed"
    assert simulate(root.iam, alice.arn, "s3:ListBucket", "arn:aws:s3:::homes",
                    {"aws:username": "alice", "s3:prefix": "home/bob/"}) == "implicitDeny"
    assert simulate(root.iam, alice.arn, "s3:GetObject", "arn:aws:s3:::homes/home/alice/notes.txt",
                    as_alice) == "allowed"
    assert simulate(root.iam, alice.arn, "s3:GetObject", "arn:aws:s3:::homes/home/bob/x", as_alice) == "implicitDeny"


# --- 5. Public read for anonymous callers ------------------------------------------------------------


def test_public_read_bucket_policy_lets_anonymous_callers_get_and_nothing_else(fresh):
    root = Caller(fresh.endpoint)
    anon = anonymous(fresh.endpoint)
    root.s3.create_bucket(Bucket="site")
    root.s3.put_bucket_versioning(Bucket="site", VersioningConfiguration={"Status": "Enabled"})
    first = root.s3.put_object(Bucket="site", Key="index.html", Body=b"<h1>v1</h1>")["VersionId"]
    root.s3.put_object(Bucket="site", Key="index.html", Body=b"<h1>v2</h1>")
    refused(lambda: anon.get_object(Bucket="site", Key="index.html"))  # private by default
    refused(lambda: anon.list_buckets())

    policy = for_bucket(PUBLIC_READ, "site")
    root.s3.put_bucket_policy(Bucket="site", Policy=policy)
    assert anon.get_object(Bucket="site", Key="index.html")["Body"].read() == b"<h1>v2</h1>"
    assert anon.get_object(Bucket="site", Key="index.html", VersionId=first)["Body"].read() == b"<h1>v1</h1>"
    assert anon.head_object(Bucket="site", Key="index.html")["ContentLength"] == len(b"<h1>v2</h1>")
    refused(lambda: anon.put_object(Bucket="site", Key="defaced.html", Body=b"x"))
    refused(lambda: anon.delete_object(Bucket="site", Key="index.html"))
    refused(lambda: anon.list_objects_v2(Bucket="site"))
    refused(lambda: anon.get_object(Bucket="site", Key="missing.html"))  # 403, not 404: no s3:ListBucket
    refused(lambda: anon.get_bucket_policy(Bucket="site"))
    assert root.s3.get_bucket_policy_status(Bucket="site")["PolicyStatus"]["IsPublic"] is True

    # Principal "*" covers signed callers too: a user with no policy of its own reads, nothing more.
    bob = new_user(root, "bob")
    assert bob.s3.get_object(Bucket="site", Key="index.html")["Body"].read() == b"<h1>v2</h1>"
    refused(lambda: bob.s3.put_object(Bucket="site", Key="defaced.html", Body=b"x"))
    arn = "arn:aws:s3:::site/index.html"
    assert simulate(root.iam, bob.arn, "s3:GetObject", arn, resource_policy=policy) == "allowed"
    assert simulate(root.iam, bob.arn, "s3:PutObject", arn, resource_policy=policy) == "implicitDeny"
    assert simulate(root.iam, bob.arn, "s3:GetObject", arn) == "implicitDeny"  # identity policies alone

    root.s3.delete_bucket_policy(Bucket="site")
    refused(lambda: anon.get_object(Bucket="site", Key="index.html"))
    refused(lambda: bob.s3.get_object(Bucket="site", Key="index.html"))
    assert len(root.s3.list_object_versions(Bucket="site")["Versions"]) == 2  # nothing was deleted


# --- 6. Explicit Deny beats Allow --------------------------------------------------------------------


def test_explicit_deny_beats_allow_in_identity_and_bucket_policies(fresh):
    root = Caller(fresh.endpoint)
    root.s3.create_bucket(Bucket="ledger")
    for key in ["open", "secret/plan", "shared/doc"]:
        root.s3.put_object(Bucket="ledger", Key=key, Body=key.encode())
    dana = new_user(root, "dana")
    root.iam.put_user_policy(UserName="dana", PolicyName="AllowS3", PolicyDocument=statement_policy(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
    root.iam.put_user_policy(UserName="dana", PolicyName="NoDeletes", PolicyDocument=statement_policy(
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}))
    dana.s3.put_object(Bucket="ledger", Key="dana.txt", Body=b"d")
    assert dana.s3.get_object(Bucket="ledger", Key="open")["Body"].read() == b"open"
    refused(lambda: dana.s3.delete_object(Bucket="ledger", Key="dana.txt"))
    result = dana.s3.delete_objects(Bucket="ledger", Delete={"Objects": [{"Key": "dana.txt"}]})
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [("dana.txt", "AccessDenied")]
    assert simulate(root.iam, dana.arn, "s3:DeleteObject", "arn:aws:s3:::ledger/dana.txt") == "explicitDeny"
    assert simulate(root.iam, dana.arn, "s3:PutObject", "arn:aws:s3:::ledger/dana.txt") == "allowed"

    # A bucket-policy Deny naming dana beats her identity Allow; an Allow naming erin, who has no
    # policy at all, is enough on its own within the account.
    erin = new_user(root, "erin")
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "NoSecretsForDana", "Effect": "Deny", "Principal": {"AWS": dana.arn}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::ledger/secret/*"},
        {"Sid": "ShareWithErin", "Effect": "Allow", "Principal": {"AWS": erin.arn}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::ledger/shared/*"}]})
    root.s3.put_bucket_policy(Bucket="ledger", Policy=policy)
    refused(lambda: dana.s3.get_object(Bucket="ledger", Key="secret/plan"))
    assert dana.s3.get_object(Bucket="ledger", Key="shared/doc")["Body"].read() == b"shared/doc"
    assert root.s3.get_object(Bucket="ledger", Key="secret/plan")["Body"].read() == b"secret/plan"
    assert erin.s3.get_object(Bucket="ledger", Key="shared/doc")["Body"].read() == b"shared/doc"
    refused(lambda: erin.s3.get_object(Bucket="ledger", Key="open"))
    refused(lambda: erin.s3.get_object(Bucket="ledger", Key="secret/plan"))
    assert root.s3.get_bucket_policy_status(Bucket="ledger")["PolicyStatus"]["IsPublic"] is False

    secret, shared = "arn:aws:s3:::ledger/secret/plan", "arn:aws:s3:::ledger/shared/doc"
    assert simulate(root.iam, dana.arn, "s3:GetObject", secret) == "allowed"  # identity policies alone
    assert simulate(root.iam, dana.arn, "s3:GetObject", secret, resource_policy=policy) == "explicitDeny"
    assert simulate(root.iam, dana.arn, "s3:GetObject", shared, resource_policy=policy) == "allowed"
    assert simulate(root.iam, erin.arn, "s3:GetObject", shared) == "implicitDeny"
    assert simulate(root.iam, erin.arn, "s3:GetObject", shared, resource_policy=policy) == "allowed"
    assert simulate(root.iam, erin.arn, "s3:GetObject", "arn:aws:s3:::ledger/open",
                    resource_policy=policy) == "implicitDeny"


# --- Condition keys and policy variables ------------------------------------------------------------


def test_userid_principal_arn_source_ip_and_delimiter_keys(fresh):
    root = Caller(fresh.endpoint)
    root.s3.create_bucket(Bucket="keys")
    root.s3.put_object(Bucket="keys", Key="shared/doc", Body=b"doc")
    nina = new_user(root, "nina")
    oscar = new_user(root, "oscar")
    identity = statement_policy(
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"],
         "Resource": "arn:aws:s3:::keys/${aws:userid}/*"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::keys",
         "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}, "StringEquals": {"s3:delimiter": "/"}}})
    root.iam.put_user_policy(UserName="nina", PolicyName="Own", PolicyDocument=identity)
    nina.s3.put_object(Bucket="keys", Key=f"{nina.user_id}/a", Body=b"a")
    refused(lambda: nina.s3.put_object(Bucket="keys", Key="nina/a", Body=b"a"))  # the user name is not the id
    assert nina.s3.list_objects_v2(Bucket="keys", Delimiter="/")["CommonPrefixes"] == [
        {"Prefix": f"{nina.user_id}/"}, {"Prefix": "shared/"}]
    refused(lambda: nina.s3.list_objects_v2(Bucket="keys"))  # no delimiter: s3:delimiter absent

    bucket_policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::keys/shared/*",
         "Condition": {"ArnEquals": {"aws:PrincipalArn": nina.arn}}}]})
    root.s3.put_bucket_policy(Bucket="keys", Policy=bucket_policy)
    assert nina.s3.get_object(Bucket="keys", Key="shared/doc")["Body"].read() == b"doc"
    refused(lambda: oscar.s3.get_object(Bucket="keys", Key="shared/doc"))
    refused(lambda: anonymous(fresh.endpoint).get_object(Bucket="keys", Key="shared/doc"))

    elsewhere = identity.replace("127.0.0.0/8", "10.0.0.0/8")
    root.iam.put_user_policy(UserName="nina", PolicyName="Own", PolicyDocument=elsewhere)
    refused(lambda: nina.s3.list_objects_v2(Bucket="keys", Delimiter="/"))

    own = f"arn:aws:s3:::keys/{nina.user_id}/a"
    assert simulate(root.iam, nina.arn, "s3:GetObject", own, {"aws:userid": nina.user_id}) == "allowed"
    assert simulate(root.iam, nina.arn, "s3:GetObject", "arn:aws:s3:::keys/nina/a",
                    {"aws:userid": nina.user_id}) == "implicitDeny"
    assert simulate(root.iam, oscar.arn, "s3:GetObject", "arn:aws:s3:::keys/shared/doc",
                    {"aws:PrincipalArn": oscar.arn}, bucket_policy) == "implicitDeny"
    assert simulate(root.iam, nina.arn, "s3:GetObject", "arn:aws:s3:::keys/shared/doc",
                    {"aws:PrincipalArn": nina.arn}, bucket_policy) == "allowed"


# --- 9. 404 or 403 for a missing key ------------------------------------------------------------------


def test_missing_key_is_404_only_for_callers_allowed_to_list(fresh):
    root = Caller(fresh.endpoint)
    root.s3.create_bucket(Bucket="box")
    root.s3.put_object(Bucket="box", Key="present", Body=b"here")
    gail = new_user(root, "gail")
    root.iam.put_user_policy(UserName="gail", PolicyName="Read", PolicyDocument=statement_policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::box/*"}))
    assert gail.s3.get_object(Bucket="box", Key="present")["Body"].read() == b"here"
    refused(lambda: gail.s3.get_object(Bucket="box", Key="absent"), "AccessDenied", 403)
    refused(lambda: gail.s3.head_object(Bucket="box", Key="absent"), "403", 403)
    refused(lambda: gail.s3.head_bucket(Bucket="box"), "403", 403)  # HeadBucket is s3:ListBucket
    assert simulate(root.iam, gail.arn, "s3:ListBucket", "arn:aws:s3:::box") == "implicitDeny"

    root.iam.put_user_policy(UserName="gail", PolicyName="List", PolicyDocument=statement_policy(
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::box"}))
    refused(lambda: gail.s3.get_object(Bucket="box", Key="absent"), "NoSuchKey", 404)
    refused(lambda: gail.s3.head_object(Bucket="box", Key="absent"), "404", 404)
    gail.s3.head_bucket(Bucket="box")
    assert simulate(root.iam, gail.arn, "s3:ListBucket", "arn:aws:s3:::box") == "allowed"


# --- 10. DeleteObjects is authorized key by key --------------------------------------------------------


def test_delete_objects_checks_each_key_and_deletes_the_allowed_ones(fresh):
    root = Caller(fresh.endpoint)
    root.s3.create_bucket(Bucket="bin")
    for key in ["a/1", "a/2", "b/1"]:
        root.s3.put_object(Bucket="bin", Key=key, Body=b"x")
    hank = new_user(root, "hank")
    root.iam.put_user_policy(UserName="hank", PolicyName="PruneA", PolicyDocument=statement_policy(
        {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::bin/a/*"}))
    result = hank.s3.delete_objects(Bucket="bin", Delete={"Objects": [{"Key": "a/1"}, {"Key": "b/1"}]})
    assert [d["Key"] for d in result.get("Deleted", [])] == ["a/1"]
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [("b/1", "AccessDenied")]
    assert listed_keys(root.s3, "bin") == ["a/2", "b/1"]
    # Quiet: only the errors come back; a missing key under a/ is "deleted", one under b/ refused.
    quiet = hank.s3.delete_objects(Bucket="bin", Delete={
        "Objects": [{"Key": "a/2"}, {"Key": "b/1"}, {"Key": "a/missing"}, {"Key": "b/missing"}], "Quiet": True})
    assert quiet.get("Deleted", []) == []
    assert sorted((e["Key"], e["Code"]) for e in quiet["Errors"]) == [("b/1", "AccessDenied"),
                                                                     ("b/missing", "AccessDenied")]
    assert listed_keys(root.s3, "bin") == ["b/1"]
    refused(lambda: hank.s3.delete_object(Bucket="bin", Key="b/1"))
    assert simulate(root.iam, hank.arn, "s3:DeleteObject", "arn:aws:s3:::bin/a/1") == "allowed"
    assert simulate(root.iam, hank.arn, "s3:DeleteObject", "arn:aws:s3:::bin/b/1") == "implicitDeny"


# --- Which action each S3 operation needs -------------------------------------------------------------


def test_version_and_copy_operations_need_their_own_actions(fresh):
    root = Caller(fresh.endpoint)
    root.s3.create_bucket(Bucket="archive")
    root.s3.put_bucket_versioning(Bucket="archive", VersioningConfiguration={"Status": "Enabled"})
    v1 = root.s3.put_object(Bucket="archive", Key="doc", Body=b"one")["VersionId"]
    root.s3.put_object(Bucket="archive", Key="doc", Body=b"two")
    root.s3.create_bucket(Bucket="private")
    root.s3.put_object(Bucket="private", Key="secret", Body=b"s")
    ivy = new_user(root, "ivy")
    root.iam.put_user_policy(UserName="ivy", PolicyName="Basic", PolicyDocument=statement_policy(
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
         "Resource": "arn:aws:s3:::archive/*"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::archive"}))

    assert ivy.s3.get_object(Bucket="archive", Key="doc")["Body"].read() == b"two"
    ivy.s3.head_object(Bucket="archive", Key="doc")
    ivy.s3.head_bucket(Bucket="archive")
    assert listed_keys(ivy.s3, "archive") == ["doc"]
    refused(lambda: ivy.s3.get_object(Bucket="archive", Key="doc", VersionId=v1))  # s3:GetObjectVersion
    refused(lambda: ivy.s3.list_object_versions(Bucket="archive"))  # s3:ListBucketVersions
    refused(lambda: ivy.s3.delete_object(Bucket="archive", Key="doc", VersionId=v1))  # s3:DeleteObjectVersion
    ivy.s3.copy_object(Bucket="archive", Key="copy", CopySource={"Bucket": "archive", "Key": "doc"})
    refused(lambda: ivy.s3.copy_object(Bucket="archive", Key="stolen",
                                       CopySource={"Bucket": "private", "Key": "secret"}))  # GetObject on source
    assert root.s3.get_object(Bucket="archive", Key="copy")["Body"].read() == b"two"
    assert simulate(root.iam, ivy.arn, "s3:GetObjectVersion", "arn:aws:s3:::archive/doc") == "implicitDeny"
    assert simulate(root.iam, ivy.arn, "s3:GetObject", "arn:aws:s3:::private/secret") == "implicitDeny"

    root.iam.put_user_policy(UserName="ivy", PolicyName="Versions", PolicyDocument=statement_policy(
        {"Effect": "Allow", "Action": ["s3:GetObjectVersion", "s3:DeleteObjectVersion"],
         "Resource": "arn:aws:s3:::archive/*"},
        {"Effect": "Allow", "Action": "s3:ListBucketVersions", "Resource": "arn:aws:s3:::archive"}))
    assert ivy.s3.get_object(Bucket="archive", Key="doc", VersionId=v1)["Body"].read() == b"one"
    assert v1 in [v["VersionId"] for v in ivy.s3.list_object_versions(Bucket="archive")["Versions"]]
    ivy.s3.delete_object(Bucket="archive", Key="doc", VersionId=v1)
    assert ivy.s3.delete_object(Bucket="archive", Key="copy")["DeleteMarker"] is True  # a marker: s3:DeleteObject
    assert simulate(root.iam, ivy.arn, "s3:GetObjectVersion", "arn:aws:s3:::archive/doc") == "allowed"


# --- 11. Changes apply to the very next request --------------------------------------------------------


def test_policy_changes_apply_to_the_next_request(fresh):
    root = Caller(fresh.endpoint)
    account = root.sts.get_caller_identity()["Account"]
    root.s3.create_bucket(Bucket="live")
    root.s3.put_object(Bucket="live", Key="k", Body=b"v")
    jack = new_user(root, "jack")
    session = jack.session()  # session credentials follow the user's policies as they change
    refused(lambda: jack.s3.list_buckets())

    root.iam.attach_user_policy(UserName="jack", PolicyArn=S3_READ_ONLY)
    assert [b["Name"] for b in jack.s3.list_buckets()["Buckets"]] == ["live"]
    assert [b["Name"] for b in session.s3.list_buckets()["Buckets"]] == ["live"]
    root.iam.detach_user_policy(UserName="jack", PolicyArn=S3_READ_ONLY)
    refused(lambda: jack.s3.list_buckets())
    refused(lambda: session.s3.list_buckets())
    assert simulate(root.iam, jack.arn, "s3:ListAllMyBuckets") == "implicitDeny"

    list_all = statement_policy({"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"})
    root.iam.put_user_policy(UserName="jack", PolicyName="List", PolicyDocument=list_all)
    jack.s3.list_buckets()
    root.iam.delete_user_policy(UserName="jack", PolicyName="List")
    refused(lambda: jack.s3.list_buckets())

    arn = root.iam.create_policy(PolicyName="Lister", PolicyDocument=list_all)["Policy"]["Arn"]
    assert arn == f"arn:aws:iam::{account}:policy/Lister"
    root.iam.attach_user_policy(UserName="jack", PolicyArn=arn)
    jack.s3.list_buckets()
    root.iam.create_policy_version(PolicyArn=arn, SetAsDefault=True, PolicyDocument=statement_policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::live/*"}))
    refused(lambda: jack.s3.list_buckets())
    assert jack.s3.get_object(Bucket="live", Key="k")["Body"].read() == b"v"
    root.iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    jack.s3.list_buckets()
    refused(lambda: jack.s3.get_object(Bucket="live", Key="k"))
    root.iam.detach_user_policy(UserName="jack", PolicyArn=arn)
    refused(lambda: jack.s3.list_buckets())

    root.iam.create_group(GroupName="listers")
    root.iam.put_group_policy(GroupName="listers", PolicyName="List", PolicyDocument=list_all)
    root.iam.add_user_to_group(GroupName="listers", UserName="jack")
    jack.s3.list_buckets()
    root.iam.remove_user_from_group(GroupName="listers", UserName="jack")
    refused(lambda: jack.s3.list_buckets())

    root.s3.put_bucket_policy(Bucket="live", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": jack.arn}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::live/*"}]}))
    assert jack.s3.get_object(Bucket="live", Key="k")["Body"].read() == b"v"
    root.s3.delete_bucket_policy(Bucket="live")
    refused(lambda: jack.s3.get_object(Bucket="live", Key="k"))


# --- 8. API shapes ------------------------------------------------------------------------------------


def test_inline_user_policy_round_trip(fresh):
    root = Caller(fresh.endpoint)
    root.iam.create_user(UserName="kate")
    read = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": ["arn:aws:s3:::reports", "arn:aws:s3:::reports/*"],
         "Condition": {"Bool": {"aws:SecureTransport": True}, "NumericLessThan": {"aws:MultiFactorAuthAge": 3600}}}]}
    write = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:PutObject",
                                                     "Resource": "arn:aws:s3:::reports/*"}}
    root.iam.put_user_policy(UserName="kate", PolicyName="ReadReports", PolicyDocument=json.dumps(read, indent=2))
    root.iam.put_user_policy(UserName="kate", PolicyName="WriteReports", PolicyDocument=json.dumps(write))
    got = root.iam.get_user_policy(UserName="kate", PolicyName="ReadReports")
    assert (got["UserName"], got["PolicyName"]) == ("kate", "ReadReports")
    assert got["PolicyDocument"] == read  # boto3 URL-decodes and parses the document
    assert root.iam.get_user_policy(UserName="kate", PolicyName="WriteReports")["PolicyDocument"] == write
    assert sorted(root.iam.list_user_policies(UserName="kate")["PolicyNames"]) == ["ReadReports", "WriteReports"]
    root.iam.put_user_policy(UserName="kate", PolicyName="ReadReports", PolicyDocument=json.dumps(write))  # replaces
    assert root.iam.get_user_policy(UserName="kate", PolicyName="ReadReports")["PolicyDocument"] == write
    assert root.iam.list_attached_user_policies(UserName="kate")["AttachedPolicies"] == []  # inline is not attached
    root.iam.delete_user_policy(UserName="kate", PolicyName="ReadReports")
    assert root.iam.list_user_policies(UserName="kate")["PolicyNames"] == ["WriteReports"]
    refused(lambda: root.iam.get_user_policy(UserName="kate", PolicyName="ReadReports"), "NoSuchEntity", 404)
    refused(lambda: root.iam.delete_user_policy(UserName="kate", PolicyName="ReadReports"), "NoSuchEntity", 404)
    refused(lambda: root.iam.put_user_policy(UserName="nobody", PolicyName="P", PolicyDocument=json.dumps(write)),
            "NoSuchEntity", 404)
    refused(lambda: root.iam.delete_user(UserName="kate"), "DeleteConflict", 409)  # an inline policy remains
    root.iam.delete_user_policy(UserName="kate", PolicyName="WriteReports")
    root.iam.delete_user(UserName="kate")


def test_managed_policy_versions_attachments_and_delete_conflicts(fresh):
    root = Caller(fresh.endpoint)
    account = root.sts.get_caller_identity()["Account"]
    root.iam.create_user(UserName="kate")

    def version_doc(n):
        return {"Version": "2012-10-17", "Statement": [
            {"Sid": f"V{n}", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::bucket{n}/*"}]}

    created = root.iam.create_policy(PolicyName="ReportsRead", Path="/team/", Description="read reports",
                                     PolicyDocument=json.dumps(version_doc(1)))["Policy"]
    arn = f"arn:aws:iam::{account}:policy/team/ReportsRead"
    assert (created["Arn"], created["PolicyName"], created["Path"]) == (arn, "ReportsRead", "/team/")
    assert (created["DefaultVersionId"], created["AttachmentCount"], created["IsAttachable"]) == ("v1", 0, True)
    assert created["PolicyId"].startswith("ANPA")
    refused(lambda: root.iam.create_policy(PolicyName="ReportsRead", PolicyDocument=json.dumps(version_doc(1))),
            "EntityAlreadyExists", 409)
    assert root.iam.get_policy(PolicyArn=arn)["Policy"]["Arn"] == arn
    first = root.iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert (first["VersionId"], first["IsDefaultVersion"], first["Document"]) == ("v1", True, version_doc(1))

    for n in range(2, 6):
        made = root.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(version_doc(n)))["PolicyVersion"]
        assert (made["VersionId"], made["IsDefaultVersion"]) == (f"v{n}", False)
    refused(lambda: root.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(version_doc(6))),
            "LimitExceeded", 409)  # at most five versions
    versions = root.iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert sorted(v["VersionId"] for v in versions) == ["v1", "v2", "v3", "v4", "v5"]
    assert [v["VersionId"] for v in versions if v["IsDefaultVersion"]] == ["v1"]

    root.iam.set_default_policy_version(PolicyArn=arn, VersionId="v3")
    assert root.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    versions = root.iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in versions if v["IsDefaultVersion"]] == ["v3"]
    assert root.iam.get_policy_version(PolicyArn=arn, VersionId="v3")["PolicyVersion"]["Document"] == version_doc(3)
    refused(lambda: root.iam.delete_policy_version(PolicyArn=arn, VersionId="v3"), "DeleteConflict", 409)  # default
    root.iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    refused(lambda: root.iam.get_policy_version(PolicyArn=arn, VersionId="v1"), "NoSuchEntity", 404)
    made = root.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(version_doc(6)),
                                          SetAsDefault=True)["PolicyVersion"]
    assert (made["VersionId"], made["IsDefaultVersion"]) == ("v6", True)  # ids are never reused
    assert root.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v6"

    spare = root.iam.create_policy(PolicyName="Spare", PolicyDocument=json.dumps(version_doc(1)))["Policy"]["Arn"]
    root.iam.attach_user_policy(UserName="kate", PolicyArn=arn)
    assert root.iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    assert root.iam.list_attached_user_policies(UserName="kate")["AttachedPolicies"] == [
        {"PolicyName": "ReportsRead", "PolicyArn": arn}]
    assert names(root.iam.list_policies(Scope="Local")["Policies"], "Arn") == sorted([arn, spare])
    assert names(root.iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"], "Arn") == [arn]
    refused(lambda: root.iam.delete_policy(PolicyArn=arn), "DeleteConflict", 409)  # attached
    refused(lambda: root.iam.delete_user(UserName="kate"), "DeleteConflict", 409)  # a policy attached
    refused(lambda: root.iam.attach_user_policy(UserName="kate", PolicyArn=f"arn:aws:iam::{account}:policy/Nope"),
            "NoSuchEntity", 404)

    root.iam.detach_user_policy(UserName="kate", PolicyArn=arn)
    assert root.iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 0
    assert root.iam.list_attached_user_policies(UserName="kate")["AttachedPolicies"] == []
    refused(lambda: root.iam.detach_user_policy(UserName="kate", PolicyArn=arn), "NoSuchEntity", 404)
    # A managed policy is deleted only once its non-default versions are gone.
    refused(lambda: root.iam.delete_policy(PolicyArn=arn), "DeleteConflict", 409)
    for version in ["v2", "v3", "v4", "v5"]:
        root.iam.delete_policy_version(PolicyArn=arn, VersionId=version)
    root.iam.delete_policy(PolicyArn=arn)
    refused(lambda: root.iam.get_policy(PolicyArn=arn), "NoSuchEntity", 404)
    assert names(root.iam.list_policies(Scope="Local")["Policies"], "Arn") == [spare]
    root.iam.delete_user(UserName="kate")


def test_aws_managed_policies_are_listed_and_attachable(fresh):
    root = Caller(fresh.endpoint)
    listed = {}
    for page in root.iam.get_paginator("list_policies").paginate(Scope="AWS"):
        for policy in page["Policies"]:
            assert policy["Arn"] == f"arn:aws:iam::aws:policy{policy['Path']}{policy['PolicyName']}", policy
            listed[policy["Arn"]] = policy
    assert AWS_MANAGED <= set(listed)
    assert root.iam.list_policies(Scope="Local")["Policies"] == []
    everything = {p["Arn"] for page in root.iam.get_paginator("list_policies").paginate(Scope="All")
                  for p in page["Policies"]}
    assert AWS_MANAGED <= everything

    admin = root.iam.get_policy(PolicyArn=ADMIN)["Policy"]
    document = root.iam.get_policy_version(PolicyArn=ADMIN, VersionId=admin["DefaultVersionId"])["PolicyVersion"]
    assert document["Document"] == {"Version": "2012-10-17",
                                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    read_only = root.iam.get_policy(PolicyArn=S3_READ_ONLY)["Policy"]
    statements = root.iam.get_policy_version(PolicyArn=S3_READ_ONLY, VersionId=read_only["DefaultVersionId"])[
        "PolicyVersion"]["Document"]["Statement"]
    actions = [a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
    assert {"s3:Get*", "s3:List*"} <= set(actions) and "s3:*" not in actions

    root.iam.create_user(UserName="lee")
    root.iam.attach_user_policy(UserName="lee", PolicyArn=S3_READ_ONLY)
    assert root.iam.get_policy(PolicyArn=S3_READ_ONLY)["Policy"]["AttachmentCount"] == 1
    assert [p["Arn"] for p in root.iam.list_policies(Scope="AWS", OnlyAttached=True)["Policies"]] == [S3_READ_ONLY]
    assert root.iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"] == []


def test_group_inline_and_attached_policies_apply_to_members(fresh):
    root = Caller(fresh.endpoint)
    account = root.sts.get_caller_identity()["Account"]
    root.s3.create_bucket(Bucket="team")
    root.s3.put_object(Bucket="team", Key="report", Body=b"r")
    leo = new_user(root, "leo")
    group = root.iam.create_group(GroupName="analysts")["Group"]
    assert (group["GroupName"], group["Arn"]) == ("analysts", f"arn:aws:iam::{account}:group/analysts")
    assert group["GroupId"].startswith("AGPA")
    refused(lambda: root.iam.create_group(GroupName="analysts"), "EntityAlreadyExists", 409)
    root.iam.add_user_to_group(GroupName="analysts", UserName="leo")
    refused(lambda: leo.s3.get_object(Bucket="team", Key="report"))  # the group grants nothing yet

    root.iam.attach_group_policy(GroupName="analysts", PolicyArn=S3_READ_ONLY)
    assert leo.s3.get_object(Bucket="team", Key="report")["Body"].read() == b"r"
    refused(lambda: leo.s3.put_object(Bucket="team", Key="new", Body=b"n"))
    upload = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::team/*"}]}
    root.iam.put_group_policy(GroupName="analysts", PolicyName="UploadReports", PolicyDocument=json.dumps(upload))
    leo.s3.put_object(Bucket="team", Key="new", Body=b"n")

    got = root.iam.get_group_policy(GroupName="analysts", PolicyName="UploadReports")
    assert (got["GroupName"], got["PolicyName"], got["PolicyDocument"]) == ("analysts", "UploadReports", upload)
    assert root.iam.list_group_policies(GroupName="analysts")["PolicyNames"] == ["UploadReports"]
    assert root.iam.list_attached_group_policies(GroupName="analysts")["AttachedPolicies"] == [
        {"PolicyName": "AmazonS3ReadOnlyAccess", "PolicyArn": S3_READ_ONLY}]
    members = root.iam.get_group(GroupName="analysts")
    assert members["Group"]["GroupName"] == "analysts" and names(members["Users"], "UserName") == ["leo"]
    assert names(root.iam.list_groups()["Groups"], "GroupName") == ["analysts"]
    assert names(root.iam.list_groups_for_user(UserName="leo")["Groups"], "GroupName") == ["analysts"]
    assert root.iam.list_user_policies(UserName="leo")["PolicyNames"] == []  # the user's own lists stay empty
    assert root.iam.list_attached_user_policies(UserName="leo")["AttachedPolicies"] == []
    assert simulate(root.iam, leo.arn, "s3:PutObject", "arn:aws:s3:::team/x") == "allowed"
    assert simulate(root.iam, leo.arn, "s3:GetObject", "arn:aws:s3:::team/report") == "allowed"
    assert simulate(root.iam, leo.arn, "s3:DeleteObject", "arn:aws:s3:::team/report") == "implicitDeny"

    refused(lambda: root.iam.delete_group(GroupName="analysts"), "DeleteConflict", 409)  # a member
    root.iam.remove_user_from_group(GroupName="analysts", UserName="leo")
    refused(lambda: leo.s3.get_object(Bucket="team", Key="report"))
    refused(lambda: leo.s3.put_object(Bucket="team", Key="new2", Body=b"n"))
    assert simulate(root.iam, leo.arn, "s3:PutObject", "arn:aws:s3:::team/x") == "implicitDeny"
    assert root.iam.list_groups_for_user(UserName="leo")["Groups"] == []
    refused(lambda: root.iam.delete_group(GroupName="analysts"), "DeleteConflict", 409)  # policies remain
    root.iam.detach_group_policy(GroupName="analysts", PolicyArn=S3_READ_ONLY)
    root.iam.delete_group_policy(GroupName="analysts", PolicyName="UploadReports")
    root.iam.delete_group(GroupName="analysts")
    assert root.iam.list_groups()["Groups"] == []
    refused(lambda: root.iam.get_group(GroupName="analysts"), "NoSuchEntity", 404)


def test_malformed_documents_are_refused_and_nothing_is_stored(fresh):
    root = Caller(fresh.endpoint)
    root.iam.create_user(UserName="mo")
    root.iam.create_group(GroupName="crew")
    root.s3.create_bucket(Bucket="strict")
    good = statement_policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::strict/*"})
    arn = root.iam.create_policy(PolicyName="Good", PolicyDocument=good)["Policy"]["Arn"]
    bad_identity = [
        "not json",
        statement_policy({"Effect": "Permit", "Action": "s3:*", "Resource": "*"}),
        statement_policy({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}),  # no Principal here
        statement_policy({"Effect": "Allow", "Action": "s3:*"}),  # no Resource
        json.dumps({"Version": "2012-10-17"}),  # no Statement
    ]
    for document in bad_identity:
        refused(lambda: root.iam.put_user_policy(UserName="mo", PolicyName="Bad", PolicyDocument=document),
                "MalformedPolicyDocument", 400)
        refused(lambda: root.iam.put_group_policy(GroupName="crew", PolicyName="Bad", PolicyDocument=document),
                "MalformedPolicyDocument", 400)
        refused(lambda: root.iam.create_policy(PolicyName="Bad", PolicyDocument=document),
                "MalformedPolicyDocument", 400)
        refused(lambda: root.iam.create_policy_version(PolicyArn=arn, PolicyDocument=document),
                "MalformedPolicyDocument", 400)
    assert root.iam.list_user_policies(UserName="mo")["PolicyNames"] == []
    assert root.iam.list_group_policies(GroupName="crew")["PolicyNames"] == []
    assert names(root.iam.list_policies(Scope="Local")["Policies"], "PolicyName") == ["Good"]
    assert [v["VersionId"] for v in root.iam.list_policy_versions(PolicyArn=arn)["Versions"]] == ["v1"]

    bad_bucket = [
        "not json",
        good,  # an identity policy: no Principal
        json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Permit", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::strict/*"}]}),
        for_bucket(PUBLIC_READ, "some-other-bucket"),  # a resource outside this bucket
    ]
    for document in bad_bucket:
        refused(lambda: root.s3.put_bucket_policy(Bucket="strict", Policy=document), "MalformedPolicy", 400)
    refused(lambda: root.s3.get_bucket_policy(Bucket="strict"), "NoSuchBucketPolicy", 404)


def test_bucket_policy_api_and_policy_status(fresh):
    root = Caller(fresh.endpoint)
    root.s3.create_bucket(Bucket="web")
    refused(lambda: root.s3.get_bucket_policy(Bucket="web"), "NoSuchBucketPolicy", 404)
    refused(lambda: root.s3.put_bucket_policy(Bucket="nosuch", Policy=for_bucket(PUBLIC_READ, "nosuch")),
            "NoSuchBucket", 404)
    public = for_bucket(PUBLIC_READ, "web")
    root.s3.put_bucket_policy(Bucket="web", Policy=public)
    assert json.loads(root.s3.get_bucket_policy(Bucket="web")["Policy"]) == json.loads(public)
    assert root.s3.get_bucket_policy_status(Bucket="web")["PolicyStatus"]["IsPublic"] is True
    # Replaced by a Deny-only policy: not public. (Not the HTTPS-only one: over plain HTTP it would deny
    # the root GetBucketPolicyStatus too — the root's exemption covers only Get/Put/DeleteBucketPolicy.)
    guard = for_bucket(MFA_AGE_DELETE_GUARD, "web")
    root.s3.put_bucket_policy(Bucket="web", Policy=guard)
    assert json.loads(root.s3.get_bucket_policy(Bucket="web")["Policy"]) == json.loads(guard)
    assert root.s3.get_bucket_policy_status(Bucket="web")["PolicyStatus"]["IsPublic"] is False
    root.s3.put_bucket_policy(Bucket="web", Policy=for_bucket(HTTPS_ONLY, "web"))
    refused(lambda: root.s3.get_bucket_policy_status(Bucket="web"))  # plain HTTP: denied, even to the root
    assert json.loads(root.s3.get_bucket_policy(Bucket="web")["Policy"]) == json.loads(for_bucket(HTTPS_ONLY, "web"))
    root.s3.delete_bucket_policy(Bucket="web")
    refused(lambda: root.s3.get_bucket_policy(Bucket="web"), "NoSuchBucketPolicy", 404)

    # A user may manage bucket policies only when allowed to (AmazonS3FullAccess: s3:*).
    max_ = new_user(root, "max")
    refused(lambda: max_.s3.get_bucket_policy(Bucket="web"))
    refused(lambda: max_.s3.delete_bucket_policy(Bucket="web"))
    root.iam.attach_user_policy(UserName="max", PolicyArn=S3_FULL)
    max_.s3.put_bucket_policy(Bucket="web", Policy=public)
    assert json.loads(max_.s3.get_bucket_policy(Bucket="web")["Policy"]) == json.loads(public)
    max_.s3.delete_bucket_policy(Bucket="web")
    refused(lambda: root.s3.get_bucket_policy(Bucket="web"), "NoSuchBucketPolicy", 404)


def test_simulate_custom_policy_with_context_entries(fresh):
    root = Caller(fresh.endpoint)
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
         "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]})

    def decisions(secure):
        results = root.iam.simulate_custom_policy(
            PolicyInputList=[document], ActionNames=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            ResourceArns=["arn:aws:s3:::b/k"], ContextEntries=context_entries({"aws:SecureTransport": secure}))
        return {r["EvalActionName"]: r for r in results["EvaluationResults"]}

    over_https = decisions(True)
    assert {a: r["EvalDecision"] for a, r in over_https.items()} == {
        "s3:GetObject": "allowed", "s3:PutObject": "implicitDeny", "s3:DeleteObject": "explicitDeny"}
    assert [m["SourcePolicyId"] for m in over_https["s3:GetObject"]["MatchedStatements"]] == ["PolicyInputList.1"]
    assert [m["SourcePolicyId"] for m in over_https["s3:DeleteObject"]["MatchedStatements"]] == ["PolicyInputList.1"]
    assert not over_https["s3:PutObject"].get("MatchedStatements")
    assert decisions(False)["s3:GetObject"]["EvalDecision"] == "implicitDeny"


def test_refusals_on_a_missing_bucket_say_no_such_bucket_and_anonymous_overrides_are_refused(fresh):
    """Bucket names are no secret: a refused request on a bucket that does not exist answers
    NoSuchBucket (AWS). Response overrides (response-content-type, …) need a signed request."""
    root = Caller(fresh.endpoint)
    nobody = new_user(root, "nobody")
    refused(lambda: nobody.s3.list_objects_v2(Bucket="no-such-bucket"), "NoSuchBucket", 404)
    refused(lambda: anonymous(fresh.endpoint).get_object(Bucket="no-such-bucket", Key="k"), "NoSuchBucket", 404)
    refused(lambda: nobody.s3.delete_objects(Bucket="no-such-bucket", Delete={"Objects": [{"Key": "k"}]}),
            "NoSuchBucket", 404)
    refused(lambda: nobody.s3.list_objects_v2(Bucket="no-such-bucket"), "NoSuchBucket", 404)
    root.s3.create_bucket(Bucket="public")
    root.s3.put_object(Bucket="public", Key="page", Body=b"hello")
    refused(lambda: nobody.s3.list_objects_v2(Bucket="public"))  # exists: AccessDenied
    root.s3.put_bucket_policy(Bucket="public", Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::public/*"}]}))
    visitor = anonymous(fresh.endpoint)
    assert visitor.get_object(Bucket="public", Key="page")["Body"].read() == b"hello"
    refused(lambda: visitor.get_object(Bucket="public", Key="page", ResponseContentType="text/x"), "InvalidRequest", 400)


def test_deeply_nested_policy_documents_are_refused_not_a_crash(fresh):
    root = Caller(fresh.endpoint)
    deep = '{"Version":"2012-10-17","Statement":' + "[" * 5000 + "]" * 5000 + "}"
    refused(lambda: root.iam.simulate_custom_policy(PolicyInputList=[deep], ActionNames=["s3:GetObject"]),
            "MalformedPolicyDocument", 400)
    root.s3.create_bucket(Bucket="deep")
    refused(lambda: root.s3.put_bucket_policy(Bucket="deep", Policy=deep[:20000]), "MalformedPolicy", 400)
    assert fresh.process.poll() is None
    assert root.s3.list_buckets()["Buckets"]


def test_simulator_locates_matched_statements_and_names_missing_context_keys(fresh):
    root = Caller(fresh.endpoint)
    document = ('{"Version": "2012-10-17",\n "Statement": [\n'
                '  {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},\n'
                '  {"Sid": "NoDeleteWithoutMFA", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*",\n'
                '   "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}\n ]}')
    result = root.iam.simulate_custom_policy(PolicyInputList=[document], ActionNames=["s3:GetObject", "s3:DeleteObject"])
    read, delete = result["EvaluationResults"]
    assert read["EvalDecision"] == "allowed"
    matched = read["MatchedStatements"][0]
    assert matched["SourcePolicyId"] == "PolicyInputList.1"
    assert (matched["StartPosition"]["Line"], matched["StartPosition"]["Column"]) == (3, 3)
    assert (matched["EndPosition"]["Line"], matched["EndPosition"]["Column"]) == (3, 79)
    assert read["MissingContextValues"] == []
    assert delete["EvalDecision"] == "implicitDeny"
    assert delete["MissingContextValues"] == ["aws:MultiFactorAuthPresent"]
