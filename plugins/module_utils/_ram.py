# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to this collection: not a public API; may change in any release.

"""Sharing SSM parameters through AWS RAM resource shares: names, ARNs and the plan of one share (the calls are in
``_api``).

What AWS documents (AWS Systems Manager User Guide, "Working with shared parameters",
https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-shared-parameters.html; botocore's RAM and
SSM models):

- a parameter can be shared only by its owner and only in the advanced parameter tier;
- the consumers of a resource share can be accounts, an OU of the owner's organization, or its whole organization
  (CreateResourceShare ``principals``: an account id, an organization ARN, an OU ARN, ...);
- "AWS RAM is a Regional service": a share holds the resources of its own Region (one share per Region here);
- consumers read a shared parameter by its full ARN ("For parameters shared with you from another account, you must use
  the full ARN", GetParameter ``Name``), also in launch templates (``resolve:ssm:<parameter ARN>``, EC2 Auto Scaling User
  Guide, "Use AWS Systems Manager parameters instead of AMI IDs in launch templates");
- ``allowExternalPrincipals`` false: the share reaches only accounts of the owner's organization.

A share is found again by its name (GetResourceShares ``name``, the caller's ACTIVE shares of the region); two ACTIVE
shares of that name are refused rather than guessed between. Principals and resources are only added
(AssociateResourceShare), never removed: those someone else added stay.
"""

import hashlib
import re

from ansible_collections.orgshare.aws.plugins.module_utils import _api
from ansible_collections.orgshare.aws.plugins.module_utils import _ssm
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareInputError

SHARE_NAME_PREFIX = "orgshare-ssm-"
# The collection's own rule: botocore's RAM model gives the name no pattern or length; these characters and this
# length are the ones the collection writes.
SHARE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
SHARE_TAG = {"key": "orgshare.aws:module", "value": "ami_ssm_parameter"}
PRINCIPAL_KINDS = ("organization_arns", "organizational_unit_arns", "account_ids")


class ShareError(OrgShareInputError):
    """A share that cannot be found again or planned as asked (refused before any write of that share)."""


def default_share_name(name):
    """The resource share of parameter ``name`` when none is named: ``orgshare-ssm-<levels joined by ->-<8 hex digits>``
    (the digits are of the parameter's name, so that ``/a/b`` and ``/a-b`` get shares of their own)."""
    key = _ssm.same_parameter_key(name, None)[0]
    readable = re.sub(r"[^A-Za-z0-9_.\-]", "-", key.strip("/"))[:96]
    return "%s%s-%s" % (SHARE_NAME_PREFIX, readable, hashlib.sha256(key.encode("utf-8")).hexdigest()[:8])


def share_name_problem(value):
    if isinstance(value, str) and SHARE_NAME_RE.match(value):
        return None
    return ("%r is not a resource share name this module uses: 1 to 128 characters, the letters a-z A-Z, the digits 0-9 "
            "and _ . - (not first), for example golden-ami-parameters" % (value,))


def parameter_arn(name, region, account_id):
    """The ARN of parameter ``name`` (``arn:aws:ssm:us-east-1:111122223333:parameter/golden/ami`` for ``/golden/ami``):
    what consumers in other accounts must use."""
    return _ssm.arn_prefix(region, account_id) + (name[1:] if name.startswith("/") else name)


def principal_list(principals):
    """The principals as RAM names them: organization ARNs, OU ARNs, account ids, sorted within each kind."""
    out = []
    for kind in PRINCIPAL_KINDS:
        out.extend(sorted(principals.get(kind) or []))
    return out


def plan_share(ram, share_name, principals, resource_arns):
    """Read the share of that name in the client's region and decide: the plan (no write).

    ``principals``: RAM principal names; ``resource_arns``: parameter ARNs. Returns {name, arn (None for a share to be
    created), create (the CreateResourceShare request or None), add_principals, add_resources, before_principals,
    principals (after), before_resources, resources (after), allow_external_principals, changed}."""
    found = _api.find_resource_shares(ram, share_name)
    if len(found) > 1:
        raise ShareError(
            "there are %d ACTIVE resource shares named %s (%s); name the one to use with share_with.resource_share_name, "
            "or delete the others" % (len(found), share_name, ", ".join(sorted(s["resourceShareArn"] for s in found)))
        )
    wanted_principals, wanted_resources = sorted(set(principals)), sorted(set(resource_arns))
    if not found:
        # false when the share names only organizations and OUs (it can then reach no account outside the organization),
        # true when it names accounts (which may be outside it)
        external = bool([p for p in wanted_principals if re.match(r"^[0-9]{12}$", p)])
        request = dict(name=share_name, principals=wanted_principals, resourceArns=wanted_resources,
                       allowExternalPrincipals=external, tags=[dict(SHARE_TAG)])
        return dict(name=share_name, arn=None, create=request, add_principals=wanted_principals, add_resources=wanted_resources,
                    before_principals=[], principals=wanted_principals, before_resources=[], resources=wanted_resources,
                    allow_external_principals=external, changed=True)
    share = found[0]
    arn = share["resourceShareArn"]
    before_principals = _api.resource_share_associations(ram, arn, "PRINCIPAL")
    before_resources = _api.resource_share_associations(ram, arn, "RESOURCE")
    add_principals = [p for p in wanted_principals if p not in before_principals]
    add_resources = [r for r in wanted_resources if r not in before_resources]
    return dict(name=share_name, arn=arn, create=None, add_principals=add_principals, add_resources=add_resources,
                before_principals=before_principals, principals=sorted(set(before_principals) | set(add_principals)),
                before_resources=before_resources, resources=sorted(set(before_resources) | set(add_resources)),
                allow_external_principals=bool(share.get("allowExternalPrincipals")),
                changed=bool(add_principals or add_resources))


def apply_share(ram, plan):
    """The one write of a share plan: CreateResourceShare, or AssociateResourceShare of what is missing (or nothing)."""
    if plan["create"] is not None:
        plan["arn"] = _api.create_resource_share(ram, plan["create"]).get("resourceShareArn")
    elif plan["changed"]:
        _api.associate_resource_share(ram, plan["arn"], plan["add_principals"], plan["add_resources"])
    return plan


def external_accounts_warning(plan):
    """A warning when accounts are added to an existing share that does not allow external principals."""
    accounts = [p for p in plan["add_principals"] if re.match(r"^[0-9]{12}$", p)]
    if accounts and plan["create"] is None and not plan["allow_external_principals"]:
        return ("resource share %s does not allow external principals (allowExternalPrincipals false, left as it is): "
                "AWS refuses account(s) %s if they are outside the organization" % (plan["name"], ", ".join(accounts)))
    return None
