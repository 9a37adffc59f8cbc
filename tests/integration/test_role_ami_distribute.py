"""The role orgshare.aws.ami_distribute and the distribute / unshare / audit playbooks, end to end
with ansible-playbook against the emulator: --check on a fresh state, state absent, a region with a
missing key that converges once fixed, the audit, an older copy under another key, the role in a loop.
(First run, converged re-run and --check on it: test_role_plan_first.py.)"""

import json
import os
import re
import subprocess
import sys

import pytest

from orgshare_emulator.fixtures import create_key, make_image

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
    - ansible.builtin.copy:
        content: "{{ ami_distribute_result | to_json }}"
        dest: "{{ result_file }}"
        mode: "0644"
      check_mode: false
"""


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


def role_vars(aws, world, tmp_path, **over):
    v = {
        "ami_distribute_source_image_id": world["image_id"],
        "ami_distribute_source_region": SOURCE,
        "ami_distribute_regions": [{"region": r, "kms_key_id": world["keys"][r]} for r in COPY_REGIONS],
        "ami_distribute_organizational_unit_arns": [world["ou_arn"]],
        "ami_distribute_account_ids": [world["account"]],
        "ami_distribute_aws_endpoint_url": aws.endpoint_url,
        "ami_distribute_wait_timeout": 120,
        "result_file": str(tmp_path / "result.json"),
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


def test_check_mode_on_a_fresh_state_writes_nothing(aws, world, run_playbook, tmp_path):
    aws.emulator.clear_calls()
    proc = run_playbook(PLAY, role_vars(aws, world, tmp_path), check=True)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert recap(proc)["changed"] > 0
    assert aws.write_calls() == []
    assert copies(aws, world["image_id"]) == {r: [] for r in COPY_REGIONS}
    assert launch_permissions(aws, SOURCE, world["image_id"]) == []


def test_absent_unshares_everything_and_keeps_the_amis(aws, world, run_playbook, tmp_path):
    v = role_vars(aws, world, tmp_path)
    assert run_playbook(PLAY, v).returncode == 0
    targets = assert_distributed(aws, world)
    # someone else's share on the source survives
    aws.client("ec2", SOURCE).modify_image_attribute(
        ImageId=world["image_id"], Attribute="launchPermission", LaunchPermission={"Add": [{"UserId": "999988887777"}]}
    )
    # check mode predicts the run: the removals and the key revocations made once the AMIs are unshared
    aws.emulator.clear_calls()
    # (a result file of its own: the play's copy of the result then changes in both runs)
    predicted = run_playbook(PLAY, dict(v, ami_distribute_state="absent", result_file=str(tmp_path / "predicted.json")), check=True)
    assert predicted.returncode == 0, predicted.stdout[-4000:]
    assert aws.write_calls() == []
    gone = run_playbook(PLAY, dict(v, ami_distribute_state="absent"))
    assert gone.returncode == 0, gone.stdout[-4000:]
    assert recap(predicted)["changed"] == recap(gone)["changed"] > 0
    for region, image_id in targets:
        expected = ["999988887777"] if region == SOURCE else []
        assert launch_permissions(aws, region, image_id) == expected
    for key in world["keys"].values():
        assert world["ou_path"] not in key_policy_text(aws, key)
        assert "Enable IAM User Permissions" in key_policy_text(aws, key)
    assert all(len(v) == 1 for v in copies(aws, world["image_id"]).values())
    again = run_playbook(PLAY, dict(v, ami_distribute_state="absent"))
    assert again.returncode == 0 and recap(again)["changed"] == 0, again.stdout[-4000:]


def test_a_region_with_a_missing_key_is_refused_before_any_write_then_converges_when_fixed(aws, world, run_playbook, tmp_path):
    # a well-formed key ARN of the right region that does not exist: the check-mode reads find it missing,
    # so the role stops before its first write (a region AWS fails to read is another matter: see
    # test_role_plan_first.py's broken region)
    bad = world["keys"]["us-west-2"].rsplit("/", 1)[0] + "/00000000-0000-4000-8000-000000000000"
    v = role_vars(aws, world, tmp_path)
    v["ami_distribute_regions"] = [
        {"region": "us-west-2", "kms_key_id": bad},
        {"region": "eu-west-1", "kms_key_id": world["keys"]["eu-west-1"]},
    ]
    aws.emulator.clear_calls()
    failed = run_playbook(PLAY, v)
    assert failed.returncode != 0
    assert "us-west-2" in failed.stdout and bad in failed.stdout and "nothing was written" in failed.stdout
    assert aws.write_calls() == []
    assert copies(aws, world["image_id"]) == {r: [] for r in COPY_REGIONS}

    fixed = run_playbook(PLAY, role_vars(aws, world, tmp_path))
    assert fixed.returncode == 0, fixed.stdout[-4000:]
    assert_distributed(aws, world)


def test_audit_playbook_writes_markdown_and_json(aws, world, run_playbook, tmp_path):
    assert run_playbook(PLAY, role_vars(aws, world, tmp_path)).returncode == 0
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


def test_a_copy_found_under_another_key_is_reused_and_only_that_key_granted(aws, world, run_playbook, tmp_path):
    # an older copy in us-west-2, made under a key other than the one the role is given for that region
    other = create_key(aws.client("kms", "us-west-2"), description="older copies")
    older = aws.client("ec2", "us-west-2").copy_image(
        SourceImageId=world["image_id"], SourceRegion=SOURCE, Name="golden-1", Encrypted=True, KmsKeyId=other
    )["ImageId"]
    proc = run_playbook(PLAY, role_vars(aws, world, tmp_path))
    assert proc.returncode == 0, proc.stdout[-4000:]

    assert copies(aws, world["image_id"])["us-west-2"] == [older]  # reused, not copied again
    assert launch_permissions(aws, "us-west-2", older) == sorted([world["ou_arn"], world["account"]])
    # the key the copy is under was granted after the copy was found ...
    assert world["ou_path"] + "*" in key_policy_text(aws, other)
    # ... and the key named for the region, which no AMI of this run uses, is left alone (no grant nobody needs)
    assert world["ou_path"] not in key_policy_text(aws, world["keys"]["us-west-2"])
    result = json.loads((tmp_path / "result.json").read_text())
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


def test_the_role_in_a_loop_shares_each_image_only_with_its_own_principals(aws, world, run_playbook, tmp_path):
    second = make_image(
        aws.client("ec2", SOURCE), "golden-2",
        volumes=[{"device_name": "/dev/xvda", "size": 8, "encrypted": True, "kms_key_id": world["keys"][SOURCE]}],
    )
    v = role_vars(aws, world, tmp_path)
    for name in ("ami_distribute_source_image_id", "ami_distribute_organizational_unit_arns", "ami_distribute_account_ids"):
        del v[name]  # extra vars would override the loop's vars
    v["images"] = [
        {"image_id": world["image_id"], "ous": [world["ou_arn"]], "accounts": [world["account"]]},
        {"image_id": second, "ous": [], "accounts": ["444455556666"]},
    ]
    proc = run_playbook(PLAY_LOOP, v)
    assert proc.returncode == 0, proc.stdout[-4000:]

    first_copies, second_copies = copies(aws, world["image_id"]), copies(aws, second)
    assert launch_permissions(aws, SOURCE, world["image_id"]) == sorted([world["ou_arn"], world["account"]])
    assert launch_permissions(aws, SOURCE, second) == ["444455556666"]
    for r in COPY_REGIONS:
        assert len(first_copies[r]) == 1 and len(second_copies[r]) == 1
        assert launch_permissions(aws, r, first_copies[r][0]) == sorted([world["ou_arn"], world["account"]])
        assert launch_permissions(aws, r, second_copies[r][0]) == ["444455556666"]


def test_audit_fails_when_a_region_cannot_be_read_and_reports_where_it_runs(aws, world, run_playbook, tmp_path):
    assert run_playbook(PLAY, role_vars(aws, world, tmp_path)).returncode == 0
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


def test_unsharing_one_ami_keeps_the_key_grants_another_ami_needs(aws, world, run_playbook, tmp_path):
    # two golden AMIs under the same key in every region, both shared with the same OU and account
    second = make_image(
        aws.client("ec2", SOURCE), "golden-2",
        volumes=[{"device_name": "/dev/xvda", "size": 8, "encrypted": True, "kms_key_id": world["keys"][SOURCE]}],
    )
    v = role_vars(aws, world, tmp_path)
    for name in ("ami_distribute_source_image_id", "ami_distribute_organizational_unit_arns", "ami_distribute_account_ids"):
        del v[name]
    v["images"] = [{"image_id": i, "ous": [world["ou_arn"]], "accounts": [world["account"]]} for i in (world["image_id"], second)]
    assert run_playbook(PLAY_LOOP, v).returncode == 0

    unshare = run_playbook(os.path.join(ROOT, "playbooks", "unshare.yml"), role_vars(aws, world, tmp_path))
    assert unshare.returncode == 0, unshare.stdout[-4000:]
    first_copies, second_copies = copies(aws, world["image_id"]), copies(aws, second)
    assert launch_permissions(aws, SOURCE, world["image_id"]) == []
    assert launch_permissions(aws, SOURCE, second) == sorted([world["ou_arn"], world["account"]])
    for r in COPY_REGIONS:
        assert launch_permissions(aws, r, first_copies[r][0]) == []
        assert launch_permissions(aws, r, second_copies[r][0]) == sorted([world["ou_arn"], world["account"]])
    for key in world["keys"].values():  # the second AMI's launches still work: its grants are kept
        assert world["ou_path"] + "*" in key_policy_text(aws, key)
        assert world["account"] in key_policy_text(aws, key)
    assert "Kept the grant" in unshare.stdout + unshare.stderr

    # once the second is unshared too, nothing needs the grants: they go
    v2 = role_vars(aws, world, tmp_path, ami_distribute_source_image_id=second)
    assert run_playbook(os.path.join(ROOT, "playbooks", "unshare.yml"), v2).returncode == 0
    for key in world["keys"].values():
        assert world["ou_path"] not in key_policy_text(aws, key)
        assert world["account"] not in key_policy_text(aws, key)


def test_someone_elses_share_does_not_fail_the_run_but_is_reported(aws, world, run_playbook, tmp_path):
    assert run_playbook(PLAY, role_vars(aws, world, tmp_path)).returncode == 0
    copy = copies(aws, world["image_id"])["us-west-2"][0]
    # a member account at the root (outside the role's OU), shared by hand, with no key grant: the key policy does not let
    # it launch, but it is not a principal the role was given
    stranger = aws.client("organizations").create_account(Email="s@example.com", AccountName="stranger")["CreateAccountStatus"]["AccountId"]
    aws.client("ec2", "us-west-2").modify_image_attribute(
        ImageId=copy, Attribute="launchPermission", LaunchPermission={"Add": [{"UserId": stranger}]})
    proc = run_playbook(PLAY, role_vars(aws, world, tmp_path))
    assert proc.returncode == 0, proc.stdout[-4000:]
    result = json.loads((tmp_path / "result.json").read_text())
    problems = result["us-west-2"]["problems"]
    assert [(p["code"], p["principal"]) for p in problems] == [("key_not_granted", stranger)]
    assert result[SOURCE]["problems"] == []
