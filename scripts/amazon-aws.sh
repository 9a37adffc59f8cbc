#!/usr/bin/env bash
# Unpack one release of amazon.aws from the PyPI `ansible` wheel that carries it (Ansible Galaxy is
# not reachable) and print the collection's directory:
#
#   scripts/amazon-aws.sh ANSIBLE_VERSION AMAZON_AWS_VERSION [PYTHON]
#
# -> .cache/amazon.aws-AMAZON_AWS_VERSION/ansible_collections/amazon/aws. The wheel is kept in
# .cache/wheels (as scripts/bootstrap.sh keeps its own); fails when the wheel carries another version.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ansible_version=$1
want=$2
python=${3:-python3}
cache="$root/.cache"
base="$cache/amazon.aws-$want"
dest="$base/ansible_collections/amazon/aws"
version() { "$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["collection_info"]["version"])' "$1/MANIFEST.json" 2>/dev/null; }
if [ "$(version "$dest" || true)" = "$want" ]; then
  echo "$dest"
  exit 0
fi
mkdir -p "$cache/wheels"
whl=$(find "$cache/wheels" -maxdepth 1 -name "ansible-$ansible_version-*.whl" | head -n1)
if [ -z "$whl" ]; then
  echo "amazon-aws: downloading the ansible $ansible_version wheel (for amazon.aws $want)" >&2
  "$python" -m pip download -q --no-deps --only-binary :all: --python-version 3.13 \
    -d "$cache/wheels" "ansible==$ansible_version" >&2
  whl=$(find "$cache/wheels" -maxdepth 1 -name "ansible-$ansible_version-*.whl" | head -n1)
  [ -n "$whl" ] || { echo "amazon-aws: the ansible $ansible_version wheel could not be downloaded" >&2; exit 1; }
fi
tmp=$(mktemp -d "$cache/amazon.aws-tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$python" - "$whl" "$tmp" <<'PY'
import sys, zipfile
whl, dest = sys.argv[1:]
with zipfile.ZipFile(whl) as z:
    z.extractall(dest, [n for n in z.namelist() if n.startswith("ansible_collections/amazon/aws/")])
PY
got=$(version "$tmp/ansible_collections/amazon/aws" || true)
if [ "$got" != "$want" ]; then
  echo "amazon-aws: the ansible $ansible_version wheel carries amazon.aws ${got:-(none)}, not $want" >&2
  exit 1
fi
rm -rf "$base"
mkdir -p "$base/ansible_collections/amazon"
mv "$tmp/ansible_collections/amazon/aws" "$dest"
echo "$dest"
