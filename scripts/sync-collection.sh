#!/usr/bin/env bash
# Put a real copy (not a symlink: ansible-test refuses those) of this collection at
# .cache/collections/ansible_collections/orgshare/aws, next to amazon.aws: the files git knows
# (tracked, and untracked but not ignored), in a git repository of its own. Files that are gone from the tree are removed from the
# copy; ansible-test's own output (tests/output) is kept.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.cache/collections/ansible_collections/orgshare/aws"
mkdir -p "$dest"
cd "$root"
python3 - "$root" "$dest" <<'PY'
import filecmp, os, shutil, subprocess, sys
root, dest = sys.argv[1:]
files = subprocess.run(["git", "ls-files", "-z", "-c", "-o", "--exclude-standard"], cwd=root,
                       check=True, capture_output=True).stdout.decode().split("\0")
files = {f for f in files if f and os.path.isfile(os.path.join(root, f))}
for f in files:
    src, dst = os.path.join(root, f), os.path.join(dest, f)
    if os.path.exists(dst) and filecmp.cmp(src, dst, shallow=False):
        continue
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copy2(src, dst)
for base, dirs, names in os.walk(dest, topdown=True):
    rel = os.path.relpath(base, dest)
    if rel == "tests/output" or rel.startswith("tests/output/") or rel == ".git" or rel.startswith(".git/"):
        dirs[:] = []
        continue
    for n in names:
        r = os.path.normpath(os.path.join(rel, n))
        if r not in files:
            os.unlink(os.path.join(base, n))
PY
# The copy lies inside this repository's ignored .cache: give it a git repository of its own (no
# commits), so that ansible-test lists its files (tracked or not) instead of finding none.
[ -d "$dest/.git" ] || git -C "$dest" init -q
