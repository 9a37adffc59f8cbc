"""The moto versions the emulator was tested with, checked before it starts.

The emulator replaces moto internals (several private: backends' methods, response classes, model
attributes), so another moto may break it in ways its tests would not show at once. It refuses to
start on a moto outside TESTED_MOTO, saying which version it found and what to do;
ORGSHARE_EMULATOR_ANY_MOTO=1 starts it anyway (with a warning on stderr), for trying a new moto.
"""

from __future__ import annotations

import os
import re
import sys

# The versions the test suite ran with (requirements-test.txt pins the newest): [low, high], inclusive.
TESTED_MOTO = ("5.2.1", "5.2.1")
OVERRIDE = "ORGSHARE_EMULATOR_ANY_MOTO"


class MotoVersionError(RuntimeError):
    pass


def _parse(version):
    parts = []
    for piece in str(version).split("."):
        digits = re.match(r"\d*", piece).group(0)
        if not digits:
            break
        parts.append(int(digits))
        if digits != piece:  # 5.2.1rc1, 5.2.1.dev0: compare the release part
            break
    return tuple(parts)


def problem(version, tested=TESTED_MOTO):
    """The message for a moto ``version`` outside ``tested``, or None."""
    low, high = tested
    if _parse(low) <= _parse(version) <= _parse(high):
        return None
    span = low if low == high else "%s to %s" % (low, high)
    return (
        "orgshare_emulator was tested with moto %s, but moto %s is installed: its patches of moto's internals may not "
        "hold. Install the tested version (pip install 'moto[server]==%s', as requirements-test.txt pins it), or set "
        "%s=1 to start anyway" % (span, version, high, OVERRIDE)
    )


def check_moto(environ=None):
    """Raise MotoVersionError when the installed moto is outside TESTED_MOTO (unless the override is set)."""
    import moto

    message = problem(moto.__version__)
    if message is None:
        return
    if (environ if environ is not None else os.environ).get(OVERRIDE) == "1":
        sys.stderr.write("warning: %s\n" % message)
        return
    raise MotoVersionError(message)
