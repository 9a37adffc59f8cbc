"""orgshare.aws.kms_org_grant from ansible-playbook against the emulator, configured through
``module_defaults: group/orgshare.aws.aws``: check mode, apply, re-run unchanged, revoke."""

import json
import re

from orgshare_emulator.fixtures import create_key

REGION = "eu-west-1"  # not the environment's default region: only module_defaults points here
ORG = "o-abc1234567"
OU_A = ORG + "/r-ab12/ou-ab12-aaaaaaaa/"
OU_B = ORG + "/r-ab12/ou-ab12-bbbbbbbb/"
ADMIN = {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
         "Action": "kms:*", "Resource": "*"}

PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/orgshare.aws.aws:
      region: "{{ key_region }}"
      endpoint_url: "{{ endpoint }}"
  tasks:
    - name: Let the OUs use the key
      orgshare.aws.kms_org_grant:
        key_id: alias/golden
        organization: "{{ org_id }}"
        organizational_units: "{{ ous }}"
        state: "{{ grant_state }}"
      register: grant

    - name: Keep the result for the test
      ansible.builtin.copy:
        content: "{{ grant | to_json }}"
        dest: "{{ result_file }}"
        mode: "0644"
      check_mode: false
      diff: false
      changed_when: false
"""


def recap(proc):
    m = re.search(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout)
    assert m, proc.stdout[-3000:] + proc.stderr[-3000:]
    return {"ok": int(m.group(1)), "changed": int(m.group(2)), "failed": int(m.group(4))}


def test_playbook_grants_and_revokes(aws, run_playbook, tmp_path):
    kms = aws.client("kms", REGION)
    key = create_key(kms, policy={"Version": "2012-10-17", "Statement": [ADMIN]}, alias="alias/golden")
    result_file = tmp_path / "result.json"

    def policy():
        return json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])

    def play(state="present", check=False, diff=False):
        extra = {"key_region": REGION, "endpoint": aws.endpoint_url, "org_id": ORG, "ous": [OU_B, OU_A],
                 "grant_state": state, "result_file": str(result_file)}
        proc = run_playbook(PLAY, extra_vars=extra, check=check, diff=diff)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return recap(proc), json.loads(result_file.read_text()), proc

    original = policy()
    counts, result, proc = play(check=True, diff=True)
    assert counts["changed"] == 1 and result["changed"] is True
    assert policy() == original
    assert "OrgShareUse-" + ORG in proc.stdout  # the diff shows the statement to come

    counts, result, _proc = play()
    assert counts["changed"] == 1
    after = policy()
    assert result["policy"] == after and result["key_arn"] == key
    assert after["Statement"][0] == ADMIN
    use = [s for s in after["Statement"] if s.get("Sid") == "OrgShareUse-" + ORG][0]
    assert use["Condition"]["ForAnyValue:StringLike"]["aws:PrincipalOrgPaths"] == [OU_A + "*", OU_B + "*"]

    counts, result, _proc = play(check=True)
    assert counts["changed"] == 0
    counts, result, _proc = play()
    assert counts["changed"] == 0 and policy() == after

    counts, result, _proc = play(state="absent")
    assert counts["changed"] == 1 and result["statements"] == []
    assert policy()["Statement"] == original["Statement"]
