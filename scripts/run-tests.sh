#!/usr/bin/env bash
# Every test and linter, in one command (make test). Runs each stage even when an earlier one
# fails, prints a summary, and exits non-zero if any stage failed.
#
# Two lanes at once (on a machine with more than one core): the pytest stage in the foreground, its
# output streamed; and, in the background, the stages that share no file with it, one after the other
# (ansible-test integration targets, each in a collection copy of its own; sanity, ansible-lint,
# antsibull-docs and the changelog on the copy of scripts/sync-collection.sh; the compat run in its own
# venv and collections tree), each stage's output printed when the foreground lane is done.
# ORGSHARE_TEST_LANES=1 runs every stage in the foreground, one after the other.
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

# A stage of the background lane: its output to a log of its own, its summary line to the lane's file.
lane_dir=""
lane_logs=0
lane_stage() {
  local name=$1; shift
  local t0=$SECONDS log
  log=$(printf '%s/%02d.log' "$lane_dir" "$lane_logs")
  lane_logs=$((lane_logs + 1))
  echo "=== $name (background lane)" >"$log"
  if "$@" >>"$log" 2>&1; then
    echo "PASS  $name ($((SECONDS - t0)) s, background lane)" >>"$lane_dir/summary"
  else
    echo "FAIL  $name ($((SECONDS - t0)) s, background lane)" >>"$lane_dir/summary"
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
# shellcheck source=scripts/tested-versions.sh
. scripts/tested-versions.sh
# --dist worksteal: a worker that runs out of tests takes queued ones from the other, so that the suite does not end
# with one worker idle while the other still holds several playbook tests
pytest_stage=("pytest (unit, module, emulator, playbook tests; ansible-core $core, amazon.aws $amazon_aws; $workers workers)" "$py" -m pytest -q -p no:randomly)
[ "$workers" = 0 ] || pytest_stage+=(-n "$workers" --dist worksteal)
# A stage in the background lane when there is one (lane_dir set), else in the foreground
run_stage() {
  if [ -n "$lane_dir" ]; then
    lane_stage "$@"
  else
    stage "$@"
  fi
}
other_stages() {
  run_stage "ansible-test integration targets on the emulator (tests/integration/targets)" scripts/integration-targets.sh "$venv"
  run_stage "ansible-test sanity (Python $pyver)" make --no-print-directory sanity VENV="$venv"
  run_stage "ansible-lint --offline (production profile)" make --no-print-directory lint VENV="$venv"
  run_stage "antsibull-docs lint-collection-docs --plugin-docs" make --no-print-directory docs-lint VENV="$venv"
  run_stage "antsibull-changelog lint" make --no-print-directory changelog-lint VENV="$venv"
  run_stage "oldest ansible-core $CORE_OLDEST with the lowest amazon.aws $AMAZON_AWS_LOWEST (unit and module tests)" scripts/run-compat.sh .venv-compat
}
lanes=${ORGSHARE_TEST_LANES:-$([ "$(nproc 2>/dev/null || echo 1)" -gt 1 ] && echo 2 || echo 1)}
if [ "$lanes" -gt 1 ]; then
  lane_dir=$(mktemp -d)
  trap 'rm -rf "$lane_dir"' EXIT
  echo "=== in the background lane, with their output shown when the pytest stage is done: integration targets, sanity, lint, docs, changelog, compat"
  other_stages </dev/null &
  lane_pid=$!
  stage "${pytest_stage[@]}"
  echo "=== waiting for the background lane"
  wait "$lane_pid" || status=1
  for log in "$lane_dir"/*.log; do
    [ -e "$log" ] && cat "$log"
  done
  if [ -f "$lane_dir/summary" ]; then
    while IFS= read -r line; do
      summary+=("$line")
      case "$line" in FAIL*) status=1 ;; esac
    done <"$lane_dir/summary"
  else
    summary+=("FAIL  the background lane recorded no stage")
    status=1
  fi
else
  stage "${pytest_stage[@]}"
  other_stages
fi

echo
echo "=== summary"
printf '%s\n' "${summary[@]}"
exit $status
