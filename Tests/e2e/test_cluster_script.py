"""`scripts/cluster` (issue 21 §5): a PostgreSQL primary and a synchronous standby on loopback, and
three Coffer nodes on them (their invariants: test_cluster.py) — a commit acknowledged by the primary is already on the standby; after `kill -9` of the
primary, `promote` makes the standby a primary that takes writes at once (it no longer waits for a
standby) and still holds every acknowledged row; `down` stops exactly the processes `up` started."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "cluster")
COFFER = os.environ.get("COFFER_BIN") or os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug", "coffer")


def run(folder, *args, timeout=300):
    result = subprocess.run([SCRIPT, *args], capture_output=True, text=True, timeout=timeout,
                            env=dict(os.environ, COFFER_CLUSTER_DIR=folder, COFFER_BIN=COFFER,
                                     COFFER_NODE_ARGS="--password-log-n 10"))
    assert result.returncode == 0, f"scripts/cluster {' '.join(args)}: {result.stdout}{result.stderr}"
    return result.stdout


def environment(folder):
    values = {}
    with open(os.path.join(folder, "env")) as file:
        for line in file:
            name, _, value = line.strip().partition("=")
            values[name] = value.strip('"')
    return values


def sql(folder, port, statement, timeout=10):
    """One statement through psql as the cluster's user; its output, or None when it timed out."""
    env = environment(folder)
    try:
        result = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-h", "127.0.0.1", "-p", str(port), "-U", "coffer",
                                 "-d", "coffer", "-c", statement], capture_output=True, text=True, timeout=timeout,
                                env=dict(os.environ, PGPASSWORD=env["COFFER_PG_PASSWORD"], PGCONNECT_TIMEOUT="5"))
    except subprocess.TimeoutExpired:
        return None
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def pids(folder):
    with open(os.path.join(folder, "pids")) as file:
        return {part: int(pid) for part, pid in (line.split() for line in file if line.strip())}


def alive(pid):
    """Running: it exists and is not a zombie waiting for its parent to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


@pytest.fixture
def folder():
    path = tempfile.mkdtemp(prefix="coffer-cluster-")
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        subprocess.run([SCRIPT, "destroy"], capture_output=True, timeout=120, env=dict(os.environ, COFFER_CLUSTER_DIR=path))
        shutil.rmtree(path, ignore_errors=True)


def test_a_synchronous_standby_keeps_every_acknowledged_write_through_a_failover(folder):
    started = time.time()
    run(folder, "up")
    env = environment(folder)
    primary, standby = int(env["COFFER_PG_PRIMARY_PORT"]), int(env["COFFER_PG_STANDBY_PORT"])
    assert env["COFFER_DATABASE"].startswith("postgres://coffer:") and f",127.0.0.1:{standby}/coffer" in env["COFFER_DATABASE"]
    assert os.stat(os.path.join(folder, "env")).st_mode & 0o077 == 0
    status = run(folder, "status")
    assert "pg1: running" in status and "primary" in status and "standby sync" in status, status
    assert "pg2: running" in status, status

    sql(folder, primary, "CREATE TABLE ledger (serial text PRIMARY KEY, last_step bigint NOT NULL)")
    for step in range(1, 51):
        sql(folder, primary, f"INSERT INTO ledger VALUES ('device-{step}', {step})")
    # Acknowledged by a synchronous primary: already on the standby.
    assert sql(folder, standby, "SELECT count(*) FROM ledger") == "50"

    recorded = pids(folder)
    os.kill(recorded["pg1"], signal.SIGKILL)
    time.sleep(0.5)
    assert not alive(recorded["pg1"])
    promoted_at = time.time()
    run(folder, "promote")
    # The new primary takes a write at once: it waits for no standby (a commit would hang otherwise).
    assert sql(folder, standby, "UPDATE ledger SET last_step = 51 WHERE serial = 'device-50' AND last_step < 51 "
                                "RETURNING last_step") == "51"
    assert time.time() - promoted_at < 10
    assert sql(folder, standby, "SELECT count(*) FROM ledger") == "50"
    assert "pg2: running" in run(folder, "status")

    run(folder, "down")
    for pid in recorded.values():
        assert not alive(pid)
    assert not os.path.exists(os.path.join(folder, "pids"))
    assert time.time() - started < 120


def test_down_stops_only_what_up_started(folder):
    # A stranger's process on the machine is not touched, even one named postgres.
    stranger = subprocess.Popen(["sleep", "60"])
    try:
        run(folder, "up")
        recorded = pids(folder)
        assert set(recorded) == {"pg1", "pg2", "ceph-mon.a", "ceph-osd.0", "ceph-mgr.x", "node1", "node2", "node3"}
        assert all(alive(pid) for pid in recorded.values())
        status = run(folder, "status")
        assert all(f"node{i}: running" in status for i in (1, 2, 3)), status
        assert all(f"{part}: running" in status for part in ("ceph-mon.a", "ceph-osd.0", "ceph-mgr.x")), status
        assert "already up" in run(folder, "up")
        run(folder, "down")
        assert not any(alive(pid) for pid in recorded.values())
        assert stranger.poll() is None
        # Up again on the same folder: the same data, the same ports.
        before = environment(folder)
        run(folder, "up")
        after = environment(folder)
        assert after["COFFER_PG_PRIMARY_PORT"] == before["COFFER_PG_PRIMARY_PORT"]
        assert after["COFFER_NODE1"] == before["COFFER_NODE1"] and after["COFFER_ROOT_ACCESS_KEY"] == before["COFFER_ROOT_ACCESS_KEY"]
        run(folder, "down")
    finally:
        stranger.kill()
