"""orgshare.aws.ami_org_share from ansible-playbook against the emulator, configured through
``module_defaults: group/orgshare.aws.aws``: check mode, apply, re-run unchanged, unshare."""

import re

from orgshare_emulator.fixtures import create_key, make_image
from play_results import print_task, printed

REGION = "eu-west-1"  # not the environment's default region: only module_defaults points here
ACCOUNT = "111122223333"

PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/orgshare.aws.aws:
      region: "{{ ami_region }}"
      endpoint_url: "{{ endpoint }}"
  tasks:
    - name: Share the AMI with the organization (bare id) and one account
      orgshare.aws.ami_org_share:
        image_id: "{{ image_id }}"
        org_arns: ["{{ org_id }}"]
        account_ids: ["{{ account }}"]
        state: "{{ share_state }}"
      register: share

""" + print_task("share")


def recap(proc):
    m = re.search(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout)
    assert m, proc.stdout[-3000:] + proc.stderr[-3000:]
    return {"ok": int(m.group(1)), "changed": int(m.group(2)), "failed": int(m.group(4))}


def launch_permissions(aws, image_id):
    entries = aws.client("ec2", REGION).describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"]
    return sorted(sorted(e.items()) for e in entries)


def test_playbook_with_module_defaults(aws, run_playbook, tmp_path):
    org = aws.client("organizations").create_organization(FeatureSet="ALL")["Organization"]
    key_arn = create_key(aws.client("kms", REGION))
    image_id = make_image(aws.client("ec2", REGION), "playbook-image", volumes=[{"device_name": "/dev/xvda", "size": 8, "kms_key_id": key_arn}])
    extra = {
        "ami_region": REGION,
        "endpoint": aws.endpoint_url,
        "image_id": image_id,
        "org_id": org["Id"],
        "account": ACCOUNT,
        "share_state": "present",
    }
    shared = sorted([[("OrganizationArn", org["Arn"])], [("UserId", ACCOUNT)]])

    def play(check=False, **overrides):
        proc = run_playbook(PLAY, extra_vars=dict(extra, **overrides), check=check, diff=True)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return recap(proc), printed(proc.stdout), proc.stdout + proc.stderr

    counts, result, out = play(check=True)
    assert counts["changed"] == 1 and counts["failed"] == 0
    assert result["changed"] is True and result["region"] == REGION
    assert result["launch_permissions"]["organization_arns"] == [org["Arn"]]
    assert org["Arn"] in out  # the diff is shown
    assert launch_permissions(aws, image_id) == []

    counts, result, out = play()
    assert counts["changed"] == 1
    assert result["added"] == {"organization_arns": [org["Arn"]], "organizational_unit_arns": [], "account_ids": [ACCOUNT], "public": False}
    assert launch_permissions(aws, image_id) == shared
    assert "kms_org_grant" in out  # the customer managed key warning reaches the user

    for check in (True, False):
        counts, result, out = play(check=check)
        assert counts["changed"] == 0
        assert result["changed"] is False
        assert launch_permissions(aws, image_id) == shared

    counts, result, out = play(share_state="absent")
    assert counts["changed"] == 1
    assert result["launch_permissions"] == {"organization_arns": [], "organizational_unit_arns": [], "account_ids": [], "public": False}
    assert launch_permissions(aws, image_id) == []
