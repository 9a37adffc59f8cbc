#!/usr/bin/env bash
# Run the unit and module tests on the lowest versions the collection declares: the oldest
# ansible-core (2.17, on a Python it runs on: 3.11 or 3.12) with the lowest amazon.aws (unpacked
# from the PyPI `ansible` release that carries it by scripts/amazon-aws.sh); see scripts/tested-versions.sh.
# The newest ansible-core with the newest amazon.aws is the main pytest run of scripts/run-tests.sh.
# When no such Python exists it skips (successfully), except under CI (CI set), where it fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/tested-versions.sh
. scripts/tested-versions.sh
venv=${1:-.venv-compat}
spec=${2:-"ansible-core>=$CORE_OLDEST,<${CORE_OLDEST%.*}.$((${CORE_OLDEST#*.} + 1))"}
python=""
for n in python3.12 python3.11; do
  p=$(command -v "$n" 2>/dev/null) && "$p" -c 'import venv' >/dev/null 2>&1 && { python=$p; break; }
done
if [ -z "$python" ] && command -v pyenv >/dev/null 2>&1; then
  for v in 3.12 3.11; do
    for p in "$(pyenv root)"/versions/"$v".*/bin/python3; do
      [ -x "$p" ] && "$p" -c 'import venv' >/dev/null 2>&1 && { python=$p; break 2; }
    done
  done
fi
if [ -z "$python" ]; then
  if [ -n "${CI:-}" ]; then
    echo "compat: no Python 3.11-3.12 here, which ansible-core $CORE_OLDEST needs: the oldest declared versions cannot be tested" >&2
    exit 1
  fi
  echo "compat: no Python 3.11-3.12 here; skipped"
  exit 0
fi
REQUIREMENTS="$root/requirements-test.txt" scripts/bootstrap.sh "$venv" "$spec" "$python"
amazon_aws=$(scripts/amazon-aws.sh "$AMAZON_AWS_LOWEST_ANSIBLE" "$AMAZON_AWS_LOWEST" "$venv/bin/python")
# That amazon.aws must itself accept that ansible-core (its meta/runtime.yml requires_ansible)
"$venv/bin/python" - "$amazon_aws" <<'PY'
import json, os, sys, ansible, yaml
from packaging.specifiers import SpecifierSet
with open(os.path.join(sys.argv[1], "meta", "runtime.yml")) as f:
    requires = yaml.safe_load(f)["requires_ansible"]
with open(os.path.join(sys.argv[1], "MANIFEST.json")) as f:
    version = json.load(f)["collection_info"]["version"]
if not SpecifierSet(requires).contains(ansible.__version__):
    sys.exit("compat: amazon.aws %s requires ansible-core %s, not %s" % (version, requires, ansible.__version__))
print("compat: Python %d.%d, ansible-core %s, amazon.aws %s (which requires ansible-core %s)"
      % (sys.version_info[:2] + (ansible.__version__, version, requires)))
PY
# tests/conftest.py links this amazon.aws (in a collections tree of its own) instead of the bootstrap's
export ORGSHARE_AMAZON_AWS="$amazon_aws"
# The pure unit tests and every module's in-process tests (the playbook, fleet and benchmark tests,
# and the long concurrency / throttling runs, are covered on the newest ansible-core).
workers=${ORGSHARE_TEST_WORKERS:-$(n=$(nproc 2>/dev/null || echo 2); [ "$n" -gt 4 ] && n=4; echo "$n")}
"$venv/bin/python" -m pytest -q -p no:randomly -n "$workers" tests/unit \
  --deselect tests/unit/plugins/modules/test_kms_org_grant_concurrency.py -k "not throttl"
