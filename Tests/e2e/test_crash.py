"""Crash consistency: a short run of the kill -9 harness (COFFER_CRASH_KILLS cycles, default 8).

Each cycle loads the server from several threads, kills it with SIGKILL, restarts it on the same data
folder and verifies acknowledged writes and deletes, whole versions only, used MFA codes and blob
files (see crash_harness.py). `scripts/crash-test` runs the long version.
"""
import os

from crash_harness import run


def test_kill9_under_load_loses_nothing_acknowledged_and_leaves_nothing_half_done():
    kills = int(os.environ.get("COFFER_CRASH_KILLS", "8"))
    summary = run(kills, say=lambda line: None)  # raises HarnessFailure with the details
    assert summary["kills"] == kills and summary["acknowledged"] > 0 and summary["checks"] > 0
