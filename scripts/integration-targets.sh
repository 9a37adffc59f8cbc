#!/usr/bin/env bash
# The ansible-test integration targets (tests/integration/targets/) of this collection.
#
#   scripts/integration-targets.sh [VENV] [--cloud-config FILE] [TARGET ...] [-- ANSIBLE_TEST_ARGS ...]
#
# Without --cloud-config (what make test runs): starts the AWS emulator (python -m orgshare_emulator serve) with a
# seeded organization, writes tests/integration/cloud-config-aws.ini pointing the targets at the emulator
# (aws_endpoint_url) and naming the seed's organization, an OU and two accounts outside it, and runs
# `ansible-test integration` for every target (or the TARGETs given), then stops the emulator.
# With --cloud-config FILE: a real AWS account. FILE (see tests/integration/cloud-config-aws.ini.template) is used
# as the cloud config for the run and removed from the copy afterwards; no emulator is started.
# The run uses a copy of its own, .cache/integration/ansible_collections/orgshare/aws (the files git knows, as
# scripts/sync-collection.sh copies them), next to links to the bootstrap's amazon.aws and community.aws: the shared
# copy of sync-collection.sh is synced again by every make sanity / lint, which would remove the cloud config
# (a file git does not know) in the middle of a run. See docs/integration-tests.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=.venv
case "${1:-}" in
  ''|-*) ;;
  *) [ -x "$1/bin/python" ] && { venv=$1; shift; } ;;
esac
cloud_config=""
targets=()
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --cloud-config) cloud_config=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
venv=$(cd "$venv" && pwd)
py="$venv/bin/python"
collections="$root/.cache/integration"
copy="$collections/ansible_collections/orgshare/aws"
export ANSIBLE_COLLECTIONS_PATH="$collections"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
export PATH="$venv/bin:$PATH"

# The copy: tracked and untracked-but-not-ignored files; files gone from the tree are removed; tests/output is kept.
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
for base, dirs, names in os.walk(dest):
    rel = os.path.relpath(base, dest)
    if rel.split(os.sep)[0] == ".git" or rel == os.path.join("tests", "output") or rel.startswith(os.path.join("tests", "output", "")):
        dirs[:] = []
        continue
    for n in names:
        if os.path.normpath(os.path.join(rel, n)) not in files:
            os.unlink(os.path.join(base, n))
PY
[ -d "$copy/.git" ] || git -C "$copy" init -q
for dep in amazon/aws community/aws; do
  [ -d "$root/.cache/collections/ansible_collections/$dep" ] || { echo "integration-targets: no $dep in .cache/collections (make venv)" >&2; exit 1; }
  mkdir -p "$collections/ansible_collections/${dep%/*}"
  ln -sfn "$root/.cache/collections/ansible_collections/$dep" "$collections/ansible_collections/$dep"
done
ini="$copy/tests/integration/cloud-config-aws.ini"
work=$(mktemp -d "${TMPDIR:-/tmp}/orgshare-integration.XXXXXX")
emulator_pid=""
cleanup() {
  rm -f "$ini"
  if [ -n "$emulator_pid" ]; then
    kill "$emulator_pid" 2>/dev/null || true
    wait "$emulator_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ -n "$cloud_config" ]; then
  [ -f "$cloud_config" ] || { echo "integration-targets: no such file: $cloud_config" >&2; exit 1; }
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
  # The emulator answers any access key as its account 123456789012, the seed's management account.
  "$py" - "$url_file" "$region" "$second_region" "$ini" <<'PY'
import json, sys
url_file, region, second_region, ini = sys.argv[1:]
url = open(url_file).read().strip()
seed = json.load(open(url_file + ".seed.json"))
ou = seed["ous"]["Workloads"]
# two member accounts outside that OU (sandbox-1 and security): the OU's share does not reach them
members = sorted(seed["accounts"][name] for name, ou_name in seed["account_ous"].items() if ou_name in (None, "Sandbox"))
with open(ini, "w") as f:
    f.write("""# Written by scripts/integration-targets.sh for the AWS emulator; removed after the run.
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

scripts/ansible-test-offline.sh "$venv" >/dev/null
pyver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
cd "$copy"
# --local: the targets' modules run on this venv's Python, which has boto3 and botocore (ansible-test's --venv
# would build a virtual environment without them and install them from the package index on every fresh copy).
"$venv/bin/ansible-test" integration --local --python "$pyver" --color no "${targets[@]}" "${extra[@]}"
