"""AMI deprecation (EC2 User Guide, "Deprecate an Amazon EC2 AMI"; EnableImageDeprecation in botocore's EC2 model): the
time is rounded to the minute and cannot be in the past; other accounts no longer list a deprecated AMI unless they ask
for deprecated AMIs or name its id, its owner still does; DisableImageDeprecation undoes it."""

import datetime

import botocore.exceptions
import pytest

from emulator_helpers import raw_client
from orgshare_emulator import ec2 as ec2_patch
from orgshare_emulator.fixtures import credentials_for, make_image

CONSUMER = "111122223333"


def consumer_ec2(aws):
    access_key, secret_key = credentials_for(aws.emulator, CONSUMER)
    return raw_client(aws, "ec2", access_key=access_key, secret_key=secret_key)


def shared_image(aws):
    ec2 = raw_client(aws, "ec2")
    image_id = make_image(ec2, "golden-old")
    ec2.modify_image_attribute(ImageId=image_id, Attribute="launchPermission", LaunchPermission={"Add": [{"UserId": CONSUMER}]})
    return ec2, image_id


def listed(client, **kwargs):
    return [i["ImageId"] for i in client.describe_images(ExecutableUsers=["self"], **kwargs)["Images"]]


def test_deprecation_time_is_rounded_to_the_minute_and_shown(aws):
    ec2, image_id = shared_image(aws)
    at = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)).replace(second=40, microsecond=0)
    assert ec2.enable_image_deprecation(ImageId=image_id, DeprecateAt=at)["Return"] is True
    shown = ec2.describe_images(ImageIds=[image_id])["Images"][0]["DeprecationTime"]
    assert shown == (at.replace(second=0) + datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:00.000Z")
    # not yet deprecated: the consumer still lists it
    assert image_id in listed(consumer_ec2(aws))


def test_a_past_time_is_refused(aws):
    ec2, image_id = shared_image(aws)
    with pytest.raises(Exception):
        ec2.enable_image_deprecation(ImageId=image_id, DeprecateAt=datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1))
    assert "DeprecationTime" not in ec2.describe_images(ImageIds=[image_id])["Images"][0]


def test_a_time_more_than_ten_years_ahead_is_refused(aws):
    """EnableImageDeprecation DeprecateAt (botocore's EC2 model): "The upper limit for DeprecateAt is 10 years from now"
    (for an AMI that is not public). The code is unverified: only the failure, and that nothing is set."""
    ec2, image_id = shared_image(aws)
    now = datetime.datetime.now(datetime.timezone.utc)
    with pytest.raises(botocore.exceptions.ClientError):
        ec2.enable_image_deprecation(ImageId=image_id, DeprecateAt=now + datetime.timedelta(days=11 * 365))
    assert "DeprecationTime" not in ec2.describe_images(ImageIds=[image_id])["Images"][0]
    ec2.enable_image_deprecation(ImageId=image_id, DeprecateAt=now + datetime.timedelta(days=9 * 365))
    assert "DeprecationTime" in ec2.describe_images(ImageIds=[image_id])["Images"][0]


def test_a_deprecated_ami_is_hidden_from_other_accounts_unless_asked_for(aws, monkeypatch):
    ec2, image_id = shared_image(aws)
    ec2.enable_image_deprecation(ImageId=image_id, DeprecateAt=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1))
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2)
    monkeypatch.setattr(ec2_patch, "_now", lambda: later)  # an hour after the deprecation time
    consumer = consumer_ec2(aws)
    assert image_id not in listed(consumer)
    assert image_id in listed(consumer, IncludeDeprecated=True)
    assert [i["ImageId"] for i in consumer.describe_images(ImageIds=[image_id])["Images"]] == [image_id]
    # the owner still lists it
    assert image_id in [i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"]]
    ec2.disable_image_deprecation(ImageId=image_id)
    assert image_id in listed(consumer)
    assert "DeprecationTime" not in ec2.describe_images(ImageIds=[image_id])["Images"][0]


def test_a_public_ami_is_deprecated_at_most_two_years_after_its_creation(aws):
    """EnableImageDeprecation DeprecateAt: "the upper limit ... for public AMIs ... is 2 years from the creation date"."""
    from moto.ec2.models import ec2_backends

    ec2 = raw_client(aws, "ec2")
    image_id = make_image(ec2, "public-old")
    ec2.modify_image_attribute(ImageId=image_id, Attribute="launchPermission", LaunchPermission={"Add": [{"Group": "all"}]})
    now = datetime.datetime.now(datetime.timezone.utc)
    ami = ec2_backends[aws.account_id]["us-east-1"].amis[image_id]
    ami.creation_date = now - datetime.timedelta(days=700)  # made almost two years ago
    with pytest.raises(Exception):
        ec2.enable_image_deprecation(ImageId=image_id, DeprecateAt=now + datetime.timedelta(days=60))
    assert "DeprecationTime" not in ec2.describe_images(ImageIds=[image_id])["Images"][0]
    ec2.enable_image_deprecation(ImageId=image_id, DeprecateAt=now + datetime.timedelta(days=20))
    assert "DeprecationTime" in ec2.describe_images(ImageIds=[image_id])["Images"][0]
