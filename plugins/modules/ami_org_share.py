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
  - Manages who may launch an AMI through the AMI's launch permissions, for one AMI in the region given by O(region)
    (O(image_id)), or for many AMIs in one or more regions in one call (O(images)).
  - Principals are organizations, organizational units (OUs), AWS accounts, and everyone (O(public)).
  - An option that is not given leaves that kind of principal alone; only O(purge=true) removes principals that are not listed.
  - All additions and removals are made with a single C(ModifyImageAttribute) call per AMI, or none when nothing changes.
  - >-
    With O(images) the same principals apply to every AMI. They are validated, and bare organization or OU ids resolved,
    once; every element is validated before any AWS call. The AMIs are then read, checked and changed concurrently.
    An AMI that fails does not stop the others: the module reports every AMI in RV(images) and then fails with a
    message that names every failed AMI, its region and why.
  - >-
    Before anything is written the module checks that every value is well formed, that the AMI exists in the region,
    that the caller's account owns it, and, when principals are added, that its snapshots are not encrypted with the
    AWS managed key C(alias/aws/ebs) (AWS refuses to share such AMIs; a copy under a customer managed key can be shared,
    see M(orgshare.aws.ami_copy) and the role C(orgshare.aws.ami_distribute)).
  - >-
    A disabled AMI (EC2 C(DisableImage)) has no launch permissions and cannot be shared: adding any principal to it fails
    before any write, saying that it is disabled and how to enable it (C(aws ec2 enable-image)); a run that adds nothing
    (removals, O(purge) alone, O(state=absent)) succeeds unchanged. DescribeImages leaves disabled AMIs out, so when an AMI
    is not found it is looked up again with C(IncludeDisabled), to tell a disabled AMI from a missing one.
  - >-
    O(public=true) on an AMI that is not public yet is checked against the rules AWS applies to public AMIs, before any
    write. If one refuses, nothing of the change is applied to that AMI (not the organizations, OUs and accounts of the
    same run either: AWS would refuse the whole C(ModifyImageAttribute) call), the module fails naming the AMI, its
    region, the rule and what to do, and check mode predicts the same failure. With O(images), only the AMIs concerned
    fail; the others are applied. The rules are:
  - >-
    (1) An AMI with encrypted volumes or snapshots cannot be made public (it can still be shared with organizations, OUs
    and accounts).
  - >-
    (2) Image block public access, a setting per account and region, refuses any new public sharing when on
    (C(block-new-sharing)); it is read once per region with C(ec2:GetImageBlockPublicAccessState), and the failure says to
    run C(aws ec2 disable-image-block-public-access --region <region>). AWS turns it on by default for new accounts. When
    the state cannot be read, a warning says so and the module goes on (AWS then refuses the write if it is on).
  - >-
    (3) The C(Public AMIs) quota: 5 public AMIs per account and region by default, adjustable. The caller's public AMIs are
    counted once per region (C(ec2:DescribeImages) with C(Owners=self) and C(is-public=true)), the AMIs made public by the
    same run included, in the order of O(images); only from the 6th on is the applied quota read from Service Quotas
    (C(servicequotas:GetServiceQuota), quota code C(L-0E3CBAB9)). When the quota cannot be read, a warning says so and the
    module goes on (AWS then refuses the write if the quota is reached).
  - >-
    IAM permissions: the module calls C(ec2:DescribeImages), C(ec2:DescribeImageAttribute), C(ec2:ModifyImageAttribute),
    C(ec2:DescribeSnapshots), C(kms:DescribeKey), C(kms:GetKeyPolicy) (with O(check_key_policy)), C(sts:GetCallerIdentity),
    only to make an AMI public, C(ec2:GetImageBlockPublicAccessState) and (when the region already holds 5 or more public
    AMIs of the caller) C(servicequotas:GetServiceQuota), and,
    when organizations or OUs are given, C(organizations:DescribeOrganization) (to check their ARNs' management account,
    skipped when the caller may not read it) and, only to resolve bare OU ids,
    C(organizations:DescribeOrganizationalUnit), and, only when accounts are removed
    while an organization or OU share remains (to name the accounts that keep their access through it),
    C(organizations:DescribeOrganization) and C(organizations:ListParents).
author:
  - orgshare.aws maintainers (@orgshare)
options:
  image_id:
    description:
      - The id of the AMI, in the region given by O(region).
      - Exactly one of O(image_id) and O(images) is required.
    type: str
  images:
    description:
      - Several AMIs, possibly in several regions, to act on in one call with the same principals.
      - Exactly one of O(image_id) and O(images) is required.
      - An AMI may be listed once per region.
    type: list
    elements: dict
    suboptions:
      image_id:
        description:
          - The id of the AMI, in the region given by O(images[].region).
        type: str
        required: true
      region:
        description:
          - The region of the AMI (a name like V(eu-west-1)).
          - Defaults to the module's region (O(region)).
        type: str
  organization_arns:
    description:
      - Organizations, as ARNs (C(arn:aws:organizations::123456789012:organization/o-exampleorgid)).
      - A bare organization id (C(o-exampleorgid)) is resolved to its ARN with C(organizations:DescribeOrganization),
        which works from any member account.
      - An ARN of the caller's own organization must name its management account (the account id in the ARN), as
        C(organizations:DescribeOrganization) gives it; otherwise it is refused before any write (AWS would take it
        for another organization's, and the share would reach nobody). Not checked when the caller cannot read its
        organization. The same holds for O(organizational_unit_arns).
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
      - Making an AMI public is refused, before any write, when it has encrypted snapshots, when image block public access
        is on in its region, or when the region already holds as many public AMIs of the caller as its quota allows
        (see the description).
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
  check_key_policy:
    description:
      - When principals are added to an AMI encrypted with customer managed keys, read each key's policy
        (C(kms:GetKeyPolicy)) and warn only when, as analysed, it does not let every added principal use the key
        for a launch, or when the analysis cannot tell, or the policy cannot be read (the warning says which).
      - V(false) reads no key policy and gives no such warning (the role C(orgshare.aws.ami_distribute) grants the keys
        itself and checks every launch at the end with M(orgshare.aws.ami_share_info)).
    type: bool
    default: true
notes:
  - Supports check mode (the result, with the same keys, is the prediction and nothing is written),
    diff mode (C(diff.before) and C(diff.after) in the shape of RV(launch_permissions)), and is idempotent.
    With O(images), each element of RV(images) carries its own prediction and diff.
  - Removing an account that is also covered by a shared organization or OU succeeds, yet the account keeps its
    access through the organization or OU; the module warns, naming only the accounts that are inside (read with
    C(organizations:DescribeOrganization) and C(organizations:ListParents)) or may be (their place could not be read).
  - AMIs whose snapshots are encrypted with a customer managed key can be shared, but launches fail until the key
    policy lets the new principals use the key; the module warns when the key policy, as analysed, does not
    (see O(check_key_policy) and M(orgshare.aws.kms_org_grant)).
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

- name: Share two AMIs in two regions with an organization and an account, in one call
  orgshare.aws.ami_org_share:
    region: us-east-1
    images:
      - image_id: ami-0123456789abcdef0  # in us-east-1, the module's region
      - image_id: ami-0fedcba9876543210
        region: eu-west-1
    organization_arns:
      - arn:aws:organizations::111122223333:organization/o-exampleorgid
    account_ids: ["444455556666"]
  register: shared

- name: Show the regions whose AMI changed
  ansible.builtin.debug:
    msg: "{{ shared.images | selectattr('changed') | map(attribute='region') | list }}"
"""

RETURN = r"""
changed:
  description: Whether the AMI changed (with O(images), whether any of them changed); predicted in check mode.
  returned: always
  type: bool
  sample: true
principals:
  description:
    - The requested principals after validation, de-duplication and resolution of bare organization and OU ids to ARNs.
    - A kind of principal that was not given is an empty list.
  returned: when the principals are valid
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
images:
  description:
    - One entry per element of O(images), in the same order.
    - An AMI that succeeded has the keys of the single AMI result (RV(image_id), RV(region), RV(launch_permissions),
      RV(added), RV(removed), RV(diff) in diff mode) and C(changed).
    - An AMI that failed has C(image_id), C(region), C(failed=true), C(error_kind) and C(msg) only.
  returned: when O(images) is given and its elements are valid
  type: list
  elements: dict
  contains:
    image_id:
      description: The id of the AMI.
      type: str
      returned: always
      sample: ami-0123456789abcdef0
    region:
      description: The region of the AMI.
      type: str
      returned: always
      sample: eu-west-1
    changed:
      description: Whether this AMI changed (predicted in check mode).
      type: bool
      returned: success
      sample: true
    launch_permissions:
      description: As RV(launch_permissions), for this AMI.
      type: dict
      returned: success
    added:
      description: As RV(added), for this AMI.
      type: dict
      returned: success
    removed:
      description: As RV(removed), for this AMI.
      type: dict
      returned: success
    diff:
      description: As RV(diff), for this AMI.
      type: dict
      returned: success, in diff mode
    failed:
      description: True when this AMI could not be read, checked or changed.
      type: bool
      returned: failure
      sample: true
    error_kind:
      description:
        - V(refused) when the AMI cannot be shared as asked (not found, disabled, owned by another account, encrypted with
          the AWS managed key, not to be made public by the rules above), V(aws_error) when an AWS call failed (access denied,
          throttling past the retries, ...).
      type: str
      returned: failure
      choices: [refused, aws_error]
      sample: refused
    msg:
      description: Why this AMI failed.
      type: str
      returned: failure
      sample: AMI ami-0123456789abcdef0 was not found in region eu-west-1
image_id:
  description: The id of the AMI.
  returned: when O(image_id) is given
  type: str
  sample: ami-0123456789abcdef0
region:
  description: The region of the AMI.
  returned: when O(image_id) is given
  type: str
  sample: eu-west-1
launch_permissions:
  description:
    - Who may launch the AMI by explicit permission after the run (predicted in check mode).
    - Accounts that reach the AMI through a shared organization or OU are not listed.
  returned: when O(image_id) is given
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
  returned: when O(image_id) is given
  type: dict
  sample: {"organization_arns": [], "organizational_unit_arns": [], "account_ids": ["444455556666"], "public": false}
removed:
  description: The launch permissions removed (to be removed in check mode), in the shape of RV(launch_permissions).
  returned: when O(image_id) is given
  type: dict
  sample: {"organization_arns": [], "organizational_unit_arns": [], "account_ids": [], "public": true}
diff:
  description:
    - The launch permissions before and after, in the shape of RV(launch_permissions).
    - With O(images), a list of these, one per AMI whose permissions change, each also with C(before_header) and
      C(after_header) naming the AMI and its region (so that C(ansible-playbook --diff) shows every AMI's change).
  returned: in diff mode
  type: raw
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

import threading

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.orgshare.aws.plugins.module_utils import _api
from ansible_collections.orgshare.aws.plugins.module_utils import _ec2
from ansible_collections.orgshare.aws.plugins.module_utils import _key_policy
from ansible_collections.orgshare.aws.plugins.module_utils import _targets
from ansible_collections.orgshare.aws.plugins.module_utils._clients import client_factory
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareInputError
from ansible_collections.orgshare.aws.plugins.module_utils import _launch_permissions as lp
from ansible_collections.orgshare.aws.plugins.module_utils._principals import OrganizationsResolver
from ansible_collections.orgshare.aws.plugins.module_utils._principals import normalise_principals

AWS_MANAGED = "AWS"
PRINCIPAL_KINDS = ("organization_arns", "organizational_unit_arns", "account_ids")
TARGET_KEYS = ("image_id", "region")


class ShareError(OrgShareInputError):
    """A reason, found before any write, why the requested change cannot be made."""


class CallerAccount:
    """The caller's account id, asked of STS at most once (when the first AMI is found), from any thread.

    ``get_client()`` gives the STS client; with several threads it must return a client made beforehand."""

    def __init__(self, get_client):
        self._get_client = get_client
        self._lock = threading.Lock()
        self._account = None
        self._error = None

    def get(self):
        with self._lock:
            if self._account is None and self._error is None:
                try:
                    self._account = _api.caller_account_id(self._get_client())
                except AnsibleAWSError as e:
                    self._error = e
        if self._error is not None:
            raise self._error
        return self._account


def desired_principals(module, clients, region=None):
    """The listed principals, validated, bare organization / OU ids resolved to ARNs (None: not given)."""
    params = module.params
    org_values = params.get("organization_arns")
    ou_values = params.get("organizational_unit_arns")
    # An Organizations client only when organizations or OUs are given: to resolve bare ids, and to
    # check that an ARN of the caller's own organization names its management account
    # (DescribeOrganization, once per run; a caller that may not read it is not refused).
    needs_organizations = bool(org_values) or bool(ou_values)
    resolver = OrganizationsResolver(clients.client("organizations", region) if needs_organizations else None)
    return normalise_principals(
        organization_arns=org_values,
        organizational_unit_arns=ou_values,
        account_ids=params.get("account_ids"),
        resolver=resolver,
        check_management_account=needs_organizations,
    )


def principals_result(desired):
    """The ``principals`` result: every kind, sorted, [] for a kind not given."""
    return dict((kind, sorted(desired.get(kind) or [])) for kind in PRINCIPAL_KINDS)


def check_snapshot_keys(get_kms, ec2, image, region):
    """Raise ShareError when the AMI's snapshots use the AWS managed key; the warning (or None)
    when they use customer managed keys. ``get_kms()`` gives the region's KMS client."""
    snapshot_ids = _ec2.image_snapshot_ids(image, encrypted_only=True)
    if not snapshot_ids:
        return None
    key_snapshots = {}
    for snapshot in _api.describe_snapshots(ec2, snapshot_ids):
        if snapshot.get("Encrypted") and snapshot.get("KmsKeyId"):
            key_snapshots.setdefault(snapshot["KmsKeyId"], []).append(snapshot["SnapshotId"])
    if not key_snapshots:
        return None
    kms = get_kms()
    managed_by_aws, customer_keys = [], []
    for key_id in sorted(key_snapshots):
        metadata = _api.describe_key(kms, key_id)
        if metadata is None:
            raise ShareError(
                "AMI %s in region %s cannot be shared: the KMS key %s of its snapshot(s) %s does not exist (DescribeKey: "
                "NotFoundException), so nobody could launch it" % (image["ImageId"], region, key_id, ", ".join(key_snapshots[key_id]))
            )
        if metadata.get("KeyManager") == AWS_MANAGED:
            managed_by_aws.append(key_id)
        else:
            customer_keys.append(metadata.get("Arn") or key_id)
    image_id = image["ImageId"]
    if managed_by_aws:
        snapshots = sorted(s for k in managed_by_aws for s in key_snapshots[k])
        raise ShareError(
            "AMI %s in region %s cannot be shared: its snapshot(s) %s are encrypted with the AWS managed key (alias/aws/ebs) %s, "
            "whose key policy cannot let other accounts use it, so AWS refuses to share the AMI. Copy the AMI under a "
            "customer managed key (module orgshare.aws.ami_copy, or role orgshare.aws.ami_distribute) and share the copy."
            % (image_id, region, ", ".join(snapshots), ", ".join(managed_by_aws))
        )
    return customer_keys


# AWS allows at most 1,000 sharing entities (accounts, organizations, OUs) per AMI per region (EC2 User Guide,
# "Amazon EC2 AMI quotas", https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ami-quotas.html); the accounts inside
# a shared organization or OU do not count.
MAX_SHARING_ENTITIES = 1000


def region_partition(region):
    """The partition of a region name (aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b)."""
    for prefix, partition in (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"), ("us-isob-", "aws-iso-b"), ("us-iso-", "aws-iso")):
        if region.startswith(prefix):
            return partition
    return "aws"


def check_partition(added, region):
    """Refuse organization / OU ARNs of another partition than the AMI's region: AWS would accept nothing useful."""
    partition = region_partition(region)
    wrong = [a for a in added["organization_arns"] + added["organizational_unit_arns"] if a.split(":")[1] != partition]
    if wrong:
        raise ShareError(
            "%s: the ARN(s) are of another partition than region %s (partition %s); an AMI can only be shared with an "
            "organization or OU of its own partition: give arn:%s:organizations::... ARNs" % (", ".join(wrong), region, partition, partition)
        )


def check_quota(after, image_id, region):
    count = len(after["organization_arns"]) + len(after["organizational_unit_arns"]) + len(after["account_ids"])
    if count > MAX_SHARING_ENTITIES:
        raise ShareError(
            "AMI %s in region %s would be shared with %d accounts, organizations and OUs; AWS allows at most %d per AMI per "
            "region (EC2 AMI quotas). Share with an organization or OU instead of its accounts one by one"
            % (image_id, region, count, MAX_SHARING_ENTITIES)
        )


# Public sharing. EC2 User Guide, "Make your AMI publicly available for use in Amazon EC2"
# (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/sharingamis-intro.html): an AMI with encrypted volumes or
# snapshots of encrypted volumes cannot be made public. "Understand block public access for AMIs"
# (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/block-public-access-to-amis.html): with block public access on
# in a Region (GetImageBlockPublicAccessState: block-new-sharing), any attempt to make an AMI public is blocked.
# "AMI quotas" (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ami-quotas.html): 5 public AMIs per Region by
# default, adjustable; the applied value is read from Service Quotas (the quota code is unverified: quoted from
# GetServiceQuota output in public issues, not from AWS documentation).
BLOCK_NEW_SHARING = "block-new-sharing"
DEFAULT_PUBLIC_AMI_QUOTA = 5
PUBLIC_AMI_QUOTA_CODE = "L-0E3CBAB9"
DISABLED = "disabled"


def encrypted_snapshots(image):
    """The ids (or device names, for an empty volume) of the image's encrypted EBS volumes, as DescribeImages shows them."""
    found = []
    for mapping in image.get("BlockDeviceMappings") or []:
        ebs = mapping.get("Ebs") or {}
        if ebs.get("Encrypted"):
            found.append(ebs.get("SnapshotId") or mapping.get("DeviceName"))
    return sorted(found)


def check_public_encryption(image, region):
    encrypted = encrypted_snapshots(image)
    if encrypted:
        raise ShareError(
            "AMI %s in region %s cannot be made public: its snapshot(s) %s are encrypted, and AWS does not make an AMI with "
            "encrypted volumes or snapshots public (EC2 User Guide, \"Make your AMI publicly available\"). Share it with "
            "organizations, OUs or accounts instead (and grant them the KMS key), or make an unencrypted AMI public; "
            "nothing was changed on this AMI" % (image["ImageId"], region, ", ".join(encrypted))
        )


class PublicSharing:
    """What decides, per region, whether the caller may make AMIs public: the state of image block public access
    (read once per region, from any thread) and the caller's public AMIs against the quota (counted once per region,
    in the main thread). Warnings (a state or quota that cannot be read) are collected once per region in ``warnings``."""

    def __init__(self, ec2s, get_quotas):
        self._ec2s = ec2s  # {region: EC2 client}
        self._get_quotas = get_quotas  # region -> Service Quotas client (called in the main thread only)
        self._lock = threading.Lock()
        self._region_locks = dict((region, threading.Lock()) for region in ec2s)
        self._block = {}
        self._public = {}
        self._quota = {}
        self.warnings = []

    def _warn(self, message):
        with self._lock:
            if message not in self.warnings:
                self.warnings.append(message)

    def block_state(self, region):
        """``block-new-sharing``, ``unblocked``, or None when it cannot be read (then a warning says so).
        Read once per region: the targets of a region wait for the first one's answer."""
        with self._region_locks[region]:
            if region not in self._block:
                try:
                    self._block[region] = _api.get_image_block_public_access_state(self._ec2s[region])
                except AnsibleAWSError as e:
                    self._block[region] = None
                    self._warn(
                        "The state of image block public access in region %s could not be read (ec2:GetImageBlockPublicAccessState: "
                        "%s); if it is on there, AWS refuses to make AMIs public" % (region, e)
                    )
            return self._block[region]

    def check_block(self, image_id, region):
        if self.block_state(region) == BLOCK_NEW_SHARING:
            raise ShareError(
                "AMI %s in region %s cannot be made public: image block public access is on in region %s "
                "(GetImageBlockPublicAccessState: block-new-sharing), so AWS refuses to make any AMI public there. Disable it with "
                "`aws ec2 disable-image-block-public-access --region %s` (it can take up to 10 minutes to apply; it cannot be "
                "changed in the account when a declarative policy of the organization manages it) and run this again; nothing "
                "was changed on this AMI" % (image_id, region, region, region)
            )

    def _public_count(self, region):
        if region not in self._public:
            try:
                images = _api.describe_images(self._ec2s[region], "public images", Owners=["self"],
                                              Filters=[{"Name": "is-public", "Values": ["true"]}])
                self._public[region] = len(images)
            except AnsibleAWSError as e:
                self._public[region] = None
                self._warn("The public AMIs of the account in region %s could not be counted (%s), so the public AMIs quota "
                           "was not checked" % (region, e))
        return self._public[region]

    def _quota_value(self, region):
        """The applied "Public AMIs" quota of the region, or None when it cannot be read (a warning says so)."""
        if region not in self._quota:
            try:
                value = _api.get_service_quota_value(self._get_quotas(region), "ec2", PUBLIC_AMI_QUOTA_CODE)
                why = "Service Quotas has no such quota (NoSuchResourceException)"
            except AnsibleAWSError as e:
                value, why = None, str(e)
            if value is None:
                self._warn(
                    "The account already has %d or more public AMIs in region %s, AWS's default \"Public AMIs\" quota, whose "
                    "applied value could not be read (servicequotas:GetServiceQuota %s: %s); if the quota was not raised, AWS "
                    "refuses to make another AMI public there" % (DEFAULT_PUBLIC_AMI_QUOTA, region, PUBLIC_AMI_QUOTA_CODE, why)
                )
            self._quota[region] = int(value) if value is not None else None
        return self._quota[region]

    def reserve(self, image_id, region):
        """Count one more public AMI in ``region``; ShareError when that goes over the quota (nothing reserved then).
        Main thread only: called for the planned targets in their order, so that which one fails is predictable."""
        count = self._public_count(region)
        if count is None:
            return
        if count + 1 > DEFAULT_PUBLIC_AMI_QUOTA:
            quota = self._quota_value(region)
            if quota is not None and count + 1 > quota:
                raise ShareError(
                    "AMI %s in region %s cannot be made public: the account already has %d public AMI(s) in region %s (with the "
                    "others of this run), and its \"Public AMIs\" quota there is %d (EC2 AMI quotas). Make one of them private "
                    "or deregister it, or request a quota increase (Service Quotas, Amazon EC2, \"Public AMIs\"), and run this "
                    "again; nothing was changed on this AMI" % (image_id, region, count, region, quota)
                )
        self._public[region] = count + 1


def check_public_quota(planned, public):
    """The planned targets that make an AMI public, in order, against the public AMIs quota of their region:
    the outcomes, with those that would go over it turned into failures."""
    out = []
    for outcome in planned:
        plan = outcome.result
        if outcome.error is None and plan["added"]["public"]:
            try:
                public.reserve(plan["image_id"], plan["region"])
            except ShareError as e:
                outcome = _targets.Outcome(outcome.target, None, e)
        out.append(outcome)
    return out


def may_be_member(resolver, account_id, shared):
    """Whether ``account_id`` is, or may be (its place could not be read), inside one of ``shared`` (organization and OU
    ARNs). False only when Organizations says it is outside all of them."""
    if resolver is None:
        return True
    try:
        organization = resolver.organization()
        if organization is None:
            return True
        org_id = organization["Id"]
        account_path = resolver.account_path(account_id)
        for arn in shared:
            if ":organization/" in arn and arn.rsplit("/", 1)[-1] == org_id:
                return True
            if ":ou/" in arn and "/%s/" % arn.rsplit("/", 1)[-1] in "/" + account_path:
                return True
        return False
    except Exception:  # pylint: disable=broad-except  # unreadable membership: it may be inside
        return True


def key_policy_warning(kms, image_id, region, customer_keys, added):
    """The warning (or None) when a key policy, as analysed, does not let every added principal use the key,
    or could not be read: only then are launches by those principals at risk."""
    principals = (
        [("organization", v) for v in added.get("organization_arns") or []]
        + [("organizational_unit", v) for v in added.get("organizational_unit_arns") or []]
        + [("account", v) for v in added.get("account_ids") or []]
    )
    if not principals:
        return None
    gaps = []
    for key_arn in customer_keys:
        try:
            policy = _api.get_key_policy(kms, key_arn)
        except AnsibleAWSError as e:
            gaps.append("the policy of key %s could not be read (%s), so whether they may use it is unknown" % (key_arn, e))
            continue
        for kind, value in principals:
            verdict, reason = _key_policy.principal_access(policy, kind, value)
            if verdict == _key_policy.NOT_GRANTED:
                gaps.append("key %s: %s" % (key_arn, reason))
            elif verdict != _key_policy.GRANTED:
                gaps.append("key %s: %s (the analysis cannot tell)" % (key_arn, reason))
    if not gaps:
        return None
    return (
        "AMI %s in region %s is encrypted with the customer managed key(s) %s, and launches by the new principals may fail: "
        "%s. Grant the key(s) with orgshare.aws.kms_org_grant." % (image_id, region, ", ".join(customer_keys), "; ".join(gaps))
    )


def _plan(params, desired, before, state):
    return lp.plan(
        before,
        organization_arns=desired.get("organization_arns"),
        organizational_unit_arns=desired.get("organizational_unit_arns"),
        account_ids=desired.get("account_ids"),
        public=params.get("public"),
        state=state,
        purge=params["purge"] and state == "present",
    )


def plan_disabled(module, desired, image_id, region):
    """A disabled AMI has no launch permissions and cannot be shared (EC2 User Guide, "Disable an Amazon EC2 AMI",
    https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/disable-an-ami.html): a plan that adds anything is refused,
    one that adds nothing is already satisfied."""
    before = lp.empty()
    added, removed, after = _plan(module.params, desired, before, module.params["state"])
    if not lp.is_empty(added):
        raise ShareError(
            "AMI %s in region %s is disabled (DisableImage removed all its launch permissions, and a disabled AMI cannot be "
            "shared); enable it with `aws ec2 enable-image --image-id %s --region %s` and run this again (EnableImage does not "
            "restore the permissions it lost); nothing was changed" % (image_id, region, image_id, region)
        )
    warning = "AMI %s in region %s is disabled: it has no launch permissions, so nothing was changed" % (image_id, region)
    return dict(image_id=image_id, region=region, before=before, added=added, removed=removed, after=after,
                changed=False, warnings=[warning])


def plan_target(module, desired, image_id, region, ec2, get_kms, caller, resolver=None, public=None):
    """Read, check and plan one AMI (no write). Returns a dict: image_id, region, before, added,
    removed, after, changed, warnings. Raises ShareError or AnsibleAWSError. ``public``: the region's
    PublicSharing (checked when the plan makes the AMI public)."""
    params = module.params
    state = params["state"]
    warnings = []
    image = _api.get_image(ec2, image_id)
    if image is None and state == "present":
        # DescribeImages leaves disabled AMIs out unless IncludeDisabled: tell a disabled AMI from a missing one.
        image = _api.get_image(ec2, image_id, include_disabled=True)
    if image is None:
        if state == "absent":
            nothing = lp.empty()
            return dict(image_id=image_id, region=region, before=nothing, added=nothing, removed=nothing, after=nothing,
                        changed=False, warnings=warnings)
        raise ShareError(
            "AMI %s was not found in region %s (AMIs are regional: set the region option to the AMI's region)" % (image_id, region)
        )
    account = caller.get()
    if image.get("OwnerId") != account:
        raise ShareError(
            "AMI %s in region %s is owned by account %s, not by the caller's account %s: only the owner can change "
            "its launch permissions" % (image_id, region, image.get("OwnerId"), account)
        )
    if image.get("State") == DISABLED:
        return plan_disabled(module, desired, image_id, region)

    entries = _api.describe_launch_permissions(ec2, image_id)
    if entries is None:  # deregistered between the two calls
        raise ShareError("AMI %s was not found in region %s" % (image_id, region))
    before = lp.from_api(entries)
    added, removed, after = _plan(params, desired, before, state)
    if added["public"]:
        check_public_encryption(image, region)
        if public is not None:
            public.check_block(image_id, region)
    if not lp.is_empty(added):
        check_partition(added, region)
        check_quota(after, image_id, region)
        customer_keys = check_snapshot_keys(get_kms, ec2, image, region)
        if customer_keys and params["check_key_policy"]:
            warning = key_policy_warning(get_kms(), image_id, region, customer_keys, added)
            if warning:
                warnings.append(warning)
    shared = after["organization_arns"] + after["organizational_unit_arns"]
    covered = [a for a in lp.accounts_still_covered(removed, after) if may_be_member(resolver, a, shared)]
    if covered:
        warnings.append(
            "Account(s) %s are removed from AMI %s in region %s, but the AMI stays shared with organization(s) or OU(s) %s: "
            "an account that is (or may be: its place could not be read) a member of those keeps its access through them."
            % (", ".join(covered), image_id, region, ", ".join(shared))
        )
    changed = not (lp.is_empty(added) and lp.is_empty(removed))
    return dict(image_id=image_id, region=region, before=before, added=added, removed=removed, after=after,
                changed=changed, warnings=warnings)


def apply_plan(module, plan, ec2):
    """The one write of a target: ModifyImageAttribute, when the plan changes something (not in check mode)."""
    if plan["changed"] and not module.check_mode:
        _api.modify_launch_permissions(ec2, plan["image_id"], add=lp.to_api(plan["added"]), remove=lp.to_api(plan["removed"]))


def result_for(module, plan):
    result = dict(
        changed=plan["changed"],
        image_id=plan["image_id"],
        region=plan["region"],
        launch_permissions=lp.normalize(plan["after"]),
        added=lp.normalize(plan["added"]),
        removed=lp.normalize(plan["removed"]),
    )
    if module._diff:
        result["diff"] = lp.diff(plan["before"], plan["after"])
    return result


def membership_resolver(module, clients, region=None):
    """An Organizations resolver (client made here, in the main thread) when the run may remove accounts while an
    organization or OU share remains, to name only the accounts that are (or may be) inside; else None."""
    params = module.params
    removes_accounts = (params["state"] == "absent" and params.get("account_ids")) or (params["purge"] and params["state"] == "present")
    if not removes_accounts:
        return None
    return OrganizationsResolver(clients.client("organizations", region))


def run_one(module):
    """One AMI (option image_id) in the module's region: the result, or an exception."""
    image_id = module.params["image_id"].strip()
    if not _ec2.is_image_id(image_id):
        raise ShareError("image_id: %r is not an AMI id; expected the form ami-0123456789abcdef0" % image_id)
    # One boto3 session for every client (module.client() makes a new session per client)
    clients = client_factory(module)
    desired = desired_principals(module, clients)
    ec2 = clients.client("ec2")
    caller = CallerAccount(lambda: clients.client("sts"))
    public = PublicSharing({module.region: ec2}, lambda region: clients.client("service-quotas", region))
    try:
        plan = plan_target(module, desired, image_id, module.region, ec2, lambda: clients.client("kms"), caller,
                           membership_resolver(module, clients), public)
        if plan["added"]["public"]:
            public.reserve(image_id, module.region)
    finally:
        for warning in public.warnings:
            module.warn(warning)
    for warning in plan["warnings"]:
        module.warn(warning)
    apply_plan(module, plan, ec2)
    result = result_for(module, plan)
    result["principals"] = principals_result(desired)
    return result


def _validate_image_id(value, option):
    if not _ec2.is_image_id(value):
        raise _targets.TargetError("%s: %r is not an AMI id; expected the form ami-0123456789abcdef0" % (option, value))


def _failed_entry(target, message):
    return dict(image_id=target["image_id"], region=target["region"], failed=True, msg=message)


def run_many(module):
    """Every AMI of the option images, concurrently: (result, failure message or None)."""
    targets = _targets.parse_targets(
        module.params["images"], "images", "image_id", TARGET_KEYS, module.region, _validate_image_id
    )
    regions = []
    for target in targets:
        if target["region"] not in regions:
            regions.append(target["region"])
    home = module.region or regions[0]  # for the global services (STS, Organizations)
    clients = client_factory(module)
    # Principals are validated and resolved once, before any AMI is read.
    desired = desired_principals(module, clients, home)
    # Every client in this thread, from the one session (sessions are not thread-safe, clients are).
    ec2s = clients.clients("ec2", regions)
    kmss = clients.clients("kms", regions)
    sts = clients.client("sts", home)
    caller = CallerAccount(lambda: sts)
    resolver = membership_resolver(module, clients, home)
    public = PublicSharing(ec2s, lambda region: clients.client("service-quotas", region))

    def plan(target):
        region = target["region"]
        return plan_target(module, desired, target["image_id"], region, ec2s[region], lambda: kmss[region], caller, resolver, public)

    planned = _targets.run_targets(plan, targets)
    # The public AMIs quota, in the main thread and the targets' order: the ones that would go over it fail.
    planned = check_public_quota(planned, public)
    for warning in public.warnings:
        module.warn(warning)
    to_apply = [o.result for o in planned if o.error is None and o.result["changed"]] if not module.check_mode else []
    applied = _targets.run_targets(lambda p: apply_plan(module, p, ec2s[p["region"]]), to_apply)
    apply_errors = dict(((o.target["image_id"], o.target["region"]), o.error) for o in applied if o.error is not None)

    outcomes = []
    for outcome in planned:
        if outcome.error is not None:
            outcomes.append(outcome)
            continue
        for warning in outcome.result["warnings"]:
            module.warn(warning)
        error = apply_errors.get((outcome.target["image_id"], outcome.target["region"]))
        if error is not None:
            outcomes.append(_targets.Outcome(outcome.target, None, error))
        else:
            outcomes.append(_targets.Outcome(outcome.target, result_for(module, outcome.result), None))
    entries, changed, msg = _targets.summarise(outcomes, "image_id", _failed_entry)
    result = dict(changed=changed, images=entries, principals=principals_result(desired))
    if module._diff:
        result["diff"] = _targets.combined_diff(entries, "image_id")  # shown by ansible-playbook --diff
    return result, msg


def main():
    argument_spec = dict(
        image_id=dict(type="str"),
        images=dict(
            type="list",
            elements="dict",
            options=dict(
                image_id=dict(type="str", required=True),
                region=dict(type="str"),
            ),
        ),
        organization_arns=dict(type="list", elements="str", aliases=["org_arns"]),
        organizational_unit_arns=dict(type="list", elements="str", aliases=["ou_arns", "org_unit_arns"]),
        account_ids=dict(type="list", elements="str", aliases=["user_ids"]),
        public=dict(type="bool"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        purge=dict(type="bool", default=False),
        check_key_policy=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        mutually_exclusive=[["image_id", "images"]],
        required_one_of=[["image_id", "images"]],
        supports_check_mode=True,
    )
    msg = None
    try:
        if module.params.get("images") is not None:
            result, msg = run_many(module)
        else:
            result = run_one(module)
    except OrgShareInputError as e:  # PrincipalError, ShareError, TargetError: refused input
        module.fail_json(msg=str(e))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    if msg:
        module.fail_json(msg=msg, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
