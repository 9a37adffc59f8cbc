#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ami_share_info
version_added: 0.1.0
short_description: Who can launch which AMI, in every region, and why a launch would fail
description:
  - Lists AMIs in one or more regions with whom each is shared (organizations, organizational units,
    accounts, public), the snapshots behind it and their KMS keys, and the problems that would make
    a launch fail or a revocation incomplete.
  - Regions are queried concurrently, and the per-image reads (launch permissions, snapshots in
    batches, each key's policy once however many AMIs use it) run concurrently in a bounded pool
    of 16 workers.
  - A region that fails (no access, throttled past retries) is reported in RV(failed_regions) and
    the other regions are still returned; the module then fails unless O(allow_partial=true).
  - "Problems reported, in RV(images[].problems), by code
    V(aws_managed_key) (a snapshot uses the AWS managed key, so the AMI cannot be shared),
    V(key_not_granted) (the AMI is shared with a principal the key policy does not let use the key:
    launches from there will fail),
    V(key_grant_unknown) (the key policy has conditions or principals the analysis does not understand,
    or the principal's place in the organization is unknown),
    V(key_policy_unreadable) (the key policy could not be read, so no analysis was made),
    V(account_in_shared_org) (an explicitly shared account is also reached through a shared organization
    or OU, so removing the account alone will not revoke its access),
    V(public) (the AMI is public),
    V(public_sharing_blocked) (a public AMI in a region where image block public access is on: it stays public, but once
    made private cannot be made public again; read with C(ec2:GetImageBlockPublicAccessState) only where a public AMI is),
    V(disabled) (DisableImage: nobody can launch it, and its launch permissions were removed),
    V(deprecated) (its deprecation time has passed: other accounts no longer list it unless they ask for deprecated
    AMIs; launches by id still work) and
    V(key_policy_orphaned_principals) (the key policy names deleted IAM users or roles, so KMS refuses to write it
    back and no grant can be changed); with O(check_allowed_images), V(image_provider_not_allowed),
    V(image_provider_not_allowed_audit_mode), V(image_not_allowed) and V(allowed_images_not_checked) (see there).
    Disabled AMIs and other accounts' deprecated AMIs are included (DescribeImages C(IncludeDisabled),
    C(IncludeDeprecated)). Each problem also carries the fields it is about (region, AMI, principal, account, key,
    snapshots), so that automation needs no prose parsing. With O(shared_with_me), snapshots the caller cannot see make
    a V(key_grant_unknown) problem (their keys could not be checked)."
  - V(account_in_shared_org) needs the account's place in the organization, which only the management
    account or a delegated administrator may read (C(organizations:ListParents)). When the caller may
    not read it, the problem is not reported (it is reported only when certain), and key checks for
    accounts whose organization is unknown may answer V(key_grant_unknown).
  - The paths of shared OUs (for C(aws:PrincipalOrgPaths) conditions) are read the same way; when they
    cannot be read, OUs are matched by their id.
  - "IAM permissions: the module calls C(ec2:DescribeImages), C(ec2:DescribeImageAttribute),
    C(ec2:DescribeSnapshots), C(ec2:GetImageBlockPublicAccessState) (in a region with a public AMI), C(kms:DescribeKey),
    C(kms:GetKeyPolicy), C(organizations:DescribeOrganization),
    C(organizations:ListParents), with O(principal_names=true) C(organizations:DescribeAccount) and
    C(organizations:DescribeOrganizationalUnit), with O(check_allowed_images=true) C(organizations:DescribeEffectivePolicy),
    C(organizations:ListAccounts), C(organizations:ListAccountsForParent), C(organizations:ListOrganizationalUnitsForParent)
    and (with O(shared_with_me=true)) C(ec2:GetAllowedImagesSettings), and, with O(shared_with_me=true),
    C(sts:GetCallerIdentity) (which needs no permission). The Organizations and KMS reads are optional: when denied, the module reports what it
    could not analyse instead of failing."
author:
  - orgshare.aws maintainers (@orgshare)
options:
  image_ids:
    description:
      - Only these AMIs (in whichever of O(regions) they exist).
    type: list
    elements: str
  filters:
    description:
      - DescribeImages filters, a dict of filter name to value or list of values,
        as in M(amazon.aws.ec2_ami_info).
      - See U(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeImages.html) for the filters.
    type: dict
  owners:
    description:
      - Only AMIs owned by these owners (account ids, V(self), or an owner alias).
      - With O(shared_with_me=true), V(self) is ignored (the caller's own AMIs are excluded),
        and other owners narrow the list to AMIs those accounts shared.
    type: list
    elements: str
    default: ["self"]
  shared_with_me:
    description:
      - List the AMIs that other accounts shared with the caller (DescribeImages C(ExecutableUsers=self)),
        excluding its own, instead of the caller's own AMIs.
      - Only the owner may read launch permissions, so for these AMIs RV(images[].launch_permissions)
        gives only C(public), the other keys are C(null) and RV(images[].notes) says why.
        Key checks are made for the caller's own account.
    type: bool
    default: false
  regions:
    description:
      - The regions to query, concurrently. Defaults to the module's region (O(region)).
    type: list
    elements: str
  check_keys:
    description:
      - Read the snapshots behind each AMI, their KMS keys and key policies, and analyse whether
        whom the AMI is shared with may use the keys.
      - With V(false), RV(images[].snapshots[].kms_key_id) is C(null), RV(images[].kms_keys) is empty
        and no key problem is reported.
    type: bool
    default: true
  allow_partial:
    description:
      - With V(false), a region that could not be read (no access, no connection, throttled past the retries) fails the
        module, naming each such region and why; the regions that were read are returned all the same.
      - With V(true), such regions are only listed in RV(failed_regions) and the module succeeds (a partial answer).
    type: bool
    default: false
  principal_names:
    description:
      - Also read the names of the accounts and OUs the AMIs are shared with (C(organizations:DescribeAccount),
        C(organizations:DescribeOrganizationalUnit); the management account or a delegated administrator may), for
        reports meant for people; see RV(principal_names). A name that cannot be read is listed in
        RV(principal_names_unread) and never fails the module.
    type: bool
    default: false
  check_allowed_images:
    description:
      - >-
        Also check that the consumers' Allowed AMIs settings let them use each AMI (EC2 User Guide, "Control the
        discovery and use of AMIs in Amazon EC2 with Allowed AMIs"). For the caller's AMIs, every account an AMI reaches
        (its accounts, and the accounts of its OUs and organizations: C(organizations:ListAccountsForParent),
        C(organizations:ListOrganizationalUnitsForParent), C(organizations:ListAccounts)) has its effective EC2
        declarative policy read (C(organizations:DescribeEffectivePolicy); the management account or a delegated
        administrator may), and an AMI its C(allowed_images_settings) do not allow is a problem
        V(image_provider_not_allowed) (setting enabled: those accounts can neither see nor launch it) or
        V(image_provider_not_allowed_audit_mode) (audit mode), naming the accounts in RV(images[].problems[].account_ids).
      - >-
        With O(shared_with_me=true), the caller's own settings decide (C(ec2:GetAllowedImagesSettings) in each region,
        and C(ImageAllowed) of each AMI): an AMI they do not allow is a problem V(image_not_allowed). Under an enabled
        setting, AMIs it does not allow are not listed by C(DescribeImages) at all.
      - >-
        What cannot be read (Organizations denied, a policy not readable) is a problem V(allowed_images_not_checked)
        with the reason, never "allowed". An account's own settings, when no declarative policy sets them, can be read
        only by that account; they are not checked from the owner's side, and an account outside the caller's
        organization gets a note in RV(images[].notes) instead. RV(allowed_images_settings) shows what was
        read.
    type: bool
    default: false
notes:
  - Read-only. Supports check mode (the result is the same) and never reports a change;
    diff mode does not apply. Running it twice gives the same answer when AWS has not changed.
  - Retries throttled calls (C(RequestLimitExceeded), C(ThrottlingException), C(TooManyRequestsException))
    with a jittered backoff.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Audit our AMIs in three regions
  orgshare.aws.ami_share_info:
    regions: [us-east-1, eu-west-1, ap-southeast-2]
  register: audit

- name: Fail when any AMI has a problem
  ansible.builtin.assert:
    that: audit.images | map(attribute='problems') | flatten | length == 0
    fail_msg: "{{ audit.images | selectattr('problems') | map(attribute='image_id') | list }} have problems"

- name: One AMI, without reading keys
  orgshare.aws.ami_share_info:
    image_ids: [ami-0123456789abcdef0]
    check_keys: false

- name: Our golden images by name
  orgshare.aws.ami_share_info:
    filters:
      name: "golden-*"
      state: available

- name: AMIs that other accounts shared with us, and whether we could launch them
  orgshare.aws.ami_share_info:
    shared_with_me: true
    regions: [us-east-1, eu-west-1]
"""

RETURN = r"""
images:
  description: The AMIs found, sorted by region then image id.
  returned: always
  type: list
  elements: dict
  contains:
    image_id:
      description: The AMI id.
      returned: always
      type: str
      sample: ami-0123456789abcdef0
    region:
      description: The region of the AMI.
      returned: always
      type: str
      sample: us-east-1
    name:
      description: The name of the AMI.
      returned: always
      type: str
      sample: golden-2024-06-01
    owner_id:
      description: The account that owns the AMI.
      returned: always
      type: str
      sample: "111122223333"
    state:
      description: The state of the AMI.
      returned: always
      type: str
      sample: available
    creation_date:
      description: When the AMI was created.
      returned: always
      type: str
      sample: "2024-06-01T10:00:00.000Z"
    deprecation_time:
      description: When the AMI is (or was) deprecated (EnableImageDeprecation), or null.
      returned: always
      type: str
      sample: "2025-01-01T00:00:00.000Z"
    image_allowed:
      description:
        - C(ImageAllowed) as DescribeImages gives it - whether the caller's Allowed AMIs settings allow the AMI (set only
          while those settings are enabled or in audit mode), or null.
      returned: always
      type: bool
      sample: null
    last_launched_time:
      description:
        - When the AMI was last used to launch an instance, as DescribeImages gives it (AWS reports a launch with a delay of
          up to 24 hours, and has the data from April 2017 on), or null (never, or unknown).
      returned: always
      type: str
      sample: "2024-11-30T08:15:00.000Z"
    tags:
      description: The tags of the AMI.
      returned: always
      type: dict
      sample: {"team": "platform"}
    launch_permissions:
      description:
        - Whom the AMI is shared with, in the shape M(orgshare.aws.ami_org_share) uses.
        - For AMIs the caller does not own, only RV(images[].launch_permissions.public) is known and the lists are C(null).
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
          sample: []
        account_ids:
          description: Account ids, sorted.
          type: list
          elements: str
          returned: always
          sample: ["444455556666"]
        public:
          description: Whether the AMI is public.
          type: bool
          returned: always
          sample: false
    snapshots:
      description: The EBS snapshots of the AMI's block device mappings, sorted by device name.
      returned: always
      type: list
      elements: dict
      contains:
        snapshot_id:
          description: The snapshot id.
          type: str
          returned: always
          sample: snap-0123456789abcdef0
        device_name:
          description: The device name of the mapping.
          type: str
          returned: always
          sample: /dev/xvda
        encrypted:
          description: Whether the snapshot is encrypted.
          type: bool
          returned: always
          sample: true
        kms_key_id:
          description: The ARN of the snapshot's KMS key; C(null) when unencrypted, not visible or O(check_keys=false).
          type: str
          returned: always
          sample: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
    kms_keys:
      description: The KMS keys of the snapshots, sorted by key ARN.
      returned: always
      type: list
      elements: dict
      contains:
        key_arn:
          description: The key ARN (the same as RV(images[].kms_keys[].kms_key_arn), kept for compatibility).
          type: str
          returned: always
          sample: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
        kms_key_arn:
          description: The key ARN, under the name the collection uses for a key ARN in every module.
          type: str
          returned: always
          sample: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
        key_manager:
          description: V(CUSTOMER) or V(AWS) (the AWS managed key); C(null) when the key could not be described.
          type: str
          returned: always
          sample: CUSTOMER
        granted_organizations:
          description: The organization ids the key policy lets use the key.
          type: list
          elements: str
          returned: always
          sample: ["o-exampleorgid"]
        granted_organizational_units:
          description: The organization path patterns (C(aws:PrincipalOrgPaths)) the key policy lets use the key.
          type: list
          elements: str
          returned: always
          sample: ["o-exampleorgid/r-ab12/ou-ab12-11111111/*"]
        granted_accounts:
          description: The account ids the key policy lets use the key.
          type: list
          elements: str
          returned: always
          sample: []
        granted_everyone:
          description: Whether the key policy lets every AWS principal use the key.
          type: bool
          returned: always
          sample: false
        readable:
          description: Whether the caller could read the key policy (false for another account's key or when denied).
          type: bool
          returned: always
          sample: true
    problems:
      description: What would make a launch fail or a revocation incomplete, sorted by code then message.
      returned: always
      type: list
      elements: dict
      contains:
        code:
          description:
            - One of V(account_in_shared_org), V(aws_managed_key), V(key_grant_unknown), V(key_not_granted),
              V(key_policy_unreadable), V(key_policy_orphaned_principals), V(public), V(public_sharing_blocked),
              V(disabled), V(deprecated), V(image_provider_not_allowed), V(image_provider_not_allowed_audit_mode),
              V(image_not_allowed), V(allowed_images_not_checked).
          type: str
          returned: always
          sample: key_not_granted
        message:
          description: What is wrong, naming the principal and the key where there is one.
          type: str
          returned: always
          sample: "The policy of key arn:aws:kms:... does not let organization arn:aws:organizations::... use the key ..."
        region:
          description: The region of the AMI.
          type: str
          returned: always
          sample: eu-west-1
        image_id:
          description: The AMI.
          type: str
          returned: always
          sample: ami-0123456789abcdef0
        principal:
          description:
            - The principal the problem is about (organization or OU ARN, account id, or V(all) for V(public)); for
              V(account_in_shared_org), the organization or OU that also reaches the account.
          type: str
          returned: for every code but V(aws_managed_key) and V(key_policy_unreadable)
          sample: arn:aws:organizations::111122223333:organization/o-exampleorgid
        principal_kind:
          description: V(organization), V(organizational_unit), V(account), V(public) or V(organization_or_ou).
          type: str
          returned: with RV(images[].problems[].principal)
          sample: organization
        principals:
          description: Whom the AMI is shared with, for V(key_policy_unreadable).
          type: list
          elements: str
          returned: for V(key_policy_unreadable)
        account_ids:
          description: The consumer accounts whose Allowed AMIs settings do not allow the AMI.
          type: list
          elements: str
          returned: for V(image_provider_not_allowed) and V(image_provider_not_allowed_audit_mode)
          sample: ["444455556666"]
        account_id:
          description: The account shared explicitly, for V(account_in_shared_org).
          type: str
          returned: for V(account_in_shared_org)
          sample: "444455556666"
        kms_key_arn:
          description: The key, for the key problems.
          type: str
          returned: for V(aws_managed_key), V(key_not_granted), V(key_grant_unknown), V(key_policy_unreadable)
          sample: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
        snapshot_ids:
          description: The snapshots encrypted with that key (or, on the consumer side, not visible).
          type: list
          elements: str
          returned: for the key problems
          sample: ["snap-0123456789abcdef0"]
    notes:
      description: What could not be read for this AMI, and why.
      returned: always
      type: list
      elements: str
      sample: ["Launch permissions are readable by the owner of the AMI only."]
allowed_images_settings:
  description:
    - With O(check_allowed_images=true), the Allowed AMIs settings read - for the owner's side, per consumer account the
      C(state) and C(criteria) (ImageCriterion list) its effective EC2 declarative policy sets, or null when none does;
      with O(shared_with_me=true), per region the caller's C(State), C(ImageCriteria) and C(ManagedBy)
      (GetAllowedImagesSettings), or null when not readable.
  returned: with O(check_allowed_images=true)
  type: dict
  sample: {"444455556666": {"state": "enabled", "criteria": [{"ImageProviders": ["amazon"]}]}}
failed_regions:
  description: The regions that could not be read, sorted, with the reason.
  returned: always
  type: list
  elements: dict
  contains:
    region:
      description: The region.
      type: str
      returned: always
      sample: ap-southeast-2
    reason:
      description: Why it failed.
      type: str
      returned: always
      sample: "Failed to describe images: An error occurred (UnauthorizedOperation) ..."
principal_names:
  description:
    - With O(principal_names=true), the names of the accounts and OUs the AMIs are shared with, by account id or OU ARN,
      as far as AWS Organizations let the caller read them.
  returned: with O(principal_names=true)
  type: dict
  sample: {"111122223333": "workloads-prod", "arn:aws:organizations::123456789012:ou/o-exampleorgid/ou-ab12-exampleouid": "Workloads"}
principal_names_unread:
  description: The accounts and OUs whose name could not be read, with the reason (they are shown by their id).
  returned: with O(principal_names=true)
  type: list
  elements: dict
  contains:
    principal:
      description: The account id or OU ARN.
      type: str
    reason:
      description: Why its name could not be read.
      type: str
  sample: [{"principal": "444455556666", "reason": "AccessDeniedException: You don't have permissions to access this resource."}]
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.orgshare.aws.plugins.module_utils import _allowed_images
from ansible_collections.orgshare.aws.plugins.module_utils._api import caller_account_id
from ansible_collections.orgshare.aws.plugins.module_utils._clients import client_factory
from ansible_collections.orgshare.aws.plugins.module_utils._principals import OrganizationsResolver
from ansible_collections.orgshare.aws.plugins.module_utils._share_info import MAX_WORKERS
from ansible_collections.orgshare.aws.plugins.module_utils._share_info import ShareInfoGatherer
from ansible_collections.orgshare.aws.plugins.module_utils._share_info import build_report
from ansible_collections.orgshare.aws.plugins.module_utils._share_info import describe_images_params
from ansible_collections.orgshare.aws.plugins.module_utils._share_info import read_principal_names


def main():
    argument_spec = dict(
        image_ids=dict(type="list", elements="str"),
        filters=dict(type="dict"),
        owners=dict(type="list", elements="str", default=["self"]),
        shared_with_me=dict(type="bool", default=False),
        regions=dict(type="list", elements="str"),
        check_keys=dict(type="bool", default=True),
        allow_partial=dict(type="bool", default=False),
        principal_names=dict(type="bool", default=False),
        check_allowed_images=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params

    regions = sorted(set(params["regions"] or ([module.region] if module.region else [])))
    if not regions:
        module.fail_json(msg="No region: set regions (a list of region names) or region (or AWS_REGION).")

    # One boto3 session for every client (see _clients); clients are made here in the main thread,
    # the reads run in a pool of MAX_WORKERS threads, so each client gets as many connections.
    clients = client_factory(module, config=dict(max_pool_connections=MAX_WORKERS))
    ec2 = clients.clients("ec2", regions)
    kms = clients.clients("kms", regions) if params["check_keys"] else {}
    # Organizations and STS are global: any region reaches them.
    home = module.region or regions[0]
    organizations = clients.client("organizations", home)

    try:
        me = caller_account_id(clients.client("sts", home)) if params["shared_with_me"] else None
        gatherer = ShareInfoGatherer(
            ec2,
            kms,
            describe_images_params(params["image_ids"], params["filters"], params["owners"], params["shared_with_me"]),
            resolver=OrganizationsResolver(organizations),
            check_keys=params["check_keys"],
            shared_with_me=params["shared_with_me"],
            caller_account_id=me,
        )
        report = build_report(gatherer.run(), shared_with_me=params["shared_with_me"], check_keys=params["check_keys"])
        if params["check_allowed_images"]:
            report["allowed_images_settings"] = _allowed_images.add_to_report(report, organizations, ec2, params["shared_with_me"])
        if params["principal_names"]:
            report["principal_names"], report["principal_names_unread"] = read_principal_names(report["images"], organizations)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)

    if report.get("failed_regions") and not params["allow_partial"]:
        module.fail_json(
            msg="%d region(s) could not be read, so the answer is incomplete: %s. The regions that were read are returned; "
            "set allow_partial=true to accept a partial answer."
            % (len(report["failed_regions"]), "; ".join("%s: %s" % (f["region"], f["reason"]) for f in report["failed_regions"])),
            changed=False, **report
        )
    module.exit_json(changed=False, **report)


if __name__ == "__main__":
    main()
