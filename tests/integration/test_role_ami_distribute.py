"""The role orgshare.aws.ami_distribute and the distribute / unshare / audit playbooks, end to end
with ansible-playbook against the emulator: a missing key refused, --check on a fresh state, someone
else's share reported, state absent; the audit, with a region that cannot be read; an older copy under
another key; the role in a loop, and unsharing one AMI of two under the same keys.
(First run, converged re-run and --check on it: test_role_plan_first.py.) Each test takes one world
through several runs: a playbook run costs seconds, a fresh world little."""

import json
import os
import re
import subprocess
import sys

import pytest

from orgshare_emulator.fixtures import create_key, make_image
from play_results import print_task, printed

SOURCE = "us-east-1"
COPY_REGIONS = ["us-west-2", "eu-west-1"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: orgshare.aws.ami_distribute
""" + print_task("ami_distribute_result")


def recap(proc):
    m = re.search(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout)
    assert m, proc.stdout[-3000:] + proc.stderr[-3000:]
    return {"ok": int(m.group(1)), "changed": int(m.group(2)), "failed": int(m.group(4))}


@pytest.fixture
def world(aws):
    """An organization with OUs and accounts, a key per region, an encrypted AMI in the source region."""
    org = aws.client("organizations")
    org.create_organization(FeatureSet="ALL")
    o = org.describe_organization()["Organization"]
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="Workloads")["OrganizationalUnit"]
    account = org.create_account(Email="a@example.com", AccountName="app")["CreateAccountStatus"]["AccountId"]
    keys = {r: create_key(aws.client("kms", r), description="golden " + r) for r in [SOURCE] + COPY_REGIONS}
    image_id = make_image(
        aws.client("ec2", SOURCE),
        "golden-1",
        volumes=[
            {"device_name": "/dev/xvda", "size": 8, "encrypted": True, "kms_key_id": keys[SOURCE]},
            {"device_name": "/dev/xvdb", "size": 20, "encrypted": True, "kms_key_id": keys[SOURCE]},
        ],
    )
    return {
        "org_id": o["Id"],
        "org_arn": o["Arn"],
        "root": root,
        "ou_arn": ou["Arn"],
        "ou_path": "%s/%s/%s/" % (o["Id"], root, ou["Id"]),
        "account": account,
        "keys": keys,
        "image_id": image_id,
    }


def role_vars(aws, world, **over):
    v = {
        "ami_distribute_source_image_id": world["image_id"],
        "ami_distribute_source_region": SOURCE,
        "ami_distribute_regions": [{"region": r, "kms_key_id": world["keys"][r]} for r in COPY_REGIONS],
        "ami_distribute_organizational_unit_arns": [world["ou_arn"]],
        "ami_distribute_account_ids": [world["account"]],
        "ami_distribute_aws_endpoint_url": aws.endpoint_url,
        "ami_distribute_wait_timeout": 120,
    }
    v.update(over)
    return v


def copies(aws, image_id):
    out = {}
    for r in COPY_REGIONS:
        imgs = aws.client("ec2", r).describe_images(
            Owners=["self"], Filters=[{"Name": "source-image-id", "Values": [image_id]}]
        )["Images"]
        out[r] = [i["ImageId"] for i in imgs]
    return out


def launch_permissions(aws, region, image_id):
    lp = aws.client("ec2", region).describe_image_attribute(ImageId=image_id, Attribute="launchPermission")
    return sorted(
        e.get("OrganizationalUnitArn") or e.get("OrganizationArn") or e.get("UserId") or e.get("Group")
        for e in lp["LaunchPermissions"]
    )


def key_policy_text(aws, key_arn):
    region = key_arn.split(":")[3]
    return aws.client("kms", region).get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]


def assert_distributed(aws, world):
    found = copies(aws, world["image_id"])
    assert all(len(v) == 1 for v in found.values()), found
    targets = [(SOURCE, world["image_id"])] + [(r, found[r][0]) for r in COPY_REGIONS]
    for region, image_id in targets:
        assert launch_permissions(aws, region, image_id) == sorted([world["ou_arn"], world["account"]])
    for key in world["keys"].values():
        policy = json.loads(key_policy_text(aws, key))
        paths = json.dumps(policy)
        assert world["ou_path"] + "*" in paths, policy
    return targets


def test_refused_then_predicted_then_distributed_then_reported_then_unshared(aws, world, run_playbook, tmp_path):
    """One world through the role's life: a missing key refused before any write, --check on the fresh state, the
    run, a re-run that reports someone else's share, and state absent (predicted by --check, then made, then
    converged), which keeps the AMIs and the shares others made."""
    # a well-formed key ARN of the right region that does not exist: the check-mode reads find it missing,
    # so the role stops before its first write (a region AWS fails to read is another matter: see
    # test_role_plan_first.py's broken region)
    bad = world["keys"]["us-west-2"].rsplit("/", 1)[0] + "/00000000-0000-4000-8000-000000000000"
    v = role_vars(aws, world)
    aws.emulator.clear_calls()
    failed = run_playbook(PLAY, dict(v, ami_distribute_regions=[
        {"region": "us-west-2", "kms_key_id": bad},
        {"region": "eu-west-1", "kms_key_id": world["keys"]["eu-west-1"]},
    ]))
    assert failed.returncode != 0
    assert "us-west-2" in failed.stdout and bad in failed.stdout and "nothing was written" in failed.stdout
    assert aws.write_calls() == []
    assert copies(aws, world["image_id"]) == {r: [] for r in COPY_REGIONS}

    # --check on the fresh state: changes predicted, nothing written
    check = run_playbook(PLAY, v, check=True)
    assert check.returncode == 0, check.stdout[-4000:]
    assert recap(check)["changed"] > 0
    assert aws.write_calls() == []
    assert copies(aws, world["image_id"]) == {r: [] for r in COPY_REGIONS}
    assert launch_permissions(aws, SOURCE, world["image_id"]) == []

    # the key fixed: the run converges
    assert run_playbook(PLAY, v).returncode == 0
    targets = assert_distributed(aws, world)

    # someone else's share does not fail a re-run but is reported: a member account at the root (outside the role's
    # OU), shared by hand with no key grant (the key policy does not let it launch, but it is not a principal the role
    # was given)
    copy = copies(aws, world["image_id"])["us-west-2"][0]
    stranger = aws.client("organizations").create_account(Email="s@example.com", AccountName="stranger")["CreateAccountStatus"]["AccountId"]
    aws.client("ec2", "us-west-2").modify_image_attribute(
        ImageId=copy, Attribute="launchPermission", LaunchPermission={"Add": [{"UserId": stranger}]})
    # and an account outside the organization, shared by hand on the source
    aws.client("ec2", SOURCE).modify_image_attribute(
        ImageId=world["image_id"], Attribute="launchPermission", LaunchPermission={"Add": [{"UserId": "999988887777"}]}
    )
    proc = run_playbook(PLAY, v)
    assert proc.returncode == 0, proc.stdout[-4000:]
    result = printed(proc.stdout)
    assert [(p["code"], p["principal"]) for p in result["us-west-2"]["problems"]] == [("key_not_granted", stranger)]
    assert result["eu-west-1"]["problems"] == []

    # check mode predicts the unsharing: the removals and the key revocations made once the AMIs are unshared
    aws.emulator.clear_calls()
    predicted = run_playbook(PLAY, dict(v, ami_distribute_state="absent"), check=True)
    assert predicted.returncode == 0, predicted.stdout[-4000:]
    assert aws.write_calls() == []
    gone = run_playbook(PLAY, dict(v, ami_distribute_state="absent"))
    assert gone.returncode == 0, gone.stdout[-4000:]
    assert recap(predicted)["changed"] == recap(gone)["changed"] > 0
    # the shares others made survive
    kept = {SOURCE: ["999988887777"], "us-west-2": [stranger], "eu-west-1": []}
    for region, image_id in targets:
        assert launch_permissions(aws, region, image_id) == kept[region]
    for key in world["keys"].values():
        assert world["ou_path"] not in key_policy_text(aws, key)
        assert "Enable IAM User Permissions" in key_policy_text(aws, key)
    assert all(len(v) == 1 for v in copies(aws, world["image_id"]).values())
    again = run_playbook(PLAY, dict(v, ami_distribute_state="absent"))
    assert again.returncode == 0 and recap(again)["changed"] == 0, again.stdout[-4000:]


def test_audit_writes_markdown_and_json_and_fails_when_a_region_cannot_be_read(aws, world, run_playbook, tmp_path):
    assert run_playbook(PLAY, role_vars(aws, world)).returncode == 0
    report = tmp_path / "audit"
    proc = run_playbook(
        os.path.join(ROOT, "playbooks", "audit.yml"),
        {"audit_regions": [SOURCE] + COPY_REGIONS, "audit_report": str(report), "audit_aws_endpoint_url": aws.endpoint_url},
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    data = json.loads((tmp_path / "audit.json").read_text())
    assert sorted(i["region"] for i in data["images"]) == sorted([SOURCE] + COPY_REGIONS)
    md = (tmp_path / "audit.md").read_text()
    assert world["ou_arn"] in md and world["image_id"] in md
    assert "| Region | AMI |" in md
    # the names Organizations gives the management account, beside the ids (as created by the world fixture)
    assert "Workloads (%s)" % world["ou_arn"] in md
    assert "app (%s)" % world["account"] in md
    assert data["principal_names"] == {world["ou_arn"]: "Workloads", world["account"]: "app"}
    assert "## Names not read" not in md

    # every call to eu-west-1 denied (answered at once; a region that answers 503 to every call is the role's broken
    # region in test_role_plan_first.py, failed after the retries)
    aws.emulator.inject_faults(rate=1.0, kind="denied", regions=["eu-west-1"])
    try:
        # as from a shell in tmp_path (the shell sets PWD), without audit_report: the default location
        env = dict(aws.env(), PWD=str(tmp_path))
        cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
               os.path.join(ROOT, "playbooks", "audit.yml"),
               "-e", json.dumps({"audit_regions": [SOURCE] + COPY_REGIONS, "audit_aws_endpoint_url": aws.endpoint_url})]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(tmp_path), timeout=900, check=False)
        partial = run_playbook(
            os.path.join(ROOT, "playbooks", "audit.yml"),
            {"audit_regions": [SOURCE] + COPY_REGIONS, "audit_aws_endpoint_url": aws.endpoint_url, "audit_allow_partial": True,
             "audit_report": str(tmp_path / "partial")},
        )
    finally:
        aws.emulator.clear_faults()
    assert proc.returncode != 0
    assert "1 region(s) could not be read" in proc.stdout and "eu-west-1" in proc.stdout
    # the default report goes where ansible-playbook runs (run_playbook runs it in tmp_path), with what was read
    data = json.loads((tmp_path / "ami-share-audit.json").read_text())
    assert sorted(i["region"] for i in data["images"]) == sorted([SOURCE, "us-west-2"])
    assert [r["region"] for r in data["failed_regions"]] == ["eu-west-1"]
    assert partial.returncode == 0, partial.stdout[-3000:]


def test_a_copy_found_under_another_key_is_reused_and_only_that_key_granted(aws, world, run_playbook, tmp_path):
    # an older copy in us-west-2, made under a key other than the one the role is given for that region
    other = create_key(aws.client("kms", "us-west-2"), description="older copies")
    older = aws.client("ec2", "us-west-2").copy_image(
        SourceImageId=world["image_id"], SourceRegion=SOURCE, Name="golden-1", Encrypted=True, KmsKeyId=other
    )["ImageId"]
    proc = run_playbook(PLAY, role_vars(aws, world))
    assert proc.returncode == 0, proc.stdout[-4000:]

    assert copies(aws, world["image_id"])["us-west-2"] == [older]  # reused, not copied again
    assert launch_permissions(aws, "us-west-2", older) == sorted([world["ou_arn"], world["account"]])
    # the key the copy is under was granted after the copy was found ...
    assert world["ou_path"] + "*" in key_policy_text(aws, other)
    # ... and the key named for the region, which no AMI of this run uses, is left alone (no grant nobody needs)
    assert world["ou_path"] not in key_policy_text(aws, world["keys"]["us-west-2"])
    result = printed(proc.stdout)
    assert result["us-west-2"]["image_id"] == older
    assert result["us-west-2"]["kms_key_arn"] == other
    assert result["us-west-2"]["problems"] == []


PLAY_LOOP = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: orgshare.aws.ami_distribute
      vars:
        ami_distribute_source_image_id: "{{ image.image_id }}"
        ami_distribute_organizational_unit_arns: "{{ image.ous }}"
        ami_distribute_account_ids: "{{ image.accounts }}"
      loop: "{{ images }}"
      loop_control:
        loop_var: image  # the role's own loops use item
"""


def test_the_role_in_a_loop_shares_each_image_with_its_own_principals_and_unsharing_one_keeps_what_the_other_needs(
        aws, world, run_playbook, tmp_path):
    # two golden AMIs under the same key in every region, both shared with the OU and the account, the second with one
    # more account
    second = make_image(
        aws.client("ec2", SOURCE), "golden-2",
        volumes=[{"device_name": "/dev/xvda", "size": 8, "encrypted": True, "kms_key_id": world["keys"][SOURCE]}],
    )
    v = role_vars(aws, world)
    for name in ("ami_distribute_source_image_id", "ami_distribute_organizational_unit_arns", "ami_distribute_account_ids"):
        del v[name]  # extra vars would override the loop's vars
    v["images"] = [
        {"image_id": world["image_id"], "ous": [world["ou_arn"]], "accounts": [world["account"]]},
        {"image_id": second, "ous": [world["ou_arn"]], "accounts": [world["account"], "444455556666"]},
    ]
    proc = run_playbook(PLAY_LOOP, v)
    assert proc.returncode == 0, proc.stdout[-4000:]

    first_copies, second_copies = copies(aws, world["image_id"]), copies(aws, second)
    both = sorted([world["ou_arn"], world["account"]])
    more = sorted([world["ou_arn"], world["account"], "444455556666"])
    assert launch_permissions(aws, SOURCE, world["image_id"]) == both
    assert launch_permissions(aws, SOURCE, second) == more
    for r in COPY_REGIONS:
        assert len(first_copies[r]) == 1 and len(second_copies[r]) == 1
        assert launch_permissions(aws, r, first_copies[r][0]) == both
        assert launch_permissions(aws, r, second_copies[r][0]) == more

    unshare = run_playbook(os.path.join(ROOT, "playbooks", "unshare.yml"), role_vars(aws, world))
    assert unshare.returncode == 0, unshare.stdout[-4000:]
    assert launch_permissions(aws, SOURCE, world["image_id"]) == []
    assert launch_permissions(aws, SOURCE, second) == more
    for r in COPY_REGIONS:
        assert launch_permissions(aws, r, first_copies[r][0]) == []
        assert launch_permissions(aws, r, second_copies[r][0]) == more
    for key in world["keys"].values():  # the second AMI's launches still work: its grants are kept
        assert world["ou_path"] + "*" in key_policy_text(aws, key)
        assert world["account"] in key_policy_text(aws, key)
    assert "Kept the grant" in unshare.stdout + unshare.stderr

    # once the second is unshared from the OU and the account too, nothing needs their grants: they go; the account
    # it is still shared with keeps its own
    v2 = role_vars(aws, world, ami_distribute_source_image_id=second)
    assert run_playbook(os.path.join(ROOT, "playbooks", "unshare.yml"), v2).returncode == 0
    assert launch_permissions(aws, SOURCE, second) == ["444455556666"]
    for key in world["keys"].values():
        assert world["ou_path"] not in key_policy_text(aws, key)
        assert world["account"] not in key_policy_text(aws, key)
        assert "444455556666" in key_policy_text(aws, key)
