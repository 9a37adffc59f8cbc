"""Benchmarks: orgshare.aws against the way users do it today, side by side, on the AWS emulator.

    .venv/bin/python bench/run.py                        # everything (make bench): writes docs/performance.md + .png
    .venv/bin/python bench/run.py --old-collection PATH  # the same with a third side, another orgshare.aws tree (make bench OLD=PATH)
    .venv/bin/python bench/run.py --quick                # small sizes, short copies, 1 repeat (for development)
    .venv/bin/python bench/run.py --smoke                # the smallest run, used by tests/bench/test_bench_smoke.py

B1 first distribution, B2 its converged re-run, B3 audit, B4 API calls per module and region, the
scale runs (B1 and B2 over region counts, B3 over AMI counts), the retirement of the old versions of
a family of AMIs (bench/retire.py: 50 versions in 4 regions, orgshare.aws.retire against
bench/anchor/retire.yml; `--only retire` runs it alone and rewrites only its section of
docs/performance.md) and, with --old-collection, the fleet job at forks 1 against the other tree
(bench/fleet_forks.py --compare; --no-fleet skips it). See docs/performance.md.

The sides of B1/B2: 'ours', a copy of the working tree taken at the start (others may edit the
tree during the run; the commit and any local changes are recorded), or the tree --collection
names; 'old', with --old-collection PATH, another orgshare.aws tree (e.g. a checkout of an older
commit, `git worktree add PATH <commit>` outside this repository) whose playbook
orgshare.aws.distribute takes the same ami_distribute_* variables; 'anchor',
bench/anchor/distribute.yml. Every side has its own emulator process. A measurement gives every
side a fresh world, then runs the first runs (B1) of all sides one after the other, then their
re-runs (B2), so that the re-runs are measured back to back and the machine's noise hits them
alike; the order of the sides rotates from one measurement to the next. A side whose first run
failed gets no re-run (it would be another first run). Per run: the wall time, the API calls
(reads, writes; the emulator's call record) and the module processes (harness.processes, from the
timeline of bench/callback_plugins/bench_timeline.py).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import retire  # noqa: E402
from collections_tree import link_collections  # noqa: E402
from harness import AUDIT_REGIONS, BENCH, OWNER_ACCOUNT_ID, ROOT, SOURCE_REGION, TARGET_REGIONS, log  # noqa: E402

DISTRIBUTE_OURS = "orgshare.aws.distribute"
DISTRIBUTE_ANCHOR = os.path.join(BENCH, "anchor", "distribute.yml")
AUDIT_OURS = os.path.join(BENCH, "ours", "audit.yml")
AUDIT_ANCHOR = os.path.join(BENCH, "anchor", "audit.yml")
# the sides B1/B2 can have ('old' only with --old-collection); B3 has ours and the anchor
SIDES = ("ours", "old", "anchor")
AUDIT_SIDES = ("ours", "anchor")
FLEET = os.path.join(BENCH, "fleet_forks.py")
# the sections --only names (b1 is B1, B2 and B4)
ALL_SECTIONS = "b1,b3,scale,fleet,retire"

PROFILES = {
    "full": dict(anchor_rerun=True, repeat=3, scale_repeat=1, pending=20.0, latency=30.0, regions=8, amis=300,
                 scale_regions=[2, 4, 8, 16], scale_amis=[100, 300, 1000], fleet=True, fleet_images=20, fleet_pending=3.0, fleet_repeat=1,
                 only=ALL_SECTIONS, retire_versions=50, retire_regions=4, retire_keep=3, retire_repeat=1),
    "quick": dict(anchor_rerun=True, repeat=1, scale_repeat=1, pending=5.0, latency=30.0, regions=4, amis=60, scale_regions=[2, 4], scale_amis=[30, 60],
                  fleet=True, fleet_images=4, fleet_pending=1.0, fleet_repeat=1,
                  only=ALL_SECTIONS, retire_versions=10, retire_regions=2, retire_keep=3, retire_repeat=1),
    # the smoke run skips the anchor's re-run (the slowest part that tests nothing new), and the retirement
    # (tests/bench/test_bench_retire_smoke.py runs `--smoke --only retire`)
    # and runs at 5 ms a request with copies available at once (no time is measured there: a smoke run checks
    # state and call counts; the anchor would wait 15 s per region for a pending copy)
    "smoke": dict(anchor_rerun=False, repeat=1, scale_repeat=1, pending=0.0, latency=5.0, regions=2, amis=6, scale_regions=[], scale_amis=[],
                  fleet=False, fleet_images=4, fleet_pending=1.0, fleet_repeat=1,
                  only="b1,b3,scale,fleet", retire_versions=4, retire_regions=2, retire_keep=3, retire_repeat=1),
}


def stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values), "values": values}


# ---- B1 / B2 --------------------------------------------------------------------------------------
def distribution_vars(side, setup, emu):
    """The extra vars of one side: 'ours' and 'old' run orgshare.aws.distribute, the anchor its playbook."""
    keys = setup["keys"]
    if side != "anchor":
        return {
            "ami_distribute_source_image_id": setup["source_image_id"],
            "ami_distribute_source_region": SOURCE_REGION,
            "ami_distribute_regions": [{"region": r, "kms_key_id": keys[r]} for r in setup["targets"]],
            "ami_distribute_organization_arns": [setup["organization"]["arn"]],
            "ami_distribute_aws_endpoint_url": emu.endpoint_url,
        }
    return {
        "bench_source_image_id": setup["source_image_id"],
        "bench_source_region": SOURCE_REGION,
        "bench_source_kms_key_id": keys[SOURCE_REGION],
        "bench_regions": [{"region": r, "kms_key_id": keys[r]} for r in setup["targets"]],
        "bench_image_name": setup["image_name"],
        "bench_organization_arn": setup["organization"]["arn"],
        "bench_organization_id": setup["organization"]["id"],
        "bench_owner_account_id": OWNER_ACCOUNT_ID,
        "bench_endpoint_url": emu.endpoint_url,
    }


def measured_run(emu, runner, label, playbook, extra_vars, latency):
    """One playbook run at ``latency``: its result with the API calls and the module processes."""
    emu.configure(latency_ms=latency)
    emu.clear_calls()
    result = runner.run(label, playbook, extra_vars)
    calls = emu.calls()
    emu.configure(latency_ms=0)
    timeline = result.pop("timeline")
    result["calls"] = harness.summarize_calls(calls, timeline)
    result["processes"] = harness.processes(timeline)
    status = "ok" if result["ok"] else "FAILED: %s" % result["failure"]
    log("  %-44s %7.1f s  %4d calls (%d writes)  %3d module processes (+%d async_status)  load %.1f  %s" % (
        label, result["wall"], result["calls"]["total"], result["calls"]["writes"], result["processes"]["modules"],
        result["processes"]["async_status"], result["load_before"] or 0, status))
    return result


def not_measured(reason):
    """The record of a run that did not run (a skipped side, or the re-run of a failed first run)."""
    return {"label": "not measured", "wall": None, "ok": False, "failure": reason, "skipped": reason.startswith("not measured"),
            "changed_tasks": [], "calls": harness.summarize_calls([]), "processes": None}


class Sides:
    """The sides of B1/B2, each with its own emulator process and playbook runner; ``measure`` gives
    each a fresh world, runs the first runs back to back, then the re-runs, in an order that
    rotates from one measurement to the next."""

    def __init__(self, workdir, trees, cfg):
        self.sides = tuple(s for s in SIDES if s in trees)
        self.cfg = cfg
        self.emus, self.runners = {}, {}
        self.count = 0
        try:
            for side in self.sides:
                sub = os.path.join(workdir, side)
                os.makedirs(sub)
                self.emus[side] = harness.EmulatorProcess(sub, copy_pending_seconds=cfg.pending).start()
                collections = link_collections(os.path.join(sub, "collections"), trees[side])
                self.runners[side] = harness.PlaybookRunner(self.emus[side], sub, collections=collections)
        except BaseException:
            self.stop()
            raise

    def stop(self):
        for side in self.sides:
            if side in self.emus:
                self.emus[side].stop()
            if side in self.runners:
                self.runners[side].cleanup()

    def _reason(self, side, phase, n_regions, out):
        cfg = self.cfg
        if side == "anchor" and n_regions in cfg.skip_anchor_at:
            return "not measured (--skip-anchor-at)"
        if phase == "rerun":
            first = out[side]["first"]
            if first.get("skipped"):
                return first["failure"]
            if not first.get("ok"):
                return "not run: the first run failed"
            if side == "anchor" and not cfg.anchor_rerun:
                return "not measured (--%s)" % cfg.profile
        return None

    def measure(self, n_regions, tag):
        """One measurement of B1 (first run) and B2 (re-run) of every side, each on a fresh world:
        {side: {first, rerun}, order}."""
        k = self.count % len(self.sides)
        order = self.sides[k:] + self.sides[:k]
        self.count += 1
        targets = TARGET_REGIONS[:n_regions]
        setups, out = {}, {side: {} for side in self.sides}
        for side in order:
            self.emus[side].reset(copy_pending_seconds=self.cfg.pending)
            setups[side] = harness.setup_distribution(self.emus[side], targets)
        log("  %s order %s" % (tag, ", ".join(order)))
        for phase in ("first", "rerun"):
            for side in order:
                reason = self._reason(side, phase, n_regions, out)
                if reason:
                    out[side][phase] = not_measured(reason)
                    continue
                emu = self.emus[side]
                playbook = DISTRIBUTE_ANCHOR if side == "anchor" else DISTRIBUTE_OURS
                label = "%s %s %s" % (tag, "B1" if phase == "first" else "B2", side)
                r = measured_run(emu, self.runners[side], label, playbook, distribution_vars(side, setups[side], emu), self.cfg.latency)
                if phase == "first":
                    r["problems"] = harness.verify_distribution(emu, setups[side]) if r["ok"] else ["the run failed"]
                    r["verified"] = not r["problems"]
                    if r["ok"] and r["problems"]:
                        log("  %s: the result is wrong: %s" % (side, "; ".join(r["problems"][:5])))
                out[side][phase] = r
        out["order"] = list(order)
        return out


# ---- B3 -------------------------------------------------------------------------------------------------
def audit_runs(emu, runner, n_images, repeats, cfg, tag):
    """B3: both sides read the same AMIs (read-only, so one set-up serves every run); the order of
    the two sides alternates between repeats."""
    emu.reset(copy_pending_seconds=cfg.pending)
    t0 = time.time()
    setup = harness.setup_audit(emu, AUDIT_REGIONS, n_images)
    log("  set-up of %d AMIs over %d regions: %.1f s" % (n_images, len(AUDIT_REGIONS), time.time() - t0))
    runs = []
    for i in range(repeats):
        pair = {}
        for side in (AUDIT_SIDES if i % 2 == 0 else tuple(reversed(AUDIT_SIDES))):
            playbook = AUDIT_OURS if side == "ours" else AUDIT_ANCHOR
            extra = {"bench_regions": list(AUDIT_REGIONS), "bench_endpoint_url": emu.endpoint_url}
            r = measured_run(emu, runner, "%s B3 %d AMIs %s #%d" % (tag, n_images, side, i + 1), playbook, extra, cfg.latency)
            r["verified"] = r["ok"] and r["images"] == n_images
            if r["ok"] and not r["verified"]:
                log("  %s reported %d AMIs, expected %d" % (side, r["images"], n_images))
            pair[side] = r
        runs.append(pair)
    return runs


# ---- fleet ---------------------------------------------------------------------------------------------
def fleet_compare(args, ours_tree, ours_state, workdir):
    """bench/fleet_forks.py --compare: the fleet job at forks 1 for side 'ours' (the same tree as
    B1/B2's) and for --old-collection, in a process of its own; its results, or {"error"}."""
    out = os.path.join(workdir, "fleet-compare.json")
    cmd = [sys.executable, FLEET, "--compare", args.old_collection, "--ours", ours_tree, "--images", str(args.fleet_images),
           "--forks", "1", "--copy-pending", "%g" % args.fleet_pending, "--repeat", str(args.fleet_repeat), "--json", out, "--results", ""]
    log("fleet: forks 1, %d images x 3 regions, copies pending %g s, %d round(s): ours and old" % (
        args.fleet_images, args.fleet_pending, args.fleet_repeat))
    tail = []
    with open(os.path.join(workdir, "fleet-compare.log"), "w") as f:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in proc.stdout:
            f.write(line)
            tail = (tail + [line.rstrip()])[-20:]
            if line.startswith(("round ", "working tree / other")):
                log("  " + line.rstrip())
        proc.wait()
    if proc.returncode != 0 or not os.path.exists(out):
        return {"error": "bench/fleet_forks.py --compare exited %s: %s" % (proc.returncode, " | ".join(tail[-8:]))}
    with open(out) as f:
        data = json.load(f)
    data["commit"] = harness.describe_tree(ours_state)  # 'ours' is a copy: fleet_forks.py cannot tell its commit
    return data


# ---- summaries -------------------------------------------------------------------------------------------
def sides_of(runs):
    """The sides measured in ``runs`` (in the order of SIDES)."""
    return tuple(s for s in SIDES if runs and s in runs[0])


def _phase(run, side, phase):
    return run[side][phase] if phase else run[side]


def _ok(run):
    return bool(run.get("ok")) and not run.get("skipped")


def _walls(runs, side, phase=None):
    return [_phase(r, side, phase)["wall"] if _ok(_phase(r, side, phase)) else None for r in runs]


def _ratios(runs, phase=None, a="ours", b="anchor"):
    """a / b, measurement by measurement (the sides of each measured back to back)."""
    out = []
    for r in runs:
        if a not in r or b not in r:
            continue
        x, y = _phase(r, a, phase), _phase(r, b, phase)
        if _ok(x) and _ok(y) and y["wall"] > 0:
            out.append(x["wall"] / y["wall"])
    return out


def _count(runs, side, phase, key):
    """An API call count per run; None for a run that failed (its calls say nothing about the job)."""
    return [_phase(r, side, phase)["calls"][key] if _ok(_phase(r, side, phase)) else None for r in runs]


def _procs(runs, side, phase, key):
    """Module processes (key 'modules') or async_status polls per run; None when not counted."""
    out = []
    for r in runs:
        run = _phase(r, side, phase)
        out.append(run["processes"][key] if _ok(run) and run.get("processes") else None)
    return out


def _side_summary(runs, side, phase=None):
    rs = [_phase(r, side, phase) for r in runs]
    return {"wall": stats(_walls(runs, side, phase)), "calls": stats(_count(runs, side, phase, "total")),
            "reads": stats(_count(runs, side, phase, "reads")), "writes": stats(_count(runs, side, phase, "writes")),
            "modules": stats(_procs(runs, side, phase, "modules")), "async_status": stats(_procs(runs, side, phase, "async_status")),
            "load_before": stats([r.get("load_before") for r in rs if _ok(r)]),
            "failures": [r["failure"] for r in rs if not r.get("ok") and not r.get("skipped")],
            "skipped": all(r.get("skipped") for r in rs),
            "verified": all(r.get("verified", True) for r in rs if not r.get("skipped"))}


def summarize_distribution(runs):
    """Per phase (first, rerun): per side wall, calls, writes, module processes...; the ratios
    ours / anchor ('ratio') and ours / old ('ratio_old'), measurement by measurement."""
    sides = sides_of(runs)
    s = {}
    for phase in ("first", "rerun"):
        s[phase] = {"ratio": stats(_ratios(runs, phase, "ours", "anchor"))}
        if "old" in sides:
            s[phase]["ratio_old"] = stats(_ratios(runs, phase, "ours", "old"))
        for side in sides:
            s[phase][side] = _side_summary(runs, side, phase)
    return s


def summarize_audit(runs):
    return {"ratio": stats(_ratios(runs)), **{side: _side_summary(runs, side) for side in AUDIT_SIDES}}


def resummarize(results):
    """Summaries from the runs again (a results file of an older version of this script has fewer)."""
    if results.get("distribution"):
        results["distribution"]["summary"] = summarize_distribution(results["distribution"]["runs"])
    if results.get("audit"):
        results["audit"]["summary"] = summarize_audit(results["audit"]["runs"])
    if results.get("retire"):
        results["retire"]["summary"] = retire.summarize(results["retire"], stats)
    scale = results.get("scale") or {}
    for entry in (scale.get("distribution") or {}).values():
        entry["summary"] = summarize_distribution(entry["runs"])
    for entry in (scale.get("audit") or {}).values():
        entry["summary"] = summarize_audit(entry["runs"])
    return results


# ---- the machine ------------------------------------------------------------------------------------------
def machine():
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass

    def collection_version(ns, name):
        path = os.path.join(ROOT, ".cache", "collections", "ansible_collections", ns, name, "MANIFEST.json")
        try:
            with open(path) as f:
                return json.load(f)["collection_info"]["version"]
        except (OSError, ValueError, KeyError):
            return "unknown"

    def module_version(name):
        try:
            from importlib.metadata import version

            return version(name)
        except Exception:  # noqa: BLE001 - reported as unknown
            return "unknown"

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "os": platform.platform(),
        "python": platform.python_version(),
        "ansible_core": module_version("ansible-core"),
        "amazon_aws": collection_version("amazon", "aws"),
        "community_aws": collection_version("community", "aws"),
        "moto": module_version("moto"),
        "boto3": module_version("boto3"),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "git_commit": commit,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


# ---- main -------------------------------------------------------------------------------------------------
def _counts(value):
    return [int(x) for x in value.split(",") if x.strip()] if isinstance(value, str) else value


def parse_args(argv):
    summary, details = __doc__.split("\n\n", maxsplit=1)
    p = argparse.ArgumentParser(description=summary, formatter_class=argparse.RawDescriptionHelpFormatter, epilog=details)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_const", const="quick", dest="profile", help="small sizes and short copies, for development")
    mode.add_argument("--smoke", action="store_const", const="smoke", dest="profile", help="1 run, tiny sizes, no scale runs, no plot")
    p.add_argument("--repeat", type=int, help="measurements per figure of B1/B2/B3 (default: 3; 1 with --quick/--smoke)")
    p.add_argument("--scale-repeat", type=int, help="measurements per figure of the scale runs (default 1)")
    p.add_argument("--pending", type=float, help="seconds each copy stays pending (default 20)")
    p.add_argument("--latency", type=float, help="milliseconds per request in the measured runs (default 30)")
    p.add_argument("--regions", type=int, help="copy targets in B1/B2 (default 8)")
    p.add_argument("--amis", type=int, help="AMIs in B3 (default 300)")
    p.add_argument("--scale-regions", help="comma-separated region counts for the B1/B2 scale runs (default 2,4,8,16; empty: none)")
    p.add_argument("--scale-amis", help="comma-separated AMI counts for the B3 scale runs (default 100,300,1000; empty: none)")
    p.add_argument("--skip-anchor-at", default="", help="comma-separated region counts at which the anchor's B1/B2 are not run (default none)")
    p.add_argument("--only", help="comma-separated subset of b1 (B1, B2, B4), b3, scale, fleet, retire (default: all; with --smoke all but "
                   "retire). `--only retire` rewrites only the retirement section of the report (between its begin/end comments)")
    p.add_argument("--retire-versions", type=int, help="versions of the family per region in the retirement (default 50; 4 with --smoke)")
    p.add_argument("--retire-regions", type=int, help="regions of the retirement (default 4; 2 with --smoke)")
    p.add_argument("--retire-keep", type=int, help="newest versions kept per region in the retirement (default 3)")
    p.add_argument("--retire-repeat", type=int, help="measurements of each retirement scenario (default 1)")
    p.add_argument("--retire-force", action="store_true", help="ours with retire_force=true: no reference or protection check "
                   "(the anchor makes none either; default: the playbook's default, false)")
    p.add_argument("--collection", metavar="PATH",
                   help="benchmark this orgshare.aws tree (e.g. an installed release) as side 'ours' instead of the working tree")
    p.add_argument("--old-collection", metavar="PATH", help="a third side 'old' in B1/B2 and the scale runs, and the fleet comparison: "
                   "another orgshare.aws tree (e.g. `git worktree add PATH 015e4d1`, outside this repository)")
    p.add_argument("--fleet", action=argparse.BooleanOptionalAction, default=None,
                   help="with --old-collection: the fleet job at forks 1, ours against old (bench/fleet_forks.py --compare; "
                   "default: on, off with --smoke)")
    p.add_argument("--fleet-images", type=int, help="images of the fleet comparison (default 20; 4 with --quick)")
    p.add_argument("--fleet-pending", type=float, help="seconds each copy of the fleet stays pending (default 3; 1 with --quick)")
    p.add_argument("--fleet-repeat", type=int, help="rounds of the fleet comparison, the order alternating (default 1)")
    p.add_argument("--results-dir", default=os.path.join(BENCH, "results"), help="where the raw JSON goes (default bench/results)")
    p.add_argument("--json", help="also write the raw results to this file")
    p.add_argument("--doc", help="write the report here (default: docs/performance.md for a full run, none otherwise)")
    p.add_argument("--plot", help="write the plot here (default: docs/performance.png for a full run, none otherwise)")
    p.add_argument("--no-doc", action="store_true", help="write neither report nor plot")
    p.add_argument("--from-json", metavar="RESULTS", help="measure nothing: write the report and plot (--doc, --plot) from a raw results file")
    args = p.parse_args(argv)
    args.profile = args.profile or "full"
    defaults = PROFILES[args.profile]
    for name, value in defaults.items():
        if getattr(args, name, None) is None:
            setattr(args, name, value)
    for name in ("scale_regions", "scale_amis", "skip_anchor_at"):
        setattr(args, name, _counts(getattr(args, name)))
    if max([args.regions] + args.scale_regions) > len(TARGET_REGIONS):
        p.error("at most %d copy regions" % len(TARGET_REGIONS))
    if not 1 <= args.retire_regions <= len(retire.REGIONS):
        p.error("--retire-regions: 1 to %d" % len(retire.REGIONS))
    if args.retire_versions < 1 or args.retire_keep < 0 or args.retire_repeat < 1:
        p.error("--retire-versions and --retire-repeat at least 1, --retire-keep at least 0")
    args.only = {x.strip().lower() for x in args.only.split(",") if x.strip()}
    unknown = args.only - set(ALL_SECTIONS.split(","))
    if unknown:
        p.error("--only: unknown section(s) %s (known: %s)" % (", ".join(sorted(unknown)), ALL_SECTIONS))
    for name in ("collection", "old_collection"):
        path = getattr(args, name)
        if path and not args.from_json:
            if not (os.path.isdir(os.path.join(path, "roles", "ami_distribute")) and os.path.isfile(os.path.join(path, "playbooks", "distribute.yml"))):
                p.error("--%s %s is not an orgshare.aws tree (roles/ami_distribute, playbooks/distribute.yml)" % (name.replace("_", "-"), path))
            setattr(args, name, os.path.abspath(path))
    if args.profile == "full" and not args.no_doc and not args.from_json:
        args.doc = args.doc or os.path.join(ROOT, "docs", "performance.md")
        args.plot = args.plot or os.path.join(ROOT, "docs", "performance.png")
    if args.no_doc:
        args.doc = args.plot = None
    return args


def retire_only(results):
    """True for the results of `--only retire`: the report then rewrites only its own section of the page."""
    return results["meta"]["config"].get("only") == ["retire"]


def write_report(results, doc, plot_path):
    import report

    print(report.console_summary(results))
    if retire_only(results):
        if doc:
            text = open(doc).read() if os.path.exists(doc) else report.markdown(results)
            with open(doc, "w") as f:
                f.write(retire.replace_section(text, "\n".join(report.retire_section(results))))
            log("report: the retirement section of %s" % os.path.relpath(doc))
        return
    if plot_path:
        try:
            if report.plot(results, plot_path):
                log("plot: %s" % os.path.relpath(plot_path))
        except Exception as e:  # noqa: BLE001 - the report is still worth writing
            log("no plot: %s: %s" % (type(e).__name__, e))
    if doc:
        with open(doc, "w") as f:
            f.write(report.markdown(results, plot_name=os.path.basename(plot_path) if plot_path and os.path.exists(plot_path) else None))
        log("report: %s" % os.path.relpath(doc))


def _recorded_command(argv):
    """The command line, with PATH for the trees (machine paths say nothing about the run)."""
    out = []
    for i, a in enumerate(argv):
        prev = argv[i - 1] if i else ""
        if prev in ("--collection", "--old-collection"):
            out.append("PATH")
        elif a.startswith(("--collection=", "--old-collection=")):
            out.append(a.split("=", 1)[0] + "=PATH")
        else:
            out.append(a)
    return "bench/run.py " + " ".join(out)


def measure(args, results, workdir, trees):
    if args.only & {"b1", "b3", "scale"}:
        measure_sides(args, results, workdir, trees)
    if "retire" in args.only:  # with emulators of its own
        log("retirement: %d versions x %d regions, keep the newest %d, %g ms per request%s" % (
            args.retire_versions, args.retire_regions, args.retire_keep, args.latency, ", ours with retire_force=true" if args.retire_force else ""))
        results["retire"] = retire.measure(args, workdir, trees, measured_run, not_measured)
        results["retire"]["summary"] = retire.summarize(results["retire"], stats)


def measure_sides(args, results, workdir, trees):
    sides = Sides(workdir, trees, args)
    try:
        log("sides %s, each with its own emulator; logs in %s" % (", ".join(sides.sides), workdir))
        if "b1" in args.only:
            log("B1/B2: one encrypted AMI to %d regions, copies pending %g s, %g ms per request" % (args.regions, args.pending, args.latency))
            runs = [sides.measure(args.regions, "[%d/%d]" % (i + 1, args.repeat)) for i in range(args.repeat)]
            results["distribution"] = {"regions": args.regions, "runs": runs, "summary": summarize_distribution(runs)}
        if "b3" in args.only:
            log("B3: audit of %d AMIs over %d regions, %g ms per request" % (args.amis, len(AUDIT_REGIONS), args.latency))
            runs = audit_runs(sides.emus["ours"], sides.runners["ours"], args.amis, args.repeat, args, "[B3]")
            results["audit"] = {"images": args.amis, "regions": len(AUDIT_REGIONS), "runs": runs, "summary": summarize_audit(runs)}
        if "scale" in args.only and (args.scale_regions or args.scale_amis):
            scale = results["scale"] = {"distribution": {}, "audit": {}}
            for n in args.scale_regions:
                if n == args.regions and "distribution" in results:
                    runs = results["distribution"]["runs"]
                else:
                    log("scale: B1/B2 at %d regions" % n)
                    runs = [sides.measure(n, "[scale %d regions %d/%d]" % (n, i + 1, args.scale_repeat)) for i in range(args.scale_repeat)]
                scale["distribution"][str(n)] = {"runs": runs, "summary": summarize_distribution(runs)}
            for n in args.scale_amis:
                if n == args.amis and "audit" in results:
                    runs = results["audit"]["runs"]
                else:
                    log("scale: B3 at %d AMIs" % n)
                    runs = audit_runs(sides.emus["ours"], sides.runners["ours"], n, args.scale_repeat, args, "[scale]")
                scale["audit"][str(n)] = {"runs": runs, "summary": summarize_audit(runs)}
    finally:
        sides.stop()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.from_json:
        with open(args.from_json) as f:
            write_report(resummarize(json.load(f)), args.doc, args.plot)
        return 0
    import report

    knobs = ("profile", "anchor_rerun", "repeat", "scale_repeat", "pending", "latency", "regions", "amis", "scale_regions", "scale_amis",
             "skip_anchor_at", "fleet", "fleet_images", "fleet_pending", "fleet_repeat", "retire_versions", "retire_regions", "retire_keep",
             "retire_repeat", "retire_force")
    config = {k: getattr(args, k) for k in knobs}
    config["only"] = sorted(args.only)
    config["collection"] = "working tree" if not args.collection else "another tree"
    config["old_collection"] = bool(args.old_collection)
    started = time.time()
    workdir = tempfile.mkdtemp(prefix="orgshare-bench-")
    # side 'ours' is a copy of the working tree as it is now (others edit it during the run)
    ours_tree = args.collection or harness.snapshot_tree(os.path.join(workdir, "working-tree"))
    ours_state = harness.tree_state(args.collection or ROOT)
    trees = {"ours": ours_tree, "anchor": ours_tree}  # the anchor uses only amazon.aws and community.aws
    sides_meta = {"ours": dict(ours_state, what="another orgshare.aws tree (--collection)" if args.collection else "the working tree, as copied at the start"),
                  "anchor": {"what": "bench/anchor/distribute.yml"}}
    if args.old_collection:
        trees["old"] = args.old_collection
        sides_meta["old"] = dict(harness.tree_state(args.old_collection), what="another orgshare.aws tree (--old-collection)")
    results = {"meta": {"machine": machine(), "config": config, "command": _recorded_command(argv), "sides": sides_meta,
                        "goals": report.GOALS, "goal_regions": report.GOAL_REGIONS}}
    log("orgshare.aws benchmarks (%s): %s" % (args.profile, json.dumps(config)))
    log("ours: %s (%s)%s" % (sides_meta["ours"]["what"], harness.describe_tree(ours_state),
                             "; old: %s" % harness.describe_tree(sides_meta["old"]) if args.old_collection else "; no side 'old' (no --old-collection)"))
    try:
        measure(args, results, workdir, trees)
    except Exception:  # noqa: BLE001 - keep what was measured, and say what broke
        results["meta"]["error"] = traceback.format_exc()
        log("the benchmark broke off:\n%s" % results["meta"]["error"])
    if "fleet" in args.only and args.fleet and not results["meta"].get("error"):
        if args.old_collection:
            results["fleet"] = fleet_compare(args, ours_tree, ours_state, workdir)
            if results["fleet"].get("error"):
                log("fleet: %s" % results["fleet"]["error"])
        else:
            results["fleet"] = {"skipped": "no --old-collection"}
    results["meta"]["tree_end"] = harness.tree_state(args.collection or ROOT)
    results["meta"]["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    results["meta"]["duration_seconds"] = time.time() - started
    os.makedirs(args.results_dir, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    # a run of some sections only does not replace the latest run of them all
    name = args.profile if args.only == set(PROFILES[args.profile]["only"].split(",")) else "%s-only-%s" % (args.profile, "-".join(sorted(args.only)))
    paths = [os.path.join(args.results_dir, "%s-%s.json" % (stamp, name)), os.path.join(args.results_dir, "latest-%s.json" % name)]
    if args.json:
        paths.append(args.json)
    for path in paths:
        with open(path, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True, default=str)
    log("raw results: %s" % ", ".join(os.path.relpath(p) for p in paths))

    write_report(results, args.doc, args.plot)
    log("done in %.0f s" % (time.time() - started))
    return 1 if results["meta"].get("error") or (results.get("fleet") or {}).get("error") else 0


if __name__ == "__main__":
    sys.exit(main())
