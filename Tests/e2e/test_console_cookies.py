"""Cookie tossing (issue 19): cookies are not isolated by port (RFC 6265 §8.5), so an HTML object
served by the S3 port on the same host can set a console cookie for a longer path. The console
refuses a request that carries its session cookie twice, expires the copies at longer paths (keeping
its own HttpOnly Path=/ cookie, which a page's script cannot overwrite), and never acts as the tossed
session. A real browser (headless Chromium) plays both pages."""
import json
import re

import requests

from console_browser import Console, running_console
from test_mfa import clients

import pytest

ROOT_PASSWORD = "Cookie-Toss-Root-1!"
MALLORY_PASSWORD = "Mallory-Pass-0001!"


@pytest.fixture(scope="module")
def console_server():
    yield from running_console(ROOT_PASSWORD)


def session_of(console, account, user, password):
    """A real console session of `user`, signed in without a browser: its token."""
    http = requests.Session()
    page = http.get(console + "/signin", timeout=10)
    token = re.search(r'name="_csrf" value="([^"]+)"', page.text).group(1)
    answer = http.post(console + "/signin", data={"_csrf": token, "kind": "iam", "account": account, "user": user,
                                                  "password": password},
                       headers={"Origin": console}, allow_redirects=False, timeout=30)
    assert answer.status_code == 303, answer.text
    return http.cookies.get("coffer_session")


def test_a_cookie_tossed_from_the_s3_port_is_refused_and_never_acted_as(console_server):
    server = console_server
    iam, _, s3 = clients(server)
    iam.create_user(UserName="mallory")
    iam.create_login_profile(UserName="mallory", Password=MALLORY_PASSWORD, PasswordResetRequired=False)
    iam.attach_user_policy(UserName="mallory", PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")
    tossed = session_of(server.console, server.account, "mallory", MALLORY_PASSWORD)
    assert tossed
    # Mallory's page, a public object on the S3 port of the same host.
    s3.create_bucket(Bucket="toss")
    s3.put_object(Bucket="toss", Key="page.html", ContentType="text/html",
                  Body=f'<html><body><script>document.cookie = "coffer_session={tossed}; Path=/buckets";'
                       f'document.title = "tossed";</script></body></html>'.encode())
    s3.put_bucket_policy(Bucket="toss", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::toss/*"}]}))
    root = Console(server.console, None)
    try:
        root.sign_in_root(ROOT_PASSWORD)
        assert root.path() == "/home"
        root.driver.get(server.endpoint + "/toss/page.html")
        assert root.driver.title == "tossed"
        # The browser now holds two session cookies for /buckets: the tossed one goes first.
        root.open("/buckets")
        assert "mallory" not in root.driver.page_source
        assert "second console cookie" in root.text("h1")
        # The tossed copy is gone and the console's own (Path=/, HttpOnly) kept: the next visit is
        # the root's, and nothing ever acted as Mallory.
        root.open("/buckets")
        assert root.path() == "/buckets" and "toss" in root.driver.page_source
        assert "root · account" in root.driver.page_source and "mallory @" not in root.driver.page_source
        assert root.session_cookie() and root.session_cookie() != tossed
        # The page cannot plant its session at Path=/ either: the HttpOnly cookie there stands.
        root.driver.get(server.endpoint + "/toss/page.html")
        root.driver.execute_script(f'document.cookie = "coffer_session={tossed}; Path=/"')
        root.open("/home")
        # (the root's home lists mallory among the users without MFA: who is signed in is the question)
        assert root.path() == "/home" and "root · account" in root.driver.page_source
        assert "mallory @" not in root.driver.page_source
    finally:
        root.close()


def test_two_session_cookies_are_refused_without_a_browser(console_server):
    server = console_server
    http = requests.Session()
    page = http.get(server.console + "/signin", timeout=10)
    token = re.search(r'name="_csrf" value="([^"]+)"', page.text).group(1)
    answer = http.post(server.console + "/signin", data={"_csrf": token, "kind": "root", "password": ROOT_PASSWORD},
                       headers={"Origin": server.console}, allow_redirects=False, timeout=30)
    own = http.cookies.get("coffer_session")
    refused = requests.get(server.console + "/buckets/x", headers={"Cookie": f"coffer_session=other-token-{'x' * 30}; "
                                                                              f"coffer_session={own}"},
                           allow_redirects=False, timeout=10)
    assert refused.status_code == 400
    expired = refused.raw.headers.getlist("Set-Cookie")
    for path in ["/buckets", "/buckets/", "/buckets/x"]:
        assert any(c.startswith("coffer_session=;") and f"Path={path};" in c and "Max-Age=0" in c for c in expired), expired
    assert not any("Path=/;" in c for c in expired), expired  # the console's own cookie is kept
    # One cookie is still served as before.
    assert requests.get(server.console + "/buckets", cookies={"coffer_session": own}, allow_redirects=False,
                        timeout=10).status_code == 200
