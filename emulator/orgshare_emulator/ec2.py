"""EC2 image and snapshot behaviour moto lacks (AMIs, EBS snapshots, launch permissions, copies).

Each patch names the AWS fact it models (see docs/aws-facts.md). In short:

Block device mappings (RegisterImage / CreateImage / DescribeImages / DescribeSnapshots)
  moto gives every AMI one unencrypted 15 GiB ``/dev/sda1`` snapshot. AWS keeps the mappings it
  was registered with: several EBS volumes, each from its own snapshot, encrypted or not.
  DescribeImages shows ``Encrypted`` and ``SnapshotId`` per mapping but no ``KmsKeyId``;
  DescribeSnapshots shows ``KmsKeyId`` as the full key ARN. A snapshot of an encrypted volume is
  encrypted under the volume's key; an encrypted volume without a key uses the account's EBS
  default key, the AWS managed ``alias/aws/ebs`` unless changed.

Launch permissions (ModifyImageAttribute / DescribeImageAttribute / ResetImageAttribute)
  - org / OU ARNs and account ids are validated (``InvalidAMIAttributeItemValue``);
  - an AMI with a snapshot under the AWS managed key cannot be shared (``InvalidParameter``);
  - only the owner may read or change them (``AuthFailure`` for other accounts);
  - ResetImageAttribute(launchPermission) removes every entry.

Cross-account visibility (DescribeImages)
  Another account sees an AMI that is public or whose launch permissions name its account id, its
  organization or one of its OUs or their ancestors (read from moto's Organizations backend);
  ``ExecutableUsers`` / ``Owners`` / ``ImageIds`` scope the result as AWS documents. The owner's
  user-defined tags are shown to the owner only; each account sees its own tags on the AMI id.

Public sharing (ModifyImageAttribute adding ``{"Group": "all"}``)
  - image block public access, per account and region (Get/Enable/DisableImageBlockPublicAccess;
    ``block-new-sharing`` refuses new public sharing with ``OperationNotPermitted``; AMIs that are
    already public stay public);
  - an AMI with encrypted volumes or snapshots cannot be made public;
  - at most ``patches.CONFIG["public_ami_quota"]`` (5, AWS's default quota) public AMIs per account
    and region, also answered by Service Quotas GetServiceQuota (ec2 / L-0E3CBAB9);
  - at most ``patches.CONFIG["ami_sharing_quota"]`` (1,000) accounts, organizations and OUs per AMI.

Disabled AMIs (DisableImage / EnableImage)
  DisableImage sets the state ``disabled`` and removes every launch permission; DescribeImages
  leaves disabled AMIs out unless ``IncludeDisabled``; a disabled AMI cannot be shared; EnableImage
  makes it ``available`` again, without the permissions it lost.

Copies (CopyImage)
  ``Encrypted`` / ``KmsKeyId`` (checked asynchronously: a bad key makes the copy ``failed`` with a
  ``StateReason``), ``CopyImageTags``, ``TagSpecifications`` (image and snapshot), ``ClientToken``
  (idempotency), AMI name uniqueness per account and region, ``SourceImageId`` /
  ``SourceImageRegion`` and their filters, new snapshots in the destination region, a configurable
  pending time (``patches.CONFIG["copy_pending_seconds"]``) during which the copy is ``pending`` and
  its snapshots' ``Progress`` grows. Launch permissions are never copied.
"""

from __future__ import annotations

import datetime
import json
import re
import time

from moto.core.responses import ActionResult, EmptyResult

from . import kms as kms_patch
from .state import CONFIG
from .state import EC2 as STATE
from .state import EC2_LOCK as _LOCK

# Launch permission principals (docs/aws-facts.md, "Launch permissions"). ASCII digits only ([0-9], not \d, which takes
# any Unicode digit) and nothing after the end (\Z, not $, which lets a trailing newline through).
ORG_ARN_RE = re.compile(r"^arn:aws(-cn|-us-gov)?:organizations::[0-9]{12}:organization/o-[a-z0-9]{10,32}\Z")
OU_ARN_RE = re.compile(r"^arn:aws(-cn|-us-gov)?:organizations::[0-9]{12}:ou/o-[a-z0-9]{10,32}/ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}\Z")
ACCOUNT_RE = re.compile(r"^[0-9]{12}\Z")


def _config():
    return CONFIG


def _err(code, message):
    from moto.ec2.exceptions import EC2ClientError

    return EC2ClientError(code, message)


def _ec2_backend(account_id, region):
    from moto.ec2.models import ec2_backends

    return ec2_backends[account_id][region]


# ---- timing of copies ----------------------------------------------------------------------
class CopyTimer:
    """A copy is ``pending`` for ``duration`` seconds after ``start``, then ``available`` or
    (when ``failure`` = (code, message)) ``failed``. Computed lazily whenever it is read."""

    def __init__(self, duration, failure=None):
        self.start = time.monotonic()
        self.duration = float(duration)
        self.failure = failure

    @property
    def fraction(self):
        if self.duration <= 0:
            return 1.0
        return min(1.0, (time.monotonic() - self.start) / self.duration)

    @property
    def done(self):
        return self.fraction >= 1.0


# ---- keys ---------------------------------------------------------------------------------
def default_ebs_key_arn(backend):
    """The account's EBS default key in that region: ModifyEbsDefaultKmsKeyId's, else aws/ebs."""
    if backend.default_kms_key_id:
        return backend.default_kms_key_id
    return kms_patch.aws_managed_key(backend.account_id, backend.region_name).arn


def _key_arn(backend, key_ref):
    """A KmsKeyId as EC2 shows it (the full key ARN); unknown references are kept as given."""
    key = kms_patch.find_key(key_ref, backend.account_id, backend.region_name)
    return key.arn if key is not None else key_ref


def is_aws_managed_key(key_arn):
    if not key_arn or not key_arn.startswith("arn:"):
        return False
    parts = key_arn.split(":", 5)
    key = kms_patch.find_key(key_arn, parts[4], parts[3])
    return key is not None and key.key_manager == "AWS"


# ---- mappings -----------------------------------------------------------------------------
def image_mappings(ami):
    """The AMI's block device mappings as stored: a list of dicts with DeviceName and either
    SnapshotId (+ VolumeSize, VolumeType, DeleteOnTermination) or an empty volume / ephemeral."""
    bdm = ami.__dict__.get("_orgshare_bdm")
    if bdm is not None:
        return bdm
    snap = ami.__dict__.get("ebs_snapshot")
    if snap is None:
        return []
    return [{"DeviceName": ami.root_device_name, "SnapshotId": snap.id, "VolumeSize": 15, "VolumeType": "standard", "DeleteOnTermination": False}]


def image_snapshots(ami):
    out = []
    for m in image_mappings(ami):
        sid = m.get("SnapshotId")
        if sid and sid in ami.ec2_backend.snapshots:
            out.append(ami.ec2_backend.snapshots[sid])
    return out


def _render_mappings(ami):
    """DescribeImages: Encrypted and SnapshotId per EBS mapping, never KmsKeyId."""
    out = []
    for m in image_mappings(ami):
        entry = {"DeviceName": m["DeviceName"]}
        if m.get("VirtualName"):
            entry["VirtualName"] = m["VirtualName"]
        elif m.get("NoDevice") is not None:
            entry["NoDevice"] = ""
        else:
            ebs = {
                "DeleteOnTermination": m.get("DeleteOnTermination", True),
                "VolumeSize": m.get("VolumeSize"),
                "VolumeType": m.get("VolumeType", "gp2"),
            }
            sid = m.get("SnapshotId")
            if sid:
                ebs["SnapshotId"] = sid
                snap = ami.ec2_backend.snapshots.get(sid)
                ebs["Encrypted"] = bool(snap.encrypted) if snap is not None else False
            else:
                ebs["Encrypted"] = bool(m.get("Encrypted", False))
            for k in ("Iops", "Throughput"):
                if m.get(k) is not None:
                    ebs[k] = m[k]
            entry["Ebs"] = ebs
        out.append(entry)
    return out


def _set_mappings(ami, mappings, root_device_name=None):
    """Replace moto's automatic 15 GiB root snapshot by real mappings."""
    auto = ami.__dict__.get("ebs_snapshot")
    if auto is not None:
        ami.ec2_backend.snapshots.pop(auto.id, None)
    ami._orgshare_bdm = mappings
    ami.root_device_type = "ebs"
    ami.root_device_name = root_device_name or (mappings[0]["DeviceName"] if mappings else ami.root_device_name)
    root = next((m for m in mappings if m["DeviceName"] == ami.root_device_name and m.get("SnapshotId")), None)
    root = root or next((m for m in mappings if m.get("SnapshotId")), None)
    ami.ebs_snapshot = ami.ec2_backend.snapshots.get(root["SnapshotId"]) if root else None
    for m in mappings:
        snap = ami.ec2_backend.snapshots.get(m.get("SnapshotId") or "")
        if snap is not None and not snap.from_ami:
            # AWS refuses to delete a snapshot an AMI uses (InvalidSnapshot.InUse)
            snap.from_ami = ami.id


def _as_bool(v):
    if isinstance(v, str):
        return v.lower() == "true"
    return bool(v) if v is not None else None


def _parse_register_mappings(backend, mappings):
    """RegisterImage BlockDeviceMappings -> stored mappings, validated as AWS does."""
    out = []
    for raw in mappings or []:
        dev = raw.get("DeviceName")
        if not dev:
            raise _err("InvalidBlockDeviceMapping", "The device name must be specified.")
        if raw.get("VirtualName"):
            out.append({"DeviceName": dev, "VirtualName": raw["VirtualName"]})
            continue
        if "NoDevice" in raw:
            out.append({"DeviceName": dev, "NoDevice": ""})
            continue
        ebs = raw.get("Ebs") or {}
        m = {
            "DeviceName": dev,
            "VolumeType": ebs.get("VolumeType") or "gp2",
            "DeleteOnTermination": True if ebs.get("DeleteOnTermination") is None else _as_bool(ebs.get("DeleteOnTermination")),
        }
        for k in ("Iops", "Throughput"):
            if ebs.get(k) is not None:
                m[k] = int(ebs[k])
        size = int(ebs["VolumeSize"]) if ebs.get("VolumeSize") is not None else None
        sid = ebs.get("SnapshotId")
        if sid:
            if sid not in backend.snapshots:
                raise _err("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist." % sid)
            if ebs.get("Encrypted") is not None:
                # AWS: for a mapping from an existing snapshot "you must omit this parameter";
                # the encryption comes from the snapshot.
                raise _err(
                    "InvalidBlockDeviceMapping",
                    "The Encrypted parameter cannot be specified for a block device mapping with a snapshot (%s)." % dev,
                )
            snap = backend.snapshots[sid]
            if size is not None and size < snap.volume_size:
                raise _err(
                    "InvalidBlockDeviceMapping",
                    "Volume of size %d is smaller than snapshot '%s', expect size >= %d" % (size, sid, snap.volume_size),
                )
            m["SnapshotId"] = sid
            m["VolumeSize"] = size if size is not None else snap.volume_size
        else:
            if size is None:
                raise _err("InvalidBlockDeviceMapping", "The volume size must be specified for an empty volume (%s)." % dev)
            m["VolumeSize"] = size
            m["Encrypted"] = bool(_as_bool(ebs.get("Encrypted")))
        out.append(m)
    return out


# ---- names, owners ---------------------------------------------------------------------------
def check_name_unique(backend, name):
    """AMI names are unique per account and region: InvalidAMIName.Duplicate."""
    if not name:
        return
    for ami in list(backend.amis.values()):
        if ami.name == name and ami.owner_id == backend.account_id:
            raise _err("InvalidAMIName.Duplicate", "AMI name %s is already in use by AMI %s" % (name, ami.id))


def owned_image(backend, ami_id):
    """The caller's own AMI; another account's AMI answers AuthFailure (as AWS does for
    DescribeImageAttribute / ModifyImageAttribute / ResetImageAttribute by a non-owner)."""
    from moto.ec2.exceptions import InvalidAMIIdError, MalformedAMIIdError
    from moto.ec2.models import ec2_backends

    if not ami_id or not ami_id.startswith("ami-"):
        raise MalformedAMIIdError([ami_id])
    if ami_id in backend.amis:
        return backend.amis[ami_id]
    for account_id, regions in list(ec2_backends.items()):
        if account_id == backend.account_id or backend.region_name not in regions.keys():
            continue
        if ami_id in regions[backend.region_name].amis:
            raise _err("AuthFailure", "Not authorized for image:%s" % ami_id)
    raise InvalidAMIIdError(ami_id)


# ---- cross-account visibility ----------------------------------------------------------------
def organization_of(account_id):
    """(organization ARN or None, OU ARNs from the account's parent OU up to (not including) the
    root) of ``account_id``, read from moto's Organizations backend. moto keeps an organization
    in its management account's backend and links member accounts to it in
    ``organizations_backends.master_accounts``."""
    from moto.organizations.models import organizations_backends

    link = organizations_backends.master_accounts.get(account_id)
    management = link[0] if link else account_id
    per_partition = dict.get(organizations_backends, management)
    if not per_partition:
        return None, []
    for org_backend in list(per_partition.values()):
        org = org_backend.org
        if org is None or (link is None and org.master_account_id != account_id):
            continue
        account = next((a for a in list(org_backend.accounts) if a.id == account_id), None)
        if account is None:
            continue
        ous = {ou.id: ou for ou in list(org_backend.ou)}
        chain, parent = [], ous.get(account.parent_id)
        while parent is not None and parent.type == "ORGANIZATIONAL_UNIT" and parent.arn not in chain:
            chain.append(parent.arn)
            parent = ous.get(parent.parent_id)
        return org.arn, chain
    return None, []


def grants(ami, account_id, membership):
    """How the launch permissions of ``ami`` reach ``account_id``: a subset of
    {"public", "account", "organization", "ou"}. ``membership`` is organization_of(account_id).

    AWS: an AMI shared with an organization or an OU is shared with every account in it, in
    nested OUs too (EC2 User Guide, "Share an AMI with organizations and OUs")."""
    org_arn, ou_arns = membership
    how = set()
    for perm in ami.launch_permissions:
        if perm.get("Group") == "all":
            how.add("public")
        if perm.get("UserId") == account_id:
            how.add("account")
        if org_arn and perm.get("OrganizationArn") == org_arn:
            how.add("organization")
        if perm.get("OrganizationalUnitArn") in ou_arns:
            how.add("ou")
    return how


class SharedImage:
    """Another account's AMI as the caller sees it: the owner's user-defined tags are not
    shown, the caller's own tags on the AMI id are ("User-defined tags that you attach to a
    shared AMI are available only to your AWS account")."""

    def __init__(self, ami, viewer):
        self._ami = ami
        self._viewer = viewer

    def __getattr__(self, name):
        return getattr(self._ami, name)

    def get_tags(self):
        return self._viewer.describe_tags(filters={"resource-id": [self._ami.id]})

    tag_set = property(get_tags)
    tag_list = property(get_tags)

    def get_filter_value(self, filter_name, method_name=None):
        from moto.ec2.models.core import TaggedEC2Resource

        if filter_name.startswith("tag:") or filter_name in ("tag-key", "tag-value"):
            return TaggedEC2Resource.get_filter_value(self, filter_name, method_name)
        return self._ami.get_filter_value(filter_name, method_name)


def visible_foreign_images(backend, membership=None):
    """Other accounts' AMIs in the caller's region that the caller may launch (public, or shared
    with its account, its organization or one of its OUs), as SharedImage views, with how each
    reaches the caller: [(view, grants)]."""
    from moto.ec2.models import ec2_backends

    me = backend.account_id
    out = []
    for account_id, regions in list(ec2_backends.items()):
        other = dict.get(regions, backend.region_name) if account_id != me else None
        if other is None:
            continue
        for ami in list(other.amis.values()):
            if ami.owner_id == me or ami.id in backend.amis:
                continue
            if membership is None:
                membership = organization_of(me)
            how = grants(ami, me, membership)
            if how:
                out.append((SharedImage(ami, backend), how))
    return out


def describe_images(backend, ami_ids=None, filters=None, exec_users=None, owners=None, include_disabled=True, include_deprecated=True):
    """DescribeImages as the account of ``backend`` sees it.

    AWS: "The images available to you include public images, private images that you own, and
    private images owned by other Amazon Web Services accounts for which you have explicit launch
    permissions" (explicit: the account, its organization, one of its OUs or their ancestors).
    ``ExecutableUsers``: ``self`` or the caller's own id -> AMIs shared with the caller's account,
    organization or OU (not its own AMIs, not public ones); ``all`` -> public AMIs; another account
    id -> AMIs shared with that account id explicitly (not through its organization or OU).
    ``Owners``: AMIs of those owners that the caller may see. ``ImageIds``: an id the caller may not
    see is left out, as one that does not exist (moto: InvalidAMIID.NotFound when none is found).
    ``include_disabled``: False for the API's default (DescribeImages ``IncludeDisabled``), which leaves
    disabled AMIs out, also when named in ``ImageIds`` (unverified: as if they did not exist); True for
    the emulator's own look-ups."""
    from moto.ec2.exceptions import InvalidAMIIdError, MalformedAMIIdError
    from moto.ec2.utils import generic_filter

    me = backend.account_id
    own = list(backend.amis.values())
    foreign = visible_foreign_images(backend)
    how_by_id = {view.id: how for view, how in foreign}
    if not include_deprecated and not ami_ids:
        # another account's deprecated AMI appears only when asked for (IncludeDeprecated) or named by id
        foreign = [(view, how) for view, how in foreign if not is_deprecated(view)]
    images = own + [view for view, _how in foreign]
    if not include_disabled:
        images = [ami for ami in images if ami.state != DISABLED]

    if ami_ids:
        malformed = [i for i in ami_ids if not i.startswith("ami-")]
        if malformed:
            raise MalformedAMIIdError(malformed)
        images = [ami for ami in images if ami.id in ami_ids]
        deleted = [i for i in ami_ids if i in backend.deleted_amis]
        if not images and not deleted:
            raise InvalidAMIIdError(ami_ids)
        return images

    if exec_users:
        wanted = set(exec_users)
        mine = bool(wanted & {"self", me})
        others = wanted - {"self", "all", me}
        kept = []
        for ami in images:
            explicit = {lp.get("UserId") for lp in ami.launch_permissions}
            if ("all" in wanted and ami.is_public) or (mine and how_by_id.get(ami.id, set()) - {"public"}) or (others & explicit):
                kept.append(ami)
        images = kept
    if owners:
        owners = [me if o == "self" else o for o in owners]
        images = [ami for ami in images if ami.owner_id in owners or ami.owner_alias in owners]
    if filters:
        images = generic_filter(filters, images)
    return images


# ---- launch permissions ------------------------------------------------------------------------
def validate_launch_permissions(entries):
    """InvalidAMIAttributeItemValue for anything that is not a 12-digit account, the group "all",
    an organization ARN or an OU ARN (a bare o-/ou- id or an account ARN is rejected)."""
    from moto.ec2.exceptions import InvalidAMIAttributeItemValueError

    for perm in entries:
        if "UserId" in perm and not ACCOUNT_RE.match(str(perm["UserId"])):
            raise InvalidAMIAttributeItemValueError("userId", perm["UserId"])
        if "Group" in perm and perm["Group"] != "all":
            raise InvalidAMIAttributeItemValueError("UserGroup", perm["Group"])
        if "OrganizationArn" in perm and not ORG_ARN_RE.match(str(perm["OrganizationArn"])):
            raise InvalidAMIAttributeItemValueError("OrganizationArn", perm["OrganizationArn"])
        if "OrganizationalUnitArn" in perm and not OU_ARN_RE.match(str(perm["OrganizationalUnitArn"])):
            raise InvalidAMIAttributeItemValueError("OrganizationalUnitArn", perm["OrganizationalUnitArn"])
        if not any(k in perm for k in ("UserId", "Group", "OrganizationArn", "OrganizationalUnitArn")):
            raise _err("InvalidParameterValue", "Empty launch permission entry")


def check_shareable(ami):
    """AWS refuses to share an AMI whose snapshots use the AWS managed key: the answer as AWS gives it, quoted in public
    issue threads (hashicorp/packer#7410, DataDog/stratus-red-team#109)."""
    for snap in image_snapshots(ami):
        if snap.encrypted and is_aws_managed_key(snap.kms_key_id):
            raise _err("InvalidParameter", "Snapshots encrypted with the AWS Managed CMK can't be shared. Specify another snapshot.")


# ---- public sharing ----------------------------------------------------------------------------
# EC2 User Guide, "Understand block public access for AMIs",
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/block-public-access-to-amis.html, and the API
# reference of EnableImageBlockPublicAccess / DisableImageBlockPublicAccess / GetImageBlockPublicAccessState
# (botocore ec2 2016-11-15): a setting per account and Region, ``block-new-sharing`` or ``unblocked``;
# when it is on "any attempt to make an AMI public is automatically blocked", AMIs that are already
# public stay public. AWS applies a change within up to 10 minutes; the emulator at once.
# Its default in AWS: enabled for new accounts, disabled for accounts that had a public AMI on or after
# July 15, 2023. The emulator's default is ``patches.CONFIG["image_block_public_access_default"]``
# (``unblocked``: the account of an existing publisher; see docs/emulator.md).
BLOCK_NEW_SHARING = "block-new-sharing"
UNBLOCKED = "unblocked"
BLOCK_STATES = (BLOCK_NEW_SHARING, UNBLOCKED)
# The Service Quotas code of "Public AMIs" (unverified: quoted from GetServiceQuota output in public
# issues, not from AWS documentation).
PUBLIC_AMI_QUOTA_CODE = "L-0E3CBAB9"


def image_block_public_access_state(account_id, region):
    with _LOCK:
        return STATE["image_block_public_access"].get((account_id, region), _config()["image_block_public_access_default"])


def set_image_block_public_access_state(account_id, region, state):
    with _LOCK:
        STATE["image_block_public_access"][(account_id, region)] = state


def public_image_count(backend):
    """The caller's public AMIs in the backend's region (AWS's quota counts those in the Recycle Bin too,
    which the emulator does not model)."""
    return sum(1 for ami in list(backend.amis.values()) if ami.owner_id == backend.account_id and ami.is_public)


def image_is_encrypted(ami):
    """Whether the AMI has an encrypted volume or a snapshot of an encrypted volume."""
    for m in image_mappings(ami):
        snap = ami.ec2_backend.snapshots.get(m.get("SnapshotId") or "")
        if (snap is not None and snap.encrypted) or (not m.get("SnapshotId") and m.get("Encrypted")):
            return True
    return False


def check_public(backend, ami):
    """The refusals of ModifyImageAttribute adding ``{"Group": "all"}`` to an AMI that is not public yet.

    - Block public access on: ``OperationNotPermitted`` (code and message as AWS answered in a public
      report, hortonworks/cloudbreak-images pull request 926; not in AWS's documentation).
    - Encrypted volumes or snapshots (EC2 User Guide, "Make your AMI publicly available for use in Amazon
      EC2", https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/sharingamis-intro.html: "If your AMI
      includes one of the following components, you can't make it public: Encrypted volumes, Snapshots of
      encrypted volumes, Product codes"): the code is unverified (``UnsupportedOperation``, as one public
      report quotes, opendevstack/ods-core issue 1062).
    - The Public AMIs quota (EC2 User Guide, "AMI quotas",
      https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ami-quotas.html: 5 per Region by default,
      adjustable): ``ResourceLimitExceeded`` with the message public reports quote (e.g. NixOS/amis
      issue 37, iterative/studio-selfhosted pull request 90); unverified, not in AWS's documentation."""
    if ami.is_public:
        return
    if image_block_public_access_state(backend.account_id, backend.region_name) == BLOCK_NEW_SHARING:
        raise _err(
            "OperationNotPermitted",
            "You can't publicly share this image because block public access for AMIs is enabled for this account. "
            "To publicly share the image, you must call the DisableImageBlockPublicAccess API.",
        )
    if image_is_encrypted(ami):
        raise _err("UnsupportedOperation", "Encrypted snapshots can't be shared publicly. Specify another snapshot.")
    quota = int(_config()["public_ami_quota"])
    if public_image_count(backend) >= quota:
        raise _err(
            "ResourceLimitExceeded",
            "You have reached your quota of %d for the number of public images allowed in this Region. Deregister "
            "unused public images or make them private, or request an increase in your public AMIs quota." % quota,
        )


def check_sharing_quota(ami, to_add, to_remove):
    """AMI quotas: at most 1,000 entities (accounts, organizations, OUs) per AMI per Region (adjustable); the
    accounts inside a shared organization or OU do not count. The error code is unverified
    (``ResourceLimitExceeded``, as for the public AMI quota)."""
    named = [p for p in ami.launch_permissions if "Group" not in p]
    after = [p for p in named if p not in to_remove] + [p for p in to_add if "Group" not in p and p not in named]
    quota = int(_config()["ami_sharing_quota"])
    if len(after) > quota:
        raise _err(
            "ResourceLimitExceeded",
            "The image %s would be shared with %d entities; the quota is %d per image per Region." % (ami.id, len(after), quota),
        )


# ---- disabled AMIs -----------------------------------------------------------------------------
# EC2 User Guide, "Disable an Amazon EC2 AMI", https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/disable-an-ami.html,
# and the DisableImage / EnableImage API reference: disabling sets the state ``disabled`` and removes every
# launch permission ("If an AMI was public or previously shared, it is made private"); "A disabled AMI does
# not appear in DescribeImages API calls by default" (DescribeImages ``IncludeDisabled``); "A disabled AMI
# can't be shared"; re-enabling makes it ``available`` and shareable, and those who lost access "do not
# regain access automatically". Only the owner may disable or enable an AMI.
DISABLED = "disabled"


# ---- deprecation ---------------------------------------------------------------------------------
# EC2 User Guide, "Deprecate an Amazon EC2 AMI", https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ami-deprecate.html:
# "For AMI users, the deprecated AMI does not appear in DescribeImages API calls unless you specify its ID or specify
# that deprecated AMIs must appear. AMI owners continue to see deprecated AMIs"; launches by id keep working.
# EnableImageDeprecation (botocore's EC2 model, DeprecateAt): "Amazon EC2 rounds the seconds to the nearest minute. You
# can't specify a date in the past. The upper limit for DeprecateAt is 10 years from now, except for public AMIs, where
# the upper limit is 2 years from the creation date." The error codes for those refusals are unverified (not pinned).
DEPRECATION_FORMAT = "%Y-%m-%dT%H:%M:%S.000Z"


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def is_deprecated(ami, now=None):
    when = getattr(ami, "deprecation_time", None)
    if not when:
        return False
    at = datetime.datetime.strptime(when, DEPRECATION_FORMAT).replace(tzinfo=datetime.timezone.utc)
    return at <= (now or _now())


def deprecate_at(ami, value, now=None):
    """The DeprecationTime EnableImageDeprecation sets for ``value`` (a datetime or ISO 8601 text), or raises."""
    now = now or _now()
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        at = datetime.datetime.fromisoformat(text)
    else:
        at = value
    if at.tzinfo is None:
        at = at.replace(tzinfo=datetime.timezone.utc)
    at = at.astimezone(datetime.timezone.utc)
    at = (at + datetime.timedelta(seconds=30)).replace(second=0, microsecond=0)  # to the nearest minute
    if at < now.replace(second=0, microsecond=0):
        raise _err("InvalidParameterValue", "The deprecation time can't be in the past.")  # code unverified
    if at > now + datetime.timedelta(days=3653):
        raise _err("InvalidParameterValue", "The deprecation time can't be more than 10 years from now.")  # code unverified
    if getattr(ami, "is_public", False):
        created = getattr(ami, "creation_date", None)  # moto keeps a datetime; an ISO text is read too
        if isinstance(created, datetime.datetime):
            born = created if created.tzinfo else created.replace(tzinfo=datetime.timezone.utc)
        else:
            try:
                born = datetime.datetime.strptime(str(created)[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
            except ValueError:
                born = now
        if at > born + datetime.timedelta(days=731):
            raise _err("InvalidParameterValue", "A public AMI can't be deprecated more than 2 years after its creation.")  # unverified
    return at.strftime(DEPRECATION_FORMAT)


def check_not_disabled(ami):
    """Sharing a disabled AMI: refused (the code, ``OperationNotPermitted``, is unverified)."""
    if ami.state == DISABLED:
        raise _err("OperationNotPermitted", "The image %s is disabled. Enable it with EnableImage before you share it." % ami.id)


# ---- snapshots --------------------------------------------------------------------------------
def copy_snapshot_into(dest, src_snap, same_region, encrypted, kms_key_id, description, timer=None, from_ami=None):
    """One snapshot copy in ``dest`` with the encryption AWS gives it:

    - ``KmsKeyId`` (requires ``Encrypted``): that key;
    - ``Encrypted`` without a key: the destination's EBS default key;
    - neither: an encrypted source stays encrypted, under the same key within its region and
      under the destination's EBS default key across regions (KMS keys are regional);
      an unencrypted source stays unencrypted (you cannot make an unencrypted copy of an
      encrypted snapshot).
    """
    from moto.ec2.models.elastic_block_store import Snapshot
    from moto.ec2.utils import random_snapshot_id

    if kms_key_id:
        enc, key = True, _key_arn(dest, kms_key_id)
    elif encrypted:
        enc, key = True, default_ebs_key_arn(dest)
    elif src_snap.encrypted:
        enc = True
        key = src_snap.kms_key_id if same_region and src_snap.kms_key_id else default_ebs_key_arn(dest)
    else:
        enc, key = False, None
    snap = Snapshot(dest, random_snapshot_id(), volume=src_snap.volume, description=description, encrypted=enc, kms_key_id=key, from_ami=from_ami)
    snap.encrypted = enc
    snap._orgshare_copy = timer
    dest.snapshots[snap.id] = snap
    return snap


def key_failure(dest, kms_key_id):
    """The asynchronous KmsKeyId check of CopyImage: None, or the (Code, Message) of the
    copy's StateReason when the key is not usable in the destination region. That the copy fails is
    documented (CopyImage KmsKeyId, botocore's EC2 model); these codes and messages are unverified
    (AWS documents none for images), so no test pins them."""
    if not kms_key_id:
        return None
    key = kms_patch.find_key(kms_key_id, dest.account_id, dest.region_name)
    if key is None:
        return ("Client.InvalidKMSKey.NotFound", "The KMS key provided (%s) does not exist in %s." % (kms_key_id, dest.region_name))
    if key.key_state != "Enabled" or not key.enabled:
        return ("Client.InvalidKMSKey.InvalidState", "The KMS key provided is in an incorrect state")
    return None


def _tags_of(specs, resource_type, allowed=("image", "snapshot")):
    """The tags ``TagSpecifications`` give ``resource_type``; a ResourceType outside ``allowed`` fails the request
    (CopyImage / CreateImage: image or snapshot; RegisterImage: image only, botocore's EC2 model)."""
    tags = {}
    for spec in specs or []:
        if spec.get("ResourceType") not in allowed:
            from moto.ec2.exceptions import InvalidTaggableResourceType

            raise InvalidTaggableResourceType(spec.get("ResourceType"))
        if spec.get("ResourceType") == resource_type:
            for t in spec.get("Tags") or []:
                tags[t["Key"]] = t.get("Value", "")
    return tags


def copy_image(dest, params):
    """CopyImage in the destination backend ``dest``; ``params`` are the API parameters."""
    from moto.ec2.exceptions import InvalidAMIIdError, InvalidParameterDependency, UnvailableAMIIdError
    from moto.ec2.models.amis import Ami
    from moto.ec2.utils import random_ami_id

    source_id = params.get("SourceImageId")
    source_region = params.get("SourceRegion")
    encrypted = bool(_as_bool(params.get("Encrypted")))
    kms_key_id = params.get("KmsKeyId")
    token = params.get("ClientToken")
    specs = params.get("TagSpecifications") or []
    fingerprint = json.dumps(
        {
            "SourceImageId": source_id,
            "SourceRegion": source_region,
            "Name": params.get("Name"),
            "Description": params.get("Description"),
            "Encrypted": encrypted,
            "KmsKeyId": kms_key_id,
            "CopyImageTags": bool(_as_bool(params.get("CopyImageTags"))),
            "TagSpecifications": specs,
        },
        sort_keys=True,
        default=str,
    )
    token_key = (dest.account_id, dest.region_name, token)
    with _LOCK:
        # ClientToken: the same token and parameters give the original result; the same token
        # with other parameters is IdempotentParameterMismatch.
        if token and token_key in STATE["client_tokens"]:
            old_fp, old_id = STATE["client_tokens"][token_key]
            if old_fp != fingerprint:
                raise _err(
                    "IdempotentParameterMismatch",
                    "Client token %s was already used with different parameters (for %s)." % (token, old_id),
                )
            return old_id

        if kms_key_id and not encrypted:
            raise InvalidParameterDependency("KmsKeyId", "Encrypted")
        try:
            src_backend = _ec2_backend(dest.account_id, source_region)
        except Exception:
            raise _err("InvalidParameterValue", "Invalid value '%s' for SourceRegion" % source_region)
        src = src_backend.amis.get(source_id)
        if src is None:
            raise InvalidAMIIdError(source_id or "")
        if src.state != "available":
            raise UnvailableAMIIdError(source_id)
        name = params.get("Name")
        check_name_unique(dest, name)

        # TagSpecifications are checked before anything is made (moto's Ami makes a snapshot at once)
        snap_tags, image_tags = _tags_of(specs, "snapshot"), _tags_of(specs, "image")
        failure = key_failure(dest, kms_key_id) if kms_key_id else None
        timer = CopyTimer(_config()["copy_pending_seconds"], failure)
        ami_id = random_ami_id()
        ami = Ami(dest, ami_id, instance=None, source_ami=src, name=name, description=params.get("Description"))
        same_region = source_region == dest.region_name
        mappings = []
        for m in image_mappings(src):
            m = dict(m)
            sid = m.get("SnapshotId")
            if sid and sid in src_backend.snapshots:
                snap = copy_snapshot_into(
                    dest,
                    src_backend.snapshots[sid],
                    same_region,
                    encrypted,
                    kms_key_id if failure is None else None,
                    "Copied for DestinationAmi %s from SourceAmi %s for SourceSnapshot %s." % (ami_id, source_id, sid),
                    timer=timer,
                    from_ami=ami_id,
                )
                if failure is not None and kms_key_id:
                    snap.kms_key_id = kms_key_id
                snap.add_tags(snap_tags)
                m["SnapshotId"] = snap.id
            elif not sid and (encrypted or kms_key_id):
                m["Encrypted"] = True
            mappings.append(m)
        _set_mappings(ami, mappings, src.root_device_name)
        ami._orgshare_copy = timer
        ami.source_image_id = source_id
        ami.source_image_region = source_region
        if _as_bool(params.get("CopyImageTags")):
            # only user-defined tags; aws: system tags are never copied
            ami.add_tags({t["key"]: t["value"] for t in src.get_tags() if not t["key"].startswith("aws:")})
        ami.add_tags(image_tags)
        dest.amis[ami_id] = ami
        if token:
            STATE["client_tokens"][token_key] = (fingerprint, ami_id)
        return ami_id


# ---- the patches ------------------------------------------------------------------------------
def apply():  # noqa: C901 - one place that lists every EC2 patch
    from moto.ec2.models.amis import Ami, AmiBackend
    from moto.ec2.models.elastic_block_store import EBSBackend, Snapshot
    from moto.ec2.responses.amis import AmisResponse
    from moto.ec2.responses.elastic_block_store import ElasticBlockStore

    # Ami: lazily computed state of copies; real mappings; source image fields. The mappings (_orgshare_bdm) and a
    # copy's timer (_orgshare_copy) are instance attributes, read from the instance's __dict__ only.
    Ami.source_image_id = None
    Ami.source_image_region = None
    Ami.deprecation_time = None

    def _get_state(self):
        timer = self.__dict__.get("_orgshare_copy")
        if timer is not None:
            if not timer.done:
                return "pending"
            if timer.failure:
                return "failed"
        return self.__dict__.get("_state", "available")

    def _set_state(self, value):
        self.__dict__["_state"] = value

    Ami.state = property(_get_state, _set_state)

    def _state_reason(self):
        timer = self.__dict__.get("_orgshare_copy")
        if timer is not None and timer.done and timer.failure:
            return {"Code": timer.failure[0], "Message": timer.failure[1]}
        return None

    Ami.state_reason = property(_state_reason)
    Ami.block_device_mappings = property(_render_mappings)

    orig_filter = Ami.get_filter_value

    def get_filter_value(self, filter_name, method_name=None):
        if filter_name == "source-image-id":
            return self.source_image_id
        if filter_name == "source-image-region":
            return self.source_image_region
        if filter_name == "block-device-mapping.snapshot-id":
            return [m.get("SnapshotId") for m in image_mappings(self) if m.get("SnapshotId")]
        if filter_name == "block-device-mapping.encrypted":
            return [str(m["Ebs"]["Encrypted"]).lower() for m in _render_mappings(self) if "Ebs" in m]
        return orig_filter(self, filter_name, method_name)

    Ami.get_filter_value = get_filter_value

    # Snapshot: Progress / State of copies in flight (the timer: the instance's __dict__["_orgshare_copy"]).
    def _get_status(self):
        timer = self.__dict__.get("_orgshare_copy")
        if timer is not None:
            if not timer.done:
                return "pending"
            if timer.failure:
                return "error"
        return self.__dict__.get("_status", "completed")

    def _set_status(self, value):
        self.__dict__["_status"] = value

    Snapshot.status = property(_get_status, _set_status)
    Snapshot.state = property(_get_status, _set_status)

    def _progress(self):
        timer = self.__dict__.get("_orgshare_copy")
        if timer is None:
            return "100%"
        return "%d%%" % int(timer.fraction * 100)

    Snapshot.progress = property(_progress)

    def _state_message(self):
        timer = self.__dict__.get("_orgshare_copy")
        if timer is not None and timer.done and timer.failure:
            return timer.failure[1]
        return None

    Snapshot.state_message = property(_state_message)

    # Volumes and snapshots keep their key (as a full ARN).
    orig_create_volume = EBSBackend.create_volume

    def create_volume(self, *args, **kwargs):
        volume = orig_create_volume(self, *args, **kwargs)
        if volume.snapshot_id and not kwargs.get("kms_key_id"):
            snap = self.snapshots.get(volume.snapshot_id)
            if snap is not None and snap.encrypted:
                volume.encrypted, volume.kms_key_id = True, snap.kms_key_id
        if volume.kms_key_id:
            volume.kms_key_id = _key_arn(self, volume.kms_key_id)
        return volume

    EBSBackend.create_volume = create_volume

    orig_create_snapshot = EBSBackend.create_snapshot

    def create_snapshot(self, volume_id, description, owner_id=None, from_ami=None):
        """A snapshot of an encrypted volume is encrypted under the volume's key."""
        snap = orig_create_snapshot(self, volume_id, description, owner_id=owner_id, from_ami=from_ami)
        if snap.volume.encrypted:
            snap.encrypted = True
            snap.kms_key_id = snap.volume.kms_key_id or default_ebs_key_arn(self)
        return snap

    EBSBackend.create_snapshot = create_snapshot

    def copy_snapshot(self, source_snapshot_id, source_region, description, kms_key_id, encrypted=False):
        from moto.ec2.exceptions import InvalidParameterDependency

        if kms_key_id and not encrypted:
            raise InvalidParameterDependency("KmsKeyId", "Encrypted")
        src = _ec2_backend(self.account_id, source_region).get_snapshot(source_snapshot_id)
        return copy_snapshot_into(self, src, source_region == self.region_name, encrypted, kms_key_id, description)

    EBSBackend.copy_snapshot = copy_snapshot

    def copy_snapshot_response(self):
        tags = self._parse_tag_specification().get("snapshot", {})
        self.error_on_dryrun()
        snapshot = self.ec2_backend.copy_snapshot(
            source_snapshot_id=self._get_param("SourceSnapshotId"),
            source_region=self._get_param("SourceRegion"),
            description=self._get_param("Description"),
            kms_key_id=self._get_param("KmsKeyId"),
            encrypted=bool(_as_bool(self._get_param("Encrypted"))),
        )
        snapshot.add_tags(tags)
        return ActionResult({"SnapshotId": snapshot.id, "Tags": snapshot.tag_set})

    ElasticBlockStore.copy_snapshot = copy_snapshot_response

    # Images: register with mappings, names unique, copies, launch permissions.
    def register_image(self):
        name = self._get_param("Name")
        self.error_on_dryrun()
        backend = self.ec2_backend
        mappings = _parse_register_mappings(backend, self._get_param("BlockDeviceMappings", []))
        # RegisterImage TagSpecifications: "the value for ResourceType must be image. If you specify another value
        # for ResourceType, the request fails" (botocore's EC2 model); the snapshots are not tagged.
        image_tags = _tags_of(self._get_param("TagSpecifications", []), "image", allowed=("image",))
        check_name_unique(backend, name)
        image = backend.register_image(name, self._get_param("Description", ""))
        if mappings:
            _set_mappings(image, mappings, self._get_param("RootDeviceName"))
        for attr, param in (("architecture", "Architecture"), ("virtualization_type", "VirtualizationType"), ("boot_mode", "BootMode")):
            if self._get_param(param):
                setattr(image, attr, self._get_param(param))
        image.add_tags(image_tags)
        return ActionResult({"ImageId": image.id})

    AmisResponse.register_image = register_image

    orig_create_image = AmiBackend.create_image

    def create_image(self, instance_id, name, description, tag_specifications):
        check_name_unique(self, name)
        snap_tags = _tags_of(tag_specifications, "snapshot")
        image = orig_create_image(self, instance_id, name, description, [s for s in tag_specifications if s.get("ResourceType") != "snapshot"])
        for snap in image_snapshots(image):
            snap.add_tags(snap_tags)
        # The new AMI names the instance's AMI as its source: SourceImageId / SourceImageRegion "only appear if the
        # AMI was created using CreateImage, CopyImage, or CreateRestoreImageTask" (Image in botocore's EC2 model;
        # EC2 User Guide, "Identify the source AMI used to create a new AMI"); SourceInstanceId "only appears if the
        # AMI was created using CreateImage" (moto sets that one).
        image.source_image_id = getattr(self.get_instance(instance_id), "image_id", None)
        image.source_image_region = self.region_name if image.source_image_id else None
        return image

    AmiBackend.create_image = create_image

    def copy_image_response(self):
        self.error_on_dryrun()
        params = {
            k: self._get_param(k)
            for k in ("SourceImageId", "SourceRegion", "Name", "Description", "Encrypted", "KmsKeyId", "CopyImageTags", "TagSpecifications", "ClientToken")
        }
        return ActionResult({"ImageId": copy_image(self.ec2_backend, params)})

    AmisResponse.copy_image = copy_image_response

    orig_validate = AmiBackend.validate_permission_targets

    def validate_permission_targets(self, permissions):
        validate_launch_permissions(permissions)
        orig_validate(self, permissions)

    AmiBackend.validate_permission_targets = validate_permission_targets

    def backend_describe_images(self, ami_ids=None, filters=None, exec_users=None, owners=None, include_disabled=True,
                                include_deprecated=True):
        return describe_images(self, ami_ids=ami_ids, filters=filters, exec_users=exec_users, owners=owners,
                               include_deprecated=include_deprecated,
                               include_disabled=include_disabled)

    AmiBackend.describe_images = backend_describe_images

    def describe_images_response(self):
        """DescribeImages: disabled AMIs only with ``IncludeDisabled``."""
        self.error_on_dryrun()
        images = self.ec2_backend.describe_images(
            ami_ids=self._get_param("ImageIds", []),
            filters=self._filters_from_querystring(),
            exec_users=self._get_param("ExecutableUsers", []),
            owners=self._get_param("Owners", []),
            include_disabled=bool(_as_bool(self._get_param("IncludeDisabled"))),
            include_deprecated=bool(_as_bool(self._get_param("IncludeDeprecated"))),
        )
        return ActionResult({"Images": images})

    AmisResponse.describe_images = describe_images_response

    orig_modify = AmiBackend.modify_image_attribute

    def modify_image_attribute(self, ami_id, launch_permissions_to_add, launch_permissions_to_remove):
        ami = owned_image(self, ami_id)
        validate_launch_permissions(launch_permissions_to_add)
        validate_launch_permissions(launch_permissions_to_remove)
        if launch_permissions_to_add:
            check_not_disabled(ami)
            check_shareable(ami)
            if any(p.get("Group") == "all" for p in launch_permissions_to_add):
                check_public(self, ami)
            check_sharing_quota(ami, launch_permissions_to_add, launch_permissions_to_remove or [])
        return orig_modify(self, ami_id, launch_permissions_to_add, launch_permissions_to_remove)

    AmiBackend.modify_image_attribute = modify_image_attribute

    orig_describe_attr = AmisResponse.describe_image_attribute

    def describe_image_attribute(self):
        owned_image(self.ec2_backend, self._get_param("ImageId"))
        return orig_describe_attr(self)

    AmisResponse.describe_image_attribute = describe_image_attribute

    def reset_image_attribute(self):
        """ResetImageAttribute(launchPermission): remove every launch permission (moto: 500)."""
        ami_id = self._get_param("ImageId")
        attribute = self._get_param("Attribute")
        self.error_on_dryrun()
        ami = owned_image(self.ec2_backend, ami_id)
        if attribute != "launchPermission":
            raise _err("InvalidParameterValue", "Value (%s) for parameter attribute is invalid. Only launchPermission can be reset." % attribute)
        ami.launch_permissions = []
        return EmptyResult()

    AmisResponse.reset_image_attribute = reset_image_attribute

    # Image block public access, per account and region.
    def get_image_block_public_access_state(self):
        self.error_on_dryrun()
        state = image_block_public_access_state(self.ec2_backend.account_id, self.ec2_backend.region_name)
        return ActionResult({"ImageBlockPublicAccessState": state, "ManagedBy": "account"})

    def enable_image_block_public_access(self):
        state = self._get_param("ImageBlockPublicAccessState")
        self.error_on_dryrun()
        if state != BLOCK_NEW_SHARING:
            raise _err("InvalidParameterValue", "Value (%s) for parameter ImageBlockPublicAccessState is invalid. Valid value: block-new-sharing" % state)
        set_image_block_public_access_state(self.ec2_backend.account_id, self.ec2_backend.region_name, BLOCK_NEW_SHARING)
        return ActionResult({"ImageBlockPublicAccessState": BLOCK_NEW_SHARING})

    def disable_image_block_public_access(self):
        self.error_on_dryrun()
        set_image_block_public_access_state(self.ec2_backend.account_id, self.ec2_backend.region_name, UNBLOCKED)
        return ActionResult({"ImageBlockPublicAccessState": UNBLOCKED})

    AmisResponse.get_image_block_public_access_state = get_image_block_public_access_state
    AmisResponse.enable_image_block_public_access = enable_image_block_public_access
    AmisResponse.disable_image_block_public_access = disable_image_block_public_access

    # Disabled AMIs.
    def disable_image(self):
        ami_id = self._get_param("ImageId")
        self.error_on_dryrun()
        ami = owned_image(self.ec2_backend, ami_id)
        ami.state = DISABLED
        ami.launch_permissions = []
        return ActionResult({"Return": True})

    def enable_image(self):
        ami_id = self._get_param("ImageId")
        self.error_on_dryrun()
        ami = owned_image(self.ec2_backend, ami_id)
        if ami.state == DISABLED:
            ami.state = "available"
        return ActionResult({"Return": True})

    AmisResponse.disable_image = disable_image
    AmisResponse.enable_image = enable_image

    def enable_image_deprecation(self):
        self.error_on_dryrun()
        ami = owned_image(self.ec2_backend, self._get_param("ImageId"))
        ami.deprecation_time = deprecate_at(ami, self._get_param("DeprecateAt"))
        return ActionResult({"Return": True})

    def disable_image_deprecation(self):
        self.error_on_dryrun()
        ami = owned_image(self.ec2_backend, self._get_param("ImageId"))
        ami.deprecation_time = None
        return ActionResult({"Return": True})

    AmisResponse.enable_image_deprecation = enable_image_deprecation
    AmisResponse.disable_image_deprecation = disable_image_deprecation

    # Service Quotas: the EC2 "Public AMIs" quota (moto knows only some VPC quotas).
    from moto.servicequotas.models import ServiceQuotasBackend

    orig_get_quota = ServiceQuotasBackend.get_service_quota

    def get_service_quota(self, service_code, quota_code):
        if service_code == "ec2" and quota_code == PUBLIC_AMI_QUOTA_CODE:
            return {
                "ServiceCode": "ec2",
                "ServiceName": "Amazon Elastic Compute Cloud (Amazon EC2)",
                "QuotaArn": "arn:aws:servicequotas:%s:%s:ec2/%s" % (self.region_name, self.account_id, quota_code),
                "QuotaCode": quota_code,
                "QuotaName": "Public AMIs",
                "Value": float(_config()["public_ami_quota"]),
                "Unit": "None",
                "Adjustable": True,
                "GlobalQuota": False,
            }
        return orig_get_quota(self, service_code, quota_code)

    ServiceQuotasBackend.get_service_quota = get_service_quota
