"""B1 / B2 of three sides in one run: the working tree, another orgshare.aws tree, and the anchor.

    .venv/bin/python bench/rerun_compare.py --old-collection PATH --regions 2 8 16 --pending 20 --repeat 1
    .venv/bin/python bench/rerun_compare.py --from-json bench/results/rerun-compare.json

A thin wrapper of bench/run.py, which measures the three sides itself (`bench/run.py --old-collection
PATH`, with everything else of `make bench`): this runs only its B1/B2 measurements, at every
region count of --regions, as

    bench/run.py --only scale --scale-regions 2,8,16 --scale-amis '' --scale-repeat 1 --pending 20
                 --old-collection PATH --no-fleet --no-doc --json bench/results/rerun-compare.json

(every side with its own emulator and a fresh world per measurement, the first runs back to back,
then the re-runs, the order rotating; module processes from the bench_timeline callback; see
bench/run.py; its own copies of the results go to a temporary directory), then prints the tables
of docs/performance.md's section "B1 / B2 by number of regions" and the goals: wall times, API
calls (writes), module processes and async_status polls per side, and the ratios B2 ours /
anchor, B1 ours / anchor, B2 ours / old, B1 ours / old and B2 at the largest / at the smallest
region count, the ratio goals judged at 8 regions.

--from-json prints them again from a results file: bench/run.py's, or the one an older version of
this script wrote ({"by_regions": ...}, e.g. bench/results/rerun-compare.json of commit 4703f4b).
Compare timings only within one run: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import report  # noqa: E402
import run  # noqa: E402
from harness import BENCH, TARGET_REGIONS  # noqa: E402


def as_run_results(data):
    """A results file of bench/run.py, or this script's older format converted to it."""
    if "by_regions" not in data:
        return run.resummarize(data)
    meta = data["meta"]
    cfg = meta.get("config") or {}
    start = meta.get("tree_start") or {}
    results = {
        "meta": {
            "machine": meta["machine"],
            "command": meta.get("command", "bench/rerun_compare.py"),
            "config": {"profile": "rerun_compare", "pending": cfg.get("pending"), "latency": cfg.get("latency"), "repeat": cfg.get("repeat", 1),
                       "scale_repeat": cfg.get("repeat", 1), "old_collection": True, "fleet": False, "only": ["scale"]},
            "sides": {"ours": dict(start, what="the working tree, as copied at the start"), "old": {"what": "another orgshare.aws tree (--old-collection)"},
                      "anchor": {"what": "bench/anchor/distribute.yml"}},
            "tree_end": meta.get("tree_end"),
            "duration_seconds": meta.get("duration_seconds"),
        },
        "scale": {"distribution": {n: {"runs": e["runs"]} for n, e in data["by_regions"].items()}, "audit": {}},
    }
    return run.resummarize(results)


def tables(results):
    """The section "B1 / B2 by number of regions" of docs/performance.md, and the goals, as text."""
    lines = report.region_tables(results)
    if report.by_regions(results):
        lines += ["API calls on the re-runs (median): %s." % report._rerun_calls(results), ""]
    g = report.goals(results)
    if g:
        lines += [report._table(["", "goal", "measured", "met"], [[b, t, v, report._yes(met)] for b, t, v, met in g])]
    return "\n".join(lines) if lines else "(nothing measured)"


def parse_args(argv):
    summary, details = __doc__.split("\n\n", maxsplit=1)
    p = argparse.ArgumentParser(description=summary, formatter_class=argparse.RawDescriptionHelpFormatter, epilog=details)
    p.add_argument("--old-collection", metavar="PATH", help="the other orgshare.aws tree (side 'old'); required unless --from-json")
    p.add_argument("--from-json", metavar="RESULTS", help="measure nothing: print the tables of a raw results file")
    p.add_argument("--regions", type=int, nargs="+", default=[2, 16], help="copy region counts (default 2 16)")
    p.add_argument("--pending", type=float, default=5.0, help="seconds each copy stays pending (default 5)")
    p.add_argument("--latency", type=float, default=run.PROFILES["full"]["latency"], help="milliseconds per request in the measured runs (default 30)")
    p.add_argument("--repeat", type=int, default=1, help="measurements per region count (default 1)")
    p.add_argument("--skip-anchor-at", type=int, nargs="*", default=[], metavar="N", help="region counts at which the anchor is not run")
    p.add_argument("--json", default=os.path.join(BENCH, "results", "rerun-compare.json"),
                   help="raw results (default bench/results/rerun-compare.json)")
    args = p.parse_args(argv)
    if args.from_json:
        return args
    if not args.old_collection:
        p.error("--old-collection is required")
    if max(args.regions) > len(TARGET_REGIONS):
        p.error("at most %d copy regions" % len(TARGET_REGIONS))
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not args.from_json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        # bench/run.py's own copies of the results (bench/results/*-full.json) are not wanted: only --json
        rc = run.main(["--results-dir", tempfile.mkdtemp(prefix="orgshare-rerun-compare-"),
                       "--only", "scale", "--scale-regions", ",".join(str(n) for n in args.regions), "--scale-amis", "",
                       "--scale-repeat", str(args.repeat), "--pending", "%g" % args.pending, "--latency", "%g" % args.latency,
                       "--skip-anchor-at", ",".join(str(n) for n in args.skip_anchor_at), "--old-collection", args.old_collection,
                       "--no-fleet", "--no-doc", "--json", args.json])
    with open(args.from_json or args.json) as f:
        print(tables(as_run_results(json.load(f))))
    return 0 if args.from_json else rc


if __name__ == "__main__":
    sys.exit(main())
