"""The emulator refuses to start on a moto outside the versions it was tested with (orgshare_emulator/compat.py)."""

import os
import re

import moto
import pytest

from orgshare_emulator import Emulator
from orgshare_emulator import compat

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_tested_range_is_the_pinned_version():
    with open(os.path.join(ROOT, "requirements-test.txt")) as f:
        pinned = re.search(r"^moto\[server\]==([0-9.]+)\s*$", f.read(), re.M).group(1)
    assert compat.TESTED_MOTO[1] == pinned


@pytest.mark.parametrize("version,ok", [("5.2.1", True), ("5.2.0", False), ("5.2.2", False), ("5.3.0", False), ("4.2.14", False),
                                        ("6.0.0", False), ("5.2.1rc1", True)])
def test_problem(version, ok):
    message = compat.problem(version, ("5.2.1", "5.2.1"))
    if ok:
        assert message is None
    else:
        assert message.startswith("orgshare_emulator was tested with moto 5.2.1, but moto %s is installed" % version)
        assert "pip install 'moto[server]==5.2.1'" in message and "ORGSHARE_EMULATOR_ANY_MOTO=1" in message


def test_start_refuses_another_moto_unless_overridden(monkeypatch, capsys):
    monkeypatch.setattr(moto, "__version__", "5.3.0")
    monkeypatch.delenv(compat.OVERRIDE, raising=False)
    with pytest.raises(compat.MotoVersionError, match="but moto 5.3.0 is installed"):
        Emulator(port=0).start()
    monkeypatch.setenv(compat.OVERRIDE, "1")
    emu = Emulator(port=0).start()
    try:
        assert emu.endpoint_url.startswith("http://127.0.0.1:")
    finally:
        emu.stop()
    assert "warning: orgshare_emulator was tested with moto" in capsys.readouterr().err
