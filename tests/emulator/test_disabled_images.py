"""DisableImage / EnableImage and what a disabled AMI is.

Sources: EC2 User Guide, "Disable an Amazon EC2 AMI"
(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/disable-an-ami.html); the DisableImage, EnableImage and
DescribeImages (IncludeDisabled) API reference (botocore ec2 2016-11-15). The error codes of sharing a disabled AMI
and of a non-owner's DisableImage are not documented (unverified): only the failure is asserted.
"""

import botocore.exceptions
import pytest

from emulator_helpers import raw_client
from orgshare_emulator.fixtures import credentials_for, make_image

MEMBER = "777788889999"


def _perms(ec2, image_id):
    return ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"]


def _ids(ec2, **kwargs):
    return sorted(i["ImageId"] for i in ec2.describe_images(**kwargs)["Images"])


@pytest.fixture
def member(aws):
    access_key, secret_key = credentials_for(aws.emulator, MEMBER)
    return raw_client(aws, "ec2", access_key=access_key, secret_key=secret_key)


def test_disable_removes_launch_permissions_and_hides_the_ami(aws, member):
    ec2 = raw_client(aws, "ec2")
    image_id = make_image(ec2, "to-disable")
    kept = make_image(ec2, "kept")
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": MEMBER}, {"Group": "all"}]})
    assert _ids(member, ImageIds=[image_id]) == [image_id]
    assert ec2.disable_image(ImageId=image_id)["Return"] is True
    assert _perms(ec2, image_id) == []
    # hidden from DescribeImages by default, shown with IncludeDisabled
    assert _ids(ec2, Owners=["self"]) == [kept]
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        ec2.describe_images(ImageIds=[image_id])
    assert exc.value.response["Error"]["Code"] == "InvalidAMIID.NotFound"
    image = ec2.describe_images(ImageIds=[image_id], IncludeDisabled=True)["Images"][0]
    assert (image["State"], image["Public"]) == ("disabled", False)
    assert _ids(ec2, Owners=["self"], IncludeDisabled=True) == sorted([image_id, kept])
    # the member lost its access
    assert _ids(member, ExecutableUsers=["self"]) == []
    assert _ids(member, ExecutableUsers=["self"], IncludeDisabled=True) == []


def test_disabled_ami_cannot_be_shared(aws):
    ec2 = raw_client(aws, "ec2")
    image_id = make_image(ec2, "disabled")
    ec2.disable_image(ImageId=image_id)
    for entry in ({"UserId": MEMBER}, {"Group": "all"}):
        with pytest.raises(botocore.exceptions.ClientError):
            ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [entry]})
    assert _perms(ec2, image_id) == []


def test_enable_makes_it_available_without_its_old_permissions(aws, member):
    ec2 = raw_client(aws, "ec2")
    image_id = make_image(ec2, "re-enabled")
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": MEMBER}]})
    ec2.disable_image(ImageId=image_id)
    assert ec2.enable_image(ImageId=image_id)["Return"] is True
    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    assert image["State"] == "available"
    assert _perms(ec2, image_id) == []
    assert _ids(member, ExecutableUsers=["self"]) == []
    # it can be shared again
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": MEMBER}]})
    assert _ids(member, ExecutableUsers=["self"]) == [image_id]


def test_only_the_owner_disables(aws, member):
    ec2 = raw_client(aws, "ec2")
    image_id = make_image(ec2, "owned")
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": MEMBER}]})
    with pytest.raises(botocore.exceptions.ClientError):
        member.disable_image(ImageId=image_id)
    assert ec2.describe_images(ImageIds=[image_id])["Images"][0]["State"] == "available"
    assert _perms(ec2, image_id) == [{"UserId": MEMBER}]
