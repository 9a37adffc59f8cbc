#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ami_org_share
version_added: 0.1.0
short_description: Share an AMI with AWS Organizations, OUs, accounts or everyone, idempotently
description:
  - Manages who may launch one AMI in one region (the O(region) option) through the AMI's launch permissions.
  - Principals are organizations, organizational units (OUs), AWS accounts, and everyone (O(public)).
  - An option that is not given leaves that kind of principal alone; only O(purge=true) removes principals that are not listed.
  - All additions and removals are made with a single C(ModifyImageAttribute) call, or none when nothing changes.
  - >-
    Before anything is written the module checks that every value is well formed, that the AMI exists in the region,
    that the caller's account owns it, and, when principals are added, that its snapshots are not encrypted with the
    AWS managed key C(alias/aws/ebs) (AWS refuses to share such AMIs; a copy under a customer managed key can be shared,
    see M(orgshare.aws.ami_copy) and the role C(orgshare.aws.ami_distribute)).
  - >-
    IAM permissions: the module calls C(ec2:DescribeImages), C(ec2:DescribeImageAttribute), C(ec2:ModifyImageAttribute),
    C(ec2:DescribeSnapshots), C(kms:DescribeKey), C(sts:GetCallerIdentity) and, only to resolve bare organization or OU ids,
    C(organizations:DescribeOrganization) and C(organizations:DescribeOrganizationalUnit).
author:
  - orgshare.aws maintainers (@orgshare)
options:
  image_id:
    description:
      - The id of the AMI, in the region given by O(region).
    type: str
    required: true
  organization_arns:
    description:
      - Organizations, as ARNs (C(arn:aws:organizations::123456789012:organization/o-exampleorgid)).
      - A bare organization id (C(o-exampleorgid)) is resolved to its ARN with C(organizations:DescribeOrganization),
        which works from any member account.
    type: list
    elements: str
    aliases: [org_arns]
  organizational_unit_arns:
    description:
      - Organizational units, as ARNs (C(arn:aws:organizations::123456789012:ou/o-exampleorgid/ou-ab12-exampleouid)).
      - A bare OU id (C(ou-ab12-exampleouid)) is resolved to its ARN with C(organizations:DescribeOrganizationalUnit),
        which needs the management account or a delegated administrator; otherwise give the ARN.
    type: list
    elements: str
    aliases: [ou_arns, org_unit_arns]
  account_ids:
    description:
      - AWS account ids (12 digits).
    type: list
    elements: str
    aliases: [user_ids]
  public:
    description:
      - V(true) makes the AMI public (launch permission group C(all)), V(false) makes it private again.
      - When not given, the public permission is left alone (unless O(purge=true) and O(state=present)).
      - With O(state=absent) any value removes the public permission.
    type: bool
  state:
    description:
      - V(present) ensures the listed principals may launch the AMI.
      - V(absent) ensures the listed principals may not launch the AMI (by explicit permission).
        A missing AMI is then not an error, as there is nothing to remove.
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With O(state=present), also remove every principal that is not listed, the public permission included
        unless O(public=true), so that the result is exactly the list.
      - Ignored with O(state=absent).
    type: bool
    default: false
notes:
  - Supports check mode (the result, with the same keys, is the prediction and nothing is written),
    diff mode (C(diff.before) and C(diff.after) in the shape of RV(launch_permissions)), and is idempotent.
  - Removing an account that is also covered by a shared organization or OU succeeds, yet the account keeps its
    access through the organization or OU; the module warns when this may be the case.
  - AMIs whose snapshots are encrypted with a customer managed key can be shared, but launches fail until the key
    policy lets the new principals use the key; the module warns, see M(orgshare.aws.kms_org_grant).
  - Throttling (C(RequestLimitExceeded)) is retried with a jittered backoff.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Let an organization and one OU launch an AMI; other principals are left alone
  orgshare.aws.ami_org_share:
    region: eu-west-1
    image_id: ami-0123456789abcdef0
    organization_arns:
      - arn:aws:organizations::111122223333:organization/o-exampleorgid
    organizational_unit_arns:
      - arn:aws:organizations::111122223333:ou/o-exampleorgid/ou-ab12-exampleouid

- name: Share with exactly these accounts (every other principal, public included, is removed)
  orgshare.aws.ami_org_share:
    region: eu-west-1
    image_id: ami-0123456789abcdef0
    account_ids:
      - "444455556666"
      - "777788889999"
    purge: true

- name: Resolve a bare organization id to its ARN (needs organizations:DescribeOrganization)
  orgshare.aws.ami_org_share:
    image_id: ami-0123456789abcdef0
    organization_arns: [o-exampleorgid]

- name: Stop sharing with one account and make sure the AMI is not public
  orgshare.aws.ami_org_share:
    image_id: ami-0123456789abcdef0
    account_ids: ["444455556666"]
    public: false
    state: absent

- name: Unshare the AMI completely
  orgshare.aws.ami_org_share:
    image_id: ami-0123456789abcdef0
    purge: true
"""

RETURN = r"""
image_id:
  description: The id of the AMI.
  returned: always
  type: str
  sample: ami-0123456789abcdef0
region:
  description: The region of the AMI.
  returned: always
  type: str
  sample: eu-west-1
launch_permissions:
  description:
    - Who may launch the AMI by explicit permission after the run (predicted in check mode).
    - Accounts that reach the AMI through a shared organization or OU are not listed.
  returned: always
  type: dict
  contains:
    organization_arns:
      description: Organization ARNs, sorted.
      type: list
      elements: str
      returned: always
      sample: ["arn:aws:organizations::111122223333:organization/o-exampleorgid"]
    organizational_unit_arns:
      description: OU ARNs, sorted.
      type: list
      elements: str
      returned: always
      sample: ["arn:aws:organizations::111122223333:ou/o-exampleorgid/ou-ab12-exampleouid"]
    account_ids:
      description: Account ids, sorted.
      type: list
      elements: str
      returned: always
      sample: ["444455556666"]
    public:
      description: Whether everyone may launch the AMI.
      type: bool
      returned: always
      sample: false
added:
  description: The launch permissions added (to be added in check mode), in the shape of RV(launch_permissions).
  returned: always
  type: dict
  sample: {"organization_arns": [], "organizational_unit_arns": [], "account_ids": ["444455556666"], "public": false}
removed:
  description: The launch permissions removed (to be removed in check mode), in the shape of RV(launch_permissions).
  returned: always
  type: dict
  sample: {"organization_arns": [], "organizational_unit_arns": [], "account_ids": [], "public": true}
diff:
  description: The launch permissions before and after, in the shape of RV(launch_permissions).
  returned: in diff mode
  type: dict
  contains:
    before:
      description: Before the run.
      type: dict
      returned: in diff mode
    after:
      description: After the run (predicted in check mode).
      type: dict
      returned: in diff mode
"""

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.orgshare.aws.plugins.module_utils import _ec2
from ansible_collections.orgshare.aws.plugins.module_utils._clients import client_factory
from ansible_collections.orgshare.aws.plugins.module_utils import _launch_permissions as lp
from ansible_collections.orgshare.aws.plugins.module_utils._principals import OrganizationsResolver
from ansible_collections.orgshare.aws.plugins.module_utils._principals import PrincipalError
from ansible_collections.orgshare.aws.plugins.module_utils._principals import is_organization_id
from ansible_collections.orgshare.aws.plugins.module_utils._principals import is_ou_id
from ansible_collections.orgshare.aws.plugins.module_utils._principals import normalise_principals

AWS_MANAGED = "AWS"


class ShareError(ValueError):
    """A reason, found before any write, why the requested change cannot be made."""


class KeyErrorHandler(AWSErrorHandler):
    pass


@KeyErrorHandler.common_error_handler("describe KMS key {key_id}")
@AWSRetry.jittered_backoff(retries=10, delay=1, max_delay=20, catch_extra_error_codes=["ThrottlingException"])
def describe_key(client, key_id):
    return client.describe_key(KeyId=key_id)["KeyMetadata"]


@KeyErrorHandler.common_error_handler("find the caller's account (sts:GetCallerIdentity)")
@AWSRetry.jittered_backoff(retries=10, delay=1, max_delay=20, catch_extra_error_codes=["Throttling"])
def caller_account(client):
    return client.get_caller_identity()["Account"]


def desired_principals(module, clients):
    """The listed principals, validated, bare organization / OU ids resolved to ARNs (None: not given)."""
    params = module.params
    org_values = params.get("organization_arns")
    ou_values = params.get("organizational_unit_arns")
    # An Organizations client only when there is something to resolve, so that callers without
    # Organizations rights who give ARNs never call it.
    needs_organizations = any(is_organization_id(v) for v in org_values or []) or any(is_ou_id(v) for v in ou_values or [])
    resolver = OrganizationsResolver(clients.client("organizations") if needs_organizations else None)
    return normalise_principals(
        organization_arns=org_values,
        organizational_unit_arns=ou_values,
        account_ids=params.get("account_ids"),
        resolver=resolver,
    )


def check_snapshot_keys(module, clients, ec2, image):
    """Fail when the AMI's snapshots use the AWS managed key; warn when they use customer managed keys."""
    snapshot_ids = _ec2.image_snapshot_ids(image, encrypted_only=True)
    if not snapshot_ids:
        return
    key_snapshots = {}
    for snapshot in _ec2.describe_snapshots(ec2, snapshot_ids):
        if snapshot.get("Encrypted") and snapshot.get("KmsKeyId"):
            key_snapshots.setdefault(snapshot["KmsKeyId"], []).append(snapshot["SnapshotId"])
    if not key_snapshots:
        return
    kms = clients.client("kms")
    managed_by_aws, customer_keys = [], []
    for key_id in sorted(key_snapshots):
        metadata = describe_key(kms, key_id)
        if metadata.get("KeyManager") == AWS_MANAGED:
            managed_by_aws.append(key_id)
        else:
            customer_keys.append(metadata.get("Arn") or key_id)
    image_id = image["ImageId"]
    if managed_by_aws:
        snapshots = sorted(s for k in managed_by_aws for s in key_snapshots[k])
        raise ShareError(
            "AMI %s cannot be shared: its snapshot(s) %s are encrypted with the AWS managed key (alias/aws/ebs) %s, "
            "whose key policy cannot let other accounts use it, so AWS refuses to share the AMI. Copy the AMI under a "
            "customer managed key (module orgshare.aws.ami_copy, or role orgshare.aws.ami_distribute) and share the copy."
            % (image_id, ", ".join(snapshots), ", ".join(managed_by_aws))
        )
    module.warn(
        "AMI %s is encrypted with the customer managed key(s) %s: sharing works, but launches by the new principals fail "
        "unless the key policy lets them use the key(s); grant that with orgshare.aws.kms_org_grant."
        % (image_id, ", ".join(customer_keys))
    )


def result_for(module, image_id, changed, before, added, removed, after):
    result = dict(
        changed=changed,
        image_id=image_id,
        region=module.region,
        launch_permissions=lp.normalize(after),
        added=lp.normalize(added),
        removed=lp.normalize(removed),
    )
    if module._diff:
        result["diff"] = lp.diff(before, after)
    return result


def run(module):
    params = module.params
    image_id = params["image_id"].strip()
    state = params["state"]
    region = module.region
    if not _ec2.is_image_id(image_id):
        raise ShareError("image_id: %r is not an AMI id; expected the form ami-0123456789abcdef0" % image_id)
    # One boto3 session for every client (module.client() makes a new session per client)
    clients = client_factory(module)
    desired = desired_principals(module, clients)

    ec2 = clients.client("ec2")
    image = _ec2.get_image(ec2, image_id)
    if image is None:
        if state == "absent":
            nothing = lp.empty()
            return result_for(module, image_id, False, nothing, nothing, nothing, nothing)
        raise ShareError(
            "AMI %s was not found in region %s (AMIs are regional: set the region option to the AMI's region)" % (image_id, region)
        )
    account = caller_account(clients.client("sts"))
    if image.get("OwnerId") != account:
        raise ShareError(
            "AMI %s in region %s is owned by account %s, not by the caller's account %s: only the owner can change "
            "its launch permissions" % (image_id, region, image.get("OwnerId"), account)
        )

    entries = _ec2.describe_launch_permissions(ec2, image_id)
    if entries is None:  # deregistered between the two calls
        raise ShareError("AMI %s was not found in region %s" % (image_id, region))
    before = lp.from_api(entries)
    added, removed, after = lp.plan(
        before,
        organization_arns=desired.get("organization_arns"),
        organizational_unit_arns=desired.get("organizational_unit_arns"),
        account_ids=desired.get("account_ids"),
        public=params.get("public"),
        state=state,
        purge=params["purge"] and state == "present",
    )
    if not lp.is_empty(added):
        check_snapshot_keys(module, clients, ec2, image)
    covered = lp.accounts_still_covered(removed, after)
    if covered:
        module.warn(
            "Account(s) %s are removed from AMI %s, but the AMI stays shared with organization(s) or OU(s) %s: "
            "an account that is a member of those keeps its access through them."
            % (", ".join(covered), image_id, ", ".join(after["organization_arns"] + after["organizational_unit_arns"]))
        )

    changed = not (lp.is_empty(added) and lp.is_empty(removed))
    if changed and not module.check_mode:
        _ec2.modify_launch_permissions(ec2, image_id, add=lp.to_api(added), remove=lp.to_api(removed))
    return result_for(module, image_id, changed, before, added, removed, after)


def main():
    argument_spec = dict(
        image_id=dict(type="str", required=True),
        organization_arns=dict(type="list", elements="str", aliases=["org_arns"]),
        organizational_unit_arns=dict(type="list", elements="str", aliases=["ou_arns", "org_unit_arns"]),
        account_ids=dict(type="list", elements="str", aliases=["user_ids"]),
        public=dict(type="bool"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        purge=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        result = run(module)
    except (PrincipalError, ShareError) as e:
        module.fail_json(msg=str(e))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
