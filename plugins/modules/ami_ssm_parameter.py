#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ami_ssm_parameter
version_added: 0.1.0
short_description: Publish an AMI id in SSM Parameter Store parameters of data type aws:ec2:image, in many regions at once
description:
  - Writes an AMI id to an SSM Parameter Store C(String) parameter of data type C(aws:ec2:image), for one parameter in the
    module's region (O(name) and O(image_id)) or for many parameters in one or more regions in one call (O(parameters)),
    so that launch templates, Auto Scaling groups and C(aws ec2 run-instances --image-id resolve:ssm:NAME) find
    "the current AMI" of each region through the parameter.
  - >-
    Idempotent: each parameter is read first (C(ssm:GetParameter)); a parameter that already holds the AMI id (and the
    O(description) and O(tier), when given) is not written, so a converged run makes no write call.
  - >-
    Only C(String) parameters of data type C(aws:ec2:image) are written or deleted. An existing parameter of another type
    (C(StringList), C(SecureString)) or data type (for example a plain C(text) parameter holding an AMI id) is refused before
    any write, with a message that says what is there and what to do (delete it, or choose another name); it is never
    overwritten or deleted.
  - >-
    Every element is validated before any AWS call: parameter names (the characters C(a-zA-Z0-9_.-) and C(/); a name in a
    hierarchy starts with C(/); not beginning with C(aws) or C(ssm) in any case, also after the leading C(/); at most 15
    levels; at most 1011 characters together with the parameter's ARN, as AWS counts them; no empty level), AMI ids
    (C(ami-) and 8 or 17 hexadecimal digits) and regions. A malformed one fails the call, naming it (for example
    C(parameters[1].name)) and the expected form, and nothing is read or written. A parameter listed twice (C(/golden) and
    C(golden) are the same parameter for AWS) is refused too.
  - >-
    Before a new AMI id is written, the module checks (C(ec2:DescribeImages)) that the AMI exists in the parameter's region
    as the caller sees it (its own, or shared with it): AWS would accept the write and then refuse the value
    asynchronously (see below), leaving the parameter unchanged. A missing or disabled AMI fails that parameter before any
    write; an AMI in another state than C(available) is written with a warning.
  - >-
    AWS validates C(aws:ec2:image) values asynchronously ("Native parameter support for Amazon Machine Image IDs",
    AWS Systems Manager User Guide): C(PutParameter) answers at once with the new version number, before the validation;
    until it has succeeded, C(GetParameter) answers C(ParameterNotFound) for a new parameter and the previous version for
    an updated one; a value AWS refuses is never stored (the parameter is not created or updated), which AWS reports only as
    an EventBridge event "Parameter Store Change" with C(exception) (for example "Unable to Describe Resource": the AMI is
    not available to the caller in the region, or the caller may not call C(ec2:DescribeImages)). With O(wait=true) (the
    default) the module therefore reads each written parameter back until C(GetParameter) shows the version C(PutParameter)
    returned (as AWS CloudFormation does for C(AWS::SSM::Parameter)), all parameters together, for up to O(wait_timeout)
    seconds; a parameter whose version does not appear fails, saying so.
  - >-
    The parameters are read, checked and written concurrently, and then waited for together. A parameter that fails does
    not stop the others: the module then fails with a message naming every failed parameter, its region and why, and still
    returns every parameter's result in RV(parameters).
author:
  - orgshare.aws maintainers (@orgshare)
options:
  name:
    description:
      - The parameter's name, in the module's region, for example V(/golden/ami) (a hierarchy) or V(golden-ami).
      - Exactly one of O(name) and O(parameters) is required.
    type: str
  image_id:
    description:
      - The AMI id to write to O(name).
      - Required with O(name) and O(state=present). With O(state=absent), the parameter is deleted only if it holds this AMI id.
      - Not allowed with O(parameters) (give each element's O(parameters[].image_id)).
    type: str
  parameters:
    description:
      - Several parameters, possibly in several regions, for one call; O(description), O(tier), O(state) and O(wait) apply
        to every one.
      - Exactly one of O(name) and O(parameters) is required.
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - The parameter's name, in the element's region.
        type: str
        required: true
      region:
        description:
          - The parameter's region (a name like V(eu-west-1)).
          - Default, the module's region (O(region)).
        type: str
      image_id:
        description:
          - The AMI id to write, an AMI of the element's region.
          - Required with O(state=present). With O(state=absent), the parameter is deleted only if it holds this AMI id.
        type: str
  description:
    description:
      - The parameters' description (at most 1024 characters).
      - Not given, a new parameter has none and an existing one keeps its own.
    type: str
  tier:
    description:
      - The parameter tier. C(Advanced) parameters can be shared with other accounts (AWS RAM, see O(share_with)) and cost
        money; C(Standard) ones cannot be shared.
      - Not given, a new parameter is C(Standard) and an existing one keeps its tier.
      - V(Advanced) turns a C(Standard) parameter into an C(Advanced) one (a write). AWS cannot turn an C(Advanced) parameter
        back into a C(Standard) one, so V(Standard) for an C(Advanced) parameter is refused before any write.
    type: str
    choices: [Standard, Advanced]
  state:
    description:
      - V(present) writes the AMI id (creating the parameter if needed).
      - >-
        V(absent) deletes the parameter if it is a C(String) parameter of data type C(aws:ec2:image) and, when an AMI id is
        given, only if it holds that AMI id (one that holds another AMI id is left as it is, with a warning, so that the run
        does not take away a newer AMI's parameter). A parameter that does not exist is not an error. A parameter of another
        type or data type is refused.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - After writing, read each parameter back until C(GetParameter) shows the version C(PutParameter) returned, which
        happens only once AWS's asynchronous validation of the AMI id has succeeded.
      - V(false) returns at once; RV(parameters[].validated) is then V(false) for the written parameters.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait for all written parameters together (AWS says the validation can take up to a few minutes).
    type: int
    default: 300
  share_with:
    description:
      - >-
        Share every parameter of the run with these principals through AWS RAM ("Working with shared parameters", AWS
        Systems Manager User Guide): one resource share per region (per parameter name, or the one O(share_with.resource_share_name)
        names), found again by its name on every run, created when missing (with the tag C(orgshare.aws:module=ami_ssm_parameter)),
        and given only the principals and parameters it lacks (C(ram:AssociateResourceShare)); principals and parameters
        someone else added stay. A converged run makes no write.
      - >-
        AWS shares only parameters of the Advanced tier, so O(share_with) makes every parameter C(Advanced) (O(tier) may be
        left out; V(Standard) is refused). This is a write for a C(Standard) parameter and cannot be undone: AWS cannot
        turn an Advanced parameter back into a Standard one (only delete it and create it anew, losing its history).
        Advanced parameters are charged for ("Advanced parameters incur a charge", PutParameter C(Tier); AWS Systems
        Manager pricing: per advanced parameter and month, and per API interaction, which launch templates and Auto
        Scaling make each time they resolve the parameter); Standard ones are free.
      - >-
        Consumers read a shared parameter by its full ARN, not its name (RV(parameters[].arn); in launch templates
        C(resolve:ssm:arn:aws:ssm:REGION:ACCOUNT:parameter/NAME)), and only read it: they cannot change it.
      - >-
        A new share allows external principals (C(allowExternalPrincipals)) only when O(share_with.account_ids) is given
        (accounts may be outside the organization); a share naming only organizations and OUs does not. An existing share
        keeps its setting (a warning says when accounts are added to one that does not allow them: AWS refuses those outside
        the organization).
      - >-
        Organizations and OUs can be named only once the organization's management account has enabled sharing with AWS
        Organizations (C(aws ram enable-sharing-with-aws-organization), once per organization; AWS RAM User Guide); until
        then AWS refuses the share, and the parameter fails with AWS's message.
      - Only with O(state=present) and O(wait=true) (AWS knows a new parameter only once its value is validated). Every
        principal is checked before any AWS call, as in M(orgshare.aws.ami_org_share).
    type: dict
    suboptions:
      organization_arns:
        description:
          - Organizations, as ARNs (C(arn:aws:organizations::123456789012:organization/o-exampleorgid)); the caller's own
            organization only (AWS RAM shares with the owner's organization and its OUs).
          - A bare organization id is resolved to its ARN with C(organizations:DescribeOrganization), and an ARN of the
            caller's organization must name its management account, as for M(orgshare.aws.ami_org_share).
        type: list
        elements: str
        aliases: [org_arns]
      organizational_unit_arns:
        description:
          - Organizational units, as ARNs (C(arn:aws:organizations::123456789012:ou/o-exampleorgid/ou-ab12-exampleouid)).
          - A bare OU id is resolved with C(organizations:DescribeOrganizationalUnit) (management account or delegated
            administrator).
        type: list
        elements: str
        aliases: [ou_arns, org_unit_arns]
      account_ids:
        description:
          - AWS account ids (12 digits, quoted in YAML).
        type: list
        elements: str
      resource_share_name:
        description:
          - The name of the resource share that holds the run's parameters in each region (1 to 128 characters, letters,
            digits, C(_ . -)).
          - Default, one share per parameter name, named C(orgshare-ssm-<name's levels joined by ->-<8 hexadecimal digits of
            the name>) (for example C(orgshare-ssm-golden-ami-latest-1a2b3c4d)), so that parameters shared with different
            principals never share a resource share.
          - Two ACTIVE shares of that name in a region are refused (the module does not guess).
        type: str
notes:
  - >-
    Check mode is supported: nothing is written and the result predicts the run (RV(parameters[].changed), the new version
    as the current version plus one, or 1 for a new parameter). Diff mode shows each parameter's AMI id and version before
    and after (with O(parameters), a list of diffs, one per changed parameter, each headed with its name and region).
    With O(share_with), RV(resource_share) is the prediction too (its C(arn) null for a share still to be created), and
    the diff shows C(shared_with), the principals of the parameter's share.
  - The module is idempotent; a second run with the same options reports no change and makes no write.
  - >-
    IAM permissions: the module calls C(ssm:GetParameter); C(ssm:DescribeParameters) (which cannot be limited to a
    resource) for an existing parameter that is to be written or when O(description) or O(tier) is given (C(GetParameter)
    gives neither the tier nor the description); C(ec2:DescribeImages) before writing a new AMI id (AWS also needs it to
    validate the value: "To create an aws:ec2:image data type parameter, the user must have both ssm:PutParameter and
    ec2:DescribeImages permissions"); C(ssm:PutParameter); and, with O(state=absent), C(ssm:DeleteParameter).
  - >-
    Sharing: with O(share_with) the module also calls C(sts:GetCallerIdentity) (for the parameters' ARNs),
    C(ram:GetResourceShares), C(ram:GetResourceShareAssociations), C(ram:CreateResourceShare) and C(ram:TagResource) (a new
    share, with its tag), C(ram:AssociateResourceShare), and, when organizations or OUs are given,
    C(organizations:DescribeOrganization) (and C(organizations:DescribeOrganizationalUnit) for a bare OU id).
  - >-
    Parameter versions: AWS keeps the last 100 versions of a parameter and each write makes a new one, so every change of
    AMI id is in the parameter's history; C(resolve:ssm:NAME:VERSION) pins a version.
  - >-
    AWS answers C(TooManyUpdates) to concurrent writes of one parameter; the module retries it a few times. A write made
    while AWS is still validating an earlier write of the same parameter is refused by AWS ("validation is still in
    process"); re-run once the earlier validation is over (AWS suggests five minutes after a failed one).
  - AWS asks to wait at least 30 seconds after deleting a parameter before creating one with the same name.
seealso:
  - name: Native parameter support for Amazon Machine Image IDs
    description: How AWS validates parameters of data type aws:ec2:image.
    link: https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-ec2-aliases.html
  - name: Working with shared parameters
    description: Sharing Advanced parameters through AWS RAM, and how consumers read them (by ARN).
    link: https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-shared-parameters.html
  - name: Requirements and constraints for parameter names
    description: The naming rules the module checks.
    link: https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html#sysman-parameter-name-constraints
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Publish the golden AMI of eu-west-1
  orgshare.aws.ami_ssm_parameter:
    region: eu-west-1
    name: /golden/ami/latest
    image_id: ami-0123456789abcdef0

- name: Publish each region's copy of the golden AMI under one name, in one call
  orgshare.aws.ami_ssm_parameter:
    region: us-east-1
    parameters:
      - name: /golden/ami/latest
        image_id: ami-0123456789abcdef0  # in us-east-1, the module's region
      - name: /golden/ami/latest
        region: eu-west-1
        image_id: ami-0fedcba9876543210
    description: Golden AMI, published by orgshare.aws
  register: published

- name: Show the version of each region's parameter
  ansible.builtin.debug:
    msg: "{{ published.parameters | items2dict(key_name='region', value_name='version') }}"

- name: Make the parameters shareable with other accounts through AWS RAM (Advanced tier)
  orgshare.aws.ami_ssm_parameter:
    parameters:
      - {name: /golden/ami/latest, region: us-east-1, image_id: ami-0123456789abcdef0}
      - {name: /golden/ami/latest, region: eu-west-1, image_id: ami-0fedcba9876543210}
    tier: Advanced

- name: Publish and share with the organization (each parameter becomes Advanced; one RAM share per region)
  orgshare.aws.ami_ssm_parameter:
    parameters:
      - {name: /golden/ami/latest, region: us-east-1, image_id: ami-0123456789abcdef0}
      - {name: /golden/ami/latest, region: eu-west-1, image_id: ami-0fedcba9876543210}
    share_with:
      organization_arns:
        - arn:aws:organizations::111122223333:organization/o-exampleorgid
  register: shared

- name: The ARN consumers use in their launch templates (resolve:ssm:ARN)
  ansible.builtin.debug:
    msg: "{{ shared.parameters | items2dict(key_name='region', value_name='arn') }}"

- name: Remove the parameter, but only if it still points at the AMI being retired
  orgshare.aws.ami_ssm_parameter:
    region: eu-west-1
    name: /golden/ami/latest
    image_id: ami-0fedcba9876543210
    state: absent
"""

RETURN = r"""
changed:
  description: Whether the parameter changed (with O(parameters), whether any of them changed); predicted in check mode.
  returned: always
  type: bool
  sample: true
name:
  description: The parameter's name, as given.
  returned: with O(name)
  type: str
  sample: /golden/ami/latest
region:
  description: The parameter's region.
  returned: with O(name)
  type: str
  sample: eu-west-1
image_id:
  description: The AMI id the parameter holds after the run (predicted in check mode); null when there is no parameter.
  returned: with O(name)
  type: str
  sample: ami-0123456789abcdef0
version:
  description:
    - The parameter's version after the run, as C(PutParameter) returned it for a write (predicted in check mode, as the
      current version plus one or 1); null when there is no parameter.
  returned: with O(name)
  type: int
  sample: 4
validated:
  description:
    - Whether C(GetParameter) shows RV(version) holding RV(image_id), that is, whether AWS's asynchronous validation of the
      value is known to have succeeded. V(false) after a write with O(wait=false), and in check mode for a predicted write.
  returned: with O(name) and O(state=present)
  type: bool
  sample: true
arn:
  description:
    - The parameter's ARN, which consumers in other accounts must use to read it (C(resolve:ssm:ARN) in launch templates).
  returned: with O(name) and O(share_with)
  type: str
  sample: arn:aws:ssm:eu-west-1:111122223333:parameter/golden/ami/latest
resource_share:
  description:
    - The AWS RAM resource share that holds the parameter in its region, after the run (predicted in check mode).
  returned: with O(name) and O(share_with)
  type: dict
  contains:
    name:
      description: The share's name.
      returned: always
      type: str
      sample: orgshare-ssm-golden-ami-latest-1a2b3c4d
    arn:
      description: The share's ARN; null in check mode for a share that is still to be created.
      returned: always
      type: str
      sample: arn:aws:ram:eu-west-1:111122223333:resource-share/4476c27d-8feb-4b21-afe9-7de23EXAMPLE
    principals:
      description: Every principal of the share after the run (the ones someone else added too), as RAM names them.
      returned: always
      type: list
      elements: str
      sample: ["arn:aws:organizations::111122223333:organization/o-exampleorgid"]
    added_principals:
      description: The principals this run added (to be added, in check mode).
      returned: always
      type: list
      elements: str
      sample: []
    created:
      description: Whether this run created the share (would create it, in check mode).
      returned: always
      type: bool
      sample: false
    allow_external_principals:
      description: The share's C(allowExternalPrincipals).
      returned: always
      type: bool
      sample: false
diff:
  description:
    - The parameter before and after (C(image_id), C(version), and C(description) and C(tier) when they were read); an empty
      dict for no parameter. With O(share_with), also C(shared_with), the principals of its resource share (an empty list
      when the parameter was not in it).
    - With O(parameters), a list of these, one per parameter that changes, each also with C(before_header) and
      C(after_header) naming the parameter and its region (so that C(ansible-playbook --diff) shows every change).
  returned: in diff mode
  type: raw
  sample: {"before": {"image_id": "ami-0123456789abcdef0", "version": 3}, "after": {"image_id": "ami-0fedcba9876543210", "version": 4}}
parameters:
  description:
    - One entry per element of O(parameters), in their order.
    - Also returned when the module fails because some parameters failed; a failed parameter's entry has
      RV(parameters[].name), RV(parameters[].region), RV(parameters[].image_id) (as given), RV(parameters[].failed),
      RV(parameters[].error_kind) and RV(parameters[].msg), and, when it was written but its version did not appear,
      RV(parameters[].changed) and RV(parameters[].version).
  returned: with O(parameters)
  type: list
  elements: dict
  contains:
    name:
      description: The parameter's name, as given.
      returned: always
      type: str
      sample: /golden/ami/latest
    region:
      description: The parameter's region.
      returned: always
      type: str
      sample: eu-west-1
    image_id:
      description: As RV(image_id), for this parameter; for a failed one, the AMI id given.
      returned: always
      type: str
      sample: ami-0123456789abcdef0
    version:
      description: As RV(version), for this parameter.
      returned: success
      type: int
      sample: 4
    validated:
      description: As RV(validated), for this parameter.
      returned: success, with O(state=present)
      type: bool
      sample: true
    changed:
      description: Whether this parameter changed (predicted in check mode).
      returned: success
      type: bool
      sample: true
    diff:
      description: As RV(diff), for this parameter.
      returned: success, in diff mode
      type: dict
    arn:
      description: As RV(arn), for this parameter.
      returned: success, with O(share_with)
      type: str
      sample: arn:aws:ssm:eu-west-1:111122223333:parameter/golden/ami/latest
    resource_share:
      description: As RV(resource_share), for this parameter.
      returned: success, with O(share_with)
      type: dict
    failed:
      description: True when this parameter could not be read, checked, written or validated.
      returned: failure
      type: bool
      sample: true
    error_kind:
      description:
        - V(refused) when the parameter cannot be written as asked (another type or data type, a missing or disabled AMI,
          C(tier=Standard) for an Advanced parameter, two resource shares of the name), V(aws_error) when an AWS call failed
          (access denied, throttling past the retries, a share AWS refused, ...) or the written version did not appear within
          O(wait_timeout).
      returned: failure
      type: str
      choices: [refused, aws_error]
      sample: refused
    msg:
      description: Why this parameter failed.
      returned: failure
      type: str
      sample: "the parameter is a SecureString parameter of data type text (version 2); this module writes and deletes only ..."
"""

import itertools
import time

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.orgshare.aws.plugins.module_utils import _api
from ansible_collections.orgshare.aws.plugins.module_utils import _ec2
from ansible_collections.orgshare.aws.plugins.module_utils import _principals as pr
from ansible_collections.orgshare.aws.plugins.module_utils import _ram
from ansible_collections.orgshare.aws.plugins.module_utils import _ssm
from ansible_collections.orgshare.aws.plugins.module_utils import _targets
from ansible_collections.orgshare.aws.plugins.module_utils._clients import client_factory
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareInputError

PARAMETERS_OPTION = "parameters"
SHARE_OPTION = "share_with"
TARGET_KEYS = ("name", "region", "image_id")
AMI_FORM = "expected the form ami-0123456789abcdef0"

# The waits read the time through these names (tests put a clock of their own here).
SLEEP = time.sleep
CLOCK = time.monotonic
POLL_DELAYS = (1, 2, 3, 5)  # then 5 s between rounds


class ParameterError(OrgShareInputError):
    """A reason, found before the parameter's write, why it cannot be written or deleted as asked."""


class NotSharedError(RuntimeError):
    """A resource share AWS failed to read or write (error_kind aws_error)."""


class NotValidatedError(RuntimeError):
    """A written parameter whose version did not appear (AWS's validation refused it, or is still running), or was
    overtaken by another writer. Not a ValueError: its error_kind is aws_error."""


def _where(target):
    return "parameter %s in %s" % (target["name"], target["region"])


# ---- input ----------------------------------------------------------------------------------------


def _check_name(name, option, region=None):
    problem = _ssm.name_problem(name, region)
    if problem:
        raise _targets.TargetError("%s: %r %s" % (option, name, problem))


def _check_image_id(value, option, state):
    if value is None or value == "":
        if state == "present":
            raise _targets.TargetError("%s: an AMI id is required with state=present (%s)" % (option, AMI_FORM))
        return None
    if not isinstance(value, str):
        raise _targets.TargetError("%s: %r is not a string (%s)" % (option, value, AMI_FORM))
    value = value.strip()
    if not _ec2.is_image_id(value):
        raise _targets.TargetError("%s: %r is not an AMI id; %s" % (option, value, AMI_FORM))
    return value


def check_settings(params):
    description = params.get("description")
    if description is not None and len(description) > _ssm.DESCRIPTION_MAX:
        raise _targets.TargetError(
            "description: %d characters; a parameter's description has at most %d" % (len(description), _ssm.DESCRIPTION_MAX)
        )
    if params.get("wait_timeout") is not None and params["wait_timeout"] < 1:
        raise _targets.TargetError("wait_timeout: a number of seconds, at least 1 (got %r)" % params["wait_timeout"])
    if params.get(SHARE_OPTION) is not None:
        check_share_with(params)


def check_share_with(params):
    """The share_with option, checked without any AWS call (bare organization / OU ids are resolved later)."""
    share = params[SHARE_OPTION]
    if params.get("state") != "present":
        raise _targets.TargetError("%s: only with state=present (it shares the parameters the run writes)" % SHARE_OPTION)
    if params.get("tier") == "Standard":
        raise _targets.TargetError(
            "%s: AWS shares only Advanced parameters, so share_with makes every parameter Advanced; tier=Standard "
            "contradicts it (leave tier out, or set tier: Advanced)" % SHARE_OPTION
        )
    if not params.get("wait"):
        raise _targets.TargetError(
            "%s: needs wait=true: AWS knows a new parameter only once its aws:ec2:image value is validated, and a "
            "parameter it does not know cannot be shared" % SHARE_OPTION
        )
    if not any(share.get(kind) for kind in _ram.PRINCIPAL_KINDS):
        raise _targets.TargetError(
            "%s: name at least one principal in organization_arns, organizational_unit_arns or account_ids (e.g. %s)"
            % (SHARE_OPTION, pr.EXAMPLE_ORG_ARN)
        )
    try:
        for value in share.get("organization_arns") or []:
            if not pr.is_organization_id(value):
                pr.parse_organization_arn(value, SHARE_OPTION + ".organization_arns")
        for value in share.get("organizational_unit_arns") or []:
            if not pr.is_ou_id(value):
                pr.parse_ou_arn(value, SHARE_OPTION + ".organizational_unit_arns")
        for value in share.get("account_ids") or []:
            pr.validate_account_id(value, SHARE_OPTION + ".account_ids")
    except pr.PrincipalError as e:
        raise _targets.TargetError(str(e))
    name = share.get("resource_share_name")
    if name is not None:
        problem = _ram.share_name_problem(name)
        if problem:
            raise _targets.TargetError("%s.resource_share_name: %s" % (SHARE_OPTION, problem))


def parse_single(params, region):
    """The one target of name / image_id, validated before any AWS call."""
    name = (params["name"] or "").strip()
    if not region:
        raise _targets.TargetError("region: no region given (set the region option, or AWS_REGION)")
    problem = _targets.region_problem(region, "region")
    if problem:
        raise _targets.TargetError(problem)
    _check_name(name, "name", region)
    image_id = _check_image_id(params.get("image_id"), "image_id", params["state"])
    return [dict(name=name, region=region, image_id=image_id, index=0, label=None, warnings=[])]


def parse_parameters(items, default_region, state):
    """The validated elements of ``parameters`` (name, region, image_id, index, label), before any AWS call."""
    targets = _targets.parse_targets(items, PARAMETERS_OPTION, "name", TARGET_KEYS, default_region, _check_name)
    seen = {}
    for index, target in enumerate(targets):
        label = "%s[%d]" % (PARAMETERS_OPTION, index)
        _check_name(target["name"], label + ".name", target["region"])
        target["image_id"] = _check_image_id(target.get("image_id"), label + ".image_id", state)
        key = _ssm.same_parameter_key(target["name"], target["region"])
        if key in seen:
            raise _targets.TargetError(
                "%s.name: %r in %s is the parameter of %s (%r): AWS takes /NAME and NAME for one parameter; list each "
                "parameter once" % (label, target["name"], target["region"], seen[key][0], seen[key][1])
            )
        seen[key] = ("%s.name" % label, target["name"])
        target.update(index=index, label=label, warnings=[])
    return targets


# ---- one parameter --------------------------------------------------------------------------------


def _shown(parameter, meta=None, fields=()):
    """A parameter as the diff shows it: {} for none."""
    if parameter is None:
        return {}
    out = dict(image_id=parameter.get("Value"), version=parameter.get("Version"))
    for field in fields:
        out[field] = (meta or {}).get(field.capitalize())
    return out


def check_image(ec2, target):
    """ParameterError when the AMI is not in the region as the caller sees it, or is disabled; a warning when it is
    in another state than available."""
    image_id, region = target["image_id"], target["region"]
    image = _api.get_image(ec2, image_id)
    if image is None:
        disabled = _api.get_image(ec2, image_id, include_disabled=True)
        if disabled is not None:
            raise ParameterError(
                "AMI %s is disabled; nobody can launch it through the parameter. Enable it first "
                "(aws ec2 enable-image --image-id %s --region %s)" % (image_id, image_id, region)
            )
        raise ParameterError(
            "AMI %s was not found in %s (among the caller's AMIs and those shared with it); AWS would accept the "
            "write and then refuse the value asynchronously, leaving the parameter as it is. Give an AMI of that region"
            % (image_id, region)
        )
    if image.get("State") != "available":
        target["warnings"].append(
            "AMI %s is %s, not available: launches through the parameter fail until it is" % (image_id, image.get("State"))
        )


def refuse_kind(target, current):
    problem = _ssm.kind_problem(current)
    if problem:
        raise ParameterError(
            "the parameter %s; this module writes and deletes only String parameters of data type aws:ec2:image, and "
            "leaves any other kind alone. Delete it first if it may go (aws ssm delete-parameter --name %s --region %s), "
            "or choose another name" % (problem, target["name"], target["region"])
        )


def plan_present(ssm, ec2, target, settings):
    """Read the parameter and decide: the plan (request to send or None, before, after, ...)."""
    current = _api.get_parameter(ssm, target["name"])
    if current is not None:
        refuse_kind(target, current)
    wanted = target["image_id"]
    value_changes = current is None or current.get("Value") != wanted
    meta, fields = None, []
    if settings["description"] is not None:
        fields.append("description")
    if settings["tier"] is not None:
        fields.append("tier")
    if current is not None and (value_changes or fields):
        meta = _api.describe_parameter(ssm, current.get("Name") or target["name"])
        if meta is None:  # deleted since GetParameter: it is a new parameter now
            current, value_changes = None, True
    current_tier = (meta or {}).get("Tier")
    if settings["tier"] == "Standard" and current_tier == "Advanced":
        raise ParameterError(
            "the parameter is an Advanced parameter, and AWS cannot turn an Advanced parameter back into a Standard one "
            "(only delete it and create it anew, which loses its history); set tier: Advanced, or leave tier out to keep "
            "its tier"
        )
    changed = value_changes
    if current is not None:
        if settings["description"] is not None and ((meta or {}).get("Description") or "") != settings["description"]:
            changed = True
        if settings["tier"] == "Advanced" and current_tier != "Advanced":
            changed = True
    if value_changes:
        check_image(ec2, target)
    request = None
    version = current.get("Version") if current is not None else None
    after = _shown(current, meta, fields)
    if changed:
        request = dict(Name=target["name"], Value=wanted, Type=_ssm.TYPE, DataType=_ssm.DATA_TYPE, Overwrite=current is not None,
                       Tier=settings["tier"] or current_tier or "Standard")
        if settings["description"] is not None:
            request["Description"] = settings["description"]
        version = (version or 0) + 1 if current is not None else 1
        after = dict(image_id=wanted, version=version)
        for field in fields:
            after[field] = settings[field] if settings[field] is not None else (meta or {}).get(field.capitalize())
    return dict(request=request, changed=changed, version=version, before=_shown(current, meta, fields), after=after,
                image_id=wanted, validated=not changed)


def plan_absent(ssm, target):
    current = _api.get_parameter(ssm, target["name"])
    if current is None:
        return dict(delete=False, changed=False, image_id=None, version=None, before={}, after={})
    refuse_kind(target, current)
    shown = _shown(current)
    if target["image_id"] is not None and current.get("Value") != target["image_id"]:
        target["warnings"].append(
            "it holds %s (version %s), not %s: left as it is" % (current.get("Value"), current.get("Version"), target["image_id"])
        )
        return dict(delete=False, changed=False, image_id=current.get("Value"), version=current.get("Version"), before=shown, after=shown)
    return dict(delete=True, changed=True, image_id=None, version=None, before=shown, after={})


def entry(target, plan, diff):
    result = dict(changed=plan["changed"], name=target["name"], region=target["region"], image_id=plan["image_id"],
                  version=plan["version"])
    if "validated" in plan:
        result["validated"] = plan["validated"]
    if diff:
        result["diff"] = dict(before=plan["before"], after=plan["after"])
    return result


def converge(ssm, ec2, target, settings, check_mode, diff):
    """Plan and, unless in check mode, write one parameter: its result entry (``_written`` set when a version is to
    be waited for)."""
    if settings["state"] == "absent":
        plan = plan_absent(ssm, target)
        if plan["delete"] and not check_mode:
            _api.delete_parameter(ssm, target["name"])
        return entry(target, plan, diff)
    plan = plan_present(ssm, ec2, target, settings)
    result = entry(target, plan, diff)
    if plan["request"] is not None and not check_mode:
        try:
            answer = _api.put_parameter(ssm, plan["request"])
        except AnsibleAWSError as e:
            if _api.error_code(e) == "ParameterAlreadyExists":
                raise ParameterError(
                    "the parameter was created by someone else after this run read it (PutParameter: "
                    "ParameterAlreadyExists); re-run to update it"
                )
            raise
        result["version"] = answer.get("Version") or plan["version"]
        if diff:
            result["diff"]["after"]["version"] = result["version"]
        target["_written"] = result["version"]
    return result


# ---- the wait -------------------------------------------------------------------------------------


def poll_delays():
    return itertools.chain(POLL_DELAYS, itertools.repeat(POLL_DELAYS[-1]))


def _poll(ssm, target):
    """True when GetParameter shows the version written (or a later one); NotValidatedError when a later version,
    another writer's, holds another AMI id."""
    current = _api.get_parameter(ssm, target["name"])
    if current is None or (current.get("Version") or 0) < target["_written"]:
        return False
    if current.get("Value") != target["image_id"]:
        raise NotValidatedError(
            "this run wrote version %s, but version %s holds %s: another writer changed the parameter since"
            % (target["_written"], current.get("Version"), current.get("Value"))
        )
    return True


def wait_for_versions(ssm_clients, targets, timeout):
    """Poll every written parameter together until GetParameter shows its version or ``timeout`` runs out.

    Returns {target index: error} for those that failed (a read error, another writer, or no version in time)."""
    deadline = CLOCK() + timeout
    delays = poll_delays()
    pending = list(targets)
    errors = {}
    while True:
        still = []
        for outcome in _targets.run_targets(lambda t: _poll(ssm_clients[t["region"]], t), pending):
            if outcome.error is not None:
                errors[outcome.target["index"]] = outcome.error
            elif not outcome.result:
                still.append(outcome.target)
        pending = still
        if not pending:
            return errors
        remaining = deadline - CLOCK()
        if remaining <= 0:
            break
        SLEEP(min(next(delays), remaining))
    for target in pending:
        errors[target["index"]] = NotValidatedError(
            "PutParameter returned version %s, but after wait_timeout=%ss GetParameter does not show it. AWS validates "
            "aws:ec2:image values asynchronously: the validation is still running, or AWS refused the value and left the "
            "parameter as it was (AWS reports why only in the EventBridge event 'Parameter Store Change', for example "
            "'Unable to Describe Resource': the AMI is not available to the caller in %s, or the caller may not call "
            "ec2:DescribeImages)" % (target["_written"], timeout, target["region"])
        )
    return errors


# ---- the run --------------------------------------------------------------------------------------


# ---- the RAM resource shares -----------------------------------------------------------------------


def share_principals(share, clients, region):
    """share_with's principals, validated, bare organization / OU ids resolved to ARNs (organizations:DescribeOrganization,
    DescribeOrganizationalUnit), and an ARN of the caller's organization checked to name its management account."""
    orgs, ous = share.get("organization_arns") or [], share.get("organizational_unit_arns") or []
    resolver = pr.OrganizationsResolver(clients.client("organizations", region) if orgs or ous else None)
    found = pr.normalise_principals(
        organization_arns=["%s" % v for v in orgs] or None,
        organizational_unit_arns=["%s" % v for v in ous] or None,
        account_ids=share.get("account_ids") or None,
        resolver=resolver,
        check_management_account=bool(orgs or ous),
    )
    return _ram.principal_list(found)


def _share_group(sharing, region, share_name, group, check_mode):
    """Plan (and, unless in check mode, apply) one resource share: its plan and warnings."""
    ram = sharing["ram"][region]
    plan = _ram.plan_share(ram, share_name, sharing["principals"], [t["_arn"] for t in group])
    if not check_mode:
        _ram.apply_share(ram, plan)
    return plan


def share_entry(target, result, plan, diff):
    """The parameter's entry with its ARN and its resource share (RV(parameters[].resource_share))."""
    arn = target["_arn"]
    result["arn"] = arn
    result["resource_share"] = dict(name=plan["name"], arn=plan["arn"], principals=plan["principals"],
                                    added_principals=plan["add_principals"], created=plan["create"] is not None,
                                    allow_external_principals=plan["allow_external_principals"])
    if plan["changed"]:
        result["changed"] = True
    if diff:
        result.setdefault("diff", dict(before={}, after={}))
        if result["diff"]["before"]:  # {} stays {}: there was no parameter
            result["diff"]["before"]["shared_with"] = plan["before_principals"] if arn in plan["before_resources"] else []
        result["diff"]["after"]["shared_with"] = plan["principals"]
    return result


def share_parameters(sharing, outcomes, check_mode, diff):
    """Share every parameter that succeeded, one resource share per region and share name (concurrently): the outcomes
    with each entry's ``arn`` and ``resource_share``, or the share's failure."""
    ok = [o for o in outcomes if o.error is None]
    if not ok:
        return outcomes
    account = _api.caller_account_id(sharing["sts"])
    groups = {}
    for outcome in ok:
        target = outcome.target
        target["_arn"] = _ram.parameter_arn(target["name"], target["region"], account)
        key = (target["region"], sharing["name"] or _ram.default_share_name(target["name"]))
        groups.setdefault(key, []).append(target)
    keyed = [dict(region=k[0], name=k[1], targets=v) for k, v in groups.items()]
    done = _targets.run_targets(lambda g: _share_group(sharing, g["region"], g["name"], g["targets"], check_mode), keyed)
    by_index = {}
    for outcome in done:
        for target in outcome.target["targets"]:
            by_index[target["index"]] = (outcome.target["name"], outcome.result, outcome.error)
    out = []
    for outcome in outcomes:
        if outcome.error is not None:
            out.append(outcome)
            continue
        share_name, plan, error = by_index[outcome.target["index"]]
        if error is not None:
            message = "resource share %s: %s" % (share_name, _targets.error_text(error))
            error = _ram.ShareError(message) if isinstance(error, ValueError) else NotSharedError(message)
            out.append(_targets.Outcome(outcome.target, None, error))
            continue
        warning = _ram.external_accounts_warning(plan)
        if warning and warning not in outcome.target["warnings"]:
            outcome.target["warnings"].append(warning)
        out.append(_targets.Outcome(outcome.target, share_entry(outcome.target, outcome.result, plan, diff), None))
    return out


def failed_entry(target, message):
    out = dict(name=target["name"], region=target["region"], image_id=target.get("image_id"), failed=True, msg=message)
    if target.get("_written") is not None:  # written, but not seen: the write happened
        out.update(changed=True, version=target["_written"])
    return out


def run(module, targets):
    """Every target, concurrently: (entries, changed, failure message or None)."""
    params = module.params
    settings = dict((k, params.get(k)) for k in ("state", "description", "tier", "wait", "wait_timeout"))
    regions = sorted(set(t["region"] for t in targets))
    # Every client in this thread, from one boto3 session (sessions are not thread-safe; their clients are).
    clients = client_factory(module)
    sharing = None
    if params.get(SHARE_OPTION) is not None:
        settings["tier"] = "Advanced"  # AWS shares only Advanced parameters
        # the principals first (bare ids resolved, ARNs checked against the organization), before any parameter is read
        sharing = dict(principals=share_principals(params[SHARE_OPTION], clients, module.region or regions[0]),
                       name=params[SHARE_OPTION].get("resource_share_name"),
                       ram=clients.clients("ram", regions), sts=clients.client("sts", module.region or regions[0]))
    ssm = clients.clients("ssm", regions)
    ec2 = clients.clients("ec2", regions) if settings["state"] == "present" else {}

    outcomes = _targets.run_targets(
        lambda t: converge(ssm[t["region"]], ec2.get(t["region"]), t, settings, module.check_mode, module._diff), targets
    )
    written = [o.target for o in outcomes if o.error is None and o.target.get("_written") is not None]
    if written and settings["wait"]:
        errors = wait_for_versions(ssm, written, settings["wait_timeout"])
        outcomes = [_targets.Outcome(o.target, None, errors[o.target["index"]]) if o.target["index"] in errors else o
                    for o in outcomes]
        for outcome in outcomes:
            if outcome.error is None and outcome.target.get("_written") is not None:
                outcome.result["validated"] = True
    if sharing is not None:
        outcomes = share_parameters(sharing, outcomes, module.check_mode, module._diff)
    for target in targets:
        for warning in target["warnings"]:
            module.warn("%s: %s" % (_where(target), warning))
    return _targets.summarise(outcomes, "name", failed_entry), outcomes


def main():
    argument_spec = dict(
        name=dict(type="str"),
        image_id=dict(type="str"),
        parameters=dict(
            type="list",
            elements="dict",
            options=dict(
                name=dict(type="str", required=True),
                region=dict(type="str"),
                image_id=dict(type="str"),
            ),
        ),
        description=dict(type="str"),
        tier=dict(type="str", choices=list(_ssm.TIERS)),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=300),
        share_with=dict(
            type="dict",
            options=dict(
                organization_arns=dict(type="list", elements="str", aliases=["org_arns"]),
                organizational_unit_arns=dict(type="list", elements="str", aliases=["ou_arns", "org_unit_arns"]),
                account_ids=dict(type="list", elements="str"),
                resource_share_name=dict(type="str"),
            ),
        ),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        mutually_exclusive=[["name", PARAMETERS_OPTION], ["image_id", PARAMETERS_OPTION]],
        required_one_of=[["name", PARAMETERS_OPTION]],
        supports_check_mode=True,
    )
    many = module.params[PARAMETERS_OPTION] is not None
    try:
        check_settings(module.params)
        if many:
            targets = parse_parameters(module.params[PARAMETERS_OPTION], module.region, module.params["state"])
        else:
            targets = parse_single(module.params, module.region)
        (entries, changed, msg), outcomes = run(module, targets)
    except OrgShareInputError as e:  # TargetError, ParameterError: refused input
        module.fail_json(msg=str(e))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)

    if many:
        extra = {"diff": _targets.combined_diff(entries, "name")} if module._diff else {}  # shown by ansible-playbook --diff
        if msg:
            module.fail_json(msg=msg, changed=changed, parameters=entries, **extra)
        module.exit_json(changed=changed, parameters=entries, **extra)

    (result,) = entries
    if result.get("failed"):
        (outcome,) = outcomes
        if isinstance(outcome.error, AnsibleAWSError):
            module.fail_json_aws_error(outcome.error)
        result = dict(result, msg="%s: %s" % (_where(result), result["msg"]))
        result.pop("failed")
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
