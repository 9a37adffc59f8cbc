"""orgshare.aws.ami_retire against the emulator: the resulting AWS state is read back through boto3."""

import pytest

from orgshare_emulator.fixtures import create_key, make_image

REGION = "us-east-1"
OTHER_ACCOUNT = "210987654321"


@pytest.fixture
def family(aws):
    """Four versions golden-v1..v4 of a family (v4 newest), each encrypted under one customer managed key, shared with
    an OU and an account; one image of another family. Returns a dict with ids, key and OU ARN."""
    org = aws.client("organizations", REGION)
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ou_arn = org.create_organizational_unit(ParentId=root, Name="apps")["OrganizationalUnit"]["Arn"]
    ec2 = aws.client("ec2", REGION)
    key = create_key(aws.client("kms", REGION), description="golden key")
    ids = []
    for n in range(1, 5):
        image_id = make_image(ec2, "golden-v%d" % n, volumes=[{"device_name": "/dev/xvda", "size": 8, "kms_key_id": key}])
        ec2.modify_image_attribute(ImageId=image_id, Attribute="launchPermission", LaunchPermission={
            "Add": [{"OrganizationalUnitArn": ou_arn}, {"UserId": OTHER_ACCOUNT}]})
        ids.append(image_id)
    stranger = make_image(ec2, "other-v1")
    return dict(ids=ids, key=key, ou_arn=ou_arn, stranger=stranger)


def state_of(aws, image_id):
    images = aws.client("ec2", REGION).describe_images(ImageIds=[image_id], IncludeDisabled=True)["Images"]
    return images[0]["State"] if images else "deregistered"


def permissions_of(aws, image_id):
    perms = aws.client("ec2", REGION).describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"]
    return sorted(p.get("OrganizationalUnitArn") or p.get("UserId") for p in perms)


def by_id(result):
    return {e["image_id"]: e for e in result["images"]}


ARGS = {"family": {"name_prefix": "golden-"}, "keep_newest": 2, "force": True}


def test_check_mode_lists_then_run_unshares_and_disables_the_old_versions(aws, family, run_module):
    v1, v2, v3, v4 = family["ids"]
    aws.emulator.clear_calls()
    check = run_module("ami_retire", ARGS, check_mode=True)
    assert not check.failed, check.msg
    assert aws.write_calls() == []
    plan = by_id(check)
    assert [e["image_id"] for e in check["images"]] == [v4, v3, v2, v1]  # newest first; the other family is not there
    assert (plan[v4]["reason"], plan[v3]["reason"]) == ("kept_newest", "kept_newest")
    assert plan[v2]["actions"] == plan[v1]["actions"] == ["unshare", "disable"]
    assert plan[v1]["unshared"]["organizational_unit_arns"] == [family["ou_arn"]]
    assert plan[v1]["unshared"]["account_ids"] == [OTHER_ACCOUNT]
    assert check["changed"] is True
    assert sorted(check["retired_image_ids"]) == sorted([v1, v2])

    result = run_module("ami_retire", ARGS)
    assert not result.failed, result.msg
    assert (state_of(aws, v1), state_of(aws, v2)) == ("disabled", "disabled")
    assert (state_of(aws, v3), state_of(aws, v4)) == ("available", "available")
    assert permissions_of(aws, v3) == permissions_of(aws, v4) == sorted([family["ou_arn"], OTHER_ACCOUNT])
    assert state_of(aws, family["stranger"]) == "available"
    key_arn = aws.client("kms", REGION).describe_key(KeyId=family["key"])["KeyMetadata"]["Arn"]
    org_id = family["ou_arn"].split(":ou/")[1].split("/")[0]
    assert result["key_revocations"] == [
        {"keys": [{"key_id": key_arn, "region": REGION}], "organization": org_id,
         "organizational_units": [family["ou_arn"]], "account_ids": [OTHER_ACCOUNT]},
    ]

    # converged: the disabled versions are found again, nothing is written
    aws.emulator.clear_calls()
    again = run_module("ami_retire", ARGS)
    assert not again.failed, again.msg
    assert again["changed"] is False
    assert aws.write_calls() == []
    assert by_id(again)[v1]["reason"] is None and by_id(again)[v1]["actions"] == []


def test_deregister_deletes_only_the_snapshots_no_other_ami_uses(aws, family, run_module):
    v1, v2, v3, v4 = family["ids"]
    ec2 = aws.client("ec2", REGION)
    v1_snapshot = ec2.describe_images(ImageIds=[v1])["Images"][0]["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    v2_snapshot = ec2.describe_images(ImageIds=[v2])["Images"][0]["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    # another AMI (not of the family) registered from v1's snapshot
    ec2.register_image(Name="rescue", Architecture="x86_64", VirtualizationType="hvm", RootDeviceName="/dev/xvda",
                       BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": v1_snapshot}}])
    result = run_module("ami_retire", dict(ARGS, deregister=True))
    assert not result.failed, result.msg
    entries = by_id(result)
    assert entries[v1]["actions"] == ["unshare", "deregister"]  # its only snapshot is another AMI's too
    assert entries[v1]["snapshots_kept"] == [v1_snapshot]
    assert entries[v2]["actions"] == ["unshare", "deregister", "delete_snapshots"]
    assert (state_of(aws, v1), state_of(aws, v2), state_of(aws, v3)) == ("deregistered", "deregistered", "available")
    left = [s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]]
    assert v1_snapshot in left and v2_snapshot not in left


def test_keep_zero_and_exclusions(aws, family, run_module):
    v1, v2, v3, v4 = family["ids"]
    result = run_module("ami_retire", dict(ARGS, keep_newest=0, exclude_image_ids=[v4]), check_mode=True)
    assert not result.failed, result.msg
    entries = by_id(result)
    assert entries[v4]["reason"] == "excluded"
    assert all(entries[i]["actions"] == ["unshare", "disable"] for i in (v1, v2, v3))


@pytest.mark.parametrize("args, message", [
    ({"keep_newest": -1}, "keep_newest: -1"),
    ({"regions": ["eu-west"]}, "regions[0]: 'eu-west' is not a region name"),
    ({"regions": []}, "regions: give at least one region"),
    ({"exclude_image_ids": ["ami-12"]}, "exclude_image_ids[0]: 'ami-12' is not an AMI id"),
    ({"family": {}}, "family: give name_prefix, tags, or both"),
    ({"family": {"name_prefix": "golden-*"}}, "family.name_prefix"),
])
def test_bad_input_is_refused_before_any_call(aws, run_module, args, message):
    aws.emulator.clear_calls()
    result = run_module("ami_retire", dict(ARGS, **args))
    assert result.failed and message in result.msg, result.msg
    assert aws.emulator.calls == []


def test_a_region_that_cannot_be_read_fails_the_run_and_the_others_are_retired(aws, family, run_module):
    v1, v2, v3, v4 = family["ids"]
    aws.emulator.inject_faults(rate=1.0, kind="denied", regions=["eu-west-1"])
    try:
        result = run_module("ami_retire", dict(ARGS, regions=[REGION, "eu-west-1"]))
    finally:
        aws.emulator.clear_faults()
    assert result.failed and "the AMIs of the family in eu-west-1" in result.msg, result.msg
    failed = [e for e in result["images"] if e.get("failed")]
    assert [(e["image_id"], e["region"]) for e in failed] == [(None, "eu-west-1")]
    assert (state_of(aws, v1), state_of(aws, v2)) == ("disabled", "disabled")


def test_referenced_and_protected_versions_are_left_alone_unless_forced(aws, family, run_module):
    v1, v2, v3, v4 = family["ids"]
    ec2 = aws.client("ec2", REGION)
    template = ec2.create_launch_template(LaunchTemplateName="uses-v1", LaunchTemplateData={"ImageId": v1})["LaunchTemplate"]
    ec2.enable_image_deregistration_protection(ImageId=v2)
    args = dict(ARGS, force=False, deregister=True)

    aws.emulator.clear_calls()
    result = run_module("ami_retire", args)
    assert not result.failed, result.msg
    entries = by_id(result)
    assert entries[v1]["reason"] == "referenced" and entries[v1]["actions"] == []
    assert [r["resource_type"] for r in entries[v1]["references"]] == ["ec2:LaunchTemplate"]
    assert template["LaunchTemplateId"] in entries[v1]["references"][0]["arn"]
    assert entries[v2]["reason"] == "protected" and entries[v2]["actions"] == []
    assert result["changed"] is False and aws.write_calls() == []
    assert permissions_of(aws, v1) == permissions_of(aws, v2) == sorted([family["ou_arn"], OTHER_ACCOUNT])
    assert result["retired_image_ids"] == [] and result["key_revocations"] == []

    forced = run_module("ami_retire", dict(args, force=True))
    assert not forced.failed, forced.msg
    entries = by_id(forced)
    assert entries[v2]["actions"] == ["unshare", "disable_protection", "deregister", "delete_snapshots"]
    assert (state_of(aws, v1), state_of(aws, v2), state_of(aws, v3)) == ("deregistered", "deregistered", "available")


def test_a_failed_write_is_reported_and_its_version_is_not_counted_retired(aws, family, run_module):
    v1, v2, v3, v4 = family["ids"]
    aws.emulator.inject_faults(schedule={"DisableImage": ["denied"]})
    try:
        result = run_module("ami_retire", ARGS)
    finally:
        aws.emulator.clear_faults()
    assert result.failed and "1 of 4 target(s) failed" in result.msg, result.msg
    failed = [e["image_id"] for e in result["images"] if e.get("failed")]
    assert len(failed) == 1 and failed[0] in (v1, v2)
    assert failed[0] not in result["retired_image_ids"]
    done = v2 if failed[0] == v1 else v1
    assert state_of(aws, done) == "disabled" and done in result["retired_image_ids"]


def test_more_old_versions_than_one_references_call_takes(aws, run_module):
    """DescribeImageReferences takes at most 10 ImageIds (botocore's EC2 model): 12 old versions are read in batches."""
    ec2 = aws.client("ec2", REGION)
    ids = [make_image(ec2, "many-v%02d" % n) for n in range(1, 14)]
    template = ec2.create_launch_template(LaunchTemplateName="uses-v01", LaunchTemplateData={"ImageId": ids[0]})["LaunchTemplate"]
    result = run_module("ami_retire", {"family": {"name_prefix": "many-"}, "keep_newest": 1}, check_mode=True)
    assert not result.failed, result.msg
    entries = by_id(result)
    assert entries[ids[-1]]["reason"] == "kept_newest"
    assert entries[ids[0]]["reason"] == "referenced" and template["LaunchTemplateId"] in entries[ids[0]]["references"][0]["arn"]
    assert all(entries[i]["reason"] is None and entries[i]["actions"] == ["disable"] for i in ids[1:-1])
