#!/usr/bin/env bash
# Run the unit and module tests against the oldest ansible-core we support, on a Python it
# runs on (3.10-3.12 for ansible-core 2.17). Skips (successfully) when no such Python exists.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=${1:-.venv-compat}
spec=${2:-'ansible-core>=2.17,<2.18'}
python=""
for n in python3.12 python3.11 python3.10; do
  p=$(command -v "$n" 2>/dev/null) && "$p" -c 'import venv' >/dev/null 2>&1 && { python=$p; break; }
done
if [ -z "$python" ] && command -v pyenv >/dev/null 2>&1; then
  for v in 3.12 3.11 3.10; do
    for p in "$(pyenv root)"/versions/"$v".*/bin/python3; do
      [ -x "$p" ] && "$p" -c 'import venv' >/dev/null 2>&1 && { python=$p; break 2; }
    done
  done
fi
if [ -z "$python" ]; then
  echo "compat: no Python 3.10-3.12 here; skipped"
  exit 0
fi
REQUIREMENTS="$root/requirements-test.txt" scripts/bootstrap.sh "$venv" "$spec" "$python"
"$venv/bin/python" -c 'import ansible, sys; print("compat: Python %d.%d, ansible-core %s" % (sys.version_info[:2] + (ansible.__version__,)))'
# The pure unit tests and every module's in-process tests (the playbook, fleet and benchmark tests,
# and the long concurrency / throttling runs, are covered on the newest ansible-core).
workers=${ORGSHARE_TEST_WORKERS:-$(n=$(nproc 2>/dev/null || echo 2); [ "$n" -gt 4 ] && n=4; echo "$n")}
"$venv/bin/python" -m pytest -q -p no:randomly -n "$workers" tests/unit \
  --deselect tests/unit/plugins/modules/test_kms_org_grant_concurrency.py -k "not throttl"
