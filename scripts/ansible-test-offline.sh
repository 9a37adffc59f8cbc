#!/usr/bin/env bash
# ansible-test creates its virtual environments without pip and downloads a pip bootstrap script
# from a host that may be unreachable. It first looks for ~/.ansible/test/cache/get_pip_<X>_<Y>.py;
# put a small stand-in there that installs pip from the pip wheel (downloaded from PyPI).
set -euo pipefail
venv=${1:?usage: ansible-test-offline.sh VENV}
pip_version=$("$venv/bin/python" - <<'PY'
import re, inspect
from ansible_test._internal import python_requirements as pr
print(re.search(r"pip='([0-9.]+)'", inspect.getsource(pr.get_venv_packages)).group(1))
PY
)
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
if ! ls "$cache"/pip-"$pip_version"-py3-none-any.whl >/dev/null 2>&1; then
  "$venv/bin/python" -m pip download -q --no-deps --only-binary :all: -d "$cache" "pip==$pip_version"
fi
script="$cache/get_pip_${pip_version//./_}.py"
cat > "$script" <<'PY'
"""Stand-in for ansible-test's pip bootstrap script: install pip from the wheel next to this file."""
import glob
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
out = []
for arg in args:
    if arg.startswith("pip=="):
        wheels = glob.glob(os.path.join(here, "pip-%s-py3-none-any.whl" % arg[5:]))
        if not wheels:
            sys.exit("no pip wheel for %s in %s" % (arg, here))
        arg = wheels[0]
    out.append(arg)
pip_wheel = [a for a in out if a.endswith(".whl") and os.path.basename(a).startswith("pip-")][0]
sys.exit(subprocess.call([sys.executable, os.path.join(pip_wheel, "pip"), "install", "--no-index", "-q"] + out))
PY
echo "$script"
