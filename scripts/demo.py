"""The main job on the built-in AWS emulator (make demo).

Starts the emulator with a seeded organization (nested OUs, member accounts), an AMI encrypted with a
customer managed key and keys in three regions; runs the orgshare.aws.distribute playbook to the three
regions for one OU and one account; runs orgshare.aws.audit; prints where the report is; stops the
emulator. The same playbooks run against real AWS without the endpoint setting.
"""

import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.dirname(sys.executable)
REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]


def say(msg):
    print("\n\033[1m==> %s\033[0m" % msg if sys.stdout.isatty() else "\n==> %s" % msg, flush=True)


def start_emulator(workdir):
    url_file = os.path.join(workdir, "emulator.url")
    # a previous run's files would be read as this emulator's (a stale URL): start without them
    for stale in (url_file, url_file + ".seed.json"):
        if os.path.exists(stale):
            os.remove(stale)
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "emulator"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "orgshare_emulator", "serve", "--port", "0", "--seed",
         "--seed-regions", ",".join(REGIONS), "--copy-pending", "3", "--url-file", url_file],
        env=env, stdout=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while not os.path.exists(url_file):
        if proc.poll() is not None or time.time() > deadline:
            raise SystemExit("the emulator did not start")
        time.sleep(0.1)
    with open(url_file) as f:
        url = f.read().strip()
    with open(url_file + ".seed.json") as f:
        seed = json.load(f)
    return proc, url, seed


def main():
    subprocess.run([os.path.join(ROOT, "scripts", "sync-collection.sh")], check=True)
    workdir = os.path.join(ROOT, ".cache", "demo")
    os.makedirs(workdir, exist_ok=True)
    say("Starting the AWS emulator with a seeded organization, keys in %s and an encrypted AMI" % ", ".join(REGIONS))
    proc, url, seed = start_emulator(workdir)
    try:
        source_region = REGIONS[0]
        ou_name = "Prod" if "Prod" in seed["ous"] else sorted(seed["ous"])[0]
        # an account outside that OU, so that both kinds of principal show
        outside = [n for n in sorted(seed["accounts"]) if seed.get("account_ous", {}).get(n) != ou_name]
        account_name = (outside or sorted(seed["accounts"]))[0]
        extra = {
            "ami_distribute_source_image_id": seed["images"]["encrypted"],
            "ami_distribute_source_region": source_region,
            "ami_distribute_regions": [
                {"region": r, "kms_key_id": seed["keys"][r]} for r in REGIONS if r != source_region
            ],
            "ami_distribute_organizational_unit_arns": [seed["ous"][ou_name]["arn"]],
            "ami_distribute_account_ids": [seed["accounts"][account_name]],
            "ami_distribute_aws_endpoint_url": url,
        }
        vars_file = os.path.join(workdir, "distribute-vars.json")
        with open(vars_file, "w") as f:
            json.dump(extra, f, indent=2)
        env = dict(
            os.environ,
            ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".cache", "collections"),
            ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
            ANSIBLE_NOCOLOR="1" if not sys.stdout.isatty() else "0",
            AWS_ACCESS_KEY_ID="AKIAORGSHAREDEMO0001",
            AWS_SECRET_ACCESS_KEY="orgshare-demo-not-a-secret",
            AWS_DEFAULT_REGION=source_region,
        )
        playbook = os.path.join(VENV_BIN, "ansible-playbook")
        say("Distributing %s from %s to %s for OU %s and account %s" % (
            extra["ami_distribute_source_image_id"], source_region, ", ".join(REGIONS[1:]), ou_name,
            extra["ami_distribute_account_ids"][0]))
        subprocess.run([playbook, "-i", "localhost,", "-c", "local", "orgshare.aws.distribute", "-e", "@" + vars_file],
                       env=env, check=True)
        say("Running it again: nothing changes")
        subprocess.run([playbook, "-i", "localhost,", "-c", "local", "orgshare.aws.distribute", "-e", "@" + vars_file],
                       env=env, check=True)
        report = os.path.join(workdir, "ami-share-audit")
        say("Auditing who may launch what in %s" % ", ".join(REGIONS))
        subprocess.run([playbook, "-i", "localhost,", "-c", "local", "orgshare.aws.audit",
                        "-e", json.dumps({"audit_regions": REGIONS, "audit_report": report,
                                          "audit_aws_endpoint_url": url})],
                       env=env, check=True)
        say("Audit report: %s.md (and .json)" % os.path.relpath(report, ROOT))
        with open(report + ".md") as f:
            print(f.read())
    finally:
        proc.terminate()
        proc.wait(10)
        say("Emulator stopped")


if __name__ == "__main__":
    main()
