"""Helpers for the console's browser suite: headless Chromium through Selenium, TOTP codes from
`coffer totp`, screenshots of each page."""
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import tempfile

from conftest import COFFER, Server, free_port

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def chromium():
    options = Options()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000",
                     "--disable-gpu", "--hide-scrollbars"):
        options.add_argument(argument)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(service=service, options=options)


class Authenticator:
    """A virtual MFA device: its seed, and codes for steps never used before (the verifier
    accepts each step once, within one step of now)."""

    def __init__(self, seed):
        self.seed = seed
        self.last = None

    @staticmethod
    def code_at(seed, unix):
        return subprocess.run([COFFER, "totp", "code", "--secret", seed, "--at", str(int(unix))],
                              check=True, capture_output=True, text=True).stdout.strip()

    def pair(self):
        """Two consecutive codes for enabling: the previous step and this one."""
        step = int(time.time()) // 30
        self.last = step
        return self.code_at(self.seed, (step - 1) * 30), self.code_at(self.seed, step * 30)

    def next(self):
        """A code for the first step after the last one used, waiting until the window reaches it."""
        step = max(int(time.time()) // 30 - 1, (self.last or 0) + 1)
        while step > int(time.time()) // 30 + 1:
            time.sleep(0.5)
        self.last = step
        return self.code_at(self.seed, step * 30)


class Console:
    """One browser on the console: navigation, forms, screenshots."""

    def __init__(self, base, shots):
        self.base = base
        self.shots = shots
        self.driver = chromium()
        self.wait = WebDriverWait(self.driver, 30)

    def close(self):
        self.driver.quit()

    def open(self, path):
        self.driver.get(self.base + path)

    def shot(self, name):
        if self.shots:
            self.driver.save_screenshot(os.path.join(self.shots, f"{name}.png"))

    def find(self, selector):
        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def finds(self, selector):
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def text(self, selector):
        return self.find(selector).text

    def fill(self, selector, value):
        field = self.find(selector)
        field.clear()
        field.send_keys(value)

    def click(self, selector):
        """Clicks something that loads a page, and waits for the new page."""
        self.press(self.find(selector))

    def press(self, element):
        """Clicks `element` and waits until a new document has loaded (the old one carried a mark)."""
        self.driver.execute_script("window.cofferOldPage = true")
        element.click()

        def loaded(driver):
            try:
                return driver.execute_script(
                    "return window.cofferOldPage === undefined && document.readyState === 'complete'")
            except Exception:  # between documents
                return False
        self.wait.until(loaded)

    def path(self):
        return re.sub(r"^https?://[^/]+", "", self.driver.current_url)

    def error(self):
        found = self.finds("#error")
        return found[0].text if found else ""

    def notice(self):
        found = self.finds("#notice")
        return found[0].text if found else ""

    def sign_in_root(self, password):
        self.open("/signin")
        self.find("#kind-root").click()
        self.fill("#password", password)
        self.click("#signin")

    def sign_in_user(self, account, user, password):
        self.open("/signin")
        self.find("#kind-iam").click()
        self.fill("#account", account)
        self.fill("#user", user)
        self.fill("#password", password)
        self.click("#signin")

    def enter_code(self, code):
        assert self.path().startswith("/signin/mfa"), self.path()
        self.fill("#code", code)
        self.click("#verify")

    def sign_out(self):
        self.click("#signout")
        assert self.path().startswith("/signin")

    def session_cookie(self):
        cookie = self.driver.get_cookie("coffer_session")
        return cookie["value"] if cookie else None

    def wizard(self, name, authenticator_holder):
        """The Assign MFA device wizard: name, QR code and secret, two codes. Returns the seed."""
        self.open("/security")
        self.click("#assign-mfa")
        self.fill("#device-name", name)
        self.click("#next")
        assert self.find("#qr").get_attribute("src").startswith("data:image/png;base64,")
        self.find("#show-secret summary").click()  # opens in place
        seed = self.text("#secret-key").strip()
        assert re.fullmatch(r"[A-Z2-7]{32,}", seed), seed
        authenticator_holder.append(Authenticator(seed))
        return seed

    def finish_wizard(self, authenticator):
        first, second = authenticator.pair()
        self.fill("#code1", first)
        self.fill("#code2", second)
        self.click("#add-mfa")


def fits(console):
    """Whether the page is no wider than the window (nothing to scroll sideways)."""
    return console.driver.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth + 1")


def emulate_width(console, width):
    console.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                   {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": True})


def post(base, path, form, cookie=None, headers=None):
    """A raw POST (no browser, no redirects followed): (status, body, headers)."""
    data = "&".join(f"{k}={urllib.request.quote(v)}" for k, v in form.items()).encode()
    fields = dict(headers or {}, **{"Content-Type": "application/x-www-form-urlencoded"})
    return send(urllib.request.Request(base + path, data=data, method="POST"), cookie, fields)


def get(base, path, cookie=None):
    return send(urllib.request.Request(base + path), cookie, {})


def send(request, cookie, headers):
    if cookie:
        request.add_header("Cookie", cookie)
    for name, value in headers.items():
        request.add_header(name, value)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode(errors="replace"), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace"), dict(error.headers)


def console_server(password, host="127.0.0.1", env=None, extra_args=(), data=None):
    """A `coffer serve --console-port` whose console answers (as http://HOST:PORT); the caller stops it."""
    port = free_port()
    server = Server(data=data, env=dict(env or {}, COFFER_ROOT_PASSWORD=password),
                    extra_args=["--console-port", str(port), *extra_args]).start()
    server.console = f"http://{host}:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if get(server.console, "/signin")[0] == 200:
                break
        except OSError:
            time.sleep(0.2)
    server.account = re.search(rb"Account (\d{12})", server.output).group(1).decode()
    return server


def running_console(password, host="127.0.0.1"):
    """A console server for one test module (`yield from` it in a fixture): stopped, and its data
    folder removed, when the module is done."""
    server = console_server(password, host=host)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.data, ignore_errors=True)


def screenshot_folder():
    """COFFER_SCREENSHOTS keeps the suite's screenshots (the README's come from there); else a temporary folder."""
    folder = os.environ.get("COFFER_SCREENSHOTS") or tempfile.mkdtemp(prefix="coffer-console-shots-")
    os.makedirs(folder, exist_ok=True)
    return folder


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
