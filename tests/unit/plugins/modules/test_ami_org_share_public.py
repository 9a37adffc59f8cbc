"""ami_org_share: the AWS rules that decide whether an AMI can be made public, and disabled AMIs.

Each refusal comes before any write, names the AMI, its region, why and what to do, and leaves the whole change
unapplied for that AMI (the other principals of the same call are not added either); check mode predicts it.
Sources: docs/aws-facts.md, "Public sharing" and "Disabled AMIs".
"""

import pytest

from test_ami_org_share_helpers import A1
from test_ami_org_share_helpers import A2
from test_ami_org_share_helpers import MODULE
from test_ami_org_share_helpers import launch_permissions
from test_ami_org_share_helpers import perms
from test_ami_org_share_helpers import plain_image
from test_ami_org_share_helpers import share
from test_ami_org_share_helpers import warnings_of

US, EU = "us-east-1", "eu-west-1"


def _calls(aws, action):
    return [c for c in aws.emulator.calls if c["action"] == action]


def _encrypted_image(aws, region=None):
    from orgshare_emulator.fixtures import create_key

    key_arn = create_key(aws.client("kms", region))
    return plain_image(aws, region=region, volumes=[{"device_name": "/dev/xvda", "size": 8},
                                                    {"device_name": "/dev/xvdb", "size": 8, "kms_key_id": key_arn}])


def _public_images(aws, count, region=None):
    images = [plain_image(aws, region=region) for _n in range(count)]
    for image_id in images:
        share(aws, image_id, {"Group": "all"}, region=region)
    return images


@pytest.fixture
def quota(aws):
    yield aws.emulator
    aws.emulator.set_public_ami_quota(5)


def _refused(aws, run_module, args, check_mode, fragments, unchanged, region=None):
    """Run, and assert the refusal: message fragments, no write, launch permissions unchanged."""
    image_id = args["image_id"]
    aws.emulator.clear_calls()
    result = run_module(MODULE, args, check_mode=check_mode, region=region)
    assert result.failed
    for fragment in fragments:
        assert fragment in result.msg
    assert aws.write_calls() == []
    assert launch_permissions(aws, image_id, region) == unchanged
    return result


# ---- encrypted AMIs ----------------------------------------------------------------------------------
@pytest.mark.parametrize("check_mode", [False, True])
def test_an_encrypted_ami_is_not_made_public(aws, run_module, check_mode):
    image_id = _encrypted_image(aws)
    share(aws, image_id, {"UserId": A1})
    snapshot = aws.client("ec2").describe_images(ImageIds=[image_id])["Images"][0]["BlockDeviceMappings"][1]["Ebs"]["SnapshotId"]
    _refused(aws, run_module, {"image_id": image_id, "account_ids": [A2], "public": True}, check_mode,
             [image_id, US, "cannot be made public", "encrypted", snapshot, "Share it with organizations, OUs or accounts"],
             perms(accounts=[A1]))


def test_an_encrypted_ami_can_still_be_shared_with_accounts(aws, run_module):
    image_id = _encrypted_image(aws)
    result = run_module(MODULE, {"image_id": image_id, "account_ids": [A2], "public": False})
    assert not result.failed, result.msg
    assert launch_permissions(aws, image_id) == perms(accounts=[A2])


# ---- image block public access ------------------------------------------------------------------
@pytest.mark.parametrize("check_mode", [False, True])
def test_block_public_access_refuses_before_any_write(aws, run_module, check_mode):
    image_id = plain_image(aws)
    share(aws, image_id, {"UserId": A1})
    aws.client("ec2").enable_image_block_public_access(ImageBlockPublicAccessState="block-new-sharing")
    _refused(aws, run_module, {"image_id": image_id, "account_ids": [A2], "public": True}, check_mode,
             [image_id, US, "image block public access is on", "`aws ec2 disable-image-block-public-access --region us-east-1`"],
             perms(accounts=[A1]))
    assert len(_calls(aws, "GetImageBlockPublicAccessState")) == 1
    # the same change without public is fine in that region, and reads no block state
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"image_id": image_id, "account_ids": [A2]}, check_mode=check_mode)
    assert not result.failed, result.msg
    assert _calls(aws, "GetImageBlockPublicAccessState") == []
    # once disabled, public works
    aws.client("ec2").disable_image_block_public_access()
    result = run_module(MODULE, {"image_id": image_id, "public": True}, check_mode=check_mode)
    assert not result.failed, result.msg
    assert result["launch_permissions"]["public"] is True


def test_an_unreadable_block_state_is_said_and_the_module_goes_on(aws, run_module):
    image_id = plain_image(aws)
    aws.emulator.inject_faults(rate=1.0, kind="denied", actions=["GetImageBlockPublicAccessState"])
    try:
        result = run_module(MODULE, {"image_id": image_id, "public": True})
    finally:
        aws.emulator.clear_faults()
    assert not result.failed, result.msg
    assert launch_permissions(aws, image_id) == perms(public=True)
    warning = [w for w in warnings_of(result) if "image block public access" in w]
    assert len(warning) == 1 and US in warning[0] and "could not be read" in warning[0] and "UnauthorizedOperation" in warning[0]


# ---- the public AMIs quota -------------------------------------------------------------------------
@pytest.mark.parametrize("check_mode", [False, True])
def test_the_public_ami_quota_refuses_before_any_write(aws, run_module, quota, check_mode):
    _public_images(aws, 5)
    image_id = plain_image(aws)
    share(aws, image_id, {"UserId": A1})
    _refused(aws, run_module, {"image_id": image_id, "account_ids": [A2], "public": True}, check_mode,
             [image_id, US, "already has 5 public AMI(s)", "quota there is 5", "Make one of them private", "quota increase"],
             perms(accounts=[A1]))
    assert len(_calls(aws, "GetServiceQuota")) == 1
    # a raised quota (read from Service Quotas) lets it through
    quota.set_public_ami_quota(6)
    result = run_module(MODULE, {"image_id": image_id, "public": True}, check_mode=check_mode)
    assert not result.failed, result.msg
    assert result["launch_permissions"]["public"] is True


def test_under_the_default_quota_no_quota_is_read(aws, run_module):
    _public_images(aws, 4)
    image_id = plain_image(aws)
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"image_id": image_id, "public": True})
    assert not result.failed, result.msg
    assert launch_permissions(aws, image_id) == perms(public=True)
    assert _calls(aws, "GetServiceQuota") == []


def test_an_unreadable_quota_is_said_and_aws_decides(aws, run_module):
    _public_images(aws, 5)
    image_id = plain_image(aws)
    share(aws, image_id, {"UserId": A1})
    aws.emulator.clear_calls()
    aws.emulator.inject_faults(rate=1.0, kind="denied", actions=["GetServiceQuota"])
    try:
        result = run_module(MODULE, {"image_id": image_id, "account_ids": [A2], "public": True})
    finally:
        aws.emulator.clear_faults()
    # the module went on; AWS (the emulator, quota 5) refused the whole ModifyImageAttribute
    assert result.failed
    assert len(_calls(aws, "ModifyImageAttribute")) == 1
    assert launch_permissions(aws, image_id) == perms(accounts=[A1])
    warning = [w for w in warnings_of(result) if "Public AMIs" in w]
    assert len(warning) == 1 and US in warning[0] and "could not be read" in warning[0]


# ---- many targets: the failing ones fail, the others go on -----------------------------------------
def test_images_fail_one_by_one(aws, run_module, quota):
    _public_images(aws, 4, region=US)
    fifth, sixth = plain_image(aws, region=US), plain_image(aws, region=US)
    encrypted = _encrypted_image(aws, region=US)
    blocked = plain_image(aws, region=EU)
    aws.client("ec2", EU).enable_image_block_public_access(ImageBlockPublicAccessState="block-new-sharing")
    targets = [{"image_id": fifth}, {"image_id": sixth}, {"image_id": encrypted}, {"image_id": blocked, "region": EU}]
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"images": targets, "account_ids": [A1], "public": True})
    assert result.failed
    assert "3 of 4" in result.msg
    entries = result["images"]
    assert entries[0]["changed"] is True and entries[0]["launch_permissions"] == perms(accounts=[A1], public=True)
    assert [e.get("failed") for e in entries] == [None, True, True, True]
    assert [e.get("error_kind") for e in entries[1:]] == ["refused"] * 3
    assert "quota there is 5" in entries[1]["msg"] and "encrypted" in entries[2]["msg"]
    assert "image block public access is on in region eu-west-1" in entries[3]["msg"]
    # the first went through; nothing of the others was written; each region's block state was read once
    assert [c["region"] for c in aws.write_calls()] == [US]
    assert sorted(c["region"] for c in _calls(aws, "GetImageBlockPublicAccessState")) == [EU, US]
    assert launch_permissions(aws, fifth, US) == perms(accounts=[A1], public=True)
    for image_id, region in ((sixth, US), (encrypted, US), (blocked, EU)):
        assert launch_permissions(aws, image_id, region) == perms()


# ---- disabled AMIs -----------------------------------------------------------------------------
@pytest.mark.parametrize("check_mode", [False, True])
def test_a_disabled_ami_fails_clearly_not_as_missing(aws, run_module, check_mode):
    image_id = plain_image(aws)
    share(aws, image_id, {"UserId": A1})
    aws.client("ec2").disable_image(ImageId=image_id)
    result = _refused(aws, run_module, {"image_id": image_id, "account_ids": [A2]}, check_mode,
                      [image_id, US, "is disabled", "enable it with `aws ec2 enable-image --image-id %s --region us-east-1`" % image_id],
                      perms())
    assert "not found" not in result.msg


def test_a_disabled_ami_has_nothing_to_remove(aws, run_module):
    image_id = plain_image(aws)
    aws.client("ec2").disable_image(ImageId=image_id)
    aws.emulator.clear_calls()
    for args in ({"purge": True}, {"public": False}, {"account_ids": [A1], "state": "absent"}):
        result = run_module(MODULE, dict(args, image_id=image_id))
        assert not result.failed, result.msg
        assert result["changed"] is False
        assert [w for w in warnings_of(result) if "is disabled" in w] or args.get("state") == "absent"
    assert aws.write_calls() == []


def test_a_disabled_ami_among_images_fails_only_itself(aws, run_module):
    disabled, fine = plain_image(aws), plain_image(aws)
    aws.client("ec2").disable_image(ImageId=disabled)
    result = run_module(MODULE, {"images": [{"image_id": disabled}, {"image_id": fine}], "account_ids": [A1]})
    assert result.failed and "1 of 2" in result.msg and "is disabled" in result.msg
    assert result["images"][1]["launch_permissions"] == perms(accounts=[A1])
    assert launch_permissions(aws, fine) == perms(accounts=[A1])
