#!/usr/bin/env bash
# The ansible-test integration targets of this collection (tests/integration/targets/; docs/integration-tests.md).
#
#   scripts/integration-targets.sh [VENV] [--cloud-config FILE] [--jobs N] [TARGET ...] [-- ANSIBLE_TEST_ARGS ...]
#
# Without --cloud-config (make test's stage): starts the AWS emulator (python -m orgshare_emulator serve) with a
# seeded organization and writes tests/integration/cloud-config-aws.ini for it: aws_endpoint_url, the seed's
# organization, one of its OUs and two member accounts outside that OU. With --cloud-config FILE: a real AWS account;
# FILE (see tests/integration/cloud-config-aws.ini.template) is the cloud config, no emulator is started.
# Then runs `ansible-test integration --local` for every target (or the TARGETs given), N at a time (--jobs, default
# ORGSHARE_INTEGRATION_JOBS or 2; 1 on a single core), each in a collection copy of its own:
# .cache/integration/<job>/ansible_collections/orgshare/aws (the files git knows, as scripts/sync-collection.sh copies
# them) next to links to the bootstrap's amazon.aws and community.aws. (The copy of sync-collection.sh is synced again
# by every make sanity / lint, which would delete the cloud config, a file git does not know, in the middle of a run;
# and two ansible-test runs must not share one tests/output.) Every cloud config is deleted when the run ends.
# A target's log is printed when it ends (in full when it failed) and kept in .cache/integration/logs/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=.venv
case "${1:-}" in
  ''|-*) ;;
  *) [ -x "$1/bin/python" ] && { venv=$1; shift; } ;;
esac
cloud_config=""
jobs=${ORGSHARE_INTEGRATION_JOBS:-$([ "$(nproc 2>/dev/null || echo 2)" -gt 1 ] && echo 2 || echo 1)}
targets=()
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --cloud-config) cloud_config=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ -z "$cloud_config" ] || [ -f "$cloud_config" ] || { echo "integration-targets: no such file: $cloud_config" >&2; exit 1; }
venv=$(cd "$venv" && pwd)
py="$venv/bin/python"
base="$root/.cache/integration"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
export PATH="$venv/bin:$PATH"
unset ANSIBLE_COLLECTIONS_PATH  # ansible-test sets it to the copy's collection root

# The copies: tracked and untracked-but-not-ignored files; files gone from the tree are removed; tests/output is kept.
copy_of() { echo "$base/job-$1/ansible_collections/orgshare/aws"; }
for job in $(seq "$jobs"); do
  copy=$(copy_of "$job")
  mkdir -p "$copy"
  "$py" - "$root" "$copy" <<'PY'
import filecmp, os, shutil, subprocess, sys
root, dest = sys.argv[1:]
listed = subprocess.run(["git", "ls-files", "-z", "-c", "-o", "--exclude-standard"], cwd=root,
                        check=True, capture_output=True).stdout.decode().split("\0")
files = {f for f in listed if f and os.path.isfile(os.path.join(root, f))}
for f in files:
    src, dst = os.path.join(root, f), os.path.join(dest, f)
    if not (os.path.exists(dst) and filecmp.cmp(src, dst, shallow=False)):
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)
output = os.path.join("tests", "output")
for base, dirs, names in os.walk(dest):
    rel = os.path.relpath(base, dest)
    if rel.split(os.sep)[0] == ".git" or rel == output or rel.startswith(output + os.sep):
        dirs[:] = []
        continue
    for n in names:
        if os.path.normpath(os.path.join(rel, n)) not in files:
            os.unlink(os.path.join(base, n))
PY
  # a repository of its own (no commits), so that ansible-test lists the copy's files
  [ -d "$copy/.git" ] || git -C "$copy" init -q
  for dep in amazon/aws community/aws; do
    [ -d "$root/.cache/collections/ansible_collections/$dep" ] || { echo "integration-targets: no $dep in .cache/collections (make venv)" >&2; exit 1; }
    mkdir -p "$base/job-$job/ansible_collections/${dep%/*}"
    ln -sfn "$root/.cache/collections/ansible_collections/$dep" "$base/job-$job/ansible_collections/$dep"
  done
done

work=$(mktemp -d "${TMPDIR:-/tmp}/orgshare-integration.XXXXXX")
emulator_pid=""
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  for job in $(seq "$jobs"); do rm -f "$(copy_of "$job")/tests/integration/cloud-config-aws.ini"; done
  if [ -n "$emulator_pid" ]; then
    kill "$emulator_pid" 2>/dev/null || true
    wait "$emulator_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

ini="$work/cloud-config-aws.ini"
if [ -n "$cloud_config" ]; then
  cp "$cloud_config" "$ini"
else
  region=us-east-1
  second_region=us-west-2
  url_file="$work/emulator.url"
  PYTHONPATH="$root/emulator" "$py" -m orgshare_emulator serve --port 0 --seed --seed-regions "$region" \
    --copy-pending 1 --url-file "$url_file" >"$work/emulator.log" 2>&1 &
  emulator_pid=$!
  for _ in $(seq 600); do
    [ -s "$url_file" ] && break
    kill -0 "$emulator_pid" 2>/dev/null || { cat "$work/emulator.log" >&2; echo "integration-targets: the emulator did not start" >&2; exit 1; }
    sleep 0.1
  done
  [ -s "$url_file" ] || { echo "integration-targets: the emulator did not start within 60 s" >&2; exit 1; }
  # The emulator answers any access key as its account 123456789012, the management account of the seed.
  "$py" - "$url_file" "$region" "$second_region" "$ini" <<'PY'
import json, sys
url_file, region, second_region, ini = sys.argv[1:]
url = open(url_file).read().strip()
seed = json.load(open(url_file + ".seed.json"))
ou = seed["ous"]["Workloads"]
# two member accounts outside that OU (sandbox-1 and security): the OU's share does not reach them
members = sorted(seed["accounts"][name] for name, ou_name in seed["account_ous"].items() if ou_name in (None, "Sandbox"))
with open(ini, "w") as f:
    f.write("""# Written by scripts/integration-targets.sh for the AWS emulator; deleted after the run.
[default]
aws_access_key: AKIAORGSHAREINTEGRATE
aws_secret_key: orgshare-integration-not-a-secret
aws_region: {region}
aws_endpoint_url: {url}
orgshare_second_region: {second_region}
orgshare_organization_arn: {org}
orgshare_ou_arn: {ou}
orgshare_account_ids: {accounts}
""".format(region=region, url=url, second_region=second_region, org=seed["organization"]["arn"], ou=ou["arn"],
           accounts=",".join(members[:2])))
PY
fi
for job in $(seq "$jobs"); do
  cp "$ini" "$(copy_of "$job")/tests/integration/cloud-config-aws.ini"
  chmod 600 "$(copy_of "$job")/tests/integration/cloud-config-aws.ini"
done

pyver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
mkdir -p "$base/logs"
# --local: the targets' modules run on this venv's Python, which has boto3 and botocore. (--venv builds a virtual
# environment with ansible-test's own requirements only: the modules then fail for want of boto3, unless --requirements
# installs tests/integration/requirements.txt from the package index into every fresh copy; docs/integration-tests.md.)
# HOME is a scratch directory of each job: no ~/.aws (profiles, credentials) of the machine reaches the modules, only
# the cloud config, and ansible-test, which refuses to run --local while ~/.aws exists, runs. (One per job: ansible-test
# makes a key pair in ~/.ansible/test when it starts, which two at once would both make.)
status=0
"$py" - "$base" "$work" "$jobs" "$venv/bin/ansible-test" "$pyver" "${targets[*]}" "${extra[@]}" <<'PY' || status=$?
"""Run each target with its own ansible-test, JOBS at a time, each job in its own collection copy."""
import os, queue, subprocess, sys, threading, time

base, work, jobs, ansible_test, pyver, wanted = sys.argv[1:7]
extra = sys.argv[7:]
jobs = max(1, int(jobs))
copy = os.path.join(base, "job-1", "ansible_collections", "orgshare", "aws")
targets_dir = os.path.join(copy, "tests", "integration", "targets")
found = sorted(t for t in os.listdir(targets_dir)
               if not t.startswith(("setup_", "prepare_")) and os.path.isfile(os.path.join(targets_dir, t, "aliases")))
targets = wanted.split() or found
unknown = [t for t in targets if t not in found]
if unknown:
    sys.exit("integration-targets: no such target: %s (targets: %s)" % (", ".join(unknown), ", ".join(found)))
# the longest first (as measured on the emulator), so that the jobs end at about the same time
LONGEST_FIRST = ["role_ami_distribute", "ami_deprecation", "ami_copy", "ami_org_share", "ami_ssm_parameter",
                 "ami_share_info", "kms_org_grant"]
targets.sort(key=lambda t: LONGEST_FIRST.index(t) if t in LONGEST_FIRST else -1)
todo = queue.Queue()
for t in targets:
    todo.put(t)
results, lock, t0 = [], threading.Lock(), time.time()


def worker(job):
    cwd = os.path.join(base, "job-%d" % job, "ansible_collections", "orgshare", "aws")
    home = os.path.join(work, "home-%d" % job)
    os.makedirs(home, exist_ok=True)
    env = dict(os.environ, HOME=home)
    while True:
        try:
            target = todo.get_nowait()
        except queue.Empty:
            return
        log = os.path.join(base, "logs", target + ".log")
        start = time.time()
        with open(log, "w") as out:
            rc = subprocess.call([ansible_test, "integration", "--local", "--python", pyver, "--color", "no"] + extra + [target],
                                 cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        took = time.time() - start
        with open(log) as f:
            text = f.read()
        with lock:
            results.append((target, rc, took))
            print("=== %s: %s in %.0f s (job %d; log %s)" % (target, "PASS" if rc == 0 else "FAIL", took, job,
                                                           os.path.relpath(log, os.path.dirname(os.path.dirname(base)))))
            lines = text.splitlines()
            recap = [i for i, line in enumerate(lines) if line.startswith("PLAY RECAP")]
            shown = lines if rc != 0 or not recap else lines[recap[-1]:recap[-1] + 2]
            print("\n".join(shown), flush=True)


threads = [threading.Thread(target=worker, args=(job,)) for job in range(1, min(jobs, len(targets)) + 1)]
for th in threads:
    th.start()
for th in threads:
    th.join()
failed = [t for t, rc, _ in results if rc != 0]
print("=== %d target(s) in %.0f s, %d job(s): %s" % (len(results), time.time() - t0, jobs,
                                                     "all passed" if not failed else "FAILED: " + ", ".join(failed)))
sys.exit(1 if failed else 0)
PY
if [ -z "$cloud_config" ]; then
  # The AWS actions the targets called (the emulator's call record, failed calls included): each must be in the IAM
  # policy of docs/integration-tests.md, which a real account's test role needs.
  "$py" - "$(cat "$url_file")" "$base/logs/aws-actions.txt" "$root/docs/integration-tests.md" <<'PY' || status=1
import json, re, sys, urllib.request
url, out, doc = sys.argv[1:]
with urllib.request.urlopen(urllib.request.Request(url + "/_orgshare/calls", data=b"{}", method="POST"), timeout=60) as r:
    calls = json.load(r)["calls"]
called = sorted({"%s:%s" % (c["service"], c["action"]) for c in calls})
with open(out, "w") as f:
    f.write("\n".join(called) + "\n")
text = open(doc).read()
block = re.search(r"<!-- test-policy -->\s*```json\n(.*?)```", text, re.S)
if not block:
    sys.exit("integration-targets: no policy (<!-- test-policy --> then a json block) in %s" % doc)
allowed = set()
for statement in json.loads(block.group(1))["Statement"]:
    actions = statement["Action"]
    allowed.update([actions] if isinstance(actions, str) else actions)
missing = [a for a in called if a not in allowed]
if missing:
    sys.exit("integration-targets: the targets called %s, which the IAM policy of docs/integration-tests.md does not "
             "allow; add them there (all actions called: %s)" % (", ".join(missing), out))
PY
fi
exit $status
