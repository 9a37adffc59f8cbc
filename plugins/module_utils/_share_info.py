# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to this collection: not a public API; may change in any release.

"""Who can launch which AMI, and would the launch work: the engine of ami_share_info.

Three parts, each testable alone:

- pure analysis (no boto3): launch permission summaries, snapshot rows, key entries, the problems
  of one image, the final sorted report (``build_report``);
- the reads whose "you may not read this" is a finding, over the collection's API layer (``_api``);
- ``ShareInfoGatherer``: runs the reads concurrently in one bounded thread pool. The main thread
  owns every piece of state; workers only make calls and return answers, so no locking is needed
  beyond what the OrganizationsResolver caches.
"""

import datetime
import json
from concurrent.futures import FIRST_COMPLETED
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait

try:
    from botocore.parsers import ResponseParserError
except ImportError:
    ResponseParserError = None  # Modules are responsible for handling this.

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import is_ansible_aws_error_code
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.transformation import ansible_dict_to_boto3_filter_list

from ansible_collections.orgshare.aws.plugins.module_utils import _api
from ansible_collections.orgshare.aws.plugins.module_utils._ec2 import image_snapshot_ids
from ansible_collections.orgshare.aws.plugins.module_utils._key_policy import GRANTED
from ansible_collections.orgshare.aws.plugins.module_utils._key_policy import NOT_GRANTED
from ansible_collections.orgshare.aws.plugins.module_utils._key_policy import analyse_key_policy
from ansible_collections.orgshare.aws.plugins.module_utils._key_policy import orphaned_principals
from ansible_collections.orgshare.aws.plugins.module_utils._key_policy import principal_access
from ansible_collections.orgshare.aws.plugins.module_utils._launch_permissions import from_api as launch_permissions_summary
from ansible_collections.orgshare.aws.plugins.module_utils._principals import PrincipalError
from ansible_collections.orgshare.aws.plugins.module_utils._principals import parse_organization_arn
from ansible_collections.orgshare.aws.plugins.module_utils._principals import parse_ou_arn
from ansible_collections.orgshare.aws.plugins.module_utils._targets import run_targets

MAX_WORKERS = 16

PROBLEM_CODES = (
    "account_in_shared_org",
    "aws_managed_key",
    "deprecated",
    "disabled",
    "key_grant_unknown",
    "key_not_granted",
    "key_policy_orphaned_principals",
    "key_policy_unreadable",
    "public",
    "public_sharing_blocked",
)

# ---------------------------------------------------------------------------------------------
# Pure analysis
# ---------------------------------------------------------------------------------------------


def batches(items, size):
    """Split ``items`` into lists of at most ``size``."""
    items = list(items)
    return [items[i:i + size] for i in range(0, len(items), size)]


def describe_images_params(image_ids=None, filters=None, owners=None, shared_with_me=False):
    """The DescribeImages parameters for one region.

    Image ids become an ``image-id`` filter rather than ``ImageIds``: an AMI id exists in one region
    only, and ``ImageIds`` fails the whole call (InvalidAMIID.NotFound) in every other region.
    With ``shared_with_me``, ``self`` in ``owners`` is ignored (the caller's own AMIs are excluded anyway).
    """
    filters = dict(filters or {})
    # Disabled AMIs (the owner's: they lost their launch permissions) and other accounts' deprecated ones appear only
    # when asked for (DescribeImages IncludeDisabled, IncludeDeprecated): an audit reports them rather than skip them.
    params = {"IncludeDisabled": True, "IncludeDeprecated": True}
    if image_ids:
        filters["image-id"] = sorted(set(image_ids))
    owners = list(owners or [])
    if shared_with_me:
        params["ExecutableUsers"] = ["self"]
        owners = [o for o in owners if o != "self"]
    if owners:
        params["Owners"] = owners
    if filters:
        params["Filters"] = ansible_dict_to_boto3_filter_list(filters)
    return params


def unknown_launch_permissions(public):
    """What is known of an AMI whose launch permissions the caller may not read."""
    return {"organization_arns": None, "organizational_unit_arns": None, "account_ids": None, "public": public}


def snapshot_rows(image, snapshots_by_id):
    """One row per EBS block device mapping, with the key from DescribeSnapshots when known."""
    rows = []
    for mapping in image.get("BlockDeviceMappings") or []:
        ebs = mapping.get("Ebs") or {}
        snapshot_id = ebs.get("SnapshotId")
        if not snapshot_id:
            continue
        snapshot = snapshots_by_id.get(snapshot_id) or {}
        encrypted = snapshot.get("Encrypted", ebs.get("Encrypted"))
        rows.append({
            "snapshot_id": snapshot_id,
            "device_name": mapping.get("DeviceName"),
            "encrypted": bool(encrypted) if encrypted is not None else None,
            "kms_key_id": snapshot.get("KmsKeyId"),
        })
    return sorted(rows, key=lambda r: (r["device_name"] or "", r["snapshot_id"]))


def key_entry(key_id, metadata, policy):
    """Summarise one KMS key.

    ``metadata`` is DescribeKey's KeyMetadata (None when not readable); ``policy`` the parsed key
    policy (None when not readable)."""
    metadata = metadata or {}
    arn = metadata.get("Arn") or key_id
    entry = {
        "key_arn": arn,
        "kms_key_arn": arn,  # the collection's one name for a key ARN; key_arn is kept
        "key_manager": metadata.get("KeyManager"),
        "readable": policy is not None,
        "granted_organizations": [],
        "granted_organizational_units": [],
        "granted_accounts": [],
        "granted_everyone": False,
    }
    if policy is not None:
        analysis = analyse_key_policy(policy)
        entry["granted_organizations"] = sorted(analysis.get("granted_organizations") or [])
        entry["granted_organizational_units"] = sorted(analysis.get("granted_organizational_units") or [])
        entry["granted_accounts"] = sorted(analysis.get("granted_accounts") or [])
        entry["granted_everyone"] = bool(analysis.get("everyone"))
    return entry


def _org_id_of(arn, kind):
    try:
        if kind == "organization":
            return parse_organization_arn(arn).organization_id
        return parse_ou_arn(arn).organization_id
    except PrincipalError:
        return None


def _ou_id_of(arn):
    try:
        return parse_ou_arn(arn).ou_id
    except PrincipalError:
        return arn.rsplit("/", 1)[-1]


def shared_principals(launch_permissions):
    """(kind, value) pairs an AMI is shared with, in a stable order (public is not a principal)."""
    lp = launch_permissions or {}
    out = [("organization", v) for v in lp.get("organization_arns") or []]
    out += [("organizational_unit", v) for v in lp.get("organizational_unit_arns") or []]
    out += [("account", v) for v in lp.get("account_ids") or []]
    return out


def principal_label(kind, value):
    return {"organization": "organization", "organizational_unit": "OU", "account": "account"}[kind] + " " + value


def key_verdict(policy, kind, value, ou_paths, memberships):
    """principal_access for one principal, with what is known of its place in the organization."""
    if kind == "organization":
        return principal_access(policy, kind, value, org_id=_org_id_of(value, kind))
    if kind == "organizational_unit":
        return principal_access(policy, kind, value, org_id=_org_id_of(value, kind), ou_path=ou_paths.get(value))
    membership = memberships.get(value) or {}
    return principal_access(
        policy, kind, value,
        ou_path=membership.get("path"),
        account_org_id=membership.get("organization_id"),
    )


def account_reached_through(account_id, membership, launch_permissions):
    """The shared orgs/OUs that also reach ``account_id``; empty when its membership is unknown."""
    if not membership or not membership.get("organization_id"):
        return []
    reached = []
    for arn in launch_permissions.get("organization_arns") or []:
        if _org_id_of(arn, "organization") == membership["organization_id"]:
            reached.append(arn)
    segments = set((membership.get("path") or "").strip("/").split("/"))
    for arn in launch_permissions.get("organizational_unit_arns") or []:
        if _ou_id_of(arn) in segments:
            reached.append(arn)
    return reached


def image_problems(launch_permissions, snapshots, keys, policies, ou_paths, memberships, principals=None, check_keys=True,
                   verdicts=None):
    """The problems of one AMI, sorted by code then message.

    ``keys``: key id -> key entry (``key_entry``); ``policies``: key id -> parsed policy or None;
    ``principals``: who must be able to use the keys (defaults to whom the AMI is shared with);
    ``verdicts``: a dict that caches each (key, principal) verdict across the AMIs of one region
    (hundreds of AMIs usually share a few keys and principals).
    """
    if verdicts is None:
        verdicts = {}
    problems = []

    def problem(code, message, **fields):
        problems.append(dict(fields, code=code, message=message))

    lp = launch_permissions or {}
    if lp.get("public"):
        problem("public", "The AMI is public: every AWS account can launch it.", principal="all", principal_kind="public")
    for account_id in lp.get("account_ids") or []:
        for via in account_reached_through(account_id, memberships.get(account_id), lp):
            problem(
                "account_in_shared_org",
                "Account %s is shared explicitly and is also reached through %s: removing the account alone "
                "will not revoke its access." % (account_id, via),
                account_id=account_id, principal=via, principal_kind="organization_or_ou",
            )
    if principals is None:
        principals = shared_principals(lp)
    if check_keys:
        by_key = {}
        for row in snapshots:
            if row.get("kms_key_id"):
                by_key.setdefault(row["kms_key_id"], []).append(row)
        for key_id in sorted(by_key):
            entry = keys.get(key_id) or key_entry(key_id, None, None)
            about = dict(kms_key_arn=entry["key_arn"], snapshot_ids=sorted(r["snapshot_id"] for r in by_key[key_id]))
            label = "%s (%s)" % (
                entry["key_arn"],
                ", ".join("%s on %s" % (r["snapshot_id"], r["device_name"]) for r in by_key[key_id]),
            )
            if entry["key_manager"] == "AWS":
                problem(
                    "aws_managed_key",
                    "Key %s is the AWS managed key: an AMI with snapshots encrypted with it cannot be shared; "
                    "copy the AMI with a customer managed key." % label,
                    **about
                )
                continue
            if not principals:
                continue
            policy = policies.get(key_id)
            if policy is None:
                problem(
                    "key_policy_unreadable",
                    "The policy of key %s could not be read, so whether %s may use it is unknown."
                    % (label, ", ".join(principal_label(k, v) for k, v in principals)),
                    principals=[v for k, v in principals], **about
                )
                continue
            for kind, value in principals:
                cache_key = (key_id, kind, value)
                if cache_key not in verdicts:
                    verdicts[cache_key] = key_verdict(policy, kind, value, ou_paths, memberships)
                verdict, reason = verdicts[cache_key]
                if verdict == GRANTED:
                    continue
                if verdict == NOT_GRANTED:
                    problem(
                        "key_not_granted",
                        "The policy of key %s does not let %s use the key, so launches from there will fail: %s"
                        % (entry["key_arn"], principal_label(kind, value), reason),
                        principal=value, principal_kind=kind, **about
                    )
                else:
                    problem(
                        "key_grant_unknown",
                        "Whether the policy of key %s lets %s use the key could not be decided: %s"
                        % (entry["key_arn"], principal_label(kind, value), reason),
                        principal=value, principal_kind=kind, **about
                    )
    unique = {}
    for item in problems:
        unique.setdefault((item["code"], item["message"]), item)
    return [unique[k] for k in sorted(unique)]


def build_image(region, image, attribute, snapshots_by_id, keys, policies, ou_paths, memberships,
                shared_with_me=False, caller_account_id=None, check_keys=True, verdicts=None, now=None, block_public_access=None):
    """One entry of the ``images`` result.

    ``attribute``: the LaunchPermissions list, or None when not readable (not the owner)."""
    notes = []
    if attribute is None:
        lp = unknown_launch_permissions(bool(image.get("Public")))
        notes.append("Launch permissions are readable by the owner of the AMI only.")
    else:
        lp = launch_permissions_summary(attribute)
    rows = snapshot_rows(image, snapshots_by_id) if check_keys else snapshot_rows(image, {})
    if check_keys:
        hidden = [r["snapshot_id"] for r in rows if r["snapshot_id"] not in snapshots_by_id]
        if hidden:
            notes.append("Snapshots not visible to the caller, so their keys are unknown: %s." % ", ".join(hidden))
    key_ids = sorted({r["kms_key_id"] for r in rows if r["kms_key_id"]})
    principals = None
    if shared_with_me and caller_account_id:
        principals = [("account", caller_account_id)]
    return {
        "image_id": image["ImageId"],
        "region": region,
        "name": image.get("Name"),
        "owner_id": image.get("OwnerId"),
        "state": image.get("State"),
        "creation_date": image.get("CreationDate"),
        "deprecation_time": image.get("DeprecationTime"),
        "last_launched_time": image.get("LastLaunchedTime"),
        "image_allowed": image.get("ImageAllowed"),
        "tags": boto3_tag_list_to_ansible_dict(image.get("Tags") or []),
        "launch_permissions": lp,
        "snapshots": rows,
        "kms_keys": [keys.get(k) or key_entry(k, None, None) for k in key_ids],
        "problems": [dict(p, region=region, image_id=image["ImageId"]) for p in
                     image_problems(lp, rows, keys, policies, ou_paths, memberships, principals, check_keys, verdicts)
                     + hidden_key_problems(rows, snapshots_by_id, shared_with_me and check_keys, caller_account_id)
                     + lifecycle_problems(image, lp, now=now)
                     + public_sharing_problems(image, block_public_access)
                     + orphaned_principal_problems(key_ids, policies)],
        "notes": notes,
    }


def _parse_time(value):
    if not value:
        return None
    try:
        return datetime.datetime.strptime(str(value)[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return None


def block_public_access_if_readable(client):
    """GetImageBlockPublicAccessState, or None when the caller may not read it."""
    try:
        return _api.get_image_block_public_access_state(client)
    except AnsibleAWSError as e:
        if isinstance(e, is_ansible_aws_error_code(_EC2_UNREADABLE, e)):
            return None
        raise


def public_sharing_problems(image, block_public_access):
    """``public_sharing_blocked``: a public AMI in a region where image block public access is on. It stays public, but
    once made private it cannot be made public again while the setting is on (EC2 User Guide, "Understand block public
    access for AMIs")."""
    if not image.get("Public") or block_public_access != "block-new-sharing":
        return []
    return [{"code": "public_sharing_blocked", "message": "The AMI is public, but image block public access is on in this region: "
             "it stays public, and once made private it cannot be made public again until the setting is disabled "
             "(ec2 disable-image-block-public-access)."}]


def lifecycle_problems(image, lp, now=None):
    """``disabled`` (DisableImage: it cannot be launched, and lost its launch permissions) and ``deprecated`` (its
    DeprecationTime has passed: other accounts no longer list it unless they ask for deprecated AMIs; launches by id
    still work). EC2 User Guide, "Disable an Amazon EC2 AMI" and "Deprecate an Amazon EC2 AMI"."""
    out = []
    if image.get("State") == "disabled":
        out.append({"code": "disabled", "message": "The AMI is disabled: nobody can launch it, and its launch permissions "
                    "were removed. Enable it (ec2 enable-image) and share it again, or deregister it."})
    at = _parse_time(image.get("DeprecationTime"))
    if at is not None and at <= (now or datetime.datetime.now(datetime.timezone.utc)):
        shared = bool(lp and (lp.get("organization_arns") or lp.get("organizational_unit_arns") or lp.get("account_ids") or lp.get("public")))
        out.append({"code": "deprecated", "deprecation_time": image.get("DeprecationTime"),
                    "message": "The AMI was deprecated at %s: other accounts%s no longer see it when they list AMIs (unless they ask "
                    "for deprecated ones); launches by its id still work." % (image.get("DeprecationTime"), " it is shared with" if shared else "")})
    return out


def orphaned_principal_problems(key_ids, policies):
    """``key_policy_orphaned_principals``: a key policy names deleted IAM users or roles (their unique ids); KMS refuses
    to write that policy back, so no grant can be added or removed until they are taken out."""
    out = []
    for key_id in key_ids:
        policy = policies.get(key_id)
        if not isinstance(policy, dict):
            continue
        orphans = orphaned_principals(policy)
        if orphans:
            ids = sorted(set(i for o in orphans for i in o["principals"]))
            out.append({"code": "key_policy_orphaned_principals", "kms_key_arn": key_id, "principals": ids,
                        "message": "The policy of key %s names deleted IAM users or roles (%s): KMS refuses to write it back, so no "
                        "grant of this key can be changed until they are removed (kms_org_grant drop_orphaned_principals=true)."
                        % (key_id, ", ".join(ids))})
    return out


def hidden_key_problems(rows, snapshots_by_id, consumer, caller_account_id):
    """Consumer side: snapshots the caller cannot see have keys nobody checked: a problem, not silence."""
    hidden = sorted(r["snapshot_id"] for r in rows if r["snapshot_id"] not in snapshots_by_id)
    if not consumer or not hidden:
        return []
    return [{
        "code": "key_grant_unknown",
        "message": "The snapshots %s are not visible to this account, so whether it may use their KMS keys (and launch the "
                   "AMI) could not be checked." % ", ".join(hidden),
        "snapshot_ids": hidden, "principal": caller_account_id, "principal_kind": "account",
    }]


def build_report(gathered, shared_with_me=False, check_keys=True):
    """``gathered`` (from ShareInfoGatherer.run) -> {"images": [...], "failed_regions": [...]}, sorted."""
    images = []
    memberships = gathered.get("memberships") or {}
    ou_paths = gathered.get("ou_paths") or {}
    for region, data in sorted(gathered["regions"].items()):
        keys = {}
        for key_id, (metadata, policy) in data["keys"].items():
            keys[key_id] = key_entry(key_id, metadata, policy)
        policies = {k: p for k, (m, p) in data["keys"].items()}
        verdicts = {}  # this region's (key, principal) verdicts, shared by its AMIs
        for image in data["images"]:
            images.append(build_image(
                region, image, data["attributes"].get(image["ImageId"]), data["snapshots"], keys, policies,
                ou_paths, memberships, shared_with_me, gathered.get("caller_account_id"), check_keys, verdicts,
                block_public_access=data.get("block_public_access"),
            ))
    images.sort(key=lambda i: (i["region"], i["image_id"]))
    failed = [{"region": r, "reason": reason} for r, reason in sorted(gathered["failed_regions"].items())]
    return {"images": images, "failed_regions": failed}


def membership_from_parent(organization_id, parent, parent_path=None):
    """Where an account sits in the caller's organization, from its ListParents answer."""
    if parent is None:
        return {"organization_id": None, "path": None}
    if parent.get("Type") == "ROOT":
        return {"organization_id": organization_id, "path": "%s/%s/" % (organization_id, parent["Id"])}
    return {"organization_id": organization_id, "path": parent_path}


# ---------------------------------------------------------------------------------------------
# Reads whose refusal is a finding
# ---------------------------------------------------------------------------------------------

# Only the owner of an AMI may read its launch permissions.
_EC2_UNREADABLE = ["AuthFailure", "UnauthorizedOperation"]
# A key the caller may not read (another account's key, or a policy that denies it) is a finding,
# not a failure.
_KMS_UNREADABLE = ["AccessDeniedException", "NotFoundException", "KMSInvalidStateException"]


def launch_permissions_if_readable(client, image_id):
    """The LaunchPermissions entries of an image, or None when the caller may not read them
    (only the owner may: AuthFailure) or the image is gone."""
    return _api.none_on(_EC2_UNREADABLE, _api.describe_launch_permissions, client, image_id)


def key_metadata_if_readable(client, key_id):
    """DescribeKey's KeyMetadata, or None when the caller may not describe the key."""
    return _api.none_on(_KMS_UNREADABLE, _api.describe_key, client, key_id)


def key_policy_if_readable(client, key_id):
    """The parsed key policy, or None when the caller may not read it (always so for another
    account's key: GetKeyPolicy does not work across accounts)."""
    text = _api.none_on(_KMS_UNREADABLE, _api.get_key_policy, client, key_id)
    return None if text is None else json.loads(text)


# ListParents answers ChildNotFoundException for an account outside the caller's organization (to the management
# account or a delegated administrator: botocore's Organizations model). Any other refusal (AccessDeniedException to
# other member accounts, AWSOrganizationsNotInUseException, ...) leaves the membership unknown.
_NOT_IN_ORG = ["ChildNotFoundException"]


# ---------------------------------------------------------------------------------------------
# Concurrent gathering
# ---------------------------------------------------------------------------------------------


class ShareInfoGatherer:
    """Reads everything ami_share_info needs, concurrently, with one bounded pool.

    ``ec2_clients`` / ``kms_clients``: region -> client, created up front in the main thread.
    ``resolver``: an OrganizationsResolver over an Organizations client, or None (then neither account
    memberships nor OU paths are known). Its caches are plain dicts, so concurrent lookups can at
    worst ask AWS twice for the same answer.
    """

    def __init__(self, ec2_clients, kms_clients, describe_params, resolver=None,
                 check_keys=True, shared_with_me=False, caller_account_id=None, max_workers=MAX_WORKERS):
        self.ec2 = ec2_clients
        self.kms = kms_clients
        self.describe_params = describe_params
        self.resolver = resolver if resolver is not None and resolver.client is not None else None
        self.organizations = self.resolver.client if self.resolver is not None else None
        self.check_keys = check_keys
        self.shared_with_me = shared_with_me
        self.caller_account_id = caller_account_id
        self.max_workers = max_workers
        self.regions = {}
        self.failed = {}
        self.ou_paths = {}
        self.memberships = {}
        self._org = None
        self._org_state = None  # None: not asked yet, "ok", "unavailable"
        self._pending = {}
        self._pool = None

    # -- tasks (run in workers: calls only, no shared state) -------------------------------
    def _ou_path(self, ou_arn):
        if self.resolver is None:
            return None
        try:
            return self.resolver.ou_path(ou_arn, "organizational_unit_arns")
        except (PrincipalError, AnsibleAWSError):
            return None

    def _parent(self, account_id):
        """ListParents of one account: (parent, parent_path, state)."""
        try:
            parents = _api.list_parents(self.organizations, account_id)
        except AnsibleAWSError as e:
            if isinstance(e, is_ansible_aws_error_code(_NOT_IN_ORG, e)):
                return None, None, "ok"
            # Not permitted (only the management account or a delegated administrator may ask),
            # or Organizations not in use, or throttled past retries: membership stays unknown.
            return None, None, "unavailable"
        parent = parents[0] if parents else None
        path = None
        if parent and parent.get("Type") == "ORGANIZATIONAL_UNIT":
            path = self._ou_path(parent["Id"])
        return parent, path, "ok"

    def _organization(self):
        try:
            return self.resolver.organization()
        except AnsibleAWSError:
            return None

    # -- scheduling (main thread) -------------------------------------------------------------
    def _submit(self, tag, func, *args, **kwargs):
        self._pending[self._pool.submit(func, *args, **kwargs)] = tag

    def _region_failed(self, region, error):
        if region not in self.failed:
            self.failed[region] = _reason(error)
        self.regions.pop(region, None)

    def _describe_region(self, target):
        return _api.describe_images(self.ec2[target["region"]], **self.describe_params)

    def run(self):
        # The regions are the targets: their DescribeImages run through the collection's one runner
        # (_targets.run_targets: concurrently, a failure kept per region). The reads that depend on
        # each region's AMIs (launch permissions, snapshots, keys, memberships) then form a graph that
        # runs in one bounded pool.
        outcomes = run_targets(self._describe_region, [{"region": r} for r in sorted(self.ec2)], max_workers=self.max_workers)
        with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
            self._pool = pool
            for outcome in outcomes:
                region = outcome.target["region"]
                if outcome.error is not None:
                    if not isinstance(outcome.error, (AnsibleAWSError,) + ((ResponseParserError,) if ResponseParserError else ())):
                        raise outcome.error
                    self._region_failed(region, outcome.error)
                else:
                    self._on_images(region, ("images", region), outcome.result)
            if self.shared_with_me and self.caller_account_id and self.check_keys and self.organizations is not None:
                self._want_membership(self.caller_account_id)
            while self._pending:
                for future in wait(list(self._pending), return_when=FIRST_COMPLETED).done:
                    tag = self._pending.pop(future)
                    self._handle(tag, future)
        self._pool = None
        return {
            "regions": self.regions,
            "failed_regions": self.failed,
            "ou_paths": self.ou_paths,
            "memberships": self.memberships,
            "caller_account_id": self.caller_account_id,
        }

    def _handle(self, tag, future):
        kind, region = tag[0], tag[1]
        try:
            result = future.result()
        except (AnsibleAWSError, ResponseParserError) as e:
            # ResponseParserError is not a BotoCoreError: an endpoint that answers garbage (a
            # region that does not exist behind a proxy, an HTML error page) fails its region only.
            if region is not None:
                self._region_failed(region, e)
            return
        if region is not None and region in self.failed:
            return
        getattr(self, "_on_" + kind)(region, tag, result)

    def _on_images(self, region, tag, images):
        if self.shared_with_me and self.caller_account_id:
            images = [i for i in images if i.get("OwnerId") != self.caller_account_id]
        data = {"images": images, "attributes": {}, "snapshots": {}, "keys": {}, "block_public_access": None}
        self.regions[region] = data
        if not self.shared_with_me and any(i.get("Public") for i in images):
            # only when the region holds a public AMI of the caller: one read (a refusal is "unknown", not a failure)
            self._submit(("block_public_access", region), block_public_access_if_readable, self.ec2[region])
        if not self.shared_with_me:
            for image in images:
                self._submit(("attribute", region, image["ImageId"]), launch_permissions_if_readable, self.ec2[region], image["ImageId"])
        if self.check_keys:
            ids = sorted({s for i in images for s in image_snapshot_ids(i)})
            for batch in batches(ids, _api.SNAPSHOT_BATCH):  # the batches in parallel
                self._submit(("snapshots", region), _api.describe_snapshots, self.ec2[region], batch)

    def _on_attribute(self, region, tag, permissions):
        self.regions[region]["attributes"][tag[2]] = permissions
        if permissions is None or self.organizations is None:
            return
        lp = launch_permissions_summary(permissions)
        for ou_arn in lp["organizational_unit_arns"]:
            if ou_arn not in self.ou_paths:
                self.ou_paths[ou_arn] = None
                self._submit(("ou_path", None, ou_arn), self._ou_path, ou_arn)
        if lp["account_ids"] and (self.check_keys or lp["organization_arns"] or lp["organizational_unit_arns"]):
            for account_id in lp["account_ids"]:
                self._want_membership(account_id)

    def _want_membership(self, account_id):
        if account_id in self.memberships or self._org_state == "unavailable":
            return
        self.memberships[account_id] = None
        if self._org_state is None:
            self._org_state = "asking"
            self._submit(("organization", None), self._organization)
        elif self._org_state == "ok":
            self._submit(("parent", None, account_id), self._parent, account_id)

    def _on_organization(self, region, tag, organization):
        if organization is None:
            self._org_state = "unavailable"
            return
        self._org, self._org_state = organization, "ok"
        for account_id in sorted(a for a, m in self.memberships.items() if m is None):
            self._submit(("parent", None, account_id), self._parent, account_id)

    def _on_parent(self, region, tag, result):
        parent, path, state = result
        account_id = tag[2]
        if state == "unavailable":
            # Membership stays unknown, and account_in_shared_org is reported only when certain.
            # The caller itself is in the organization DescribeOrganization answered for.
            if account_id == self.caller_account_id and self._org:
                self.memberships[account_id] = {"organization_id": self._org["Id"], "path": None}
            return
        if parent is None:
            self.memberships[account_id] = {"organization_id": None, "path": None}
            return
        self.memberships[account_id] = membership_from_parent(self._org["Id"], parent, path)

    def _on_block_public_access(self, region, tag, state):
        self.regions[region]["block_public_access"] = state

    def _on_ou_path(self, region, tag, path):
        self.ou_paths[tag[2]] = path

    def _on_snapshots(self, region, tag, snapshots):
        data = self.regions[region]
        for snapshot in snapshots:
            data["snapshots"][snapshot["SnapshotId"]] = snapshot
            key_id = snapshot.get("KmsKeyId")
            if key_id and key_id not in data["keys"]:
                data["keys"][key_id] = [None, None]
                self._submit(("describe_key", region, key_id), key_metadata_if_readable, self.kms[region], key_id)
                self._submit(("key_policy", region, key_id), key_policy_if_readable, self.kms[region], key_id)

    def _on_describe_key(self, region, tag, metadata):
        self.regions[region]["keys"][tag[2]][0] = metadata

    def _on_key_policy(self, region, tag, policy):
        self.regions[region]["keys"][tag[2]][1] = policy


# ---------------------------------------------------------------------------------------------
# Names of the principals (for people reading a report)
# ---------------------------------------------------------------------------------------------

NAME_WORKERS = 8


def _reason(error):
    code = _api_error_code(error)
    exc = getattr(error, "exception", None)
    message = ((getattr(exc, "response", None) or {}).get("Error") or {}).get("Message") or to_native(error)
    return "%s: %s" % (code, message) if code else message


def _api_error_code(error):
    exc = getattr(error, "exception", None)
    return ((getattr(exc, "response", None) or {}).get("Error") or {}).get("Code")


def read_principal_names(images, client, max_workers=NAME_WORKERS):
    """The names of the accounts and OUs the AMIs in ``images`` (report entries) are shared with, read through AWS
    Organizations (DescribeAccount, DescribeOrganizationalUnit: the management account or a delegated administrator
    may). Returns ``(names, unread)``: ``names`` {account id or OU ARN: name}, ``unread`` [{principal, reason}] for each
    one whose name could not be read (denied, not in the caller's organization, or failed past retries). A missing
    name is never an error: the principal is shown by its id."""
    accounts, ous = set(), set()
    for image in images:
        lp = image.get("launch_permissions") or {}
        accounts.update(lp.get("account_ids") or [])
        ous.update(lp.get("organizational_unit_arns") or [])
    work = [("account", a) for a in sorted(accounts)] + [("ou", o) for o in sorted(ous)]
    if not work or client is None:
        return {}, [{"principal": v, "reason": "no AWS Organizations client"} for _k, v in work]

    def one(item):
        kind, value = item
        try:
            if kind == "account":
                return value, _api.describe_account(client, value).get("Name"), None
            return value, _api.describe_organizational_unit(client, value.rsplit("/", 1)[-1]).get("Name"), None
        except AnsibleAWSError as e:
            return value, None, _reason(e)

    names, unread = {}, []
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(work)))) as pool:
        for value, name, reason in pool.map(one, work):
            if name:
                names[value] = name
            else:
                unread.append({"principal": value, "reason": reason or "AWS Organizations gave no name"})
    return names, unread
