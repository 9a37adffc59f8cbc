#!/usr/bin/env bash
# The ansible-test integration targets (tests/integration/targets/) of this collection.
#
#   scripts/integration-targets.sh [VENV] [--cloud-config FILE] [TARGET ...] [-- ANSIBLE_TEST_ARGS ...]
#
# Without --cloud-config (what make test runs): starts the AWS emulator (python -m orgshare_emulator serve)
# with a seeded organization, writes tests/integration/cloud-config-aws.ini into the collection copy that
# scripts/sync-collection.sh makes (.cache/collections/ansible_collections/orgshare/aws), pointing the targets
# at the emulator (aws_endpoint_url) and naming the organization and an OU of the seed, and runs
# `ansible-test integration` there for every target (or the TARGETs given), then stops the emulator.
# With --cloud-config FILE: a real AWS account. FILE (see tests/integration/cloud-config-aws.ini.template) is
# copied into the collection copy for the run and removed afterwards; no emulator is started.
# See docs/integration-tests.md.
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
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
venv=$(cd "$venv" && pwd)
py="$venv/bin/python"
copy="$root/.cache/collections/ansible_collections/orgshare/aws"
export ANSIBLE_COLLECTIONS_PATH="$root/.cache/collections"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
export PATH="$venv/bin:$PATH"

scripts/sync-collection.sh
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
