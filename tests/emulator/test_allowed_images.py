"""Allowed AMIs (emulator/orgshare_emulator/ami_lifecycle.py): Get/Enable/DisableAllowedImagesSettings,
ReplaceImageCriteriaInAllowedImagesSettings, ImageAllowed and the image-allowed filter in DescribeImages, DescribeImages
and RunInstances while enabled.

Sources: EC2 User Guide, "Control the discovery and use of AMIs in Amazon EC2 with Allowed AMIs"
(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-allowed-amis.html) and "Manage the settings for Allowed AMIs"
(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/manage-settings-allowed-amis.html); botocore's EC2 model
(GetAllowedImagesSettingsResult, EnableAllowedImagesSettingsRequest, ImageCriterionRequest, Image ImageAllowed,
DescribeImages). The error codes (invalid criteria, RunInstances with an AMI that is not allowed) are unverified: only
the failure and the unchanged state are asserted.
"""

import datetime

import botocore.exceptions
import pytest

from emulator_helpers import raw_client
from orgshare_emulator import ec2 as ec2_patch
from orgshare_emulator.fixtures import credentials_for, make_image

OWNER = "123456789012"
CONSUMER = "777788889999"
VENDOR = "444455556666"


def client_of(aws, account_id, service="ec2", region=None):
    access_key, secret_key = credentials_for(aws.emulator, account_id)
    return raw_client(aws, service, region=region, access_key=access_key, secret_key=secret_key)


def settings(ec2):
    return {k: v for k, v in ec2.get_allowed_images_settings().items() if k != "ResponseMetadata"}


def allowed(ec2, **kwargs):
    """{image id: ImageAllowed (None when absent)} of DescribeImages."""
    return {i["ImageId"]: i.get("ImageAllowed") for i in ec2.describe_images(**kwargs)["Images"]}


@pytest.fixture
def world(aws):
    """The owner's AMIs golden-1 / other-1 and the vendor's vendor-1, all shared with the consumer, which has one of its own."""
    owner = raw_client(aws, "ec2")
    vendor = client_of(aws, VENDOR)
    consumer = client_of(aws, CONSUMER)
    images = {"golden": make_image(owner, "golden-1"), "other": make_image(owner, "other-1"), "vendor": make_image(vendor, "vendor-1")}
    for ec2, name in ((owner, "golden"), (owner, "other"), (vendor, "vendor")):
        ec2.modify_image_attribute(ImageId=images[name], LaunchPermission={"Add": [{"UserId": CONSUMER}]})
    images["own"] = make_image(consumer, "own-1")
    return {"owner": owner, "vendor": vendor, "consumer": consumer, "images": images}


def test_the_settings_per_account_and_region(aws, world):
    consumer = world["consumer"]
    assert consumer.enable_allowed_images_settings(AllowedImagesSettingsState="audit-mode")["AllowedImagesSettingsState"] == "audit-mode"
    criteria = [{"ImageProviders": ["amazon", OWNER]}, {"ImageProviders": [VENDOR], "ImageNames": ["vendor-*"]}]
    assert consumer.replace_image_criteria_in_allowed_images_settings(ImageCriteria=criteria)["ReturnValue"] is True
    assert settings(consumer) == {"State": "audit-mode", "ImageCriteria": criteria, "ManagedBy": "account"}
    assert consumer.enable_allowed_images_settings(AllowedImagesSettingsState="enabled")["AllowedImagesSettingsState"] == "enabled"
    assert settings(consumer)["State"] == "enabled"
    # another region and another account have their own settings
    assert settings(client_of(aws, CONSUMER, region="eu-west-1"))["State"] != "enabled"
    assert settings(world["owner"])["State"] != "enabled"
    assert consumer.disable_allowed_images_settings()["AllowedImagesSettingsState"] == "disabled"
    assert settings(consumer)["State"] == "disabled"
    assert settings(consumer)["ManagedBy"] == "account"


def test_audit_mode_shows_which_amis_are_allowed_and_restricts_nothing(aws, world):
    consumer, images = world["consumer"], world["images"]
    consumer.enable_allowed_images_settings(AllowedImagesSettingsState="audit-mode")
    consumer.replace_image_criteria_in_allowed_images_settings(ImageCriteria=[{"ImageProviders": [OWNER], "ImageNames": ["golden-*"]}])
    seen = allowed(consumer)
    assert seen[images["golden"]] is True
    assert seen[images["other"]] is False  # the owner's, but not named golden-*
    assert seen[images["vendor"]] is False
    # image-allowed filter (audit mode: "Find AMIs that are allowed")
    assert sorted(allowed(consumer, Filters=[{"Name": "image-allowed", "Values": ["false"]}])) == sorted([images["other"], images["vendor"]])
    assert images["golden"] in allowed(consumer, Filters=[{"Name": "image-allowed", "Values": ["true"]}])
    # nothing is restricted: an AMI that is not allowed is still launched
    consumer.run_instances(ImageId=images["vendor"], MinCount=1, MaxCount=1)


def test_enabled_only_allowed_amis_are_discoverable_and_launched(aws, world):
    consumer, images = world["consumer"], world["images"]
    consumer.replace_image_criteria_in_allowed_images_settings(ImageCriteria=[{"ImageProviders": [VENDOR]}, {"ImageNames": ["golden-?"]}])
    consumer.enable_allowed_images_settings(AllowedImagesSettingsState="enabled")
    seen = allowed(consumer)
    # "only allowed images are returned in the results, with the imageAllowed field set to true for each image";
    # the account's own AMIs are never restricted
    assert seen == {images["golden"]: True, images["vendor"]: True, images["own"]: True}
    assert allowed(consumer, Filters=[{"Name": "image-allowed", "Values": ["true"]}]) == seen
    assert allowed(consumer, Filters=[{"Name": "image-allowed", "Values": ["false"]}]) == {}
    consumer.run_instances(ImageId=images["golden"], MinCount=1, MaxCount=1)
    consumer.run_instances(ImageId=images["own"], MinCount=1, MaxCount=1)
    before = len(consumer.describe_instances()["Reservations"])
    with pytest.raises(botocore.exceptions.ClientError):
        consumer.run_instances(ImageId=images["other"], MinCount=1, MaxCount=1)
    assert len(consumer.describe_instances()["Reservations"]) == before
    # through a launch template too
    consumer.create_launch_template(LaunchTemplateName="other", LaunchTemplateData={"ImageId": images["other"]})
    with pytest.raises(botocore.exceptions.ClientError):
        consumer.run_instances(LaunchTemplate={"LaunchTemplateName": "other"}, MinCount=1, MaxCount=1)
    assert len(consumer.describe_instances()["Reservations"]) == before
    # the owner's view is the owner's own settings
    assert sorted(allowed(world["owner"])) == sorted([images["golden"], images["other"]])


def test_disabled_all_amis_are_allowed(aws, world):
    consumer, images = world["consumer"], world["images"]
    consumer.replace_image_criteria_in_allowed_images_settings(ImageCriteria=[{"ImageProviders": ["none"]}])
    consumer.enable_allowed_images_settings(AllowedImagesSettingsState="enabled")
    assert sorted(allowed(consumer)) == [images["own"]]  # none: only the account's own AMIs
    consumer.disable_allowed_images_settings()
    assert sorted(allowed(consumer)) == sorted(images.values())
    consumer.run_instances(ImageId=images["other"], MinCount=1, MaxCount=1)
    # the image-allowed filter is a DescribeImages filter in every state (what it matches while disabled is unverified)
    consumer.describe_images(Filters=[{"Name": "image-allowed", "Values": ["true"]}])


def test_creation_and_deprecation_conditions(aws, world, monkeypatch):
    consumer, owner, images = world["consumer"], world["owner"], world["images"]
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)
    owner.enable_image_deprecation(ImageId=images["other"], DeprecateAt=later)
    monkeypatch.setattr(ec2_patch, "_now", lambda: later + datetime.timedelta(hours=1))  # other-1 deprecated an hour ago
    from orgshare_emulator import ami_lifecycle

    monkeypatch.setattr(ami_lifecycle, "_now", lambda: later + datetime.timedelta(hours=1))
    consumer.enable_allowed_images_settings(AllowedImagesSettingsState="audit-mode")

    def criteria(**condition):
        consumer.replace_image_criteria_in_allowed_images_settings(ImageCriteria=[dict({"ImageProviders": [OWNER, VENDOR]}, **condition)])
        return allowed(consumer, IncludeDeprecated=True)

    seen = criteria(DeprecationTimeCondition={"MaximumDaysSinceDeprecated": 0})
    assert (seen[images["golden"]], seen[images["other"]]) == (True, False)  # 0: no deprecated AMI is allowed
    assert criteria(DeprecationTimeCondition={"MaximumDaysSinceDeprecated": 1})[images["other"]] is True
    # the AMIs were created 2 days and an hour ago
    assert criteria(CreationDateCondition={"MaximumDaysSinceCreated": 1})[images["vendor"]] is False
    assert criteria(CreationDateCondition={"MaximumDaysSinceCreated": 3})[images["vendor"]] is True


@pytest.mark.parametrize("criteria", [
    [{"ImageProviders": [VENDOR]}] * 11,  # at most 10 ImageCriterion
    [{"ImageProviders": ["%012d" % n for n in range(201)]}],  # at most 200 ImageProviders
    [{"ImageProviders": ["none", OWNER]}],  # none: no other value
    [{"ImageProviders": ["someone"]}],
    [{"ImageProviders": [VENDOR], "MarketplaceProductCodes": ["not valid!"]}],
], ids=["11-criteria", "201-providers", "none-and-more", "bad-provider", "bad-product-code"])
def test_invalid_criteria_are_refused_and_change_nothing(aws, world, criteria):
    consumer = world["consumer"]
    kept = [{"ImageProviders": [OWNER]}]
    consumer.replace_image_criteria_in_allowed_images_settings(ImageCriteria=kept)
    with pytest.raises(botocore.exceptions.ClientError):
        consumer.replace_image_criteria_in_allowed_images_settings(ImageCriteria=criteria)
    assert settings(consumer)["ImageCriteria"] == kept


def test_an_invalid_state_is_refused(aws, world):
    consumer = world["consumer"]
    consumer.enable_allowed_images_settings(AllowedImagesSettingsState="audit-mode")
    with pytest.raises(botocore.exceptions.ClientError):
        consumer.enable_allowed_images_settings(AllowedImagesSettingsState="disabled")  # Disable does that
    assert settings(consumer)["State"] == "audit-mode"
