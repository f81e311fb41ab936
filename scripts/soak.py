"""Soak test for a live `coffer serve` (run it through scripts/soak MINUTES [--out DIR]).

Starts a server on a fresh data folder, drives a mixed S3 load at concurrency 64 (one boto3 client
per thread), records every second the requests, throughput, p50/p99, 5xx, unexpected errors and the
server's RSS, then writes OUT/soak.csv, OUT/soak.png, OUT/errors.log and OUT/server.log.
Passes only with zero 5xx, a live server and a flat RSS (last minute vs minute 1 after warm-up).
"""
import argparse
import atexit
import collections
import csv
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import boto3
import pyotp
from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "e2e"))
from conftest import ACCESS_KEY, COFFER, SECRET_KEY, Server  # noqa: E402

THREADS = 64
WARMUP = 30                                   # seconds before "minute 1" starts
KIB, MIB = 1024, 1024 * 1024
KEYS = 4000                                   # plain-bucket key space: k0000 … k3999
POOL_TARGET = (3000, 512 * MIB)               # versions / bytes kept: deletes start here…
POOL_CAP = (4000, 896 * MIB)                  # …and every add turns into a delete here (~1 GiB)
RSS_GROWTH, RSS_SLACK_MIB = 0.25, 20
# op → weight (per mille); "perm" becomes a small PUT while the pool is below its target.
MIX = {"put_small": 220, "put_medium": 20, "get": 200, "head": 120, "list": 40, "delete_marker": 50,
       "perm": 300, "vault_nocode": 49, "multipart": 1}
ADDS = {"put_small", "put_medium", "delete_marker", "multipart"}


def body(seed, size):
    """Deterministic bytes, so any version or range can be checked without keeping it."""
    block = random.Random(seed).randbytes(4096)
    return (block * (size // 4096 + 1))[:size]


class Pool:
    """The plain bucket's versions we know of: O(1) add, random pick and random removal."""

    def __init__(self):
        self.lock, self.items, self.index, self.bytes = threading.Lock(), [], {}, 0

    def add(self, entry):  # entry: (key, version_id, size, seed); seed None for a delete marker
        with self.lock:
            self.index[entry[:2]] = len(self.items)
            self.items.append(entry)
            self.bytes += entry[2]

    def pick(self):  # reads take no lock: with 64 threads a hot lock becomes a GIL convoy
        for _ in range(8):
            try:
                entry = random.choice(self.items)
            except IndexError:  # empty, or shrunk under us
                return None
            if entry[3] is not None:  # not a delete marker
                return entry
        return None

    def take(self):
        with self.lock:
            if not self.items:
                return None
            i = random.randrange(len(self.items))
            entry, last = self.items[i], self.items[-1]
            self.items[i] = last
            self.index[last[:2]] = i
            self.items.pop()
            del self.index[entry[:2]]
            self.bytes -= entry[2]
            return entry

    def __contains__(self, entry):
        return entry[:2] in self.index

    def level(self):
        n, b = len(self.items), self.bytes
        return (n >= POOL_TARGET[0] or b >= POOL_TARGET[1]), (n >= POOL_CAP[0] or b >= POOL_CAP[1])


class Stats:
    """Completions go through a deque (atomic append, no lock: a hot lock shared by 64 threads turns
    into a GIL convoy) to the sampler, which buckets them by the second they finished in."""

    def __init__(self, out):
        self.start, self.queue, self.buckets = time.monotonic(), collections.deque(), {}
        self.all_latencies, self.details, self.totals = [], [], collections.Counter()
        self.lock = threading.Lock()  # error details only
        self.log = open(os.path.join(out, "errors.log"), "w")

    def count(self, kind, latency=None):
        self.queue.append((time.monotonic(), kind, latency))

    def record(self, op, latency, err=None, expected=False, note=""):
        kind = "ok"
        if err is not None:
            status = err.response["ResponseMetadata"].get("HTTPStatusCode") if isinstance(err, ClientError) else None
            if status and status >= 500:
                kind = "5xx"
            elif not expected:
                kind = "errors"
            else:
                kind = "refused" if op == "vault_nocode" else "expected"
        self.count(kind, latency)
        if kind in ("5xx", "errors"):
            self.detail(f"{kind} {op}: {describe(err)} {note}".rstrip())

    def error(self, op, message):  # a wrong answer with a 2xx status (bad bytes, MFA bypass…)
        self.count("errors")
        self.detail(f"errors {op}: {message}")

    def detail(self, line):
        with self.lock:
            line = f"{time.strftime('%H:%M:%S')} t={time.monotonic() - self.start:.1f}s {line}"
            if len(self.details) < 1000:
                self.log.write(line + "\n")
                self.log.flush()
            self.details.append(line)

    def take(self, second):
        """The counts of one second (1 = the first second of load); later seconds stay queued."""
        while self.queue:
            t, kind, latency = self.queue.popleft()
            self.totals[kind] += 1
            bucket = self.buckets.setdefault(max(int(t - self.start) + 1, second),
                                             {"lat": [], "5xx": 0, "errors": 0, "refused": 0, "mfa_ok": 0})
            if latency is not None:
                bucket["lat"].append(latency)
            if kind in bucket:
                bucket[kind] += 1
        cur = self.buckets.pop(second, None) or {"lat": [], "5xx": 0, "errors": 0, "refused": 0, "mfa_ok": 0}
        self.all_latencies.extend(cur["lat"])
        return cur


def describe(err):
    if isinstance(err, ClientError):
        meta = err.response.get("ResponseMetadata", {})
        return (f"HTTP {meta.get('HTTPStatusCode')} {err.response.get('Error', {}).get('Code')} "
                f"{err.response.get('Error', {}).get('Message', '')!r} request-id={meta.get('RequestId')}")
    return f"{type(err).__name__}: {err}"


def not_found(err):
    return isinstance(err, ClientError) and err.response["ResponseMetadata"].get("HTTPStatusCode") == 404


class Load:
    def __init__(self, server, stats, device, stop):
        self.server, self.stats, self.device, self.stop = server, stats, device, stop
        self.pool, self.vault_versions = Pool(), []
        self.mfa_step = int(time.time() // 30)  # this step's code enabled MFA Delete on the vault
        self.seq = 0
        self.seq_lock = threading.Lock()
        self.session = boto3.session.Session()  # one session: the 64 clients share its loaded models

    def client(self):
        return self.session.client(
            "s3", endpoint_url=self.server.endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1", config=Config(retries={"total_max_attempts": 1}, max_pool_connections=4,
                                                   connect_timeout=10, read_timeout=120))

    def seed(self):
        with self.seq_lock:
            self.seq += 1
            return self.seq

    def call(self, op, fn, expected=lambda err: False, note=""):
        t0 = time.perf_counter()
        try:
            result = fn()
            self.stats.record(op, time.perf_counter() - t0)
            return result, None
        except Exception as err:  # noqa: BLE001 — connection errors count too
            self.stats.record(op, time.perf_counter() - t0, err, expected(err), note)
            return None, err

    def run(self, s3, number):
        ops, weights = list(MIX), list(MIX.values())
        while not self.stop.is_set():
            if number == 0 and self.mfa_due():
                self.mfa_delete(s3)
                continue
            op = random.choices(ops, weights)[0]
            full, capped = self.pool.level()
            if op == "perm" and not full:
                op = "put_small"
            elif op in ADDS and capped:
                op = "perm"
            getattr(self, op)(s3)

    def put(self, s3, key, size, op):
        seed = self.seed()
        r, _ = self.call(op, lambda: s3.put_object(Bucket="soak", Key=key, Body=body(seed, size)))
        if r:
            self.pool.add((key, r["VersionId"], size, seed))

    def put_small(self, s3):
        self.put(s3, f"k{random.randrange(KEYS):04d}", random.randint(1 * KIB, 64 * KIB), "put_small")

    def put_medium(self, s3):
        self.put(s3, f"k{random.randrange(KEYS):04d}", random.randint(256 * KIB, 2 * MIB), "put_medium")

    def get(self, s3):
        entry = self.pool.pick()
        if not entry:
            return self.put_small(s3)
        key, vid, size, seed = entry
        args = dict(Bucket="soak", Key=key, VersionId=vid)
        first, last = 0, size - 1
        if random.random() < 0.35:
            first = random.randrange(size)
            last = random.randrange(first, size)
            args["Range"] = f"bytes={first}-{last}"
        data, err = self.call("get", lambda: s3.get_object(**args)["Body"].read(),
                              lambda err: not_found(err) and entry not in self.pool, f"{key} {vid}")
        if data is not None and data != body(seed, size)[first:last + 1]:
            self.stats.error("get", f"wrong bytes for {key} {vid} range {first}-{last}: {len(data)} bytes")

    def head(self, s3):
        entry = self.pool.pick()
        if not entry:
            return self.put_small(s3)
        r, _ = self.call("head", lambda: s3.head_object(Bucket="soak", Key=entry[0], VersionId=entry[1]),
                         lambda err: not_found(err) and entry not in self.pool, f"{entry[0]} {entry[1]}")
        if r and r["ContentLength"] != entry[2]:
            self.stats.error("head", f"{entry[0]} {entry[1]}: length {r['ContentLength']} != {entry[2]}")

    def list(self, s3):
        self.call("list", lambda: s3.list_object_versions(Bucket="soak", Prefix=f"k{random.randrange(40):02d}",
                                                          MaxKeys=200))

    def delete_marker(self, s3):
        key = f"k{random.randrange(KEYS):04d}"
        r, _ = self.call("delete_marker", lambda: s3.delete_object(Bucket="soak", Key=key))
        if r:
            if not r.get("DeleteMarker"):
                self.stats.error("delete_marker", f"{key}: no delete marker in {r.get('ResponseMetadata')}")
            else:
                self.pool.add((key, r["VersionId"], 0, None))

    def perm(self, s3):
        entry = self.pool.take()
        if entry:
            self.call("perm", lambda: s3.delete_object(Bucket="soak", Key=entry[0], VersionId=entry[1]),
                      note=f"{entry[0]} {entry[1]}")

    def multipart(self, s3):
        key, seed = f"mp/{random.randrange(KEYS):04d}", self.seed()
        data = body(seed, 10 * MIB)
        r, _ = self.call("multipart", lambda: s3.create_multipart_upload(Bucket="soak", Key=key))
        if not r:
            return
        upload, parts = r["UploadId"], []
        for number in (1, 2):
            chunk = data[(number - 1) * 5 * MIB:number * 5 * MIB]
            p, _ = self.call("multipart", lambda: s3.upload_part(Bucket="soak", Key=key, UploadId=upload,
                                                                 PartNumber=number, Body=chunk))
            if not p:
                self.call("multipart", lambda: s3.abort_multipart_upload(Bucket="soak", Key=key, UploadId=upload))
                return
            parts.append({"PartNumber": number, "ETag": p["ETag"]})
        done, _ = self.call("multipart", lambda: s3.complete_multipart_upload(
            Bucket="soak", Key=key, UploadId=upload, MultipartUpload={"Parts": parts}))
        if done:
            self.pool.add((key, done["VersionId"], 10 * MIB, seed))

    def vault_nocode(self, s3):
        key, vid = random.choice(self.vault_versions)
        r, _ = self.call("vault_nocode", lambda: s3.delete_object(Bucket="vault", Key=key, VersionId=vid),
                         lambda err: isinstance(err, ClientError) and err.response["Error"]["Code"] == "AccessDenied")
        if r is not None:
            self.stats.error("vault_nocode", f"MFA Delete bypassed: {key} {vid} deleted without a code")

    def mfa_due(self):
        now = time.time()
        return int(now // 30) > self.mfa_step and 1 <= now % 30 <= 25

    def mfa_delete(self, s3):
        """One permanent delete with a valid code per 30-s step (a code is single-use)."""
        self.mfa_step = int(time.time() // 30)
        key = f"mfa/{self.mfa_step}"
        r, _ = self.call("mfa_delete", lambda: s3.put_object(Bucket="vault", Key=key, Body=b"x" * 1024))
        if not r:
            return
        vid, code = r["VersionId"], self.device.totp.now()
        d, _ = self.call("mfa_delete", lambda: s3.delete_object(Bucket="vault", Key=key, VersionId=vid,
                                                                MFA=f"{self.device.serial} {code}"))
        if d is None:
            return
        gone, _ = self.call("mfa_delete", lambda: s3.head_object(Bucket="vault", Key=key, VersionId=vid),
                            not_found)
        if gone is not None:
            self.stats.error("mfa_delete", f"{key} {vid} still there after an MFA delete")
        else:
            self.stats.count("mfa_ok")


class Device:
    def __init__(self, iam):
        created = iam.create_virtual_mfa_device(VirtualMFADeviceName="soak-root")["VirtualMFADevice"]
        self.serial, self.totp = created["SerialNumber"], pyotp.TOTP(created["Base32StringSeed"].decode())
        now = time.time()
        iam.enable_mfa_device(UserName="root", SerialNumber=self.serial, AuthenticationCode1=self.totp.at(now - 60),
                              AuthenticationCode2=self.totp.at(now - 30))


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024
    except (OSError, AttributeError):
        return float("nan")


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def dir_mib(path):  # du in a child: a walk in Python would wait for the GIL at every file
    try:
        return int(subprocess.run(["du", "-sk", path], capture_output=True, text=True).stdout.split()[0]) / KIB
    except (OSError, ValueError, IndexError):
        return float("nan")


def pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def server_5xx(endpoint):
    try:
        text = urllib.request.urlopen(endpoint + "/metrics", timeout=10).read().decode()
    except OSError as err:
        return f"unreadable ({err})"
    hits = re.findall(r'coffer_requests_total\{operation="([^"]+)",status="(5\d\d)"\} (\d+)', text)
    return sum(int(n) for _, _, n in hits), hits


def plot(rows, out, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    t = [r["t"] for r in rows]
    fig, axes = plt.subplots(3, 1, figsize=(11, 8.5), sharex=True)
    series = [("rps", "throughput (req/s)", "tab:blue"), ("p99_ms", "p99 latency (ms)", "tab:orange"),
              ("rss_mib", "server RSS (MiB)", "tab:green")]
    for ax, (column, label, color) in zip(axes, series):
        ax.plot(t, [r[column] for r in rows], color=color, linewidth=1)
        if column == "p99_ms":
            ax.plot(t, [r["p50_ms"] for r in rows], color="tab:gray", linewidth=0.8, label="p50")
            ax.plot([], [], color=color, label="p99")
            ax.legend(loc="upper right", fontsize=8)
        ax.set_ylabel(label)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.axvspan(0, min(WARMUP, t[-1] if t else 0), color="gray", alpha=0.12)
        for r in rows:
            if r["http_5xx"] or r["errors"]:
                ax.axvline(r["t"], color="red", alpha=0.4, linewidth=0.8)
    axes[0].text(1, 0.02, "warm-up", transform=axes[0].get_xaxis_transform(), fontsize=8, color="gray")
    axes[-1].set_xlabel("time since start of load (s)   (red lines: seconds with 5xx or unexpected errors)")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "soak.png"), dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("minutes", nargs="?", type=float, default=10)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "soak"))
    args = parser.parse_args()
    out, duration = os.path.abspath(args.out), int(args.minutes * 60)
    os.makedirs(out, exist_ok=True)
    print(f"soak: {COFFER}, {args.minutes:g} min, concurrency {THREADS}, output in {out}", flush=True)

    server = Server(data=tempfile.mkdtemp(prefix="coffer-soak-")).start()
    atexit.register(lambda: server.process.poll() is None and server.process.kill())  # if setup fails
    log_lines = []
    threading.Thread(target=lambda: log_lines.extend(iter(server.process.stdout.readline, b"")), daemon=True).start()
    pid = server.process.pid
    kwargs = dict(endpoint_url=server.endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                  region_name="us-east-1", config=Config(retries={"total_max_attempts": 1}))
    iam, s3 = boto3.client("iam", **kwargs), boto3.client("s3", **kwargs)
    device = Device(iam)
    s3.create_bucket(Bucket="soak")
    s3.put_bucket_versioning(Bucket="soak", VersioningConfiguration={"Status": "Enabled"})
    s3.create_bucket(Bucket="vault")
    s3.put_bucket_versioning(Bucket="vault", VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"},
                             MFA=f"{device.serial} {device.totp.now()}")
    stats, stop = Stats(out), threading.Event()
    load = Load(server, stats, device, stop)
    for i in range(20):
        load.vault_versions.append((f"keep/{i}", s3.put_object(Bucket="vault", Key=f"keep/{i}", Body=b"v")["VersionId"]))
    clients = [load.client() for _ in range(THREADS)]
    rss_start, cpu_server, cpu_client = rss_mib(pid), cpu_seconds(pid), sum(os.times()[:2])

    workers = [threading.Thread(target=load.run, args=(c, n), daemon=True) for n, c in enumerate(clients)]
    rows, died, data_mib = [], None, dir_mib(server.data)
    last_cpu = (time.monotonic(), cpu_seconds(pid))
    stats.start = time.monotonic()
    for w in workers:
        w.start()
    try:
        for second in range(1, duration + 1):
            # A second is read half a second after it ends, so late-recorded completions are in it.
            time.sleep(max(0, stats.start + second + 0.5 - time.monotonic()))
            cur = stats.take(second)
            if second % 10 == 0:
                data_mib = dir_mib(server.data)
            now = (time.monotonic(), cpu_seconds(pid))
            cpu_pct, last_cpu = (now[1] - last_cpu[1]) / max(now[0] - last_cpu[0], 1e-3) * 100, now
            rows.append({"t": second, "requests": len(cur["lat"]), "rps": len(cur["lat"]),
                         "p50_ms": round(pct(cur["lat"], 0.50) * 1000, 2), "p99_ms": round(pct(cur["lat"], 0.99) * 1000, 2),
                         "http_5xx": cur["5xx"], "errors": cur["errors"], "mfa_refused": cur["refused"],
                         "mfa_deletes_ok": cur["mfa_ok"], "rss_mib": round(rss_mib(pid), 1),
                         "server_cpu_pct": round(cpu_pct), "pool_versions": len(load.pool.items),
                         "pool_mib": round(load.pool.bytes / MIB, 1), "data_dir_mib": round(data_mib, 1)})
            if second % 10 == 0:
                r = rows[-1]
                print(f"[{second:4d}s] {r['rps']:5d} req/s  p99 {r['p99_ms']:7.1f} ms  5xx {stats.totals.get('5xx', 0)}  "
                      f"errors {stats.totals.get('errors', 0)}  RSS {r['rss_mib']:.0f} MiB  data {data_mib:.0f} MiB", flush=True)
            if server.process.poll() is not None:
                died = server.process.returncode
                break
    except KeyboardInterrupt:
        print("soak: interrupted", flush=True)
    stop.set()
    deadline = time.monotonic() + 150  # a request may take up to read_timeout (120 s)
    for w in workers:
        w.join(timeout=max(0.0, deadline - time.monotonic()))
    hung = sum(w.is_alive() for w in workers)
    stats.take(0)  # requests that finished after the last sample count in the totals too
    for second in sorted(stats.buckets):
        stats.take(second)
    cpu_server, cpu_client = cpu_seconds(pid) - cpu_server, sum(os.times()[:2]) - cpu_client
    metrics = server_5xx(server.endpoint) if died is None else "server dead"
    exit_status = server.stop(signal.SIGTERM) if died is None else died
    with open(os.path.join(out, "server.log"), "wb") as f:
        f.write(server.output + b"".join(log_lines))

    with open(os.path.join(out, "soak.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["t"])
        writer.writeheader()
        writer.writerows(rows)
    elapsed = rows[-1]["t"] if rows else 0
    total = len(stats.all_latencies)
    window = lambda lo, hi: [r["rss_mib"] for r in rows if lo <= r["t"] <= hi]  # noqa: E731
    first_span = (WARMUP + 1, min(WARMUP + 60, elapsed))
    first = window(*first_span)
    last = window(elapsed - 59, elapsed)
    first_avg = sum(first) / len(first) if first else float("nan")
    last_avg = sum(last) / len(last) if last else float("nan")
    growth = last_avg - first_avg
    warm = next((r["rss_mib"] for r in rows if r["t"] == WARMUP), float("nan"))
    total_5xx, total_err = stats.totals.get("5xx", 0), stats.totals.get("errors", 0)
    p99 = pct(stats.all_latencies, 0.99) * 1000
    mfa_ok = sum(r["mfa_deletes_ok"] for r in rows)
    summary = [
        f"requests          {total} in {elapsed} s ({total / max(elapsed, 1):.1f} req/s mean)",
        f"latency           p50 {pct(stats.all_latencies, 0.5) * 1000:.1f} ms, p99 {p99:.1f} ms",
        f"5xx               {total_5xx} (server /metrics: {metrics if isinstance(metrics, str) else metrics[0]})",
        f"unexpected errors {total_err}; expected refusals {stats.totals.get('refused', 0)} (MFA bucket, no code); "
        f"404 races {stats.totals.get('expected', 0)}; MFA deletes ok {mfa_ok}",
        f"RSS               start {rss_start:.1f} MiB, after warm-up {warm:.1f} MiB, end {rows[-1]['rss_mib'] if rows else 0:.1f} MiB",
        (f"RSS minute 1      {first_avg:.1f} MiB avg (t={first_span[0]}-{first_span[1]} s), last minute {last_avg:.1f} "
         f"MiB avg (t={max(elapsed - 59, 1)}-{elapsed} s): {growth:+.1f} MiB ({growth / first_avg * 100:+.1f}%)" if first
         else f"RSS minute 1      n/a: the run ended within the {WARMUP}-s warm-up"),
        f"data folder       {dir_mib(server.data):.0f} MiB at the end, {max((r['data_dir_mib'] for r in rows), default=0):.0f} MiB peak (kept versions "
        f"{rows[-1]['pool_versions'] if rows else 0}, {rows[-1]['pool_mib'] if rows else 0:.0f} MiB)",
        f"CPU               server {cpu_server:.0f} s, load generator {cpu_client:.0f} s "
        f"({(cpu_server + cpu_client) / max(elapsed, 1) * 100:.0f}% of one core; {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f})",
        f"server exit       {'died with status ' + str(died) if died is not None else 'status ' + str(exit_status) + ' on SIGTERM'}",
    ]
    if elapsed < WARMUP + 120:
        summary.append(f"note              run shorter than {WARMUP + 120} s: minute 1 and the last minute overlap")
    failures = []
    if total_5xx:
        failures.append(f"{total_5xx} 5xx answers (see {out}/errors.log)")
    if hung:
        failures.append(f"{hung} load threads still waiting for an answer 150 s after the end")
    if died is not None:
        failures.append(f"the server died (status {died}) at t={elapsed} s (see {out}/server.log)")
    elif exit_status != 0:
        failures.append(f"the server exited with status {exit_status} on SIGTERM")
    if total_err:  # wrong bytes, a delete without a code that went through, a dropped connection
        failures.append(f"{total_err} unexpected errors (see {out}/errors.log)")
    if first and last and growth > RSS_GROWTH * first_avg and growth > RSS_SLACK_MIB:
        failures.append(f"RSS grew {growth:+.1f} MiB ({growth / first_avg * 100:+.0f}%) from minute 1 to the last minute")
    title = (f"coffer soak: {total / max(elapsed, 1):.0f} req/s mean, p99 {p99:.0f} ms, 5xx {total_5xx}, "
             f"errors {total_err}, RSS {first_avg:.0f} → {last_avg:.0f} MiB — {'FAIL' if failures else 'PASS'}")
    if rows:
        plot(rows, out, title)
    print("\n".join(["", "== soak summary =="] + summary))
    if stats.details:
        print(f"first errors ({len(stats.details)} in all, {out}/errors.log):")
        print("\n".join("  " + line for line in stats.details[:10]))
    print(f"files: {out}/soak.csv, {out}/soak.png, {out}/errors.log, {out}/server.log")
    if failures:
        print("FAIL: " + "; ".join(failures) + f" (data folder kept: {server.data})")
        return 1
    print("PASS: zero 5xx, no unexpected error, server alive, RSS flat")
    shutil.rmtree(server.data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
