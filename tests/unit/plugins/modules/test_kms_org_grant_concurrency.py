"""kms_org_grant and concurrent writers of one key policy.

- 8 processes on this host run the module at once on one key, each granting a different OU: the
  per-key lock (fcntl.flock) serialises them and every OU ends up in the policy, 20 times out of 20.
- A writer elsewhere that replaces the document without merging, right after our write: the
  read-back sees it and merges again.
"""

import fcntl
import json
import os
import selectors
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import boto3
import botocore.config

from orgshare_emulator.fixtures import create_key

from ansible_collections.orgshare.aws.plugins.module_utils import _api
from ansible_collections.orgshare.aws.plugins.module_utils import _key_policy as kp
from ansible_collections.orgshare.aws.plugins.module_utils import _kms

ORG = "o-abc1234567"
ROOT = ORG + "/r-ab12/"
OUS = [ROOT + "ou-ab12-%08d/" % i for i in range(8)]
TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ADMIN = {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
         "Action": "kms:*", "Resource": "*"}
SERVICE = {"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"}, "Action": "kms:Decrypt*",
           "Resource": "*"}

# A worker process runs the module in-process, like the run_module fixture, once per repetition:
# it reads the repetition's key from its stdin, runs, and writes its result as one line on stdout.
# The test writes the key to the eight workers at once, so that they reach AWS at the same moment;
# nobody polls. Workers live for all repetitions, since starting eight Python processes with
# ansible and boto3 per repetition would dominate the run time. Each run still builds its own boto3
# session and client, as a module process does, but the workers' botocore loaders share one cache
# of the JSON service data, which a module process reads once too (re-reading it per run took
# most of the CPU of a run); the lock and the read-merge-write under test are untouched.
WORKER = textwrap.dedent("""
    import json, os, sys
    sys.path.insert(0, sys.argv[1])
    import botocore.loaders
    shared_cache = {}
    plain_init = botocore.loaders.Loader.__init__

    def init_with_shared_cache(self, *args, **kwargs):
        plain_init(self, *args, **kwargs)
        self._cache = shared_cache

    botocore.loaders.Loader.__init__ = init_with_shared_cache
    from conftest import _run_module_main
    import ansible_collections.orgshare.aws.plugins.modules.kms_org_grant  # noqa: F401  import before the start line
    args = json.loads(sys.argv[2])
    for line in sys.stdin:
        print(json.dumps(_run_module_main("kms_org_grant", dict(args, key_id=line.strip()))), flush=True)
    os._exit(0)  # stdin closed: the test is done; skip the slow tidy-up of interpreter shutdown
""")
REPETITIONS = 20
TIMEOUT = 120  # seconds per repetition: a run that hangs fails the test instead of blocking it


def key_policy(aws, key):
    return json.loads(aws.client("kms").get_key_policy(KeyId=key, PolicyName="default")["Policy"])


def read_results(procs, errors, timeout):
    """One result line from each worker, in worker order (``errors``: the workers' stderr files)."""
    results = [None] * len(procs)
    with selectors.DefaultSelector() as selector:
        for i, p in enumerate(procs):
            selector.register(p.stdout, selectors.EVENT_READ, i)
        deadline = time.monotonic() + timeout
        while selector.get_map():
            ready = selector.select(max(0.0, deadline - time.monotonic()))
            assert ready, "workers %s gave no result in %ds" % ([i for i, r in enumerate(results) if r is None], timeout)
            for selected, _events in ready:
                line = selected.fileobj.readline()
                if not line:
                    errors[selected.data].seek(0)
                    raise AssertionError("worker %d ended: %s" % (selected.data, errors[selected.data].read()[-3000:]))
                results[selected.data] = json.loads(line)
                selector.unregister(selected.fileobj)
    return results


def test_eight_concurrent_runs_on_one_key_lose_no_ou(aws, tmp_path):
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER)
    env = aws.env()
    env["ORGSHARE_KMS_LOCK_DIR"] = str(tmp_path / "locks")
    kms = aws.client("kms")
    procs, errors = [], []
    failures = []
    try:
        for ou in OUS:
            args = dict(aws.module_args(), organization=ORG, organizational_units=[ou])
            errors.append(tempfile.TemporaryFile(mode="w+t"))
            procs.append(subprocess.Popen([sys.executable, str(worker), TESTS, json.dumps(args)], env=env, stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, stderr=errors[-1], text=True, bufsize=1))
        for rep in range(REPETITIONS):
            key = create_key(kms, policy={"Version": "2012-10-17", "Statement": [ADMIN, SERVICE]})
            for p in procs:
                p.stdin.write(key + "\n")  # line-buffered: sent at once
            for result in read_results(procs, errors, TIMEOUT):
                assert not result.get("failed"), result.get("msg")
                assert result["changed"] is True
            policy = key_policy(aws, key)
            patterns = set()
            for s in policy["Statement"]:
                if s.get("Sid") in (kp.use_sid(ORG), kp.grants_sid(ORG)):
                    patterns.update(kp.org_paths_of(s))
            if patterns != set(ou + "*" for ou in OUS) or policy["Statement"][:2] != [ADMIN, SERVICE]:
                failures.append((rep, sorted(patterns)))
    finally:
        for p in procs:
            p.stdin.close()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            p.stdout.close()
        for f in errors:
            f.close()
    assert failures == [], "repetitions that lost an OU: %r" % failures


def test_a_writer_elsewhere_that_does_not_merge_is_undone(aws):
    """Right after our PutKeyPolicy, another writer puts the document it read before, plus its
    own statement: our statements are gone. The read-back sees that and merges again."""
    kms = boto3.client("kms", region_name=aws.region, endpoint_url=aws.endpoint_url, aws_access_key_id="AKIAORGSHARETESTING1",
                       aws_secret_access_key="orgshare-testing-secret", config=botocore.config.Config(retries={"mode": "standard"}))
    key = create_key(kms, policy={"Version": "2012-10-17", "Statement": [ADMIN]})
    stale = key_policy(aws, key)
    rogue = {"Sid": "Rogue", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/Other"}, "Action": "kms:Decrypt",
             "Resource": "*"}
    # KMS refuses a policy whose principals do not exist: the other writer's role does
    aws.client("iam").create_role(RoleName="Other", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    clobbers = []

    def clobber(**_kwargs):
        if len(clobbers) < 2:  # twice: our second write is undone too
            clobbers.append(1)
            clobbered = json.dumps(dict(stale, Statement=stale["Statement"] + [rogue]))
            aws.client("kms").put_key_policy(KeyId=key, PolicyName="default", Policy=clobbered)

    kms.meta.events.register("after-call.kms.PutKeyPolicy", clobber)

    def planner(policy):
        return kp.plan(policy, ORG, [OUS[0]])

    changed, before, after, ours, covered = _kms.converge_key_policy(kms, key, planner)
    assert changed and len(clobbers) == 2
    final = key_policy(aws, key)
    assert final == after
    assert [s.get("Sid") for s in final["Statement"]] == [ADMIN["Sid"], "Rogue", kp.use_sid(ORG), kp.grants_sid(ORG)]
    assert before == stale


def test_a_writer_that_keeps_undoing_us_makes_a_clear_error(aws):
    kms = boto3.client("kms", region_name=aws.region, endpoint_url=aws.endpoint_url, aws_access_key_id="AKIAORGSHARETESTING1",
                       aws_secret_access_key="orgshare-testing-secret")
    key = create_key(kms, policy={"Version": "2012-10-17", "Statement": [ADMIN]})
    stale = json.dumps(key_policy(aws, key))
    kms.meta.events.register("after-call.kms.PutKeyPolicy",
                             lambda **_kw: aws.client("kms").put_key_policy(KeyId=key, PolicyName="default", Policy=stale))
    try:
        _kms.converge_key_policy(kms, key, lambda policy: kp.plan(policy, ORG), max_writes=3)
    except _kms.KeyPolicyConflictError as e:
        assert "3 writes were each undone by another writer" in str(e)
    else:
        raise AssertionError("expected KeyPolicyConflictError")
    assert key_policy(aws, key) == json.loads(stale)


def test_the_lock_excludes_another_process(tmp_path):
    """While this process holds the lock of a key, another process cannot take it; it can take the lock of another key."""
    arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    probe = textwrap.dedent("""
        import fcntl, os, sys
        fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            print("free")
        except OSError:
            print("held")
    """)
    with _kms.key_lock(arn, directory=str(tmp_path)) as path:
        assert path == _kms.lock_path(arn, str(tmp_path))
        held = subprocess.run([sys.executable, "-c", probe, path], capture_output=True, text=True, check=False).stdout.strip()
        other = subprocess.run([sys.executable, "-c", probe, _kms.lock_path(arn + "x", str(tmp_path))], capture_output=True, check=False,
                               text=True).stdout.strip()
    after = subprocess.run([sys.executable, "-c", probe, path], capture_output=True, text=True, check=False).stdout.strip()
    assert (held, other, after) == ("held", "free", "free")


HANG_GUARD = 60  # seconds: only keeps a broken lock from hanging the test; nothing asserts how fast it is


def test_a_waiter_gives_up_with_key_lock_timeout(tmp_path):
    arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    holder = os.open(_kms.lock_path(arn, str(tmp_path)), os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX)  # flock locks of two open files conflict within one process too
    try:
        started = time.monotonic()
        try:
            with _kms.key_lock(arn, timeout=0.3, directory=str(tmp_path)):
                raise AssertionError("the lock was taken while held")
        except _kms.KeyLockTimeout as e:
            assert "Timed out after 0.3s waiting for the local lock on key " + arn in str(e)
        # it did wait for the timeout (a lower bound: safe on any machine)
        assert time.monotonic() - started >= 0.3
    finally:
        os.close(holder)


def test_a_waiter_takes_the_lock_when_it_is_released(tmp_path, monkeypatch):
    """The waiter blocks while the lock is held and has it once the holder lets go: asserted by the
    order of events, not by how long the handover takes."""
    arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    path = _kms.lock_path(arn, str(tmp_path))
    holder = os.open(path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX)
    events, errors = [], []
    waiting = threading.Event()
    real_take = _kms._take_flock

    def take_flock(fd, timeout):
        events.append("waiting")
        waiting.set()
        return real_take(fd, timeout)

    monkeypatch.setattr(_kms, "_take_flock", take_flock)

    def waiter():
        try:
            with _kms.key_lock(arn, timeout=HANG_GUARD, directory=str(tmp_path)):
                events.append("taken")
                probe = os.open(path, os.O_RDWR)
                try:
                    fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    events.append("not exclusive")
                except OSError:
                    events.append("held by the waiter")
                finally:
                    os.close(probe)
        except Exception as e:  # reported by the main thread
            errors.append(e)

    thread = threading.Thread(target=waiter)
    try:
        thread.start()
        assert waiting.wait(HANG_GUARD), "hang guard: the waiter never asked for the lock"
        thread.join(0.2)  # give a lock that does not exclude the chance to show it
        assert thread.is_alive() and events == ["waiting"], events  # still blocked: the lock is held
        events.append("released")
    finally:
        os.close(holder)  # closing the descriptor releases the lock
    thread.join(HANG_GUARD)
    assert not thread.is_alive(), "hang guard: the waiter did not get the released lock"
    assert errors == []
    assert events == ["waiting", "released", "taken", "held by the waiter"]


def test_malformed_policy_document_is_retried_only_a_few_times(aws):
    """MalformedPolicyDocumentException can be IAM propagation (retried), or a document that is
    really malformed: then the call fails after a few tries instead of retrying for minutes."""
    kms = aws.client("kms")
    key = create_key(kms, policy={"Version": "2012-10-17", "Statement": [ADMIN]})
    aws.emulator.clear_calls()
    try:
        _api.put_key_policy(kms, key, json.dumps({"Version": "2012-10-17", "Statement": []}))
    except _api.OrgShareKMSError as e:
        assert "MalformedPolicyDocumentException" in str(e) and "put the policy of key" in str(e)
    else:
        raise AssertionError("expected OrgShareKMSError")
    attempts = [c for c in aws.emulator.calls if c["action"] == "PutKeyPolicy"]
    # _api retries it with AWSRetry.jittered_backoff(retries=3): three attempts in all
    assert len(attempts) == 3 and all(c["error"] == "MalformedPolicyDocumentException" for c in attempts)
    assert key_policy(aws, key)["Statement"] == [ADMIN]
