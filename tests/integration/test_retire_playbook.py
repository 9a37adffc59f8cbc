"""The playbook orgshare.aws.retire against the emulator, as a user runs it: --check lists the plan and writes nothing;
a run unshares and disables the old versions and revokes only the key grants no kept version needs; a re-run writes
nothing; a bad input stops before any call."""

import json
import os

import pytest

from orgshare_emulator.fixtures import create_key, make_image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(ROOT, "playbooks", "retire.yml")
REGION = "us-east-1"


@pytest.fixture
def world(aws):
    """golden-v1..v3 shared with an OU: v1 alone under key A, v2 and v3 under key B (v3 newest)."""
    org = aws.client("organizations", REGION)
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="apps")["OrganizationalUnit"]
    o = org.describe_organization()["Organization"]
    kms = aws.client("kms", REGION)
    key_a, key_b = create_key(kms, description="old key"), create_key(kms, description="current key")
    ec2 = aws.client("ec2", REGION)
    ids = []
    for n, key in ((1, key_a), (2, key_b), (3, key_b)):
        image_id = make_image(ec2, "golden-v%d" % n, volumes=[{"device_name": "/dev/xvda", "size": 8, "kms_key_id": key}])
        ec2.modify_image_attribute(ImageId=image_id, Attribute="launchPermission", LaunchPermission={"Add": [{"OrganizationalUnitArn": ou["Arn"]}]})
        ids.append(image_id)
    return dict(ids=ids, key_a=key_a, key_b=key_b, ou_arn=ou["Arn"], org_id=o["Id"], ou_path="%s/%s/%s/" % (o["Id"], root, ou["Id"]))


def grant_keys(aws, run_module, world):
    for key in (world["key_a"], world["key_b"]):
        result = run_module("kms_org_grant", {"key_id": key, "organization": world["org_id"], "organizational_units": [world["ou_arn"]]})
        assert not result.failed, result.msg


def org_statements(aws, key):
    policy = json.loads(aws.client("kms", REGION).get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    return sorted(s["Sid"] for s in policy["Statement"] if s.get("Sid", "").startswith("OrgShare"))


def state_of(aws, image_id):
    return aws.client("ec2", REGION).describe_images(ImageIds=[image_id], IncludeDisabled=True)["Images"][0]["State"]


def variables(aws, **extra):
    out = {"retire_family": {"name_prefix": "golden-"}, "retire_keep_newest": 1, "retire_aws_endpoint_url": aws.endpoint_url,
           "retire_regions": [REGION], "retire_force": True}
    out.update(extra)
    return out


def test_check_then_retire_then_converged(aws, world, run_playbook, run_module):
    v1, v2, v3 = world["ids"]
    grant_keys(aws, run_module, world)
    granted = org_statements(aws, world["key_a"])
    assert granted and org_statements(aws, world["key_b"]) == granted

    aws.emulator.clear_calls()
    check = run_playbook(PLAYBOOK, variables(aws), check=True)
    assert check.returncode == 0, check.stdout[-4000:]
    assert aws.write_calls() == []
    assert "%s %s golden-v1 retired unshare, disable" % (REGION, v1) in check.stdout
    assert "%s %s golden-v3 kept_newest" % (REGION, v3) in check.stdout

    run = run_playbook(PLAYBOOK, variables(aws))
    assert run.returncode == 0, run.stdout[-4000:]
    assert [state_of(aws, i) for i in (v1, v2, v3)] == ["disabled", "disabled", "available"]
    # key A served only v1: its grant goes; key B still serves v3, shared with the OU: its grant stays
    assert org_statements(aws, world["key_a"]) == []
    assert org_statements(aws, world["key_b"]) == granted
    assert world["ou_path"] in aws.client("kms", REGION).get_key_policy(KeyId=world["key_b"], PolicyName="default")["Policy"]

    aws.emulator.clear_calls()
    again = run_playbook(PLAYBOOK, variables(aws))
    assert again.returncode == 0, again.stdout[-4000:]
    assert aws.write_calls() == []
    assert "changed=0" in again.stdout


@pytest.mark.parametrize("extra, message", [
    ({"retire_keep_newest": "three"}, "retire_keep_newest"),
    ({"retire_family": "golden-"}, "retire_family"),
    ({"retire_regions": ["us-east"]}, "regions[0]: 'us-east' is not a region name"),
])
def test_bad_input_stops_before_any_call(aws, world, run_playbook, extra, message):
    aws.emulator.clear_calls()
    proc = run_playbook(PLAYBOOK, variables(aws, **extra))
    assert proc.returncode != 0
    assert message in proc.stdout, proc.stdout[-3000:]
    assert aws.emulator.calls == []


def test_extra_vars_as_strings(aws, world, run_playbook):
    """-e name=value gives strings: keep_newest '1', force 'true' work as the numbers and booleans they name."""
    v1, v2, v3 = world["ids"]
    proc = run_playbook(PLAYBOOK, {"retire_family": {"name_prefix": "golden-"}, "retire_aws_endpoint_url": aws.endpoint_url,
                                   "retire_regions": [REGION]},
                        args=["-e", "retire_keep_newest=2", "-e", "retire_force=true", "-e", "retire_deregister=false"])
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert [state_of(aws, i) for i in (v1, v2, v3)] == ["disabled", "available", "available"]
