"""Crash-consistency harness for `coffer serve`: load, kill -9, restart, verify; repeat.

Each cycle starts the server on the same data folder, drives a mixed S3 workload from several threads
(boto3, no retries), kills the server with SIGKILL 0.2-3 s into it, restarts it and checks that
acknowledged writes read back byte-exact by version id and acknowledged deletes held; that nothing
half-done shows (each listed version is whole and is the content of a write attempted on its key,
each new marker comes from an attempted delete); that the previous cycle's versions are unchanged
unless a delete of them was attempted; that MFA codes accepted before the kill stay used and none was
accepted twice; and, after a clean stop, that blobs/ holds exactly the files the database references.
The verified listing is the next cycle's baseline. Every operation is logged (in memory and in
DATA/crash-log.jsonl) as ack (2xx), refused (4xx), unsent (no connection) or unknown (connection died, 5xx).
"""
import argparse
import collections
import hashlib
import json
import os
import random
import shutil
import sqlite3
import tempfile
import threading
import time
import traceback
import urllib.request

import boto3
import pyotp
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from conftest import ACCESS_KEY, SECRET_KEY, Server

PLAIN, VAULT, PROBE = "crash-plain", "crash-vault", "mfa-probe"  # VAULT has MFA Delete enabled
KEYS = [f"key-{i}" for i in range(8)]
MiB = 1 << 20
MAY_HAVE_HAPPENED = ("ack", "unknown")
# Worker operations and their weights (MFA-protected deletes run in a thread of their own).
OPERATIONS = {"small": 30, "large": 10, "multipart": 4, "copy": 8, "delete": 8, "delete_version": 12,
              "delete_objects": 5, "versioning": 3}


class HarnessFailure(AssertionError):
    """A consistency check failed; the message says what broke and where the data folder is."""


def describe(body):
    """Size, MD5 ETag and SHA-256 of a body."""
    return {"size": len(body), "etag": hashlib.md5(body).hexdigest(), "sha256": hashlib.sha256(body).hexdigest()}


def summary_of(entry):
    """What must not change about a listed entry: marker or not, size, ETag (None: absent)."""
    return None if entry is None else (entry["marker"], entry.get("size"), entry.get("etag"))


def touches_null(op):
    """Whether an operation may have written or removed its key's null version (or null marker)."""
    if op["status"] not in MAY_HAVE_HAPPENED:
        return False
    if op["kind"] in ("write", "delete"):
        return op["status"] == "unknown" or op.get("vid") == "null"
    return op["kind"] == "delete_version" and op["target"] == "null"


def decisive(ops):
    """The acknowledged op that certainly ran after all the others (each ended before it began)."""
    return next((op for op in ops if op["status"] == "ack" and
                 all(other["end"] < op["start"] for other in ops if other is not op)), None)


class Harness:
    """One run: the data folder, the verified baseline, the operation log, the counters."""

    def __init__(self, data=None, seed=None, threads=4):
        self.data = data or tempfile.mkdtemp(prefix="coffer-crash-")
        self.rng, self.threads = random.Random(seed), threads
        self.lock, self.session = threading.Lock(), boto3.session.Session()
        self.ops, self.errors, self.failures = [], [], []
        self.pool = {PLAIN: [], VAULT: []}  # (key, version id, content) the workload may copy or delete
        self.state = {}                     # (bucket, key, version id) -> listed entry, as last verified
        self.versioning = "Enabled"         # PLAIN's status, as last verified
        self.accepted_steps = {}            # TOTP step -> id of the request its code was accepted for
        self.kills = self.checks = self.acked = self.attempted = self.unknown = self.next_id = 0
        self.kill_after, self.log_path = 0.0, os.path.join(self.data, "crash-log.jsonl")

    # ---- plumbing

    def client(self, server, service="s3"):
        config = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30)  # no retry at all
        return self.session.client(service, endpoint_url=server.endpoint, aws_access_key_id=ACCESS_KEY,
                                   aws_secret_access_key=SECRET_KEY, region_name="us-east-1", config=config)

    def begin(self, kind, bucket, key, **fields):
        """Logs an operation about to be sent."""
        with self.lock:
            self.next_id += 1
            op = dict(id=self.next_id, cycle=self.kills + 1, kind=kind, bucket=bucket, key=key, status="pending",
                      start=time.monotonic(), **fields)
            self.ops.append(op)
        return op

    @staticmethod
    def attempt(op, call):
        """Sends a logged operation and records its outcome; returns the response when acknowledged."""
        try:
            response = call()
            op["status"] = "ack"
            return response
        except ClientError as error:
            status = error.response["ResponseMetadata"].get("HTTPStatusCode", 0)
            op.update(status="refused" if 400 <= status < 500 else "unknown", error=error.response["Error"]["Code"])
        except EndpointConnectionError:  # no connection could be made: the server never saw it
            op.update(status="unsent", error="connection refused")
        except Exception as error:  # the connection died: the request may or may not have been applied
            op.update(status="unknown", error=f"{type(error).__name__}: {error}"[:200])
        finally:
            op["end"] = time.monotonic()

    def check(self, ok, message):
        self.checks += 1
        if not ok:
            self.failures.append(message)
        return ok

    # ---- the workload

    def write(self, s3, how, bucket, key, content, call, **fields):
        """A PUT, copy or completion; an acknowledged one with a version id joins the pool."""
        op = self.begin("write", bucket, key, how=how, content=content, **fields)
        response = self.attempt(op, call)
        if response is not None:
            op["vid"] = response.get("VersionId") or "null"
            if op["vid"] != "null":
                with self.lock:
                    self.pool[bucket].append((key, op["vid"], content))
        return op

    def put(self, s3, bucket, key, size):
        body = os.urandom(size)
        return self.write(s3, "put", bucket, key, describe(body), lambda: s3.put_object(Bucket=bucket, Key=key, Body=body))

    def op_small(self, s3, rng):
        """Up to 60 KB: stored inline in the database row."""
        self.put(s3, rng.choice([PLAIN, PLAIN, VAULT]), rng.choice(KEYS), rng.randint(3, 60_000))

    def op_large(self, s3, rng):
        """1-8 MiB: stored as a blob file."""
        self.put(s3, PLAIN if rng.random() < 0.85 else VAULT, rng.choice(KEYS), rng.randint(MiB, 8 * MiB))

    def op_copy(self, s3, rng):
        with self.lock:
            if not self.pool[PLAIN]:
                return
            key, vid, content = rng.choice(self.pool[PLAIN])
        dest, source = rng.choice(KEYS), {"Bucket": PLAIN, "Key": key, "VersionId": vid}
        self.write(s3, "copy", PLAIN, dest, content, source=f"{key}?versionId={vid}",
                   call=lambda: s3.copy_object(Bucket=PLAIN, Key=dest, CopySource=source))

    def op_multipart(self, s3, rng):
        """Two or three parts (5 MiB, [5 MiB,] up to 1 MiB), then the completion."""
        key, sizes = rng.choice(KEYS), [5 * MiB] * rng.choice([1, 2]) + [rng.randint(1, MiB)]
        created = self.attempt(self.begin("create_upload", PLAIN, key),
                               lambda: s3.create_multipart_upload(Bucket=PLAIN, Key=key))
        if created is None:
            return
        upload, parts, md5s, sha = created["UploadId"], [], b"", hashlib.sha256()
        for number, size in enumerate(sizes, 1):
            body = os.urandom(size)
            done = self.attempt(self.begin("upload_part", PLAIN, key, upload=upload, part=number, size=size),
                                lambda: s3.upload_part(Bucket=PLAIN, Key=key, UploadId=upload, PartNumber=number, Body=body))
            if done is None:
                return
            parts.append({"PartNumber": number, "ETag": done["ETag"]})
            md5s += hashlib.md5(body).digest()
            sha.update(body)
        content = {"size": sum(sizes), "etag": f"{hashlib.md5(md5s).hexdigest()}-{len(sizes)}", "sha256": sha.hexdigest()}
        self.write(s3, "complete", PLAIN, key, content, upload=upload, call=lambda: s3.complete_multipart_upload(
            Bucket=PLAIN, Key=key, UploadId=upload, MultipartUpload={"Parts": parts}))

    def op_delete(self, s3, rng):
        """A plain delete: stacks a delete marker (the null marker while suspended)."""
        bucket, key = rng.choice([PLAIN, PLAIN, VAULT]), rng.choice(KEYS)
        op = self.begin("delete", bucket, key)
        if (response := self.attempt(op, lambda: s3.delete_object(Bucket=bucket, Key=key))) is not None:
            op["vid"] = response.get("VersionId") or "null"

    def take(self, rng, bucket):
        """Removes one of the oldest versions of `bucket` from the pool (None when it is empty)."""
        with self.lock:
            pool = self.pool[bucket]
            return pool.pop(rng.randrange(min(len(pool), 4))) if pool else None

    def op_delete_version(self, s3, rng):
        """A permanent delete; on VAULT it lacks MFA and must be refused; sometimes of `null`."""
        bucket = VAULT if rng.random() < 0.1 else PLAIN
        picked = (rng.choice(KEYS), "null") if bucket == PLAIN and rng.random() < 0.1 else self.take(rng, bucket)
        if picked:
            self.delete_version(s3, bucket, picked[0], picked[1])

    def delete_version(self, s3, bucket, key, vid, code=None, step=None, multi=False, **fields):
        """Permanently deletes one version by DeleteObject or DeleteObjects, with `x-amz-mfa` when given a code."""
        op = self.begin("delete_version", bucket, key, target=vid, mfa_code=code, mfa_step=step, multi=multi, **fields)
        extra = {"MFA": f"{self.serial} {code}"} if code else {}
        if not multi:
            self.attempt(op, lambda: s3.delete_object(Bucket=bucket, Key=key, VersionId=vid, **extra))
        elif (response := self.attempt(op, lambda: s3.delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": key, "VersionId": vid}]}, **extra))) is not None:
            self.settle_entry(op, response)
        return op

    def op_delete_objects(self, s3, rng):
        """DeleteObjects: one to three versions of PLAIN, and one other key without version id."""
        picked = [p for p in (self.take(rng, PLAIN) for _ in range(rng.randint(1, 3))) if p]
        free = [k for k in KEYS if k not in {p[0] for p in picked}]
        ops = [self.begin("delete_version", PLAIN, key, target=vid, multi=True) for key, vid, _ in picked]
        ops.append(self.begin("delete", PLAIN, rng.choice(free), multi=True))
        objects = [{"Key": op["key"], **({"VersionId": op["target"]} if "target" in op else {})} for op in ops]
        response = self.attempt(ops[0], lambda: s3.delete_objects(Bucket=PLAIN, Delete={"Objects": objects}))
        for op in ops:
            op.update(status=ops[0]["status"], end=ops[0]["end"], error=ops[0].get("error"))
            if response is not None:
                self.settle_entry(op, response)

    @staticmethod
    def settle_entry(op, response):
        """One DeleteObjects entry: acknowledged when listed as Deleted, else refused."""
        for item in response.get("Deleted", []):
            if item["Key"] == op["key"] and (op["kind"] == "delete" or item.get("VersionId") == op["target"]):
                op["vid"] = (item.get("DeleteMarkerVersionId") or "null") if op["kind"] == "delete" else op["target"]
                return
        errors = [e["Code"] for e in response.get("Errors", []) if e["Key"] == op["key"]]
        op.update(status="refused", error=errors[0] if errors else "entry missing from the response")

    def op_versioning(self, s3, rng):
        status = rng.choice(["Enabled", "Suspended"])
        self.attempt(self.begin("versioning", PLAIN, None, target=status),
                     lambda: s3.put_bucket_versioning(Bucket=PLAIN, VersioningConfiguration={"Status": status}))

    def worker(self, s3, rng, stop):
        try:
            while not stop.is_set():
                name = rng.choices(list(OPERATIONS), list(OPERATIONS.values()))[0]
                if len(self.pool[PLAIN]) > 40 and rng.random() < 0.4:  # keep the stored bytes bounded
                    name = "delete_version"
                getattr(self, "op_" + name)(s3, rng)
        except Exception:
            self.errors.append("harness worker crashed:\n" + traceback.format_exc())

    def mfa_worker(self, s3, rng, stop):
        """Permanent deletes on VAULT with the code of now (or of the next step), largest versions first."""
        try:
            while not stop.is_set():
                with self.lock:
                    pool = self.pool[VAULT]
                    picked = pool.pop(max(range(len(pool)), key=lambda i: pool[i][2]["size"])) if pool else None
                if picked:
                    moment = time.time() + 30 * rng.choice([0, 0, 1])
                    self.delete_version(s3, VAULT, picked[0], picked[1], code=self.totp.at(moment),
                                        step=int(moment // 30), multi=rng.random() < 0.3)
                stop.wait(rng.uniform(0.1, 0.4))
        except Exception:
            self.errors.append("harness MFA worker crashed:\n" + traceback.format_exc())

    # ---- the cycle

    def setup(self):
        """Buckets, the root's virtual MFA device, MFA Delete on VAULT; then a clean stop."""
        server = Server(data=self.data).start()
        s3, iam = self.client(server), self.client(server, "iam")
        s3.create_bucket(Bucket=PLAIN)
        s3.put_bucket_versioning(Bucket=PLAIN, VersioningConfiguration={"Status": "Enabled"})
        s3.create_bucket(Bucket=VAULT)
        device = iam.create_virtual_mfa_device(VirtualMFADeviceName="crash-root")["VirtualMFADevice"]
        self.serial, seed = device["SerialNumber"], device["Base32StringSeed"].decode()
        self.totp, now = pyotp.TOTP(seed), time.time()
        iam.enable_mfa_device(UserName="root", SerialNumber=self.serial, AuthenticationCode1=self.totp.at(now - 60),
                              AuthenticationCode2=self.totp.at(now - 30))
        s3.put_bucket_versioning(Bucket=VAULT, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"},
                                 MFA=f"{self.serial} {self.totp.at(now)}")
        self.accepted_steps[int(now // 30)] = "setup"
        with open(os.path.join(self.data, "crash-device.json"), "w") as file:
            json.dump({"serial": self.serial, "seed": seed}, file)
        server.stop()
        self.check_blobs()
        self.finish_cycle()

    def load_and_kill(self):
        """Starts the server, runs the workload threads, kills it with SIGKILL at a random moment."""
        server = Server(data=self.data).start()
        stop, workers = threading.Event(), [self.mfa_worker] + [self.worker] * self.threads
        threads = [threading.Thread(target=work, args=(self.client(server), random.Random(self.rng.random()), stop))
                   for work in workers]
        for thread in threads:
            thread.start()
        self.kill_after = self.rng.uniform(0.2, 3.0)
        time.sleep(self.kill_after)
        server.kill9()
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
            if thread.is_alive():  # its operation would stay "pending", which the checks take as never sent
                self.errors.append("a workload thread still runs 120 s after the kill")
        self.kills += 1

    def restart_and_verify(self):
        """Restarts, checks everything through the API, aborts leftover uploads, stops, checks the files."""
        server = Server(data=self.data).start()
        try:
            with urllib.request.urlopen(server.endpoint + "/health", timeout=10) as response:
                healthy = response.status == 200 and response.read().strip() == b"ok"
        except OSError:
            healthy = False
        self.check(healthy, f"GET {server.endpoint}/health did not answer ok after the restart")
        s3 = self.client(server)
        self.check_mfa(s3, self.list_versions(s3))
        listing = self.list_versions(s3)
        self.check_listing(s3, listing)
        self.check_acknowledged(s3, listing)
        self.check_versioning(s3)
        for upload in s3.list_multipart_uploads(Bucket=PLAIN).get("Uploads", []):
            op = self.begin("abort_upload", PLAIN, upload["Key"], upload=upload["UploadId"])
            self.check(self.attempt(op, lambda: s3.abort_multipart_upload(
                Bucket=PLAIN, Key=upload["Key"], UploadId=upload["UploadId"])) is not None,
                f"AbortMultipartUpload {upload['UploadId']} failed: {op.get('error')}")
        server.stop()
        self.check_blobs()
        self.state, self.pool = listing, {PLAIN: [], VAULT: []}
        for (bucket, key, vid), entry in sorted(listing.items(), key=lambda item: item[0][2]):  # ids sort by age
            if not entry["marker"] and vid != "null":
                self.pool[bucket].append((key, vid, {n: entry[n] for n in ("size", "etag", "sha256")}))
        self.finish_cycle()

    def finish_cycle(self):
        """Appends the cycle's operations to the log file; raises if anything failed."""
        with open(self.log_path, "a") as file:
            file.writelines(json.dumps(op) + "\n" for op in self.ops)
        counts = collections.Counter(op["status"] for op in self.ops)
        self.acked, self.unknown = self.acked + counts["ack"], self.unknown + counts["unknown"]
        self.attempted, self.ops = self.attempted + len(self.ops), []
        if problems := self.errors + self.failures:
            report = (f"cycle {self.kills} (killed {self.kill_after:.2f} s into the load): {len(problems)} problem(s):\n  "
                      + "\n  ".join(problems[:50]) + f"\ndata folder kept for inspection: {self.data}"
                      f"\noperation log: {self.log_path}")
            with open(os.path.join(self.data, "crash-failure.txt"), "w") as file:
                file.write(report + "\n")
            raise HarnessFailure(report)

    # ---- the checks

    @staticmethod
    def list_versions(s3):
        """Every version and delete marker of both buckets: (bucket, key, version id) -> entry."""
        found = {}
        for bucket in (PLAIN, VAULT):
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
                for v in page.get("Versions", []):
                    found[(bucket, v["Key"], v["VersionId"])] = dict(
                        marker=False, size=v["Size"], etag=v["ETag"].strip('"'), latest=v["IsLatest"])
                for m in page.get("DeleteMarkers", []):
                    found[(bucket, m["Key"], m["VersionId"])] = dict(marker=True, latest=m["IsLatest"])
        return found

    def by_key(self):
        groups = collections.defaultdict(list)
        for op in self.ops:
            groups[(op["bucket"], op["key"])].append(op)
        return groups

    def check_mfa(self, s3, listing):
        """No code took effect twice; a code that took effect before the kill stays used after it."""
        consumed = []
        for op in (op for op in self.ops if op.get("mfa_code") and op["status"] in MAY_HAVE_HAPPENED):
            target = (op["bucket"], op["key"], op["target"])
            if op["status"] == "ack" or (target in self.state and target not in listing):
                owner = self.accepted_steps.setdefault(op["mfa_step"], op["id"])
                self.check(owner == op["id"], f"two requests took effect with the code {op['mfa_code']} of TOTP "
                                              f"step {op['mfa_step']}: #{owner} and #{op['id']} (codes are single-use)")
                consumed.append(op)
        for used in consumed:
            if used["mfa_step"] < int(time.time() // 30) - 1:
                continue  # out of the window now: a refusal would prove nothing
            put = self.put(s3, VAULT, PROBE, 64)
            if self.check(put["status"] == "ack", f"probe PUT to {VAULT}/{PROBE} failed: {put.get('error')}"):
                probe = self.delete_version(s3, VAULT, PROBE, put["vid"], code=used["mfa_code"], step=used["mfa_step"])
                self.check(probe["status"] == "refused" and probe.get("error") == "AccessDenied",
                           f"MFA code {used['mfa_code']} (step {used['mfa_step']}) took effect for #{used['id']} before "
                           f"the kill; re-sent after the restart it was {probe['status']} ({probe.get('error')})")

    def check_listing(self, s3, listing):
        """Baseline entries unchanged unless a delete of them was attempted; new entries whole and attempted."""
        groups = self.by_key()
        for ident, old in self.state.items():
            new, ops, where = listing.get(ident), groups[ident[:2]], f"{ident[0]}/{ident[1]} version {ident[2]}"
            if summary_of(new) == summary_of(old):
                if not new["marker"]:
                    new["sha256"] = old["sha256"]
                    self.read_tail(s3, ident, new["size"])
            elif ident[2] == "null":
                self.check(any(map(touches_null, ops)), f"{where} changed from {summary_of(old)} to {summary_of(new)} "
                                                        "though nothing in this cycle could touch it")
            else:
                self.check(new is None and any(op["kind"] == "delete_version" and op["target"] == ident[2] and
                                               op["status"] in MAY_HAVE_HAPPENED for op in ops),
                           f"{where} changed from {summary_of(old)} to {summary_of(new)} though no delete of it was "
                           "attempted (or all were refused)")
        for ident, new in listing.items():
            if summary_of(self.state.get(ident)) != summary_of(new):
                self.check_new_entry(s3, ident, new, groups[ident[:2]])
        latest = collections.Counter(ident[:2] for ident, entry in listing.items() if entry["latest"])
        for bucket, key in {ident[:2] for ident in listing}:
            self.check(latest[(bucket, key)] == 1, f"{bucket}/{key}: {latest[(bucket, key)]} entries are IsLatest")

    def check_new_entry(self, s3, ident, new, ops):
        """A new marker comes from an attempted delete; a new version is whole and a write attempted this cycle."""
        bucket, key, vid = ident
        if new["marker"]:
            self.check(any(op["kind"] == "delete" and (op["status"] == "unknown" or op["status"] == "ack" and
                       op.get("vid") == vid) for op in ops), f"{bucket}/{key}: delete marker {vid} appeared without "
                       "an acknowledged or unknown delete that could have made it")
            return
        writes = [op for op in ops if op["kind"] == "write" and op["status"] in MAY_HAVE_HAPPENED]
        exact = [op for op in writes if op["status"] == "ack" and op.get("vid") == vid and vid != "null"]
        candidates = exact or [op for op in writes if op["status"] == "unknown" or op.get("vid") == vid == "null"]
        matching = [op for op in candidates if (op["content"]["size"], op["content"]["etag"]) == (new["size"], new["etag"])]
        if not self.check(matching, f"{bucket}/{key} version {vid}: listed size {new['size']}, ETag {new['etag']} is "
                          "no write attempted on this key this cycle (candidates: "
                          f"{[(op['id'], op['content']['size'], op['content']['etag']) for op in candidates]})"):
            return
        new["sha256"], length = self.read_whole(s3, ident)
        self.check(length == new["size"],
                   f"GET {bucket}/{key}?versionId={vid} returned {length} bytes, listed {new['size']}")
        self.check(new["sha256"] in {op["content"]["sha256"] for op in matching}, f"GET {bucket}/{key}?versionId={vid}: "
                   f"sha256 {new['sha256']} is not that of the bytes sent by #{[op['id'] for op in matching]}")

    def read_whole(self, s3, ident):
        """SHA-256 and length of a version's bytes (None, -1 when the GET fails)."""
        try:
            body, sha, length = s3.get_object(Bucket=ident[0], Key=ident[1], VersionId=ident[2])["Body"], hashlib.sha256(), 0
            for chunk in iter(lambda: body.read(MiB), b""):
                sha.update(chunk)
                length += len(chunk)
            return sha.hexdigest(), length
        except Exception as error:
            self.check(False, f"GET {ident[0]}/{ident[1]}?versionId={ident[2]} failed: {error}")
            return None, -1

    def read_tail(self, s3, ident, size):
        """A version verified in an earlier cycle still serves its last byte (its last blob is there)."""
        if size == 0:
            return
        try:
            got = s3.get_object(Bucket=ident[0], Key=ident[1], VersionId=ident[2], Range=f"bytes={size - 1}-")
            self.check(len(got["Body"].read()) == 1, f"range GET of the last byte of {ident} returned nothing")
        except Exception as error:
            self.check(False, f"range GET of the last byte of {ident[0]}/{ident[1]}?versionId={ident[2]} failed: {error}")

    def check_acknowledged(self, s3, listing):
        """Acknowledged writes are there, acknowledged deletes held, the null version is the last toucher's."""
        groups = self.by_key()
        for op in (op for op in self.ops if op["status"] == "ack"):
            where, vid = f"{op['bucket']}/{op['key']}", op.get("vid") or op.get("target")
            entry = listing.get((op["bucket"], op["key"], vid))
            removers = [d for d in groups[(op["bucket"], op["key"])] if d["kind"] == "delete_version"
                        and d["target"] == vid and d["status"] in MAY_HAVE_HAPPENED]
            if op["kind"] == "write" and vid != "null" and not removers:
                self.check(summary_of(entry) == (False, op["content"]["size"], op["content"]["etag"]),
                           f"acknowledged {op['how']} #{op['id']} to {where} version {vid} (size {op['content']['size']}, "
                           f"ETag {op['content']['etag']}) is {summary_of(entry) or 'missing'} after the restart")
            elif op["kind"] == "delete" and vid != "null":
                self.check(entry is not None and entry["marker"], f"acknowledged delete #{op['id']} of {where}: its "
                           f"delete marker {vid} is {summary_of(entry) or 'missing'} after the restart")
            elif op["kind"] == "delete_version":
                self.check(op["bucket"] != VAULT or op.get("mfa_code"), f"permanent delete #{op['id']} of {where} "
                           f"version {vid} without MFA was acknowledged on the MFA Delete bucket")
                if vid != "null":
                    try:
                        s3.head_object(Bucket=op["bucket"], Key=op["key"], VersionId=vid)
                        status = 200
                    except ClientError as error:
                        status = error.response["ResponseMetadata"].get("HTTPStatusCode")
                    self.check(entry is None and status == 404, f"acknowledged permanent delete #{op['id']} of {where} "
                               f"version {vid}: still {'listed' if entry else 'readable'} (HEAD {status})")
        for (bucket, key), ops in groups.items():
            if last := decisive([op for op in ops if touches_null(op)]):
                content = last.get("content", {})
                expected = {"write": (False, content.get("size"), content.get("etag")), "delete": (True, None, None),
                            "delete_version": None}[last["kind"]]
                entry = summary_of(listing.get((bucket, key, "null")))
                self.check(entry == expected, f"{bucket}/{key}: after acknowledged {last['kind']} #{last['id']} (the last "
                                              f"this cycle) the null version should be {expected}, is {entry}")

    def check_versioning(self, s3):
        """PLAIN's status is the last acknowledged change's (or any that may have run); VAULT keeps MFA Delete."""
        ops = [op for op in self.ops if op["kind"] == "versioning" and op["status"] in MAY_HAVE_HAPPENED]
        last = decisive(ops)
        allowed = {last["target"]} if last else {self.versioning} | {op["target"] for op in ops}
        self.versioning = s3.get_bucket_versioning(Bucket=PLAIN).get("Status")
        self.check(self.versioning in allowed, f"{PLAIN} versioning is {self.versioning}, expected one of {sorted(allowed)}")
        vault = s3.get_bucket_versioning(Bucket=VAULT)
        self.check((vault.get("Status"), vault.get("MFADelete")) == ("Enabled", "Enabled"),
                   f"{VAULT} versioning is {vault.get('Status')} / MFADelete {vault.get('MFADelete')}")

    def check_blobs(self):
        """With the server stopped: every blob file is referenced, every reference exists with its size."""
        on_disk = {name: os.path.getsize(os.path.join(root, name))
                   for root, _, names in os.walk(os.path.join(self.data, "blobs")) for name in names}
        db = sqlite3.connect(f"file:{os.path.join(self.data, 'coffer.sqlite')}?mode=ro", uri=True)
        try:
            references = db.execute("""
                SELECT blob_file, size, 'versions' FROM versions WHERE blob_file IS NOT NULL AND blob_file NOT LIKE 'm-%'
                UNION ALL SELECT blob_file, size, 'parts' FROM parts WHERE blob_file IS NOT NULL
                UNION ALL SELECT blob_file, size, 'manifest_parts' FROM manifest_parts WHERE blob_file IS NOT NULL
                """).fetchall()
            manifests = db.execute("""
                SELECT v.blob_file, v.size, COUNT(m.seq), COALESCE(SUM(m.size), 0) FROM versions v
                LEFT JOIN manifest_parts m ON m.manifest = v.blob_file WHERE v.blob_file LIKE 'm-%' GROUP BY v.id
                """).fetchall()
            stray = db.execute("""SELECT DISTINCT manifest FROM manifest_parts WHERE manifest NOT IN
                                  (SELECT blob_file FROM versions WHERE blob_file IS NOT NULL)""").fetchall()
        finally:
            db.close()
        for name in sorted(set(on_disk) - {name for name, _, _ in references}):
            self.check(False, f"orphan blob blobs/{name[:2]}/{name} ({on_disk[name]} bytes) survived the start-up "
                              "sweep: no versions, parts or manifest_parts row references it")
        for name, size, table in references:
            self.check(on_disk.get(name) == size, f"{table}.blob_file {name} should have {size} bytes, on disk: "
                                                  f"{on_disk.get(name, 'no such file')}")
        for name, size, count, total in manifests:
            self.check((count > 0 or size == 0) and total == size,
                       f"manifest {name}: {count} manifest_parts rows adding up to {total} bytes; the version says {size}")
        for (name,) in stray:
            self.check(False, f"manifest {name} has manifest_parts rows but no version references it (leaked blobs)")


def run(kills, data=None, seed=None, threads=4, keep=False, say=print):
    """Runs `kills` load / kill -9 / restart / verify cycles; returns a summary or raises HarnessFailure."""
    harness, started = Harness(data, seed, threads), time.time()
    try:
        harness.setup()
        for _ in range(kills):
            harness.load_and_kill()
            harness.restart_and_verify()
            say(f"kill {harness.kills}/{kills} at {harness.kill_after:.2f} s: ok; {harness.acked} acknowledged, "
                f"{harness.unknown} unknown, {harness.checks} checks so far")
    except RuntimeError as error:  # the server did not come back
        raise HarnessFailure(f"after kill {harness.kills}: {error}\ndata folder kept for inspection: {harness.data}")
    if not keep:
        shutil.rmtree(harness.data, ignore_errors=True)
    return {"kills": harness.kills, "acknowledged": harness.acked, "attempted": harness.attempted,
            "unknown": harness.unknown, "checks": harness.checks, "mfa_codes_accepted": len(harness.accepted_steps),
            "seconds": round(time.time() - started, 1), "data": harness.data}


def main(argv=None):
    parser = argparse.ArgumentParser(description="Crash-consistency test of coffer serve (kill -9 under load).")
    parser.add_argument("kills", nargs="?", type=int, default=100)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--threads", type=int, default=4, help="worker threads besides the MFA one")
    parser.add_argument("--data", help="a new data folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the data folder after a successful run")
    args = parser.parse_args(argv)
    try:
        result = run(args.kills, args.data, args.seed, args.threads, args.keep)
    except HarnessFailure as failure:
        print(f"CRASH TEST FAILED\n{failure}")
        return 1
    print(f"kills survived: {result['kills']}/{args.kills}; operations acknowledged: {result['acknowledged']} "
          f"(of {result['attempted']} attempted, {result['unknown']} unknown); checks made: {result['checks']}; "
          f"MFA codes accepted: {result['mfa_codes_accepted']}; {result['seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
