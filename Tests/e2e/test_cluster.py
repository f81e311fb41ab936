"""Issue 21: three stateless Coffer nodes on one PostgreSQL (a primary and a synchronous standby)
and one Ceph cluster (the bytes, in the RADOS pool `coffer`), started by `scripts/cluster up`. The invariants hold across nodes because they live in the
database's transactions: a TOTP step is accepted once, a burst of wrong codes is judged no more
often than on one node, every node reads what any node acknowledged, a key has one latest
version, an IAM change reaches every node within a second, and a failover loses no acknowledged
write and no consumed step. In RADOS, a large object is pieces read whole or by range, a full pool
answers 507 at once while deletes still work, and a node killed mid-upload leaves no partial
version, only orphans that the sweep removes."""
import concurrent.futures
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid

import boto3
import pyotp
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "cluster")
COFFER = os.environ.get("COFFER_BIN") or os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug", "coffer")


class Cluster:
    def __init__(self, folder):
        self.folder = folder
        self.env = {}
        with open(os.path.join(folder, "env")) as file:
            for line in file:
                name, _, value = line.strip().partition("=")
                self.env[name] = value.strip('"')
        self.nodes = [self.env[f"COFFER_NODE{i}"] for i in (1, 2, 3)]

    def client(self, service, node, access=None, secret=None, token=None):
        return boto3.client(service, endpoint_url=self.nodes[node], region_name="us-east-1",
                            aws_access_key_id=access or self.env["COFFER_ROOT_ACCESS_KEY"],
                            aws_secret_access_key=secret or self.env["COFFER_ROOT_SECRET_KEY"],
                            aws_session_token=token,
                            config=Config(retries={"total_max_attempts": 1}, max_pool_connections=50))

    def sql(self, statement, port=None):
        port = port or self.env["COFFER_PG_PRIMARY_PORT"]
        result = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-h", "127.0.0.1", "-p", str(port), "-U", "coffer",
                                 "-d", "coffer", "-c", statement], capture_output=True, text=True, timeout=30,
                                env=dict(os.environ, PGPASSWORD=self.env["COFFER_PG_PASSWORD"]))
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def pids(self):
        with open(os.path.join(self.folder, "pids")) as file:
            return {part: int(pid) for part, pid in (line.split() for line in file if line.strip())}

    @property
    def ceph_conf(self):
        return os.path.join(self.folder, "ceph", "ceph.conf")

    def rados(self, *args):
        result = subprocess.run(["rados", "-c", self.ceph_conf, "-p", "coffer", *args], capture_output=True,
                                timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def objects(self):
        return set(self.rados("ls").decode().split())

    def ceph(self, *args):
        # The CLI now and then fails to reach a monitor busy on two saturated cores ("problem
        # getting command descriptions from mon"): a transient of the test rig, not an answer
        # about Coffer, so it is tried again a few times. Any other failure fails at once.
        for _ in range(5):
            result = subprocess.run(["ceph", "-c", self.ceph_conf, *args], capture_output=True, text=True, timeout=60)
            if result.returncode == 0 or "problem getting command descriptions" not in result.stderr:
                break
            time.sleep(2)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def log(self, node):
        with open(os.path.join(self.folder, f"node{node + 1}.log"), errors="replace") as file:
            return file.read()


def script(folder, *args):
    result = subprocess.run([SCRIPT, *args], capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, COFFER_CLUSTER_DIR=folder, COFFER_BIN=COFFER,
                                     COFFER_NODE_ARGS="--password-log-n 10 --log-level notice",
                                     # Pieces of 1 MiB (64 unless set), and orphans swept within seconds.
                                     COFFER_RADOS_PIECE_BYTES=str(1 << 20), COFFER_BLOB_GRACE_SECONDS="6",
                                     COFFER_BLOB_SWEEP_SECONDS="2",
                                     COFFER_BLOB_SWEEP_PAGE="3"))
    assert result.returncode == 0, f"scripts/cluster {' '.join(args)}: {result.stdout}{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def cluster():
    folder = tempfile.mkdtemp(prefix="coffer-cluster-e2e-")
    os.chmod(folder, 0o755)
    try:
        script(folder, "up")
        yield Cluster(folder)
    finally:
        subprocess.run([SCRIPT, "destroy"], capture_output=True, timeout=120, env=dict(os.environ, COFFER_CLUSTER_DIR=folder))
        shutil.rmtree(folder, ignore_errors=True)


def code_at(totp, offset):
    return totp.at(time.time() + 30 * offset)


def root_device(cluster):
    """The root's virtual MFA device, made and enabled through node 1 (once per module)."""
    if not hasattr(cluster, "root_totp"):
        iam = cluster.client("iam", 0)
        created = iam.create_virtual_mfa_device(VirtualMFADeviceName="root-phone")["VirtualMFADevice"]
        cluster.root_serial = created["SerialNumber"]
        cluster.root_totp = pyotp.TOTP(created["Base32StringSeed"].decode())
        iam.enable_mfa_device(UserName="root", SerialNumber=cluster.root_serial,
                              AuthenticationCode1=code_at(cluster.root_totp, -2),
                              AuthenticationCode2=code_at(cluster.root_totp, -1))
    return cluster.root_serial, cluster.root_totp


def test_the_nodes_share_one_account_and_its_root_keys(cluster):
    owners = {cluster.client("s3", node).list_buckets()["Owner"]["ID"] for node in range(3)}
    assert len(owners) == 1
    assert cluster.sql("SELECT count(*) FROM meta WHERE name = 'master_key_check'") == "1"


def test_a_code_accepted_on_one_node_is_refused_on_the_others_and_nine_at_once_give_one_success(cluster):
    serial, totp = root_device(cluster)
    s3 = [cluster.client("s3", node) for node in range(3)]
    bucket = f"vault-{uuid.uuid4().hex[:8]}"
    s3[0].create_bucket(Bucket=bucket)
    # Wait for a fresh step: every code below is one no earlier request has used.
    while int(time.time()) % 30 > 20:
        time.sleep(1)
    s3[1].put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"},
                                MFA=f"{serial} {code_at(totp, 0)}")
    versions = [s3[i % 3].put_object(Bucket=bucket, Key="doc", Body=f"v{i}".encode())["VersionId"] for i in range(12)]
    # Without a code, even the root cannot remove a version (MFA Delete), on any node.
    for node in range(3):
        with pytest.raises(ClientError) as refused:
            s3[node].delete_object(Bucket=bucket, Key="doc", VersionId=versions[0])
        assert refused.value.response["Error"]["Code"] == "AccessDenied"

    # Nine permanent deletes with one code, three through each node, at once: exactly one passes.
    mfa = f"{serial} {code_at(totp, 1)}"
    barrier = threading.Barrier(9)

    def delete(index):
        barrier.wait()
        try:
            s3[index % 3].delete_object(Bucket=bucket, Key="doc", VersionId=versions[index], MFA=mfa)
            return "deleted"
        except ClientError as error:
            return error.response["Error"]["Code"]

    with concurrent.futures.ThreadPoolExecutor(9) as pool:
        outcomes = list(pool.map(delete, range(9)))
    assert outcomes.count("deleted") == 1, outcomes
    assert set(outcomes) == {"deleted", "AccessDenied"}, outcomes

    assert len(s3[1].list_object_versions(Bucket=bucket)["Versions"]) == 11

    # An IAM user's code, accepted by node 1 (GetSessionToken), is refused by nodes 2 and 3.
    key, serial, totp = user_with_device(cluster, f"walker-{uuid.uuid4().hex[:6]}")
    stss = [cluster.client("sts", node, key["AccessKeyId"], key["SecretAccessKey"]) for node in range(3)]
    code = code_at(totp, 0)
    assert stss[0].get_session_token(SerialNumber=serial, TokenCode=code)["Credentials"]
    for node in (1, 2, 0):
        with pytest.raises(ClientError) as refused:
            stss[node].get_session_token(SerialNumber=serial, TokenCode=code)
        assert refused.value.response["Error"]["Code"] == "AccessDenied"


def user_with_device(cluster, name):
    iam = cluster.client("iam", 0)
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    created = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{name}-phone")["VirtualMFADevice"]
    totp = pyotp.TOTP(created["Base32StringSeed"].decode())
    iam.enable_mfa_device(UserName=name, SerialNumber=created["SerialNumber"],
                          AuthenticationCode1=code_at(totp, -2), AuthenticationCode2=code_at(totp, -1))
    return key, created["SerialNumber"], totp


def judged(cluster, serial):
    """Wrong codes the verifier actually checked (not refused unchecked while throttled)."""
    return int(cluster.sql(f"SELECT count(*) FROM audit WHERE serial = '{serial}' AND outcome = 'failed' "
                           f"AND coalesce(detail, '') <> 'throttled'"))


def test_a_burst_of_wrong_codes_over_three_nodes_is_judged_no_more_than_on_one(cluster):
    counts = {}
    for label, spread in (("one", [0]), ("three", [0, 1, 2])):
        key, serial, totp = user_with_device(cluster, f"guesser-{label}-{uuid.uuid4().hex[:6]}")
        stss = [cluster.client("sts", node, key["AccessKeyId"], key["SecretAccessKey"]) for node in spread]
        wrong = code_at(totp, 9)
        barrier = threading.Barrier(20)

        def guess(index):
            if index < 20:
                barrier.wait()
            try:
                stss[index % len(stss)].get_session_token(SerialNumber=serial, TokenCode=wrong)
                return "accepted"
            except ClientError as error:
                return error.response["Error"]["Code"]

        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            outcomes = list(pool.map(guess, range(100)))
        assert "accepted" not in outcomes
        assert set(outcomes) <= {"AccessDenied", "SlowDown", "ServiceUnavailable", "Throttling"}, set(outcomes)
        counts[label] = judged(cluster, serial)
    assert 1 <= counts["three"] <= counts["one"], counts


def test_every_node_reads_what_any_node_acknowledged(cluster):
    s3 = [cluster.client("s3", node) for node in range(3)]
    bucket = f"raw-{uuid.uuid4().hex[:8]}"
    s3[0].create_bucket(Bucket=bucket)
    stale = []
    for round_ in range(200):
        writer = round_ % 3
        key = f"k{round_ % 7}"
        body = f"round {round_}".encode()
        if round_ % 5 == 4:
            s3[writer].delete_object(Bucket=bucket, Key=key)
            for reader in range(3):
                try:
                    s3[reader].head_object(Bucket=bucket, Key=key)
                    stale.append((round_, reader, "deleted key still there"))
                except ClientError as error:
                    assert error.response["Error"]["Code"] in ("404", "NoSuchKey")
            continue
        etag = s3[writer].put_object(Bucket=bucket, Key=key, Body=body)["ETag"]
        for reader in range(3):
            if s3[reader].get_object(Bucket=bucket, Key=key)["Body"].read() != body:
                stale.append((round_, reader, "GET"))
            if s3[reader].head_object(Bucket=bucket, Key=key)["ETag"] != etag:
                stale.append((round_, reader, "HEAD"))
        listed = {o["Key"]: o["ETag"] for o in s3[(writer + 1) % 3].list_objects_v2(Bucket=bucket).get("Contents", [])}
        if listed.get(key) != etag:
            stale.append((round_, "list"))
    assert stale == []


def test_concurrent_puts_over_three_nodes_keep_one_latest_per_key_and_listings_whole(cluster):
    s3 = [cluster.client("s3", node) for node in range(3)]
    bucket = f"race-{uuid.uuid4().hex[:8]}"
    s3[0].create_bucket(Bucket=bucket)
    s3[1].put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    keys = [f"key-{i:02d}" for i in range(12)]
    done = threading.Event()
    pages_seen = []

    def paginate():
        # While the writes go on: each full pass over the versions has no duplicate entry.
        while not done.is_set():
            seen = []
            for page in s3[2].get_paginator("list_object_versions").paginate(Bucket=bucket, PaginationConfig={"PageSize": 7}):
                seen += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
            assert len(seen) == len(set(seen)), "a version listed twice in one pass"
            pages_seen.append(len(seen))

    def put(index):
        response = s3[index % 3].put_object(Bucket=bucket, Key=keys[index % len(keys)], Body=f"{index}".encode())
        return keys[index % len(keys)], response["VersionId"]

    lister = threading.Thread(target=paginate)
    lister.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(24) as pool:
            written = list(pool.map(put, range(300)))
    finally:
        done.set()
        lister.join()
    assert len(pages_seen) >= 1
    versions = []
    for page in s3[0].get_paginator("list_object_versions").paginate(Bucket=bucket, PaginationConfig={"PageSize": 50}):
        versions += page.get("Versions", [])
    assert sorted((v["Key"], v["VersionId"]) for v in versions) == sorted(written)  # no gap, no duplicate
    for key in keys:
        latest = [v for v in versions if v["Key"] == key and v["IsLatest"]]
        assert len(latest) == 1, key
        # The latest is what every node GETs.
        bodies = {s3[node].get_object(Bucket=bucket, Key=key)["VersionId"] for node in range(3)}
        assert bodies == {latest[0]["VersionId"]}
    assert cluster.sql(f"SELECT count(*) FROM (SELECT key FROM versions v JOIN buckets b ON b.id = v.bucket_id "
                       f"WHERE b.name = '{bucket}' AND is_latest = 1 GROUP BY key HAVING count(*) > 1) d") == "0"


def test_a_revoked_key_and_a_detached_policy_reach_every_node_within_a_second(cluster):
    iam = cluster.client("iam", 0)
    name = f"reader-{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    bucket = f"iam-{uuid.uuid4().hex[:8]}"
    cluster.client("s3", 1).create_bucket(Bucket=bucket)
    iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    users = [cluster.client("s3", node, key["AccessKeyId"], key["SecretAccessKey"]) for node in range(3)]
    for s3 in users:  # every node has used (and cached) the key and the policy
        s3.list_objects_v2(Bucket=bucket)

    def refused_everywhere_within(limit, code):
        deadline = time.time() + limit
        pending = set(range(3))
        while pending and time.time() < deadline:
            for node in list(pending):
                try:
                    users[node].list_objects_v2(Bucket=bucket)
                except ClientError as error:
                    if error.response["Error"]["Code"] == code:
                        pending.discard(node)
            time.sleep(0.02)
        return pending

    iam.detach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    assert refused_everywhere_within(1.0, "AccessDenied") == set()
    iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    assert refused_everywhere_within(1.0, "InvalidAccessKeyId") == set()


def test_a_data_folder_migrates_into_a_cluster_and_verify_agrees(cluster):
    from conftest import ACCESS_KEY, SECRET_KEY, Server
    source = Server(cluster=False).start()
    s3 = source.client()
    s3.create_bucket(Bucket="moved")
    s3.put_bucket_versioning(Bucket="moved", VersioningConfiguration={"Status": "Enabled"})
    bodies = {"small": b"tiny", "large": os.urandom(300_000)}
    versions = [s3.put_object(Bucket="moved", Key=key, Body=body)["VersionId"] for key, body in bodies.items()]
    versions.append(s3.put_object(Bucket="moved", Key="small", Body=b"tiny v2")["VersionId"])
    iam = boto3.client("iam", endpoint_url=source.endpoint, region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
                       aws_secret_access_key=SECRET_KEY)
    iam.create_user(UserName="mover")
    key = iam.create_access_key(UserName="mover")["AccessKey"]
    created = iam.create_virtual_mfa_device(VirtualMFADeviceName="mover-phone")["VirtualMFADevice"]
    totp = pyotp.TOTP(created["Base32StringSeed"].decode())
    iam.enable_mfa_device(UserName="mover", SerialNumber=created["SerialNumber"],
                          AuthenticationCode1=code_at(totp, -2), AuthenticationCode2=code_at(totp, -1))
    source.stop()

    database = f"migrated_{uuid.uuid4().hex[:8]}"
    cluster.sql(f"CREATE DATABASE {database}")
    url = cluster.env["COFFER_DATABASE"].rsplit("/", 1)[0] + "/" + database
    blobs = f"rados:coffer?conf={cluster.ceph_conf}&namespace={database}"
    env = dict(os.environ, COFFER_ROOT_ACCESS_KEY=ACCESS_KEY, COFFER_ROOT_SECRET_KEY=SECRET_KEY)
    env.pop("COFFER_MASTER_KEY", None)
    moved = subprocess.run([COFFER, "admin", "migrate", "--data", source.data, "--database", url, "--blobs", blobs],
                           capture_output=True, text=True, timeout=120, env=env)
    assert moved.returncode == 0, moved.stderr
    assert "Migrated" in moved.stdout and "1 blob file(s)" in moved.stdout, moved.stdout
    assert cluster.env["COFFER_PG_PASSWORD"] not in moved.stdout + moved.stderr
    # Into a database that is no longer empty: refused, nothing copied twice.
    again = subprocess.run([COFFER, "admin", "migrate", "--data", source.data, "--database", url, "--blobs", blobs],
                           capture_output=True, text=True, timeout=120, env=env)
    assert again.returncode != 0 and "already holds data" in again.stderr
    verify = subprocess.run([COFFER, "admin", "verify", "--database", url, "--blobs", blobs], capture_output=True,
                            text=True, timeout=120, env=env)
    assert verify.returncode == 0 and "0 damaged, 0 orphan" in verify.stdout, verify.stdout + verify.stderr
    users = subprocess.run([COFFER, "admin", "users", "--database", url, "--blobs", blobs,
                            "--master-key-file", os.path.join(source.data, "master.key")],
                           capture_output=True, text=True, timeout=120, env=env)
    assert users.returncode == 0 and "mover" in users.stdout, users.stdout + users.stderr

    node = Server(cluster=False, extra_args=["--database", url, "--blobs", blobs, "--master-key-file",
                                             os.path.join(source.data, "master.key")]).start()
    try:
        s3 = node.client()
        for key_name, body in bodies.items():
            assert s3.get_object(Bucket="moved", Key=key_name)["Body"].read() == (b"tiny v2" if key_name == "small" else body)
        listed = [v["VersionId"] for v in s3.list_object_versions(Bucket="moved")["Versions"]]
        assert sorted(listed) == sorted(versions)
        # The sealed seed opens on the cluster (same master key): the user's code is accepted once.
        sts = boto3.client("sts", endpoint_url=node.endpoint, region_name="us-east-1",
                           aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
        code = code_at(totp, 0)
        assert sts.get_session_token(SerialNumber=created["SerialNumber"], TokenCode=code)["Credentials"]
        with pytest.raises(ClientError):
            sts.get_session_token(SerialNumber=created["SerialNumber"], TokenCode=code)
        # New rows continue after the copied ids.
        assert s3.put_object(Bucket="moved", Key="after", Body=b"new")["VersionId"]
        s3.create_bucket(Bucket="moved-too")
    finally:
        node.stop()
        shutil.rmtree(source.data, ignore_errors=True)


def test_killing_the_primary_under_load_loses_no_acknowledged_write_or_consumed_step(cluster):
    s3 = [cluster.client("s3", node) for node in range(3)]
    bucket = f"failover-{uuid.uuid4().hex[:8]}"
    s3[0].create_bucket(Bucket=bucket)
    # A step consumed before the failover stays consumed after it.
    key, serial, totp = user_with_device(cluster, f"survivor-{uuid.uuid4().hex[:6]}")
    stss = [cluster.client("sts", node, key["AccessKeyId"], key["SecretAccessKey"]) for node in range(3)]
    consumed = code_at(totp, 0)
    assert stss[0].get_session_token(SerialNumber=serial, TokenCode=consumed)["Credentials"]
    acknowledged = []
    stop = threading.Event()

    def writer(node):
        index = 0
        while not stop.is_set():
            key = f"n{node}-{index}"
            try:
                s3[node].put_object(Bucket=bucket, Key=key, Body=key.encode())
                acknowledged.append(key)
            except Exception:  # 503 while no server takes writes; the client would retry
                time.sleep(0.05)
            index += 1

    threads = [threading.Thread(target=writer, args=(node,)) for node in range(3)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)
        before = len(acknowledged)
        assert before > 0
        os.kill(cluster.pids()["pg1"], signal.SIGKILL)
        time.sleep(1)
        script(cluster.folder, "promote")
        promoted = time.time()
        # Every node serves writes again within 10 s of the promotion.
        deadline = promoted + 10
        recovered = set()
        while len(recovered) < 3 and time.time() < deadline:
            for node in set(range(3)) - recovered:
                try:
                    s3[node].put_object(Bucket=bucket, Key=f"probe-{node}", Body=b"x")
                    recovered.add(node)
                except Exception:
                    pass
            time.sleep(0.1)
        assert recovered == {0, 1, 2}, f"not serving within 10 s of promote: {set(range(3)) - recovered}"
        time.sleep(1)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    listed = set()
    for page in s3[1].get_paginator("list_objects_v2").paginate(Bucket=bucket):
        listed |= {o["Key"] for o in page.get("Contents", [])}
    missing = [key for key in acknowledged if key not in listed]
    assert missing == [], f"{len(missing)} acknowledged writes lost"
    # The consumed step is still consumed on the new primary: the same code is refused.
    with pytest.raises(ClientError) as refused:
        stss[2].get_session_token(SerialNumber=serial, TokenCode=consumed)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    # The nodes said why they paused, and that they resumed.
    logs = "".join(cluster.log(node) for node in range(3))
    assert "no PostgreSQL server takes writes" in logs or "lost the PostgreSQL server" in logs, logs[-2000:]
    assert "writing to PostgreSQL" in logs


def test_a_large_object_is_pieces_in_rados_read_whole_and_by_range_on_every_node(cluster):
    s3 = [cluster.client("s3", node) for node in range(3)]
    bucket = f"pieces-{uuid.uuid4().hex[:8]}"
    s3[0].create_bucket(Bucket=bucket)
    s3[0].put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    body = os.urandom(3 * (1 << 20) + 12345)
    before = cluster.objects()
    version = s3[0].put_object(Bucket=bucket, Key="big", Body=body)["VersionId"]
    new = cluster.objects() - before
    base = min(new, key=len)
    assert new == {base, f"{base}.1", f"{base}.2", f"{base}.3"}, new
    assert cluster.rados("stat", f"{base}.3").decode().endswith("size 12345\n")
    for node in (1, 2):
        assert s3[node].get_object(Bucket=bucket, Key="big")["Body"].read() == body
        # A range across two pieces' boundaries, and one inside the last piece.
        ranged = s3[node].get_object(Bucket=bucket, Key="big", Range="bytes=1048000-3146000")
        assert ranged["ContentRange"] == f"bytes 1048000-3146000/{len(body)}"
        assert ranged["Body"].read() == body[1048000:3146001]
        assert s3[node].get_object(Bucket=bucket, Key="big", Range="bytes=-100")["Body"].read() == body[-100:]

    # Past the 8 MiB a node holds in memory on its way to RADOS, a body is staged in a file: the
    # same pieces either way.
    huge = os.urandom(9 * (1 << 20) + 5)
    before = cluster.objects()
    s3[1].put_object(Bucket=bucket, Key="huge", Body=huge)
    new = cluster.objects() - before
    huge_base = min(new, key=len)
    assert new == {huge_base} | {f"{huge_base}.{piece}" for piece in range(1, 10)}, new
    assert cluster.rados("stat", f"{huge_base}.9").decode().endswith("size 5\n")
    assert s3[2].get_object(Bucket=bucket, Key="huge")["Body"].read() == huge

    # A multipart upload through all three nodes: its parts are blobs of their own.
    upload = s3[1].create_multipart_upload(Bucket=bucket, Key="multi")["UploadId"]
    parts = [os.urandom(5 * (1 << 20) + 3), os.urandom((1 << 20) + 7)]
    etags = [s3[(i + 2) % 3].upload_part(Bucket=bucket, Key="multi", UploadId=upload, PartNumber=i + 1,
                                         Body=part)["ETag"] for i, part in enumerate(parts)]
    s3[1].complete_multipart_upload(Bucket=bucket, Key="multi", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": i + 1, "ETag": etag} for i, etag in enumerate(etags)]})
    whole = b"".join(parts)
    assert s3[2].get_object(Bucket=bucket, Key="multi", Range="bytes=5242000-5243000")["Body"].read() == whole[5242000:5243001]
    assert s3[0].get_object(Bucket=bucket, Key="multi")["Body"].read() == whole

    # Deleting the version removes every piece.
    s3[2].delete_object(Bucket=bucket, Key="big", VersionId=version)
    assert not {name for name in cluster.objects() if name.split(".")[0] == base}


def test_a_full_pool_answers_507_at_once_and_deletes_still_work(cluster):
    import json
    s3 = [cluster.client("s3", node) for node in range(3)]
    bucket = f"full-{uuid.uuid4().hex[:8]}"
    s3[0].create_bucket(Bucket=bucket)
    stored = next(pool["stats"]["stored"] for pool in json.loads(cluster.ceph("df", "--format", "json"))["pools"]
                  if pool["name"] == "coffer")
    cluster.ceph("osd", "pool", "set-quota", "coffer", "max_bytes", str(stored + (6 << 20)))
    body = os.urandom(1 << 20)
    written = []
    try:
        # The monitor marks the pool full from the manager's statistics, seconds after it fills.
        deadline = time.time() + 120
        refused = None
        while time.time() < deadline:
            key = f"fill-{len(written)}"
            try:
                s3[len(written) % 3].put_object(Bucket=bucket, Key=key, Body=body)
                written.append(key)
            except ClientError as error:
                refused = error
                break
            time.sleep(0.2)
        assert refused is not None, f"{len(written)} MiB written past a 6 MiB quota"
        assert refused.response["ResponseMetadata"]["HTTPStatusCode"] == 507
        assert refused.response["Error"]["Code"] == "InsufficientStorage"
        # Every node answers 507 at once: write ops carry FULL_TRY, so nothing waits for space.
        for node in range(3):
            started = time.time()
            with pytest.raises(ClientError) as again:
                s3[node].put_object(Bucket=bucket, Key="one-more", Body=body)
            assert again.value.response["Error"]["Code"] == "InsufficientStorage"
            assert time.time() - started < 2
        # Small objects live in the database: they still go in, and deletes go through.
        s3[1].put_object(Bucket=bucket, Key="note", Body=b"the pool is full")
        for key in written:
            s3[2].delete_object(Bucket=bucket, Key=key)
        listed = {o["Key"] for o in s3[0].list_objects_v2(Bucket=bucket).get("Contents", [])}
        assert listed == {"note"}
    finally:
        cluster.ceph("osd", "pool", "set-quota", "coffer", "max_bytes", "0")
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                s3[0].put_object(Bucket=bucket, Key="room-again", Body=body)
                break
            except ClientError:
                time.sleep(1)


def test_a_node_killed_mid_upload_leaves_no_partial_version_and_the_orphans_are_swept(cluster):
    """Last in the module: node 3 stays dead."""
    s3 = [cluster.client("s3", node) for node in range(3)]
    bucket = f"killed-{uuid.uuid4().hex[:8]}"
    s3[0].create_bucket(Bucket=bucket)
    # Bytes a node wrote to RADOS before it died, with no row naming them (as after a kill -9
    # between the pieces and the commit): two pieces of a blob.
    orphan = uuid.uuid4().hex
    with tempfile.NamedTemporaryFile() as file:
        file.write(os.urandom(1 << 20))
        file.flush()
        cluster.rados("put", orphan, file.name)
        cluster.rados("put", f"{orphan}.1", file.name)
        # And what an interrupted removal of a three-piece orphan leaves: its first and last pieces.
        cluster.rados("put", f"{orphan[::-1]}", file.name)
        cluster.rados("put", f"{orphan[::-1]}.2", file.name)
    kept = s3[0].put_object(Bucket=bucket, Key="kept", Body=os.urandom(2 << 20))["ETag"]

    # A multipart upload on node 3 with one part done; then a PUT and the second part under way
    # on node 3 when it is killed.
    upload = s3[2].create_multipart_upload(Bucket=bucket, Key="multi")["UploadId"]
    parts = [os.urandom(5 << 20), os.urandom(3 << 20)]
    first = s3[2].upload_part(Bucket=bucket, Key="multi", UploadId=upload, PartNumber=1, Body=parts[0])["ETag"]
    big = os.urandom(48 << 20)
    outcomes = {}

    def put():
        try:
            s3[2].put_object(Bucket=bucket, Key="half", Body=big)
            outcomes["put"] = "ok"
        except Exception as error:
            outcomes["put"] = type(error).__name__

    def part():
        try:
            s3[2].upload_part(Bucket=bucket, Key="multi", UploadId=upload, PartNumber=2, Body=parts[1])
            outcomes["part"] = "ok"
        except Exception as error:
            outcomes["part"] = type(error).__name__

    threads = [threading.Thread(target=put), threading.Thread(target=part)]
    for thread in threads:
        thread.start()
    time.sleep(0.4)
    os.kill(cluster.pids()["node3"], signal.SIGKILL)
    for thread in threads:
        thread.join()
    # The PUT either was acknowledged whole or left no version at all.
    versions = s3[0].list_object_versions(Bucket=bucket, Prefix="half").get("Versions", [])
    if outcomes["put"] == "ok":
        assert s3[1].get_object(Bucket=bucket, Key="half")["Body"].read() == big
    else:
        assert versions == []
        with pytest.raises(ClientError):
            s3[1].head_object(Bucket=bucket, Key="half")
    # The upload completes through the other nodes.
    second = s3[0].upload_part(Bucket=bucket, Key="multi", UploadId=upload, PartNumber=2, Body=parts[1])["ETag"]
    s3[1].complete_multipart_upload(Bucket=bucket, Key="multi", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": first}, {"PartNumber": 2, "ETag": second}]})
    assert s3[0].get_object(Bucket=bucket, Key="multi")["Body"].read() == b"".join(parts)

    # Within the grace period (6 s here) and a sweep (every 2 s; its listing 3 objects a page, so a
    # blob's pieces fall on several pages), the orphans' pieces are gone,
    # and `coffer admin verify` finds no orphan and nothing damaged: what versions use stays.
    blobs = f"rados:coffer?conf={cluster.ceph_conf}"
    deadline = time.time() + 60
    while time.time() < deadline:
        verify = subprocess.run([COFFER, "admin", "verify", "--database", cluster.env["COFFER_DATABASE"], "--blobs", blobs],
                                capture_output=True, text=True, timeout=120)
        if orphan not in cluster.objects() and " 0 orphan" in verify.stdout:
            break
        time.sleep(1)
    left = cluster.objects()
    assert not {orphan, f"{orphan}.1", orphan[::-1], f"{orphan[::-1]}.2"} & set(left)
    assert verify.returncode == 0 and "0 damaged, 0 orphan" in verify.stdout, verify.stdout + verify.stderr
    assert s3[1].get_object(Bucket=bucket, Key="kept")["ETag"] == kept
