"""B1 / B2 of three sides in one run: the working tree, another orgshare.aws tree, and the anchor.

    .venv/bin/python bench/rerun_compare.py --old-collection PATH --regions 2 16 --pending 5 --repeat 1

PATH is an orgshare.aws tree (a checkout of an older commit, e.g. `git worktree add DIR <commit>`)
whose playbook orgshare.aws.distribute and role orgshare.aws.ami_distribute take the same
ami_distribute_* variables. Side 'ours' is a copy of the working tree taken at the start (others
may edit the tree during the run; the commit and any local changes are recorded).

For each region count and repeat, every side gets its own emulator process and its own fresh
world (bench/harness.py's setup_distribution); then the first runs (B1) of the three sides run one
after the other, then their converged re-runs (B2), so that the three re-runs are measured back to
back and the machine's noise hits them alike. The order of the sides rotates from one measurement
to the next. A side whose first run failed gets no re-run (it would be another first run).

Per run it records the wall time, the API calls (reads, writes; from the emulator's call record,
as bench/run.py does) and the module processes: one per task result, or per loop item that ran,
of a task whose action is an orgshare.aws, amazon.aws or community.aws module (from the timeline
of bench/callback_plugins/bench_timeline.py; skipped tasks and items do not count). Polls of
ansible.builtin.async_status are counted apart (they are processes too, but not modules of these
collections).

Writes the raw results to bench/results/rerun-compare.json (--json) and prints a table: wall
times, re-run writes and module processes per side, and the ratios B2 ours / anchor, B1 ours /
anchor, B2 ours at the largest / at the smallest region count, B2 ours / old, with the goals (the
ratio goals judged at 8 regions, where B1 and B2 are defined, when 8 is among --regions).
Compare timings only within one run of this script: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import run  # noqa: E402  (distribution_vars, measured_run, machine)
from collections_tree import link_collections  # noqa: E402
from harness import BENCH, ROOT, TARGET_REGIONS, log  # noqa: E402

SIDES = ("ours", "old", "anchor")
MODULE_PREFIXES = ("orgshare.aws.", "amazon.aws.", "community.aws.")
GOALS = {"b2_vs_anchor": 0.35, "b1_vs_anchor": 0.15, "b2_scale": 1.3, "b2_vs_old": 0.4, "b2_processes": 6}
# B1 and B2 are defined at 8 regions (bench/run.py's default): the ratio goals are judged there when
# that count was measured; the other counts are shown beside it.
GOAL_REGIONS = 8


def processes(timeline):
    """Module processes of one run: {modules, async_status, by_task: [[task, action, n]]}."""
    action, out, by_task = None, {"modules": 0, "async_status": 0}, []
    for e in timeline:
        if e["event"] == "task_start":
            action = e["action"]
        elif e["event"] == "task_result" and e["status"] != "skipped" and action:
            n = e.get("items", 1)
            if action.startswith(MODULE_PREFIXES):
                out["modules"] += n
                by_task.append([e["name"], action, n])
            elif action in ("ansible.builtin.async_status", "async_status"):
                out["async_status"] += n
    out["by_task"] = by_task
    return out


def tree_state():
    """The working tree's commit, and whether the collection's files differ from it (others edit them)."""
    def git(*a):
        return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()

    return {"commit": git("rev-parse", "--short", "HEAD"), "modified": git("status", "--porcelain", "--", "plugins", "roles", "playbooks", "meta").splitlines()}


def one_measurement(emus, runners, n_regions, order, args, tag):
    targets = TARGET_REGIONS[:n_regions]
    setups, out = {}, {side: {} for side in order}
    for side in order:
        emus[side].reset(copy_pending_seconds=args.pending)
        setups[side] = harness.setup_distribution(emus[side], targets)
    for phase in ("first", "rerun"):
        for side in order:
            if side == "anchor" and n_regions in args.skip_anchor_at:
                out[side][phase] = {"skipped": True, "ok": False, "wall": None, "failure": "not measured (--skip-anchor-at)"}
                continue
            if phase == "rerun" and not out[side]["first"].get("ok"):
                # nothing converged: a second run would be another first run
                out[side][phase] = {"ok": False, "wall": None, "failure": "not run: the first run failed"}
                continue
            emu = emus[side]
            playbook = run.DISTRIBUTE_ANCHOR if side == "anchor" else run.DISTRIBUTE_OURS
            extra = run.distribution_vars("anchor" if side == "anchor" else "ours", setups[side], emu)
            r = run.measured_run(emu, runners[side], "%s %s %s" % (tag, "B1" if phase == "first" else "B2", side), playbook, extra, args.latency)
            r["processes"] = processes(r.pop("timeline"))
            if phase == "first":
                r["problems"] = harness.verify_distribution(emu, setups[side]) if r["ok"] else ["the run failed"]
                r["verified"] = not r["problems"]
                if r["ok"] and r["problems"]:
                    log("  %s: the result is wrong: %s" % (side, "; ".join(r["problems"][:5])))
            log("    module processes %d, async_status polls %d, load %.2f"
                % (r["processes"]["modules"], r["processes"]["async_status"], r["load_before"] or 0))
            out[side][phase] = r
    return out


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(runs):
    """Per side and phase: median wall, writes, module processes; per pair ratios (median)."""
    def ok(r):
        return r.get("ok") and not r.get("skipped")

    s = {}
    for side in SIDES:
        s[side] = {}
        for phase in ("first", "rerun"):
            rs = [m[side][phase] for m in runs]
            s[side][phase] = {
                "wall": median([r["wall"] if ok(r) else None for r in rs]),
                "writes": median([r["calls"]["writes"] if ok(r) else None for r in rs]),
                "calls": median([r["calls"]["total"] if ok(r) else None for r in rs]),
                "modules": median([r["processes"]["modules"] if ok(r) else None for r in rs]),
                "async_status": median([r["processes"]["async_status"] if ok(r) else None for r in rs]),
                "failures": [r["failure"] for r in rs if not r.get("ok") and not r.get("skipped")],
                "skipped": all(r.get("skipped") for r in rs),
                "verified": all(r.get("verified", True) for r in rs if ok(r)),
            }

    def ratio(a, b, phase):
        return median([m[a][phase]["wall"] / m[b][phase]["wall"] for m in runs if ok(m[a][phase]) and ok(m[b][phase])])

    s["ratios"] = {"b2_ours_anchor": ratio("ours", "anchor", "rerun"), "b1_ours_anchor": ratio("ours", "anchor", "first"),
                   "b2_ours_old": ratio("ours", "old", "rerun"), "b1_ours_old": ratio("ours", "old", "first")}
    return s


def fmt(v, pattern="%.1f s"):
    return "–" if v is None else pattern % v


def table(results):
    counts = sorted(results["by_regions"], key=int)
    lines = ["| regions | side | B1 wall | B2 wall | B2 writes | module processes B1 | module processes B2 "
             "| async_status polls B1 / B2 | 1-min load before B1 / B2 |",
             "|---|---|---|---|---|---|---|---|---|"]
    for n in counts:
        s = results["by_regions"][n]["summary"]
        for side in SIDES:
            f, r = s[side]["first"], s[side]["rerun"]
            if f["skipped"]:
                lines.append("| %s | %s | not measured | not measured | | | | | |" % (n, side))
                continue
            polls = "%s / %s" % (fmt(f["async_status"], "%d"), fmt(r["async_status"], "%d"))
            rs = results["by_regions"][n]["runs"]
            load = " / ".join(fmt(median([m[side][ph].get("load_before") for m in rs]), "%.1f") for ph in ("first", "rerun"))
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                n, side, fmt(f["wall"]) if not f["failures"] else "failed", fmt(r["wall"]) if not r["failures"] else "failed",
                fmt(r["writes"], "%d"), fmt(f["modules"], "%d"), fmt(r["modules"], "%d"), polls, load))
    lines += ["", "| ratio | " + " | ".join("%s regions" % n for n in counts) + " | goal | met |", "|---|" + "---|" * (len(counts) + 2)]

    def verdict(values, limit, at=None):
        """per region count when the counts disagree; the goal's own region count (``at``) first"""
        marks = ["not measured" if v is None else "yes" if v <= limit else "**no**" for v in values]
        if len(set(marks)) == 1:
            return marks[0] + (" (the goal is at %d regions)" % at if at and str(at) in counts else "")
        if at and str(at) in counts:
            i = counts.index(str(at))
            others = "; ".join("%s at %s" % (m, n) for j, (m, n) in enumerate(zip(marks, counts)) if j != i)
            return "%s at %d regions, the goal's (%s)" % (marks[i], at, others)
        return "; ".join("%s at %s regions" % (m, n) for m, n in zip(marks, counts))

    def row(label, key, goal):
        values = [results["by_regions"][n]["summary"]["ratios"][key] for n in counts]
        cells = " | ".join(fmt(v, "%.2f") for v in values)
        lines.append("| %s | %s | %s | %s |" % (label, cells, "≤ %g" % goal if goal else "", verdict(values, goal, GOAL_REGIONS) if goal else ""))

    row("B2 ours / anchor", "b2_ours_anchor", GOALS["b2_vs_anchor"])
    row("B1 ours / anchor", "b1_ours_anchor", GOALS["b1_vs_anchor"])
    row("B2 ours / old", "b2_ours_old", GOALS["b2_vs_old"])
    row("B1 ours / old", "b1_ours_old", None)
    procs = [results["by_regions"][n]["summary"]["ours"]["rerun"]["modules"] for n in counts]
    lines.append("| module processes of the converged run (ours) | %s | ≤ %d | %s |" % (
        " | ".join(fmt(v, "%d") for v in procs), GOALS["b2_processes"], verdict(procs, GOALS["b2_processes"])))
    lo, hi = counts[0], counts[-1]
    lines.append("")
    for side in SIDES:
        a, b = (results["by_regions"][n]["summary"][side]["rerun"]["wall"] for n in (hi, lo))
        scale = a / b if a and b else None
        results.setdefault("scale", {})[side] = scale
        goal = " (goal ≤ %g: %s)" % (GOALS["b2_scale"], "yes" if scale and scale <= GOALS["b2_scale"] else "**no**") if side == "ours" else ""
        lines.append("- B2 %s at %s regions / at %s regions: %s%s" % (side, hi, lo, fmt(scale, "%.2f"), goal))
    return "\n".join(lines)


def parse_args(argv):
    summary, details = __doc__.split("\n\n", maxsplit=1)
    p = argparse.ArgumentParser(description=summary, formatter_class=argparse.RawDescriptionHelpFormatter, epilog=details)
    p.add_argument("--old-collection", metavar="PATH", help="the other orgshare.aws tree (side 'old'); required unless --from-json")
    p.add_argument("--from-json", metavar="RESULTS", help="measure nothing: print the table of a raw results file")
    p.add_argument("--regions", type=int, nargs="+", default=[2, 16], help="copy region counts (default 2 16)")
    p.add_argument("--pending", type=float, default=5.0, help="seconds each copy stays pending (default 5)")
    p.add_argument("--latency", type=float, default=run.PROFILES["full"]["latency"],
                   help="milliseconds per request in the measured runs (default: the harness's, 30)")
    p.add_argument("--repeat", type=int, default=1, help="measurements per region count (default 1)")
    p.add_argument("--skip-anchor-at", type=int, nargs="*", default=[], metavar="N", help="region counts at which the anchor is not run")
    p.add_argument("--json", default=os.path.join(BENCH, "results", "rerun-compare.json"), help="raw results (default bench/results/rerun-compare.json)")
    args = p.parse_args(argv)
    if args.from_json:
        return args
    if not args.old_collection:
        p.error("--old-collection is required")
    if max(args.regions) > len(TARGET_REGIONS):
        p.error("at most %d copy regions" % len(TARGET_REGIONS))
    if not os.path.isdir(os.path.join(args.old_collection, "roles", "ami_distribute")):
        p.error("%s is not an orgshare.aws tree" % args.old_collection)
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.from_json:
        with open(args.from_json) as f:
            print(table(json.load(f)))
        return 0
    started = time.time()
    meta = run.machine()
    # the old tree's path is a machine path: the command is recorded without it
    shown = [("PATH" if i > 0 and argv[i - 1] == "--old-collection" else a) for i, a in enumerate(argv)]
    results = {"meta": {"machine": meta, "command": "bench/rerun_compare.py " + " ".join(shown),
                        "config": {"regions": args.regions, "pending": args.pending, "latency": args.latency, "repeat": args.repeat,
                                   "skip_anchor_at": args.skip_anchor_at, "sides": {"ours": "working tree", "old": "--old-collection",
                                                                                    "anchor": "bench/anchor/distribute.yml"}},
                        "goals": GOALS}, "by_regions": {}}
    results["meta"]["tree_start"] = tree_state()
    workdir = tempfile.mkdtemp(prefix="orgshare-rerun-compare-")
    emus, runners = {}, {}
    trees = {"ours": harness.snapshot_tree(os.path.join(workdir, "working-tree")), "old": os.path.abspath(args.old_collection), "anchor": None}
    try:
        for side in SIDES:
            sub = os.path.join(workdir, side)
            os.makedirs(sub)
            emus[side] = harness.EmulatorProcess(sub, copy_pending_seconds=args.pending).start()
            runners[side] = harness.PlaybookRunner(emus[side], sub)
            if trees[side]:
                # a collections tree of this run's own (the shared .cache/bench-collections* stay as they are)
                runners[side].collections = link_collections(os.path.join(sub, "collections"), trees[side])
        log("three emulators; logs in %s; load average %s" % (workdir, ", ".join("%.2f" % x for x in os.getloadavg())))
        k = 0
        for n in args.regions:
            runs = []
            for i in range(args.repeat):
                order = SIDES[k % 3:] + SIDES[:k % 3]
                k += 1
                log("%d regions, measurement %d/%d, order %s" % (n, i + 1, args.repeat, " ".join(order)))
                runs.append(one_measurement(emus, runners, n, order, args, "[%d regions %d/%d]" % (n, i + 1, args.repeat)))
                runs[-1]["order"] = list(order)
            results["by_regions"][str(n)] = {"runs": runs, "summary": summarize(runs)}
    except Exception:  # noqa: BLE001 - keep what was measured, and say what broke
        results["meta"]["error"] = traceback.format_exc()
        log("broke off:\n%s" % results["meta"]["error"])
    finally:
        for side in emus:
            emus[side].stop()
        for side in runners:
            runners[side].cleanup()
    loads = [r["load_before"] for d in results["by_regions"].values() for m in d["runs"] for side in SIDES
             for r in (m[side]["first"], m[side]["rerun"]) if r.get("load_before") is not None]
    results["meta"]["tree_end"] = tree_state()
    results["meta"]["load_average_end"] = list(os.getloadavg())
    results["meta"]["load_before_runs"] = {"min": min(loads), "median": statistics.median(loads), "max": max(loads)} if loads else None
    results["meta"]["duration_seconds"] = time.time() - started
    text = table(results) if results["by_regions"] else "(nothing measured)"
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(results, f, indent=1, sort_keys=True, default=str)
    print(text)
    lb = results["meta"]["load_before_runs"]
    print("\nload average at start %s, at end %s; 1-min load before each run: median %.2f (%.2f–%.2f)" % (
        ", ".join("%.2f" % x for x in meta["load_average"]), ", ".join("%.2f" % x for x in results["meta"]["load_average_end"]),
        lb["median"], lb["min"], lb["max"]) if lb else "")
    t0, t1 = results["meta"]["tree_start"], results["meta"]["tree_end"]
    if t0["modified"]:
        print("side 'ours' is commit %s plus local changes to %s (a copy of the working tree taken at the start)" % (t0["commit"], ", ".join(t0["modified"])))
    if t0 != t1:
        print("the working tree changed during the run (not seen by side 'ours'): %s -> %s" % (json.dumps(t0), json.dumps(t1)))
    print("commit %s, %s, %.0f s; raw results: %s" % (meta["git_commit"], meta["date"], results["meta"]["duration_seconds"], os.path.relpath(args.json)))
    return 1 if results["meta"].get("error") else 0


if __name__ == "__main__":
    sys.exit(main())
