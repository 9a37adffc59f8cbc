# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to this collection: not a public API; may change in any release.

"""Pure EC2 helpers: AMI ids and the snapshots of an image (no boto3; the API calls are in ``_api``)."""

import re

IMAGE_ID_RE = re.compile(r"^ami-[0-9a-f]{8}(?:[0-9a-f]{9})?$")
# The expected form, in the message that refuses a value that is not an AMI id.
AMI_FORM = "expected the form ami-0123456789abcdef0"


def is_image_id(value):
    """True when ``value`` has the form of an AMI id (ami- and 8 or 17 hexadecimal digits)."""
    return bool(IMAGE_ID_RE.match(value or ""))


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
