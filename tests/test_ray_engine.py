"""``affekt predict --engine ray`` on a local Ray cluster confined to a loopback-only network
namespace (tests/ray_check.py does the work and reports; this test reads the report).

Ray's servers bind every interface they can see (Ray has no option to bind them to 127.0.0.1
only), so the cluster runs where the only interface is ``lo``: ``unshare -n`` (root, as CI runs).
Elsewhere the test is skipped and says why."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray.data", reason="Ray Data is not installed (pip install 'affekt[ray]')")


def _can_unshare() -> str | None:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "needs unshare and ip (util-linux, iproute2) for a loopback-only network namespace"
    r = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    return None if r.returncode == 0 else f"cannot make a network namespace here ({r.stderr.strip()[:100]}): run as root"


WHY = _can_unshare()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    if WHY:
        pytest.skip(WHY)
    work = tmp_path_factory.mktemp("ray")
    r = subprocess.run(["unshare", "-n", "--", sys.executable, str(Path(__file__).parent / "ray_check.py"), str(work)],
                       capture_output=True, text=True, timeout=900)
    path = work / "report.json"
    assert path.exists(), r.stderr[-3000:]
    rep = json.loads(path.read_text())
    assert "worker_kill" in rep, r.stderr[-3000:]  # the script ran to its end
    return rep


def test_the_cluster_listens_on_loopback_only_without_a_dashboard(report):
    assert report["interfaces"] == ["lo"]
    for addrs in (report["listening"], report["listening_during_jobs"]):
        assert addrs, "no listening socket seen"
        for a in addrs:
            host, port = a.rsplit(":", 1)
            assert host in ("127.0.0.1", "::1"), a
            assert port != "8265", "the dashboard is listening"


@pytest.mark.parametrize("name,records", [("t.txt", 1401), ("t.csv", 601), ("t.parquet", 501), ("audio.txt", 4)])
def test_the_ray_engine_writes_the_local_engines_records(report, name, records):
    r = report["same"][name]
    assert r["identical"], r["stderr"]
    assert r["records"] == records
    assert r["codes"] == [2, 2]  # each input holds one failing item, in both engines


def test_a_killed_job_resumes_without_redoing_finished_shards(report):
    r = report["resume"]
    assert r["saw_shards"] and r["shards_before_kill"] >= 2
    assert r["code"] == 0 and r["identical"] and not r["parts_left"]
    assert r["said"] and r["said"][0].startswith(f"resuming: {r['shards_before_kill']} of ")


def test_a_killed_worker_is_replaced_and_the_output_is_unchanged(report):
    r = report["worker_kill"]
    assert r["saw_shard"] and r["killed_pid"], r
    assert r["code"] == 0 and r["identical"], r["stderr"]
