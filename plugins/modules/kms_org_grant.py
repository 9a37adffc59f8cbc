#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: kms_org_grant
version_added: 0.1.0
short_description: Let an AWS organization, its OUs or accounts use customer managed KMS keys, statement by statement
description:
  - Edits the policy of a customer managed KMS key (O(key_id)), or of several keys in one or more regions (O(keys)), so that
    the accounts of an organization, or of some of its organizational units (OUs), or accounts given by id, may use the key,
    as launching an instance from a shared AMI encrypted with the key requires.
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
      - Exactly one of O(key_id) and O(keys) is required.
    type: str
  keys:
    description:
      - Several customer managed keys, each in its region, for one call; every other option applies to every key.
      - >-
        Every element is validated before any AWS call: a malformed one fails the call, naming it
        (for example C(keys[1].region)), and nothing is read or written.
      - >-
        The keys are read, planned and written concurrently. A key that fails (unknown, AWS managed, an AWS error) does not
        stop the others: the module then fails with a message naming every failed key, its region and why, and still
        returns every key's result in RV(keys).
      - >-
        Two elements that turn out to name the same key (for example its alias and its ARN) both fail, and that key is
        left as it was; list each key once.
      - Exactly one of O(key_id) and O(keys) is required.
    type: list
    elements: dict
    suboptions:
      key_id:
        description:
          - The key, as a key id, key ARN, alias name (C(alias/NAME)) or alias ARN, in the element's region.
        type: str
        required: true
      region:
        description:
          - The key's region.
          - Default, the module's region (O(region)).
        type: str
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
      - Each must be a KMS action botocore's KMS model knows (or C(kms:ReEncryptFrom) / C(kms:ReEncryptTo)); a pattern
        with C(*) must match at least one, so a typo such as C(kms:Decrpyt) is refused before any write.
      - C(*) and C(kms:*) are refused unless O(allow_wildcard_actions=true).
    type: list
    elements: str
  verify_delay:
    description:
      - Seconds after the last write (once the local lock is released) to read the key policy once more and check that
        this collection's statements are still there; a writer elsewhere that replaces the whole policy without merging
        may have taken them away. V(0) skips this read.
    type: float
    default: 1.0
  on_lost_statements:
    description:
      - What to do when that read finds the statements gone - V(fail) the module (for that key), or V(warn) and report
        the policy as found.
    type: str
    choices: [fail, warn]
    default: fail
  allow_wildcard_actions:
    description:
      - Accept C(*) or C(kms:*) in O(actions), which gives the consumers every key action, C(kms:PutKeyPolicy) and
        C(kms:ScheduleKeyDeletion) included.
    type: bool
    default: false
  replace_modified_statements:
    description:
      - What to do with a change someone made to one of this collection's own statements (C(OrgShareUse-...),
        C(OrgShareGrants-...)) that narrows it - an extra condition such as C(aws:PrincipalTag/...) or
        C(aws:SourceVpce), or a Principal narrower than everyone.
      - V(false) keeps it - the statement is updated around it (new OUs, actions) and a run never widens it back.
      - V(true) writes the statement as this collection builds it, removing those additions, with a warning that
        names the statement, the key and what was removed, and lists them in RV(replaced_statements).
    type: bool
    default: false
  drop_orphaned_principals:
    description:
      - A key policy shows a deleted IAM user or role as its unique id (C(AIDA...), C(AROA...)), and KMS refuses to write
        a policy that names one (C(MalformedPolicyDocumentException), invalid principals), so no grant could be changed.
      - V(false) fails before any write, naming each such statement and id.
      - V(true) removes those ids from the other statements (a statement left with no principal goes), with a warning, and
        lists them in RV(dropped_principals). Only when the policy is written anyway.
    type: bool
    default: false
  allow_grants:
    description:
      - Whether to keep the statements C(OrgShareGrants-...) and C(OrgShareAccountGrants) that let consumers create grants
        for AWS resources (EBS creates one when it launches an instance from an encrypted snapshot).
    type: bool
    default: true
  revoke_in_use:
    description:
      - "With O(state=absent), a grant that another AMI still needs is kept: the caller's AMIs in the key's region
        with a snapshot encrypted with the key, that are still shared with the organization (or one of its OUs),
        with the OU (or an OU below it), or with the account, keep that principal's grant, and RV(kept) and a
        warning say what was kept for which AMIs. Unshare those AMIs first (M(orgshare.aws.ami_org_share)), or set
        V(true) to remove the grants anyway (launches from those AMIs by those principals then fail)."
      - Needs C(ec2:DescribeImages), C(ec2:DescribeSnapshots), C(ec2:DescribeImageAttribute) and, for nested OUs,
        C(organizations:ListParents) (an OU whose place cannot be read keeps the grant, as it may need it).
    type: bool
    default: false
  unshared_image_ids:
    description:
      - With O(state=absent), AMIs whose shares do not count as needing a grant (see O(revoke_in_use)) because the same
        run unshares them, for example the old versions M(orgshare.aws.ami_retire) retires. Check mode then predicts the
        revocation that the run makes once those AMIs are unshared; without them it would predict the grants kept.
      - An AMI listed here that is still shared when the key is revoked loses the grant its launches need; list only
        AMIs the run unshares before it revokes.
    type: list
    elements: str
    default: []
notes:
  - >-
    Check mode is supported and predicts the result with the same keys as a real run (for each key of O(keys));
    diff mode shows the key policy before and after (in each entry of RV(keys) with O(keys)).
  - The module is idempotent; a second run with the same options reports no change and makes no write.
  - >-
    IAM permissions: the module calls C(kms:DescribeKey), C(kms:GetKeyPolicy), C(kms:PutKeyPolicy) and, only to turn OU ARNs or ids into
    paths, C(organizations:ListParents) (and C(organizations:DescribeOrganization) for bare OU ids); with O(state=absent)
    (unless O(revoke_in_use)), C(ec2:DescribeImages), C(ec2:DescribeSnapshots) and C(ec2:DescribeImageAttribute) to find the
    AMIs that still need a grant.
  - >-
    Concurrent writers: PutKeyPolicy replaces the whole document and has no conditional write. Runs on one host serialise on the key
    with a lock file (C(fcntl.flock)) under C($ORGSHARE_KMS_LOCK_DIR) or the temporary directory; with O(keys), up to 16 keys are
    handled at once, in threads of one process, each under its own key's lock. After writing, the module reads the policy
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

- name: Let the organization and one more account use the keys of the AMI copies in two regions, in one call
  orgshare.aws.kms_org_grant:
    keys:
      - key_id: alias/golden-images
        region: eu-west-1
      - key_id: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
        region: us-east-1
    organization: o-exampleorgid
    account_ids: ["444455556666"]
  register: grants

- name: Show the key ARN of each region
  ansible.builtin.debug:
    msg: "{{ grants['keys'] | items2dict(key_name='region', value_name='kms_key_arn') }}"
"""

RETURN = r"""
key_id:
  description: The key's id.
  returned: with O(key_id)
  type: str
  sample: 1234abcd-12ab-34cd-56ef-1234567890ab
key_arn:
  description: The key's ARN (the same as RV(kms_key_arn)).
  returned: with O(key_id)
  type: str
  sample: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
kms_key_arn:
  description: The key's ARN, under the name the collection gives a key ARN in every result.
  returned: with O(key_id)
  type: str
  sample: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
region:
  description: The key's region.
  returned: with O(key_id)
  type: str
  sample: eu-west-1
policy:
  description: The key policy after the run (predicted in check mode).
  returned: with O(key_id)
  type: dict
statements:
  description:
    - The module's statements after the run, in the document's order, for the organization (when O(organization) is given)
      and for the accounts (when O(account_ids) is given). Empty when revoked.
  returned: with O(key_id)
  type: list
  elements: dict
covered_by_organization:
  description: Whether the grant covers the whole organization after the run (always V(false) without O(organization)).
  returned: with O(key_id)
  type: bool
kept:
  description:
    - With O(state=absent) (and not O(revoke_in_use)), the grants kept because other AMIs still need them.
  returned: with O(key_id) and O(state=absent)
  type: list
  elements: dict
  contains:
    kind:
      description: V(organization), V(organizational_unit) (its organization path) or V(account).
      type: str
      returned: always
      sample: organizational_unit
    principal:
      description: The organization id, OU path or account id.
      type: str
      returned: always
      sample: o-exampleorgid/r-ab12/ou-ab12-11111111/
    needed_by:
      description: The AMIs (in the key's region, encrypted with the key) still shared with it.
      type: list
      elements: str
      returned: always
      sample: ["ami-0123456789abcdef0"]
granted_account_ids:
  description:
    - The accounts the C(OrgShareAccountUse) and C(OrgShareAccountGrants) statements grant after the run, sorted
      (when O(account_ids) is not given, those already granted).
  returned: with O(key_id)
  type: list
  elements: str
  sample: ["111122223333", "444455556666"]
replaced_statements:
  description:
    - With O(replace_modified_statements=true), the statements of this collection that someone had narrowed and that the
      run replaced (in check mode, would replace), each with what was removed; empty otherwise.
  returned: with O(key_id)
  type: list
  elements: dict
  contains:
    sid:
      description: The statement's Sid.
      type: str
    conditions:
      description: The conditions someone had added, by operator, that were removed.
      type: dict
    principal:
      description: The narrower Principal someone had set, replaced by everyone (limited by the organization condition); null when unchanged.
      type: raw
  sample: [{"sid": "OrgShareUse-o-exampleorgid", "conditions": {"StringEquals": {"aws:PrincipalTag/team": "platform"}}, "principal": null}]
dropped_principals:
  description:
    - With O(drop_orphaned_principals=true), the unique ids of deleted users and roles removed from other statements
      (in check mode, that would be removed), by statement; empty otherwise.
  returned: with O(key_id)
  type: list
  elements: dict
  contains:
    sid:
      description: The statement's Sid (null for a statement without one).
      type: str
    principals:
      description: The unique ids removed from it.
      type: list
      elements: str
  sample: [{"sid": "Allow access for Key Administrators", "principals": ["AROAEXAMPLEEXAMPLE123"]}]
diff:
  description:
    - The key policy before and after.
    - With O(keys), a list of these, one per key whose policy changes, each also with C(before_header) and
      C(after_header) naming the key and its region (so that C(ansible-playbook --diff) shows every key's change).
  returned: in diff mode
  type: raw
  contains:
    before:
      description: The key policy before.
      type: dict
      returned: in diff mode
    after:
      description: The key policy after.
      type: dict
      returned: in diff mode
keys:
  description:
    - One entry per element of O(keys), in their order.
    - Read it as C(result['keys']) in Jinja (C(result.keys) is the method of the dictionary).
    - Also returned when the module fails because some keys failed; a failed key's entry has only RV(keys[].key_id),
      RV(keys[].region), RV(keys[].failed), RV(keys[].error_kind) and RV(keys[].msg).
  returned: with O(keys)
  type: list
  elements: dict
  contains:
    changed:
      description: Whether the key's policy was changed (in check mode, whether it would be).
      returned: success
      type: bool
      sample: true
    key_id:
      description: The key's id; for a failed key, the O(keys[].key_id) as given.
      returned: always
      type: str
      sample: 1234abcd-12ab-34cd-56ef-1234567890ab
    key_arn:
      description: The key's ARN (the same as RV(keys[].kms_key_arn)).
      returned: success
      type: str
      sample: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
    kms_key_arn:
      description: The key's ARN.
      returned: success
      type: str
      sample: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
    region:
      description: The key's region.
      returned: always
      type: str
      sample: eu-west-1
    policy:
      description: The key policy after the run (predicted in check mode).
      returned: success
      type: dict
    statements:
      description: The module's statements after the run, as RV(statements).
      returned: success
      type: list
      elements: dict
    covered_by_organization:
      description: Whether the grant covers the whole organization after the run, as RV(covered_by_organization).
      returned: success
      type: bool
    granted_account_ids:
      description: The accounts the account statements grant after the run, sorted, as RV(granted_account_ids).
      returned: success
      type: list
      elements: str
      sample: ["111122223333", "444455556666"]
    diff:
      description: The key policy before and after, with C(before) and C(after).
      returned: in diff mode, success
      type: dict
    failed:
      description: V(true) for a key that failed.
      returned: when the key failed
      type: bool
      sample: true
    error_kind:
      description:
        - For a key that failed, V(refused) when the module refused it (unknown key or alias, AWS managed key, the same key
          listed twice, a policy over the size limit), V(aws_error) when an AWS call failed (access denied, throttling past the retries).
      returned: when the key failed
      type: str
      sample: refused
    msg:
      description: Why the key failed.
      returned: when the key failed
      type: str
      sample: "keys[1].key_id: no KMS key or alias 'alias/golden-images' in region eu-west-1"
"""

import copy
import json
import re
import threading

try:
    import botocore  # noqa: F401  pylint: disable=unused-import
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.orgshare.aws.plugins.module_utils import _api
from ansible_collections.orgshare.aws.plugins.module_utils import _ec2
from ansible_collections.orgshare.aws.plugins.module_utils import _launch_permissions as lp
from ansible_collections.orgshare.aws.plugins.module_utils import _key_policy
from ansible_collections.orgshare.aws.plugins.module_utils import _kms
from ansible_collections.orgshare.aws.plugins.module_utils._clients import client_factory
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareInputError
from ansible_collections.orgshare.aws.plugins.module_utils._principals import OrganizationsResolver
from ansible_collections.orgshare.aws.plugins.module_utils._principals import is_organization_id
from ansible_collections.orgshare.aws.plugins.module_utils._principals import parse_organization_arn
from ansible_collections.orgshare.aws.plugins.module_utils._principals import validate_account_id
from ansible_collections.orgshare.aws.plugins.module_utils._targets import Outcome
from ansible_collections.orgshare.aws.plugins.module_utils._targets import TargetError
from ansible_collections.orgshare.aws.plugins.module_utils._targets import parse_targets
from ansible_collections.orgshare.aws.plugins.module_utils._targets import run_targets
from ansible_collections.orgshare.aws.plugins.module_utils._targets import combined_diff
from ansible_collections.orgshare.aws.plugins.module_utils._targets import summarise


class GrantError(OrgShareInputError):
    pass


KEYS_OPTION = "keys"
TARGET_KEYS = ("key_id", "region")


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
            resolver = OrganizationsResolver(clients.client("organizations"))
        path = (resolver or OrganizationsResolver(None)).ou_path(value, option="organizational_units")
        if path.split("/")[0] != org_id:
            raise GrantError(
                "organizational_units: {0!r} belongs to organization {1}, not to {2} (the organization option)".format(value, path.split("/")[0], org_id)
            )
        paths.append(path)
    return sorted(set(paths))


# IAM permissions of KMS that are not API operations: ReEncrypt is authorised as kms:ReEncryptFrom on the
# source key and kms:ReEncryptTo on the destination key (AWS KMS Developer Guide, "AWS KMS permissions",
# https://docs.aws.amazon.com/kms/latest/developerguide/kms-api-permissions-reference.html).
PERMISSION_ONLY_ACTIONS = ("ReEncryptFrom", "ReEncryptTo")
WILDCARD_ACTIONS = ("*", "kms:*")


def known_kms_actions():
    """Every KMS action name: the operations of botocore's KMS service model, plus the permission-only ones."""
    import botocore.session  # the module needs botocore anyway (AnsibleAWSModule checks it)

    model = botocore.session.get_session().get_service_model("kms")
    return sorted(set(model.operation_names) | set(PERMISSION_ONLY_ACTIONS))


def _pattern_matches(pattern, name):
    return re.match("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$", name, re.IGNORECASE) is not None


def validate_actions(actions, allow_wildcard=False, known=None):
    """The ``actions`` option: KMS actions botocore knows (wildcards must match one), never ``*`` / ``kms:*`` unless allowed."""
    if actions is None:
        return None
    bad = [a for a in actions if not isinstance(a, str) or not (a == "*" or a.lower().startswith("kms:"))]
    if bad or not actions:
        raise GrantError("actions: expected a non-empty list of KMS actions such as kms:Decrypt or kms:ReEncrypt*, got {0!r}".format(bad or actions))
    wild = [a for a in actions if a.lower() in WILDCARD_ACTIONS]
    if wild and not allow_wildcard:
        raise GrantError(
            "actions: {0} would let every consumer of the organization / OUs / accounts do everything with the key, "
            "kms:PutKeyPolicy and kms:ScheduleKeyDeletion included; list the actions they need (the default is what a "
            "launch needs), or set allow_wildcard_actions=true".format(", ".join(wild))
        )
    known = known if known is not None else known_kms_actions()
    unknown = [a for a in actions if a.lower() not in WILDCARD_ACTIONS and not any(_pattern_matches(a[4:], k) for k in known)]
    if unknown:
        raise GrantError(
            "actions: {0} {1} no KMS action (checked against the KMS actions botocore knows); expected names such as "
            "kms:Decrypt, kms:GenerateDataKey*, kms:ReEncrypt*".format(", ".join(repr(a) for a in unknown), "matches" if len(unknown) == 1 else "match")
        )
    return actions


class Grant:
    """The principals and options of a call, validated once and applied to every key."""

    def __init__(self, params):
        self.org_id = organization_id(params["organization"]) if params["organization"] is not None else None
        self.account_ids = None
        if params["account_ids"] is not None:
            self.account_ids = sorted(set(validate_account_id(a, option="account_ids") for a in params["account_ids"]))
        self.state = params["state"]
        self.options = dict(state=params["state"], purge=params["purge"], actions=validate_actions(params["actions"], params.get("allow_wildcard_actions")),
                            allow_grants=params["allow_grants"])
        self.replace_modified = bool(params.get("replace_modified_statements"))
        self.drop_orphaned = bool(params.get("drop_orphaned_principals"))
        self.ou_values = params["organizational_units"]
        self.paths = []
        self.revoke_org = True  # False: leave the organization's statements alone (another AMI needs them)
        self.keep_in_use = params["state"] == "absent" and not params.get("revoke_in_use")
        self.unshared_image_ids = frozenset(
            _check_unshared_image_id(v, "unshared_image_ids[%d]" % i) for i, v in enumerate(params.get("unshared_image_ids") or [])
        )
        self.resolver = None
        self.verify_delay = params.get("verify_delay") or 0
        self.on_lost = params.get("on_lost_statements") or "fail"
        if self.verify_delay < 0:
            raise GrantError("verify_delay: a number of seconds, 0 or more (got {0!r})".format(self.verify_delay))

    def resolve(self, clients):
        """Turn OU ARNs and ids into paths (AWS Organizations, where needed): once per call."""
        self.paths = ou_paths(clients, self.org_id, self.ou_values) if self.org_id else []
        self.resolver = OrganizationsResolver(clients.client("organizations")) if self.org_id and self.keep_in_use else None

    def planner(self, partition):
        # What the last plan that changed the policy replaced of others' changes to our statements
        # (replace_modified_statements); a later plan of the planned policy itself changes nothing.
        replaced = []
        dropped = []  # the orphaned principals the last plan that writes removes (drop_orphaned_principals)

        def plan(policy):
            changed, covered = False, False
            found = []
            if self.org_id and self.revoke_org:
                changed, policy, _org_statements, covered = _key_policy.plan(
                    policy, self.org_id, self.paths, replace_modified=self.replace_modified, replaced=found, **self.options)
                if changed:
                    replaced[:] = found
            if self.account_ids is not None:
                accounts_changed, policy, _account_statements, _granted = _key_policy.plan_accounts(
                    policy, self.account_ids, partition=partition, **self.options
                )
                changed = changed or accounts_changed
            sids = set()
            if self.org_id:
                sids.update((_key_policy.use_sid(self.org_id), _key_policy.grants_sid(self.org_id)))
            if self.account_ids is not None:
                sids.update(_key_policy.ACCOUNT_SIDS)
            if changed:
                # PutKeyPolicy refuses a document that names a deleted user or role (its unique id): say so before
                # writing, or drop them when asked; a policy that needs no write is left as it is.
                orphans = _key_policy.orphaned_principals(policy, skip_sids=sids)
                if orphans and not self.drop_orphaned:
                    raise GrantError(
                        "the key policy names deleted IAM users or roles (their unique ids) in {0}: KMS refuses to write a "
                        "policy with them (MalformedPolicyDocumentException: invalid principals), so no grant can be added "
                        "or removed. Remove them from the key policy, or set drop_orphaned_principals=true to drop them "
                        "(a statement left with no principal goes)".format(
                            "; ".join("statement {0} ({1})".format(o["sid"] if o["sid"] is not None else "#%d" % o["index"],
                                                                   ", ".join(o["principals"])) for o in orphans)))
                if orphans:
                    policy = _key_policy.without_principals(policy, orphans)
                dropped[:] = [{"sid": o["sid"], "principals": o["principals"]} for o in orphans]
            ours = [s for s in _key_policy.statements_of(policy) if isinstance(s, dict) and s.get("Sid") in sids]
            return changed, policy, ours, covered

        plan.replaced = replaced
        plan.dropped = dropped
        return plan


# ---- revocation keeps what another AMI still needs -------------------------------------------------


def _check_unshared_image_id(value, option):
    if not isinstance(value, str) or not _ec2.is_image_id(value.strip()):
        raise GrantError("{0}: {1!r} is not an AMI id; expected the form ami-0123456789abcdef0".format(option, value))
    return value.strip()


class RegionImages:
    """The caller's encrypted AMIs of one region and their snapshots' keys, read once (DescribeImages,
    DescribeSnapshots) however many keys of that region a call revokes on; safe to share between threads."""

    def __init__(self, ec2):
        self.ec2 = ec2
        self._lock = threading.Lock()
        self._read = None

    def read(self):
        """({image id: its encrypted snapshot ids}, {snapshot id: KMS key ARN})."""
        with self._lock:
            if self._read is None:
                snapshots_of = {}
                for image in _api.describe_images(self.ec2, "the caller's images", Owners=["self"]):
                    ids = _ec2.image_snapshot_ids(image, encrypted_only=True)
                    if ids:
                        snapshots_of[image["ImageId"]] = ids
                wanted = sorted(set(i for ids in snapshots_of.values() for i in ids))
                snapshots = _api.describe_snapshots(self.ec2, wanted) if wanted else []
                self._read = (snapshots_of, dict((snap["SnapshotId"], snap.get("KmsKeyId")) for snap in snapshots))
            return self._read


def images_using_key(region_images, key_arn):
    """{image id: launch permissions (our shape)} of the caller's AMIs in the region of ``region_images`` (a
    RegionImages) that have a snapshot encrypted with ``key_arn`` (plus DescribeImageAttribute for those)."""
    ec2 = region_images.ec2
    snapshots_of, key_of = region_images.read()
    out = {}
    for image_id in sorted(snapshots_of):
        if any(key_of.get(i) == key_arn for i in snapshots_of[image_id]):
            entries = _api.describe_launch_permissions(ec2, image_id)
            if entries is not None:
                out[image_id] = lp.from_api(entries)
    return out


def _ou_id(arn):
    return arn.rsplit("/", 1)[-1]


def _org_of_ou_arn(arn):
    return arn.split(":ou/", 1)[1].split("/", 1)[0]


def in_use(grant, images, resolver):
    """What of ``grant``'s revocation the AMIs in ``images`` (shared, under the key) still need.

    Returns (org_needed_by, {path: needed_by}, {account: needed_by}, notes): ``needed_by`` a sorted list of
    image ids. The organization-wide statement is needed by an AMI shared with the organization or one of
    its OUs; an OU path by an AMI shared with that OU or an OU below it (its path is read through
    Organizations; when it cannot be, the path is kept, as it may be needed, and a note says so); an
    account statement by an AMI shared with that account."""
    org_needed, path_needed, account_needed, notes = set(), {}, {}, []
    org_id = grant.org_id
    paths = list(grant.paths) if org_id else []
    for image_id, perms in sorted(images.items()):
        if org_id:
            org_arns = [a for a in perms["organization_arns"] if a.rsplit("/", 1)[-1] == org_id]
            ou_arns = [a for a in perms["organizational_unit_arns"] if _org_of_ou_arn(a) == org_id]
            if not paths and (org_arns or ou_arns):
                org_needed.add(image_id)
            for path in paths:
                target = path.rstrip("/").rsplit("/", 1)[-1]
                for arn in ou_arns:
                    if _ou_id(arn) == target:
                        path_needed.setdefault(path, set()).add(image_id)
                        continue
                    try:
                        shared_path = resolver.ou_path(arn)
                    except Exception as e:  # pylint: disable=broad-except  # unknown: keep, and say why
                        path_needed.setdefault(path, set()).add(image_id)
                        notes.append("the place of OU %s (shared with AMI %s) in the organization could not be read (%s), so the "
                                     "grant for %s is kept: it may be needed" % (arn, image_id, e, path))
                        continue
                    if shared_path.startswith(path):
                        path_needed.setdefault(path, set()).add(image_id)
        for account in grant.account_ids or []:
            if account in perms["account_ids"]:
                account_needed.setdefault(account, set()).add(image_id)
    return (sorted(org_needed), dict((k, sorted(v)) for k, v in path_needed.items()),
            dict((k, sorted(v)) for k, v in account_needed.items()), notes)


def narrowed(grant, org_needed, path_needed, account_needed):
    """A copy of ``grant`` that revokes only what no other AMI needs, and the list of what was kept."""
    kept = []
    narrow = copy.copy(grant)
    if grant.org_id and not grant.paths and org_needed:
        narrow.revoke_org = False
        kept.append(dict(kind="organization", principal=grant.org_id, needed_by=org_needed))
    if grant.org_id and grant.paths:
        narrow.paths = [p for p in grant.paths if p not in path_needed]
        kept += [dict(kind="organizational_unit", principal=p, needed_by=path_needed[p]) for p in grant.paths if p in path_needed]
        if not narrow.paths:
            narrow.revoke_org = False
    if grant.account_ids is not None:
        narrow.account_ids = [a for a in grant.account_ids if a not in account_needed]
        kept += [dict(kind="account", principal=a, needed_by=account_needed[a]) for a in grant.account_ids if a in account_needed]
        if not narrow.account_ids:
            narrow.account_ids = None
    return narrow, kept


def describe(client, key_id, region, label="key_id"):
    """The key's metadata; GrantError for an unknown key or alias and for an AWS managed key."""
    key = _api.describe_key(client, key_id)
    if key is None:
        raise GrantError("{0}: no KMS key or alias {1!r} in region {2}".format(label, key_id, region))
    if key.get("KeyManager") == "AWS":
        raise GrantError(
            "{0}: {1!r} is an AWS managed key ({2}); its policy cannot be changed, and AMIs encrypted with it cannot be shared. "
            "Copy the AMI under a customer managed key (orgshare.aws.ami_copy) and grant that key instead".format(label, key_id, key["Arn"])
        )
    return key


def converge(client, key, region, grant, check_mode, diff, warnings, ec2=None):
    """What run() does for one described key: its result dict; warnings are appended to ``warnings``. ``ec2``: the
    region's RegionImages, to keep the grants other AMIs need (state=absent)."""
    state = key.get("KeyState")
    if state in ("Disabled", "PendingDeletion", "PendingReplicaDeletion"):
        warnings.append("Key {0} is in state {1}: the grant is written, but nobody can use the key until it is enabled".format(key["Arn"], state))
    partition = key["Arn"].split(":")[1]
    kept = []
    if grant.keep_in_use and ec2 is not None:
        using = dict((i, p) for i, p in images_using_key(ec2, key["Arn"]).items() if i not in grant.unshared_image_ids)
        org_needed, path_needed, account_needed, notes = in_use(grant, using, grant.resolver)
        grant, kept = narrowed(grant, org_needed, path_needed, account_needed)
        warnings.extend(notes)
        for item in kept:
            warnings.append(
                "Kept the grant of key {0} to {1} {2}: AMI(s) {3} in {4}, encrypted with this key, are still shared with it "
                "(revoke_in_use=true removes it anyway)".format(
                    key["Arn"], item["kind"].replace("_", " "), item["principal"], ", ".join(item["needed_by"]), region))
    planner = grant.planner(partition)
    changed, before, after, ours, covered = _kms.converge_key_policy(
        client, key["Arn"], planner, check_mode=check_mode, verify_delay=grant.verify_delay,
        on_lost=grant.on_lost, warnings=warnings)
    replaced = list(planner.replaced) if changed else []
    dropped = list(planner.dropped) if changed else []
    for item in dropped:
        warnings.append("{0} the deleted IAM user(s) / role(s) {1} from statement {2} of key {3} (drop_orphaned_principals=true)".format(
            "Would drop" if check_mode else "Dropped", ", ".join(item["principals"]), item["sid"], key["Arn"]))
    for item in replaced:
        dropped = []
        if item["conditions"]:
            dropped.append("condition(s) %s" % json.dumps(item["conditions"], sort_keys=True))
        if item["principal"] is not None:
            dropped.append("Principal %s (now everyone, limited by the organization condition)" % json.dumps(item["principal"], sort_keys=True))
        warnings.append("{0} statement {1} of key {2}, which someone had changed: {3} {4} (replace_modified_statements=true)".format(
            "Would replace" if check_mode else "Replaced", item["sid"], key["Arn"], " and ".join(dropped),
            "would be removed" if check_mode else "removed"))
    if grant.state == "absent" and grant.paths and covered:
        warnings.append(
            "The grant to organization {0} covers the whole organization, so no OU can be taken out of it; "
            "use state=present with purge=true to narrow it, or state=absent without organizational_units to remove it".format(grant.org_id)
        )
    result = dict(
        changed=changed,
        key_id=key["KeyId"],
        key_arn=key["Arn"],
        kms_key_arn=key["Arn"],
        region=region,
        policy=after,
        statements=ours,
        covered_by_organization=covered,
        granted_account_ids=_key_policy.granted_account_ids(after),
        replaced_statements=replaced,
        dropped_principals=dropped,
    )
    if grant.keep_in_use:
        result["kept"] = kept
    if diff:
        result["diff"] = dict(before=before, after=after)
    return result


def run(module):
    """One key (key_id): the module's result; raises on any failure."""
    params = module.params
    region = module.region
    problem = _kms.key_id_problem(params["key_id"], region)
    if problem:
        raise GrantError("key_id: {0!r} {1}".format(params["key_id"], problem))
    grant = Grant(params)
    # One boto3 session for every client (module.client() makes a new session per client)
    clients = client_factory(module)
    grant.resolve(clients)
    client = clients.client("kms")
    region = client.meta.region_name
    key = describe(client, params["key_id"], region)
    ec2 = RegionImages(clients.client("ec2", region)) if grant.keep_in_use else None
    warnings = []
    try:
        return converge(client, key, region, grant, module.check_mode, module._diff, warnings, ec2=ec2)
    finally:
        for warning in warnings:
            module.warn(warning)


# ---- keys: many keys per call ---------------------------------------------------------------------


def _validate_key_id(value, option):
    problem = _kms.key_id_problem(value)
    if problem:
        raise TargetError("{0}: {1!r} {2}".format(option, value, problem))


def parse_keys(items, default_region):
    """The validated elements of ``keys`` (key_id, region, index), before any AWS call."""
    targets = parse_targets(items, KEYS_OPTION, "key_id", TARGET_KEYS, default_region, _validate_key_id)
    for index, target in enumerate(targets):
        label = "{0}[{1}]".format(KEYS_OPTION, index)
        source = "{0}.region".format(label) if items[index].get("region") else "{0}.region (the module's region)".format(label)
        problem = _kms.key_id_problem(target["key_id"], target["region"], region_source=source)
        if problem:
            raise TargetError("{0}.key_id: {1!r} {2}".format(label, target["key_id"], problem))
        target["index"] = index
        target["label"] = label
        target["warnings"] = []
    return targets


def same_key_errors(described):
    """{target index: error} for the targets whose key another target names too (alias and ARN of one key).

    They are refused, all of them, rather than run one after the other: two elements for one key
    ask for one policy twice, and which of their results stands would depend on the order."""
    by_arn = {}
    for outcome in described:
        if outcome.error is None:
            by_arn.setdefault(outcome.result["Arn"], []).append(outcome.target)
    errors = {}
    for arn, targets in by_arn.items():
        if len(targets) < 2:
            continue
        names = ", ".join("{0} ({1!r})".format(t["label"], t["key_id"]) for t in targets)
        for target in targets:
            errors[target["index"]] = GrantError(
                "{0}.key_id: {1} are the same key {2}; list each key once (none of them was changed)".format(target["label"], names, arn)
            )
    return errors


def failed_entry(target, message):
    return dict(key_id=target["key_id"], region=target["region"], failed=True, msg=message)


def run_keys(module):
    """Every key of ``keys``, concurrently: (entries, changed, failure message or None)."""
    targets = parse_keys(module.params[KEYS_OPTION], module.region)
    grant = Grant(module.params)
    clients = client_factory(module)
    grant.resolve(clients)
    # Every client in this thread, from the one session (boto3 sessions are not thread-safe; their clients are)
    kms = clients.clients("kms", sorted(set(t["region"] for t in targets)))
    ec2 = {}
    if grant.keep_in_use:
        ec2 = dict((r, RegionImages(c)) for r, c in clients.clients("ec2", sorted(set(t["region"] for t in targets))).items())

    described = run_targets(lambda t: describe(kms[t["region"]], t["key_id"], t["region"], label=t["label"] + ".key_id"), targets)
    refused = same_key_errors(described)
    keys = dict((o.target["index"], o.result) for o in described if o.error is None and o.target["index"] not in refused)

    def apply(target):
        return converge(kms[target["region"]], keys[target["index"]], target["region"], grant, module.check_mode, module._diff,
                        target["warnings"], ec2=ec2.get(target["region"]))

    applied = dict((o.target["index"], o) for o in run_targets(apply, [t for t in targets if t["index"] in keys]))
    outcomes = []
    for outcome in described:
        index = outcome.target["index"]
        if index in refused:
            outcome = Outcome(outcome.target, None, refused[index])
        outcomes.append(applied.get(index, outcome))
    for target in targets:
        for warning in target["warnings"]:
            module.warn("{0} ({1} in {2}): {3}".format(target["label"], target["key_id"], target["region"], warning))
    return summarise(outcomes, "key_id", failed_entry)


def main():
    argument_spec = dict(
        key_id=dict(type="str"),
        keys=dict(
            type="list",
            elements="dict",
            no_log=False,
            options=dict(
                key_id=dict(type="str", required=True),
                region=dict(type="str"),
            ),
        ),
        organization=dict(type="str"),
        organizational_units=dict(type="list", elements="str"),
        account_ids=dict(type="list", elements="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        purge=dict(type="bool", default=False),
        actions=dict(type="list", elements="str"),
        allow_grants=dict(type="bool", default=True),
        revoke_in_use=dict(type="bool", default=False),
        unshared_image_ids=dict(type="list", elements="str", default=[]),
        allow_wildcard_actions=dict(type="bool", default=False),
        replace_modified_statements=dict(type="bool", default=False),
        drop_orphaned_principals=dict(type="bool", default=False),
        verify_delay=dict(type="float", default=1.0),
        on_lost_statements=dict(type="str", choices=["fail", "warn"], default="fail"),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        mutually_exclusive=[["key_id", "keys"]],
        required_one_of=[["key_id", "keys"], ["organization", "account_ids"]],
        required_by={"organizational_units": "organization"},
        supports_check_mode=True,
    )
    # Refused input (PrincipalError, GrantError, TargetError, KeyPolicyError) is an OrgShareInputError.
    if module.params[KEYS_OPTION] is None:
        try:
            result = run(module)
        except OrgShareInputError as e:
            module.fail_json(msg=str(e))
        except AnsibleAWSError as e:
            module.fail_json_aws_error(e)
        module.exit_json(**result)

    try:
        entries, changed, msg = run_keys(module)
    except OrgShareInputError as e:
        module.fail_json(msg=str(e))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    extra = {"diff": combined_diff(entries, "key_id")} if module._diff else {}  # shown by ansible-playbook --diff
    if msg:
        module.fail_json(msg=msg, changed=changed, keys=entries, **extra)
    module.exit_json(changed=changed, keys=entries, **extra)


if __name__ == "__main__":
    main()
