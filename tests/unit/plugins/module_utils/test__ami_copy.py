"""Pure planning of orgshare.aws.ami_copy: option validation, client tokens, the managed-key guard,
which existing copy is reported, and the failure message."""

import pytest

from ansible_collections.orgshare.aws.plugins.module_utils import _ami_copy as ac
from ansible_collections.orgshare.aws.plugins.module_utils._ami_copy import AmiCopyError
from ansible_collections.orgshare.aws.plugins.module_utils._ami_copy import Destination

KEY_EU = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_US = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SRC = "ami-0123456789abcdef0"


def params(**kw):
    base = dict(
        source_image_id=SRC, source_region="us-east-1", regions=["eu-west-1"], name=None, description=None,
        encrypted=None, copy_tags=True, tags=None, wait=True, wait_timeout=3600, allow_aws_managed_key=False,
    )
    base.update(kw)
    return base


def image(encrypted=False, **kw):
    out = {
        "ImageId": SRC, "Name": "golden", "State": "available", "RootDeviceName": "/dev/xvda",
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-1", "Encrypted": encrypted}}],
    }
    out.update(kw)
    return out


# ---- regions -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "regions, expected",
    [
        (["eu-west-1"], [Destination("eu-west-1", None, None)]),
        (["us-gov-west-1", "cn-north-1"], [Destination("us-gov-west-1", None, None), Destination("cn-north-1", None, None)]),
        ([{"region": "eu-west-1", "kms_key_id": KEY_EU}], [Destination("eu-west-1", KEY_EU, None)]),
        ([{"region": "eu-west-1", "kms_key_id": "alias/ami", "name": "gold-eu"}], [Destination("eu-west-1", "alias/ami", "gold-eu")]),
        ([{"region": "eu-west-1", "kms_key_id": "mrk-" + "a" * 32}], [Destination("eu-west-1", "mrk-" + "a" * 32, None)]),
        (["eu-west-1", {"region": "ap-southeast-2"}], [Destination("eu-west-1", None, None), Destination("ap-southeast-2", None, None)]),
    ],
)
def test_parse_destinations_accepts(regions, expected):
    assert ac.parse_destinations(regions) == expected


def test_parse_destinations_default_name_and_override():
    dests = ac.parse_destinations(["eu-west-1", {"region": "us-west-2", "name": "own-name"}], name="top-name")
    assert [d.name for d in dests] == ["top-name", "own-name"]


@pytest.mark.parametrize(
    "regions, message",
    [
        ([], "at least one destination region"),
        (["EU-WEST-1"], "regions[0]: 'EU-WEST-1' is not a region name"),
        (["eu-west-1", "eu-west-1"], "regions[1]: the region eu-west-1 is listed more than once"),
        ([{"kms_key_id": KEY_EU}], "regions[0]: the key 'region' is required"),
        ([{"region": "eu-west-1", "key": KEY_EU}], "regions[0]: unknown key(s) key"),
        ([{"region": "eu-west-1", "kms_key_id": KEY_US}], "the key %s is in region us-east-1, but the copy goes to eu-west-1" % KEY_US),
        ([{"region": "eu-west-1", "kms_key_id": "my-key"}], "regions[0].kms_key_id: 'my-key' is not a KMS key"),
        ([{"region": "eu-west-1", "name": "x"}], "regions[0].name: 'x' is not a valid AMI name"),
        ([42], "regions[0]: 42 is neither a region name nor a dict"),
    ],
)
def test_parse_destinations_rejects(regions, message):
    with pytest.raises(AmiCopyError) as e:
        ac.parse_destinations(regions)
    assert message in str(e.value)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"source_image_id": "ami-xyz"}, "source_image_id: 'ami-xyz' is not an AMI id"),
        ({"source_region": "Virginia"}, "source_region: 'Virginia' is not a region name"),
        ({"name": "a*b"}, "name: 'a*b' is not a valid AMI name"),
        ({"description": "d" * 256}, "description: at most 255 characters"),
        ({"wait_timeout": 0}, "wait_timeout: a number of seconds"),
        ({"tags": {"aws:x": "1"}}, "tags: 'aws:x' is not a usable tag key"),
        ({"tags": {"n": 1}}, "tags: the value of 'n' must be a string"),
        ({"encrypted": False, "regions": [{"region": "eu-west-1", "kms_key_id": KEY_EU}]}, "encrypted is false, but regions eu-west-1 give a kms_key_id"),
    ],
)
def test_validate_options_rejects(overrides, message):
    with pytest.raises(AmiCopyError) as e:
        ac.validate_options(params(**overrides))
    assert message in str(e.value)


# ---- encryption guard ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "source_encrypted, encrypted, regions, expected",
    [
        (False, None, ["eu-west-1"], []),  # unencrypted stays unencrypted
        (True, None, ["eu-west-1"], ["eu-west-1"]),  # lands under aws/ebs
        (True, None, [{"region": "eu-west-1", "kms_key_id": KEY_EU}, "us-west-2"], ["us-west-2"]),
        (False, True, ["eu-west-1"], ["eu-west-1"]),  # encrypting without a key: aws/ebs too
        (False, True, [{"region": "eu-west-1", "kms_key_id": "alias/aws/ebs"}], ["eu-west-1"]),  # explicit managed key
        (True, None, [{"region": "eu-west-1", "kms_key_id": "arn:aws:kms:eu-west-1:111122223333:alias/aws/ebs"}], ["eu-west-1"]),
        (False, None, [{"region": "eu-west-1", "kms_key_id": KEY_EU}], []),
    ],
)
def test_managed_key_regions(source_encrypted, encrypted, regions, expected):
    assert ac.managed_key_regions(ac.parse_destinations(regions), source_encrypted, encrypted) == expected


def test_check_encryption_names_regions_and_the_way_out():
    dests = ac.parse_destinations([{"region": "eu-west-1", "kms_key_id": KEY_EU}, "us-west-2", "ap-south-1"])
    with pytest.raises(AmiCopyError) as e:
        ac.check_encryption(dests, image(encrypted=True), None, False)
    msg = str(e.value)
    assert "us-west-2, ap-south-1" in msg and "eu-west-1" not in msg
    assert "allow_aws_managed_key" in msg and "kms_key_id" in msg
    ac.check_encryption(dests, image(encrypted=True), None, True)  # allowed explicitly


def test_check_encryption_refuses_unencrypted_copy_of_encrypted_source():
    with pytest.raises(AmiCopyError) as e:
        ac.check_encryption(ac.parse_destinations([{"region": "eu-west-1", "kms_key_id": KEY_EU}]), image(encrypted=True), False, True)
    assert "cannot make an unencrypted copy" in str(e.value)


# ---- copy request and client token -------------------------------------------------------------
def test_copy_request_with_key_tags_and_description_default():
    dest = Destination("eu-west-1", KEY_EU, "gold")
    req = ac.copy_request(image(Description="from source"), "us-east-1", dest, "gold", None, None, True, {"b": "2", "a": "1"})
    assert req["Encrypted"] is True and req["KmsKeyId"] == KEY_EU
    assert req["Description"] == "from source"
    assert req["CopyImageTags"] is True
    assert req["TagSpecifications"] == [
        {"ResourceType": "image", "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]},
        {"ResourceType": "snapshot", "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]},
    ]
    assert len(req["ClientToken"]) == 64


def test_copy_request_plain():
    req = ac.copy_request(image(), "us-east-1", Destination("eu-west-1", None, "g"), "g", "mine", None, False, None)
    assert {k: v for k, v in req.items() if k != "ClientToken"} == {
        "SourceImageId": SRC, "SourceRegion": "us-east-1", "Name": "g", "Description": "mine",
    }


def _token(**kw):
    args = dict(source=image(), source_region="us-east-1", dest=Destination("eu-west-1", KEY_EU, "g"), name="g",
                description=None, encrypted=None, copy_tags=True, tags=None, failed_image_ids=())
    args.update(kw)
    return ac.copy_request(**args)["ClientToken"]


def test_client_token_is_deterministic_and_covers_every_input():
    base = _token()
    assert base == _token()
    variants = [
        _token(dest=Destination("eu-central-1", None, "g")),
        _token(dest=Destination("eu-west-1", "alias/other", "g")),
        _token(name="h"),
        _token(description="d"),
        _token(encrypted=True, dest=Destination("eu-west-1", None, "g")),
        _token(copy_tags=False),
        _token(tags={"a": "1"}),
        _token(source_region="us-west-2"),
        _token(failed_image_ids=["ami-00000000"]),
    ]
    assert base not in variants
    assert len(set(variants)) == len(variants)


def test_same_request_in_two_regions_gets_two_tokens():
    dest_a, dest_b = Destination("eu-west-1", None, "g"), Destination("us-west-2", None, "g")
    assert ac.client_token(dest_a.region, {"Name": "g"}) != ac.client_token(dest_b.region, {"Name": "g"})


# ---- existing copies -----------------------------------------------------------------------------
def test_pick_copy_prefers_available_then_oldest():
    images = [
        {"ImageId": "ami-3", "State": "pending", "CreationDate": "2024-01-01"},
        {"ImageId": "ami-2", "State": "available", "CreationDate": "2024-03-01"},
        {"ImageId": "ami-1", "State": "available", "CreationDate": "2024-02-01"},
        {"ImageId": "ami-9", "State": "failed", "CreationDate": "2023-01-01"},
    ]
    copy, failed, others = ac.pick_copy(images)
    assert copy["ImageId"] == "ami-1"
    assert failed == ["ami-9"]
    assert others == ["ami-2", "ami-3"]


def test_pick_copy_failed_is_not_a_copy():
    assert ac.pick_copy([{"ImageId": "ami-9", "State": "failed"}]) == (None, ["ami-9"], [])
    assert ac.pick_copy([]) == (None, [], [])


# ---- results and messages ------------------------------------------------------------------------
def test_failure_message_names_regions_reasons_and_timeouts():
    results = [
        ac.image_result("eu-west-1", "ami-1", "available", True),
        ac.image_result("us-west-2", "ami-2", "failed", True, state_reason={"code": "Client.InvalidKMSKey.NotFound", "message": "no such key"}),
        ac.image_result("ap-south-1", None, ac.STATE_ERROR, False, state_reason={"code": "InvalidAMIName.Duplicate", "message": "name taken"}),
        ac.image_result("sa-east-1", "ami-4", "pending", True),
    ]
    msg = ac.failure_message(results, timed_out=True, wait_timeout=60)
    assert "us-west-2: ami-2 failed (no such key)" in msg
    assert "ap-south-1: no image could not be copied (name taken)" in msg
    assert "still pending after wait_timeout=60s in sa-east-1" in msg
    assert "eu-west-1" not in msg
    assert ac.failure_message(results[:1]) is None
    # pending without a time-out (wait: false) is not a failure
    assert ac.failure_message([results[3]]) is None


def test_poll_delays_grow_to_a_bound():
    gen = ac.poll_delays(first=1.0, factor=2.0, most=5.0)
    assert [next(gen) for dummy in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]


@pytest.mark.parametrize("value, expected", [
    ("alias/aws/ebs", True), ("arn:aws:kms:eu-west-1:111122223333:alias/aws/ebs", True),
    ("alias/mine", False), (KEY_EU, False), (None, False),
])
def test_is_aws_managed_key(value, expected):
    assert ac.is_aws_managed_key(value) is expected


def test_source_is_encrypted():
    assert ac.source_is_encrypted(image(encrypted=True))
    assert not ac.source_is_encrypted(image(encrypted=False))
    assert not ac.source_is_encrypted({"BlockDeviceMappings": [{"DeviceName": "/dev/sdb", "VirtualName": "ephemeral0"}]})


# ---- destination keys and the source -------------------------------------------------------------
def key_meta(**kw):
    out = {"Arn": KEY_EU, "KeyManager": "CUSTOMER", "KeyState": "Enabled", "KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT"}
    out.update(kw)
    return out


def test_key_problem_accepts_an_enabled_symmetric_customer_key():
    assert ac.key_problem("regions[0].kms_key_id", "alias/ami", "eu-west-1", key_meta()) is None
    assert ac.key_problem("regions[0].kms_key_id", "alias/aws/ebs", "eu-west-1", key_meta(KeyManager="AWS"), True) is None


@pytest.mark.parametrize("metadata, message", [
    (None, "regions[2].kms_key_id: no KMS key or alias 'alias/ami' in region eu-west-1: give a customer managed key of that region"),
    (key_meta(KeyManager="AWS"),
     "regions[2].kms_key_id: the key 'alias/ami' (%s) in region eu-west-1 is an AWS managed key (KeyManager AWS), and AMIs "
     "encrypted with it cannot be shared with other accounts: give a customer managed key of that region, or set "
     "allow_aws_managed_key: true" % KEY_EU),
    (key_meta(KeyState="Disabled"),
     "regions[2].kms_key_id: the key 'alias/ami' (%s) in region eu-west-1 is Disabled: give an enabled customer managed key "
     "of that region (KeyState Enabled)" % KEY_EU),
    (key_meta(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY"),
     "regions[2].kms_key_id: the key 'alias/ami' (%s) in region eu-west-1 is a RSA_2048 key for SIGN_VERIFY: EBS encrypts "
     "with symmetric keys only: give a customer managed key of that region with KeySpec SYMMETRIC_DEFAULT and KeyUsage "
     "ENCRYPT_DECRYPT" % KEY_EU),
])
def test_key_problem_names_option_value_region_and_what_is_expected(metadata, message):
    assert ac.key_problem("regions[2].kms_key_id", "alias/ami", "eu-west-1", metadata) == message


def test_source_result_splits_customer_and_aws_managed_keys():
    ebs = "arn:aws:kms:us-east-1:111122223333:key/aaaaaaaa-12ab-34cd-56ef-1234567890ab"
    foreign = "arn:aws:kms:us-east-1:444455556666:key/bbbbbbbb-12ab-34cd-56ef-1234567890ab"
    snapshots = [
        {"SnapshotId": "snap-1", "Encrypted": True, "KmsKeyId": KEY_US},
        {"SnapshotId": "snap-2", "Encrypted": True, "KmsKeyId": ebs},
        {"SnapshotId": "snap-3", "Encrypted": True, "KmsKeyId": foreign},
        {"SnapshotId": "snap-4", "Encrypted": True, "KmsKeyId": KEY_US},
        {"SnapshotId": "snap-5", "Encrypted": False},
    ]
    metadata = {KEY_US: {"Arn": KEY_US, "KeyManager": "CUSTOMER"}, ebs: {"Arn": ebs, "KeyManager": "AWS"}, foreign: None}
    assert ac.source_result(image(OwnerId="111122223333"), "us-east-1", snapshots, metadata) == {
        "image_id": SRC, "region": "us-east-1", "name": "golden", "owner_id": "111122223333", "encrypted": True,
        "kms_key_arns": [KEY_US, foreign], "aws_managed_kms_key_arns": [ebs],
    }
    assert ac.source_result(image(), "us-east-1", [], {})["encrypted"] is False
    assert ac.source_result(image(encrypted=True), "us-east-1", [], {})["encrypted"] is True


def test_image_result_reports_the_key_under_both_names():
    result = ac.image_result("eu-west-1", "ami-1", "available", True, KEY_EU)
    assert result["kms_key_arn"] == result["kms_key_id"] == KEY_EU
