# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to this collection: not a public API; may change in any release.

"""The checks of ami_copy's inputs that need no AWS call: region names, AMI names, KMS key forms.

Apart from _ami_copy (which re-exports them) so that the role's plan (the filter
orgshare.aws.ami_distribute_plan, run on the controller in every task's worker process) refuses the
same inputs with the same messages without importing boto3 and the AWS call layer (_api)."""

import re

from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareInputError
from ansible_collections.orgshare.aws.plugins.module_utils._targets import region_problem

# AMI names: 3 to 128 characters of letters, digits and ( ) [ ] space . / - ' @ _
AMI_NAME_RE = re.compile(r"^[A-Za-z0-9()\[\] ./'@_-]{3,128}$")
KEY_ID_RE = re.compile(r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$")
ALIAS_RE = re.compile(r"^alias/[A-Za-z0-9/_-]{1,250}$")
KMS_ARN_RE = re.compile(r"^arn:(aws[a-z-]*):kms:([a-z0-9-]+):([0-9]{12}):(key/.+|alias/.+)$")


class AmiCopyError(OrgShareInputError):
    """Invalid options, or a state of AWS the module refuses to act on; the message says what to change."""


def validate_region(value, option):
    problem = region_problem(value, option)
    if problem:
        raise AmiCopyError(problem)
    return value


def validate_ami_name(value, option):
    if not isinstance(value, str) or not AMI_NAME_RE.match(value):
        raise AmiCopyError(
            "%s: %r is not a valid AMI name; expected 3 to 128 characters of letters, digits and ( ) [ ] space . / - ' @ _"
            % (option, value)
        )
    return value


def validate_kms_key_id(value, region, option):
    """A key id, ``mrk-`` id, alias name, key ARN or alias ARN; an ARN must be in ``region``
    (CopyImage needs a key of the destination region)."""
    if not isinstance(value, str) or not value:
        raise AmiCopyError("%s: %r is not a KMS key; expected a key id, alias/NAME, or a key or alias ARN" % (option, value))
    m = KMS_ARN_RE.match(value)
    if m:
        if m.group(2) != region:
            raise AmiCopyError(
                "%s: the key %s is in region %s, but the copy goes to %s; KMS keys are regional: give a key of %s"
                % (option, value, m.group(2), region, region)
            )
        return value
    if KEY_ID_RE.match(value) or ALIAS_RE.match(value):
        return value
    raise AmiCopyError("%s: %r is not a KMS key; expected a key id, alias/NAME, or a key or alias ARN" % (option, value))


def is_aws_managed_key(kms_key_id):
    """True for a name of an AWS managed key (``alias/aws/...``, as alias or alias ARN)."""
    if not kms_key_id:
        return False
    m = KMS_ARN_RE.match(kms_key_id)
    target = m.group(4) if m else kms_key_id
    return target.startswith("alias/aws/")
