#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ami_retire
version_added: 0.1.0
short_description: Retire the old versions of a family of AMIs in many regions - unshare, disable, and only when asked deregister
description:
  - >-
    For a family of the caller's AMIs (O(family): a name prefix, tags, or both) in each of O(regions), keeps the
    O(keep_newest) newest versions as they are and retires every older one - it removes all its launch permissions
    (organizations, OUs, accounts, public: C(ec2:ModifyImageAttribute)), disables it (C(ec2:DisableImage), with
    O(disable=true)) and, only with O(deregister=true), deregisters it (C(ec2:DeregisterImage)) and deletes its
    snapshots (C(ec2:DeleteSnapshot), with O(delete_snapshots=true)).
  - >-
    Never an AMI still in use: an old version that one of the caller's resources references (C(ec2:DescribeImageReferences)
    with every resource type - instances, launch templates, SSM parameters, Image Builder recipes) is left as it is
    (RV(images[].reason=referenced)), and so is one under deregistration protection (RV(images[].reason=protected)),
    unless O(force=true). A read that cannot be made (references, launch permissions) fails that region: it never reads
    as "not referenced".
  - >-
    A snapshot is deleted only when no other AMI of the caller in the region uses it (RV(images[].snapshots_kept) lists
    the others); snapshots of other accounts are never deleted.
  - >-
    The key grants are not changed here: RV(key_revocations) lists, per key of the retired AMIs, the principals they
    were shared with, ready for M(orgshare.aws.kms_org_grant) with O(orgshare.aws.kms_org_grant#module:state=absent) and
    O(orgshare.aws.kms_org_grant#module:unshared_image_ids=RV(retired_image_ids)), which keeps every grant a kept
    version (or any other AMI still shared) needs. The playbook C(orgshare.aws.retire) runs both.
  - >-
    Idempotent: a version already retired as asked is not written again (a disabled AMI is not disabled again, an AMI
    without launch permissions is not unshared), so a converged run makes no write call. Every option is validated
    before any AWS call. Regions are read and retired concurrently; one region that fails does not stop the others,
    and the module then fails naming it.
author:
  - orgshare.aws maintainers (@orgshare)
options:
  family:
    description:
      - >-
        The family, as in M(orgshare.aws.ami_deprecation): the caller's own AMIs in each region whose name starts with
        O(family.name_prefix) and that have every tag of O(family.tags) (at least one of the two). Disabled AMIs are
        looked for too (C(IncludeDisabled)), so that a re-run finds the versions it disabled.
      - >-
        In each region the AMIs are ordered newest first by C(CreationDate); the O(exclude_image_ids) are left alone
        and not counted; the O(keep_newest) newest of the rest that are C(available) or C(pending) are kept; every
        older one is an old version (a disabled one too). A disabled AMI newer than the last kept version, and AMIs in
        another state (C(failed), C(error)), are left alone (RV(images[].reason=skipped)).
    type: dict
    required: true
    suboptions:
      name_prefix:
        description:
          - The beginning of the family's AMI names (sent as the filter C(name=PREFIX*), so it cannot contain C(*) or C(?)).
        type: str
      tags:
        description:
          - >-
            Tags every AMI of the family has, as C({key: value}) (exact values).
        type: dict
        aliases: [tag]
  regions:
    description:
      - The regions in which to retire, each on its own (O(keep_newest) counts per region).
      - Default, the module's region (O(region)).
    type: list
    elements: str
  keep_newest:
    description:
      - How many of the newest versions stay as they are in each region. V(0) retires every version but the excluded ones.
    type: int
    required: true
  exclude_image_ids:
    description:
      - AMIs that are never retired and not counted by O(keep_newest).
    type: list
    elements: str
  disable:
    description:
      - Disable each old version (C(ec2:DisableImage)) after removing its launch permissions. A disabled AMI cannot be
        launched by anyone and is hidden from C(DescribeImages); C(ec2:EnableImage) undoes it.
      - Not done when the version is deregistered (O(deregister=true)), which makes it unusable anyway.
    type: bool
    default: true
  deregister:
    description:
      - Deregister each old version (C(ec2:DeregisterImage)), for good. Only when asked.
    type: bool
    default: false
  delete_snapshots:
    description:
      - With O(deregister=true), delete each deregistered version's snapshots that no other AMI of the caller in the
        region uses.
    type: bool
    default: true
  force:
    description:
      - Retire also the old versions that the caller's resources reference or that are under deregistration protection.
        A protected one then has its protection disabled first when it is deregistered; one protected with a cooldown
        still cannot be deregistered for 24 hours after that (its entry fails with AWS's answer).
      - Launches from the referencing launch templates, instances' replacements and parameters then fail.
    type: bool
    default: false
notes:
  - >-
    Check mode is supported: nothing is written, and RV(images) lists per region and version exactly what a run would
    do (RV(images[].actions), RV(images[].reason), the snapshots it would delete). Diff mode shows each changed AMI's
    state and launch permissions before and after.
  - >-
    IAM permissions: C(ec2:DescribeImages), C(ec2:DescribeImageReferences) (unless O(force=true)),
    C(ec2:DescribeImageAttribute), C(ec2:DescribeSnapshots), C(kms:DescribeKey) (for RV(key_revocations)), and for the
    versions that change C(ec2:ModifyImageAttribute), C(ec2:DisableImage), C(ec2:DeregisterImage),
    C(ec2:DisableImageDeregistrationProtection) (with O(force=true)) and C(ec2:DeleteSnapshot).
  - >-
    DescribeImageReferences sees only the caller's own resources: a consumer account's launch template that names a
    shared old version is not seen, and unsharing breaks it. Deprecate old versions first
    (M(orgshare.aws.ami_deprecation), or the role's C(ami_distribute_deprecate_previous_at)) so that consumers move on,
    and retire them later.
seealso:
  - name: Identify your resources referencing specified AMIs
    description: What DescribeImageReferences finds.
    link: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-ami-references.html
  - name: Disable an Amazon EC2 AMI
    description: What a disabled AMI is, and that it can still be deregistered.
    link: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/disable-an-ami.html
  - name: Protect an Amazon EC2 AMI from deregistration
    description: Deregistration protection and its cooldown.
    link: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ami-deregistration-protection.html
  - module: orgshare.aws.kms_org_grant
    description: Revokes the key grants RV(key_revocations) lists.
  - module: orgshare.aws.ami_deprecation
    description: Deprecates old versions, the step before retiring them.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: See what a retirement would do (check mode lists every version and action)
  orgshare.aws.ami_retire:
    family:
      name_prefix: golden-base-
    regions: [us-east-1, eu-west-1]
    keep_newest: 3
  check_mode: true
  register: plan

- name: Keep the 3 newest versions, unshare and disable the older ones
  orgshare.aws.ami_retire:
    family:
      name_prefix: golden-base-
    regions: [us-east-1, eu-west-1]
    keep_newest: 3
  register: retired

- name: Revoke the key grants nothing else needs
  orgshare.aws.kms_org_grant:
    keys: "{{ item['keys'] }}"
    organization: "{{ item.organization | default(omit, true) }}"
    organizational_units: "{{ item.organizational_units if item.organization else omit }}"
    account_ids: "{{ item.account_ids if item.account_ids | length > 0 else omit }}"
    unshared_image_ids: "{{ retired.retired_image_ids }}"
    state: absent
  loop: "{{ retired.key_revocations }}"

- name: Delete for good the versions older than the 5 newest (deregister, delete snapshots)
  orgshare.aws.ami_retire:
    family:
      tags:
        image: golden
    keep_newest: 5
    deregister: true
"""

RETURN = r"""
changed:
  description: Whether any version changed; predicted in check mode.
  returned: always
  type: bool
  sample: true
images:
  description:
    - One entry per AMI of the family found, region by region in the order of O(regions), newest first.
    - Also returned when the module fails; a region in which the family could not be read has an entry with
      RV(images[].image_id) null, RV(images[].failed) and RV(images[].msg).
  returned: always
  type: list
  elements: dict
  contains:
    image_id:
      description: The AMI's id.
      returned: always
      type: str
      sample: ami-0123456789abcdef0
    region:
      description: The AMI's region.
      returned: always
      type: str
      sample: eu-west-1
    name:
      description: The AMI's name.
      returned: success
      type: str
      sample: golden-base-2026-06-01
    creation_date:
      description: The AMI's C(CreationDate).
      returned: success
      type: str
      sample: "2026-06-01T10:15:00.000Z"
    state:
      description: The AMI's state before the run (C(available), C(disabled), ...).
      returned: success
      type: str
      sample: available
    reason:
      description:
        - Null for an old version that is retired (or already was); else why the AMI is left as it is - V(kept_newest),
          V(excluded), V(skipped) (in another state, or disabled and newer than the kept versions), V(referenced)
          (RV(images[].references)), V(protected) (deregistration protection).
      returned: success
      type: str
      sample: kept_newest
    actions:
      description:
        - What was done, or would be done in check mode, in this order - V(unshare), V(disable), V(disable_protection),
          V(deregister), V(delete_snapshots). Empty when nothing changes.
      returned: success
      type: list
      elements: str
      sample: [unshare, disable]
    changed:
      description: Whether this AMI changed (predicted in check mode).
      returned: success
      type: bool
    references:
      description: The caller's resources that use this old version (C(resource_type), C(arn)); empty when none, or not read (O(force=true)).
      returned: success
      type: list
      elements: dict
      sample: [{"resource_type": "ec2:LaunchTemplate", "arn": "arn:aws:ec2:eu-west-1:123456789012:launch-template/lt-0123456789abcdef0"}]
    unshared:
      description: The launch permissions removed (or to be removed), as RV(orgshare.aws.ami_org_share#module:launch_permissions).
      returned: success
      type: dict
    kms_key_arns:
      description: The KMS keys of the AMI's encrypted snapshots.
      returned: success
      type: list
      elements: str
    snapshots_deleted:
      description: The snapshots deleted (or to be deleted in check mode).
      returned: success
      type: list
      elements: str
    snapshots_kept:
      description: The AMI's snapshots left because another AMI of the caller uses them.
      returned: success
      type: list
      elements: str
    failed:
      description: True when this AMI (or region) could not be read or retired.
      returned: failure
      type: bool
    msg:
      description: Why this AMI (or region) failed.
      returned: failure
      type: str
retired_image_ids:
  description:
    - The old versions retired by this run (or already retired), in every region.
    - What to pass to kms_org_grant's O(orgshare.aws.kms_org_grant#module:unshared_image_ids).
  returned: always
  type: list
  elements: str
  sample: [ami-0123456789abcdef0]
key_revocations:
  description:
    - The M(orgshare.aws.kms_org_grant) calls (with O(orgshare.aws.kms_org_grant#module:state=absent)) that take the
      principals of the unshared versions off their keys, each with C(keys) (C({key_id, region}) list), C(organization)
      (an organization id, or null for accounts only), C(organizational_units) (OU ARNs; empty for the whole
      organization) and C(account_ids). Customer managed keys only.
  returned: always
  type: list
  elements: dict
diff:
  description: In diff mode, a list of the changed AMIs' C(state) and C(launch_permissions) before and after, each headed with its id and region.
  returned: in diff mode
  type: list
"""


from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.orgshare.aws.plugins.module_utils import _api
from ansible_collections.orgshare.aws.plugins.module_utils import _deprecation
from ansible_collections.orgshare.aws.plugins.module_utils import _ec2
from ansible_collections.orgshare.aws.plugins.module_utils import _launch_permissions as lp
from ansible_collections.orgshare.aws.plugins.module_utils import _retire
from ansible_collections.orgshare.aws.plugins.module_utils import _targets
from ansible_collections.orgshare.aws.plugins.module_utils._clients import client_factory
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareInputError

# Image ids per DescribeImageReferences call: at most 10 (botocore's EC2 model, DescribeImageReferencesRequest ImageIds).
REFERENCE_BATCH = 10

# The module reads the time through this name (tests put a clock of their own here).
NOW = _deprecation.utc_now


class RetireError(OrgShareInputError):
    """A refused input, or the reason a version cannot be retired."""


def parse(params, default_region):
    spec = _deprecation.parse_family_search(params, default_region, params["keep_newest"], counted="versions")
    settings = dict(disable=params["disable"], deregister=params["deregister"],
                    delete_snapshots=params["delete_snapshots"], force=params["force"])
    spec.update(settings=settings)
    return spec


# ---- one region -----------------------------------------------------------------------------------


def read_references(ec2, image_ids):
    """{image id: [{resource_type, arn}]} for ``image_ids`` (DescribeImageReferences, every resource type)."""
    if not hasattr(ec2, "describe_image_references"):
        raise RetireError(
            "this botocore does not know DescribeImageReferences (a newer botocore does): the references to the old versions "
            "cannot be checked; upgrade botocore, or set force=true to retire without checking"
        )
    out = dict((i, []) for i in image_ids)
    for start in range(0, len(image_ids), REFERENCE_BATCH):
        for ref in _api.describe_image_references(ec2, image_ids[start:start + REFERENCE_BATCH]):
            out.setdefault(ref.get("ImageId"), []).append(dict(resource_type=ref.get("ResourceType"), arn=ref.get("Arn")))
    return out


def snapshot_keys(ec2, images):
    """{snapshot id: KMS key ARN} of the images' encrypted snapshots the caller can see."""
    ids = sorted(set(s for image in images for s in _ec2.image_snapshot_ids(image, encrypted_only=True)))
    if not ids:
        return {}
    return dict((s["SnapshotId"], s.get("KmsKeyId")) for s in _api.describe_snapshots(ec2, ids) if s.get("Encrypted"))


def plan_region(ec2, kms, region, spec, now):
    """The region's family, each member as an entry; old versions with their planned actions (nothing written)."""
    filters = _deprecation.family_filters(spec["name_prefix"], spec["tags"])
    found = _api.describe_images(ec2, "the AMIs of the family", Owners=["self"], Filters=filters, IncludeDisabled=True)
    members = [image for image in found if _deprecation.in_family(image, spec["name_prefix"], spec["tags"])]
    chosen = _retire.choose_old_versions(members, spec["keep_newest"], spec["exclude"])
    old = [image for image, reason in chosen if reason is None]
    settings = spec["settings"]
    references = read_references(ec2, [i["ImageId"] for i in old]) if old and not settings["force"] else {}
    keys_of = snapshot_keys(ec2, old)
    customer = customer_keys(kms, sorted(set(k for k in keys_of.values() if k)))
    everyone = None
    entries = []
    for image, reason in chosen:
        entry = dict(image_id=image["ImageId"], region=region, name=image.get("Name"), creation_date=image.get("CreationDate"),
                     state=image.get("State"), reason=reason, actions=[], changed=False, references=[], unshared=lp.empty(),
                     kms_key_arns=[], snapshots_deleted=[], snapshots_kept=[], _image=image)
        if reason is None:
            if image.get("State") == "disabled":
                permissions = lp.empty()  # a disabled AMI has none (and DescribeImageAttribute may not answer for it)
            else:
                raw = _api.describe_launch_permissions(ec2, image["ImageId"])
                if raw is None:
                    raise RetireError("AMI %s disappeared while it was read" % image["ImageId"])
                permissions = lp.from_api(raw)
            entry["references"] = references.get(image["ImageId"], [])
            entry["kms_key_arns"] = sorted(set(
                keys_of[s] for s in _ec2.image_snapshot_ids(image, encrypted_only=True) if keys_of.get(s) in customer
            ))
            entry["reason"], entry["actions"] = _retire.plan_version(image, permissions, entry["references"], settings, now)
            if _retire.UNSHARE in entry["actions"]:
                entry["unshared"] = permissions
            if _retire.DELETE_SNAPSHOTS in entry["actions"]:
                if everyone is None:
                    everyone = _api.describe_images(ec2, "the caller's images", Owners=["self"], IncludeDisabled=True)
                entry["snapshots_deleted"], entry["snapshots_kept"] = _retire.snapshots_to_delete(image, everyone)
                if not entry["snapshots_deleted"]:
                    entry["actions"].remove(_retire.DELETE_SNAPSHOTS)
            entry["changed"] = bool(entry["actions"])
        entries.append(entry)
    return entries


def customer_keys(kms, key_arns):
    """The customer managed keys among ``key_arns`` (DescribeKey): an AWS managed key's policy cannot be changed."""
    out = set()
    for arn in key_arns:
        metadata = _api.describe_key(kms, arn)
        if metadata and metadata.get("KeyManager") == "CUSTOMER":
            out.add(arn)
    return out


def apply_version(ec2, entry):
    """The planned actions of one old version, in order; the entry as it ends."""
    image_id = entry["image_id"]
    for action in entry["actions"]:
        if action == _retire.UNSHARE:
            _api.modify_launch_permissions(ec2, image_id, remove=lp.to_api(entry["unshared"]))
        elif action == _retire.DISABLE:
            _api.disable_image(ec2, image_id)
        elif action == _retire.UNPROTECT:
            _api.disable_image_deregistration_protection(ec2, image_id)
        elif action == _retire.DEREGISTER:
            _api.deregister_image(ec2, image_id)
        elif action == _retire.DELETE_SNAPSHOTS:
            for snapshot_id in entry["snapshots_deleted"]:
                _api.delete_snapshot(ec2, snapshot_id)
    return entry


def after_state(entry):
    if _retire.DEREGISTER in entry["actions"]:
        return "deregistered"
    if _retire.DISABLE in entry["actions"]:
        return "disabled"
    return entry["state"]


def public_entry(entry, diff):
    out = dict((k, v) for k, v in entry.items() if not k.startswith("_"))
    if diff and entry.get("changed"):
        before_perms = entry["unshared"] if _retire.UNSHARE in entry["actions"] else None
        out["diff"] = dict(
            before=dict(state=entry["state"], launch_permissions=before_perms),
            after=dict(state=after_state(entry), launch_permissions=lp.empty() if before_perms is not None else None),
        )
    return out


def run(module, spec):
    clients = client_factory(module)
    ec2 = clients.clients("ec2", spec["regions"])
    kms = clients.clients("kms", spec["regions"])
    now = NOW()
    planned = _targets.run_targets(
        lambda t: plan_region(ec2[t["region"]], kms[t["region"]], t["region"], spec, now),
        [dict(image_id=None, region=r, label="the AMIs of the family") for r in spec["regions"]],
    )
    changing = [e for p in planned if p.error is None for e in p.result if e["changed"]]
    if not module.check_mode:
        applied = _targets.run_targets(lambda e: apply_version(ec2[e["region"]], e), changing)
        failed_ids = dict((o.target["image_id"], o.error) for o in applied if o.error is not None)
    else:
        failed_ids = {}
    outcomes = []
    for plan in planned:
        if plan.error is not None:
            outcomes.append(plan)
            continue
        for entry in plan.result:
            error = failed_ids.get(entry["image_id"])
            target = dict(label=entry["image_id"], image_id=entry["image_id"], region=entry["region"])
            outcomes.append(_targets.Outcome(target, None if error else public_entry(entry, module._diff), error))
    entries, changed, msg = _targets.summarise(
        outcomes, "label", lambda t, m: dict(image_id=t.get("image_id"), region=t["region"], failed=True, msg=m)
    )
    retired = [e for e in entries if not e.get("failed") and e.get("reason") is None]
    return entries, changed, msg, retired


def main():
    argument_spec = dict(
        family=dict(type="dict", required=True, options=dict(name_prefix=dict(type="str"), tags=dict(type="dict", aliases=["tag"]))),
        regions=dict(type="list", elements="str"),
        keep_newest=dict(type="int", required=True),
        exclude_image_ids=dict(type="list", elements="str"),
        disable=dict(type="bool", default=True),
        deregister=dict(type="bool", default=False),
        delete_snapshots=dict(type="bool", default=True),
        force=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        spec = parse(module.params, module.region)
        entries, changed, msg, retired = run(module, spec)
    except OrgShareInputError as e:
        module.fail_json(msg=str(e))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    result = dict(
        changed=changed,
        images=entries,
        retired_image_ids=[e["image_id"] for e in retired],
        key_revocations=_retire.key_revocations(retired),
    )
    if module._diff:
        result["diff"] = _targets.combined_diff(entries, "image_id")
    if msg:
        module.fail_json(msg=msg, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
