# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to this collection: not a public API; may change in any release.

"""Pure SSM Parameter Store helpers: parameter names and the ``aws:ec2:image`` data type (no boto3; the API calls
are in ``_api``).

Parameter names (AWS Systems Manager User Guide, "About requirements and constraints for parameter names",
https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html#sysman-parameter-name-constraints,
and PutParameter ``Name`` in botocore's SSM model):

- only ``a-zA-Z0-9_.-`` and ``/`` (which separates the levels of a hierarchy); no spaces;
- a name in a hierarchy must be fully qualified: it starts with ``/`` (``MyParameter3/L1`` is refused);
- it cannot be prefixed with ``aws`` or ``ssm``, case-insensitive, also after the leading ``/`` (``/aws/testparam1``);
- at most fifteen levels (``/Level-1/L2/.../L14/parameter-name``, 15 in all, is the documented valid example);
- at most 1011 characters counting the parameter's ARN before the name
  (``arn:aws:ssm:us-east-2:111122223333:parameter/`` is 45 of them);
- ``/TestParam1`` and ``TestParam1`` are the same parameter (``same_parameter_key``).

An empty level (``/a//b``, a trailing ``/``) is refused too: the collection's own rule (AWS documents no such name).
"""

import re

DATA_TYPE = "aws:ec2:image"
TYPE = "String"
TIERS = ("Standard", "Advanced")
DESCRIPTION_MAX = 1024  # PutParameter Description, botocore's SSM model
NAME_MAX_WITH_ARN = 1011
MAX_LEVELS = 15
NAME_CHARS_RE = re.compile(r"^[a-zA-Z0-9_.\-/]+$")
RESERVED_PREFIXES = ("aws", "ssm")
ACCOUNT_PLACEHOLDER = "0" * 12  # every account id has 12 digits


def region_partition(region):
    """The partition of a region name (aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b)."""
    for prefix, partition in (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"), ("us-isob-", "aws-iso-b"), ("us-iso-", "aws-iso")):
        if region.startswith(prefix):
            return partition
    return "aws"


def arn_prefix(region, account_id=ACCOUNT_PLACEHOLDER):
    return "arn:%s:ssm:%s:%s:parameter/" % (region_partition(region), region, account_id)


def name_length_with_arn(name, region):
    """The length AWS counts against the 1011 characters: the ARN's prefix and the name without its leading ``/``."""
    return len(arn_prefix(region)) + len(name[1:] if name.startswith("/") else name)


def name_problem(name, region=None):
    """Why ``name`` is not a parameter name AWS accepts (a phrase that follows the quoted name), or None.

    Without ``region`` the length is not checked (it depends on the region's ARN)."""
    if not isinstance(name, str) or not name:
        return "is not a parameter name; expected a name like /golden/ami or golden-ami"
    if not NAME_CHARS_RE.match(name):
        bad = sorted(set(c for c in name if not NAME_CHARS_RE.match(c)))
        return ("is not a parameter name: it contains %s; a name consists of the letters a-z A-Z, the digits 0-9 and "
                "the symbols _ . - and / (which separates the levels of a hierarchy), for example /golden/ami"
                % ", ".join(repr(c) for c in bad))
    if "/" in name and not name.startswith("/"):
        return ("is not a fully qualified parameter name: a name in a hierarchy starts with '/' (for example %r)"
                % ("/" + name))
    levels = name[1:].split("/") if name.startswith("/") else [name]
    if any(level == "" for level in levels):
        return "has an empty level (two '/' in a row, or a trailing '/'); expected a name like /golden/ami"
    if levels[0].lower().startswith(RESERVED_PREFIXES):
        return ("is a reserved parameter name: a name cannot begin with 'aws' or 'ssm' (in any case, also after the "
                "leading '/'); choose another first level, for example /golden/ami")
    if len(levels) > MAX_LEVELS:
        return "has %d levels; a parameter hierarchy has at most %d" % (len(levels), MAX_LEVELS)
    if region is not None:
        length = name_length_with_arn(name, region)
        if length > NAME_MAX_WITH_ARN:
            return ("is too long: with its ARN (%s...) it has %d characters, AWS allows at most %d"
                    % (arn_prefix(region, "<account>"), length, NAME_MAX_WITH_ARN))
    return None


def same_parameter_key(name, region):
    """A key equal for two names AWS takes for one parameter in one region (``/Name`` and ``Name``)."""
    if name.startswith("/") and "/" not in name[1:]:
        name = name[1:]
    return (name, region)


def kind_problem(parameter):
    """Why an existing parameter (GetParameter's ``Parameter``) is not one this collection writes, or None.

    The collection writes only ``String`` parameters of data type ``aws:ec2:image``; a parameter of another type
    (``StringList``, ``SecureString``) or data type (``text``, ...) is never overwritten or deleted."""
    kind = parameter.get("Type")
    data_type = parameter.get("DataType") or "text"
    if kind == TYPE and data_type == DATA_TYPE:
        return None
    return "is a %s parameter of data type %s (version %s)" % (kind, data_type, parameter.get("Version"))
