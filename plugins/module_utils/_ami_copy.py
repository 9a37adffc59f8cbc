# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to this collection: not a public API; may change in any release.

"""Planning and API calls for orgshare.aws.ami_copy: one AMI copied to many regions.

Pure part (no boto3): option validation (``parse_destinations``, ``validate_*``), the CopyImage
request of a region with its deterministic client token (``copy_request``), which existing copy to
report (``pick_copy``), the AWS-managed-key guard (``managed_key_regions``), the check of a named
destination key from its DescribeKey answer (``key_problem``), the summary of the source
(``source_result``) and the per-region result (``image_result``).

API part: the lookups of copies and of names (over ``_api.describe_images``), and ``AmiCopier``,
which makes the calls of the collection's API layer (``_api``: retries, ``OrgShareEC2Error``) per
region in parallel threads and waits for every pending copy together. Nothing here takes the module.
"""

import hashlib
import json
import time
from collections import namedtuple

from ansible_collections.orgshare.aws.plugins.module_utils._ami_copy_inputs import AmiCopyError
from ansible_collections.orgshare.aws.plugins.module_utils._ami_copy_inputs import is_aws_managed_key
from ansible_collections.orgshare.aws.plugins.module_utils._ami_copy_inputs import validate_ami_name
from ansible_collections.orgshare.aws.plugins.module_utils._ami_copy_inputs import validate_kms_key_id
from ansible_collections.orgshare.aws.plugins.module_utils._ami_copy_inputs import validate_region
from ansible_collections.orgshare.aws.plugins.module_utils._api import OrgShareEC2Error
from ansible_collections.orgshare.aws.plugins.module_utils._api import OrgShareKMSError
from ansible_collections.orgshare.aws.plugins.module_utils._api import copy_image
from ansible_collections.orgshare.aws.plugins.module_utils._api import deregister_image
from ansible_collections.orgshare.aws.plugins.module_utils._api import describe_images
from ansible_collections.orgshare.aws.plugins.module_utils._api import describe_key
from ansible_collections.orgshare.aws.plugins.module_utils._api import describe_snapshots
from ansible_collections.orgshare.aws.plugins.module_utils._api import error_code
from ansible_collections.orgshare.aws.plugins.module_utils._api import get_image
from ansible_collections.orgshare.aws.plugins.module_utils._targets import run_targets
from ansible_collections.orgshare.aws.plugins.module_utils._ec2 import image_snapshot_ids
from ansible_collections.orgshare.aws.plugins.module_utils._ec2 import is_image_id
from ansible_collections.orgshare.aws.plugins.module_utils._share_info import key_metadata_if_readable

DESTINATION_KEYS = ("region", "kms_key_id", "name")
MAX_DESCRIPTION = 255

# States this module reports besides AWS's own (pending, available, failed).
STATE_WOULD_COPY = "would_copy"  # check mode: a copy would be started
STATE_ERROR = "error"  # the CopyImage request itself was refused: no image exists

# Polling for pending copies: first look after POLL_FIRST seconds, then 1.5 times longer, at most POLL_MAX.
POLL_FIRST = 1.0
POLL_FACTOR = 1.5
POLL_MAX = 30.0
MAX_WORKERS = 20

Destination = namedtuple("Destination", ["region", "kms_key_id", "name"])


# ---------------------------------------------------------------------------------------------
# Pure part
# ---------------------------------------------------------------------------------------------
def parse_destinations(regions, name=None):
    """Validate the ``regions`` option: each element a region name or a dict ``{region, kms_key_id, name}``.

    Returns a list of ``Destination`` in the given order; ``name`` (the module option) is the
    default name, None meaning the source AMI's name (filled in later)."""
    if not regions:
        raise AmiCopyError("regions: give at least one destination region")
    seen = set()
    out = []
    for index, item in enumerate(regions):
        option = "regions[%d]" % index
        if isinstance(item, str):
            dest = Destination(validate_region(item, option), None, name)
        elif isinstance(item, dict):
            unknown = sorted(set(item) - set(DESTINATION_KEYS))
            if unknown:
                raise AmiCopyError(
                    "%s: unknown key(s) %s; a destination is a region name or a dict with the keys region (required), kms_key_id, name"
                    % (option, ", ".join(unknown))
                )
            if item.get("region") is None:
                raise AmiCopyError("%s: the key 'region' is required in %r" % (option, item))
            region = validate_region(item["region"], option + ".region")
            kms_key_id = item.get("kms_key_id")
            if kms_key_id is not None:
                validate_kms_key_id(kms_key_id, region, option + ".kms_key_id")
            dest_name = item.get("name")
            if dest_name is not None:
                validate_ami_name(dest_name, option + ".name")
            dest = Destination(region, kms_key_id, dest_name if dest_name is not None else name)
        else:
            raise AmiCopyError(
                "%s: %r is neither a region name nor a dict {region, kms_key_id, name}" % (option, item)
            )
        if dest.region in seen:
            raise AmiCopyError("%s: the region %s is listed more than once" % (option, dest.region))
        seen.add(dest.region)
        out.append(dest)
    return out


def validate_options(params):
    """Check the options that do not need AWS; returns the destinations."""
    if not is_image_id(params["source_image_id"]):
        raise AmiCopyError("source_image_id: %r is not an AMI id; expected ami- and 8 or 17 hexadecimal digits" % params["source_image_id"])
    validate_region(params["source_region"], "source_region")
    if params.get("name") is not None:
        validate_ami_name(params["name"], "name")
    description = params.get("description")
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise AmiCopyError("description: at most %d characters (got %d)" % (MAX_DESCRIPTION, len(description)))
    if params.get("wait_timeout") is not None and params["wait_timeout"] < 1:
        raise AmiCopyError("wait_timeout: a number of seconds, at least 1 (got %r)" % params["wait_timeout"])
    for key, value in (params.get("tags") or {}).items():
        if not isinstance(key, str) or not key or key.startswith("aws:"):
            raise AmiCopyError("tags: %r is not a usable tag key (non-empty, not starting with 'aws:')" % (key,))
        if not isinstance(value, str):
            raise AmiCopyError("tags: the value of %r must be a string (got %r); quote it" % (key, value))
    dests = parse_destinations(params["regions"], params.get("name"))
    if params.get("encrypted") is False:
        keyed = [d.region for d in dests if d.kms_key_id]
        if keyed:
            raise AmiCopyError(
                "encrypted is false, but regions %s give a kms_key_id; a key means an encrypted copy" % ", ".join(keyed)
            )
    return dests


def source_is_encrypted(image):
    """True when any EBS snapshot of the image is encrypted."""
    return any(((m.get("Ebs") or {}).get("Encrypted") is True) for m in image.get("BlockDeviceMappings") or [])


def copy_will_encrypt(source_encrypted, encrypted, kms_key_id):
    return bool(source_encrypted or encrypted or kms_key_id)


def managed_key_regions(dests, source_encrypted, encrypted):
    """Regions whose copy would be encrypted with the AWS managed key ``aws/ebs`` (unshareable):
    encrypted, and no customer key (or an ``alias/aws/...`` key) given."""
    return [
        d.region
        for d in dests
        if copy_will_encrypt(source_encrypted, encrypted, d.kms_key_id) and (not d.kms_key_id or is_aws_managed_key(d.kms_key_id))
    ]


def check_encryption(dests, source, encrypted, allow_aws_managed_key):
    """Refuse, before any write, what AWS would refuse late or what would make an unshareable copy."""
    src_enc = source_is_encrypted(source)
    if src_enc and encrypted is False:
        raise AmiCopyError(
            "encrypted: the source %s is encrypted, and AWS cannot make an unencrypted copy of an encrypted AMI; "
            "leave encrypted unset (or true)" % source["ImageId"]
        )
    if allow_aws_managed_key:
        return
    regions = managed_key_regions(dests, src_enc, encrypted)
    if regions:
        why = "the source %s is encrypted" % source["ImageId"] if src_enc else "encrypted is true"
        raise AmiCopyError(
            "%s, and no customer managed kms_key_id is given for region(s) %s: the copies would be encrypted with "
            "the AWS managed key (aws/ebs), and AMIs encrypted with it cannot be shared with other accounts. Give "
            "regions as [{region: ..., kms_key_id: <a key of that region>}], or set allow_aws_managed_key: true"
            % (why, ", ".join(regions))
        )


def key_problem(option, kms_key_id, region, metadata, allow_aws_managed_key=False):
    """Why the destination key ``kms_key_id`` (of the option ``option``, in ``region``) cannot encrypt a copy,
    from its DescribeKey ``metadata`` (None: no such key or alias there); None when it can."""
    if metadata is None:
        return "%s: no KMS key or alias %r in region %s: give a customer managed key of that region" % (option, kms_key_id, region)
    named = "%r (%s)" % (kms_key_id, metadata["Arn"]) if metadata.get("Arn") and metadata["Arn"] != kms_key_id else repr(kms_key_id)
    manager = metadata.get("KeyManager")
    if manager != "CUSTOMER" and not (manager == "AWS" and allow_aws_managed_key):
        return (
            "%s: the key %s in region %s is an AWS managed key (KeyManager %s), and AMIs encrypted with it cannot be "
            "shared with other accounts: give a customer managed key of that region, or set allow_aws_managed_key: true"
            % (option, named, region, manager)
        )
    if metadata.get("KeyState") != "Enabled":
        return "%s: the key %s in region %s is %s: give an enabled customer managed key of that region (KeyState Enabled)" % (
            option, named, region, metadata.get("KeyState"))
    spec = metadata.get("KeySpec") or metadata.get("CustomerMasterKeySpec")
    if (spec and spec != "SYMMETRIC_DEFAULT") or metadata.get("KeyUsage", "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT":
        return (
            "%s: the key %s in region %s is a %s key for %s: EBS encrypts with symmetric keys only: give a customer managed "
            "key of that region with KeySpec SYMMETRIC_DEFAULT and KeyUsage ENCRYPT_DECRYPT"
            % (option, named, region, spec, metadata.get("KeyUsage"))
        )
    return None


def key_problems_message(problems):
    return "%d destination key(s) cannot be used, so nothing was copied: %s" % (len(problems), "; ".join(problems))


def source_result(image, region, snapshots, key_metadata):
    """The ``source`` result: the image, whether it is encrypted, and the ARNs of its snapshots' keys, split into
    customer managed and AWS managed (``key_metadata``: key id from the snapshot -> DescribeKey's KeyMetadata, or
    None when it could not be described: counted as customer managed, since AWS managed keys of the caller's own
    account can always be described and those of other accounts cannot be shared)."""
    customer, managed = set(), set()
    encrypted = source_is_encrypted(image)
    for snapshot in snapshots:
        if snapshot.get("Encrypted"):
            encrypted = True
        key_id = snapshot.get("KmsKeyId")
        if not key_id:
            continue
        metadata = key_metadata.get(key_id) or {}
        arn = metadata.get("Arn") or key_id
        (managed if metadata.get("KeyManager") == "AWS" else customer).add(arn)
    return {
        "image_id": image["ImageId"],
        "region": region,
        "name": image.get("Name"),
        "owner_id": image.get("OwnerId"),
        "encrypted": bool(encrypted),
        "kms_key_arns": sorted(customer),
        "aws_managed_kms_key_arns": sorted(managed),
    }


def client_token(dest_region, request, failed_image_ids=()):
    """A deterministic ClientToken (64 hex characters, CopyImage's maximum) for one region's request.

    It covers the destination region and every CopyImage parameter, so a retried or concurrent
    request with the same options gets the same image back instead of a second copy. The ids of
    earlier failed copies are part of it: a re-copy after a failure must not be answered with the
    failed image that the previous token produced."""
    material = {"destination_region": dest_region, "request": request, "replaces": sorted(failed_image_ids)}
    blob = json.dumps(material, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def copy_request(source, source_region, dest, name, description, encrypted, copy_tags, tags, failed_image_ids=()):
    """The CopyImage parameters for one destination (sent to that region's endpoint)."""
    request = {"SourceImageId": source["ImageId"], "SourceRegion": source_region, "Name": name}
    if description is not None:
        request["Description"] = description
    elif source.get("Description"):
        request["Description"] = source["Description"]
    if dest.kms_key_id:
        # CopyImage needs Encrypted=true whenever a key is given
        request["Encrypted"] = True
        request["KmsKeyId"] = dest.kms_key_id
    elif encrypted:
        request["Encrypted"] = True
    if copy_tags:
        request["CopyImageTags"] = True
    if tags:
        tag_list = [{"Key": k, "Value": tags[k]} for k in sorted(tags)]
        request["TagSpecifications"] = [
            {"ResourceType": "image", "Tags": tag_list},
            {"ResourceType": "snapshot", "Tags": tag_list},
        ]
    request["ClientToken"] = client_token(dest.region, request, failed_image_ids)
    return request


_STATE_RANK = {"available": 0, "pending": 1}


def pick_copy(images):
    """From the caller's images that are copies of the source in one region, return
    ``(copy, failed_ids, other_ids)``: the copy to report (available before pending, then the oldest,
    then by id) or None, the ids of failed copies, and the ids of further live copies."""
    live = [i for i in images if i.get("State") in _STATE_RANK]
    failed = sorted(i["ImageId"] for i in images if i.get("State") == "failed")
    live.sort(key=lambda i: (_STATE_RANK[i["State"]], i.get("CreationDate") or "", i["ImageId"]))
    if not live:
        return None, failed, []
    return live[0], failed, [i["ImageId"] for i in live[1:]]


def image_result(region, image_id=None, state=None, created=False, kms_key_id=None, state_reason=None, failed_image_ids=()):
    return {
        "region": region,
        "image_id": image_id,
        "state": state,
        "created": created,
        "kms_key_id": kms_key_id,
        "kms_key_arn": kms_key_id,
        "state_reason": state_reason,
        "failed_image_ids": sorted(failed_image_ids),
    }


def snake_state_reason(reason):
    if not reason:
        return None
    return {"code": reason.get("Code"), "message": reason.get("Message")}


def failure_message(results, timed_out=False, wait_timeout=None):
    """The module's message when some region did not end with a usable copy; None when all did."""
    parts = []
    for r in results:
        if r["state"] in ("failed", STATE_ERROR):
            reason = r.get("state_reason") or {}
            parts.append(
                "%s: %s %s (%s)"
                % (r["region"], r["image_id"] or "no image", "failed" if r["state"] == "failed" else "could not be copied",
                   reason.get("message") or reason.get("code") or "no reason given")
            )
    pending = [r["region"] for r in results if r["state"] == "pending"]
    if timed_out and pending:
        parts.append(
            "still pending after wait_timeout=%ss in %s (the copies go on in AWS; re-run to wait for them)"
            % (wait_timeout, ", ".join(pending))
        )
    if not parts:
        return None
    return "AMI copy did not complete in every region: %s. The other regions are reported in images; re-run to resume." % "; ".join(parts)


def poll_delays(first=POLL_FIRST, factor=POLL_FACTOR, most=POLL_MAX):
    delay = first
    while True:
        yield delay
        delay = min(delay * factor, most)


# ---------------------------------------------------------------------------------------------
# API part: lookups over _api.describe_images, and the copier
# ---------------------------------------------------------------------------------------------
def find_copies(client, source_image_id, source_region):
    """The caller's own images in the client's region that are copies of the source (any state)."""
    images = describe_images(
        client,
        "copies of %s from %s" % (source_image_id, source_region),
        Owners=["self"],
        Filters=[
            {"Name": "source-image-id", "Values": [source_image_id]},
            {"Name": "source-image-region", "Values": [source_region]},
            {"Name": "state", "Values": ["pending", "available", "failed"]},
        ],
    )
    # The filters are the lookup; where the fields are present, they must agree with it. An AMI made by CreateImage
    # from an instance of the source also names the source (SourceImageId, "created using CreateImage, CopyImage, or
    # CreateRestoreImageTask"), in the source's region; it has a SourceInstanceId ("only appears if the AMI was created
    # using CreateImage": Image in botocore's EC2 model), a copy has none: it is not a copy.
    return [i for i in images if is_copy_of(i, source_image_id, source_region, assume=True)]


def is_copy_of(image, source_image_id, source_region, assume=False):
    """Whether ``image`` is a copy of the source: it names the source and its region and was not made from an instance.

    ``assume``: a field that is missing counts as agreeing (for images a ``source-image-id`` filter already chose)."""
    missing = source_image_id if assume else None
    if image.get("SourceImageId", missing) != source_image_id:
        return False
    missing = source_region if assume else None
    return image.get("SourceImageRegion", missing) == source_region and not image.get("SourceInstanceId")


def find_images_named(client, name):
    """The caller's own images in the client's region with this name."""
    images = describe_images(client, "images named %s" % name, Owners=["self"], Filters=[{"Name": "name", "Values": [name]}])
    return [i for i in images if i.get("Name") == name]


def copy_kms_key_id(client, image):
    """The KMS key ARN of the copy's root snapshot (or its first), from DescribeSnapshots; None if unknown."""
    snapshot_ids = image_snapshot_ids(image)
    if not snapshot_ids:
        return None
    root = None
    for mapping in image.get("BlockDeviceMappings") or []:
        if mapping.get("DeviceName") == image.get("RootDeviceName") and (mapping.get("Ebs") or {}).get("SnapshotId"):
            root = mapping["Ebs"]["SnapshotId"]
    snapshots = {s["SnapshotId"]: s for s in describe_snapshots(client, snapshot_ids) or []}
    for snapshot_id in ([root] if root else []) + snapshot_ids:
        snap = snapshots.get(snapshot_id)
        if snap and snap.get("KmsKeyId"):
            return snap["KmsKeyId"]
    return None


def requested_key(plan):
    """The key a region's copy is made with, as known before the copy: its ARN from DescribeKey, else as given."""
    return plan.get("key_arn") or plan["dest"].kms_key_id


class AmiCopier:
    """Copies one source AMI to many regions.

    ``clients`` maps each destination region (and the source region) to an EC2 client, made beforehand
    in the calling thread (``_clients.clients_for``: one boto3 session for all regions); each region's
    calls run in a thread of their own. ``kms_clients`` maps to a KMS client the source region and each
    region with a ``kms_key_id`` (see ``kms_regions``). The API functions carry their own retry
    decorator, so plain clients (no ``retry_decorator``) are expected.
    ``params`` are the module's options. ``sleep`` and ``clock`` are there for the waits."""

    def __init__(self, clients, params, kms_clients=None, sleep=time.sleep, clock=time.monotonic):
        self.clients = clients
        self.kms_clients = kms_clients or {}
        self.params = params
        self.sleep = sleep
        self.clock = clock
        self.warnings = []
        self.source = None
        self.source_info = None
        self.dests = validate_options(params)

    @staticmethod
    def kms_regions(params):
        """The regions the copier needs a KMS client for: the source's and each destination's with a key."""
        return sorted({params["source_region"]} | {d.region for d in validate_options(params) if d.kms_key_id})

    def _map(self, func, items):
        """Run ``func`` on each item in parallel threads; results in the items' order; the first error is raised
        only after every call finished (no region's request is abandoned half-way). The collection's one runner
        (``_targets.run_targets``) does the threads."""
        outcomes = run_targets(func, items, max_workers=MAX_WORKERS)
        errors = [o.error for o in outcomes if o.error is not None]
        if errors:
            raise errors[0]
        return [o.result for o in outcomes]

    def _kms(self, region):
        client = self.kms_clients.get(region)
        if client is None:
            raise ValueError("AmiCopier: no KMS client for region %s (see AmiCopier.kms_regions)" % region)
        return client

    # ---- read and plan ----------------------------------------------------------------
    def load_source(self):
        region = self.params["source_region"]
        image_id = self.params["source_image_id"]
        try:
            image = get_image(self.clients[region], image_id)
        except OrgShareEC2Error as e:
            if error_code(e) in ("InvalidAMIID.NotFound", "InvalidAMIID.Malformed", "InvalidAMIID.Unavailable"):
                image = None
            else:
                raise
        if image is None:
            raise AmiCopyError("source_image_id: %s does not exist in source_region %s (or is not visible to this account)" % (image_id, region))
        if image.get("State") != "available":
            raise AmiCopyError(
                "source_image_id: %s in %s is %s; only an available AMI can be copied" % (image_id, region, image.get("State"))
            )
        self.source = image
        return image

    def read_source(self):
        """The ``source`` result: one DescribeSnapshots (the visible snapshots of the source) and one
        DescribeKey per distinct key, in the source region."""
        region = self.params["source_region"]
        source = self.source or self.load_source()
        snapshot_ids = image_snapshot_ids(source)
        snapshots = describe_snapshots(self.clients[region], snapshot_ids)
        key_ids = sorted({s["KmsKeyId"] for s in snapshots if s.get("KmsKeyId")})
        metadata = dict((key_id, key_metadata_if_readable(self._kms(region), key_id)) for key_id in key_ids)
        self.source_info = source_result(source, region, snapshots, metadata)
        return self.source_info

    def plan(self):
        """Read every region and decide; returns a list of per-region plans (dicts), in the regions' order.

        Also reads the source's snapshots and keys (``self.source_info``), in a thread of its own.
        Raises AmiCopyError (before any write) for the AWS-managed-key guard, for destination keys that
        cannot be used and for name collisions."""
        source = self.source or self.load_source()
        check_encryption(self.dests, source, self.params.get("encrypted"), self.params.get("allow_aws_managed_key"))
        default_name = source.get("Name")
        dests = []
        for d in self.dests:
            name = d.name or default_name
            if not name:
                raise AmiCopyError("name: the source %s has no name; give name (or regions[].name)" % source["ImageId"])
            dests.append(d._replace(name=name))
        self.dests = dests
        tasks = [(self._plan_region_or_fail, (index, d)) for index, d in enumerate(dests)] + [(self.read_source, ())]
        outcomes = self._map(lambda task: task[0](*task[1]), tasks)
        plans = outcomes[:-1]
        problems = [p["key_problem"] for p in plans if p.get("key_problem")]
        clashes = [p["name_clash"] for p in plans if p.get("name_clash")]
        messages = []
        if problems:
            messages.append(key_problems_message(problems))
        if clashes:
            messages.append(
                "an AMI name is already taken by an image that is not a copy of %s: %s. AMI names are unique per "
                "account and region: set name (or regions[].name) to another name for these regions"
                % (source["ImageId"], "; ".join(clashes))
            )
        if messages:
            raise AmiCopyError(". ".join(messages))
        return plans

    def _check_key(self, index, dest):
        """(the key's ARN, None) when the destination key is usable, else (None or the ARN, the problem)."""
        option = "regions[%d].kms_key_id" % index
        try:
            metadata = describe_key(self._kms(dest.region), dest.kms_key_id)
        except OrgShareKMSError as e:
            if error_code(e) != "AccessDeniedException":
                raise  # throttled past retries, no connection: a failed read, not a bad option
            return None, (
                "%s: the caller may not describe the key %r in region %s (AccessDeniedException): ami_copy needs "
                "kms:DescribeKey on it, give a customer managed key of that region that the caller may use"
                % (option, dest.kms_key_id, dest.region)
            )
        problem = key_problem(option, dest.kms_key_id, dest.region, metadata, self.params.get("allow_aws_managed_key"))
        return (metadata or {}).get("Arn"), problem

    def _plan_region_or_fail(self, index, dest):
        """The region's plan; a read that AWS failed (throttled past the retries, no connection, access denied)
        makes that region's plan a failed one (``read_error``), reported as state ``error``, and the other
        regions go on: one region that is down does not stop the copies elsewhere."""
        try:
            return self._plan_region(index, dest)
        except (OrgShareEC2Error, OrgShareKMSError) as e:
            return {
                "dest": dest, "copy": None, "failed_image_ids": [], "name_clash": None, "deregister": [], "request": None,
                "key_arn": None, "key_problem": None,
                "read_error": {"code": error_code(e) or "ReadFailed", "message": "the region could not be read: %s" % e},
            }

    def _plan_region(self, index, dest):
        client = self.clients[dest.region]
        src_id, src_region = self.source["ImageId"], self.params["source_region"]
        copy, failed, others = pick_copy(find_copies(client, src_id, src_region))
        plan = {
            "dest": dest, "copy": copy, "failed_image_ids": failed, "name_clash": None, "deregister": [], "request": None,
            "key_arn": None, "key_problem": None,
        }
        if others:
            self.warnings.append(
                "%s: more than one copy of %s exists (%s); reporting %s" % (dest.region, src_id, ", ".join([copy["ImageId"]] + others), copy["ImageId"])
            )
        if copy is not None:
            return plan  # converged: the key is not described (a converged run pays nothing for it)
        holders = find_images_named(client, dest.name)
        # A concurrent run (another host of the same image, another job) may have made the copy since the lookup above:
        # it holds the name and names the source. It is the copy, not a clash.
        copy, late_failed, dummy = pick_copy([h for h in holders if is_copy_of(h, src_id, src_region)])
        if copy is not None:
            plan["copy"] = copy
            plan["failed_image_ids"] = sorted(set(failed) | set(late_failed))
            return plan
        if dest.kms_key_id:
            plan["key_arn"], plan["key_problem"] = self._check_key(index, dest)
        for holder in holders:
            if holder["ImageId"] in failed:
                # A failed copy of the source keeps its name: it has to go for the re-copy to take the name.
                plan["deregister"].append(holder["ImageId"])
            else:
                plan["name_clash"] = "%s: %r is used by %s" % (dest.region, dest.name, holder["ImageId"])
        plan["request"] = copy_request(
            self.source, src_region, dest, dest.name, self.params.get("description"), self.params.get("encrypted"),
            self.params.get("copy_tags"), self.params.get("tags"), failed,
        )
        return plan

    # ---- results --------------------------------------------------------------------------
    def _existing_result(self, plan):
        copy = plan["copy"]
        result = image_result(
            plan["dest"].region, copy["ImageId"], copy.get("State"), False, None,
            snake_state_reason(copy.get("StateReason")), plan["failed_image_ids"],
        )
        result["_image"] = copy
        return result

    def predict(self, plans):
        """Check mode: what a run would report, without writing."""
        results = []
        for plan in plans:
            if plan["copy"]:
                results.append(self._existing_result(plan))
            elif plan.get("read_error"):
                results.append(image_result(plan["dest"].region, None, STATE_ERROR, False, requested_key(plan), plan["read_error"], []))
            else:
                results.append(image_result(
                    plan["dest"].region, None, STATE_WOULD_COPY, True, requested_key(plan), None, plan["failed_image_ids"]
                ))
        self._map(self._fill_kms_key, [r for r in results if r["image_id"]])
        return results

    def apply(self, plans):
        """Start every missing copy (all regions in parallel), then wait for all of them together."""
        results = self._map(self._start, plans)
        timed_out = False
        if self.params.get("wait"):
            timed_out = self.wait(results)
        self._map(self._fill_kms_key, [r for r in results if r["image_id"]])
        return results, timed_out

    def _start(self, plan):
        dest = plan["dest"]
        if plan["copy"]:
            return self._existing_result(plan)
        if plan.get("read_error"):
            return image_result(dest.region, None, STATE_ERROR, False, requested_key(plan), plan["read_error"], [])
        client = self.clients[dest.region]
        request = plan["request"]
        try:
            for image_id in plan["deregister"]:
                deregister_image(client, image_id)
            image_id = copy_image(client, request)
        except OrgShareEC2Error as e:
            code = error_code(e)
            if code == "InvalidAMIName.Duplicate":
                return self._on_duplicate_name(plan, e)
            if code == "IdempotentParameterMismatch":
                reason = (
                    "the client token %s was already used for a CopyImage request with other parameters in %s; "
                    "this module derives the token from the source, region, name, key, encryption, description and tags, "
                    "so another tool or a hand-made request used it: make any of these differ, or copy by hand"
                    % (request["ClientToken"], dest.region)
                )
                return image_result(dest.region, None, STATE_ERROR, False, requested_key(plan), {"code": code, "message": reason}, plan["failed_image_ids"])
            message = str(e)
            return image_result(dest.region, None, STATE_ERROR, False, requested_key(plan), {"code": code, "message": message}, plan["failed_image_ids"])
        return image_result(dest.region, image_id, "pending", True, requested_key(plan), None, plan["failed_image_ids"])

    def _on_duplicate_name(self, plan, error):
        """The name was taken between the plan and the copy: by a concurrent copy of the same source
        (then that copy is reported, created by someone else), or by another image (then say which)."""
        dest = plan["dest"]
        client = self.clients[dest.region]
        copy, failed, dummy = pick_copy(find_copies(client, self.source["ImageId"], self.params["source_region"]))
        if copy is not None:
            return self._existing_result(dict(plan, copy=copy, failed_image_ids=failed))
        holders = [i["ImageId"] for i in find_images_named(client, dest.name)] or ["another image"]
        message = "the name %r is already used by %s in %s; set name (or regions[].name) to another name" % (dest.name, holders[0], dest.region)
        return image_result(
            dest.region, None, STATE_ERROR, False, requested_key(plan), {"code": error_code(error), "message": message},
            plan["failed_image_ids"],
        )

    def _refresh(self, result):
        image = get_image(self.clients[result["region"]], result["image_id"])
        if image is None:
            result["state"] = "failed"
            result["state_reason"] = {"code": "ImageNotFound", "message": "the image disappeared while it was pending"}
            return result
        result["state"] = image.get("State")
        result["state_reason"] = snake_state_reason(image.get("StateReason"))
        result["_image"] = image
        return result

    def wait(self, results):
        """Poll every pending image together (one DescribeImages per region and round, rounds with a
        growing pause) until none is pending or wait_timeout runs out. Returns True on time-out."""
        deadline = self.clock() + self.params["wait_timeout"]
        delays = poll_delays()
        while True:
            pending = [r for r in results if r["state"] == "pending" and r["image_id"]]
            if not pending:
                return False
            remaining = deadline - self.clock()
            if remaining <= 0:
                return True
            self.sleep(min(next(delays), remaining))
            self._map(self._refresh, pending)

    def _fill_kms_key(self, result):
        image = result.pop("_image", None)
        if image is None:
            image = get_image(self.clients[result["region"]], result["image_id"])
        if image is None:
            return result
        key = copy_kms_key_id(self.clients[result["region"]], image)
        if key:
            result["kms_key_id"] = result["kms_key_arn"] = key
        return result
