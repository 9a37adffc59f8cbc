"""AWS RAM resource shares of SSM parameters, and the shared parameters as their consumers read them.

moto's RAM (5.2) knows CreateResourceShare, GetResourceShares (no filter but ``resourceOwner``), UpdateResourceShare,
DeleteResourceShare, GetResourceShareAssociations and EnableSharingWithAwsOrganization only: no
AssociateResourceShare / DisassociateResourceShare, no tags, no SSM parameter as a resource ("You cannot share the
selected resource type"), OUs only right under the root, ``arn:aws`` principals only, and a share's resources are
never checked. The emulator replaces these calls (AWS sources below; botocore's RAM model is ``ram/2018-01-04``):

- CreateResourceShare (``name``, ``resourceArns``, ``principals``, ``tags``, ``allowExternalPrincipals``, default
  true), AssociateResourceShare and DisassociateResourceShare (``resourceShareArn``, ``resourceArns``,
  ``principals``), GetResourceShares (``resourceOwner`` SELF, ``resourceShareArns``, ``resourceShareStatus``,
  ``name``, ``tagFilters`` (a key and any of its values; no values: any value), ``maxResults`` / ``nextToken``),
  GetResourceShareAssociations (``associationType`` PRINCIPAL / RESOURCE, ``resourceShareArns``, ``resourceArn``,
  ``principal``, ``associationStatus``, paging): the parameters as botocore's RAM model documents them.
- Principals (CreateResourceShare ``principals``): "An Amazon Web Services account ID", "An Amazon Resource Name (ARN)
  of an organization in Organizations", "An ARN of an organizational unit (OU) in Organizations", IAM roles and users,
  service principals. An organization or OU must be the owner's own ("Consumers can include ... An organizational
  unit inside its organization ... Its entire organization", AWS Systems Manager User Guide, "Working with shared
  parameters", https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-shared-parameters.html),
  at any depth (moto: right under the root only); another one is ``UnknownResourceException`` (moto's code and message).
- "If you don't enable sharing within AWS Organizations, you can't share resources with your organization or with the
  organizational units (OU) in your organization" (AWS RAM User Guide, "Getting started with AWS RAM" and "Sharing your
  AWS resources", https://docs.aws.amazon.com/ram/latest/userguide/getting-started-sharing.html; "Only the management
  account can enable sharing with AWS Organizations"): an organization or OU principal before the organization's
  management account called EnableSharingWithAwsOrganization is refused, ``OperationNotPermittedException``
  (**unverified**: the code and message). EnableSharingWithAwsOrganization from a member account is
  ``OperationNotPermittedException`` (its documented error; moto's message).
- ``allowExternalPrincipals`` false: "the resource share can be shared with only accounts in the same organization as
  the account that owns the resource share" (ResourceShare ``allowExternalPrincipals``): an account outside the owner's
  organization is refused, ``OperationNotPermittedException`` (**unverified**: the code, and whether AWS refuses the
  call or lets the association fail). ``external`` of a principal association: whether the principal is outside the
  owner's organization ("Indicates whether the principal belongs to the same organization ... as the Amazon Web
  Services account that owns the resource share").
- SSM parameter resources (``arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME``): "To share a parameter, you must own it
  in your AWS account. You can't share a parameter that has been shared with you" and "To share a parameter, it must be
  in the advanced parameter tier" (the SSM User Guide page above, "Prerequisites for sharing parameters"); "AWS RAM is
  a Regional service" (the RAM User Guide page above): the parameter must be the owner's, in the share's region, exist
  and be Advanced. Refused otherwise: another account's or a missing parameter ``UnknownResourceException``, another
  region's ``InvalidParameterException``, a Standard one ``InvalidParameterException`` (**unverified**: every code
  and message). The other resource types keep moto's check.
- Associations are ``ASSOCIATED`` at once (**unverified**: AWS shows ``ASSOCIATING`` first); a disassociated entity is
  no longer listed (**unverified**: AWS lists it ``DISASSOCIATED`` for a while).
- Consumers: "For parameters shared with you from another account, you must use the full ARN" (GetParameter ``Name``,
  botocore's SSM model). GetParameter of another account's parameter ARN, in the caller's region, answers the owner's
  parameter when an ACTIVE share of the owner in that region holds it and names the caller's account, its organization,
  or an OU the account is in (nested OUs too); otherwise ``ParameterNotFound`` (**unverified**: AWS may answer
  ``AccessDeniedException``). ``ARN:VERSION`` and ``ARN:LABEL`` work as for a name. Shared parameters are read-only for
  consumers: PutParameter takes no ARN ("You can't enter the Amazon Resource Name (ARN) for a parameter, only the
  parameter name itself", PutParameter ``Name``), so a consumer's PutParameter of the ARN is refused
  (``ValidationException``, **unverified** code) and never reaches the owner's parameter.
- Not modelled: invitations (accounts outside the organization must accept one: "They receive an invitation to join the
  resource share", the RAM guide), managed permissions other than the default, ``clientToken`` idempotency, tag
  quotas, ``sources``, DescribeParameters ``Shared``, GetParameters / GetParameterHistory of a shared ARN, a deleted
  parameter leaving its shares, IAM.
"""

from __future__ import annotations

import re
import threading

from moto.core.utils import unix_time, utcnow
from moto.moto_api._internal import mock_random as random

PARAMETER_ARN_RE = re.compile(r"^arn:(?P<partition>aws[a-z-]*):ssm:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):parameter/(?P<name>.+)$")
ORG_ARN_RE = re.compile(r"^arn:aws[a-z-]*:organizations::[0-9]{12}:organization/(o-[a-z0-9]+)$")
OU_ARN_RE = re.compile(r"^arn:aws[a-z-]*:organizations::[0-9]{12}:ou/(o-[a-z0-9]+)/(ou-[a-z0-9-]+)$")
OTHER_PRINCIPAL_RE = re.compile(r"^(\d{12}|arn:aws[a-z-]*:iam::\d{12}:(root|role/.+|user/.+)|[a-z0-9-]+\.amazonaws\.com)$")
# The request paths of RAM's REST-JSON protocol (botocore's RAM model, each operation's ``requestUri``), for the call record.
ACTIONS = dict(("/" + op.lower(), op) for op in (
    "CreateResourceShare", "AssociateResourceShare", "DisassociateResourceShare", "GetResourceShares",
    "GetResourceShareAssociations", "UpdateResourceShare", "DeleteResourceShare", "EnableSharingWithAwsOrganization",
    "ListResources", "ListPrincipals", "ListResourceTypes", "ListPermissions", "GetResourceShareInvitations",
))
DEFAULT_PAGE = 50

_LOCK = threading.RLock()
# organization id -> True once its management account called EnableSharingWithAwsOrganization (forgotten by reset())
_SHARING_ENABLED = {}


def reset():
    with _LOCK:
        _SHARING_ENABLED.clear()


def _errors():
    from moto.ram import exceptions

    return exceptions


def _not_permitted(message):
    from moto.core.exceptions import JsonRESTError

    class OperationNotPermitted(JsonRESTError):
        code = 400

    return OperationNotPermitted("OperationNotPermittedException", message)


class Share:
    """One resource share, with its tags and associations ({entity: creation time})."""

    def __init__(self, account_id, region, name, allow_external, tags):
        from moto.utilities.utils import get_partition

        self.account_id = account_id
        self.region = region
        self.name = name
        self.allow_external = bool(allow_external)
        self.tags = [dict(key=t.get("key"), value=t.get("value")) for t in tags or []]
        self.arn = "arn:%s:ram:%s:%s:resource-share/%s" % (get_partition(region), region, account_id, random.uuid4())
        self.status = "ACTIVE"
        self.created = self.updated = utcnow()
        self.principals = {}
        self.resources = {}

    def describe(self):
        return {
            "resourceShareArn": self.arn,
            "name": self.name,
            "owningAccountId": self.account_id,
            "allowExternalPrincipals": self.allow_external,
            "status": self.status,
            "tags": [dict(t) for t in self.tags],
            "creationTime": unix_time(self.created),
            "lastUpdatedTime": unix_time(self.updated),
            "featureSet": "STANDARD",
        }

    def association(self, entity, kind, status="ASSOCIATED"):
        when = (self.principals if kind == "PRINCIPAL" else self.resources).get(entity) or utcnow()
        out = {
            "resourceShareArn": self.arn,
            "resourceShareName": self.name,
            "associatedEntity": entity,
            "associationType": kind,
            "status": status,
            "creationTime": unix_time(when),
            "lastUpdatedTime": unix_time(when),
        }
        if kind == "PRINCIPAL":
            out["external"] = is_external(self.account_id, entity)
        return out


def _shares(backend):
    found = backend.__dict__.get("_orgshare_shares")
    if found is None:
        found = backend.__dict__["_orgshare_shares"] = []
    return found


# ---- organizations -----------------------------------------------------------------------------


def _membership(account_id):
    from . import ec2 as ec2_patch

    return ec2_patch.organization_of(account_id)


def _org_backend(account_id):
    from . import organizations as org_patch

    return org_patch.organization_backend(account_id)


def is_external(owner, principal):
    """Whether an account principal is outside the owner's organization (organizations and OUs are the owner's own)."""
    if not re.match(r"^\d{12}$", principal or ""):
        return False
    owner_org, _ous = _membership(owner)
    return owner_org is None or _membership(principal)[0] != owner_org


def _check_principal(share, principal):
    errors = _errors()
    org_backend = _org_backend(share.account_id)
    org = org_backend.org if org_backend is not None else None
    org_match, ou_match = ORG_ARN_RE.match(principal or ""), OU_ARN_RE.match(principal or "")
    if org_match or ou_match:
        if org is None or (org_match and principal != org.arn):
            raise errors.UnknownResourceException("Organization %s could not be found." % (org_match or ou_match).group(1))
        if ou_match and (ou_match.group(1) != org.id or principal not in [ou.arn for ou in list(org_backend.ou)]):
            raise errors.UnknownResourceException(
                "OrganizationalUnit %s in unknown organization could not be found." % ou_match.group(2))
        with _LOCK:
            if not _SHARING_ENABLED.get(org.id):
                raise _not_permitted(
                    "Unable to share with %s: sharing with AWS Organizations is not enabled for organization %s (the "
                    "management account enables it with EnableSharingWithAwsOrganization)." % (principal, org.id))
        return
    if not OTHER_PRINCIPAL_RE.match(principal or ""):
        raise errors.InvalidParameterException("Principal ID %s is malformed. Verify the ID and try again." % principal)
    if not share.allow_external and is_external(share.account_id, principal):
        raise _not_permitted(
            "The resource share %s does not allow external principals; %s is not in the owner's organization."
            % (share.name, principal))


def _check_resource(share, arn):
    errors = _errors()
    match = PARAMETER_ARN_RE.match(arn or "")
    if not match:
        from moto.ram.models import ResourceShare

        probe = ResourceShare.__new__(ResourceShare)
        probe.resource_arns = []
        ResourceShare.add_resources(probe, [arn])  # moto's check of the other resource types
        return
    if match.group("account") != share.account_id:
        raise errors.UnknownResourceException("The resource %s could not be found: you can share only your own parameters." % arn)
    if match.group("region") != share.region:
        raise errors.InvalidParameterException(
            "The resource %s is in %s; a resource share of %s holds resources of its own Region only." % (arn, match.group("region"), share.region))
    parameter = owned_parameter(share.account_id, share.region, match.group("name"))
    if parameter is None:
        raise errors.UnknownResourceException("The resource %s could not be found." % arn)
    if parameter.tier != "Advanced":
        raise errors.InvalidParameterException(
            "The parameter %s is a Standard parameter; only parameters in the advanced parameter tier can be shared." % arn)


def owned_parameter(account_id, region, arn_name):
    """The latest version of the parameter whose ARN ends in ``parameter/<arn_name>`` (None when there is none)."""
    from moto.ssm.models import ssm_backends

    backend = ssm_backends[account_id][region]
    from . import ssm as ssm_patch

    ssm_patch.settle(backend)
    key = backend._parameters.normalize_name("/" + arn_name)
    versions = dict.get(backend._parameters, key) or dict.get(backend._parameters, arn_name)
    return versions[-1] if versions else None


# ---- the calls ---------------------------------------------------------------------------------


def _find(backend, arn):
    for share in _shares(backend):
        if share.arn == arn and share.status == "ACTIVE":
            return share
    raise _errors().UnknownResourceException("ResourceShare %s could not be found." % arn)


def _add(share, principals, resources):
    for principal in principals or []:
        _check_principal(share, principal)
    for arn in resources or []:
        _check_resource(share, arn)
    out = []
    now = utcnow()
    for principal in principals or []:
        share.principals.setdefault(principal, now)
        out.append(share.association(principal, "PRINCIPAL"))
    for arn in resources or []:
        share.resources.setdefault(arn, now)
        out.append(share.association(arn, "RESOURCE"))
    if out:
        share.updated = now
    return out


def create_resource_share(backend, params):
    if not params.get("name"):
        raise _errors().InvalidParameterException("The name of the resource share is required.")
    share = Share(backend.account_id, backend.region_name, params["name"], params.get("allowExternalPrincipals", True), params.get("tags"))
    with _LOCK:
        _add(share, params.get("principals"), params.get("resourceArns"))
        _shares(backend).append(share)
    return {"resourceShare": share.describe()}


def associate_resource_share(backend, params):
    with _LOCK:
        share = _find(backend, params.get("resourceShareArn"))
        return {"resourceShareAssociations": _add(share, params.get("principals"), params.get("resourceArns"))}


def disassociate_resource_share(backend, params):
    with _LOCK:
        share = _find(backend, params.get("resourceShareArn"))
        out = []
        for principal in params.get("principals") or []:
            if share.principals.pop(principal, None) is not None:
                out.append(share.association(principal, "PRINCIPAL", "DISASSOCIATING"))
        for arn in params.get("resourceArns") or []:
            if share.resources.pop(arn, None) is not None:
                out.append(share.association(arn, "RESOURCE", "DISASSOCIATING"))
        share.updated = utcnow()
        return {"resourceShareAssociations": out}


def _page(items, params, key):
    start = int(params.get("nextToken") or 0)
    size = int(params.get("maxResults") or DEFAULT_PAGE)
    out = {key: items[start:start + size]}
    if start + size < len(items):
        out["nextToken"] = str(start + size)
    return out


def _tag_match(share, filters):
    for flt in filters or []:
        values = flt.get("tagValues") or []
        if not any(t["key"] == flt.get("tagKey") and (not values or t["value"] in values) for t in share.tags):
            return False
    return True


def get_resource_shares(backend, params):
    errors = _errors()
    owner = params.get("resourceOwner")
    if owner not in ("SELF", "OTHER-ACCOUNTS"):
        raise errors.InvalidParameterException("%s is not a valid resource owner. Specify either SELF or OTHER-ACCOUNTS and try again." % owner)
    if owner == "OTHER-ACCOUNTS":
        return {"resourceShares": []}  # not modelled: the shares other accounts share with the caller
    found = []
    with _LOCK:
        for share in _shares(backend):
            if params.get("resourceShareArns") and share.arn not in params["resourceShareArns"]:
                continue
            if params.get("resourceShareStatus") and share.status != params["resourceShareStatus"]:
                continue
            if params.get("name") and share.name != params["name"]:
                continue
            if not _tag_match(share, params.get("tagFilters")):
                continue
            found.append(share.describe())
    return _page(found, params, "resourceShares")


def get_resource_share_associations(backend, params):
    errors = _errors()
    kind = params.get("associationType")
    if kind not in ("PRINCIPAL", "RESOURCE"):
        raise errors.InvalidParameterException(
            "%s is not a valid association type. Specify either PRINCIPAL or RESOURCE and try again." % kind)
    if kind == "PRINCIPAL" and params.get("resourceArn"):
        raise errors.InvalidParameterException("You cannot specify a resource ARN when the association type is PRINCIPAL.")
    if kind == "RESOURCE" and params.get("principal"):
        raise errors.InvalidParameterException("You cannot specify a principal when the association type is RESOURCE.")
    wanted = params.get("principal") if kind == "PRINCIPAL" else params.get("resourceArn")
    found = []
    with _LOCK:
        for share in _shares(backend):
            if params.get("resourceShareArns") and share.arn not in params["resourceShareArns"]:
                continue
            if share.status != "ACTIVE":
                continue
            entities = share.principals if kind == "PRINCIPAL" else share.resources
            for entity in sorted(entities):
                if wanted and entity != wanted:
                    continue
                entry = share.association(entity, kind)
                if params.get("associationStatus") and entry["status"] != params["associationStatus"]:
                    continue
                found.append(entry)
    return _page(found, params, "resourceShareAssociations")


def update_resource_share(backend, params):
    with _LOCK:
        share = _find(backend, params.get("resourceShareArn"))
        if params.get("name"):
            share.name = params["name"]
        if params.get("allowExternalPrincipals") is not None:
            share.allow_external = bool(params["allowExternalPrincipals"])
        share.updated = utcnow()
        return {"resourceShare": share.describe()}


def delete_resource_share(backend, params):
    with _LOCK:
        share = _find(backend, params.get("resourceShareArn"))
        share.status = "DELETED"
        share.updated = utcnow()
    return {"returnValue": True}


def enable_sharing_with_aws_organization(backend, params):
    org_backend = _org_backend(backend.account_id)
    org = org_backend.org if org_backend is not None else None
    if org is None or org.master_account_id != backend.account_id:
        raise _errors().OperationNotPermittedException()
    with _LOCK:
        _SHARING_ENABLED[org.id] = True
    return {"returnValue": True}


# ---- consumers: another account's shared parameter, by its ARN ----------------------------------


def shared_with(owner, region, parameter_arn, account_id):
    """Whether an ACTIVE share of ``owner`` in ``region`` holds ``parameter_arn`` and names ``account_id``, its
    organization or one of its OUs."""
    from moto.ram.models import ram_backends

    backend = ram_backends[owner][region]
    org_arn, ou_arns = _membership(account_id)
    owner_org, _ous = _membership(owner)
    reach = {account_id}
    if org_arn and org_arn == owner_org:
        reach.add(org_arn)
        reach.update(ou_arns)
    with _LOCK:
        for share in _shares(backend):
            if share.status == "ACTIVE" and parameter_arn in share.resources and reach & set(share.principals):
                return True
    return False


def _split_arn(name):
    """(owner, region, ARN of the parameter, name with its :VERSION / :LABEL) of a parameter ARN, or None."""
    match = PARAMETER_ARN_RE.match(name or "")
    if not match:
        return None
    rest = match.group("name")
    base, _sep, selector = rest.partition(":")
    arn = name[: len(name) - len(rest)] + base
    return match.group("account"), match.group("region"), arn, base, selector


def apply():
    from moto.ram import urls
    from moto.ram.responses import ResourceAccessManagerResponse
    from moto.ssm.models import SimpleSystemManagerBackend, ssm_backends
    import json

    calls = {
        "create_resource_share": create_resource_share,
        "associate_resource_share": associate_resource_share,
        "disassociate_resource_share": disassociate_resource_share,
        "get_resource_shares": get_resource_shares,
        "get_resource_share_associations": get_resource_share_associations,
        "update_resource_share": update_resource_share,
        "delete_resource_share": delete_resource_share,
        "enable_sharing_with_aws_organization": enable_sharing_with_aws_organization,
    }

    def responder(func):
        def respond(self):
            params = self.request_params
            if not params and self.querystring:  # DeleteResourceShare passes resourceShareArn in the query string
                params = dict((k, v[0]) for k, v in self.querystring.items())
            return json.dumps(func(self.ram_backend, params or {}))

        respond.__name__ = func.__name__
        return respond

    for action, func in calls.items():
        setattr(ResourceAccessManagerResponse, action, responder(func))
    urls.url_paths.setdefault("{0}/associateresourceshare$", ResourceAccessManagerResponse.dispatch)
    urls.url_paths.setdefault("{0}/disassociateresourceshare$", ResourceAccessManagerResponse.dispatch)

    orig_get = SimpleSystemManagerBackend.get_parameter

    def get_parameter(self, name):
        parts = _split_arn(name)
        if parts is None or parts[0] == self.account_id:
            return orig_get(self, name)
        owner, region, arn, base, selector = parts
        if region != self.region_name or not shared_with(owner, region, arn, self.account_id):
            return None
        key = ssm_backends[owner][region]._parameters.normalize_name("/" + base)
        return ssm_backends[owner][region].get_parameter(key + (":" + selector if selector else ""))

    get_parameter.__doc__ = orig_get.__doc__
    SimpleSystemManagerBackend.get_parameter = get_parameter

    orig_put = SimpleSystemManagerBackend.put_parameter

    def put_parameter(self, name, *args, **kwargs):
        if PARAMETER_ARN_RE.match(name or ""):
            from moto.ssm.exceptions import ValidationException

            raise ValidationException("Parameter name: can't be an ARN (%s); give the parameter name itself." % name)
        return orig_put(self, name, *args, **kwargs)

    SimpleSystemManagerBackend.put_parameter = put_parameter
