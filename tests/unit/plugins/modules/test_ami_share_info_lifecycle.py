"""ami_share_info and an AMI's life cycle: disabled and deprecated AMIs are reported (not skipped), with their times;
a key policy naming deleted IAM roles, and a public AMI in a region that blocks public sharing, are problems."""

import json

from orgshare_emulator.fixtures import create_key, make_image

MODULE = "ami_share_info"
CONSUMER = "111122223333"


def backend_image(aws, image_id, region="us-east-1"):
    from moto.ec2.models import ec2_backends

    return ec2_backends[aws.account_id][region].amis[image_id]


def problems(result, image_id, code=None):
    entry = [i for i in result["images"] if i["image_id"] == image_id][0]
    return [p for p in entry["problems"] if code is None or p["code"] == code]


def shared(aws, name="lifecycle"):
    ec2 = aws.client("ec2")
    image_id = make_image(ec2, name)
    ec2.modify_image_attribute(ImageId=image_id, Attribute="launchPermission", LaunchPermission={"Add": [{"UserId": CONSUMER}]})
    return ec2, image_id


def test_a_disabled_ami_is_reported(aws, run_module):
    ec2, image_id = shared(aws)
    ec2.disable_image(ImageId=image_id)
    result = run_module(MODULE, {"image_ids": [image_id]})
    assert not result.failed, result.msg
    entry = [i for i in result["images"] if i["image_id"] == image_id][0]
    assert entry["state"] == "disabled"
    assert [p["code"] for p in entry["problems"]] == ["disabled"]
    assert entry["launch_permissions"]["account_ids"] == []


def test_a_deprecated_ami_is_reported_with_its_time_and_a_future_one_is_not(aws, run_module):
    ec2, old = shared(aws, "golden-old")
    _ec2, new = shared(aws, "golden-new")
    # the deprecation time of the old one has passed (set as AWS keeps it; EnableImageDeprecation refuses a past time)
    backend_image(aws, old).deprecation_time = "2024-01-01T00:00:00.000Z"
    backend_image(aws, new).deprecation_time = "2099-01-01T00:00:00.000Z"
    result = run_module(MODULE, {"image_ids": [old, new]})
    assert not result.failed, result.msg
    [p] = problems(result, old, "deprecated")
    assert p["deprecation_time"] == "2024-01-01T00:00:00.000Z" and p["image_id"] == old and p["region"] == "us-east-1"
    assert "other accounts it is shared with no longer see it" in p["message"]
    assert problems(result, new, "deprecated") == []
    assert [i["deprecation_time"] for i in result["images"] if i["image_id"] == new] == ["2099-01-01T00:00:00.000Z"]


def test_last_launched_time_as_describe_images_gives_it(aws, run_module):
    _ec2, image_id = shared(aws)
    backend_image(aws, image_id).last_launched_time = "2024-11-30T08:15:00.000Z"
    result = run_module(MODULE, {"image_ids": [image_id]})
    assert [i["last_launched_time"] for i in result["images"]] == ["2024-11-30T08:15:00.000Z"]


def test_a_key_policy_naming_a_deleted_role_is_a_problem(aws, run_module):
    iam, kms = aws.client("iam"), aws.client("kms")
    role = iam.create_role(RoleName="Builder", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))["Role"]
    key = create_key(kms)
    arn = kms.describe_key(KeyId=key)["KeyMetadata"]["Arn"]
    doc = json.loads(kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"])
    doc["Statement"].append({"Sid": "Builders", "Effect": "Allow", "Principal": {"AWS": role["Arn"]}, "Action": "kms:Decrypt", "Resource": "*"})
    kms.put_key_policy(KeyId=arn, PolicyName="default", Policy=json.dumps(doc))
    image_id = make_image(aws.client("ec2"), "encrypted", volumes=[{"device_name": "/dev/xvda", "size": 8, "encrypted": True, "kms_key_id": arn}])
    assert problems(run_module(MODULE, {"image_ids": [image_id]}), image_id, "key_policy_orphaned_principals") == []
    iam.delete_role(RoleName="Builder")
    [p] = problems(run_module(MODULE, {"image_ids": [image_id]}), image_id, "key_policy_orphaned_principals")
    assert p["kms_key_arn"] == arn and p["principals"] == [role["RoleId"]]


def test_a_public_ami_where_public_sharing_is_blocked(aws, run_module):
    ec2 = aws.client("ec2")
    image_id = make_image(ec2, "public")
    ec2.modify_image_attribute(ImageId=image_id, Attribute="launchPermission", LaunchPermission={"Add": [{"Group": "all"}]})
    private = make_image(ec2, "private")
    assert problems(run_module(MODULE, {"image_ids": [image_id]}), image_id, "public_sharing_blocked") == []
    ec2.enable_image_block_public_access(ImageBlockPublicAccessState="block-new-sharing")
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"image_ids": [image_id, private], "regions": ["us-east-1", "eu-west-1"]})
    assert [p["code"] for p in problems(result, image_id)] == ["public", "public_sharing_blocked"]
    assert problems(result, private) == []
    reads = [c["region"] for c in aws.emulator.calls if c["action"] == "GetImageBlockPublicAccessState"]
    assert reads == ["us-east-1"]  # only where a public AMI is
