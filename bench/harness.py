"""The benchmark harness: the emulator as a subprocess, AWS set-up through boto3, ansible-playbook
runs with a task timeline, and the accounting of the emulator's call record.

Not part of the released collection (galaxy.yml ignores bench/). Used by bench/run.py (and
bench/rerun_compare.py, bench/fleet_forks.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
EMULATOR_PATH = os.path.join(ROOT, "emulator")
for _path in (EMULATOR_PATH, os.path.join(ROOT, "scripts")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from collections_tree import link_collections  # noqa: E402

ACCESS_KEY = "AKIAORGSHAREBENCH001"
SECRET_KEY = "orgshare-bench-secret"
OWNER_ACCOUNT_ID = "123456789012"  # moto's default account: the caller's own
SOURCE_REGION = "us-east-1"
# Copy targets, in the order the scale runs take them (the source region is never a target).
TARGET_REGIONS = [
    "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1", "ap-northeast-1", "us-east-2", "ca-central-1", "sa-east-1",
    "eu-west-2", "eu-west-3", "eu-north-1", "ap-south-1", "ap-southeast-2", "ap-northeast-2", "us-west-1", "ap-northeast-3",
]
AUDIT_REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]
READ_PREFIXES = ("Describe", "Get", "List")
# A module process: a task result, or a loop item that ran, of a module of these collections.
MODULE_PREFIXES = ("orgshare.aws.", "amazon.aws.", "community.aws.")
ASYNC_STATUS = ("ansible.builtin.async_status", "async_status")
# The collection's own files: a local change to them changes what side 'ours' measures.
COLLECTION_DIRS = ("plugins", "roles", "playbooks", "meta")


def snapshot_tree(dest):
    """A copy of the working tree's files (tracked and untracked, not ignored) as they are now:
    other people edit the working tree, and every run of side 'ours' must see the same files."""
    names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, names):
        src = os.path.join(ROOT, name)
        if os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(dest, name)), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, name))
    return dest


def tree_state(tree=ROOT):
    """{commit, modified}: a git tree's commit and its local changes to the collection's files (other
    people edit the working tree during a run). commit None when ``tree`` is not a git checkout."""
    def git(*a):
        proc = subprocess.run(["git", "-C", tree, *a], capture_output=True, text=True, check=False)
        return proc.stdout.strip() if proc.returncode == 0 else None

    commit = git("rev-parse", "--short", "HEAD")
    modified = (git("status", "--porcelain", "--", *COLLECTION_DIRS) or "").splitlines() if commit else []
    return {"commit": commit, "modified": modified}


def describe_tree(state):
    """'commit abc1234' or 'commit abc1234 plus local changes to N file(s)'."""
    if not state or not state.get("commit"):
        return "a tree outside git"
    if state.get("modified"):
        return "commit %s plus local changes to %d file(s) of the collection" % (state["commit"], len(state["modified"]))
    return "commit %s" % state["commit"]


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def is_read(action):
    return action.startswith(READ_PREFIXES)


def processes(timeline):
    """Module processes of one run, from its bench_timeline events: {modules, async_status, by_task}.

    One per task result, or per loop item that ran, of a task whose action is an orgshare.aws,
    amazon.aws or community.aws module (skipped tasks and items do not count); results of
    ansible.builtin.async_status are processes too, counted apart (they are not modules of these
    collections). by_task: [[task, action, n]] of the modules."""
    action, out, by_task = None, {"modules": 0, "async_status": 0}, []
    for e in timeline:
        if e["event"] == "task_start":
            action = e["action"]
        elif e["event"] == "task_result" and e["status"] != "skipped" and action:
            n = e.get("items", 1)
            if action.startswith(MODULE_PREFIXES):
                out["modules"] += n
                by_task.append([e["name"], action, n])
            elif action in ASYNC_STATUS:
                out["async_status"] += n
    out["by_task"] = by_task
    return out


# ---- collections ---------------------------------------------------------------------------------
def collections_path(collection=None):
    """A collection tree whose orgshare/aws is a symlink to the working tree (as tests/conftest.py
    builds) or to ``collection`` (another orgshare.aws tree, e.g. an installed release), next to the
    amazon.aws and community.aws of the bootstrap."""
    base = os.path.join(ROOT, ".cache", "bench-collections" if collection is None else "bench-collections-other")
    return link_collections(base, collection)


# ---- the emulator ----------------------------------------------------------------------------------
class EmulatorProcess:
    """``python -m orgshare_emulator serve`` in a subprocess, driven through its control endpoint."""

    def __init__(self, workdir, copy_pending_seconds=0.0):
        self.workdir = workdir
        self.copy_pending_seconds = copy_pending_seconds
        self.proc = None
        self.endpoint_url = None
        self.latency_ms = 0.0

    def start(self, timeout=120):
        url_file = os.path.join(self.workdir, "emulator.url")
        if os.path.exists(url_file):
            os.unlink(url_file)
        env = dict(os.environ)
        env["PYTHONPATH"] = EMULATOR_PATH + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self._log = open(os.path.join(self.workdir, "emulator.log"), "w")
        cmd = [sys.executable, "-m", "orgshare_emulator", "serve", "--port", "0", "--url-file", url_file,
               "--copy-pending", str(self.copy_pending_seconds), "--latency-ms", "0"]
        self.proc = subprocess.Popen(cmd, env=env, stdout=self._log, stderr=subprocess.STDOUT, cwd=self.workdir)
        deadline = time.time() + timeout
        while not os.path.exists(url_file):
            if self.proc.poll() is not None:
                raise RuntimeError("the emulator exited with %s; see %s" % (self.proc.returncode, self._log.name))
            if time.time() > deadline:
                self.stop()
                raise RuntimeError("the emulator did not start within %d s" % timeout)
            time.sleep(0.1)
        with open(url_file) as f:
            self.endpoint_url = f.read().strip()
        self.control("health")
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def control(self, path, payload=None):
        from orgshare_emulator.server import control

        return control(self.endpoint_url, path, payload)

    def reset(self, copy_pending_seconds=None):
        """Forget every resource and call; latency 0 for the set-up."""
        if copy_pending_seconds is not None:
            self.copy_pending_seconds = copy_pending_seconds
        self.control("reset")
        self.configure(latency_ms=0, copy_pending_seconds=self.copy_pending_seconds)

    def configure(self, latency_ms=None, copy_pending_seconds=None):
        payload = {}
        if latency_ms is not None:
            payload["latency_ms"] = latency_ms
            self.latency_ms = latency_ms
        if copy_pending_seconds is not None:
            payload["copy_pending_seconds"] = copy_pending_seconds
            self.copy_pending_seconds = copy_pending_seconds
        return self.control("config", payload)

    def calls(self):
        return self.control("calls")["calls"]

    def clear_calls(self):
        self.control("calls/clear")

    def client(self, service, region=SOURCE_REGION):
        import boto3
        import botocore.config

        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 10}, max_pool_connections=20),
        )


# ---- AWS set-up (latency 0) -----------------------------------------------------------------------
def create_organization(emu):
    org = emu.client("organizations").create_organization(FeatureSet="ALL")["Organization"]
    return {"id": org["Id"], "arn": org["Arn"], "management_account_id": org["MasterAccountId"]}


def org_key_policy(org_id, account_id=OWNER_ACCOUNT_ID):
    """A key policy that lets the organization use the key (what both sides end up with)."""
    from orgshare_emulator.fixtures import default_key_policy

    policy = json.loads(default_key_policy(account_id))
    policy["Statement"].append(
        {
            "Sid": "AllowOrganizationToUseTheKey",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": org_id}},
        }
    )
    return policy


def setup_distribution(emu, targets, image_name="bench-golden-image"):
    """An organization, a customer managed key in the source region and in every target, and a
    source AMI (root and data volume) encrypted under the source region's key."""
    from orgshare_emulator.fixtures import create_key, make_image

    org = create_organization(emu)
    keys = {}
    for region in [SOURCE_REGION] + list(targets):
        keys[region] = create_key(emu.client("kms", region), description="golden images (%s)" % region)
    image_id = make_image(
        emu.client("ec2", SOURCE_REGION),
        image_name,
        volumes=[
            {"device_name": "/dev/xvda", "size": 8, "kms_key_id": keys[SOURCE_REGION]},
            {"device_name": "/dev/xvdb", "size": 20, "kms_key_id": keys[SOURCE_REGION]},
        ],
        tags={"team": "platform"},
    )
    return {"organization": org, "keys": keys, "source_image_id": image_id, "image_name": image_name, "targets": list(targets)}


def verify_distribution(emu, setup):
    """What both sides must have produced: one available copy per target region under that region's
    key, the source and every copy shared with the organization, every key granting it. Returns a
    list of problems (empty when all is right)."""
    org = setup["organization"]
    problems = []
    for region in [SOURCE_REGION] + setup["targets"]:
        ec2 = emu.client("ec2", region)
        if region == SOURCE_REGION:
            image_ids = [setup["source_image_id"]]
        else:
            images = ec2.describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": [setup["image_name"]]}])["Images"]
            if len(images) != 1:
                problems.append("%s: %d copies (expected 1)" % (region, len(images)))
                continue
            image = images[0]
            if image["State"] != "available":
                problems.append("%s: copy %s is %s" % (region, image["ImageId"], image["State"]))
            snapshot_ids = [m["Ebs"]["SnapshotId"] for m in image.get("BlockDeviceMappings", []) if m.get("Ebs", {}).get("SnapshotId")]
            if snapshot_ids:
                for snap in ec2.describe_snapshots(SnapshotIds=snapshot_ids)["Snapshots"]:
                    if snap.get("KmsKeyId") != setup["keys"][region]:
                        problems.append("%s: snapshot %s under %s, not the region's key" % (region, snap["SnapshotId"], snap.get("KmsKeyId")))
            image_ids = [image["ImageId"]]
        for image_id in image_ids:
            perms = ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission").get("LaunchPermissions", [])
            if not any(p.get("OrganizationArn") == org["arn"] for p in perms):
                problems.append("%s: %s not shared with the organization" % (region, image_id))
        policy = emu.client("kms", region).get_key_policy(KeyId=setup["keys"][region], PolicyName="default")["Policy"]
        if org["id"] not in policy:
            problems.append("%s: the key policy does not name %s" % (region, org["id"]))
    return problems


def setup_audit(emu, regions, n_images, workers=None):
    """``n_images`` AMIs spread over ``regions``, each encrypted under its region's customer managed
    key (whose policy grants the organization); every other AMI shared with the organization."""
    from orgshare_emulator.fixtures import create_key, make_image

    org = create_organization(emu)
    per_region = {r: n_images // len(regions) + (1 if i < n_images % len(regions) else 0) for i, r in enumerate(regions)}

    def build(region):
        ec2, kms = emu.client("ec2", region), emu.client("kms", region)
        key = create_key(kms, description="golden images (%s)" % region, policy=org_key_policy(org["id"]))
        for i in range(per_region[region]):
            image_id = make_image(ec2, "bench-audit-%s-%04d" % (region, i), volumes=[{"device_name": "/dev/xvda", "size": 8, "kms_key_id": key}],
                                  tags={"team": "platform", "index": str(i)})
            if i % 2 == 0:
                ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"OrganizationArn": org["arn"]}]})
        return region, key

    with ThreadPoolExecutor(workers or len(regions)) as pool:
        keys = dict(pool.map(build, regions))
    return {"organization": org, "keys": keys, "regions": list(regions), "images": n_images}


# ---- ansible-playbook -------------------------------------------------------------------------------
class PlaybookRunner:
    """ansible-playbook against one emulator. ``collections``: the ANSIBLE_COLLECTIONS_PATH to use
    (a tree of link_collections); without it, collections_path(``collection``)."""

    def __init__(self, emu, workdir, timeout=7200, collection=None, collections=None):
        self.emu = emu
        self.workdir = workdir
        self.timeout = timeout
        self.collections = collections or collections_path(collection)
        self.playbook_bin = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
        self.local_temp = tempfile.mkdtemp(prefix="orgshare-bench-ansible-")

    def env(self, timeline):
        env = dict(os.environ)
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
            env.pop(name, None)
        missing = os.path.join(self.workdir, "no-aws-config")
        env.update(
            AWS_ACCESS_KEY_ID=ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY=SECRET_KEY,
            AWS_DEFAULT_REGION=SOURCE_REGION,
            AWS_REGION=SOURCE_REGION,
            # Every boto3 client goes to the emulator, even one a module builds without endpoint_url.
            AWS_ENDPOINT_URL=self.emu.endpoint_url,
            AWS_URL=self.emu.endpoint_url,
            AWS_CONFIG_FILE=missing,
            AWS_SHARED_CREDENTIALS_FILE=missing,
            ANSIBLE_COLLECTIONS_PATH=self.collections,
            ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
            ANSIBLE_CALLBACK_PLUGINS=os.path.join(BENCH, "callback_plugins"),
            ANSIBLE_CALLBACKS_ENABLED="bench_timeline",
            ANSIBLE_LOCAL_TEMP=self.local_temp,
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
            ANSIBLE_HOST_KEY_CHECKING="false",
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_FORCE_COLOR="0",
            ANSIBLE_RETRY_FILES_ENABLED="false",
            BENCH_TIMELINE_FILE=timeline,
        )
        return env

    def run(self, label, playbook, extra_vars):
        """Run one playbook; return {wall, rc, ok, failure, timeline, changed_tasks, images}."""
        safe = label.replace(" ", "_").replace("/", "_")
        timeline = os.path.join(self.workdir, safe + ".timeline.jsonl")
        vars_file = os.path.join(self.workdir, safe + ".vars.json")
        for path in (timeline,):
            if os.path.exists(path):
                os.unlink(path)
        with open(vars_file, "w") as f:
            json.dump(extra_vars, f, indent=2, sort_keys=True)
        cmd = [self.playbook_bin, "-i", "localhost,", "-c", "local", playbook, "-e", "@" + vars_file]
        load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        t0 = time.time()
        try:
            proc = subprocess.run(cmd, env=self.env(timeline), capture_output=True, text=True, timeout=self.timeout, cwd=self.workdir, check=False)
            rc, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as e:
            rc, stdout, stderr = -1, e.stdout or "", (e.stderr or "") + "\ntimed out after %d s" % self.timeout
            if isinstance(stdout, bytes):
                stdout = stdout.decode("utf-8", "replace")
            if isinstance(stderr, bytes):
                stderr = stderr.decode("utf-8", "replace")
        wall = time.time() - t0
        with open(os.path.join(self.workdir, safe + ".log"), "w") as f:
            f.write("$ %s\n\n%s\n--- stderr\n%s" % (" ".join(cmd), stdout, stderr))
        events = []
        if os.path.exists(timeline):
            with open(timeline) as f:
                events = [json.loads(line) for line in f if line.strip()]
        results = [e for e in events if e["event"] == "task_result"]
        failure = None
        if rc != 0:
            failed = [e for e in results if e["status"] != "ok"]
            if failed:
                task = failed[-1]["name"]
                items = [e["msg"] for e in events if e["event"] == "item_failed" and e["name"] == task]
                failure = "task %r: %s" % (task, items[0] if items else failed[-1]["msg"])
                if len(items) > 1:
                    failure += " (and %d more item(s))" % (len(items) - 1)
            else:
                tail = (stderr.strip() or stdout.strip()).splitlines()[-5:]
                failure = "ansible-playbook exited %d: %s" % (rc, " | ".join(tail))
        return {
            "label": label,
            "wall": wall,
            "tasks": task_times(events, t0, t0 + wall),
            "rc": rc,
            "ok": rc == 0,
            "failure": failure,
            "timeline": events,
            "changed_tasks": sorted({e["name"] for e in results if e.get("changed")}),
            "images": sum(e.get("images", 0) for e in results),
            "t0": t0,
            # 1-minute load average before the run: the machine is shared, so a slow run can be told apart
            "load_before": load_before,
        }

    def cleanup(self):
        shutil.rmtree(self.local_temp, ignore_errors=True)


def task_times(events, t0, t_end):
    """[{name, action, seconds, items}]: how long each task ran (until the next one started), and
    the time before the first task (ansible-playbook's start-up) as the first entry."""
    starts = [e for e in events if e["event"] == "task_start"]
    results = [e for e in events if e["event"] == "task_result"]
    ends = [e["time"] for e in events if e["event"] == "end"]
    out = [{"name": "(ansible-playbook start-up)", "action": "(start-up)", "seconds": (starts[0]["time"] if starts else t_end) - t0, "items": 0}]
    for i, e in enumerate(starts):
        nxt = starts[i + 1]["time"] if i + 1 < len(starts) else (ends[0] if ends else t_end)
        mine = [r for r in results if r["name"] == e["name"] and e["time"] <= r["time"] <= nxt + 1e-3]
        out.append({"name": e["name"], "action": e["action"], "seconds": nxt - e["time"], "items": mine[-1].get("items", 1) if mine else 0})
    if ends:
        out.append({"name": "(after the last task)", "action": "(shut-down)", "seconds": t_end - ends[0], "items": 0})
    return out


# ---- the call record ----------------------------------------------------------------------------
def attribute_calls(calls, timeline):
    """Give each call the task (and module) that was running when it arrived: tasks of one host
    under the linear strategy run one after the other, so the last task started before a call made it.

    A call from an orgshare.aws module carries the module's name in its user agent (``agent`` in the
    call record): that names the module even when it ran in the background (``async``) while later
    tasks started. Other modules' calls (the anchor's) are placed by time alone."""
    starts = sorted((e["time"], e["name"], e["action"]) for e in timeline if e["event"] == "task_start")
    out = []
    for call in sorted(calls, key=lambda c: c["time"]):
        task, module = "(outside any task)", "(outside any task)"
        for t, name, action in starts:
            if t <= call["time"]:
                task, module = name, action
            else:
                break
        if call.get("agent"):
            module = "orgshare.aws." + call["agent"]
        out.append(dict(call, task=task, module=module))
    return out


def summarize_calls(calls, timeline=None):
    """Counts of reads (Describe/Get/List) and writes, in total, per action and per module and region."""
    attributed = attribute_calls(calls, timeline or [])
    summary = {"total": len(calls), "reads": 0, "writes": 0, "errors": 0, "by_action": {}, "by_module": {}, "by_region": {}, "write_actions": {}}
    for c in attributed:
        kind = "reads" if is_read(c["action"]) else "writes"
        summary[kind] += 1
        if c.get("status", 0) >= 400:
            summary["errors"] += 1
        name = "%s:%s" % (c["service"], c["action"])
        summary["by_action"][name] = summary["by_action"].get(name, 0) + 1
        if kind == "writes":
            summary["write_actions"][name] = summary["write_actions"].get(name, 0) + 1
        mod = summary["by_module"].setdefault(c["module"], {})
        cell = mod.setdefault(c["region"], {"reads": 0, "writes": 0})
        cell[kind] += 1
        reg = summary["by_region"].setdefault(c["region"], {"reads": 0, "writes": 0})
        reg[kind] += 1
    return summary
