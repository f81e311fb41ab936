"""Console passwords through the IAM API: login profiles, ChangePassword and the account password
policy, with boto3 against a real server. The servers here hash with a low scrypt cost
(`--password-log-n 12`): the debug build's BoringSSL is unoptimised, and OWASP's N = 2^17 takes
seconds a hash there. One test keeps the default cost end to end."""
import json
import subprocess

import pytest
from conftest import COFFER, Server, refused
from test_mfa import clients


@pytest.fixture
def fresh():
    server = Server(extra_args=["--password-log-n", "12"]).start()
    yield server
    server.stop()


def test_the_default_cost_is_owasps_scrypt_minimum():
    server = Server(extra_args=["--password-log-n", "17"]).start()
    try:
        iam, _, _ = clients(server)
        iam.create_user(UserName="dee")
        iam.update_account_password_policy(MinimumPasswordLength=8, AllowUsersToChangePassword=True)
        iam.create_login_profile(UserName="dee", Password="Default-Cost-01")
        key = iam.create_access_key(UserName="dee")["AccessKey"]
        dee, _, _ = clients(server, key["AccessKeyId"], key["SecretAccessKey"])
        refused(lambda: dee.change_password(OldPassword="Default-Cost-00", NewPassword="Default-Cost-02"), "AccessDenied")
        dee.change_password(OldPassword="Default-Cost-01", NewPassword="Default-Cost-02")
    finally:
        server.stop()
    import sqlite3
    with sqlite3.connect(f"{server.data}/coffer.sqlite") as db:
        (stored,) = db.execute("SELECT password_hash FROM login_profiles WHERE user_name = 'dee'").fetchone()
    assert stored.startswith("$scrypt$ln=17,r=8,p=1$") and "Default-Cost" not in stored


def test_root_password_made_once_or_from_the_environment_and_set_by_admin():
    import re
    server = Server().start()
    try:
        shown = re.search(rb"New root console password \(shown once; only its hash is stored\): (\S+)", server.output)
        assert shown, server.output
        password = shown.group(1).decode()
    finally:
        server.stop()
    import sqlite3
    with sqlite3.connect(f"{server.data}/coffer.sqlite") as db:
        (stored,) = db.execute("SELECT value FROM meta WHERE name = 'root_password_hash'").fetchone()
    assert stored.startswith("$scrypt$") and password not in stored
    # Shown once: a restart on the same folder does not make (or show) another.
    again = Server(data=server.data).start()
    again.stop()
    assert b"root console password" not in again.output
    # coffer admin root-password reads the new one from stdin (AWS's default rules apply).
    weak = subprocess.run([COFFER, "admin", "root-password", "--data", server.data], input="short\n", text=True,
                          capture_output=True, env=server.env)
    assert weak.returncode != 0 and "Password should have at least 8 characters" in weak.stderr
    done = subprocess.run([COFFER, "admin", "root-password", "--data", server.data], input="Root-Pass-2026!\n",
                          text=True, capture_output=True, env=server.env)
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(f"{server.data}/coffer.sqlite") as db:
        (changed,) = db.execute("SELECT value FROM meta WHERE name = 'root_password_hash'").fetchone()
    assert changed != stored
    # From the environment: set, never printed.
    given = Server(env={"COFFER_ROOT_PASSWORD": "Env-Given-Pass-1"}).start()
    given.stop()
    assert b"Root console password set from COFFER_ROOT_PASSWORD" in given.output
    assert b"Env-Given-Pass-1" not in given.output



def test_login_profiles_follow_the_default_policy_and_block_user_deletion(fresh):
    iam, _, _ = clients(fresh)
    iam.create_user(UserName="ana")
    # Without an account policy, AWS's default: 8 characters, three of four classes, not the name.
    for weak in ["Sh0rt!", "alllowercaseletters", "ana"]:
        refused(lambda: iam.create_login_profile(UserName="ana", Password=weak), "PasswordPolicyViolation", 400)
    made = iam.create_login_profile(UserName="ana", Password="Correct-Horse-7", PasswordResetRequired=True)["LoginProfile"]
    assert made["UserName"] == "ana" and made["PasswordResetRequired"] is True and "Password" not in made
    refused(lambda: iam.create_login_profile(UserName="ana", Password="Another-Pass-8"), "EntityAlreadyExists", 409)
    got = iam.get_login_profile(UserName="ana")["LoginProfile"]
    assert (got["UserName"], got["PasswordResetRequired"]) == ("ana", True)
    refused(lambda: iam.create_login_profile(UserName="nobody", Password="Correct-Horse-7"), "NoSuchEntity", 404)
    refused(lambda: iam.create_login_profile(UserName="root", Password="Correct-Horse-7"), "InvalidInput", 400)

    iam.generate_credential_report()
    report = iam.get_credential_report()["Content"].decode().strip().split("\n")
    header = report[0].split(",")
    ana = next(line.split(",") for line in report if line.startswith("ana,"))
    assert ana[header.index("password_enabled")] == "true"

    iam.update_login_profile(UserName="ana", PasswordResetRequired=False)
    assert iam.get_login_profile(UserName="ana")["LoginProfile"]["PasswordResetRequired"] is False
    refused(lambda: iam.delete_user(UserName="ana"), "DeleteConflict", 409)
    iam.delete_login_profile(UserName="ana")
    refused(lambda: iam.get_login_profile(UserName="ana"), "NoSuchEntity", 404)
    refused(lambda: iam.delete_login_profile(UserName="ana"), "NoSuchEntity", 404)
    iam.delete_user(UserName="ana")


def test_account_password_policy_round_trip_and_rules(fresh):
    iam, _, _ = clients(fresh)
    refused(lambda: iam.get_account_password_policy(), "NoSuchEntity", 404)
    refused(lambda: iam.delete_account_password_policy(), "NoSuchEntity", 404)
    iam.update_account_password_policy(MinimumPasswordLength=12, RequireSymbols=True, RequireNumbers=True,
                                       RequireUppercaseCharacters=True, RequireLowercaseCharacters=True,
                                       AllowUsersToChangePassword=True, MaxPasswordAge=90, PasswordReusePrevention=2,
                                       HardExpiry=False)
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert policy == {"MinimumPasswordLength": 12, "RequireSymbols": True, "RequireNumbers": True,
                      "RequireUppercaseCharacters": True, "RequireLowercaseCharacters": True,
                      "AllowUsersToChangePassword": True, "ExpirePasswords": True, "MaxPasswordAge": 90,
                      "PasswordReusePrevention": 2, "HardExpiry": False}
    iam.create_user(UserName="ben")
    for weak, rule in [("Short-1a", "minimum length"), ("no-upper-case-1", "uppercase"), ("NO-LOWER-CASE-1", "lowercase"),
                       ("No-Numbers-Here", "number"), ("NoSymbols12345", "symbol")]:
        error = refused(lambda: iam.create_login_profile(UserName="ben", Password=weak), "PasswordPolicyViolation", 400)
        assert rule in error.response["Error"]["Message"]
    iam.create_login_profile(UserName="ben", Password="Strong-Pass-0001")
    iam.delete_account_password_policy()
    refused(lambda: iam.get_account_password_policy(), "NoSuchEntity", 404)


def test_change_password_needs_the_old_one_the_policy_or_a_permission_and_remembers_history(fresh):
    iam, _, _ = clients(fresh)
    iam.create_user(UserName="cy")
    iam.create_login_profile(UserName="cy", Password="First-Pass-0001", PasswordResetRequired=True)
    key = iam.create_access_key(UserName="cy")["AccessKey"]
    cy, _, _ = clients(fresh, key["AccessKeyId"], key["SecretAccessKey"])
    # No policy and AllowUsersToChangePassword off: a new user may not (AWS).
    refused(lambda: cy.change_password(OldPassword="First-Pass-0001", NewPassword="Second-Pass-0002"), "AccessDenied", 403)
    iam.update_account_password_policy(MinimumPasswordLength=8, AllowUsersToChangePassword=True, PasswordReusePrevention=2)
    refused(lambda: cy.change_password(OldPassword="Wrong-Pass-0000", NewPassword="Second-Pass-0002"), "AccessDenied", 403)
    error = refused(lambda: cy.change_password(OldPassword="First-Pass-0001", NewPassword="First-Pass-0001"),
                    "PasswordPolicyViolation", 400)
    assert "last 2 passwords" in error.response["Error"]["Message"]
    cy.change_password(OldPassword="First-Pass-0001", NewPassword="Second-Pass-0002")
    assert iam.get_login_profile(UserName="cy")["LoginProfile"]["PasswordResetRequired"] is False
    refused(lambda: cy.get_login_profile(), "AccessDenied", 403)  # reading it needs iam:GetLoginProfile
    refused(lambda: cy.change_password(OldPassword="First-Pass-0001", NewPassword="Third-Pass-0003"), "AccessDenied", 403)
    cy.change_password(OldPassword="Second-Pass-0002", NewPassword="Third-Pass-0003")
    # Two back is remembered; three back is not (PasswordReusePrevention = 2).
    refused(lambda: cy.change_password(OldPassword="Third-Pass-0003", NewPassword="Second-Pass-0002"),
            "PasswordPolicyViolation", 400)
    cy.change_password(OldPassword="Third-Pass-0003", NewPassword="First-Pass-0001")
    # With the account setting off, AWS's IAMUserChangePassword managed policy grants it.
    iam.update_account_password_policy(MinimumPasswordLength=8, AllowUsersToChangePassword=False)
    refused(lambda: cy.change_password(OldPassword="First-Pass-0001", NewPassword="Fourth-Pass-0004"), "AccessDenied", 403)
    iam.attach_user_policy(UserName="cy", PolicyArn="arn:aws:iam::aws:policy/IAMUserChangePassword")
    cy.change_password(OldPassword="First-Pass-0001", NewPassword="Fourth-Pass-0004")
    # The root has no login profile through this API.
    root_iam, _, _ = clients(fresh)
    refused(lambda: root_iam.change_password(OldPassword="x", NewPassword="Fourth-Pass-0004"), "InvalidUserType", 400)
    # No password, in any form, in the audit log or the server's output.
    out = subprocess.run([COFFER, "admin", "audit", "--data", fresh.data, "--json"], capture_output=True, text=True,
                         env=fresh.env).stdout
    for password in ["First-Pass-0001", "Second-Pass-0002", "Third-Pass-0003", "Fourth-Pass-0004", "Wrong-Pass-0000"]:
        assert password not in out and password not in fresh.output.decode(errors="replace")
    assert json.dumps(iam.get_login_profile(UserName="cy"), default=str).count("Pass-") == 0
