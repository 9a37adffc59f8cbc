"""Forks 1 vs N for the playbook orgshare.aws.distribute_fleet, run as AWX runs a job (ansible-runner).

    .venv/bin/python bench/fleet_forks.py                       # 20 images x 3 regions, forks 1 and 8, copies pending 3 s
    .venv/bin/python bench/fleet_forks.py --images 8 --forks 1 4 8 --copy-pending 2 --json out.json

For every forks value: a fresh emulator state with the fleet of tests/fleet/fleet_env.py (encrypted
images, each copied into two more regions, two keys per region shared by the images, one OU per
image), one job with ansible-runner, its wall time and its result (the run must succeed and change
every image). Prints a table and the ratio of the first forks value's time to each other's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "tests", "fleet"), os.path.join(ROOT, "emulator"), os.path.join(ROOT, "tests")]

ACCESS_KEY = "AKIAORGSHAREBENCH001"
SECRET_KEY = "orgshare-bench-secret"


def _client_factory(endpoint_url):
    import boto3
    import botocore.config

    config = botocore.config.Config(retries={"mode": "standard", "max_attempts": 10})

    def client(service, region="us-east-1"):
        return boto3.client(
            service, region_name=region, endpoint_url=endpoint_url, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, config=config
        )

    return client


def run_once(emulator, images, forks, workdir):
    from fleet_env import build_fleet, job_envvars, run_job, write_private_data_dir

    emulator.reset()
    fleet = build_fleet(_client_factory(emulator.endpoint_url), images=images)
    pdd = write_private_data_dir(os.path.join(workdir, "forks-%d" % forks), fleet, job_envvars(emulator.endpoint_url, ACCESS_KEY, SECRET_KEY))
    start = time.monotonic()
    runner = run_job(pdd, forks=forks, ident="bench", timeout=4 * 3600)
    seconds = time.monotonic() - start
    hosts = [h["host"] for h in fleet["hosts"]]
    ok = runner.status == "successful" and runner.rc == 0 and not runner.stats["failures"] and sorted(runner.stats["ok"]) == sorted(hosts)
    if not ok:
        with open(os.path.join(pdd, "artifacts", "bench", "stdout")) as f:
            tail = f.read()[-4000:]
        raise SystemExit("forks=%d: the job did not succeed (%s, rc %s)\n%s" % (forks, runner.status, runner.rc, tail))
    copies = sum(1 for c in emulator.calls if c["action"] == "CopyImage" and c["status"] < 400)
    return {"forks": forks, "seconds": round(seconds, 1), "hosts": len(hosts), "copy_image_calls": copies}


def _commit():
    import subprocess

    try:
        out = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, check=True).stdout.strip()
        return out + ("+changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    p.add_argument("--images", type=int, default=20)
    p.add_argument("--forks", type=int, nargs="+", default=[1, 8])
    p.add_argument("--copy-pending", type=float, default=3.0, help="seconds every copy stays pending")
    p.add_argument("--json", help="also write the results here")
    p.add_argument("--results", default=os.path.join(ROOT, "bench", "results", "fleet-forks.json"),
                   help="where the results go for docs/performance.md (default bench/results/fleet-forks.json; empty: nowhere)")
    args = p.parse_args(argv)

    import conftest  # noqa: F401  (links the working tree into .cache/test-collections)
    from orgshare_emulator import Emulator

    emulator = Emulator(port=0, copy_pending_seconds=args.copy_pending).start()
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="orgshare-fleet-bench-") as workdir:
            for forks in args.forks:
                r = run_once(emulator, args.images, forks, workdir)
                results.append(r)
                print("forks %2d: %6.1f s  (%d hosts, %d CopyImage calls)" % (forks, r["seconds"], r["hosts"], r["copy_image_calls"]), flush=True)
    finally:
        emulator.stop()

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
        "commit": _commit(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
        "results": results,
    }
    for path in (args.json, args.results):
        if path:
            with open(path, "w") as f:
                json.dump(report, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
