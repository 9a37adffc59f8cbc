"""(c) ModifyImageAttribute validation, the AWS managed key refusal, ResetImageAttribute, owners only."""

import pytest

from emulator_helpers import error_of, raw_client
from orgshare_emulator.fixtures import create_key, credentials_for, make_image

ORG = "arn:aws:organizations::123456789012:organization/o-abcdef1234"
OU = "arn:aws:organizations::123456789012:ou/o-abcdef1234/ou-ab12-abcdefgh"


def _perms(ec2, image_id):
    return ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"]


def _key(p):
    return sorted(p.items())


def test_structured_entries_round_trip(aws):
    ec2 = aws.client("ec2")
    image_id = make_image(ec2, "share-me")
    add = [{"OrganizationArn": ORG}, {"OrganizationalUnitArn": OU}, {"UserId": "111122223333"}, {"Group": "all"}]
    ec2.modify_image_attribute(ImageId=image_id, Attribute="launchPermission", LaunchPermission={"Add": add})
    assert sorted(_perms(ec2, image_id), key=_key) == sorted(add, key=_key)
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Remove": [{"OrganizationalUnitArn": OU}, {"Group": "all"}]})
    assert sorted(_perms(ec2, image_id), key=_key) == sorted([{"OrganizationArn": ORG}, {"UserId": "111122223333"}], key=_key)


@pytest.mark.parametrize(
    "entry",
    [
        {"OrganizationArn": "o-abcdef1234"},  # a bare id
        {"OrganizationArn": "arn:aws:organizations::123456789012:organization/o-ab"},  # too short
        {"OrganizationArn": OU},  # an OU ARN where an org ARN is expected
        {"OrganizationalUnitArn": "ou-ab12-abcdefgh"},
        {"OrganizationalUnitArn": ORG},
        {"OrganizationalUnitArn": "arn:aws:organizations::123456789012:ou/o-abcdef1234/ou-AB12-abcdefgh"},
        {"UserId": "arn:aws:iam::111122223333:root"},
        {"UserId": "11112222333"},
        # InvalidAMIAttributeItemValue: "If you are specifying a userId, check that it is in the form of an AWS account
        # ID" (EC2 API Reference, "Error codes for the Amazon EC2 API"); an account id is 12 digits (AccountId in
        # botocore's Organizations model: "^\d{12}$", a Java pattern, where \d is [0-9]). 12 fullwidth digits are no
        # account id (moto's own check, str.isdigit, takes them), nor is one with a trailing newline
        {"UserId": "\uff11\uff11\uff11\uff11\uff12\uff12\uff12\uff12\uff13\uff13\uff13\uff13"},
        {"UserId": "111122223333\n"},
        {"OrganizationArn": ORG + "\n"},
        {"Group": "everyone"},
    ],
)
def test_malformed_principals_are_rejected_and_nothing_changes(aws, entry):
    ec2 = raw_client(aws, "ec2")
    image_id = make_image(ec2, "strict")
    for op in ("Add", "Remove"):
        code, message = error_of(ec2.modify_image_attribute, ImageId=image_id, LaunchPermission={op: [{"UserId": "111122223333"}, entry]})
        assert code == "InvalidAMIAttributeItemValue"
        assert list(entry.values())[0] in message
    assert _perms(ec2, image_id) == []


def test_other_partitions_are_valid(aws):
    ec2 = aws.client("ec2")
    image_id = make_image(ec2, "partitions")
    add = [{"OrganizationArn": "arn:aws-us-gov:organizations::123456789012:organization/o-abcdef1234"}]
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": add})
    assert _perms(ec2, image_id) == add


def test_aws_managed_key_snapshots_cannot_be_shared(aws):
    ec2, kms = raw_client(aws, "ec2"), aws.client("kms")
    managed = make_image(ec2, "managed", volumes=[{"device_name": "/dev/xvda", "size": 8}, {"device_name": "/dev/xvdb", "size": 8, "encrypted": True}])
    for entry in ({"UserId": "111122223333"}, {"OrganizationArn": ORG}, {"Group": "all"}):
        code, message = error_of(ec2.modify_image_attribute, ImageId=managed, LaunchPermission={"Add": [entry]})
        assert (code, message) == ("InvalidParameter", "Snapshots encrypted with the AWS Managed CMK can't be shared. Specify another snapshot.")
    assert _perms(ec2, managed) == []
    # removing is allowed (nothing to remove, but no error)
    ec2.modify_image_attribute(ImageId=managed, LaunchPermission={"Remove": [{"UserId": "111122223333"}]})
    # the same image under a customer managed key can be shared
    key = create_key(kms)
    cmk = make_image(ec2, "cmk", volumes=[{"device_name": "/dev/xvda", "size": 8, "kms_key_id": key}])
    ec2.modify_image_attribute(ImageId=cmk, LaunchPermission={"Add": [{"UserId": "111122223333"}]})
    assert _perms(ec2, cmk) == [{"UserId": "111122223333"}]


def test_reset_image_attribute_removes_every_permission(aws):
    ec2 = raw_client(aws, "ec2")
    image_id = make_image(ec2, "reset-me")
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"OrganizationArn": ORG}, {"Group": "all"}, {"UserId": "111122223333"}]})
    assert ec2.describe_images(ImageIds=[image_id])["Images"][0]["Public"] is True
    ec2.reset_image_attribute(ImageId=image_id, Attribute="launchPermission")
    assert _perms(ec2, image_id) == []
    assert ec2.describe_images(ImageIds=[image_id])["Images"][0]["Public"] is False
    assert error_of(ec2.reset_image_attribute, ImageId=image_id, Attribute="description")[0] == "InvalidParameterValue"


def test_only_the_owner_reads_or_changes_launch_permissions(aws):
    ec2 = raw_client(aws, "ec2")
    image_id = make_image(ec2, "mine")
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": "111122223333"}]})
    ak, sk = credentials_for(aws.emulator, "111122223333")
    other = raw_client(aws, "ec2", access_key=ak, secret_key=sk)
    for call, kwargs in (
        (other.describe_image_attribute, {"Attribute": "launchPermission"}),
        (other.modify_image_attribute, {"LaunchPermission": {"Add": [{"UserId": "444455556666"}]}}),
        (other.reset_image_attribute, {"Attribute": "launchPermission"}),
    ):
        code, message = error_of(call, ImageId=image_id, **kwargs)
        assert code == "AuthFailure" and image_id in message
    assert _perms(ec2, image_id) == [{"UserId": "111122223333"}]
    assert error_of(ec2.describe_image_attribute, ImageId="ami-0123456789abcdef0", Attribute="launchPermission")[0] == "InvalidAMIID.NotFound"
