"""Deregistration protection (emulator/orgshare_emulator/ami_lifecycle.py): Enable/DisableImageDeregistrationProtection,
DeregisterImage refused while protected and during the 24-hour cooldown, DeregistrationProtection in DescribeImages and
DescribeImageAttribute.

Sources: EC2 User Guide, "Protect an Amazon EC2 AMI from deregistration"
(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ami-deregistration-protection.html); botocore's EC2 model
(EnableImageDeregistrationProtectionRequest WithCooldown, Image / ImageAttribute DeregistrationProtection); the AWS CLI
reference's examples (Return "enabled-without-cooldown" / "disabled"). The error code of the refused DeregisterImage and
the state shown during the cooldown are unverified: not asserted.
"""

import datetime

import botocore.exceptions
import pytest

from emulator_helpers import raw_client
from orgshare_emulator import ami_lifecycle
from orgshare_emulator.fixtures import credentials_for, make_image

OTHER = "777788889999"


def shown(ec2, image_id):
    image = ec2.describe_images(ImageIds=[image_id], IncludeDisabled=True)["Images"][0]
    attribute = ec2.describe_image_attribute(ImageId=image_id, Attribute="deregistrationProtection")["DeregistrationProtection"]["Value"]
    assert image["DeregistrationProtection"] == attribute
    return attribute


def exists(ec2, image_id):
    return [i["ImageId"] for i in ec2.describe_images(Owners=["self"], IncludeDisabled=True)["Images"]].count(image_id) == 1


class Clock:
    def __init__(self, monkeypatch):
        self.now = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
        monkeypatch.setattr(ami_lifecycle, "_now", lambda: self.now)

    def advance(self, **delta):
        self.now += datetime.timedelta(**delta)


def test_off_by_default_and_a_protected_ami_cannot_be_deregistered(aws):
    ec2 = raw_client(aws, "ec2")
    image_id = make_image(ec2, "golden-1")
    assert shown(ec2, image_id) == "disabled"
    assert ec2.enable_image_deregistration_protection(ImageId=image_id)["Return"] == "enabled-without-cooldown"
    assert shown(ec2, image_id) == "enabled-without-cooldown"
    with pytest.raises(botocore.exceptions.ClientError):
        ec2.deregister_image(ImageId=image_id)
    assert exists(ec2, image_id)
    # without a cooldown the AMI can be deregistered as soon as the protection is off
    assert ec2.disable_image_deregistration_protection(ImageId=image_id)["Return"] == "disabled"
    assert shown(ec2, image_id) == "disabled"
    ec2.deregister_image(ImageId=image_id)
    assert not exists(ec2, image_id)


def test_a_disabled_ami_is_protected_too(aws):
    ec2 = raw_client(aws, "ec2")
    image_id = make_image(ec2, "golden-1")
    ec2.enable_image_deregistration_protection(ImageId=image_id)
    ec2.disable_image(ImageId=image_id)
    with pytest.raises(botocore.exceptions.ClientError):
        ec2.deregister_image(ImageId=image_id)
    assert exists(ec2, image_id)


def test_with_cooldown_the_protection_lasts_24_hours_after_it_is_turned_off(aws, monkeypatch):
    clock = Clock(monkeypatch)
    ec2 = raw_client(aws, "ec2")
    image_id = make_image(ec2, "golden-1")
    assert ec2.enable_image_deregistration_protection(ImageId=image_id, WithCooldown=True)["Return"] == "enabled-with-cooldown"
    assert shown(ec2, image_id) == "enabled-with-cooldown"
    clock.advance(days=3)  # the cooldown counts from turning the protection off, not on
    ec2.disable_image_deregistration_protection(ImageId=image_id)
    clock.advance(hours=23, minutes=59)
    with pytest.raises(botocore.exceptions.ClientError):
        ec2.deregister_image(ImageId=image_id)
    assert exists(ec2, image_id)
    clock.advance(minutes=2)
    ec2.deregister_image(ImageId=image_id)
    assert not exists(ec2, image_id)


def test_turning_it_on_again_without_cooldown_drops_the_cooldown(aws, monkeypatch):
    Clock(monkeypatch)
    ec2 = raw_client(aws, "ec2")
    image_id = make_image(ec2, "golden-1")
    ec2.enable_image_deregistration_protection(ImageId=image_id, WithCooldown=True)
    ec2.enable_image_deregistration_protection(ImageId=image_id, WithCooldown=False)
    assert shown(ec2, image_id) == "enabled-without-cooldown"
    ec2.disable_image_deregistration_protection(ImageId=image_id)
    ec2.deregister_image(ImageId=image_id)
    assert not exists(ec2, image_id)


def test_only_the_owner_changes_the_protection(aws):
    ec2 = raw_client(aws, "ec2")
    image_id = make_image(ec2, "golden-1")
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": OTHER}]})
    access_key, secret_key = credentials_for(aws.emulator, OTHER)
    other = raw_client(aws, "ec2", access_key=access_key, secret_key=secret_key)
    with pytest.raises(botocore.exceptions.ClientError):
        other.enable_image_deregistration_protection(ImageId=image_id)
    assert shown(ec2, image_id) == "disabled"
    ec2.enable_image_deregistration_protection(ImageId=image_id)
    with pytest.raises(botocore.exceptions.ClientError):
        other.disable_image_deregistration_protection(ImageId=image_id)
    assert shown(ec2, image_id) == "enabled-without-cooldown"
