#!/usr/bin/env bash
# Every test and linter, in one command (make test). Runs each stage even when an earlier one
# fails, prints a summary, and exits non-zero if any stage failed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
venv=${1:-.venv}
py="$venv/bin/python"
export ANSIBLE_COLLECTIONS_PATH="$root/.cache/collections"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
status=0
summary=()

stage() {
  local name=$1; shift
  local t0=$SECONDS
  echo "=== $name"
  if "$@"; then
    summary+=("PASS  $name ($((SECONDS - t0)) s)")
  else
    summary+=("FAIL  $name ($((SECONDS - t0)) s)")
    status=1
  fi
}

scripts/bootstrap.sh "$venv" || exit 1
# ansible-test's sanity tests skip a tool that is missing: shellcheck must be there (Debian package shellcheck)
if ! command -v shellcheck >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "=== installing shellcheck (apt-get), which ansible-test sanity uses"
    (apt-get install -y -q shellcheck >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q shellcheck >/dev/null 2>&1; }) || true
  fi
fi
command -v shellcheck >/dev/null 2>&1 || { echo "run-tests: shellcheck is missing (install the Debian package shellcheck): ansible-test sanity would skip it" >&2; exit 1; }
pyver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
core=$("$py" -c 'import ansible; print(ansible.__version__)')
echo "Python $pyver, ansible-core $core"

# Test workers (pytest-xdist): one per core, at most 4 (each runs its own emulator and spawns
# ansible-playbook processes); ORGSHARE_TEST_WORKERS overrides (0: no workers, in one process).
workers=${ORGSHARE_TEST_WORKERS:-$(n=$(nproc 2>/dev/null || echo 2); [ "$n" -gt 4 ] && n=4; echo "$n")}
amazon_aws=$("$py" -c 'import json, sys; print(json.load(open(sys.argv[1]))["collection_info"]["version"])' .cache/collections/ansible_collections/amazon/aws/MANIFEST.json)
stage "pytest (unit, module, emulator, playbook tests; ansible-core $core, amazon.aws $amazon_aws; $workers workers)" "$py" -m pytest -q -p no:randomly -n "$workers"
stage "ansible-test integration targets on the emulator (tests/integration/targets)" scripts/integration-targets.sh "$venv"
stage "ansible-test sanity (Python $pyver)" make --no-print-directory sanity VENV="$venv"
stage "ansible-lint --offline (production profile)" make --no-print-directory lint VENV="$venv"
stage "antsibull-docs lint-collection-docs --plugin-docs" make --no-print-directory docs-lint VENV="$venv"
stage "antsibull-changelog lint" make --no-print-directory changelog-lint VENV="$venv"
# shellcheck source=scripts/tested-versions.sh
. scripts/tested-versions.sh
stage "oldest ansible-core $CORE_OLDEST with the lowest amazon.aws $AMAZON_AWS_LOWEST (unit and module tests)" scripts/run-compat.sh .venv-compat

echo
echo "=== summary"
printf '%s\n' "${summary[@]}"
exit $status
