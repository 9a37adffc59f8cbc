"""kms_org_grant and concurrent writers of one key policy.

- 8 processes on this host run the module at once on one key, each granting a different OU: the
  per-key lock (fcntl.flock) serialises them and every OU ends up in the policy, 20 times out of 20.
- A writer elsewhere that replaces the document without merging, right after our write: the
  read-back sees it and merges again.
"""

import json
import os
import subprocess
import sys
import textwrap
import time

import boto3
import botocore.config

from orgshare_emulator.fixtures import create_key

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
# it waits for the test's start file of the repetition (so that the eight processes reach AWS at
# the same moment), runs, and writes its result. Workers live for all repetitions: starting eight
# Python processes with ansible and boto3 per repetition would dominate the run time.
WORKER = textwrap.dedent("""
    import json, os, sys, time
    sys.path.insert(0, sys.argv[1])
    from conftest import _run_module_main
    import ansible_collections.orgshare.aws.plugins.modules.kms_org_grant  # noqa: F401  import before the start line
    args, work, me, reps = json.loads(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
    for rep in range(reps):
        go = os.path.join(work, "go-%d" % rep)
        while not os.path.exists(go):
            time.sleep(0.02)
        with open(go) as f:
            key = f.read().strip()
        result = _run_module_main("kms_org_grant", dict(args, key_id=key))
        with open(os.path.join(work, "done-%d-%s.tmp" % (rep, me)), "w") as f:
            json.dump(result, f)
        os.rename(os.path.join(work, "done-%d-%s.tmp" % (rep, me)), os.path.join(work, "done-%d-%s" % (rep, me)))
""")
REPETITIONS = 20


def key_policy(aws, key):
    return json.loads(aws.client("kms").get_key_policy(KeyId=key, PolicyName="default")["Policy"])


def test_eight_concurrent_runs_on_one_key_lose_no_ou(aws, tmp_path):
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER)
    work = tmp_path / "work"
    work.mkdir()
    env = aws.env()
    env["ORGSHARE_KMS_LOCK_DIR"] = str(tmp_path / "locks")
    kms = aws.client("kms")
    procs = []
    for i, ou in enumerate(OUS):
        args = dict(aws.module_args(), organization=ORG, organizational_units=[ou])
        procs.append(subprocess.Popen([sys.executable, str(worker), TESTS, json.dumps(args), str(work), str(i), str(REPETITIONS)],
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    failures = []
    try:
        for rep in range(REPETITIONS):
            key = create_key(kms, policy={"Version": "2012-10-17", "Statement": [ADMIN, SERVICE]})
            (work / ("go-%d.tmp" % rep)).write_text(key)
            (work / ("go-%d.tmp" % rep)).rename(work / ("go-%d" % rep))
            deadline = time.monotonic() + 300
            while len(list(work.glob("done-%d-[0-9]" % rep))) < len(OUS):
                assert time.monotonic() < deadline, "repetition %d did not finish" % rep
                assert all(p.poll() is None for p in procs), [p.communicate() for p in procs if p.poll() is not None]
                time.sleep(0.02)
            for i in range(len(OUS)):
                result = json.loads((work / ("done-%d-%d" % (rep, i))).read_text())
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
            if p.poll() is None:
                p.kill()
            p.communicate()
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
    clobbers = []

    def clobber(**_kwargs):
        if len(clobbers) < 2:  # twice: our second write is undone too
            clobbers.append(1)
            aws.client("kms").put_key_policy(KeyId=key, PolicyName="default",
                                              Policy=json.dumps(dict(stale, Statement=stale["Statement"] + [rogue])))

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
        held = subprocess.run([sys.executable, "-c", probe, path], capture_output=True, text=True).stdout.strip()
        other = subprocess.run([sys.executable, "-c", probe, _kms.lock_path(arn + "x", str(tmp_path))], capture_output=True,
                               text=True).stdout.strip()
    after = subprocess.run([sys.executable, "-c", probe, path], capture_output=True, text=True).stdout.strip()
    assert (held, other, after) == ("held", "free", "free")


def test_malformed_policy_document_is_retried_only_a_few_times(aws):
    """MalformedPolicyDocumentException can be IAM propagation (retried), or a document that is
    really malformed: then the call fails after a few tries instead of retrying for minutes."""
    kms = aws.client("kms")
    key = create_key(kms, policy={"Version": "2012-10-17", "Statement": [ADMIN]})
    aws.emulator.clear_calls()
    started = time.monotonic()
    try:
        _kms.put_key_policy(kms, key, json.dumps({"Version": "2012-10-17", "Statement": []}))
    except _kms.OrgShareKMSError as e:
        assert "MalformedPolicyDocumentException" in str(e) and "put the policy of key" in str(e)
    else:
        raise AssertionError("expected OrgShareKMSError")
    attempts = [c for c in aws.emulator.calls if c["action"] == "PutKeyPolicy"]
    # _kms retries it with AWSRetry.jittered_backoff(retries=3): three attempts in all
    assert len(attempts) == 3 and all(c["error"] == "MalformedPolicyDocumentException" for c in attempts)
    assert time.monotonic() - started < 60
    assert key_policy(aws, key)["Statement"] == [ADMIN]
