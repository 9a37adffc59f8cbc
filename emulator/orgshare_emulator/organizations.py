"""Organizations: who may read the organization's structure.

AWS facts modelled here (sources: botocore's Organizations model, service-2.json, the documentation
of each operation):

- DescribeOrganizationalUnit, ListParents, ListRoots, ListChildren, ListAccounts,
  ListAccountsForParent, ListOrganizationalUnitsForParent and DescribeAccount: "You can only call
  this operation from the management account or a member account that is a delegated
  administrator." Another member account gets ``AccessDeniedException`` (an error shape of each of
  these operations in the model). moto answers such a caller "not found" (AccountNotFoundException,
  OrganizationalUnitNotFoundException, ParentNotFoundException) or an empty list, which a client
  would read as "not in the organization"; and it answers a delegated administrator from that
  account's own (empty) view, so its calls are answered here from the management account's. The message is AWS's usual one for Organizations
  (**unverified** word for word; no test pins it).
- DescribeOrganization: "You can call this operation from any account in a organization" (moto
  already answers members).

Declarative policies for EC2 (policy type ``DECLARATIVE_POLICY_EC2``), which moto does not know:

- CreatePolicy / UpdatePolicy / ListPolicies / ListPoliciesForTarget / DescribePolicy accept the type (PolicyType
  in botocore's Organizations model); its ARN is ``arn:aws:organizations::<management>:policy/o-.../
  declarative_policy_ec2/p-...`` (the UpdatePolicy example of the AWS Organizations User Guide, "Managing
  organization policies"). Its content must be a JSON object whose only key is ``ec2_attributes`` ("Declarative
  policies always start with a fixed key name for the given AWS service", AWS Organizations User Guide, "Declarative
  policy syntax and examples", https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_declarative_syntax.html),
  else ``MalformedPolicyDocumentException`` (an error of CreatePolicy in the model; its message is **unverified**).
- EnablePolicyType / DisablePolicyType accept it; AttachPolicy of such a policy while the type is not enabled in the
  root is ``PolicyTypeNotEnabledException`` ("You can't attach policies of the specified type to entities in a root
  until you enable that type in the root", the exception's documentation).
- DescribeEffectivePolicy (TAG_POLICY, BACKUP_POLICY, AISERVICES_OPT_OUT_POLICY, DECLARATIVE_POLICY_EC2): "the
  aggregation of any policies of the specified type that the account inherits, plus any policy of that type that is
  directly attached to the account"; "You can call this operation from any account in a organization"; TargetId: "When
  you're signed in as the management account, specify the ID of the account ... Specifying an organization root or
  organizational unit (OU) as the target is not supported"; SCPs and RCPs have no effective policy ("This operation applies
  only to management policies"): both ``InvalidInputException`` (its documented reasons TARGET_NOT_SUPPORTED and
  INVALID_ENUM_POLICY_TYPE); none of the type: ``EffectivePolicyNotFoundException`` (botocore's Organizations model). The merge follows the
  inheritance operators (AWS Organizations User Guide, "Inheritance operators",
  https://docs.aws.amazon.com/organizations/latest/userguide/policy-operators.html): from the root down to the account,
  ``@@assign`` replaces the inherited value, ``@@append`` adds to an inherited list, ``@@remove`` removes from it; the
  policies attached to one entity are "evaluated based on the order in which they were attached" and the first one's
  ``@@assign`` holds ("Inheritance examples", example 6); the result shows no operators (the examples' effective
  policies). **Unverified**: a bare value (no operator) taken as ``@@assign``; the child control operator
  ``@@operators_allowed_for_child_policies`` (not modelled: ignored); a delegated administrator naming another account
  (answered as the management account); a member naming another account (``AccessDeniedException``); the messages; a policy type
  disabled again after policies were attached (their effective policy is gone); whether attaching or detaching counts
  as an update of the effective policy (LastUpdatedTimestamp, "The time of the last update to this policy", is the last
  CreatePolicy / UpdatePolicy of the policies that make it up).
"""

from __future__ import annotations

import copy
import datetime
import json
import re

from moto.core.exceptions import JsonRESTError

RESTRICTED = (
    "describe_organizational_unit",
    "list_parents",
    "list_roots",
    "list_children",
    "list_accounts",
    "list_accounts_for_parent",
    "list_organizational_units_for_parent",
    "describe_account",
)
DENIED_MESSAGE = "You don't have permissions to access this resource."

DECLARATIVE_EC2 = "DECLARATIVE_POLICY_EC2"
DECLARATIVE_ARN_FORMAT = "arn:{0}:organizations::{1}:policy/{2}/declarative_policy_ec2/{3}"
# the management policy types DescribeEffectivePolicy answers (moto knows the first three; SCPs and RCPs have none)
EFFECTIVE_TYPES = ("TAG_POLICY", "BACKUP_POLICY", "AISERVICES_OPT_OUT_POLICY", DECLARATIVE_EC2)
VALUE_OPERATORS = ("@@assign", "@@append", "@@remove")
ROOT_OR_OU_RE = re.compile(r"^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})\Z")


def reader_account(account_id):
    """The account whose view of the organization answers ``account_id``'s RESTRICTED call: itself when it is no member
    account (the management account, or in no organization: moto's own answer then stands), the management account
    for a delegated administrator (moto would answer from the member's own empty backend), None for any other member."""
    from moto.organizations.models import organizations_backends

    link = organizations_backends.master_accounts.get(account_id)
    if link is None:
        return account_id
    management, partition = link
    backend = organizations_backends[management][partition]
    if any(admin.account.id == account_id for admin in getattr(backend, "admins", [])):
        return management
    return None


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def organization_backend(account_id):
    """The Organizations backend (the management account's) of the organization ``account_id`` belongs to, or None."""
    from moto.organizations.models import organizations_backends

    link = organizations_backends.master_accounts.get(account_id)
    management = link[0] if link else account_id
    for backend in list((dict.get(organizations_backends, management) or {}).values()):
        if backend.org is not None and any(a.id == account_id for a in list(backend.accounts)):
            return backend
    return None


def declarative_content_problem(content):
    """Why ``content`` is no declarative policy for EC2 (None when it is one)."""
    try:
        document = json.loads(content or "")
    except ValueError:
        return "The provided policy document isn't valid JSON."
    if not isinstance(document, dict) or set(document) != {"ec2_attributes"} or not isinstance(document["ec2_attributes"], dict):
        return "A declarative policy for EC2 is a JSON object with the single key ec2_attributes."
    return None


def _list(value):
    return list(value) if isinstance(value, list) else ([] if value is None else [value])


def merge_policy(document, effective, assigned, path=()):
    """Merge one management policy ``document`` into ``effective`` (operator-free), as a child of what is there.

    ``assigned``: the settings an earlier policy attached to the same entity assigned (the first one holds)."""
    for key, value in document.items():
        if key.startswith("@@"):
            continue  # child control operators (@@operators_allowed_for_child_policies): not modelled
        here = path + (key,)
        is_setting = not isinstance(value, dict) or any(op in value for op in VALUE_OPERATORS)
        if not is_setting:
            below = effective.get(key)
            if not isinstance(below, dict):
                below = effective[key] = {}
            merge_policy(value, below, assigned, here)
            continue
        operators = value if isinstance(value, dict) else {"@@assign": value}
        if "@@assign" in operators and here not in assigned:
            effective[key] = copy.deepcopy(operators["@@assign"])
            assigned.add(here)
        if "@@append" in operators:
            current = _list(effective.get(key))
            effective[key] = current + [v for v in _list(operators["@@append"]) if v not in current]
        if "@@remove" in operators and key in effective:
            removed = _list(operators["@@remove"])
            effective[key] = [v for v in _list(effective[key]) if v not in removed]


def effective_policy(backend, account_id, policy_type):
    """(content dict, last update) of ``account_id``'s effective policy of ``policy_type``, or None when it has none."""
    ous = {ou.id: ou for ou in list(backend.ou)}
    root = next((ou for ou in ous.values() if ou.type == "ROOT"), None)
    account = next((a for a in list(backend.accounts) if a.id == account_id), None)
    if root is None or account is None or not any(t.get("Type") == policy_type for t in root.policy_types):
        return None
    chain, parent = [account], ous.get(account.parent_id)
    while parent is not None and parent not in chain:
        chain.insert(0, parent)
        parent = ous.get(getattr(parent, "parent_id", None)) if parent.type != "ROOT" else None
    effective, stamps = {}, []
    for entity in chain:
        assigned = set()
        for policy in list(entity.attached_policies):
            if policy.type != policy_type:
                continue
            try:
                document = json.loads(policy.content or "{}")
            except ValueError:
                continue
            if isinstance(document, dict):
                merge_policy(document, effective, assigned)
                stamps.append(policy.__dict__.get("_orgshare_updated") or _now())
    return (effective, max(stamps)) if stamps else None


def effective_policy_content(account_id, policy_type):
    """The content of ``account_id``'s effective policy of ``policy_type`` (a dict), or None (no organization or none)."""
    backend = organization_backend(account_id)
    found = effective_policy(backend, account_id, policy_type) if backend is not None else None
    return found[0] if found else None


def describe_effective_policy(caller, policy_type, target_id):
    """DescribeEffectivePolicy's answer for ``caller``, or raises."""
    from moto.core.utils import unix_time
    from moto.organizations.exceptions import AWSOrganizationsNotInUseException, InvalidInputException, TargetNotFoundException

    backend = organization_backend(caller)
    if backend is None:
        raise AWSOrganizationsNotInUseException
    target = target_id or caller
    if policy_type not in EFFECTIVE_TYPES:  # InvalidInputException's reason INVALID_ENUM_POLICY_TYPE (SCPs, RCPs)
        raise InvalidInputException("You specified an invalid policy type string.")
    if ROOT_OR_OU_RE.match(str(target)):  # its reason TARGET_NOT_SUPPORTED
        raise InvalidInputException("You can't perform the specified operation on that target entity.")
    if target != caller and reader_account(caller) is None:
        raise JsonRESTError("AccessDeniedException", DENIED_MESSAGE)
    if not any(a.id == target for a in list(backend.accounts)):
        raise TargetNotFoundException
    found = effective_policy(backend, target, policy_type)
    if found is None:
        raise JsonRESTError(
            "EffectivePolicyNotFoundException",
            "We can't find an effective policy of type %s for the account %s." % (policy_type, target),
        )
    content, stamp = found
    return {"EffectivePolicy": {"PolicyContent": json.dumps(content), "LastUpdatedTimestamp": unix_time(stamp.replace(tzinfo=None)),
                                "TargetId": target, "PolicyType": policy_type}}


def _patch_declarative_policies():
    from moto.organizations.exceptions import PolicyTypeNotEnabledException
    from moto.organizations.models import FakePolicy, FakeRoot, OrganizationsBackend
    from moto.organizations.responses import OrganizationsResponse

    if DECLARATIVE_EC2 not in FakePolicy.SUPPORTED_POLICY_TYPES:
        FakePolicy.SUPPORTED_POLICY_TYPES = FakePolicy.SUPPORTED_POLICY_TYPES + [DECLARATIVE_EC2]
    if DECLARATIVE_EC2 not in FakeRoot.SUPPORTED_POLICY_TYPES:
        FakeRoot.SUPPORTED_POLICY_TYPES = FakeRoot.SUPPORTED_POLICY_TYPES + [DECLARATIVE_EC2]

    orig_init = FakePolicy.__init__

    def policy_init(self, organization, **kwargs):
        declarative = kwargs.get("Type") == DECLARATIVE_EC2
        problem = declarative_content_problem(kwargs.get("Content")) if declarative else None
        if problem:
            raise JsonRESTError("MalformedPolicyDocumentException", problem)
        # moto makes an ARN only for the types it knows: made as a tag policy, then turned into a declarative one
        orig_init(self, organization, **(dict(kwargs, Type="TAG_POLICY") if declarative else kwargs))
        if declarative:
            self.type, self._arn_format = DECLARATIVE_EC2, DECLARATIVE_ARN_FORMAT
        self._orgshare_updated = _now()

    FakePolicy.__init__ = policy_init

    orig_update = OrganizationsBackend.update_policy

    def update_policy(self, **kwargs):
        policy = self.get_policy_by_id(kwargs["PolicyId"])
        problem = declarative_content_problem(kwargs["Content"]) if policy.type == DECLARATIVE_EC2 and "Content" in kwargs else None
        if problem:
            raise JsonRESTError("MalformedPolicyDocumentException", problem)
        answer = orig_update(self, **kwargs)
        policy._orgshare_updated = _now()
        return answer

    OrganizationsBackend.update_policy = update_policy

    orig_attach = OrganizationsBackend.attach_policy

    def attach_policy(self, **kwargs):
        policy = self.get_policy_by_id(kwargs["PolicyId"])
        root = next((ou for ou in list(self.ou) if ou.type == "ROOT"), None)
        if policy.type == DECLARATIVE_EC2 and root is not None and not any(t.get("Type") == DECLARATIVE_EC2 for t in root.policy_types):
            raise PolicyTypeNotEnabledException
        return orig_attach(self, **kwargs)

    OrganizationsBackend.attach_policy = attach_policy

    def describe_effective_policy_response(self):
        return json.dumps(describe_effective_policy(self.current_account, self._get_param("PolicyType"), self._get_param("TargetId")))

    describe_effective_policy_response.__name__ = "describe_effective_policy"
    OrganizationsResponse.describe_effective_policy = describe_effective_policy_response


def apply():
    from moto.organizations.responses import OrganizationsResponse

    _patch_declarative_policies()

    for name in RESTRICTED:
        orig = getattr(OrganizationsResponse, name)

        def method(self, _orig=orig):
            reader = reader_account(self.current_account)
            if reader is None:
                raise JsonRESTError("AccessDeniedException", DENIED_MESSAGE)
            self.current_account = reader
            return _orig(self)

        method.__name__ = name
        setattr(OrganizationsResponse, name, method)
