#!/usr/bin/env bash
# Build the release tarball of orgshare.aws (make release) from the committed tree only.
#
#   scripts/release.sh [VENV_DIR] [OUT_DIR]
#
# - VENV_DIR (default .venv): the ansible-galaxy and antsibull-changelog to use
# - OUT_DIR (default dist): where orgshare-aws-VERSION.tar.gz is put (overwritten if there)
# - RELEASE_REPO (default: the repository this script is in): the git repository to build from
# - RELEASE_REF (default HEAD): the commit to build
# - RELEASE_COLLECTIONS (default .cache/collections, which `make venv` fills): a collections
#   directory holding ansible_collections/amazon/aws, whose doc fragments ansible-doc needs when
#   antsibull-changelog lists the collection's plugins
#
# The commit is exported (git archive) into a temporary directory and built there, so untracked,
# ignored and uncommitted files are never shipped; galaxy.yml's `manifest:` allow-list then picks
# what the tarball carries. When changelogs/changelog.yaml has no release for galaxy.yml's version,
# `antsibull-changelog release` runs on the exported copy (dated with the commit's date), which
# adds the release and CHANGELOG.rst to the tarball; the repository itself is not changed. Maintainers
# run that release in the repository and commit it at release time (docs/DEVELOPING.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:-"$root/.venv"}
out=${2:-"$root/dist"}
repo=${RELEASE_REPO:-"$root"}
ref=${RELEASE_REF:-HEAD}
deps=${RELEASE_COLLECTIONS:-"$root/.cache/collections"}

[ -d "$venv" ] || { echo "release: no virtual environment at $venv (run make venv)" >&2; exit 1; }
venv=$(cd "$venv" && pwd)
for tool in ansible-galaxy antsibull-changelog python; do
  [ -x "$venv/bin/$tool" ] || { echo "release: $venv/bin/$tool is missing (run make venv)" >&2; exit 1; }
done
[ -d "$deps/ansible_collections/amazon/aws" ] || {
  echo "release: amazon.aws not found under $deps/ansible_collections (run make venv, or set RELEASE_COLLECTIONS)" >&2
  exit 1
}
deps=$(cd "$deps" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)

commit=$(git -C "$repo" rev-parse --verify "$ref^{commit}")
if [ "$ref" = HEAD ] && [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
  echo "release: the working tree has uncommitted changes; building the last commit (${commit:0:12}) without them" >&2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A collections tree of its own: the exported collection and amazon.aws, nothing else
src="$tmp/collections/ansible_collections/orgshare/aws"
mkdir -p "$src" "$tmp/collections/ansible_collections/amazon" "$tmp/build"
ln -s "$deps/ansible_collections/amazon/aws" "$tmp/collections/ansible_collections/amazon/aws"
git -C "$repo" archive --format=tar "$commit" | tar -x -C "$src"

cd "$src"
version=$("$venv/bin/python" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' galaxy.yml)
released=$("$venv/bin/python" -c '
import sys, yaml
with open(sys.argv[1]) as f:
    releases = (yaml.safe_load(f) or {}).get("releases") or {}
print("yes" if sys.argv[2] in releases else "no")' changelogs/changelog.yaml "$version")
if [ "$released" = no ]; then
  date=$(git -C "$repo" log -1 --format=%cs "$commit")
  echo "release: changelogs/changelog.yaml has no $version: antsibull-changelog release --version $version --date $date (in the exported copy)" >&2
  PATH="$venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$tmp/collections" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
    "$venv/bin/antsibull-changelog" release --version "$version" --date "$date"
fi
[ -f CHANGELOG.rst ] || { echo "release: no CHANGELOG.rst after the changelog release" >&2; exit 1; }
PATH="$venv/bin:$PATH" "$venv/bin/antsibull-changelog" lint

ANSIBLE_COLLECTIONS_PATH="$tmp/collections" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
  "$venv/bin/ansible-galaxy" collection build --output-path "$tmp/build" .
tarball="orgshare-aws-$version.tar.gz"
mv -f "$tmp/build/$tarball" "$out/$tarball"
echo "$out/$tarball"
