"""(a) AMIs with real block device mappings; encrypted snapshots; the AWS managed aws/ebs key."""

import boto3
import botocore.exceptions
import pytest

from emulator_helpers import error_of, raw_client
from orgshare_emulator.fixtures import create_key, credentials_for, image_keys, make_image, make_snapshot


def test_register_image_keeps_several_mappings_and_their_encryption(aws):
    ec2, kms = aws.client("ec2"), aws.client("kms")
    key = create_key(kms, description="golden")
    image_id = make_image(
        ec2,
        "golden-1",
        volumes=[
            {"device_name": "/dev/xvda", "size": 8, "encrypted": True, "kms_key_id": key},
            {"device_name": "/dev/xvdb", "size": 20},
            {"device_name": "/dev/xvdc", "size": 4, "encrypted": True},
        ],
    )
    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    mappings = {m["DeviceName"]: m["Ebs"] for m in image["BlockDeviceMappings"]}
    assert sorted(mappings) == ["/dev/xvda", "/dev/xvdb", "/dev/xvdc"]
    assert [mappings[d]["Encrypted"] for d in sorted(mappings)] == [True, False, True]
    assert [mappings[d]["VolumeSize"] for d in sorted(mappings)] == [8, 20, 4]
    assert image["RootDeviceName"] == "/dev/xvda" and image["RootDeviceType"] == "ebs"
    # As AWS: DescribeImages never shows the key; DescribeSnapshots does, as a full ARN.
    assert all("KmsKeyId" not in ebs for ebs in mappings.values())
    keys = image_keys(ec2, image_id)
    assert keys["/dev/xvda"] == key
    assert keys["/dev/xvdb"] is None
    ebs_key = kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]
    assert keys["/dev/xvdc"] == ebs_key["Arn"]
    # each mapping has its own snapshot
    assert len({ebs["SnapshotId"] for ebs in mappings.values()}) == 3


def test_default_volumes_one_unencrypted_root(aws):
    ec2 = aws.client("ec2")
    image = ec2.describe_images(ImageIds=[make_image(ec2, "plain")])["Images"][0]
    assert [(m["DeviceName"], m["Ebs"]["Encrypted"], m["Ebs"]["VolumeSize"]) for m in image["BlockDeviceMappings"]] == [("/dev/xvda", False, 8)]


def test_aws_managed_ebs_key_exists_in_every_region_with_key_manager_aws(aws):
    for region in ("us-east-1", "eu-central-1", "ap-southeast-2"):
        kms = aws.client("kms", region)
        meta = kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]
        assert meta["KeyManager"] == "AWS"
        assert meta["Arn"].startswith("arn:aws:kms:%s:%s:key/" % (region, aws.account_id))
        aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
        assert aliases["alias/aws/ebs"] == meta["KeyId"]


def test_encrypted_volume_without_key_uses_aws_managed_key(aws):
    ec2, kms = aws.client("ec2"), aws.client("kms")
    vol = ec2.create_volume(Size=4, AvailabilityZone="us-east-1a", Encrypted=True)
    assert vol["KmsKeyId"] == kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["Arn"]


def test_snapshot_of_encrypted_volume_keeps_key_as_arn_even_if_given_by_alias(aws):
    ec2, kms = aws.client("ec2"), aws.client("kms")
    key = create_key(kms, alias="alias/team-key")
    snap_id = make_snapshot(ec2, size=2, kms_key_id="alias/team-key")
    snap = ec2.describe_snapshots(SnapshotIds=[snap_id])["Snapshots"][0]
    assert snap["Encrypted"] is True and snap["KmsKeyId"] == key


def test_copy_snapshot_with_kms_key_id(aws):
    ec2, kms = aws.client("ec2"), aws.client("kms")
    key = create_key(kms)
    src = make_snapshot(ec2, size=2)
    copy = ec2.copy_snapshot(SourceSnapshotId=src, SourceRegion="us-east-1", Encrypted=True, KmsKeyId=key)["SnapshotId"]
    snap = ec2.describe_snapshots(SnapshotIds=[copy])["Snapshots"][0]
    assert (snap["Encrypted"], snap["KmsKeyId"]) == (True, key)
    # cross-region copy of an encrypted snapshot without a key: the destination's aws/ebs key
    west = aws.client("ec2", "us-west-2")
    copy2 = west.copy_snapshot(SourceSnapshotId=copy, SourceRegion="us-east-1")["SnapshotId"]
    snap2 = west.describe_snapshots(SnapshotIds=[copy2])["Snapshots"][0]
    assert snap2["Encrypted"] is True
    assert snap2["KmsKeyId"] == aws.client("kms", "us-west-2").describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["Arn"]


def test_register_image_rejects_unknown_snapshot_and_encrypted_flag_with_snapshot(aws):
    ec2 = raw_client(aws, "ec2")
    code, dummy = error_of(
        ec2.register_image, Name="bad-1", RootDeviceName="/dev/xvda",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0123456789abcdef0"}}],
    )
    assert code == "InvalidSnapshot.NotFound"
    snap = make_snapshot(ec2, size=2)
    code, dummy = error_of(
        ec2.register_image, Name="bad-2", RootDeviceName="/dev/xvda",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snap, "Encrypted": True}}],
    )
    assert code == "InvalidBlockDeviceMapping"


# A mapping RegisterImage refuses, given the snapshot of another (8 GiB) volume.
REFUSED_MAPPINGS = {
    # EC2 User Guide, "Block device mappings", https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/block-device-mapping-concepts.html
    # ("Block device mapping entries": each entry specifies "the device name used within Amazon EC2")
    "no device name": lambda snap: {"Ebs": {"SnapshotId": snap}},
    # EbsBlockDevice VolumeSize (botocore's EC2 model): "You can specify a volume size that is equal to or larger than
    # the snapshot size"
    "smaller than its snapshot": lambda snap: {"DeviceName": "/dev/xvdb", "Ebs": {"SnapshotId": snap, "VolumeSize": 4}},
    # the same: "You must specify either a snapshot ID or a volume size"
    "neither snapshot nor size": lambda snap: {"DeviceName": "/dev/xvdb", "Ebs": {"VolumeType": "gp3"}},
}


@pytest.mark.parametrize("case", sorted(REFUSED_MAPPINGS))
def test_register_image_refuses_a_mapping_aws_does_not_accept_and_registers_nothing(aws, case):
    """The sources are in REFUSED_MAPPINGS. The error code (InvalidBlockDeviceMapping, "A block device mapping parameter
    is not valid" in the EC2 API Reference, "Error codes for the Amazon EC2 API") is not documented for each case, so only
    the failure is asserted, and that no AMI exists and no snapshot is taken by one."""
    ec2 = raw_client(aws, "ec2")
    root, other = make_snapshot(ec2, size=8), make_snapshot(ec2, size=8)
    mappings = [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": root}}, REFUSED_MAPPINGS[case](other)]
    with pytest.raises(botocore.exceptions.ClientError):
        ec2.register_image(Name="refused-mapping", RootDeviceName="/dev/xvda", BlockDeviceMappings=mappings)
    assert ec2.describe_images(Owners=["self"])["Images"] == []
    for snap in (root, other):
        ec2.delete_snapshot(SnapshotId=snap)  # no AMI uses it (else InvalidSnapshot.InUse)


@pytest.mark.parametrize("resource_type", ["snapshot", "instance"])
def test_register_image_tags_the_ami_only(aws, resource_type):
    """RegisterImage TagSpecifications (botocore's EC2 model): "To tag the AMI, the value for ResourceType must be image.
    If you specify another value for ResourceType, the request fails." (CopyImage and CreateImage accept ``snapshot``
    too.) The error code is not documented: only the failure, and that nothing is registered or tagged."""
    ec2 = raw_client(aws, "ec2")
    snap = make_snapshot(ec2, size=8)
    specs = [{"ResourceType": "image", "Tags": [{"Key": "team", "Value": "platform"}]},
             {"ResourceType": resource_type, "Tags": [{"Key": "team", "Value": "platform"}]}]
    with pytest.raises(botocore.exceptions.ClientError):
        ec2.register_image(Name="tagged", RootDeviceName="/dev/xvda", TagSpecifications=specs,
                           BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snap}}])
    assert ec2.describe_images(Owners=["self"])["Images"] == []
    assert ec2.describe_snapshots(SnapshotIds=[snap])["Snapshots"][0].get("Tags", []) == []


@pytest.mark.parametrize("architecture, boot_mode", [("arm64", "uefi"), ("x86_64", "legacy-bios")])
def test_register_image_keeps_architecture_virtualization_type_and_boot_mode(aws, architecture, boot_mode):
    """RegisterImage ``Architecture``, ``VirtualizationType`` and ``BootMode`` (API Reference, "RegisterImage",
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RegisterImage.html; botocore's EC2 model) are the AMI's,
    as DescribeImages shows them."""
    ec2 = aws.client("ec2")
    snap = make_snapshot(ec2, size=8)
    image_id = ec2.register_image(
        Name="arch-%s" % architecture, Architecture=architecture, VirtualizationType="hvm", BootMode=boot_mode,
        RootDeviceName="/dev/xvda", BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snap}}],
    )["ImageId"]
    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    assert (image["Architecture"], image["VirtualizationType"], image["BootMode"]) == (architecture, "hvm", boot_mode)


def test_copy_snapshot_kms_key_id_needs_encrypted(aws):
    """CopySnapshot ``KmsKeyId`` (botocore's EC2 model): "If KmsKeyId is specified, the encrypted state must be true."
    The error code is not documented for CopySnapshot: only the failure, and that no copy is made."""
    ec2, kms = raw_client(aws, "ec2"), aws.client("kms")
    key = create_key(kms)
    src = make_snapshot(ec2, size=2)
    with pytest.raises(botocore.exceptions.ClientError):
        ec2.copy_snapshot(SourceSnapshotId=src, SourceRegion="us-east-1", KmsKeyId=key)
    assert [s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]] == [src]


def test_malformed_image_ids_are_refused(aws):
    """EC2 API Reference, "Error codes for the Amazon EC2 API",
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html: ``InvalidAMIID.Malformed`` "The specified
    AMI ID is malformed. Ensure that you provide the full AMI ID, in the form ami-xxxxxxxx." (not ``NotFound``, which is
    for a well-formed id of no AMI). DescribeImages refuses the whole request, also when other ids are fine."""
    ec2 = raw_client(aws, "ec2")
    image_id = make_image(ec2, "well-formed")
    assert error_of(ec2.describe_images, ImageIds=[image_id, "not-an-ami"])[0] == "InvalidAMIID.Malformed"
    for call, kwargs in (
        (ec2.describe_image_attribute, {"Attribute": "launchPermission"}),
        (ec2.modify_image_attribute, {"LaunchPermission": {"Add": [{"UserId": "111122223333"}]}}),
        (ec2.reset_image_attribute, {"Attribute": "launchPermission"}),
    ):
        assert error_of(call, ImageId="not-an-ami", **kwargs)[0] == "InvalidAMIID.Malformed"
    assert error_of(ec2.describe_image_attribute, ImageId="ami-0123456789abcdef0", Attribute="launchPermission")[0] == "InvalidAMIID.NotFound"


def test_snapshot_in_use_by_an_image_cannot_be_deleted_until_deregistered(aws):
    ec2 = raw_client(aws, "ec2")
    image_id = make_image(ec2, "in-use")
    snap = ec2.describe_images(ImageIds=[image_id])["Images"][0]["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    assert error_of(ec2.delete_snapshot, SnapshotId=snap)[0] == "InvalidSnapshot.InUse"
    ec2.deregister_image(ImageId=image_id)
    assert ec2.describe_images(Owners=["self"])["Images"] == []
    ec2.delete_snapshot(SnapshotId=snap)


def test_ami_names_are_unique_per_account_and_region(aws):
    ec2 = raw_client(aws, "ec2")
    first = make_image(ec2, "same-name")
    code, message = error_of(make_image, ec2, "same-name")
    assert code == "InvalidAMIName.Duplicate" and first in message
    # another region is fine
    make_image(aws.client("ec2", "eu-west-1"), "same-name")


def test_credentials_for_a_second_account(aws):
    access_key, secret_key = credentials_for(aws.emulator, "111122223333")
    sts = boto3.client("sts", region_name="us-east-1", endpoint_url=aws.endpoint_url, aws_access_key_id=access_key, aws_secret_access_key=secret_key)
    assert sts.get_caller_identity()["Account"] == "111122223333"
    other = aws.client("ec2", access_key=access_key, secret_key=secret_key)
    make_image(other, "theirs")
    assert [i["OwnerId"] for i in other.describe_images(Owners=["self"])["Images"]] == ["111122223333"]
    assert aws.client("ec2").describe_images(Owners=["self"])["Images"] == []
    assert credentials_for(aws.emulator, "111122223333") == (access_key, secret_key)


def test_create_image_names_are_unique_too(aws):
    ec2 = raw_client(aws, "ec2")
    base = make_image(ec2, "base-image")
    instance = ec2.run_instances(ImageId=base, MinCount=1, MaxCount=1, InstanceType="t3.micro")["Instances"][0]["InstanceId"]
    made = ec2.create_image(
        InstanceId=instance, Name="from-instance",
        TagSpecifications=[{"ResourceType": "snapshot", "Tags": [{"Key": "k", "Value": "v"}]}],
    )["ImageId"]
    snap = ec2.describe_images(ImageIds=[made])["Images"][0]["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    assert ec2.describe_snapshots(SnapshotIds=[snap])["Snapshots"][0]["Tags"] == [{"Key": "k", "Value": "v"}]
    code, dummy = error_of(ec2.create_image, InstanceId=instance, Name="base-image")
    assert code == "InvalidAMIName.Duplicate"


def test_block_device_mapping_filters(aws):
    ec2 = aws.client("ec2")
    plain = make_image(ec2, "plain-image")
    enc = make_image(ec2, "enc-image", volumes=[{"device_name": "/dev/xvda", "size": 8, "encrypted": True}])
    snap = ec2.describe_images(ImageIds=[enc])["Images"][0]["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    by_snap = ec2.describe_images(Owners=["self"], Filters=[{"Name": "block-device-mapping.snapshot-id", "Values": [snap]}])
    assert [i["ImageId"] for i in by_snap["Images"]] == [enc]
    by_enc = ec2.describe_images(Owners=["self"], Filters=[{"Name": "block-device-mapping.encrypted", "Values": ["false"]}])
    assert [i["ImageId"] for i in by_enc["Images"]] == [plain]


def test_account_ebs_default_key_is_used_when_changed(aws):
    ec2, kms = aws.client("ec2"), aws.client("kms")
    key = create_key(kms)
    ec2.modify_ebs_default_kms_key_id(KmsKeyId=key)
    snap = make_snapshot(ec2, size=2, encrypted=True)
    assert ec2.describe_snapshots(SnapshotIds=[snap])["Snapshots"][0]["KmsKeyId"] == key
