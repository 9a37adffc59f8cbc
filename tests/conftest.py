"""Shared pytest fixtures: the AWS emulator (in-process), AWS clients on it, and a runner that
executes a module's main() in-process and returns its result dict.

Fixtures
- ``emulator``      session-wide orgshare_emulator.Emulator (threaded server on 127.0.0.1)
- ``aws``           function-scoped: resets the emulator, returns an AwsEnv (clients, env, endpoint)
- ``private_botocore_loader``  sessions made in the test get a botocore loader of their own (see below)
- ``copy_clock``    a hand-moved clock for the emulator's copy pending time: ``copy_clock.advance(s)``
- ``run_module``    run_module("ami_org_share", {...}, check_mode=False, diff=False) -> result dict
- ``run_playbook``  run_playbook(text_or_path, extra_vars=None, check=False, diff=False) -> CompletedProcess
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, ".cache")
# A collection tree for tests whose orgshare/aws is a symlink to the working tree, so that
# edits are seen without copying; amazon.aws and community.aws come from the bootstrap.
# ORGSHARE_AMAZON_AWS (an amazon/aws collection directory) links that amazon.aws instead, in a tree
# of its own: scripts/run-compat.sh runs the module tests so on the lowest amazon.aws we declare.
TEST_COLLECTIONS = os.path.join(CACHE, "test-collections")
AMAZON_AWS = os.environ.get("ORGSHARE_AMAZON_AWS") or None

sys.path.insert(0, os.path.join(ROOT, "scripts"))
from collections_tree import collection_version, link_collections  # noqa: E402

if AMAZON_AWS:
    TEST_COLLECTIONS += "-amazon.aws-%s" % (collection_version(AMAZON_AWS) or "unknown")
link_collections(TEST_COLLECTIONS, amazon_aws_target=AMAZON_AWS)
for p in (TEST_COLLECTIONS, os.path.join(ROOT, "emulator")):
    if p not in sys.path:
        sys.path.insert(0, p)

ACCESS_KEY = "AKIAORGSHARETESTING1"
SECRET_KEY = "orgshare-testing-secret"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account, the caller's own


# botocore reads and parses its JSON models (EC2's is several MB) once per session, and every in-process
# module run, like every module process, makes a session of its own: in the test process they share one
# loader per data path, so a model is parsed once per test worker, not once per run (a test that needs a
# loader of its own, one that counts what botocore reads, uses the ``private_botocore_loader`` fixture).
# And AwsEnv.client() reuses its clients across tests (one per service, region and credentials, from
# one boto3 session): creating one costs 0.1-0.5 s, and a test makes a few. A test that changes a client
# (registers an event handler on it) makes its own with boto3.client().
def _install_shared_botocore_loader():
    """Make botocore.session hand every session the same loader for a data path; returns the real ``create_loader``."""
    import botocore.loaders
    import botocore.session

    real = botocore.loaders.create_loader
    loaders = {}
    lock = threading.Lock()

    def shared_loader(search_path_string=None):
        with lock:
            if search_path_string not in loaders:
                loaders[search_path_string] = real(search_path_string)
            return loaders[search_path_string]

    botocore.session.create_loader = shared_loader
    return real


_REAL_CREATE_LOADER = _install_shared_botocore_loader()
_TEST_CLIENTS = {}
_TEST_CLIENTS_LOCK = threading.Lock()
_TEST_SESSION = None


@pytest.fixture
def private_botocore_loader(monkeypatch):
    """Sessions made during the test get a botocore loader of their own, as in a module process."""
    import botocore.session

    monkeypatch.setattr(botocore.session, "create_loader", _REAL_CREATE_LOADER)


class AwsEnv:
    """AWS on the emulator, for one test."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.endpoint_url = emulator.endpoint_url
        self.region = REGION
        self.account_id = ACCOUNT_ID

    def client(self, service, region=None, access_key=ACCESS_KEY, secret_key=SECRET_KEY):
        """A client on the emulator, shared with every test that asks for the same one: do not change it."""
        import boto3
        import botocore.config

        key = (self.endpoint_url, service, region or self.region, access_key, secret_key)
        with _TEST_CLIENTS_LOCK:
            if key not in _TEST_CLIENTS:
                global _TEST_SESSION
                if _TEST_SESSION is None:
                    _TEST_SESSION = boto3.session.Session()
                _TEST_CLIENTS[key] = _TEST_SESSION.client(
                    service,
                    region_name=region or self.region,
                    endpoint_url=self.endpoint_url,
                    aws_access_key_id=access_key,
                    aws_secret_access_key=secret_key,
                    config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 10}),
                )
            return _TEST_CLIENTS[key]

    def module_args(self, region=None):
        """The amazon.aws connection options that point a module at the emulator."""
        return {
            "endpoint_url": self.endpoint_url,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "region": region or self.region,
        }

    def env(self):
        """Environment for subprocesses (ansible-playbook, the AWS CLI) that talk to the emulator."""
        env = dict(os.environ)
        env.update(
            AWS_ACCESS_KEY_ID=ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY=SECRET_KEY,
            AWS_DEFAULT_REGION=self.region,
            AWS_REGION=self.region,
            AWS_ENDPOINT_URL=self.endpoint_url,
            AWS_URL=self.endpoint_url,
            ANSIBLE_COLLECTIONS_PATH=TEST_COLLECTIONS,
            ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
            ANSIBLE_LOCAL_TEMP=os.path.join(tempfile.gettempdir(), "orgshare-ansible-local"),
            ANSIBLE_HOST_KEY_CHECKING="false",
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_FORCE_COLOR="0",
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        )
        env.pop("AWS_PROFILE", None)
        return env

    def write_calls(self):
        """Calls that are not reads (used to assert that nothing was written)."""
        reads = ("Describe", "Get", "List")
        return [c for c in self.emulator.calls if not c["action"].startswith(reads)]


@pytest.fixture(scope="session")
def emulator():
    from orgshare_emulator import Emulator

    emu = Emulator(port=0).start()
    yield emu
    emu.stop()


@pytest.fixture
def aws(emulator):
    emulator.reset()
    return AwsEnv(emulator)


class CopyClock:
    """The clock the emulator's copy timers read while the ``copy_clock`` fixture is in use: it moves
    only when the test calls ``advance``, so a copy stays pending until the test says its time is up
    instead of racing the machine's clock. The rest of the ``time`` module is the real one."""

    def __init__(self):
        self.now = 1000.0
        self._lock = threading.Lock()

    def monotonic(self):
        with self._lock:
            return self.now

    def advance(self, seconds):
        with self._lock:
            self.now += seconds

    def __getattr__(self, name):
        return getattr(time, name)


@pytest.fixture
def copy_clock(monkeypatch):
    from orgshare_emulator import ec2 as emulator_ec2

    clock = CopyClock()
    monkeypatch.setattr(emulator_ec2, "time", clock)
    return clock


class ModuleResult(dict):
    """A module's result dict; ``.failed`` and ``.msg`` for convenience."""

    @property
    def failed(self):
        return bool(self.get("failed"))

    @property
    def msg(self):
        return self.get("msg", "")


def _run_module_main(name, args, check_mode=False, diff=False):
    mod = importlib.import_module("ansible_collections.orgshare.aws.plugins.modules." + name)
    full = dict(args)
    full["_ansible_check_mode"] = check_mode
    full["_ansible_diff"] = diff
    full.setdefault("_ansible_module_name", "orgshare.aws." + name)  # as the controller passes it
    out = io.StringIO()
    # ansible keeps warnings and deprecations in module-level collections: start each run clean
    from ansible.module_utils.common import warnings as ansible_warnings

    ansible_warnings._global_warnings.clear()
    ansible_warnings._global_deprecations.clear()
    try:
        from ansible.module_utils.testing import patch_module_args  # ansible-core >= 2.19
    except ImportError:  # older cores read the arguments from basic._ANSIBLE_ARGS
        patch_module_args = None
    with contextlib.ExitStack() as stack:
        if patch_module_args is not None:
            stack.enter_context(patch_module_args(full))
        else:
            from ansible.module_utils import basic
            from ansible.module_utils.common.text.converters import to_bytes

            basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": full}))
            stack.callback(setattr, basic, "_ANSIBLE_ARGS", None)
        stack.enter_context(contextlib.redirect_stdout(out))
        try:
            mod.main()
        except SystemExit:
            pass
    text = out.getvalue().strip()
    # The JSON result is the last line printed
    start = text.rfind("\n{")
    return ModuleResult(json.loads(text[start + 1:] if start >= 0 else text))


@pytest.fixture
def run_module(aws, monkeypatch):
    """run_module(name, args, check_mode=False, diff=False, region=None) -> ModuleResult.

    The emulator connection options are added unless ``args`` sets them. kms_org_grant's pause before the
    read that verifies its write (verify_delay, 1 s by default: time for a concurrent writer elsewhere to
    finish) is skipped, the read made: one test process has no concurrent writer. A test that acts in the
    pause patches ``_kms._verify_sleep`` itself (tests/unit/plugins/modules/test_kms_org_grant.py); the
    concurrent writers are separate processes (test_kms_org_grant_concurrency.py), which pause."""
    from ansible_collections.orgshare.aws.plugins.module_utils import _kms

    monkeypatch.setattr(_kms, "_verify_sleep", lambda seconds: None)

    def run(name, args, check_mode=False, diff=False, region=None):
        full = aws.module_args(region)
        full.update(args)
        return _run_module_main(name, full, check_mode=check_mode, diff=diff)

    return run


@pytest.fixture
def run_playbook(aws, tmp_path):
    """run_playbook(text_or_path, extra_vars=None, check=False, diff=False, args=()) -> CompletedProcess."""

    def run(playbook, extra_vars=None, check=False, diff=False, args=(), inventory="localhost,"):
        if "\n" in playbook:
            path = tmp_path / "playbook.yml"
            path.write_text(playbook)
            playbook = str(path)
        cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory, "-c", "local", playbook]
        if extra_vars:
            vars_file = tmp_path / "extra_vars.json"
            vars_file.write_text(json.dumps(extra_vars))
            cmd += ["-e", "@" + str(vars_file)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        cmd += list(args)
        return subprocess.run(cmd, env=aws.env(), capture_output=True, text=True, cwd=str(tmp_path), timeout=900, check=False)

    return run
