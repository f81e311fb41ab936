"""Every throttle counts across processes (issue 21 §3, on the embedded store): two `coffer serve`
processes on one data folder — as two cluster nodes on one database — share the counters of wrong
sign-in passwords, of wrong ChangePassword guesses and of a pending sign-in's answers. Guesses
spread over both are bounded exactly as on one; before, each process kept its own counts in
memory, and two processes allowed twice as many."""
import concurrent.futures
import json
import re
import shutil
import subprocess
import time

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, COFFER, SECRET_KEY
from console_browser import console_server

ROOT_PASSWORD = "Shared-Counters-Root-1!"


@pytest.fixture(scope="module")
def pair():
    first = console_server(ROOT_PASSWORD)
    second = console_server(ROOT_PASSWORD, data=first.data)
    try:
        yield first, second
    finally:
        second.stop()
        first.stop()
        shutil.rmtree(first.data, ignore_errors=True)


def iam(server, key=ACCESS_KEY, secret=SECRET_KEY):
    return boto3.client("iam", endpoint_url=server.endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
                        region_name="us-east-1", config=Config(retries={"total_max_attempts": 1}))


def sign_in(server, account, user, password, session=None):
    """One sign-in POST on `server`'s console: (status, location, session)."""
    session = session or requests.Session()
    page = session.get(server.console + "/signin", timeout=10)
    token = re.search(r'name="_csrf" value="([^"]+)"', page.text).group(1)
    answer = session.post(server.console + "/signin", allow_redirects=False, timeout=30,
                          data={"_csrf": token, "kind": "iam", "account": account, "user": user, "password": password},
                          headers={"Origin": server.console})
    return answer.status_code, answer.headers.get("Location"), session


def test_wrong_passwords_spread_over_two_processes_lock_as_on_one(pair):
    first, second = pair
    iam(first).create_user(UserName="pat")
    iam(first).create_login_profile(UserName="pat", Password="Pat-Right-Pass-1", PasswordResetRequired=False)
    statuses = [sign_in((first, second)[index % 2], first.account, "pat", f"wrong-{index}")[0] for index in range(10)]
    # Three free failures per (user, address), the fourth locks: on one process or two.
    assert statuses[:4] == [401, 401, 401, 401], statuses
    assert set(statuses[4:]) == {429}, statuses
    # The right password is refused unjudged on either process while the lock holds.
    assert sign_in(second, first.account, "pat", "Pat-Right-Pass-1")[0] == 429


def test_change_password_guesses_spread_over_two_processes_lock_after_five(pair):
    first, second = pair
    iam(first).create_user(UserName="quin")
    iam(first).create_login_profile(UserName="quin", Password="Quin-Right-Pass-1", PasswordResetRequired=False)
    iam(first).put_user_policy(UserName="quin", PolicyName="Own", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:ChangePassword",
                                                "Resource": f"arn:aws:iam::{first.account}:user/quin"}]}))
    key = iam(first).create_access_key(UserName="quin")["AccessKey"]
    codes = []
    for index in range(7):
        client = iam((first, second)[index % 2], key["AccessKeyId"], key["SecretAccessKey"])
        try:
            client.change_password(OldPassword=f"Wrong-Old-{index}", NewPassword="Quin-New-Pass-002")
            codes.append("changed")
        except ClientError as error:
            codes.append(error.response["Error"]["Code"])
    assert codes[:5] == ["AccessDenied"] * 5, codes
    assert codes[5:] == ["LimitExceeded"] * 2, codes


def pending_sign_in_with_a_device(first, name):
    """A user with an enabled virtual MFA device, signed in with the password on `first`: the
    pending sign-in's cookie, the device's serial and a code that is not the right one now."""
    root = iam(first)
    root.create_user(UserName=name)
    root.create_login_profile(UserName=name, Password=f"{name}-Right-Pass-1", PasswordResetRequired=False)
    device = root.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode() if isinstance(device["Base32StringSeed"], bytes) else device["Base32StringSeed"]

    def code(at):
        return subprocess.run([COFFER, "totp", "code", "--secret", seed, "--at", str(int(at))], check=True,
                              capture_output=True, text=True).stdout.strip()
    step = int(time.time()) // 30
    root.enable_mfa_device(UserName=name, SerialNumber=device["SerialNumber"], AuthenticationCode1=code((step - 1) * 30),
                           AuthenticationCode2=code(step * 30))
    status, location, session = sign_in(first, first.account, name, f"{name}-Right-Pass-1")
    assert (status, location) == (303, "/signin/mfa")
    right = {code((step + offset) * 30) for offset in (-1, 0, 1, 2)}
    wrong = next(candidate for candidate in ("000000", "111111", "222222", "333333", "444444") if candidate not in right)
    return session.cookies.get("coffer_session"), device["SerialNumber"], wrong


def test_a_pending_sign_in_ends_after_five_wrong_codes_whichever_process_judges_them(pair):
    first, second = pair
    cookie, serial, wrong = pending_sign_in_with_a_device(first, "rey")
    device = {"SerialNumber": serial}
    answers = []
    for index in range(5):
        server = (first, second)[index % 2]
        page = requests.get(server.console + "/signin/mfa", cookies={"coffer_session": cookie}, timeout=10,
                            allow_redirects=False)
        assert page.status_code == 200, (index, page.status_code)
        token = re.search(r'name="_csrf" value="([^"]+)"', page.text).group(1)
        answer = requests.post(server.console + "/signin/mfa", cookies={"coffer_session": cookie}, timeout=30,
                               allow_redirects=False, headers={"Origin": server.console},
                               data={"_csrf": token, "serial": device["SerialNumber"], "code": wrong})
        answers.append((answer.status_code, answer.headers.get("Location")))
    # Four wrong answers shown again; the fifth — counted on the pending sign-in's own row,
    # whichever process judged the others — ends it.
    assert [status for status, _ in answers[:4]] == [401] * 4, answers
    assert answers[4] == (303, "/signin"), answers
    for server in (first, second):
        gone = requests.get(server.console + "/signin/mfa", cookies={"coffer_session": cookie}, timeout=10,
                            allow_redirects=False)
        assert gone.status_code == 303 and gone.headers["Location"] == "/signin"


def test_a_burst_of_wrong_codes_over_two_processes_is_judged_exactly_five_times(pair):
    """Each wrong code is counted on the pending sign-in in the transaction that judged it, so 40
    parallel guesses — half on each process — are judged five times, not five per process or
    however many were in flight."""
    first, second = pair
    cookie, serial, wrong = pending_sign_in_with_a_device(first, "sol")
    token = re.search(r'name="_csrf" value="([^"]+)"', requests.get(
        first.console + "/signin/mfa", cookies={"coffer_session": cookie}, timeout=10).text).group(1)

    def guess(index):
        server = (first, second)[index % 2]
        return requests.post(server.console + "/signin/mfa", cookies={"coffer_session": cookie}, timeout=60,
                             allow_redirects=False, headers={"Origin": server.console},
                             data={"_csrf": token, "serial": serial, "code": wrong}).status_code
    with concurrent.futures.ThreadPoolExecutor(40) as pool:
        statuses = list(pool.map(guess, range(40)))
    audit = subprocess.run([COFFER, "admin", "audit", "--data", first.data], capture_output=True, text=True,
                           env=first.env).stdout.splitlines()
    judged = [row for row in audit if row.split("\t")[1:3] == ["ConsoleLogin", "failed"] and serial in row]
    assert len(judged) == 5, (statuses, judged)
    assert statuses.count(401) <= 4, statuses
    for server in (first, second):
        gone = requests.get(server.console + "/signin/mfa", cookies={"coffer_session": cookie}, timeout=10,
                            allow_redirects=False)
        assert gone.status_code == 303 and gone.headers["Location"] == "/signin"
