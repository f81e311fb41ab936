"""The console's listener without a browser: where it runs (only with --console-port; HTTPS with
the S3 listener's certificate), what it answers to (loopback names only when bound to loopback),
and its cookies under TLS."""
import os
import re
import shutil

import pytest
import requests

from conftest import Server, free_port

PASSWORD = "Console-Http-Root-1!"


def wait_for_console(server, marker=b"Coffer console on"):
    while marker not in server.output:
        line = server.process.stdout.readline()
        assert line, server.output
        server.output += line
    return re.search(rb"Coffer console on (\S+)/", server.output).group(1).decode()


def test_no_console_without_the_flag():
    server = Server().start()
    try:
        assert requests.get(server.endpoint + "/health", timeout=10).status_code == 200
    finally:
        server.stop()  # collects everything it printed
        shutil.rmtree(server.data, ignore_errors=True)
    assert b"Coffer listening" in server.output
    assert b"Coffer console on" not in server.output


def test_console_answers_only_to_loopback_names():
    port = free_port()
    server = Server(env={"COFFER_ROOT_PASSWORD": PASSWORD}, extra_args=["--console-port", str(port)]).start()
    try:
        base = wait_for_console(server)
        assert requests.get(base + "/signin", timeout=10).status_code == 200
        assert requests.get(base + "/signin", headers={"Host": f"localhost:{port}"}, timeout=10).status_code == 200
        rebound = requests.get(base + "/signin", headers={"Host": "attacker.example"}, timeout=10)
        assert rebound.status_code == 421
        assert "localhost" in rebound.text
        # Nothing of the console shadows the S3 API: its paths are buckets there.
        assert requests.get(server.endpoint + "/signin", timeout=10).status_code in (403, 404)
    finally:
        server.stop()
        shutil.rmtree(server.data, ignore_errors=True)


def test_console_over_https_with_the_s3_certificate():
    port = free_port()
    server = Server(env={"COFFER_ROOT_PASSWORD": PASSWORD},
                    extra_args=["--tls-self-signed", "--console-port", str(port)]).start()
    try:
        base = wait_for_console(server)
        assert base.startswith("https://")
        ca = os.path.join(server.data, "tls", "cert.pem")
        session = requests.Session()
        page = session.get(base + "/signin", verify=ca, timeout=10)
        assert page.status_code == 200
        assert page.headers["Strict-Transport-Security"].startswith("max-age=")
        pre = page.headers["Set-Cookie"]
        assert pre.startswith("__Host-coffer_signin=") and "Secure" in pre and "HttpOnly" in pre
        token = re.search(r'name="_csrf" value="([^"]+)"', page.text).group(1)
        signed_in = session.post(base + "/signin", data={"_csrf": token, "kind": "root", "password": PASSWORD},
                                 headers={"Origin": base}, verify=ca, allow_redirects=False, timeout=30)
        assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/home"
        cookie = [c for c in signed_in.raw.headers.getlist("Set-Cookie") if "coffer_session" in c][0]
        assert cookie.startswith("__Host-coffer_session=")
        assert "Secure" in cookie and "SameSite=Strict" in cookie and "HttpOnly" in cookie
        home = session.get(base + "/home", verify=ca, timeout=10, allow_redirects=False)
        assert home.status_code == 200 and home.headers["Cache-Control"] == "no-store"
        # The plain-HTTP name of the cookie means nothing here.
        plain = requests.get(base + "/home", verify=ca, timeout=10, allow_redirects=False,
                             cookies={"coffer_session": session.cookies.get("__Host-coffer_session")})
        assert plain.status_code == 303
    finally:
        server.stop()
        shutil.rmtree(server.data, ignore_errors=True)
