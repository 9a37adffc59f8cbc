"""The smoke version of the retirement benchmark (``bench/run.py --smoke --only retire``: 4 versions in 2 regions,
keep the newest 3), so that bench/retire.py, bench/anchor/retire.yml and the report's retirement section cannot rot.

It asserts what holds whatever the machine (no wall time): both sides ran in both scenarios and left the AWS state
the benchmark checks, the writes each side made per old version, our re-runs wrote nothing and started one module,
and `--only retire` rewrites only the retirement section of the report."""

from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))

import retire  # noqa: E402

REGIONS = 2
VERSIONS = 4
KEEP = 3
OLD = REGIONS * (VERSIONS - KEEP)  # the old versions in all


def _run(tmp_path, doc):
    out = tmp_path / "retire.json"
    cmd = [sys.executable, os.path.join(ROOT, "bench", "run.py"), "--smoke", "--only", "retire", "--results-dir", str(tmp_path),
           "--json", str(out), "--doc", str(doc)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(out.read_text()), proc


def test_bench_retire_smoke(tmp_path):
    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n\nthe rest of the page\n\n%s\nan older retirement section\n%s\n\n## Fleet: forks 1 vs 8\n\nthe end\n" % (
        retire.BEGIN, retire.END))
    results, proc = _run(tmp_path, doc)
    r = results["retire"]
    assert (r["versions"], len(r["regions"]), r["keep_newest"]) == (VERSIONS, REGIONS, KEEP)
    assert results["meta"]["config"]["only"] == ["retire"]
    assert "distribution" not in results and "audit" not in results

    for scenario in ("unshare", "deregister"):
        pair = r["runs"][scenario][0]
        assert sorted(pair["order"]) == ["anchor", "ours"]
        for side in ("ours", "anchor"):
            for phase in ("first", "rerun"):
                run = pair[side][phase]
                assert run["ok"], "%s %s %s failed: %s" % (scenario, side, phase, run["failure"])
                # the AWS state after the run: the kept versions as they were, the old ones unshared (or gone)
                assert run["verified"], "%s %s %s: %s" % (scenario, side, phase, run["problems"])
                calls = run["calls"]
                assert calls["reads"] + calls["writes"] == calls["total"]
                assert "(outside any task)" not in calls["by_module"], calls["by_module"]
            rerun = pair[side]["rerun"]
            assert rerun["calls"]["writes"] == 0, rerun["calls"]["write_actions"]
            assert rerun["changed_tasks"] == []

        ours, anchor = pair["ours"], pair["anchor"]
        writes_ours, writes_anchor = ours["first"]["calls"]["write_actions"], anchor["first"]["calls"]["write_actions"]
        # ours: the plan (check mode) and the run, one module each; a converged re-run: the plan alone
        assert ours["first"]["processes"]["modules"] == 2
        assert ours["rerun"]["processes"]["modules"] == 1
        assert {m for m in ours["first"]["calls"]["by_module"] if m.startswith("orgshare.aws.")} == {"orgshare.aws.ami_retire"}
        # the anchor: ec2_ami_info per region, then ec2_ami per old version
        assert anchor["first"]["processes"]["modules"] == REGIONS + OLD
        if scenario == "unshare":
            assert writes_ours == {"ec2:ModifyImageAttribute": OLD, "ec2:DisableImage": OLD}, writes_ours
            assert writes_anchor == {"ec2:ModifyImageAttribute": OLD}, writes_anchor
            assert ours["first"]["old_states"] == {"disabled": OLD}
            assert anchor["first"]["old_states"] == {"available": OLD}  # amazon.aws cannot disable
            assert anchor["rerun"]["processes"]["modules"] == REGIONS + OLD  # it still visits every old version
        else:
            assert writes_ours == {"ec2:ModifyImageAttribute": OLD, "ec2:DeregisterImage": OLD, "ec2:DeleteSnapshot": OLD}, writes_ours
            assert writes_anchor == {"ec2:DeregisterImage": OLD, "ec2:DeleteSnapshot": OLD}, writes_anchor
            assert ours["first"]["old_states"] == anchor["first"]["old_states"] == {"deregistered": OLD}
            assert anchor["rerun"]["processes"]["modules"] == REGIONS  # nothing old is found any more

        summary = r["summary"][scenario]
        for phase in ("first", "rerun"):
            assert summary[phase]["ratio"]["n"] == 1
            assert summary[phase]["ratio"]["median"] == pair["ours"][phase]["wall"] / pair["anchor"][phase]["wall"]
        assert summary["rerun"]["ours"]["writes"]["max"] == 0

    assert "retire unshare" in proc.stdout and "retire deregister" in proc.stdout
    # only the part between the begin/end comments is rewritten
    text = doc.read_text()
    assert text.startswith("# Performance\n\nthe rest of the page\n\n" + retire.BEGIN)
    assert text.endswith(retire.END + "\n\n## Fleet: forks 1 vs 8\n\nthe end\n")
    assert "an older retirement section" not in text
    assert text.count(retire.BEGIN) == text.count(retire.END) == 1
    assert "## Retirement" in text and "| unshare, first run | orgshare.aws |" in text


def test_replace_section_without_markers():
    section = "%s\n## Retirement\n%s\n" % (retire.BEGIN, retire.END)
    text = retire.replace_section("# Performance\n\nB1\n\n## Fleet: forks 1 vs 8\n\nend\n", section)
    assert text == "# Performance\n\nB1\n\n%s\n## Retirement\n%s\n\n## Fleet: forks 1 vs 8\n\nend\n" % (retire.BEGIN, retire.END)
    assert retire.replace_section(text, section) == text
    assert retire.replace_section("# Performance\n", section) == "# Performance\n\n" + section
