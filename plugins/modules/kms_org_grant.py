#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: kms_org_grant
version_added: 0.1.0
short_description: Let an AWS organization, its OUs or accounts use a customer managed KMS key, statement by statement
description:
  - Edits the policy of one customer managed KMS key so that the accounts of an organization, or of some of its
    organizational units (OUs), or accounts given by id, may use the key, as launching an instance from a shared AMI
    encrypted with the key requires.
  - >-
    The module owns two statements per organization, recognised by their C(Sid) only:
    C(OrgShareUse-<organization id>) with the O(actions), and C(OrgShareGrants-<organization id>) with C(kms:CreateGrant),
    C(kms:ListGrants) and C(kms:RevokeGrant) conditioned on C(Bool kms:GrantIsForAWSResource true) (see O(allow_grants)).
    Both use C(Principal {"AWS": "*"}), C(Resource "*") and C(StringEquals aws:PrincipalOrgID); restricted to OUs they add
    C(ForAnyValue:StringLike aws:PrincipalOrgPaths) with one C(<path>*) entry per OU (the OU and every OU below it).
  - >-
    For O(account_ids) the module owns two more statements per key, whatever the accounts' organization:
    C(OrgShareAccountUse) with the O(actions), and C(OrgShareAccountGrants) with C(kms:CreateGrant), C(kms:ListGrants) and
    C(kms:RevokeGrant) conditioned on C(Bool kms:GrantIsForAWSResource true). Both use
    C(Principal {"AWS": ["arn:<partition>:iam::<account id>:root", ...]}) (sorted, the key's partition) and C(Resource "*").
  - Every other statement is kept exactly as it was, in its place. The module's statements stay where they were; new ones are appended.
  - >-
    Comparison is semantic (order of statements and actions, a single value or a list, C(Principal "*") or C({"AWS": "*"})):
    a converged key reports no change and is not written.
  - >-
    The document is sent compact (JSON without whitespace); its size in bytes is checked against the KMS limit of 32,768 bytes
    before writing.
  - >-
    Fails before writing on an AWS managed key (its policy cannot change), an unknown key or alias, a document over the size limit,
    and malformed ids, ARNs or paths. Warns on a disabled key or a key pending deletion.
author:
  - orgshare.aws maintainers (@orgshare)
options:
  key_id:
    description:
      - The customer managed key, in the module's region, as a key id, key ARN, alias name (C(alias/NAME)) or alias ARN.
    type: str
    required: true
  organization:
    description:
      - The organization, as an organization id (C(o-...)) or organization ARN.
      - One of O(organization) and O(account_ids) is required. Without O(organization), the organizations' statements are left alone.
      - This option used to be required; tasks that give it (with or without O(account_ids)) behave as before.
    type: str
  organizational_units:
    description:
      - The OUs whose accounts (including those of OUs below them) may use the key.
      - Each entry is an OU ARN, a bare OU id (C(ou-...)) or an organization path (C(o-ID/r-ROOT/ou-A/ou-B/)).
      - >-
        ARNs and ids are turned into paths through AWS Organizations C(ListParents), which only the management account or
        a delegated administrator may call; elsewhere give the paths.
      - Omitted or empty, the grant covers the whole organization.
      - With O(state=present) the OUs are added to those already granted, unless O(purge=true).
        If the grant already covers the whole organization nothing changes (see RV(covered_by_organization)) unless O(purge=true).
      - With O(state=absent) these OUs are removed; the statements go when no OU is left. Without OUs, the organization's statements are removed.
      - Requires O(organization).
    type: list
    elements: str
  account_ids:
    description:
      - 12-digit AWS account ids (quote them in YAML) that may use the key, in the statements C(OrgShareAccountUse) and
        C(OrgShareAccountGrants).
      - With O(state=present) the accounts are added to those already granted, unless O(purge=true), which makes the list of
        granted accounts exactly the given one.
      - With O(state=absent) these accounts are removed; the statements go when no account is left.
      - Omitted, the account statements are left alone.
    type: list
    elements: str
  state:
    description:
      - C(present) grants, C(absent) revokes.
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With O(state=present) and O(organizational_units), make the list of granted OUs exactly the given one,
        narrowing an organization-wide grant.
      - With O(state=present) and O(account_ids), make the list of granted accounts exactly the given one.
    type: bool
    default: false
  actions:
    description:
      - The key actions the consumers get, in the C(OrgShareUse-...) and C(OrgShareAccountUse) statements.
      - Default, what launching from an encrypted shared AMI needs,
        C(kms:Decrypt), C(kms:DescribeKey), C(kms:Encrypt), C(kms:GenerateDataKey*), C(kms:ReEncrypt*).
    type: list
    elements: str
  allow_grants:
    description:
      - Whether to keep the statements C(OrgShareGrants-...) and C(OrgShareAccountGrants) that let consumers create grants
        for AWS resources (EBS creates one when it launches an instance from an encrypted snapshot).
    type: bool
    default: true
notes:
  - Check mode is supported and predicts the result with the same keys as a real run; diff mode shows the key policy before and after.
  - The module is idempotent; a second run with the same options reports no change and makes no write.
  - >-
    IAM permissions: the module calls C(kms:DescribeKey), C(kms:GetKeyPolicy), C(kms:PutKeyPolicy) and, only to turn OU ARNs or ids into
    paths, C(organizations:ListParents) (and C(organizations:DescribeOrganization) for bare OU ids).
  - >-
    Concurrent writers: PutKeyPolicy replaces the whole document and has no conditional write. Runs on one host serialise on the key
    with a lock file (C(fcntl.flock)) under C($ORGSHARE_KMS_LOCK_DIR) or the temporary directory. After writing, the module reads the policy
    back and merges again if another writer changed it, up to 5 writes. A writer elsewhere that replaces the document without merging
    can still remove these statements after the module's last read-back.
  - PutKeyPolicy answers C(MalformedPolicyDocumentException) briefly for new principals; the module retries it a few times.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Let the whole organization use the key that encrypts the golden AMIs
  orgshare.aws.kms_org_grant:
    key_id: alias/golden-images
    organization: o-exampleorgid
    region: eu-west-1

- name: Let two OUs (and the OUs below them) use the key
  orgshare.aws.kms_org_grant:
    key_id: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
    organization: arn:aws:organizations::111122223333:organization/o-exampleorgid
    organizational_units:
      - o-exampleorgid/r-ab12/ou-ab12-11111111/
      - arn:aws:organizations::111122223333:ou/o-exampleorgid/ou-ab12-22222222
    region: eu-west-1

- name: Narrow the grant to exactly one OU
  orgshare.aws.kms_org_grant:
    key_id: alias/golden-images
    organization: o-exampleorgid
    organizational_units: [o-exampleorgid/r-ab12/ou-ab12-11111111/]
    purge: true

- name: Revoke the organization's grant
  orgshare.aws.kms_org_grant:
    key_id: alias/golden-images
    organization: o-exampleorgid
    state: absent

- name: Let two accounts use the key, whatever their organization
  orgshare.aws.kms_org_grant:
    key_id: alias/golden-images
    account_ids: ["111122223333", "444455556666"]

- name: Let an OU and an account outside it use the key, in one task
  orgshare.aws.kms_org_grant:
    key_id: alias/golden-images
    organization: o-exampleorgid
    organizational_units: [o-exampleorgid/r-ab12/ou-ab12-11111111/]
    account_ids: ["444455556666"]

- name: Revoke one account's grant (the statements go with the last account)
  orgshare.aws.kms_org_grant:
    key_id: alias/golden-images
    account_ids: ["444455556666"]
    state: absent
"""

RETURN = r"""
key_id:
  description: The key's id.
  returned: always
  type: str
  sample: 1234abcd-12ab-34cd-56ef-1234567890ab
key_arn:
  description: The key's ARN.
  returned: always
  type: str
  sample: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
policy:
  description: The key policy after the run (predicted in check mode).
  returned: always
  type: dict
statements:
  description:
    - The module's statements after the run, in the document's order, for the organization (when O(organization) is given)
      and for the accounts (when O(account_ids) is given). Empty when revoked.
  returned: always
  type: list
  elements: dict
covered_by_organization:
  description: Whether the grant covers the whole organization after the run (always V(false) without O(organization)).
  returned: always
  type: bool
granted_account_ids:
  description:
    - The accounts the C(OrgShareAccountUse) and C(OrgShareAccountGrants) statements grant after the run, sorted
      (when O(account_ids) is not given, those already granted).
  returned: always
  type: list
  elements: str
  sample: ["111122223333", "444455556666"]
diff:
  description: The key policy before and after.
  returned: in diff mode
  type: dict
  contains:
    before:
      description: The key policy before.
      type: dict
      returned: in diff mode
    after:
      description: The key policy after.
      type: dict
      returned: in diff mode
"""

try:
    import botocore  # noqa: F401  pylint: disable=unused-import
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.orgshare.aws.plugins.module_utils import _key_policy
from ansible_collections.orgshare.aws.plugins.module_utils import _kms
from ansible_collections.orgshare.aws.plugins.module_utils._clients import client_factory
from ansible_collections.orgshare.aws.plugins.module_utils._principals import OrganizationsResolver
from ansible_collections.orgshare.aws.plugins.module_utils._principals import PrincipalError
from ansible_collections.orgshare.aws.plugins.module_utils._principals import is_organization_id
from ansible_collections.orgshare.aws.plugins.module_utils._principals import parse_organization_arn
from ansible_collections.orgshare.aws.plugins.module_utils._principals import validate_account_id


class GrantError(ValueError):
    pass


def organization_id(value):
    if is_organization_id(value):
        return value
    return parse_organization_arn(value, option="organization").organization_id


def ou_paths(clients, org_id, values):
    """The organization paths of the OUs, resolved through Organizations where needed."""
    if not values:
        return []
    resolver = None
    paths = []
    for value in values:
        if resolver is None and not (isinstance(value, str) and value.startswith("o-")):
            resolver = OrganizationsResolver(clients.client("organizations", retry_decorator=AWSRetry.jittered_backoff()))
        path = (resolver or OrganizationsResolver(None)).ou_path(value, option="organizational_units")
        if path.split("/")[0] != org_id:
            raise GrantError(
                "organizational_units: {0!r} belongs to organization {1}, not to {2} (the organization option)".format(value, path.split("/")[0], org_id)
            )
        paths.append(path)
    return sorted(set(paths))


def validate_actions(actions):
    if actions is None:
        return None
    bad = [a for a in actions if not isinstance(a, str) or not (a == "*" or a.lower().startswith("kms:"))]
    if bad or not actions:
        raise GrantError("actions: expected a non-empty list of KMS actions such as kms:Decrypt or kms:ReEncrypt*, got {0!r}".format(bad or actions))
    return actions


def run(module):
    params = module.params
    region = module.region
    problem = _kms.key_id_problem(params["key_id"], region)
    if problem:
        raise GrantError("key_id: {0!r} {1}".format(params["key_id"], problem))
    org_id = organization_id(params["organization"]) if params["organization"] is not None else None
    account_ids = None
    if params["account_ids"] is not None:
        account_ids = sorted(set(validate_account_id(a, option="account_ids") for a in params["account_ids"]))
    actions = validate_actions(params["actions"])
    # One boto3 session for every client (module.client() makes a new session per client)
    clients = client_factory(module)
    paths = ou_paths(clients, org_id, params["organizational_units"]) if org_id else []

    client = clients.client("kms")
    key = _kms.describe_key(client, params["key_id"])
    if key is None:
        raise GrantError("key_id: no KMS key or alias {0!r} in region {1}".format(params["key_id"], region))
    if key.get("KeyManager") == "AWS":
        raise GrantError(
            "key_id: {0!r} is an AWS managed key ({1}); its policy cannot be changed, and AMIs encrypted with it cannot be shared. "
            "Copy the AMI under a customer managed key (orgshare.aws.ami_copy) and grant that key instead".format(params["key_id"], key["Arn"])
        )
    state = key.get("KeyState")
    if state in ("Disabled", "PendingDeletion", "PendingReplicaDeletion"):
        module.warn("Key {0} is in state {1}: the grant is written, but nobody can use the key until it is enabled".format(key["Arn"], state))

    partition = key["Arn"].split(":")[1]
    options = dict(state=params["state"], purge=params["purge"], actions=actions, allow_grants=params["allow_grants"])

    def planner(policy):
        changed, covered = False, False
        if org_id:
            changed, policy, _org_statements, covered = _key_policy.plan(policy, org_id, paths, **options)
        if account_ids is not None:
            accounts_changed, policy, _account_statements, _granted = _key_policy.plan_accounts(
                policy, account_ids, partition=partition, **options
            )
            changed = changed or accounts_changed
        sids = set()
        if org_id:
            sids.update((_key_policy.use_sid(org_id), _key_policy.grants_sid(org_id)))
        if account_ids is not None:
            sids.update(_key_policy.ACCOUNT_SIDS)
        ours = [s for s in _key_policy.statements_of(policy) if isinstance(s, dict) and s.get("Sid") in sids]
        return changed, policy, ours, covered

    changed, before, after, ours, covered = _kms.converge_key_policy(client, key["Arn"], planner, check_mode=module.check_mode)
    if params["state"] == "absent" and paths and covered:
        module.warn(
            "The grant to organization {0} covers the whole organization, so no OU can be taken out of it; "
            "use state=present with purge=true to narrow it, or state=absent without organizational_units to remove it".format(org_id)
        )
    result = dict(
        changed=changed,
        key_id=key["KeyId"],
        key_arn=key["Arn"],
        policy=after,
        statements=ours,
        covered_by_organization=covered,
        granted_account_ids=_key_policy.granted_account_ids(after),
    )
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    return result


def main():
    argument_spec = dict(
        key_id=dict(type="str", required=True),
        organization=dict(type="str"),
        organizational_units=dict(type="list", elements="str"),
        account_ids=dict(type="list", elements="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        purge=dict(type="bool", default=False),
        actions=dict(type="list", elements="str"),
        allow_grants=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_one_of=[["organization", "account_ids"]],
        required_by={"organizational_units": "organization"},
        supports_check_mode=True,
    )
    try:
        result = run(module)
    except (PrincipalError, GrantError, _key_policy.KeyPolicyError) as e:
        module.fail_json(msg=str(e))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
