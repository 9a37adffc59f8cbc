"""orgshare.aws.kms_org_grant from ansible-playbook against the emulator, configured through
``module_defaults: group/orgshare.aws.aws``: check mode, apply, re-run unchanged, revoke.

Two ansible-playbook runs (each costs seconds of start-up): ``--check --diff`` alone, then one
play that applies, checks and applies again, and revokes, registering every result."""

import json
import re

from orgshare_emulator.fixtures import create_key
from play_results import print_task, printed

REGION = "eu-west-1"  # not the environment's default region: only module_defaults points here
ORG = "o-abc1234567"
OU_A = ORG + "/r-ab12/ou-ab12-aaaaaaaa/"
OU_B = ORG + "/r-ab12/ou-ab12-bbbbbbbb/"
ACCOUNT = "111122223333"
ADMIN = {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
         "Action": "kms:*", "Resource": "*"}

HEAD = """
- hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/orgshare.aws.aws:
      region: "{{ key_region }}"
      endpoint_url: "{{ endpoint }}"
  tasks:
"""
GRANT = """
    - name: {name}
      orgshare.aws.kms_org_grant:
        key_id: alias/golden
        organization: "{{{{ org_id }}}}"
        organizational_units: "{{{{ ous }}}}"
        account_ids: "{{{{ accounts }}}}"
        state: {state}
      register: {register}
"""
CHECK_PLAY = HEAD + GRANT.format(name="Let the OUs and the account use the key", state="present", register="check") + \
    print_task("{'check': check}")
STEPS = (("apply", "present", ""), ("check_again", "present", "      check_mode: true\n"), ("apply_again", "present", ""),
         ("revoke", "absent", "      diff: true\n"))
APPLY_PLAY = HEAD + "".join(GRANT.format(name=name, state=state, register=name) + extra for name, state, extra in STEPS) + \
    print_task("{%s}" % ", ".join("'{0}': {0}".format(name) for name, _s, _e in STEPS))


def recap(proc):
    m = re.search(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout)
    assert m, proc.stdout[-3000:] + proc.stderr[-3000:]
    return {"ok": int(m.group(1)), "changed": int(m.group(2)), "failed": int(m.group(4))}


def test_playbook_grants_and_revokes(aws, run_playbook, tmp_path):
    kms = aws.client("kms", REGION)
    key = create_key(kms, policy={"Version": "2012-10-17", "Statement": [ADMIN]}, alias="alias/golden")

    def policy():
        return json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])

    def play(text, check=False, diff=False):
        extra = {"key_region": REGION, "endpoint": aws.endpoint_url, "org_id": ORG, "ous": [OU_B, OU_A], "accounts": [ACCOUNT]}
        proc = run_playbook(text, extra_vars=extra, check=check, diff=diff)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return recap(proc), printed(proc.stdout), proc

    original = policy()
    counts, results, proc = play(CHECK_PLAY, check=True, diff=True)
    assert counts["changed"] == 1 and results["check"]["changed"] is True
    assert policy() == original
    assert "OrgShareUse-" + ORG in proc.stdout and "OrgShareAccountUse" in proc.stdout  # the diff shows the statements to come

    counts, results, _proc = play(APPLY_PLAY)
    assert counts["changed"] == 2  # apply and revoke; the check and the second apply change nothing
    applied = results["apply"]
    assert applied["changed"] is True and applied["key_arn"] == key
    assert not results["check_again"]["changed"] and not results["apply_again"]["changed"]
    assert results["apply_again"]["policy"] == applied["policy"]
    after = applied["policy"]
    assert after["Statement"][0] == ADMIN
    use = [s for s in after["Statement"] if s.get("Sid") == "OrgShareUse-" + ORG][0]
    assert use["Condition"]["ForAnyValue:StringLike"]["aws:PrincipalOrgPaths"] == [OU_A + "*", OU_B + "*"]
    assert applied["granted_account_ids"] == [ACCOUNT]
    # the revoke read the key as the apply left it (the check and the second apply wrote nothing)
    revoke = results["revoke"]
    assert revoke["diff"]["before"] == after
    assert revoke["changed"] is True and revoke["statements"] == [] and revoke["granted_account_ids"] == []
    assert policy()["Statement"] == original["Statement"]
