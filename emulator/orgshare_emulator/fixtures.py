"""Helpers that build AWS resources through boto3 clients (so they work in-process and against a
server started with ``python -m orgshare_emulator serve``).

    from orgshare_emulator.fixtures import create_key, make_image, credentials_for
    key_arn = create_key(kms, description="golden images")
    image_id = make_image(ec2, "golden-1", volumes=[
        {"device_name": "/dev/xvda", "size": 8, "encrypted": True, "kms_key_id": key_arn},
        {"device_name": "/dev/xvdb", "size": 20},
    ], tags={"team": "platform"})
"""

from __future__ import annotations

import json

DEFAULT_VOLUMES = ({"device_name": "/dev/xvda", "size": 8, "encrypted": False},)


def default_key_policy(account_id, partition="aws"):
    """The default key policy KMS gives a key created without one: the account root may do all."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Id": "key-default-1",
            "Statement": [
                {
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:%s:iam::%s:root" % (partition, account_id)},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        },
        indent=2,
    )


def create_key(kms_client, description="orgshare test key", policy=None, alias=None, tags=None):
    """Create a customer managed symmetric key; return its ARN. ``policy`` may be a dict or JSON."""
    kwargs = {"Description": description, "KeyUsage": "ENCRYPT_DECRYPT", "KeySpec": "SYMMETRIC_DEFAULT"}
    if policy is not None:
        kwargs["Policy"] = policy if isinstance(policy, str) else json.dumps(policy)
    if tags:
        kwargs["Tags"] = [{"TagKey": k, "TagValue": v} for k, v in sorted(tags.items())]
    arn = kms_client.create_key(**kwargs)["KeyMetadata"]["Arn"]
    if alias:
        kms_client.create_alias(AliasName=alias if alias.startswith("alias/") else "alias/" + alias, TargetKeyId=arn)
    return arn


def _zone(ec2_client):
    region = ec2_client.meta.region_name
    return region + "a"


def make_snapshot(ec2_client, size=8, encrypted=False, kms_key_id=None, description=None, tags=None):
    """A snapshot of a fresh volume (deleted afterwards); returns the snapshot id.

    ``encrypted`` without ``kms_key_id`` uses the account's EBS default key (aws/ebs)."""
    kwargs = {"Size": int(size), "AvailabilityZone": _zone(ec2_client), "VolumeType": "gp3"}
    if encrypted or kms_key_id:
        kwargs["Encrypted"] = True
    if kms_key_id:
        kwargs["KmsKeyId"] = kms_key_id
    volume_id = ec2_client.create_volume(**kwargs)["VolumeId"]
    skw = {"VolumeId": volume_id, "Description": description or "orgshare fixture snapshot"}
    if tags:
        skw["TagSpecifications"] = [{"ResourceType": "snapshot", "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}]
    snapshot_id = ec2_client.create_snapshot(**skw)["SnapshotId"]
    ec2_client.delete_volume(VolumeId=volume_id)
    return snapshot_id


def make_image(ec2_client, name, volumes=None, tags=None, description=None, snapshot_tags=None):
    """Register an AMI whose block device mappings are real snapshots; return the image id.

    ``volumes``: list of dicts with ``device_name``, ``size`` (GiB), ``encrypted`` (bool) and
    ``kms_key_id`` (key id/ARN/alias; implies encrypted). The first is the root device.
    Default: one unencrypted 8 GiB ``/dev/xvda``."""
    volumes = list(volumes if volumes is not None else DEFAULT_VOLUMES)
    mappings = []
    for i, vol in enumerate(volumes):
        device = vol.get("device_name") or "/dev/xvd%s" % "abcdefghijklmnop"[i]
        snapshot_id = make_snapshot(
            ec2_client,
            size=vol.get("size", 8),
            encrypted=vol.get("encrypted", False),
            kms_key_id=vol.get("kms_key_id"),
            description="%s %s" % (name, device),
            tags=snapshot_tags,
        )
        mappings.append(
            {
                "DeviceName": device,
                "Ebs": {"SnapshotId": snapshot_id, "VolumeSize": int(vol.get("size", 8)), "VolumeType": "gp3", "DeleteOnTermination": True},
            }
        )
    kwargs = {
        "Name": name,
        "Architecture": "x86_64",
        "VirtualizationType": "hvm",
        "RootDeviceName": mappings[0]["DeviceName"],
        "BlockDeviceMappings": mappings,
        "Description": description or name,
    }
    if tags:
        kwargs["TagSpecifications"] = [{"ResourceType": "image", "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}]
    return ec2_client.register_image(**kwargs)["ImageId"]


def image_keys(ec2_client, image_id):
    """{device name: KmsKeyId or None} of an image, read as a caller must (DescribeSnapshots)."""
    image = ec2_client.describe_images(ImageIds=[image_id])["Images"][0]
    out = {}
    for m in image.get("BlockDeviceMappings", []):
        sid = m.get("Ebs", {}).get("SnapshotId")
        if sid:
            snap = ec2_client.describe_snapshots(SnapshotIds=[sid])["Snapshots"][0]
            out[m["DeviceName"]] = snap.get("KmsKeyId")
    return out


def credentials_for(emulator, account_id, user_name="orgshare-test"):
    """(access_key, secret_key) whose calls the emulator attributes to ``account_id``.

    moto maps an access key to the account whose IAM holds it, so this creates an IAM user and
    access key in that account's (moto) IAM backend. Works for an in-process Emulator; for a server
    in another process, use ``python -m orgshare_emulator`` control endpoint
    ``POST /_orgshare/credentials {"account_id": ...}``."""
    from moto.iam.models import iam_backends

    iam = iam_backends[account_id]["aws"]
    if user_name not in iam.users:
        iam.create_user(region_name="us-east-1", user_name=user_name, path="/", tags=[])
    keys = iam.list_access_keys(user_name)
    key = keys[0] if keys else iam.create_access_key(user_name)
    return key.access_key_id, key.secret_access_key
