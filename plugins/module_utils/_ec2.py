# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to this collection: not a public API; may change in any release.

"""EC2 API wrappers for images, snapshots and launch permissions.

One small function per AWS call; each retries throttling (``RequestLimitExceeded``) with
amazon.aws's jittered backoff and raises :class:`OrgShareEC2Error` (an ``AnsibleEC2Error``)
on failure. No function takes the module.
"""

import re

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import AnsibleEC2Error
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

IMAGE_ID_RE = re.compile(r"^ami-[0-9a-f]{8}(?:[0-9a-f]{9})?$")
# DescribeSnapshots accepts up to 1,000 ids per call; AMIs have a handful, but stay generic.
SNAPSHOT_BATCH = 200

# Throttling is retried on top of botocore's own retries: these are enough for a 30% throttle rate.
_retry = AWSRetry.jittered_backoff(retries=10, delay=1, max_delay=20, catch_extra_error_codes=["RequestLimitExceeded"])


class OrgShareEC2Error(AnsibleEC2Error):
    pass


class ImageErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = OrgShareEC2Error

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code(["InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"])


class SnapshotErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = OrgShareEC2Error

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("InvalidSnapshot.NotFound")


def is_image_id(value):
    """True when ``value`` has the form of an AMI id (ami- and 8 or 17 hexadecimal digits)."""
    return bool(IMAGE_ID_RE.match(value or ""))


@ImageErrorHandler.list_error_handler("describe image {image_id}", None)
@_retry
def get_image(client, image_id):
    """The image as DescribeImages gives it, or None when it does not exist in the client's region."""
    images = client.describe_images(ImageIds=[image_id])["Images"]
    for image in images:
        if image.get("ImageId") == image_id:
            return image
    return None


@ImageErrorHandler.list_error_handler("describe launch permissions of image {image_id}", None)
@_retry
def describe_launch_permissions(client, image_id):
    """The image's raw ``LaunchPermissions`` entries, or None when the image does not exist."""
    return client.describe_image_attribute(ImageId=image_id, Attribute="launchPermission").get("LaunchPermissions", [])


@ImageErrorHandler.common_error_handler("modify launch permissions of image {image_id}")
@_retry
def modify_launch_permissions(client, image_id, add=None, remove=None):
    """Add and remove structured ``LaunchPermission`` entries in one ModifyImageAttribute call.

    Does nothing (and returns False) when both lists are empty."""
    request = {}
    if add:
        request["Add"] = list(add)
    if remove:
        request["Remove"] = list(remove)
    if not request:
        return False
    client.modify_image_attribute(ImageId=image_id, Attribute="launchPermission", LaunchPermission=request)
    return True


@SnapshotErrorHandler.common_error_handler("describe snapshots {snapshot_ids}")
@_retry
def _describe_snapshot_batch(client, snapshot_ids):
    return client.describe_snapshots(SnapshotIds=list(snapshot_ids))["Snapshots"]


def describe_snapshots(client, snapshot_ids):
    """Describe snapshots by id, in batches; returns the list of snapshots found."""
    ids = sorted(set(snapshot_ids))
    snapshots = []
    for start in range(0, len(ids), SNAPSHOT_BATCH):
        snapshots.extend(_describe_snapshot_batch(client, ids[start:start + SNAPSHOT_BATCH]))
    return snapshots


def image_snapshot_ids(image, encrypted_only=False):
    """The EBS snapshot ids in an image's block device mappings, sorted.

    With ``encrypted_only``, skip mappings that DescribeImages reports as unencrypted (a mapping
    without ``Encrypted`` is kept: only DescribeSnapshots can tell)."""
    ids = set()
    for mapping in image.get("BlockDeviceMappings") or []:
        ebs = mapping.get("Ebs") or {}
        if not ebs.get("SnapshotId"):
            continue
        if encrypted_only and ebs.get("Encrypted") is False:
            continue
        ids.add(ebs["SnapshotId"])
    return sorted(ids)
