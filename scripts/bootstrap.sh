#!/usr/bin/env bash
# Create a virtual environment with everything the tests and the demo need, on a fresh
# machine that reaches PyPI but not Ansible Galaxy.
#
#   scripts/bootstrap.sh [VENV_DIR] [ANSIBLE_CORE_SPEC] [PYTHON]
#
# - VENV_DIR defaults to .venv
# - ANSIBLE_CORE_SPEC defaults to the newest ansible-core the chosen Python supports
# - PYTHON defaults to the newest CPython >= 3.11 found on PATH or in pyenv
# amazon.aws and community.aws are taken from the PyPI `ansible` wheel (no Galaxy needed)
# and unpacked into .cache/collections/ansible_collections, next to a copy of this collection;
# awx.awx too, from an older `ansible` wheel (the newer ones no longer carry it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:-"$root/.venv"}
core_spec=${2:-}
python=${3:-}
# shellcheck source=scripts/tested-versions.sh
. "$root/scripts/tested-versions.sh"
# The `ansible` release whose amazon.aws is the newest one tested
ansible_wheel_version=${ANSIBLE_WHEEL_VERSION:-$AMAZON_AWS_NEWEST_ANSIBLE}
cache="$root/.cache"
mkdir -p "$cache/wheels"

works() { "$1" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1; }

if [ -z "$python" ]; then
  python=$("$root/scripts/find-python.sh")
fi
works "$python" || { echo "bootstrap: no usable Python >= 3.11 ($python)" >&2; exit 1; }
pyver=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ -z "$core_spec" ]; then
  case "$pyver" in
    3.11) core_spec="ansible-core>=2.19,<2.20" ;;
    *) core_spec="ansible-core>=$CORE_NEWEST,<${CORE_NEWEST%.*}.$((${CORE_NEWEST#*.} + 1))" ;;
  esac
fi

stamp="$venv/.orgshare-stamp"
requirements=${REQUIREMENTS:-"$root/requirements-dev.txt"}
want="$core_spec|$(cat "$requirements" "$root/requirements-test.txt" | cksum)|$ansible_wheel_version"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "bootstrap: creating $venv with Python $pyver and $core_spec" >&2
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q "$core_spec" -r "$requirements"
  echo "$want" > "$stamp"
fi

# The `ansible` wheel of one release (kept in .cache/wheels, downloaded once): its path on stdout.
ansible_wheel() {
  local version=$1 found
  found=$(find "$cache/wheels" -maxdepth 1 -name "ansible-$version-*.whl" | head -n1)
  if [ -z "$found" ]; then
    "$venv/bin/python" -m pip download -q --no-deps --only-binary :all: --python-version 3.13 \
      -d "$cache/wheels" "ansible==$version" >&2
    found=$(find "$cache/wheels" -maxdepth 1 -name "ansible-$version-*.whl" | head -n1)
    [ -n "$found" ] || { echo "bootstrap: the ansible $version wheel could not be downloaded" >&2; exit 1; }
  fi
  echo "$found"
}

# amazon.aws and community.aws from the `ansible` wheel
colls="$cache/collections/ansible_collections"
if [ ! -f "$colls/amazon/aws/MANIFEST.json" ] || [ ! -f "$colls/community/aws/MANIFEST.json" ]; then
  whl=$(ansible_wheel "$ansible_wheel_version")
  tmp=$(mktemp -d)
  "$venv/bin/python" - "$whl" "$tmp" <<'PY'
import sys, zipfile
whl, dest = sys.argv[1:]
with zipfile.ZipFile(whl) as z:
    names = [n for n in z.namelist()
             if n.startswith(("ansible_collections/amazon/aws/", "ansible_collections/community/aws/"))]
    z.extractall(dest, names)
PY
  mkdir -p "$colls/amazon" "$colls/community"
  rm -rf "$colls/amazon/aws" "$colls/community/aws"
  mv "$tmp/ansible_collections/amazon/aws" "$colls/amazon/aws"
  mv "$tmp/ansible_collections/community/aws" "$colls/community/aws"
  rm -rf "$tmp"
fi

# awx.awx, for the AWX / Automation Controller configuration in examples/awx (its syntax check and ansible-lint):
# from the last `ansible` release that carries it (awx.awx 24.6.1, the last AWX release; `ansible` 13 dropped it)
awx_ansible_version=${AWX_ANSIBLE_VERSION:-12.3.0}
if [ ! -f "$colls/awx/awx/MANIFEST.json" ]; then
  whl=$(ansible_wheel "$awx_ansible_version")
  tmp=$(mktemp -d)
  "$venv/bin/python" - "$whl" "$tmp" <<'PY'
import sys, zipfile
whl, dest = sys.argv[1:]
with zipfile.ZipFile(whl) as z:
    names = [n for n in z.namelist() if n.startswith("ansible_collections/awx/awx/")]
    if not names:
        sys.exit("bootstrap: %s carries no awx.awx" % whl)
    z.extractall(dest, names)
PY
  mkdir -p "$colls/awx"
  rm -rf "$colls/awx/awx"
  mv "$tmp/ansible_collections/awx/awx" "$colls/awx/awx"
  rm -rf "$tmp"
fi
"$root/scripts/sync-collection.sh"
