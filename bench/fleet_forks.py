"""Forks 1 vs N for the playbook orgshare.aws.distribute_fleet, run as AWX runs a job (ansible-runner).

    .venv/bin/python bench/fleet_forks.py                       # 20 images x 3 regions, forks 1 and 8, copies pending 3 s
    .venv/bin/python bench/fleet_forks.py --images 8 --forks 1 4 8 --copy-pending 2 --json out.json
    .venv/bin/python bench/fleet_forks.py --collection PATH             # the same, for another orgshare.aws tree
    .venv/bin/python bench/fleet_forks.py --compare PATH --copy-pending 3   # forks 1: working tree, then PATH

For every forks value: a fresh emulator state with the fleet of tests/fleet/fleet_env.py (encrypted
images, each copied into two more regions, two keys per region shared by the images, one OU per
image), one job with ansible-runner, its wall time and its result (the run must succeed and change
every image). Prints a table and the ratio of the first forks value's time to each other's.

--collection PATH runs the job against PATH, another orgshare.aws tree (e.g. a checkout of an
older commit, `git worktree add PATH <commit>`), whose playbook orgshare.aws.distribute_fleet reads
the same inventory: the job's ANSIBLE_COLLECTIONS_PATH is then a collections tree of this run's own
whose orgshare/aws links to PATH, next to the bootstrap's amazon.aws and community.aws (as
bench/run.py --collection does). Without it the job runs the working tree, linked live.

--compare PATH runs one forks value (default 1) for the working tree and for PATH back to back, in
the same invocation and on the same emulator, --repeat rounds whose order alternates (ours, other;
other, ours; ...), and prints each run and the ratio working tree / PATH (median over the rounds).
Side 'ours' is then a copy of the working tree taken at the start (others may edit the tree during
the run; its commit and local changes are recorded), or the tree --ours names (bench/run.py passes
the copy its B1/B2 measure). Before each run it records the 1-min load
average; after it, the module processes (task results or loop items that ran, of orgshare.aws,
amazon.aws and community.aws modules; ansible.builtin.async_status results apart) and the API calls
(reads, writes) from the emulator's call record.

Results: bench/results/fleet-forks.json (read by bench/report.py for docs/performance.md) for the
plain run; with --collection or --compare, bench/results/fleet-forks-collection.json or
fleet-forks-compare.json unless --results says otherwise. No machine path goes into them: PATH is
recorded by its commit.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, d) for d in (os.path.join("tests", "fleet"), "emulator", "tests", "scripts", "bench")]

import harness  # noqa: E402  (snapshot_tree, the module and read prefixes)
from harness import ACCESS_KEY, ASYNC_STATUS, MODULE_PREFIXES, READ_PREFIXES, SECRET_KEY  # noqa: E402


def _client_factory(endpoint_url):
    import boto3
    import botocore.config

    config = botocore.config.Config(retries={"mode": "standard", "max_attempts": 10})

    def client(service, region="us-east-1"):
        return boto3.client(
            service, region_name=region, endpoint_url=endpoint_url, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, config=config
        )

    return client


def processes(events):
    """Module processes of one job, from ansible-runner's events: one per task result, or per loop
    item that ran, of an orgshare.aws / amazon.aws / community.aws module (skipped ones not counted);
    ansible.builtin.async_status results apart (as harness.processes counts them from bench/run.py's timeline)."""
    out = {"modules": 0, "async_status": 0}
    for ev in events:
        if ev.get("event") not in ("runner_on_ok", "runner_on_failed", "runner_on_unreachable"):
            continue
        data = ev.get("event_data") or {}
        action, res = data.get("resolved_action") or data.get("task_action") or "", data.get("res") or {}
        n = len([i for i in res.get("results") or [] if isinstance(i, dict) and not i.get("skipped")]) if "results" in res else 1
        if action.startswith(MODULE_PREFIXES):
            out["modules"] += n
        elif action in ASYNC_STATUS:
            out["async_status"] += n
    return out


def run_once(emulator, images, forks, workdir, collections=None, label=None):
    """One job on a fresh emulator state; ``collections``: the job's ANSIBLE_COLLECTIONS_PATH (None: fleet_env's)."""
    from fleet_env import build_fleet, job_envvars, run_job, write_private_data_dir

    emulator.reset()
    fleet = build_fleet(_client_factory(emulator.endpoint_url), images=images)
    emulator.clear_calls()  # the job's calls only, not the set-up's
    envvars = job_envvars(emulator.endpoint_url, ACCESS_KEY, SECRET_KEY, extra={"ANSIBLE_COLLECTIONS_PATH": collections} if collections else None)
    pdd = write_private_data_dir(os.path.join(workdir, "%s-forks-%d-%d" % (label or "run", forks, time.monotonic_ns())), fleet, envvars)
    load = os.getloadavg()[0]
    start = time.monotonic()
    runner = run_job(pdd, forks=forks, ident="bench", timeout=4 * 3600)
    seconds = time.monotonic() - start
    hosts = [h["host"] for h in fleet["hosts"]]
    ok = runner.status == "successful" and runner.rc == 0 and not runner.stats["failures"] and sorted(runner.stats["ok"]) == sorted(hosts)
    if not ok:
        with open(os.path.join(pdd, "artifacts", "bench", "stdout")) as f:
            tail = f.read()[-4000:]
        raise SystemExit("%sforks=%d: the job did not succeed (%s, rc %s)\n%s" % (label + " " if label else "", forks, runner.status, runner.rc, tail))
    calls = [c for c in emulator.calls if c["status"] < 400]
    copies = sum(1 for c in calls if c["action"] == "CopyImage")
    reads = sum(1 for c in emulator.calls if c["action"] and c["action"].startswith(READ_PREFIXES))
    r = {"forks": forks, "seconds": round(seconds, 1), "hosts": len(hosts), "copy_image_calls": copies}
    if label:
        r.update({"side": label, "load_before": round(load, 2), "processes": processes(runner.events),
                  "calls": {"total": len(emulator.calls), "reads": reads, "writes": len(emulator.calls) - reads}})
    return r


def _commit(tree=ROOT):
    try:
        out = subprocess.run(["git", "-C", tree, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        # local changes to the collection's files (not to bench/, tests/ or docs/)
        dirty = subprocess.run(["git", "-C", tree, "status", "--porcelain", "--untracked-files=no", "--", "plugins", "roles", "playbooks", "meta"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return out + ("+changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def _check_tree(p, path):
    if not os.path.isfile(os.path.join(path, "playbooks", "distribute_fleet.yml")):
        p.error("%s is not an orgshare.aws tree with playbooks/distribute_fleet.yml" % path)
    return os.path.abspath(path)


def compare(args, emulator, workdir):
    """--compare: one forks value, the working tree (a copy) and the other tree, alternating."""
    from collections_tree import link_collections

    forks = args.forks[0]
    trees = {"ours": args.ours or harness.snapshot_tree(os.path.join(workdir, "working-tree")), "other": args.compare}
    paths = {side: link_collections(os.path.join(workdir, "collections-" + side), tree) for side, tree in trees.items()}
    rounds = []
    for i in range(args.repeat):
        order = ("ours", "other") if i % 2 == 0 else ("other", "ours")
        rnd = {"order": list(order)}
        for side in order:
            r = run_once(emulator, args.images, forks, workdir, collections=paths[side], label=side)
            rnd[side] = r
            print("round %d %-5s forks %d: %6.1f s  (%d hosts, %d CopyImage calls, %d module processes, %d async_status, "
                  "%d API calls, %d writes; 1-min load before %.2f)" % (
                      i + 1, side, forks, r["seconds"], r["hosts"], r["copy_image_calls"], r["processes"]["modules"],
                      r["processes"]["async_status"], r["calls"]["total"], r["calls"]["writes"], r["load_before"]), flush=True)
        rnd["ratio_ours_other"] = round(rnd["ours"]["seconds"] / rnd["other"]["seconds"], 3)
        rounds.append(rnd)
    ratio = statistics.median(r["ratio_ours_other"] for r in rounds)
    print("working tree / other tree, forks %d: %.2f (median of %d round(s): %s)" % (
        forks, ratio, len(rounds), ", ".join("%.2f" % r["ratio_ours_other"] for r in rounds)))
    return {"forks": forks, "rounds": rounds, "ratio_ours_other": round(ratio, 3)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    p.add_argument("--images", type=int, default=20)
    p.add_argument("--forks", type=int, nargs="+", help="forks values (default 1 8; with --compare one value, default 1)")
    p.add_argument("--copy-pending", type=float, default=3.0, help="seconds every copy stays pending")
    p.add_argument("--collection", metavar="PATH", help="run the job against this orgshare.aws tree instead of the working tree")
    p.add_argument("--compare", metavar="PATH", help="one forks value for the working tree and for this orgshare.aws tree, back to back; prints the ratio")
    p.add_argument("--repeat", type=int, default=1, help="with --compare: rounds, the order alternating (default 1)")
    p.add_argument("--ours", metavar="PATH", help="with --compare: the orgshare.aws tree of side 'ours' (default: a copy of the working tree)")
    p.add_argument("--json", help="also write the results here")
    p.add_argument("--results", help="where the results go (default bench/results/fleet-forks.json, read for docs/performance.md; "
                   "with --collection fleet-forks-collection.json, with --compare fleet-forks-compare.json; empty: nowhere)")
    args = p.parse_args(argv)
    if args.collection and args.compare:
        p.error("--collection and --compare exclude each other")
    if args.compare:
        args.forks = args.forks or [1]
        if len(args.forks) != 1:
            p.error("--compare takes one forks value")
        args.compare = _check_tree(p, args.compare)
    if args.ours:
        if not args.compare:
            p.error("--ours goes with --compare")
        args.ours = _check_tree(p, args.ours)
    args.forks = args.forks or [1, 8]
    if args.collection:
        args.collection = _check_tree(p, args.collection)
    if args.results is None:
        name = "fleet-forks-compare.json" if args.compare else "fleet-forks-collection.json" if args.collection else "fleet-forks.json"
        args.results = os.path.join(ROOT, "bench", "results", name)

    import conftest  # noqa: F401  (links the working tree into .cache/test-collections)
    from collections_tree import link_collections
    from orgshare_emulator import Emulator

    emulator = Emulator(port=0, copy_pending_seconds=args.copy_pending).start()
    results, compared = [], None
    load_start = [round(x, 2) for x in os.getloadavg()]
    started, date = time.monotonic(), time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    commit = _commit(args.ours or args.collection or ROOT)  # at the start: side 'ours' is the tree as it is now
    try:
        with tempfile.TemporaryDirectory(prefix="orgshare-fleet-bench-") as workdir:
            if args.compare:
                compared = compare(args, emulator, workdir)
            else:
                collections = link_collections(os.path.join(workdir, "collections"), args.collection) if args.collection else None
                for forks in args.forks:
                    r = run_once(emulator, args.images, forks, workdir, collections=collections)
                    results.append(r)
                    print("forks %2d: %6.1f s  (%d hosts, %d CopyImage calls)" % (forks, r["seconds"], r["hosts"], r["copy_image_calls"]), flush=True)
    finally:
        emulator.stop()

    if compared:
        report = {
            "benchmark": "fleet_forks_compare",
            "images": args.images,
            "regions_per_image": 3,
            "copy_pending_seconds": args.copy_pending,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "sides": {"ours": "working tree (a copy taken at the start)", "other": "--compare"},
            "commit": commit,
            "other_commit": _commit(args.compare),
            "date": date,
            "duration_seconds": round(time.monotonic() - started),
            "load_average_at_start": load_start,
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            **compared,
        }
        for path in (args.json, args.results):
            if path:
                with open(path, "w") as f:
                    json.dump(report, f, indent=2)
        return 0

    base = results[0]
    for r in results[1:]:
        r["speedup_vs_forks_%d" % base["forks"]] = round(base["seconds"] / r["seconds"], 2)
        print("forks %d vs %d: %.2fx faster" % (r["forks"], base["forks"], base["seconds"] / r["seconds"]))
    report = {
        "benchmark": "fleet_forks",
        "images": args.images,
        "regions_per_image": 3,
        "copy_pending_seconds": args.copy_pending,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "commit": commit,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
        "results": results,
    }
    if args.collection:
        report["collection"] = "another tree (--collection), commit %s" % report["commit"]
    for path in (args.json, args.results):
        if path:
            with open(path, "w") as f:
                json.dump(report, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
