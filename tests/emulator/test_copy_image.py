"""(b) CopyImage: encryption, keys checked asynchronously, tags, client tokens, names, filters, pending time."""

import botocore.exceptions
import pytest

from emulator_helpers import error_of, raw_client
from orgshare_emulator.fixtures import create_key, image_keys, make_image


@pytest.fixture
def pending(aws):
    """Set the copy pending time; restored afterwards (the session emulator is shared)."""
    yield aws.emulator.set_copy_pending_seconds
    aws.emulator.set_copy_pending_seconds(0)


def _image(ec2, image_id):
    return ec2.describe_images(ImageIds=[image_id])["Images"][0]


def _ebs_key(aws, region):
    return aws.client("kms", region).describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["Arn"]


def _source(aws, encrypted=True):
    ec2, kms = aws.client("ec2"), aws.client("kms")
    key = create_key(kms) if encrypted else None
    vols = [{"device_name": "/dev/xvda", "size": 8, "kms_key_id": key}, {"device_name": "/dev/xvdb", "size": 16}]
    if not encrypted:
        vols[0].pop("kms_key_id")
    image_id = make_image(ec2, "source", volumes=vols, tags={"team": "platform", "env": "prod"})
    return image_id, key


def test_cross_region_copy_with_key_gets_new_snapshots_under_that_key(aws):
    src, dummy = _source(aws)
    west, west_kms = aws.client("ec2", "us-west-2"), aws.client("kms", "us-west-2")
    key_west = create_key(west_kms)
    copy = west.copy_image(Name="copy", SourceImageId=src, SourceRegion="us-east-1", Encrypted=True, KmsKeyId=key_west)["ImageId"]
    image = _image(west, copy)
    assert image["State"] == "available"
    assert (image["SourceImageId"], image["SourceImageRegion"]) == (src, "us-east-1")
    assert image_keys(west, copy) == {"/dev/xvda": key_west, "/dev/xvdb": key_west}
    src_snaps = {m["Ebs"]["SnapshotId"] for m in _image(aws.client("ec2"), src)["BlockDeviceMappings"]}
    new_snaps = {m["Ebs"]["SnapshotId"] for m in image["BlockDeviceMappings"]}
    assert not src_snaps & new_snaps
    assert {s["SnapshotId"] for s in west.describe_snapshots(OwnerIds=["self"])["Snapshots"]} == new_snaps
    # launch permissions and (without CopyImageTags) tags are not copied
    assert west.describe_image_attribute(ImageId=copy, Attribute="launchPermission")["LaunchPermissions"] == []
    assert image.get("Tags", []) == []


def test_cross_region_copy_without_key_lands_under_destination_aws_ebs(aws):
    src, key = _source(aws)
    west = aws.client("ec2", "us-west-2")
    copy = west.copy_image(Name="copy", SourceImageId=src, SourceRegion="us-east-1")["ImageId"]
    keys = image_keys(west, copy)
    assert keys == {"/dev/xvda": _ebs_key(aws, "us-west-2"), "/dev/xvdb": None}
    # ... which makes it unshareable
    code, dummy = error_of(raw_client(aws, "ec2", "us-west-2").modify_image_attribute, ImageId=copy, LaunchPermission={"Add": [{"UserId": "111122223333"}]})
    assert code == "InvalidParameter"


def test_same_region_copy_keeps_source_key_and_encrypted_true_encrypts_everything(aws):
    src, key = _source(aws)
    ec2 = aws.client("ec2")
    same = ec2.copy_image(Name="same", SourceImageId=src, SourceRegion="us-east-1")["ImageId"]
    assert image_keys(ec2, same) == {"/dev/xvda": key, "/dev/xvdb": None}
    enc = ec2.copy_image(Name="enc", SourceImageId=src, SourceRegion="us-east-1", Encrypted=True)["ImageId"]
    assert image_keys(ec2, enc) == {"/dev/xvda": _ebs_key(aws, "us-east-1"), "/dev/xvdb": _ebs_key(aws, "us-east-1")}
    assert all(m["Ebs"]["Encrypted"] for m in _image(ec2, enc)["BlockDeviceMappings"])


def test_kms_key_id_needs_encrypted(aws):
    src, key = _source(aws)
    code, dummy = error_of(raw_client(aws, "ec2").copy_image, Name="x-copy", SourceImageId=src, SourceRegion="us-east-1", KmsKeyId=key)
    assert code == "InvalidParameterDependency"


@pytest.mark.parametrize("problem", ["other-region", "missing", "disabled"])
def test_bad_key_fails_the_copy_asynchronously(aws, problem):
    src, key = _source(aws)
    west = raw_client(aws, "ec2", "us-west-2")
    if problem == "other-region":
        bad = key  # a us-east-1 key given to a us-west-2 copy
    elif problem == "missing":
        bad = "arn:aws:kms:us-west-2:123456789012:key/00000000-0000-0000-0000-000000000000"
    else:
        kms = aws.client("kms", "us-west-2")
        bad = create_key(kms)
        kms.disable_key(KeyId=bad)
    copy = west.copy_image(Name="bad-key", SourceImageId=src, SourceRegion="us-east-1", Encrypted=True, KmsKeyId=bad)["ImageId"]
    image = _image(west, copy)
    assert image["State"] == "failed"
    # AWS documents that the key is checked asynchronously and the copy fails; not the StateReason codes (unverified)
    assert image["StateReason"]["Code"] and image["StateReason"]["Message"]
    # Snapshot StateMessage (botocore's EC2 model): "If a snapshot copy operation fails (for example, if the proper KMS
    # permissions are not obtained) this field displays error state details"; its text is not pinned
    snaps = [m["Ebs"]["SnapshotId"] for m in image["BlockDeviceMappings"]]
    for snap in west.describe_snapshots(SnapshotIds=snaps)["Snapshots"]:
        assert snap["State"] == "error" and snap["StateMessage"]


def test_copy_image_tags_and_tag_specifications(aws):
    src, dummy = _source(aws)
    ec2 = aws.client("ec2")
    copy = ec2.copy_image(
        Name="tagged",
        SourceImageId=src,
        SourceRegion="us-east-1",
        CopyImageTags=True,
        TagSpecifications=[
            {"ResourceType": "image", "Tags": [{"Key": "copy", "Value": "yes"}, {"Key": "env", "Value": "dr"}]},
            {"ResourceType": "snapshot", "Tags": [{"Key": "snap", "Value": "1"}]},
        ],
    )["ImageId"]
    tags = {t["Key"]: t["Value"] for t in _image(ec2, copy)["Tags"]}
    assert tags == {"team": "platform", "env": "dr", "copy": "yes"}
    for m in _image(ec2, copy)["BlockDeviceMappings"]:
        snap = ec2.describe_snapshots(SnapshotIds=[m["Ebs"]["SnapshotId"]])["Snapshots"][0]
        assert {t["Key"]: t["Value"] for t in snap["Tags"]} == {"snap": "1"}


def test_a_tag_specification_for_another_resource_type_fails_the_copy(aws):
    """CopyImage TagSpecifications (botocore's EC2 model): ResourceType ``image`` tags the AMI, ``snapshot`` the new
    snapshots; "If you specify other values for ResourceType, the request fails." The code is not documented: only the
    failure, and that no copy is made."""
    src, dummy = _source(aws)
    west = raw_client(aws, "ec2", "us-west-2")
    with pytest.raises(botocore.exceptions.ClientError):
        west.copy_image(Name="tagged", SourceImageId=src, SourceRegion="us-east-1",
                        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "env", "Value": "dr"}]}])
    assert west.describe_images(Owners=["self"])["Images"] == []
    assert west.describe_snapshots(OwnerIds=["self"])["Snapshots"] == []


def test_an_unknown_source_region_is_a_client_error_and_nothing_is_copied(aws):
    """CopyImage ``SourceRegion``: "The name of the Region that contains the AMI to copy" (botocore's EC2 model). A name
    that is no Region is the caller's mistake: a client error (HTTP 4xx; EC2 API Reference, "Troubleshooting API request
    errors": client errors "occur because there is a problem with the structure, content, or validity of the request"),
    which SDKs do not retry, not a server error. Its code is not documented, so it is not pinned."""
    src, dummy = _source(aws)
    ec2 = raw_client(aws, "ec2")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        ec2.copy_image(Name="from-nowhere", SourceImageId=src, SourceRegion="xx-nowhere-1")
    assert 400 <= exc.value.response["ResponseMetadata"]["HTTPStatusCode"] < 500
    assert [i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"]] == [src]


def test_client_token_idempotency(aws):
    src, dummy = _source(aws)
    west = raw_client(aws, "ec2", "us-west-2")
    args = dict(Name="tok", SourceImageId=src, SourceRegion="us-east-1", ClientToken="orgshare-tok-1")
    first = west.copy_image(**args)["ImageId"]
    assert west.copy_image(**args)["ImageId"] == first
    assert len(west.describe_images(Owners=["self"])["Images"]) == 1
    code, dummy = error_of(west.copy_image, **dict(args, Description="other"))
    assert code == "IdempotentParameterMismatch"
    # without a token the name clash is reported
    code, message = error_of(west.copy_image, Name="tok", SourceImageId=src, SourceRegion="us-east-1")
    assert code == "InvalidAMIName.Duplicate" and first in message
    # tokens are per region
    assert aws.client("ec2", "eu-west-1").copy_image(**args)["ImageId"] != first


def test_source_image_filters(aws):
    src, dummy = _source(aws)
    other = make_image(aws.client("ec2"), "other-source")
    west = aws.client("ec2", "us-west-2")
    copy = west.copy_image(Name="copy-1", SourceImageId=src, SourceRegion="us-east-1")["ImageId"]
    west.copy_image(Name="copy-2", SourceImageId=other, SourceRegion="us-east-1")
    found = west.describe_images(
        Owners=["self"], Filters=[{"Name": "source-image-id", "Values": [src]}, {"Name": "source-image-region", "Values": ["us-east-1"]}])
    assert [i["ImageId"] for i in found["Images"]] == [copy]
    assert west.describe_images(Filters=[{"Name": "source-image-region", "Values": ["eu-west-1"]}])["Images"] == []
    # DescribeImages filter "source-image-region - The Region of the source AMI" (botocore's EC2 model): in the source
    # region, a copy made there is found, the registered AMIs (no source) are not
    east = aws.client("ec2")
    here = east.copy_image(Name="copy-here", SourceImageId=src, SourceRegion="us-east-1")["ImageId"]
    found = east.describe_images(Owners=["self"], Filters=[{"Name": "source-image-region", "Values": ["us-east-1"]}])
    assert [i["ImageId"] for i in found["Images"]] == [here]
    # an original image has no source fields
    assert "SourceImageId" not in _image(aws.client("ec2"), src)


def test_unknown_or_unavailable_source(aws, pending, copy_clock):
    west = raw_client(aws, "ec2", "us-west-2")
    assert error_of(west.copy_image, Name="nope", SourceImageId="ami-0123456789abcdef0", SourceRegion="us-east-1")[0] == "InvalidAMIID.NotFound"
    src, dummy = _source(aws)
    pending(30)
    copy = west.copy_image(Name="in-flight", SourceImageId=src, SourceRegion="us-east-1")["ImageId"]
    assert error_of(raw_client(aws, "ec2").copy_image, Name="copy-of-copy", SourceImageId=copy, SourceRegion="us-west-2")[0] == "InvalidAMIID.Unavailable"


def test_pending_time_with_growing_progress(aws, pending, copy_clock):
    src, dummy = _source(aws)
    pending(100)  # seconds of the hand-moved clock (copy_clock)
    west = aws.client("ec2", "us-west-2")
    copy = west.copy_image(Name="slow", SourceImageId=src, SourceRegion="us-east-1")["ImageId"]
    assert _image(west, copy)["State"] == "pending"
    snaps = [m["Ebs"]["SnapshotId"] for m in _image(west, copy)["BlockDeviceMappings"]]

    def snapshots():
        return sorted((s["State"], s["Progress"]) for s in west.describe_snapshots(SnapshotIds=snaps)["Snapshots"])

    assert snapshots() == [("pending", "0%"), ("pending", "0%")]
    copy_clock.advance(30)
    assert snapshots() == [("pending", "30%"), ("pending", "30%")]
    assert _image(west, copy)["State"] == "pending"
    assert [i["ImageId"] for i in west.describe_images(Filters=[{"Name": "state", "Values": ["pending"]}])["Images"]] == [copy]

    def with_status(status):  # DescribeSnapshots filter "status - The status of the snapshot (pending | completed | error)"
        return sorted(s["SnapshotId"] for s in west.describe_snapshots(Filters=[{"Name": "status", "Values": [status]}])["Snapshots"])

    assert (with_status("pending"), with_status("completed")) == (sorted(snaps), [])
    copy_clock.advance(69.5)
    assert snapshots() == [("pending", "99%"), ("pending", "99%")]
    assert _image(west, copy)["State"] == "pending"
    copy_clock.advance(0.5)  # the pending time is over
    assert _image(west, copy)["State"] == "available"
    assert snapshots() == [("completed", "100%"), ("completed", "100%")]
    assert (with_status("pending"), with_status("completed")) == ([], sorted(snaps))
    assert west.describe_images(Filters=[{"Name": "state", "Values": ["pending"]}])["Images"] == []
    west.get_waiter("image_available").wait(ImageIds=[copy], WaiterConfig={"Delay": 1, "MaxAttempts": 2})


def test_a_failed_copy_is_pending_first_then_failed(aws, pending, copy_clock):
    src, dummy = _source(aws)
    pending(10)
    west = aws.client("ec2", "us-west-2")
    copy = west.copy_image(Name="bad-key-slow", SourceImageId=src, SourceRegion="us-east-1", Encrypted=True,
                           KmsKeyId="arn:aws:kms:us-west-2:123456789012:key/00000000-0000-0000-0000-000000000000")["ImageId"]
    image = _image(west, copy)
    assert image["State"] == "pending" and "StateReason" not in image
    copy_clock.advance(10)
    image = _image(west, copy)
    assert image["State"] == "failed" and image["StateReason"]["Code"]


def test_deregister_copy(aws):
    src, dummy = _source(aws)
    west = aws.client("ec2", "us-west-2")
    copy = west.copy_image(Name="gone", SourceImageId=src, SourceRegion="us-east-1")["ImageId"]
    west.deregister_image(ImageId=copy)
    assert west.describe_images(Owners=["self"])["Images"] == []
    # the name is free again
    west.copy_image(Name="gone", SourceImageId=src, SourceRegion="us-east-1")
