#!/usr/bin/env bash
# Put a real copy (not a symlink: ansible-test refuses those) of this collection at
# .cache/collections/ansible_collections/orgshare/aws, next to amazon.aws.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.cache/collections/ansible_collections/orgshare/aws"
mkdir -p "$dest"
if command -v rsync >/dev/null 2>&1; then
  rsync -a --delete --exclude .cache --exclude '.venv*' --exclude .pytest_cache \
    --exclude tests/output --exclude __pycache__ --exclude bench/results "$root/" "$dest/"
else
  rm -rf "$dest"; mkdir -p "$dest"
  tar -C "$root" --exclude ./.cache --exclude './.venv*' --exclude ./.pytest_cache \
    --exclude ./tests/output --exclude __pycache__ --exclude ./bench/results -cf - . | tar -C "$dest" -xf -
fi
