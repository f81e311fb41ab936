"""End-to-end fixtures: a real `coffer serve` on a free loopback port, real boto3 and aws cli."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import boto3
import pytest
from botocore.config import Config

COFFER = os.environ.get("COFFER_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", ".build", "debug", "coffer")
ACCESS_KEY = "AKIAE2ETESTROOTKEY01"
SECRET_KEY = "e2e/secret+key/for/coffer/tests/0123456789"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The switch that runs a suite against a cluster node instead of a data folder (issue 21):
# COFFER_E2E_DATABASE=postgres://USER:PASSWORD@HOST:PORT/DATABASE. Each server then gets a new
# database of its own on that server (its blobs stay in its folder), so suites stay independent.
CLUSTER_DATABASE = os.environ.get("COFFER_E2E_DATABASE")
# With COFFER_E2E_CEPH_CONF (a Ceph cluster's configuration, the pool `coffer` in it) as well, each
# such server keeps its bytes in RADOS, in a namespace of that pool named after its database.
CLUSTER_CEPH_CONF = os.environ.get("COFFER_E2E_CEPH_CONF")


def new_cluster_database(url):
    """Creates an empty database beside the one `url` names; returns its URL."""
    import urllib.parse
    parsed = urllib.parse.urlparse(url)
    name = f"e2e_{uuid.uuid4().hex[:16]}"
    host, _, port = parsed.netloc.rpartition("@")[2].split(",")[0].partition(":")
    subprocess.run(["psql", "-X", "-q", "-h", host, "-p", port or "5432", "-U", parsed.username, "-d", parsed.path.lstrip("/"),
                    "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True, timeout=60,
                   env=dict(os.environ, PGPASSWORD=urllib.parse.unquote(parsed.password or "")))
    return url.rsplit("/", 1)[0] + "/" + name


class Server:
    """A coffer serve process on a data folder; start, stop, kill -9, restart. With
    COFFER_E2E_DATABASE set (and `cluster` left on), a cluster node on a database of its own."""

    def __init__(self, data=None, env=None, extra_args=(), cluster=True):
        self.data = data or tempfile.mkdtemp(prefix="coffer-e2e-")
        self.port = free_port()
        self.env = dict(os.environ, COFFER_ROOT_ACCESS_KEY=ACCESS_KEY, COFFER_ROOT_SECRET_KEY=SECRET_KEY)
        self.env.update(env or {})
        self.extra_args = list(extra_args)
        self.cluster_args = []
        if CLUSTER_DATABASE and cluster and "--database" not in self.extra_args:
            database = new_cluster_database(CLUSTER_DATABASE)
            blobs = os.path.join(self.data, "blobs")
            if CLUSTER_CEPH_CONF:
                blobs = f"rados:coffer?conf={CLUSTER_CEPH_CONF}&namespace={database.rsplit('/', 1)[1]}"
            self.cluster_args = ["--database", database, "--blobs", blobs]
            self.extra_args += self.cluster_args
        # Console passwords (the root's, made at first start) are hashed at a low scrypt cost here:
        # the debug build's BoringSSL takes seconds per hash at the default. A test that wants the
        # default passes --password-log-n itself.
        if "--password-log-n" not in self.extra_args:
            self.extra_args += ["--password-log-n", "10"]
        self.process = None
        self.output = b""

    def blob_names(self):
        """The committed blobs' names: the files in its blob folder, or its objects in RADOS (each
        piece after a blob's first is NAME.N)."""
        blobs = self.cluster_args[-1] if self.cluster_args else os.path.join(self.data, "blobs")
        if blobs.startswith("rados:"):
            namespace = blobs.rsplit("namespace=", 1)[1]
            listed = subprocess.run(["rados", "-c", CLUSTER_CEPH_CONF, "-p", "coffer", "-N", namespace, "ls"],
                                    check=True, capture_output=True, text=True, timeout=60).stdout.split()
            return {name.split(".")[0] for name in listed}
        return {name for _, _, names in os.walk(blobs) for name in names}

    def admin_args(self):
        """The options that point `coffer admin` at this server's data: its folder, or its cluster database."""
        return ["--data", self.data, *self.cluster_args]

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.process = subprocess.Popen(
            [COFFER, "serve", "--data", self.data, "--port", str(self.port), "--log-level", "warning",
             *self.extra_args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.time() + 60
        line = b""
        while time.time() < deadline:
            line = self.process.stdout.readline()
            self.output += line
            if b"Coffer listening" in line:
                return self
            if not line and self.process.poll() is not None:
                break
        raise RuntimeError(f"coffer did not start: {self.output.decode(errors='replace')}")

    def stop(self, sig=signal.SIGTERM):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        rest = self.process.stdout.read() if self.process else b""
        self.output += rest or b""
        return self.process.returncode

    def kill9(self):
        self.process.kill()
        self.process.wait()

    def client(self, **config):
        return boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1", config=Config(retries={"total_max_attempts": 1}, **config))

    def cli_env(self):
        return dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                    AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")

    def cli(self, *args, check=True):
        """Runs `aws --endpoint-url … ARGS`; returns (returncode, stdout, stderr)."""
        result = subprocess.run(["aws", "--endpoint-url", self.endpoint, *args], capture_output=True, text=True,
                                env=self.cli_env(), timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed: {result.stderr}")
        return result.returncode, result.stdout, result.stderr


@pytest.fixture(scope="session")
def server():
    srv = Server().start()
    yield srv
    srv.stop()
    shutil.rmtree(srv.data, ignore_errors=True)


@pytest.fixture
def s3(server):
    return server.client()


@pytest.fixture
def bucket(s3):
    name = f"e2e-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def versioned(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return bucket


def refused(call, code, status=None):
    """Runs `call`, expects a ClientError with `code` (and HTTP `status`, if given); returns it."""
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError) as excinfo:
        call()
    assert error_code(excinfo) == code, excinfo.value.response
    if status:
        assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    return excinfo.value


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]
