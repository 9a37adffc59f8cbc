"""orgshare.aws.ami_copy: every named destination key is checked before any write, and the result
reports the source and its keys (``source``) and each copy's key ARN (``images[].kms_key_arn``)."""

import pytest

from orgshare_emulator.fixtures import create_key, image_keys, make_image

SOURCE_REGION = "us-east-1"
ACCOUNT = "123456789012"


def encrypted_source(aws, name="golden-1"):
    """An AMI of two snapshots encrypted with one customer managed key; returns (image id, key ARN)."""
    key = create_key(aws.client("kms", SOURCE_REGION), description="source key")
    volumes = [
        {"device_name": "/dev/xvda", "size": 8, "encrypted": True, "kms_key_id": key},
        {"device_name": "/dev/xvdb", "size": 20, "encrypted": True, "kms_key_id": key},
    ]
    return make_image(aws.client("ec2", SOURCE_REGION), name, volumes=volumes), key


def images_in(aws, region, source_id):
    """Every image of the caller in a region that is a copy of the source (read back through boto3)."""
    return aws.client("ec2", region).describe_images(
        Owners=["self"], Filters=[{"Name": "source-image-id", "Values": [source_id]}]
    )["Images"]


def describe_key_regions(aws):
    return sorted(c["region"] for c in aws.emulator.calls if c["service"] == "kms" and c["action"] == "DescribeKey")


def args_for(src, regions, **extra):
    return dict({"source_image_id": src, "source_region": SOURCE_REGION, "regions": regions}, **extra)


@pytest.mark.parametrize("check_mode", [True, False])
def test_missing_alias_in_one_of_two_regions_writes_nothing(aws, run_module, check_mode):
    src, dummy = encrypted_source(aws)
    good = create_key(aws.client("kms", "eu-west-1"), alias="alias/ami-sharing")
    aws.emulator.clear_calls()
    result = run_module("ami_copy", args_for(src, [
        {"region": "eu-west-1", "kms_key_id": "alias/ami-sharing"},
        {"region": "us-west-2", "kms_key_id": "alias/ami-sharing"},  # no such alias there
    ]), check_mode=check_mode)
    assert result.failed
    assert result.msg == (
        "1 destination key(s) cannot be used, so nothing was copied: regions[1].kms_key_id: no KMS key or alias "
        "'alias/ami-sharing' in region us-west-2: give a customer managed key of that region"
    )
    assert "regions[0]" not in result.msg and good not in result.msg
    assert result["images"] == []
    assert aws.write_calls() == []
    assert images_in(aws, "eu-west-1", src) == [] and images_in(aws, "us-west-2", src) == []


def test_every_bad_region_is_named_in_one_error(aws, run_module):
    src, dummy = encrypted_source(aws)
    disabled = create_key(aws.client("kms", "eu-west-1"))
    aws.emulator.internal_client("kms", "eu-west-1").disable_key(KeyId=disabled)
    pending = create_key(aws.client("kms", "ap-southeast-2"))
    aws.emulator.internal_client("kms", "ap-southeast-2").schedule_key_deletion(KeyId=pending, PendingWindowInDays=7)
    good = create_key(aws.client("kms", "us-west-2"))
    aws.emulator.clear_calls()
    for check_mode in (True, False):
        result = run_module("ami_copy", args_for(src, [
            {"region": "eu-west-1", "kms_key_id": disabled},
            {"region": "us-west-2", "kms_key_id": good},
            {"region": "ap-southeast-2", "kms_key_id": pending},
            {"region": "sa-east-1", "kms_key_id": "alias/nope"},
        ]), check_mode=check_mode)
        assert result.failed
        assert result.msg == (
            "3 destination key(s) cannot be used, so nothing was copied: "
            "regions[0].kms_key_id: the key '%s' in region eu-west-1 is Disabled: give an enabled customer managed key "
            "of that region (KeyState Enabled); "
            "regions[2].kms_key_id: the key '%s' in region ap-southeast-2 is PendingDeletion: give an enabled customer "
            "managed key of that region (KeyState Enabled); "
            "regions[3].kms_key_id: no KMS key or alias 'alias/nope' in region sa-east-1: give a customer managed key "
            "of that region" % (disabled, pending)
        )
    assert aws.write_calls() == []
    for region in ("eu-west-1", "us-west-2", "ap-southeast-2", "sa-east-1"):
        assert images_in(aws, region, src) == []


def test_aws_managed_key_is_refused_unless_allowed(aws, run_module):
    src, dummy = encrypted_source(aws)
    # the ARN of eu-west-1's aws/ebs key: only DescribeKey tells it is AWS managed
    managed = aws.emulator.internal_client("kms", "eu-west-1").describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["Arn"]
    aws.emulator.clear_calls()

    # as its alias: refused by name, before any call in the destination
    by_alias = run_module("ami_copy", args_for(src, [{"region": "eu-west-1", "kms_key_id": "alias/aws/ebs"}]))
    assert by_alias.failed
    assert "no customer managed kms_key_id is given for region(s) eu-west-1" in by_alias.msg
    assert "allow_aws_managed_key: true" in by_alias.msg

    # as its ARN: refused from DescribeKey's KeyManager, in check mode too
    for check_mode in (True, False):
        by_arn = run_module("ami_copy", args_for(src, [{"region": "eu-west-1", "kms_key_id": managed}]), check_mode=check_mode)
        assert by_arn.failed
        assert by_arn.msg == (
            "1 destination key(s) cannot be used, so nothing was copied: regions[0].kms_key_id: the key '%s' in region "
            "eu-west-1 is an AWS managed key (KeyManager AWS), and AMIs encrypted with it cannot be shared with other "
            "accounts: give a customer managed key of that region, or set allow_aws_managed_key: true" % managed
        )
    assert aws.write_calls() == []
    assert images_in(aws, "eu-west-1", src) == []

    # allowed: both forms are copied under that key
    allowed = run_module("ami_copy", args_for(src, [{"region": "eu-west-1", "kms_key_id": managed},
                                                    {"region": "us-west-2", "kms_key_id": "alias/aws/ebs"}],
                                              allow_aws_managed_key=True))
    assert not allowed.failed, allowed.msg
    usw2_managed = aws.client("kms", "us-west-2").describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["Arn"]
    assert [(i["region"], i["kms_key_arn"]) for i in allowed["images"]] == [("eu-west-1", managed), ("us-west-2", usw2_managed)]
    (copy,) = images_in(aws, "eu-west-1", src)
    assert set(image_keys(aws.client("ec2", "eu-west-1"), copy["ImageId"]).values()) == {managed}


def test_converged_run_does_not_describe_destination_keys(aws, run_module):
    src, source_key = encrypted_source(aws)
    keys = {r: create_key(aws.client("kms", r), alias="alias/ami-sharing") for r in ("eu-west-1", "us-west-2")}
    regions = [{"region": r, "kms_key_id": "alias/ami-sharing"} for r in ("eu-west-1", "us-west-2")]

    # only eu-west-1 at first: its key is described there (and the source's key in the source region)
    aws.emulator.clear_calls()
    first = run_module("ami_copy", args_for(src, regions[:1]))
    assert not first.failed, first.msg
    assert describe_key_regions(aws) == ["eu-west-1", SOURCE_REGION]

    # eu-west-1 has its copy: only us-west-2's key is described
    aws.emulator.clear_calls()
    second = run_module("ami_copy", args_for(src, regions))
    assert not second.failed, second.msg
    assert describe_key_regions(aws) == [SOURCE_REGION, "us-west-2"]

    # converged, in check mode and for real: no destination key is described, nothing is written
    for check_mode in (True, False):
        aws.emulator.clear_calls()
        again = run_module("ami_copy", args_for(src, regions), check_mode=check_mode)
        assert not again.failed and again["changed"] is False
        assert describe_key_regions(aws) == [SOURCE_REGION]
        assert aws.write_calls() == []
        assert [(i["region"], i["kms_key_arn"], i["kms_key_id"]) for i in again["images"]] == [
            ("eu-west-1", keys["eu-west-1"], keys["eu-west-1"]), ("us-west-2", keys["us-west-2"], keys["us-west-2"])]
        assert again["source"]["kms_key_arns"] == [source_key]


def test_source_and_key_arns_of_an_encrypted_source(aws, run_module):
    src, source_key = encrypted_source(aws)
    keys = {r: create_key(aws.client("kms", r), alias="alias/ami-sharing") for r in ("eu-west-1", "us-west-2")}
    regions = [{"region": "eu-west-1", "kms_key_id": "alias/ami-sharing"}, {"region": "us-west-2", "kms_key_id": keys["us-west-2"]}]
    expected_source = {
        "image_id": src, "region": "us-east-1", "name": "golden-1", "owner_id": ACCOUNT, "encrypted": True,
        "kms_key_arns": [source_key], "aws_managed_kms_key_arns": [],
    }

    # check mode: the key given as an alias is reported by its ARN (from DescribeKey)
    predicted = run_module("ami_copy", args_for(src, regions), check_mode=True)
    assert not predicted.failed, predicted.msg
    assert predicted["source"] == expected_source
    assert [(i["region"], i["state"], i["kms_key_arn"], i["kms_key_id"]) for i in predicted["images"]] == [
        ("eu-west-1", "would_copy", keys["eu-west-1"], keys["eu-west-1"]),
        ("us-west-2", "would_copy", keys["us-west-2"], keys["us-west-2"]),
    ]

    result = run_module("ami_copy", args_for(src, regions))
    assert not result.failed, result.msg
    assert result["source"] == expected_source
    for image in result["images"]:
        assert image["kms_key_arn"] == image["kms_key_id"] == keys[image["region"]]
        assert set(image_keys(aws.client("ec2", image["region"]), image["image_id"]).values()) == {keys[image["region"]]}


def test_source_of_plain_and_aws_managed_sources(aws, run_module):
    ec2 = aws.client("ec2", SOURCE_REGION)
    plain = make_image(ec2, "plain-1")
    result = run_module("ami_copy", args_for(plain, ["eu-west-1"]), check_mode=True)
    assert not result.failed, result.msg
    assert result["source"] == {
        "image_id": plain, "region": "us-east-1", "name": "plain-1", "owner_id": ACCOUNT, "encrypted": False,
        "kms_key_arns": [], "aws_managed_kms_key_arns": [],
    }
    assert result["images"][0]["kms_key_arn"] is None

    # one snapshot under the account's aws/ebs key, one under a customer managed key
    customer = create_key(aws.client("kms", SOURCE_REGION))
    mixed = make_image(ec2, "mixed-1", volumes=[
        {"device_name": "/dev/xvda", "size": 8, "encrypted": True},
        {"device_name": "/dev/xvdb", "size": 8, "encrypted": True, "kms_key_id": customer},
    ])
    ebs = aws.client("kms", SOURCE_REGION).describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["Arn"]
    result = run_module("ami_copy", args_for(mixed, ["eu-west-1"], allow_aws_managed_key=True), check_mode=True)
    assert not result.failed, result.msg
    assert result["source"]["encrypted"] is True
    assert result["source"]["kms_key_arns"] == [customer]
    assert result["source"]["aws_managed_kms_key_arns"] == [ebs]
