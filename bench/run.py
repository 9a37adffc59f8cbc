"""Benchmarks: orgshare.aws against the way users do it today, side by side, on the AWS emulator.

    .venv/bin/python bench/run.py            # everything (make bench): writes docs/performance.md + .png
    .venv/bin/python bench/run.py --quick    # small sizes, short copies, 1 repeat (for development)
    .venv/bin/python bench/run.py --smoke    # the smallest run, used by tests/bench/test_bench_smoke.py

B1 first distribution, B2 its converged re-run, B3 audit, B4 API calls per module and region, and
the scale runs (B1 over region counts, B3 over AMI counts). See docs/performance.md.
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
from harness import AUDIT_REGIONS, BENCH, OWNER_ACCOUNT_ID, ROOT, SOURCE_REGION, TARGET_REGIONS, log  # noqa: E402

DISTRIBUTE_OURS = "orgshare.aws.distribute"
DISTRIBUTE_ANCHOR = os.path.join(BENCH, "anchor", "distribute.yml")
AUDIT_OURS = os.path.join(BENCH, "ours", "audit.yml")
AUDIT_ANCHOR = os.path.join(BENCH, "anchor", "audit.yml")
SIDES = ("ours", "anchor")

PROFILES = {
    "full": dict(anchor_rerun=True, repeat=3, scale_repeat=1, pending=20.0, latency=30.0, regions=8, amis=300,
                 scale_regions=[2, 4, 8, 16], scale_amis=[100, 300, 1000]),
    "quick": dict(anchor_rerun=True, repeat=1, scale_repeat=1, pending=5.0, latency=30.0, regions=4, amis=60, scale_regions=[2, 4], scale_amis=[30, 60]),
    # the smoke run skips the anchor's re-run (the slowest part that tests nothing new)
    "smoke": dict(anchor_rerun=False, repeat=1, scale_repeat=1, pending=1.0, latency=30.0, regions=2, amis=20, scale_regions=[], scale_amis=[]),
}


def stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values), "values": values}


# ---- B1 / B2 --------------------------------------------------------------------------------------
def distribution_vars(side, setup, emu):
    keys = setup["keys"]
    if side == "ours":
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
    emu.configure(latency_ms=latency)
    emu.clear_calls()
    result = runner.run(label, playbook, extra_vars)
    calls = emu.calls()
    emu.configure(latency_ms=0)
    result["calls"] = harness.summarize_calls(calls, result["timeline"])
    status = "ok" if result["ok"] else "FAILED: %s" % result["failure"]
    log("  %-40s %7.1f s  %4d calls (%d writes)  %s" % (label, result["wall"], result["calls"]["total"], result["calls"]["writes"], status))
    return result


def distribution_pair(emu, runner, n_regions, cfg, tag):
    """One measurement of B1 (first run) and B2 (re-run) for both sides, each on a fresh emulator state."""
    targets = TARGET_REGIONS[:n_regions]
    out = {}
    for side in SIDES:
        emu.reset(copy_pending_seconds=cfg.pending)
        setup = harness.setup_distribution(emu, targets)
        playbook = DISTRIBUTE_OURS if side == "ours" else DISTRIBUTE_ANCHOR
        extra = distribution_vars(side, setup, emu)
        first = measured_run(emu, runner, "%s B1 %s first" % (tag, side), playbook, extra, cfg.latency)
        first["problems"] = harness.verify_distribution(emu, setup) if first["ok"] else ["the run failed"]
        first["verified"] = not first["problems"]
        if first["ok"] and first["problems"]:
            log("  %s: the result is wrong: %s" % (side, "; ".join(first["problems"][:5])))
        if side == "ours" or cfg.anchor_rerun:
            rerun = measured_run(emu, runner, "%s B2 %s re-run" % (tag, side), playbook, extra, cfg.latency)
        else:
            rerun = {"label": "not measured", "wall": 0.0, "ok": False, "failure": "not measured (--smoke)", "skipped": True,
                     "changed_tasks": [], "calls": harness.summarize_calls([])}
        for r in (first, rerun):
            r.pop("timeline", None)
        out[side] = {"first": first, "rerun": rerun}
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
        for side in (SIDES if i % 2 == 0 else tuple(reversed(SIDES))):
            playbook = AUDIT_OURS if side == "ours" else AUDIT_ANCHOR
            extra = {"bench_regions": list(AUDIT_REGIONS), "bench_endpoint_url": emu.endpoint_url}
            r = measured_run(emu, runner, "%s B3 %d AMIs %s #%d" % (tag, n_images, side, i + 1), playbook, extra, cfg.latency)
            r.pop("timeline", None)
            r["verified"] = r["ok"] and r["images"] == n_images
            if r["ok"] and not r["verified"]:
                log("  %s reported %d AMIs, expected %d" % (side, r["images"], n_images))
            pair[side] = r
        runs.append(pair)
    return runs


# ---- summaries -------------------------------------------------------------------------------------------
def _phase(run, side, phase):
    return run[side][phase] if phase else run[side]


def _walls(runs, side, phase=None):
    return [_phase(r, side, phase)["wall"] if _phase(r, side, phase)["ok"] else None for r in runs]


def _ratios(runs, phase=None):
    """ours / anchor, pair by pair (each pair measured back to back)."""
    out = []
    for r in runs:
        ours, anchor = _phase(r, "ours", phase), _phase(r, "anchor", phase)
        if ours["ok"] and anchor["ok"] and anchor["wall"] > 0:
            out.append(ours["wall"] / anchor["wall"])
    return out


def _count(runs, side, phase, key):
    """A count per run; None for a run that failed (its calls say nothing about the job)."""
    return [_phase(r, side, phase)["calls"][key] if _phase(r, side, phase)["ok"] else None for r in runs]


def summarize_distribution(runs):
    s = {}
    for phase in ("first", "rerun"):
        s[phase] = {
            "ratio": stats(_ratios(runs, phase)),
            **{side: {"wall": stats(_walls(runs, side, phase)), "calls": stats(_count(runs, side, phase, "total")),
                      "reads": stats(_count(runs, side, phase, "reads")), "writes": stats(_count(runs, side, phase, "writes")),
                      "failures": [r[side][phase]["failure"] for r in runs if not r[side][phase]["ok"] and not r[side][phase].get("skipped")],
                      "skipped": all(r[side][phase].get("skipped") for r in runs),
                      "verified": all(r[side][phase].get("verified", True) for r in runs)} for side in SIDES},
        }
    return s


def summarize_audit(runs):
    return {
        "ratio": stats(_ratios(runs)),
        **{side: {"wall": stats(_walls(runs, side)), "calls": stats(_count(runs, side, None, "total")),
                  "reads": stats(_count(runs, side, None, "reads")), "writes": stats(_count(runs, side, None, "writes")),
                  "failures": [r[side]["failure"] for r in runs if not r[side]["ok"]],
                  "verified": all(r[side]["verified"] for r in runs)} for side in SIDES},
    }


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
def parse_args(argv):
    summary, details = __doc__.split("\n\n", maxsplit=1)
    p = argparse.ArgumentParser(description=summary, formatter_class=argparse.RawDescriptionHelpFormatter, epilog=details)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_const", const="quick", dest="profile", help="small sizes and short copies, for development")
    mode.add_argument("--smoke", action="store_const", const="smoke", dest="profile", help="1 run, tiny sizes, no scale runs, no plot")
    p.add_argument("--repeat", type=int, help="runs per figure of B1/B2/B3 (default: 3; 1 with --quick/--smoke)")
    p.add_argument("--scale-repeat", type=int, help="runs per figure of the scale runs (default 1)")
    p.add_argument("--pending", type=float, help="seconds each copy stays pending (default 20)")
    p.add_argument("--latency", type=float, help="milliseconds per request in the measured runs (default 30)")
    p.add_argument("--regions", type=int, help="copy targets in B1/B2 (default 8)")
    p.add_argument("--amis", type=int, help="AMIs in B3 (default 300)")
    p.add_argument("--scale-regions", help="comma-separated region counts for the B1 scale runs (default 2,4,8,16; empty: none)")
    p.add_argument("--scale-amis", help="comma-separated AMI counts for the B3 scale runs (default 100,300,1000; empty: none)")
    p.add_argument("--only", default="b1,b3,scale", help="comma-separated subset of b1 (B1, B2, B4), b3, scale (default: all)")
    p.add_argument("--collection", help="benchmark this orgshare.aws tree (e.g. an installed release) instead of the working tree")
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
    for name in ("scale_regions", "scale_amis"):
        value = getattr(args, name)
        if isinstance(value, str):
            setattr(args, name, [int(x) for x in value.split(",") if x.strip()])
    if max([args.regions] + args.scale_regions) > len(TARGET_REGIONS):
        p.error("at most %d copy regions" % len(TARGET_REGIONS))
    args.only = {x.strip().lower() for x in args.only.split(",") if x.strip()}
    if args.profile == "full" and not args.no_doc and not args.from_json:
        args.doc = args.doc or os.path.join(ROOT, "docs", "performance.md")
        args.plot = args.plot or os.path.join(ROOT, "docs", "performance.png")
    if args.no_doc:
        args.doc = args.plot = None
    return args


def write_report(results, doc, plot_path):
    import report

    print(report.console_summary(results))
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


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.from_json:
        with open(args.from_json) as f:
            write_report(json.load(f), args.doc, args.plot)
        return 0
    knobs = ("profile", "anchor_rerun", "repeat", "scale_repeat", "pending", "latency", "regions", "amis", "scale_regions", "scale_amis")
    config = {k: getattr(args, k) for k in knobs}
    config["only"] = sorted(args.only)
    config["collection"] = "working tree" if not args.collection else "another tree"
    results = {"meta": {"machine": machine(), "config": config, "command": "bench/run.py " + " ".join(sys.argv[1:] if argv is None else argv)}}
    log("orgshare.aws benchmarks (%s): %s" % (args.profile, json.dumps(config)))
    started = time.time()
    workdir = tempfile.mkdtemp(prefix="orgshare-bench-")
    emu = harness.EmulatorProcess(workdir, copy_pending_seconds=args.pending).start()
    runner = harness.PlaybookRunner(emu, workdir, collection=args.collection)
    log("emulator at %s; logs in %s" % (emu.endpoint_url, workdir))
    try:
        if "b1" in args.only:
            log("B1/B2: one encrypted AMI to %d regions, copies pending %g s, %g ms per request" % (args.regions, args.pending, args.latency))
            runs = [distribution_pair(emu, runner, args.regions, args, "[%d/%d]" % (i + 1, args.repeat)) for i in range(args.repeat)]
            results["distribution"] = {"regions": args.regions, "runs": runs, "summary": summarize_distribution(runs)}
        if "b3" in args.only:
            log("B3: audit of %d AMIs over %d regions, %g ms per request" % (args.amis, len(AUDIT_REGIONS), args.latency))
            runs = audit_runs(emu, runner, args.amis, args.repeat, args, "[B3]")
            results["audit"] = {"images": args.amis, "regions": len(AUDIT_REGIONS), "runs": runs, "summary": summarize_audit(runs)}
        if "scale" in args.only and (args.scale_regions or args.scale_amis):
            scale = {"distribution": {}, "audit": {}}
            for n in args.scale_regions:
                if n == args.regions and "distribution" in results:
                    runs = results["distribution"]["runs"]
                else:
                    log("scale: B1 at %d regions" % n)
                    runs = [distribution_pair(emu, runner, n, args, "[scale %d regions %d/%d]" % (n, i + 1, args.scale_repeat))
                            for i in range(args.scale_repeat)]
                scale["distribution"][str(n)] = {"runs": runs, "summary": summarize_distribution(runs)}
            for n in args.scale_amis:
                if n == args.amis and "audit" in results:
                    runs = results["audit"]["runs"]
                else:
                    log("scale: B3 at %d AMIs" % n)
                    runs = audit_runs(emu, runner, n, args.scale_repeat, args, "[scale]")
                scale["audit"][str(n)] = {"runs": runs, "summary": summarize_audit(runs)}
            results["scale"] = scale
    except Exception:  # noqa: BLE001 - keep what was measured, and say what broke
        results["meta"]["error"] = traceback.format_exc()
        log("the benchmark broke off:\n%s" % results["meta"]["error"])
    finally:
        emu.stop()
        runner.cleanup()
    results["meta"]["duration_seconds"] = time.time() - started
    os.makedirs(args.results_dir, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    paths = [os.path.join(args.results_dir, "%s-%s.json" % (stamp, args.profile)), os.path.join(args.results_dir, "latest-%s.json" % args.profile)]
    if args.json:
        paths.append(args.json)
    for path in paths:
        with open(path, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True, default=str)
    log("raw results: %s" % ", ".join(os.path.relpath(p) for p in paths))

    write_report(results, args.doc, args.plot)
    log("done in %.0f s" % (time.time() - started))
    return 1 if results["meta"].get("error") else 0


if __name__ == "__main__":
    sys.exit(main())
