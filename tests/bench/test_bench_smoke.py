"""The smoke version of the benchmarks (``bench/run.py --smoke``): one run of every benchmark at tiny
sizes, so that the harness, the anchor playbooks and the call accounting cannot rot.

It asserts what the numbers must look like whatever the machine: both sides ran and produced the
right AWS state, the copies were made once per region, our re-run wrote nothing, both audits saw
every AMI, and every API call was attributed to the module that made it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMOKE_REGIONS = 2  # copy targets of the --smoke profile
SMOKE_AMIS = 6  # at least one in each of the 3 regions


def _run_smoke(tmp_path):
    out = tmp_path / "smoke.json"
    cmd = [sys.executable, os.path.join(ROOT, "bench", "run.py"), "--smoke", "--results-dir", str(tmp_path), "--json", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(out.read_text()), proc


def test_bench_smoke(tmp_path):
    results, proc = _run_smoke(tmp_path)
    assert results["meta"]["config"]["profile"] == "smoke"
    assert "=== orgshare.aws benchmarks (smoke)" in proc.stdout

    pair = results["distribution"]["runs"][0]
    for side in ("ours", "anchor"):
        first = pair[side]["first"]
        assert first["ok"], "%s failed: %s" % (side, first["failure"])
        # the AWS state after the run: one available copy per region under that region's key, all shared
        assert first["verified"], "%s: %s" % (side, first["problems"])
        assert first["wall"] > 0
        calls = first["calls"]
        assert calls["by_action"].get("ec2:CopyImage") == SMOKE_REGIONS, calls["by_action"]
        assert calls["writes"] > 0 and calls["reads"] > 0
        assert calls["reads"] + calls["writes"] == calls["total"]
        # every call was made while one of the playbook's tasks ran
        assert "(outside any task)" not in calls["by_module"], calls["by_module"]
        modules = set(calls["by_module"])
        if side == "ours":
            assert {"orgshare.aws.ami_copy", "orgshare.aws.ami_org_share"} <= modules, modules
        else:
            assert {"community.aws.ec2_ami_copy", "amazon.aws.kms_key", "amazon.aws.ec2_ami"} <= modules, modules
        per_region = sum(c["reads"] + c["writes"] for m in calls["by_module"].values() for c in m.values())
        assert per_region == calls["total"]

    rerun = pair["ours"]["rerun"]
    assert rerun["ok"], rerun["failure"]
    assert rerun["calls"]["writes"] == 0, rerun["calls"]["write_actions"]
    assert rerun["calls"]["reads"] > 0
    assert rerun["changed_tasks"] == []

    summary = results["distribution"]["summary"]
    assert summary["first"]["ratio"]["n"] == 1
    assert summary["first"]["ratio"]["median"] == pair["ours"]["first"]["wall"] / pair["anchor"]["first"]["wall"]
    assert summary["rerun"]["ours"]["writes"]["max"] == 0

    audit = results["audit"]["runs"][0]
    for side in ("ours", "anchor"):
        run = audit[side]
        assert run["ok"], "%s failed: %s" % (side, run["failure"])
        assert run["images"] == SMOKE_AMIS
        assert run["calls"]["writes"] == 0, run["calls"]["write_actions"]
        assert run["calls"]["by_action"].get("ec2:DescribeImages", 0) >= 3  # at least one per region
        assert set(run["calls"]["by_region"]) == {"us-east-1", "us-west-2", "eu-west-1"}
    assert results["audit"]["summary"]["ratio"]["n"] == 1
