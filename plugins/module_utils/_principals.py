# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to this collection: not a public API; may change in any release.

"""Principals: AWS Organizations organizations, organizational units (OUs) and accounts.

Pure parsing and validation of organization ARNs, OU ARNs, 12-digit account ids and organization
paths (the ``aws:PrincipalOrgPaths`` form ``o-id/r-root/ou-a/ou-b/``), plus one class that touches
AWS: ``OrganizationsResolver`` turns bare ``o-``/``ou-`` ids into ARNs and OUs into paths through
AWS Organizations, caching every answer.

Every validation error is a ``PrincipalError`` (an ``OrgShareInputError``) whose message names the option,
the bad value and the expected form with an example; modules report it with ``fail_json(msg=...)``.
AWS errors other than "you may not ask this" are raised as ``_api.AnsibleOrganizationsError`` (an
``AnsibleAWSError``) for ``fail_json_aws_error``.
"""

import collections
import re
import threading

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import is_ansible_aws_error_code

from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareInputError


def _api():
    """The AWS call layer, imported when a call is made: the parsing and checking here is also run by
    the role's plan on the controller (the filter orgshare.aws.ami_distribute_plan), which then need
    not import boto3."""
    from ansible_collections.orgshare.aws.plugins.module_utils import _api as api

    return api


# aws-iso* partitions exist for ARNs in air-gapped regions; accepting them costs nothing.
PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b")

# Id syntax from the AWS Organizations API reference (the patterns of each Id field).
_ORG_ID = r"o-[a-z0-9]{10,32}"
_ROOT_ID = r"r-[0-9a-z]{4,32}"
_OU_ID = r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}"
_ACCOUNT_ID = r"[0-9]{12}"
_PARTITION = "|".join(re.escape(p) for p in PARTITIONS)

ORG_ID_RE = re.compile(_ORG_ID)
ROOT_ID_RE = re.compile(_ROOT_ID)
OU_ID_RE = re.compile(_OU_ID)
ACCOUNT_ID_RE = re.compile(_ACCOUNT_ID)
ORG_ARN_RE = re.compile(
    r"arn:(?P<partition>%s):organizations::(?P<account>%s):organization/(?P<org>%s)" % (_PARTITION, _ACCOUNT_ID, _ORG_ID)
)
OU_ARN_RE = re.compile(
    r"arn:(?P<partition>%s):organizations::(?P<account>%s):ou/(?P<org>%s)/(?P<ou>%s)" % (_PARTITION, _ACCOUNT_ID, _ORG_ID, _OU_ID)
)

EXAMPLE_ACCOUNT_ID = "111122223333"
EXAMPLE_ORG_ID = "o-exampleorgid"
EXAMPLE_ROOT_ID = "r-examplerootid111"
EXAMPLE_OU_ID = "ou-examplerootid111-exampleouid111"
EXAMPLE_ORG_ARN = "arn:aws:organizations::%s:organization/%s" % (EXAMPLE_ACCOUNT_ID, EXAMPLE_ORG_ID)
EXAMPLE_OU_ARN = "arn:aws:organizations::%s:ou/%s/%s" % (EXAMPLE_ACCOUNT_ID, EXAMPLE_ORG_ID, EXAMPLE_OU_ID)
EXAMPLE_ORG_PATH = "%s/%s/%s/" % (EXAMPLE_ORG_ID, EXAMPLE_ROOT_ID, EXAMPLE_OU_ID)

ORG_ARN_FORM = "an organization ARN arn:PARTITION:organizations::MANAGEMENT_ACCOUNT_ID:organization/o-ID, e.g. %s" % EXAMPLE_ORG_ARN
OU_ARN_FORM = "an OU ARN arn:PARTITION:organizations::MANAGEMENT_ACCOUNT_ID:ou/o-ID/ou-ROOT-ID, e.g. %s" % EXAMPLE_OU_ARN
ACCOUNT_ID_FORM = "a 12-digit AWS account id as a string, e.g. '%s'" % EXAMPLE_ACCOUNT_ID
ORG_PATH_FORM = "an organization path o-ID/r-ROOT/ou-ROOT-ID/.../ (from the organization down to the OU), e.g. %s" % EXAMPLE_ORG_PATH

# Errors that mean "this caller may not resolve ids" rather than "AWS is broken".
_DENIED = ["AccessDeniedException", "AccessDenied", "AWSOrganizationsNotInUseException"]
# An OU or parent that cannot be found: to the management account, not in this organization; unknown either way.
_NOT_FOUND = ["OrganizationalUnitNotFoundException", "ChildNotFoundException", "ParentNotFoundException"]
_MAX_DEPTH = 10  # AWS allows five levels of OUs below the root; more means a loop

CLI_ORG_ARN = "aws organizations describe-organization --query Organization.Arn --output text"
CLI_OU_ARN = "aws organizations describe-organizational-unit --organizational-unit-id %s --query OrganizationalUnit.Arn --output text"
CLI_PARENTS = "aws organizations list-parents --child-id %s"


class PrincipalError(OrgShareInputError):
    """A principal value that is malformed, or that cannot be resolved by this caller.

    ``option`` and ``value`` name the input; ``str(error)`` is the full message."""

    def __init__(self, option, value, reason):
        self.option = option
        self.value = value
        self.reason = reason
        super(PrincipalError, self).__init__("%s: %s %s" % (option, _show(value), reason))


def _show(value):
    text = repr(value)
    if len(text) > 120:
        text = text[:100] + "...(%d characters)" % len(text)
    return text


class OrganizationArn(collections.namedtuple("OrganizationArn", "arn partition management_account_id organization_id")):
    __slots__ = ()


class OrganizationalUnitArn(
    collections.namedtuple("OrganizationalUnitArn", "arn partition management_account_id organization_id ou_id")
):
    __slots__ = ()

    @property
    def root_id(self):
        return root_id_of_ou_id(self.ou_id)


# ---- predicates ----------------------------------------------------------------------------------


def _is_str(value):
    return isinstance(value, str)


def is_organization_id(value):
    return _is_str(value) and ORG_ID_RE.fullmatch(value) is not None


def is_root_id(value):
    return _is_str(value) and ROOT_ID_RE.fullmatch(value) is not None


def is_ou_id(value):
    return _is_str(value) and OU_ID_RE.fullmatch(value) is not None


def is_account_id(value):
    return _is_str(value) and ACCOUNT_ID_RE.fullmatch(value) is not None


def is_organization_arn(value):
    return _is_str(value) and ORG_ARN_RE.fullmatch(value) is not None


def is_ou_arn(value):
    return _is_str(value) and OU_ARN_RE.fullmatch(value) is not None


def is_org_path(value):
    """True for a valid organization path, with or without its trailing slash."""
    try:
        parse_org_path(value)
    except PrincipalError:
        return False
    return True


def root_id_of_ou_id(ou_id):
    """``ou-ab12-xxxxxxxx`` lives under root ``r-ab12``: AWS builds an OU id from its root's id."""
    return "r-" + ou_id.split("-")[1]


# ---- diagnosis: why a value is not what was expected ---------------------------------------------


def _what_is(value):
    """A short description of what a wrongly placed but recognisable value is, or None."""
    if not _is_str(value):
        return None
    if ORG_ARN_RE.fullmatch(value):
        return "an organization ARN (it belongs in organization_arns)"
    if OU_ARN_RE.fullmatch(value):
        return "an OU ARN (it belongs in organizational_unit_arns)"
    if ACCOUNT_ID_RE.fullmatch(value):
        return "an account id (it belongs in account_ids)"
    if _account_id_in_arn(value):
        return "an account ARN (give the 12-digit account id %s in account_ids)" % _account_id_in_arn(value)
    return None


def _account_id_in_arn(value):
    """The account id of an account ARN (IAM root/user/role, STS, or organizations account), else None."""
    m = re.fullmatch(r"arn:[a-z-]+:organizations::[0-9]{12}:account/o-[a-z0-9]+/([0-9]{12})", value)
    if m:
        return m.group(1)
    m = re.fullmatch(r"arn:[a-z-]+:(?:iam|sts)::([0-9]{12}):.*", value, re.DOTALL)
    if m:
        return m.group(1)
    return None


def _arn_component_problem(value, resource_kind):
    """For a string shaped like an ARN, the first component that is wrong, as a phrase; else None."""
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    _arn, partition, service, region, account, resource = parts
    if partition not in PARTITIONS:
        return "has an unknown partition %r (expected one of %s)" % (partition, ", ".join(PARTITIONS))
    if service != "organizations":
        return "is an ARN of service %r, not of organizations" % service
    if region:
        return "has a region %r, but organizations ARNs have an empty region field (::)" % region
    if not ACCOUNT_ID_RE.fullmatch(account):
        return "has %r where the 12-digit management account id belongs" % account
    kind, _sep, rest = resource.partition("/")
    if kind != resource_kind:
        return "has resource type %r where %r belongs" % (kind, resource_kind)
    ids = rest.split("/")
    if not is_organization_id(ids[0]):
        return "has %r where the organization id (o- followed by 10 to 32 lowercase letters or digits) belongs" % ids[0]
    if resource_kind == "organization" and len(ids) != 1:
        return "has extra text after the organization id"
    if resource_kind == "ou":
        if len(ids) != 2:
            return "must end with /ou-ROOT-ID after the organization id"
        if not is_ou_id(ids[1]):
            return "has %r where the OU id (ou-, 4 to 32 lowercase letters or digits, -, 8 to 32 more) belongs" % ids[1]
    return None


def _common_problem(value):
    """Reasons that apply to every kind of principal, or None."""
    if value is None:
        return "is empty (null)"
    if not _is_str(value):
        return "is a %s, not a string" % type(value).__name__
    if value == "":
        return "is an empty string"
    if value != value.strip():
        return "has leading or trailing whitespace"
    if "*" in value or "?" in value:
        return "contains a wildcard; wildcards are not accepted here"
    return None


# ---- parsers -------------------------------------------------------------------------------------


def parse_organization_arn(value, option="organization_arns"):
    """Validate an organization ARN; return OrganizationArn. Raises PrincipalError."""
    m = ORG_ARN_RE.fullmatch(value) if _is_str(value) else None
    if m:
        return OrganizationArn(value, m.group("partition"), m.group("account"), m.group("org"))
    problem = _common_problem(value)
    if problem is None and re.fullmatch(r"o-[^:/]*", value):
        problem = "is a bare organization id"
        if not is_organization_id(value):
            problem += " (and not a valid one: o- followed by 10 to 32 lowercase letters or digits)"
        problem += "; the module needs the organization ARN. Run `%s` in any account of that organization" % CLI_ORG_ARN
    if problem is None and _what_is(value):
        problem = "is %s, not an organization ARN" % _what_is(value)
    if problem is None:
        problem = _arn_component_problem(value, "organization") or "is not an organization ARN"
    raise PrincipalError(option, value, "%s; expected %s" % (problem, ORG_ARN_FORM))


def parse_ou_arn(value, option="organizational_unit_arns"):
    """Validate an organizational unit ARN; return OrganizationalUnitArn. Raises PrincipalError."""
    m = OU_ARN_RE.fullmatch(value) if _is_str(value) else None
    if m:
        return OrganizationalUnitArn(value, m.group("partition"), m.group("account"), m.group("org"), m.group("ou"))
    raise PrincipalError(option, value, "%s; expected %s" % (_ou_arn_problem(value), OU_ARN_FORM))


def _ou_arn_problem(value):
    """Why ``value`` (which is not an OU ARN) is not one."""
    problem = _common_problem(value)
    if problem is None and re.fullmatch(r"ou-[^:/]*", value):
        problem = "is a bare OU id"
        if not is_ou_id(value):
            problem += " (and not a valid one: ou-, 4 to 32 lowercase letters or digits, -, 8 to 32 more)"
        problem += "; the module needs the OU ARN. Run `%s` in the management account" % (CLI_OU_ARN % value)
    if problem is None and re.fullmatch(r"r-[^:/]*", value):
        problem = "is a root id; share with the whole organization through its organization ARN instead"
    if problem is None and _what_is(value):
        problem = "is %s, not an OU ARN" % _what_is(value)
    if problem is None and _is_org_path_shaped(value):
        problem = "is an organization path, not an OU ARN"
    if problem is None:
        problem = _arn_component_problem(value, "ou") or "is not an OU ARN"
    return problem


def validate_account_id(value, option="account_ids"):
    """Validate a 12-digit account id (a string, or an int of 12 digits); return it as a string."""
    if isinstance(value, int) and not isinstance(value, bool):
        if 10 ** 11 <= value < 10 ** 12:
            return str(value)
        raise PrincipalError(
            option,
            value,
            "is not a 12-digit AWS account id; quote account ids in YAML, since an unquoted number loses its leading zeros"
            "; expected %s" % ACCOUNT_ID_FORM,
        )
    if _is_str(value) and ACCOUNT_ID_RE.fullmatch(value):
        return value
    problem = _common_problem(value)
    if problem is None:
        digits = re.sub(r"[\s-]", "", value)
        if _account_id_in_arn(value):
            problem = "is an account ARN; give the account id %s" % _account_id_in_arn(value)
        elif ORG_ARN_RE.fullmatch(value) or OU_ARN_RE.fullmatch(value):
            problem = "is %s, not an account id" % _what_is(value)
        elif value.startswith("o-") or value.startswith("ou-"):
            problem = "is an organization or OU id, not an account id"
        elif digits != value and ACCOUNT_ID_RE.fullmatch(digits):
            problem = "is not a 12-digit AWS account id; write it without dashes or spaces ('%s')" % digits
        elif value.isdigit() and len(value) < 12:
            problem = (
                "is not a 12-digit AWS account id: it has %d digits. If it was written unquoted in YAML, the number lost its "
                "leading zero(s): quote account ids, e.g. '012345678901'" % len(value)
            )
        else:
            problem = "is not a 12-digit AWS account id"
    raise PrincipalError(option, value, "%s; expected %s" % (problem, ACCOUNT_ID_FORM))


def _is_org_path_shaped(value):
    return _is_str(value) and value.startswith("o-") and "/" in value


def parse_org_path(value, option="organization_paths"):
    """Validate an organization path; return it normalised with a trailing slash.

    The form is ``o-ID/`` (the whole organization), ``o-ID/r-ROOT/`` or
    ``o-ID/r-ROOT/ou-ROOT-A/ou-ROOT-B/`` (an OU, listed with all its ancestors). Every OU id must
    name the path's root (``ou-ab12-...`` lives under ``r-ab12``). Wildcards are rejected: see
    ``parse_org_path_pattern`` for key-policy patterns."""
    problem = _common_problem(value)
    if problem is None:
        problem = _org_path_problem(value)
    if problem is not None:
        raise PrincipalError(option, value, "%s; expected %s" % (problem, ORG_PATH_FORM))
    return value if value.endswith("/") else value + "/"


def _org_path_problem(value):
    if OU_ARN_RE.fullmatch(value) or ORG_ARN_RE.fullmatch(value):
        return "is an ARN, not an organization path"
    if is_ou_id(value):
        return "is a bare OU id; the path lists the OU's ancestors too (build it in the management account with `%s` up to the root)" % (
            CLI_PARENTS % value
        )
    body = value[:-1] if value.endswith("/") else value
    segments = body.split("/")
    if "" in segments:
        return "has an empty segment (//) or a leading slash"
    if not is_organization_id(segments[0]):
        return "must start with the organization id (o- followed by 10 to 32 lowercase letters or digits), not %r" % segments[0]
    if len(segments) == 1:
        return None
    if not is_root_id(segments[1]):
        return "has %r where the root id (r- followed by 4 to 32 lowercase letters or digits) belongs" % segments[1]
    root = segments[1]
    for segment in segments[2:]:
        if not is_ou_id(segment):
            return "has %r where an OU id (ou-ROOT-...) belongs" % segment
        if root_id_of_ou_id(segment) != root:
            return "has OU %r, which cannot be under root %r (an OU id starts with its root's id)" % (segment, root)
    if len(set(segments[2:])) != len(segments[2:]):
        return "lists an OU twice"
    return None


def ou_id_from_path(path, option="organization_paths"):
    """The id of the OU a path ends at, or None for a path of the whole organization or a root."""
    segments = parse_org_path(path, option).rstrip("/").split("/")
    return segments[-1] if len(segments) > 2 else None


def organization_id_from_path(path, option="organization_paths"):
    return parse_org_path(path, option).split("/")[0]


def organization_id_from_arn(arn, option="organization_arns"):
    """The o- id of an organization ARN or of an OU ARN."""
    if is_ou_arn(arn):
        return parse_ou_arn(arn, option).organization_id
    return parse_organization_arn(arn, option).organization_id


def org_id_of_ou_arn(arn, option="organizational_unit_arns"):
    return parse_ou_arn(arn, option).organization_id


# ---- organization path patterns (key-policy analysis) --------------------------------------------


def parse_org_path_pattern(value, option="organization_paths"):
    """Validate an ``aws:PrincipalOrgPaths`` pattern as found in key policies; return it unchanged.

    Patterns follow StringLike: ``*`` matches any run of characters (``/`` included), ``?`` one
    character. Every segment without a wildcard must be the right kind of id for its position, so
    that typos are caught; segments with a wildcard are taken as written."""
    problem = _common_problem(value)
    if problem is not None and "wildcard" in problem:
        problem = None
    if problem is None:
        segments = value.split("/")
        kinds = [is_organization_id, is_root_id] + [is_ou_id] * max(0, len(segments) - 2)
        for i, segment in enumerate(segments):
            if "*" in segment or "?" in segment:
                continue
            if segment == "" and i == len(segments) - 1 and i > 0:
                continue
            if not kinds[i](segment):
                problem = "has %r at position %d, which is not a valid id there" % (segment, i + 1)
                break
    if problem is not None:
        raise PrincipalError(
            option, value, "%s; expected an organization path pattern such as %s* (the OU and everything below it)" % (problem, EXAMPLE_ORG_PATH)
        )
    return value


def org_path_pattern_matches(pattern, path):
    """Whether ``path`` matches ``pattern`` with IAM StringLike semantics (``*`` any run, ``?`` one char).

    A pattern without a wildcard matches only the identical path (after normalising the
    trailing slash of both)."""
    if "*" not in pattern and "?" not in pattern:
        return pattern.rstrip("/") == path.rstrip("/")
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, path, re.DOTALL) is not None


# ---- resolution through AWS Organizations (the calls are in _api) ---------------------------------


def _aws_reason(error):
    exc = getattr(error, "exception", None)
    response = getattr(exc, "response", None) or {}
    err = response.get("Error", {})
    return "%s: %s" % (err.get("Code", "error"), err.get("Message", "")) if err else str(error)


class OrganizationsResolver:
    """Resolves bare ``o-``/``ou-`` ids to ARNs and OUs to organization paths.

    ``client`` is a boto3 Organizations client, or None (then every bare id fails with a
    PrincipalError that says which full value to give instead). Every answer is cached, failures
    included: one DescribeOrganization per resolver, one DescribeOrganizationalUnit per OU, one
    ListParents per child id. Values that are already complete (ARNs, paths) need no AWS call.
    Safe to share between threads: concurrent lookups of the same id wait for one answer.

    ``client`` stays readable as ``resolver.client`` for callers that make their own
    Organizations calls (e.g. ``list_parents`` of accounts)."""

    def __init__(self, client):
        self.client = client
        self._organization = None
        self._organization_error = None
        self._ous = {}
        self._parents = {}
        self._lock = threading.Lock()
        self._key_locks = {}

    def _locked(self, key):
        """The lock for one cached answer, so that each is asked of AWS once even across threads."""
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    # -- cached reads; each returns the answer or raises _Unavailable with the reason -----------

    def _describe_organization(self):
        with self._locked("organization"):
            if self._organization is None and self._organization_error is None:
                if self.client is None:
                    self._organization_error = "no AWS Organizations client is available"
                else:
                    try:
                        self._organization = _api().describe_organization(self.client)
                    except is_ansible_aws_error_code(_DENIED) as e:
                        self._organization_error = _aws_reason(e)
        if self._organization_error is not None:
            raise _Unavailable(self._organization_error)
        return self._organization

    def _describe_ou(self, ou_id):
        with self._locked(("ou", ou_id)):
            if ou_id not in self._ous:
                if self.client is None:
                    self._ous[ou_id] = _Unavailable("no AWS Organizations client is available")
                else:
                    try:
                        self._ous[ou_id] = _api().describe_organizational_unit(self.client, ou_id)
                    except is_ansible_aws_error_code(_DENIED + _NOT_FOUND) as e:
                        self._ous[ou_id] = _Unavailable(_aws_reason(e))
        answer = self._ous[ou_id]
        if isinstance(answer, _Unavailable):
            raise answer
        return answer

    def _parent(self, child_id):
        with self._locked(("parent", child_id)):
            if child_id not in self._parents:
                if self.client is None:
                    self._parents[child_id] = _Unavailable("no AWS Organizations client is available")
                else:
                    try:
                        parents = _api().list_parents(self.client, child_id)
                    except is_ansible_aws_error_code(_DENIED + _NOT_FOUND) as e:
                        self._parents[child_id] = _Unavailable(_aws_reason(e))
                    else:
                        self._parents[child_id] = parents[0] if parents else _Unavailable("ListParents returned no parent")
        answer = self._parents[child_id]
        if isinstance(answer, _Unavailable):
            raise answer
        return answer

    # -- public API --------------------------------------------------------------------------

    def account_path(self, account_id):
        """The organization path of the OU (or root) an account sits in, "o-x/r-y/.../" (ListParents, then the
        OU's own path); raises when Organizations does not tell."""
        parent = self._parent(account_id)
        if parent.get("Type") == "ROOT":
            return "%s/%s/" % (self._describe_organization()["Id"], parent["Id"])
        return self.ou_path(parent["Id"])

    def organization(self):
        """The caller's organization (DescribeOrganization), or None if it cannot be read."""
        try:
            return self._describe_organization()
        except _Unavailable:
            return None

    def organization_arn(self, value, option="organization_arns"):
        """An organization ARN, or a bare o- id of the caller's organization, -> the ARN."""
        if is_organization_arn(value):
            return value
        if not is_organization_id(value):
            parse_organization_arn(value, option)  # raises with the diagnosis
        how = "give the organization ARN instead; run `%s` in any account of organization %s" % (CLI_ORG_ARN, value)
        try:
            org = self._describe_organization()
        except _Unavailable as e:
            raise PrincipalError(option, value, "is a bare organization id that cannot be resolved (%s); %s" % (e, how))
        if org.get("Id") != value:
            raise PrincipalError(
                option,
                value,
                "is not the caller's organization (%s), so its management account, part of its ARN, is unknown; %s" % (org.get("Id"), how),
            )
        arn = org["Arn"]
        parse_organization_arn(arn, option)
        return arn

    def ou_arn(self, value, option="organizational_unit_arns"):
        """An OU ARN, or a bare ou- id, -> the OU ARN (DescribeOrganizationalUnit)."""
        if is_ou_arn(value):
            return value
        if not is_ou_id(value):
            parse_ou_arn(value, option)  # raises with the diagnosis
        try:
            ou = self._describe_ou(value)
        except _Unavailable as e:
            raise PrincipalError(
                option,
                value,
                "is a bare OU id that cannot be resolved (%s); give the OU ARN instead: run `%s` in the management account"
                " or a delegated administrator account" % (e, CLI_OU_ARN % value),
            )
        arn = ou["Arn"]
        parse_ou_arn(arn, option)
        return arn

    def ou_path(self, value, option="organization_paths"):
        """An organization path, an OU ARN or a bare ou- id -> the OU's organization path.

        The path is built by walking ListParents from the OU up to its root."""
        if _is_str(value) and not is_ou_arn(value) and not is_ou_id(value):
            if _is_org_path_shaped(value) or is_organization_id(value):
                return parse_org_path(value, option)
        if not is_ou_arn(value) and not is_ou_id(value):
            raise PrincipalError(option, value, "%s; expected %s; or %s" % (_ou_arn_problem(value), ORG_PATH_FORM, OU_ARN_FORM))
        how = (
            "give the organization path (e.g. %s) instead; build it in the management account with `%s` repeated up to the root"
        )
        if is_ou_arn(value):
            parsed = parse_ou_arn(value, option)
            org_id, ou_id = parsed.organization_id, parsed.ou_id
        else:
            ou_id = value
            try:
                org_id = self._describe_organization()["Id"]
            except _Unavailable as e:
                raise PrincipalError(option, value, "has no known organization path (%s); %s" % (e, how % (EXAMPLE_ORG_PATH, CLI_PARENTS % ou_id)))
        chain = [ou_id]
        child = ou_id
        try:
            for _depth in range(_MAX_DEPTH):
                parent = self._parent(child)
                if parent.get("Type") == "ROOT":
                    root_id = parent["Id"]
                    break
                chain.append(parent["Id"])
                child = parent["Id"]
            else:
                raise _Unavailable("no root found within %d levels" % _MAX_DEPTH)
        except _Unavailable as e:
            raise PrincipalError(option, value, "has no known organization path (%s); %s" % (e, how % (EXAMPLE_ORG_PATH, CLI_PARENTS % child)))
        path = "%s/%s/%s/" % (org_id, root_id, "/".join(reversed(chain)))
        # Validates the ids AWS returned, including that every OU names this root.
        return parse_org_path(path, option)


class _Unavailable(Exception):
    """Internal: the caller may not (or cannot) read this from AWS Organizations."""


def normalise_principals(organization_arns=None, organizational_unit_arns=None, account_ids=None, resolver=None, check_management_account=False):
    """Validate, resolve, de-duplicate and sort the three kinds of principals.

    Returns {"organization_arns": [...], "organizational_unit_arns": [...], "account_ids": [...]}.
    An argument that is None (option not given) stays None, so that callers can leave that kind
    alone. Bare o-/ou- ids are resolved through ``resolver`` (an OrganizationsResolver; None
    resolves nothing). Raises PrincipalError on the first bad value, before any other AWS call.
    ``check_management_account``: also refuse an ARN of the caller's organization (read through
    ``resolver``) whose management account is not the organization's."""
    if resolver is None:
        resolver = OrganizationsResolver(None)
    result = {}
    kinds = (
        ("organization_arns", organization_arns, resolver.organization_arn),
        ("organizational_unit_arns", organizational_unit_arns, resolver.ou_arn),
        ("account_ids", account_ids, validate_account_id),
    )
    # Pure validation of every value first, so that a typo fails before any AWS call.
    for option, values, _convert in kinds:
        if values is None:
            continue
        if not isinstance(values, (list, tuple, set, frozenset)):
            raise PrincipalError(option, values, "must be a list")
        for value in values:
            if option == "organization_arns" and not is_organization_id(value):
                parse_organization_arn(value, option)
            elif option == "organizational_unit_arns" and not is_ou_id(value):
                parse_ou_arn(value, option)
            elif option == "account_ids":
                validate_account_id(value, option)
    for option, values, convert in kinds:
        if values is None:
            result[option] = None
        else:
            result[option] = sorted(set(convert(value, option) for value in values))
    if check_management_account:
        _check_management_account(result, resolver)
    return result


def _check_management_account(principals, resolver):
    """Refuse an organization or OU ARN of the caller's own organization whose management account
    (the account id in the ARN) is not that organization's: AWS takes such an ARN as another
    organization's, so the share would reach nobody. Only when the caller's organization can be
    read (DescribeOrganization, which every member account may call); otherwise nothing is known
    and nothing is refused."""
    arns = [("organization_arns", v) for v in principals.get("organization_arns") or []]
    arns += [("organizational_unit_arns", v) for v in principals.get("organizational_unit_arns") or []]
    if not arns:
        return
    org = resolver.organization()
    if not org or not org.get("Id") or not org.get("MasterAccountId"):
        return
    for option, arn in arns:
        parsed = parse_organization_arn(arn, option) if option == "organization_arns" else parse_ou_arn(arn, option)
        if parsed.organization_id == org["Id"] and parsed.management_account_id != org["MasterAccountId"]:
            raise PrincipalError(
                option,
                arn,
                "names organization %s with management account %s, but the management account of %s is %s (DescribeOrganization);"
                " expected the ARN with account %s, e.g. %s"
                % (
                    org["Id"],
                    parsed.management_account_id,
                    org["Id"],
                    org["MasterAccountId"],
                    org["MasterAccountId"],
                    arn.replace("::%s:" % parsed.management_account_id, "::%s:" % org["MasterAccountId"], 1),
                ),
            )
