"""Public sharing rules: image block public access, encrypted AMIs, the public AMI and sharing quotas.

Sources (docs/aws-facts.md, "Public sharing"): EC2 User Guide "Understand block public access for AMIs",
"Make your AMI publicly available for use in Amazon EC2", "AMI quotas"; the API reference of
Get/Enable/DisableImageBlockPublicAccess. The error codes of the refusals are not in AWS's documentation
(docs/emulator.md marks them unverified), so these tests assert that the call fails and what stays unchanged.
"""

import botocore.exceptions
import pytest

from emulator_helpers import raw_client
from orgshare_emulator.fixtures import create_key, credentials_for, make_image

OTHER = "777788889999"


def _perms(ec2, image_id):
    return ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"]


def _public(ec2, image_id):
    return ec2.describe_images(ImageIds=[image_id])["Images"][0]["Public"]


def _make_public(ec2, image_id, *others):
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"Group": "all"}] + list(others)})


def _state(ec2):
    return ec2.get_image_block_public_access_state()["ImageBlockPublicAccessState"]


@pytest.fixture
def knobs(aws):
    yield aws.emulator
    aws.emulator.set_image_block_public_access_default("unblocked")
    aws.emulator.set_public_ami_quota(5)


# ---- image block public access --------------------------------------------------------------------
def test_block_public_access_is_per_account_and_region(aws):
    ec2 = raw_client(aws, "ec2")
    west = raw_client(aws, "ec2", region="eu-west-1")
    access_key, secret_key = credentials_for(aws.emulator, OTHER)
    other = raw_client(aws, "ec2", access_key=access_key, secret_key=secret_key)
    assert (_state(ec2), _state(west), _state(other)) == ("unblocked", "unblocked", "unblocked")  # the emulator's default
    answer = ec2.enable_image_block_public_access(ImageBlockPublicAccessState="block-new-sharing")
    assert answer["ImageBlockPublicAccessState"] == "block-new-sharing"
    got = ec2.get_image_block_public_access_state()
    assert (got["ImageBlockPublicAccessState"], got["ManagedBy"]) == ("block-new-sharing", "account")
    assert (_state(west), _state(other)) == ("unblocked", "unblocked")
    assert ec2.disable_image_block_public_access()["ImageBlockPublicAccessState"] == "unblocked"
    assert _state(ec2) == "unblocked"


def test_enable_image_block_public_access_takes_only_block_new_sharing(aws):
    """EnableImageBlockPublicAccess ``ImageBlockPublicAccessState`` (API Reference, "EnableImageBlockPublicAccess",
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_EnableImageBlockPublicAccess.html; botocore's EC2 model):
    "Specify block-new-sharing", its only valid value. botocore does not check enums, so another value reaches the
    service; it is refused (the code is not documented, not pinned) and the setting stays as it was."""
    ec2 = raw_client(aws, "ec2")
    with pytest.raises(botocore.exceptions.ClientError):
        ec2.enable_image_block_public_access(ImageBlockPublicAccessState="unblocked")
    assert _state(ec2) == "unblocked"


def test_blocked_region_refuses_new_public_sharing_and_nothing_of_the_call_changes(aws):
    ec2 = raw_client(aws, "ec2")
    image_id = make_image(ec2, "blocked")
    ec2.enable_image_block_public_access(ImageBlockPublicAccessState="block-new-sharing")
    with pytest.raises(botocore.exceptions.ClientError):
        _make_public(ec2, image_id, {"UserId": "111122223333"})
    assert _public(ec2, image_id) is False
    assert _perms(ec2, image_id) == []
    # other principals can still be added, and another region of the same account is not blocked
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": "111122223333"}]})
    assert _perms(ec2, image_id) == [{"UserId": "111122223333"}]
    west = raw_client(aws, "ec2", region="eu-west-1")
    west_image = make_image(west, "unblocked-west")
    _make_public(west, west_image)
    assert _public(west, west_image) is True
    # disabled again: public sharing works
    ec2.disable_image_block_public_access()
    _make_public(ec2, image_id)
    assert _public(ec2, image_id) is True


def test_enabling_block_public_access_leaves_public_amis_public(aws):
    ec2 = raw_client(aws, "ec2")
    image_id = make_image(ec2, "already-public")
    _make_public(ec2, image_id)
    ec2.enable_image_block_public_access(ImageBlockPublicAccessState="block-new-sharing")
    assert _public(ec2, image_id) is True


def test_default_state_knob(aws, knobs):
    knobs.set_image_block_public_access_default("block-new-sharing")  # AWS's default for new accounts
    ec2 = raw_client(aws, "ec2")
    assert _state(ec2) == "block-new-sharing"
    assert _state(raw_client(aws, "ec2", region="eu-west-1")) == "block-new-sharing"
    image_id = make_image(ec2, "new-account")
    with pytest.raises(botocore.exceptions.ClientError):
        _make_public(ec2, image_id)
    assert _public(ec2, image_id) is False
    ec2.disable_image_block_public_access()
    _make_public(ec2, image_id)
    assert _public(ec2, image_id) is True
    knobs.reset()  # the default survives a reset, the per-region choice does not
    assert _state(raw_client(aws, "ec2")) == "block-new-sharing"
    with pytest.raises(ValueError):
        knobs.set_image_block_public_access_default("blocked")


# ---- encrypted AMIs ---------------------------------------------------------------------------
@pytest.mark.parametrize("volumes", [
    [{"device_name": "/dev/xvda", "size": 8, "kms_key_id": "KEY"}],
    [{"device_name": "/dev/xvda", "size": 8}, {"device_name": "/dev/xvdb", "size": 8, "kms_key_id": "KEY"}],
], ids=["root", "data-volume"])
def test_encrypted_ami_cannot_be_made_public_but_can_be_shared(aws, volumes):
    ec2 = raw_client(aws, "ec2")
    key = create_key(aws.client("kms"))
    image_id = make_image(ec2, "encrypted", volumes=[dict(v, kms_key_id=key) if v.get("kms_key_id") else v for v in volumes])
    with pytest.raises(botocore.exceptions.ClientError):
        _make_public(ec2, image_id, {"UserId": "111122223333"})
    assert _public(ec2, image_id) is False
    assert _perms(ec2, image_id) == []
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": "111122223333"}]})
    assert _perms(ec2, image_id) == [{"UserId": "111122223333"}]


# ---- the public AMI quota ------------------------------------------------------------------------
def test_public_ami_quota_per_region(aws, knobs):
    ec2 = raw_client(aws, "ec2")
    images = [make_image(ec2, "public-%d" % n) for n in range(6)]
    for image_id in images[:5]:
        _make_public(ec2, image_id)
    with pytest.raises(botocore.exceptions.ClientError):
        _make_public(ec2, images[5])
    assert _public(ec2, images[5]) is False
    # another region has its own quota
    west = raw_client(aws, "ec2", region="eu-west-1")
    west_image = make_image(west, "public-west")
    _make_public(west, west_image)
    assert _public(west, west_image) is True
    # making one private frees a place
    ec2.modify_image_attribute(ImageId=images[0], LaunchPermission={"Remove": [{"Group": "all"}]})
    _make_public(ec2, images[5])
    assert _public(ec2, images[5]) is True
    # the quota is adjustable, and Service Quotas tells its value
    quotas = aws.client("service-quotas")
    assert quotas.get_service_quota(ServiceCode="ec2", QuotaCode="L-0E3CBAB9")["Quota"]["Value"] == 5.0
    knobs.set_public_ami_quota(6)
    assert quotas.get_service_quota(ServiceCode="ec2", QuotaCode="L-0E3CBAB9")["Quota"]["Value"] == 6.0
    _make_public(ec2, images[0])
    assert _public(ec2, images[0]) is True


def test_sharing_quota_counts_entities_not_accounts_inside(aws):
    ec2 = raw_client(aws, "ec2")
    image_id = make_image(ec2, "many")
    accounts = [{"UserId": "%012d" % (100000000000 + n)} for n in range(999)]
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": accounts})
    org = {"OrganizationArn": "arn:aws:organizations::123456789012:organization/o-abcdef1234"}
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [org]})  # the 1,000th entity
    with pytest.raises(botocore.exceptions.ClientError):
        ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": "999999999999"}]})
    assert len(_perms(ec2, image_id)) == 1000
    # public is not an entity; a call that removes one and adds one stays within the quota
    _make_public(ec2, image_id)
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": "999999999999"}], "Remove": [accounts[0]]})
    assert len(_perms(ec2, image_id)) == 1001  # 1,000 entities and the public permission
