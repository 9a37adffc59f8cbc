# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The decisions of orgshare.aws.ami_retire, without AWS calls: which versions of a family are old, what each old
version's retirement is (unshare, disable, deregister, delete snapshots), and the key revocations that follow.

AWS facts it relies on (EC2 User Guide):
- "Identify your resources referencing specified AMIs" (ec2-ami-references.html): DescribeImageReferences lists the
  caller's instances, launch templates, SSM parameters and Image Builder recipes that use an AMI.
- "Protect an Amazon EC2 AMI from deregistration" (ami-deregistration-protection.html): a protected AMI cannot be
  deregistered; protection enabled with a cooldown keeps the AMI protected for 24 hours after it is disabled.
- "Disable an Amazon EC2 AMI" (disable-an-ami.html): a disabled AMI cannot be launched, loses its launch
  permissions, and is left out of DescribeImages unless IncludeDisabled is asked for; it can still be deregistered.
- DeregisterImage (API reference): the snapshots stay; "If a snapshot is associated with multiple AMIs, it is not
  deleted" (botocore's model, DeleteAssociatedSnapshots) - this module deletes them itself and keeps one that
  another of the caller's AMIs still uses.
"""


from ansible_collections.orgshare.aws.plugins.module_utils import _deprecation
from ansible_collections.orgshare.aws.plugins.module_utils import _ec2
from ansible_collections.orgshare.aws.plugins.module_utils import _launch_permissions as lp

# The states of an AMI that is a version still in service (counted by keep_newest)
IN_SERVICE = ("available", "pending")
UNSHARE, DISABLE, UNPROTECT, DEREGISTER, DELETE_SNAPSHOTS = ("unshare", "disable", "disable_protection", "deregister", "delete_snapshots")
ACTIONS = (UNSHARE, DISABLE, UNPROTECT, DEREGISTER, DELETE_SNAPSHOTS)


def choose_old_versions(images, keep_newest, exclude_image_ids):
    """[(image, reason)] newest first; reason ``excluded``, ``kept_newest``, ``skipped`` or None (an old version).

    The ``keep_newest`` newest AMIs in service (available or pending, ``exclude_image_ids`` left aside) are kept.
    A disabled AMI older than those is an old version already part retired (a re-run may still deregister it);
    one newer than the last kept version, and AMIs in another state (failed, error), are left alone (skipped)."""
    exclude = set(exclude_image_ids or ())
    kept = 0
    out = []
    for image in _deprecation.newest_first(images):
        state = image.get("State")
        if image.get("ImageId") in exclude:
            out.append((image, "excluded"))
        elif state in IN_SERVICE and kept < keep_newest:
            kept += 1
            out.append((image, "kept_newest"))
        elif state in IN_SERVICE or (state == "disabled" and kept >= keep_newest):
            out.append((image, None))
        else:
            out.append((image, "skipped"))
    return out


def protection_active(image, now):
    """Whether deregistration protection stops DeregisterImage now: ``enabled`` (with or without a cooldown), or
    ``disabled-until <time>`` (the cooldown after it was disabled) with that time still ahead.

    Unverified: the exact text of DeregistrationProtection; the API reference documents the field only as "whether
    deregistration protection is enabled for the AMI". Any value other than ``disabled`` or a past ``disabled-until``
    counts as protected (the safe side)."""
    value = (image.get("DeregistrationProtection") or "disabled").strip()
    if value == "disabled":
        return False
    if value.startswith("disabled-until"):
        until = _deprecation.aws_time(value[len("disabled-until"):].strip())
        return until is None or until > now
    return True


def plan_version(image, permissions, references, settings, now):
    """(reason, actions) for one old version: reason None (retired) or why it is left as it is.

    ``permissions``: its launch permissions (our shape; empty for a disabled AMI); ``references``: the
    DescribeImageReferences entries for it; ``settings``: disable, deregister, delete_snapshots, force."""
    protected = protection_active(image, now)
    if references and not settings["force"]:
        return "referenced", []
    if protected and not settings["force"]:
        return "protected", []
    actions = []
    if not lp.is_empty(permissions):
        actions.append(UNSHARE)
    # Deregistering makes the AMI unlaunchable anyway: it is not disabled first
    if settings["disable"] and not settings["deregister"] and image.get("State") != "disabled":
        actions.append(DISABLE)
    if settings["deregister"]:
        if protected:
            actions.append(UNPROTECT)
        actions.append(DEREGISTER)
        if settings["delete_snapshots"] and _ec2.image_snapshot_ids(image):
            actions.append(DELETE_SNAPSHOTS)
    return None, actions


def snapshots_to_delete(image, other_images):
    """(delete, keep): the AMI's snapshots split into those no other AMI of the caller in the region uses, and the rest."""
    used = set()
    for other in other_images:
        if other.get("ImageId") != image.get("ImageId"):
            used.update(_ec2.image_snapshot_ids(other))
    mine = _ec2.image_snapshot_ids(image)
    return [s for s in mine if s not in used], [s for s in mine if s in used]


def key_revocations(entries):
    """The kms_org_grant calls (state=absent) that follow a retirement: each key of a retired AMI loses the principals
    its retired AMIs were shared with (kms_org_grant keeps what another AMI still needs). Keys that lose the same
    principals share one call; a key whose AMIs were shared in two organizations gets one call per organization.

    Each entry in ``entries`` has ``region``, ``kms_key_arns`` and ``unshared`` (launch permissions in our shape)."""
    per_key = {}
    for entry in entries:
        removed = entry.get("unshared") or lp.empty()
        for arn in entry.get("kms_key_arns") or []:
            key = per_key.setdefault((entry["region"], arn), {"orgs": {}, "accounts": set()})
            for org_arn in removed.get("organization_arns") or []:
                key["orgs"].setdefault(org_arn.rsplit("/", 1)[-1], {"whole": False, "ous": set()})["whole"] = True
            for ou_arn in removed.get("organizational_unit_arns") or []:
                org_id = ou_arn.split(":ou/", 1)[1].split("/", 1)[0]
                key["orgs"].setdefault(org_id, {"whole": False, "ous": set()})["ous"].add(ou_arn)
            key["accounts"].update(removed.get("account_ids") or [])
    calls = {}
    for (region, arn), key in per_key.items():
        shapes = []
        for org_id in sorted(key["orgs"]):
            wanted = key["orgs"][org_id]
            shapes.append((org_id, () if wanted["whole"] else tuple(sorted(wanted["ous"]))))
        accounts = tuple(sorted(key["accounts"]))
        if not shapes and accounts:
            shapes.append((None, ()))
        for index, (org_id, ous) in enumerate(shapes):
            shape = (org_id or "", ous, accounts if index == 0 else ())
            calls.setdefault(shape, []).append(dict(key_id=arn, region=region))
    return [
        dict(keys=sorted(keys, key=lambda k: (k["region"], k["key_id"])), organization=org_id or None,
             organizational_units=list(ous), account_ids=list(accounts))
        for (org_id, ous, accounts), keys in sorted(calls.items())
    ]
