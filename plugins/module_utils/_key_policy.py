# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to this collection: not a public API; may change in any release.

"""Pure KMS key-policy logic: the statements kms_org_grant owns, and the grant analysis used by
ami_share_info. No boto3, no AnsibleModule.

The module's statements
-----------------------
For an organization ``o-abc123`` the module owns (recognised by Sid only):

- ``OrgShareUse-o-abc123``: the key actions consumers get (``actions``);
- ``OrgShareGrants-o-abc123``: ``kms:CreateGrant``, ``kms:ListGrants``, ``kms:RevokeGrant`` with
  ``Bool kms:GrantIsForAWSResource true`` (``allow_grants``).

Both use ``Principal {"AWS": "*"}``, ``Resource "*"`` and ``StringEquals aws:PrincipalOrgID``;
restricted to OUs they add ``ForAnyValue:StringLike aws:PrincipalOrgPaths`` with ``<path>*`` entries.

For accounts (``account_ids``), whatever their organization, it owns two more statements, one pair
per key (not tied to an organization):

- ``OrgShareAccountUse``: the key actions, for ``Principal {"AWS": ["arn:<partition>:iam::<id>:root", ...]}``
  (sorted);
- ``OrgShareAccountGrants``: the grant actions for the same principals, with
  ``Bool kms:GrantIsForAWSResource true``.

Every other statement is kept as the very same object, in the same place.

Serialisation
-------------
The document is sent compact (``json.dumps(policy, separators=(",", ":"), ensure_ascii=False)``) and
its size is the UTF-8 length of exactly that text, checked against the 32,768-byte limit.
"""

import fnmatch
import json
import re

from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareInputError

# --- the statements the module owns --------------------------------------------------------------

USE_SID_PREFIX = "OrgShareUse-"
GRANTS_SID_PREFIX = "OrgShareGrants-"
DEFAULT_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*")
GRANT_ACTIONS = ("kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant")
ACCOUNT_USE_SID = "OrgShareAccountUse"
ACCOUNT_GRANTS_SID = "OrgShareAccountGrants"
ACCOUNT_SIDS = (ACCOUNT_USE_SID, ACCOUNT_GRANTS_SID)
MAX_POLICY_BYTES = 32768
DEFAULT_VERSION = "2012-10-17"


class KeyPolicyError(OrgShareInputError):
    """A key policy this module cannot work with (not JSON, too large, ...)."""


class PolicyTooLargeError(KeyPolicyError):
    def __init__(self, size, limit=MAX_POLICY_BYTES):
        self.size = size
        self.limit = limit
        super().__init__(
            "The resulting key policy would be {0} bytes, over the KMS limit of {1} bytes; "
            "remove statements or organizational units first".format(size, limit)
        )


def use_sid(org_id):
    return USE_SID_PREFIX + org_id


def grants_sid(org_id):
    return GRANTS_SID_PREFIX + org_id


def load_policy(document):
    """A key policy as a dict, from the JSON text GetKeyPolicy returns (or a dict)."""
    if isinstance(document, dict):
        policy = document
    else:
        try:
            policy = json.loads(document)
        except (TypeError, ValueError) as e:
            raise KeyPolicyError("The key policy is not valid JSON: {0}".format(e))
    if not isinstance(policy, dict):
        raise KeyPolicyError("The key policy is not a JSON object")
    statements = policy.get("Statement", [])
    if not isinstance(statements, (list, dict)):
        raise KeyPolicyError("The key policy's Statement is neither a list nor an object")
    return policy


def dump_policy(policy):
    """The text sent to PutKeyPolicy (see the module docstring)."""
    return json.dumps(policy, separators=(",", ":"), ensure_ascii=False)


def policy_size(policy):
    return len(dump_policy(policy).encode("utf-8"))


def check_size(policy, limit=MAX_POLICY_BYTES):
    size = policy_size(policy)
    if size > limit:
        raise PolicyTooLargeError(size, limit)
    return size


def statements_of(policy):
    """The statements as a list (a single statement object counts as a list of one)."""
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        return [statements]
    return list(statements)


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _bool_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).lower()


# --- semantic comparison -------------------------------------------------------------------------


def _normal_principal(principal):
    if principal == "*":
        return (("AWS", ("*",)),)
    if not isinstance(principal, dict):
        return ("?", json.dumps(principal, sort_keys=True))
    return tuple(sorted((k, tuple(sorted(str(v) for v in _as_list(vals)))) for k, vals in principal.items()))


def _normal_condition(condition):
    if not isinstance(condition, dict):
        return ("?", json.dumps(condition, sort_keys=True))
    out = []
    for operator, keys in condition.items():
        if not isinstance(keys, dict):
            out.append((operator, ("?", json.dumps(keys, sort_keys=True))))
            continue
        entries = tuple(
            sorted((k.lower(), tuple(sorted(set(_bool_text(v) if isinstance(v, bool) else str(v) for v in _as_list(vals)))))
                   for k, vals in keys.items())
        )
        if entries:
            out.append((operator, entries))
    return tuple(sorted(out))


def normal_statement(statement):
    """A hashable form of a statement that ignores order, single value vs list and Principal "*" vs
    {"AWS": "*"}; two statements with equal forms mean the same."""
    if not isinstance(statement, dict):
        return ("?", json.dumps(statement, sort_keys=True))
    out = []
    for key, value in statement.items():
        if key in ("Principal", "NotPrincipal"):
            out.append((key, _normal_principal(value)))
        elif key == "Condition":
            cond = _normal_condition(value)
            if cond:
                out.append((key, cond))
        elif key in ("Action", "NotAction"):
            out.append((key, tuple(sorted(set(str(v).lower() for v in _as_list(value))))))
        elif key in ("Resource", "NotResource"):
            out.append((key, tuple(sorted(set(str(v) for v in _as_list(value))))))
        else:
            out.append((key, json.dumps(value, sort_keys=True)))
    return tuple(sorted(out))


def statements_equal(a, b):
    return normal_statement(a) == normal_statement(b)


def policies_differ(a, b):
    """Whether two key policies differ in meaning (statement order does not count)."""
    def form(policy):
        rest = tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in policy.items() if k != "Statement"))
        return rest, sorted(normal_statement(s) for s in statements_of(policy))

    return form(a) != form(b)


# --- building and merging the module's statements ------------------------------------------------


def org_paths_of(statement):
    """The aws:PrincipalOrgPaths patterns a statement is restricted to, or None if it is not."""
    condition = statement.get("Condition") if isinstance(statement, dict) else None
    if not isinstance(condition, dict):
        return None
    found = None
    for operator, keys in condition.items():
        if not isinstance(keys, dict):
            continue
        for key, values in keys.items():
            if key.lower() == "aws:principalorgpaths":
                found = (found or []) + [str(v) for v in _as_list(values)]
    return found


def build_statement(org_id, patterns, actions, grants=False):
    """One of the module's statements; ``patterns`` None or empty means the whole organization."""
    condition = {"StringEquals": {"aws:PrincipalOrgID": org_id}}
    if patterns:
        condition["ForAnyValue:StringLike"] = {"aws:PrincipalOrgPaths": sorted(set(patterns))}
    if grants:
        condition["Bool"] = {"kms:GrantIsForAWSResource": "true"}
    return {
        "Sid": grants_sid(org_id) if grants else use_sid(org_id),
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": sorted(set(actions)),
        "Resource": "*",
        "Condition": condition,
    }


def path_pattern(path):
    """The aws:PrincipalOrgPaths pattern for an organization path ("o-x/r-y/ou-z/" -> "o-x/r-y/ou-z/*")."""
    return path if path.endswith("*") else path.rstrip("/") + "/*"


def plan(policy, org_id, paths=None, state="present", purge=False, actions=None, allow_grants=True, replace_modified=False, replaced=None):
    """Plan the key policy for one organization.

    ``paths``: normalised organization paths ("o-x/r-y/ou-z/"); None or empty: the whole organization.
    Returns ``(changed, new_policy, our_statements, covered_by_organization)``. ``new_policy`` is a
    new dict whose foreign statements are the very objects of ``policy``, in their order; the
    module's statements are replaced where they were, appended when new, dropped when gone.

    What someone added to one of the module's statements to narrow it (see :func:`keep_their_tightening`)
    is kept, unless ``replace_modified``: then the statement is written as this collection builds it,
    and ``replaced`` (a list) gets one :func:`modification` per statement whose additions go.
    """
    actions = list(actions) if actions else list(DEFAULT_ACTIONS)
    sids = {use_sid(org_id): False, grants_sid(org_id): True}
    statements = statements_of(policy)
    ours = [s for s in statements if isinstance(s, dict) and s.get("Sid") in sids]

    # The current scope: None = none, "org" = organization-wide, else a set of patterns
    current = None
    for s in ours:
        pats = org_paths_of(s)
        if pats is None:
            current = "org"
            break
        current = (current or set()) | set(pats)

    wanted_patterns = set(path_pattern(p) for p in (paths or []))
    if state == "present":
        if not wanted_patterns:
            scope = "org"
        elif current == "org" and not purge:
            scope = "org"
        elif purge or current is None:
            scope = wanted_patterns
        else:
            scope = current | wanted_patterns
    else:
        if not wanted_patterns or current is None:
            scope = None
        elif current == "org":
            scope = "org"  # cannot carve OUs out of an organization-wide grant
        else:
            scope = current - wanted_patterns or None

    desired = {}
    if scope is not None:
        patterns = None if scope == "org" else sorted(scope)
        if state == "present":
            desired[use_sid(org_id)] = build_statement(org_id, patterns, actions)
            if allow_grants:
                desired[grants_sid(org_id)] = build_statement(org_id, patterns, GRANT_ACTIONS, grants=True)
        else:
            # Narrowing on absent keeps each statement's actions as they are.
            for s in ours:
                sid = s["Sid"]
                if sid in desired:
                    continue
                if scope == "org":
                    desired[sid] = s
                else:
                    kept_actions = [str(a) for a in _as_list(s.get("Action"))] or actions
                    desired[sid] = build_statement(org_id, patterns, kept_actions, grants=sids[sid])

    existing = dict((st["Sid"], st) for st in ours)
    for sid in list(desired):
        if replace_modified:
            found = modification(existing.get(sid), desired[sid])
            if found and replaced is not None:
                replaced.append(found)
        else:
            desired[sid] = keep_their_tightening(existing.get(sid), desired[sid])
    changed, new_policy, our_statements = _place(policy, statements, desired, (use_sid(org_id), grants_sid(org_id)))
    return changed, new_policy, our_statements, scope == "org"


# The condition keys this collection writes in its own statements; any other condition someone added to one of
# them (a security team's aws:PrincipalTag/..., aws:SourceVpce, ...) only narrows who may use the key.
OWN_CONDITION_KEYS = ("aws:principalorgid", "aws:principalorgpaths", "kms:grantisforawsresource")


def keep_their_tightening(current, desired):
    """``desired`` with what someone added to ``current`` (the same statement as it is in the policy) to narrow it: extra
    conditions, and a Principal narrower than everyone. A run never widens such a statement back silently."""
    if not isinstance(current, dict) or not isinstance(desired, dict):
        return desired
    out = dict(desired)
    extra = {}
    for operator, block in (current.get("Condition") or {}).items():
        if not isinstance(block, dict):
            continue
        for key, value in block.items():
            if str(key).lower() not in OWN_CONDITION_KEYS:
                extra.setdefault(operator, {})[key] = value
    if extra:
        condition = dict((op, dict(block)) for op, block in (desired.get("Condition") or {}).items())
        for operator, block in extra.items():
            condition.setdefault(operator, {}).update(block)
        out["Condition"] = condition
    principal = current.get("Principal")
    if principal is not None and principal not in ({"AWS": "*"}, "*", {"AWS": ["*"]}):
        out["Principal"] = principal
    return out


def modification(current, desired):
    """What someone added to ``current`` (one of this collection's statements as it is in the policy) that
    :func:`keep_their_tightening` would keep and ``desired`` lacks: ``{"sid", "conditions", "principal"}``
    (``conditions``: {operator: {key: value}} of the extra conditions; ``principal``: the narrower
    Principal, or None), or None when there is nothing."""
    if not isinstance(current, dict) or not isinstance(desired, dict):
        return None
    kept = keep_their_tightening(current, desired)
    conditions = {}
    for operator, block in (kept.get("Condition") or {}).items():
        for key, value in block.items():
            if str(key).lower() not in OWN_CONDITION_KEYS:
                conditions.setdefault(operator, {})[key] = value
    principal = kept.get("Principal") if kept.get("Principal") != desired.get("Principal") else None
    if not conditions and principal is None:
        return None
    return {"sid": desired.get("Sid"), "conditions": conditions, "principal": principal}


def _place(policy, statements, desired, order):
    """The policy with the statements whose Sid is in ``order`` replaced by ``desired[sid]`` where
    they are (or appended, in ``order``, when new) and dropped when not desired; a duplicate goes.
    Returns ``(changed, new_policy, our_statements)``; unchanged, ``new_policy`` is ``policy`` itself."""
    new_statements = []
    placed = set()
    changed = False
    for s in statements:
        sid = s.get("Sid") if isinstance(s, dict) else None
        if sid not in order:
            new_statements.append(s)
            continue
        if sid in placed or sid not in desired:
            changed = True  # a duplicate or a statement that goes
            continue
        placed.add(sid)
        if statements_equal(s, desired[sid]):
            new_statements.append(s)
        else:
            new_statements.append(desired[sid])
            changed = True
    for sid in order:
        if sid in desired and sid not in placed:
            new_statements.append(desired[sid])
            changed = True

    if changed:
        new_policy = dict(policy)
        new_policy["Statement"] = new_statements
        if "Version" not in new_policy:
            new_policy["Version"] = DEFAULT_VERSION
    else:
        new_policy = policy
    our_statements = [s for s in new_statements if isinstance(s, dict) and s.get("Sid") in order]
    return changed, new_policy, our_statements


def account_principal(account_id, partition="aws"):
    """The principal that stands for a whole account ("arn:aws:iam::123456789012:root")."""
    return "arn:{0}:iam::{1}:root".format(partition, account_id)


def accounts_of(statement):
    """The account ids a statement's ``Principal {"AWS": ...}`` names as whole accounts (root ARNs or
    bare ids), sorted; users, roles and "*" are not accounts."""
    principal = statement.get("Principal") if isinstance(statement, dict) else None
    if not isinstance(principal, dict):
        return []
    found = set()
    for value in _as_list(principal.get("AWS")):
        account, whole = _account_of_principal(value)
        if account and whole:
            found.add(account)
    return sorted(found)


def build_account_statement(account_ids, actions, grants=False, partition="aws"):
    """One of the account statements (see the module docstring)."""
    statement = {
        "Sid": ACCOUNT_GRANTS_SID if grants else ACCOUNT_USE_SID,
        "Effect": "Allow",
        "Principal": {"AWS": sorted(set(account_principal(a, partition) for a in account_ids))},
        "Action": sorted(set(actions)),
        "Resource": "*",
    }
    if grants:
        statement["Condition"] = {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    return statement


def granted_account_ids(policy):
    """The accounts the account statements name (both together), sorted."""
    found = set()
    for s in statements_of(policy):
        if isinstance(s, dict) and s.get("Sid") in ACCOUNT_SIDS:
            found.update(accounts_of(s))
    return sorted(found)


def plan_accounts(policy, account_ids, state="present", purge=False, actions=None, allow_grants=True, partition="aws"):
    """Plan the account statements (``OrgShareAccountUse``, ``OrgShareAccountGrants``).

    ``account_ids``: validated 12-digit ids. present adds them (``purge``: the granted accounts become
    exactly these); absent removes them, and the statements go when no account is left.
    Returns ``(changed, new_policy, our_statements, granted_account_ids)``, like :func:`plan`.
    """
    actions = list(actions) if actions else list(DEFAULT_ACTIONS)
    order = ACCOUNT_SIDS
    statements = statements_of(policy)
    ours = [s for s in statements if isinstance(s, dict) and s.get("Sid") in order]
    current = set(granted_account_ids(policy))
    wanted = set(account_ids or [])

    if state == "present":
        scope = wanted if purge else current | wanted
    else:
        scope = current - wanted

    desired = {}
    if scope:
        if state == "present":
            desired[ACCOUNT_USE_SID] = build_account_statement(scope, actions, partition=partition)
            if allow_grants:
                desired[ACCOUNT_GRANTS_SID] = build_account_statement(scope, GRANT_ACTIONS, grants=True, partition=partition)
        elif scope != current:
            # Narrowing on absent keeps each statement's actions as they are.
            for s in ours:
                sid = s["Sid"]
                if sid not in desired:
                    kept_actions = [str(a) for a in _as_list(s.get("Action"))] or actions
                    desired[sid] = build_account_statement(scope, kept_actions, grants=sid == ACCOUNT_GRANTS_SID, partition=partition)
        else:
            for s in ours:
                desired.setdefault(s["Sid"], s)
    changed, new_policy, our_statements = _place(policy, statements, desired, order)
    return changed, new_policy, our_statements, sorted(scope)


# --- grant analysis (used by ami_share_info) -----------------------------------------------------

GRANTED, NOT_GRANTED, UNKNOWN = "granted", "not_granted", "unknown"

# The actions a consumer's launch from an encrypted shared AMI makes on the key (concrete action
# names; "kms:ReEncrypt*" and "kms:GenerateDataKey*" in AWS's examples stand for these).
LAUNCH_ACTIONS = (
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)
_GRANT_OPERATIONS = ("kms:creategrant", "kms:listgrants", "kms:revokegrant", "kms:retiregrant")

# How much of a subject (a set of principals) a statement part covers.
_ALL, _SOME, _NONE, _MAYBE = "all", "some", "none", "maybe"


class _Subject:
    """Who asks: everyone, an organization, an OU (its subtree), or an account."""

    def __init__(self, kind, org_id=None, ou_id=None, ou_path=None, account_id=None):
        self.kind = kind
        self.org_id = org_id
        self.ou_id = ou_id
        self.ou_path = ou_path
        self.account_id = account_id

    def describe(self):
        if self.kind == "everyone":
            return "everyone"
        if self.kind == "organization":
            return "organization {0}".format(self.org_id)
        if self.kind == "organizational_unit":
            return "organizational unit {0}".format(self.ou_path or self.ou_id)
        return "account {0}".format(self.account_id)


def _or(results):
    results = list(results)
    for r in (_ALL, _MAYBE, _SOME):
        if r in results:
            return r
    return _NONE


def _and(results):
    results = list(results)
    for r in (_NONE, _MAYBE, _SOME):
        if r in results:
            return r
    return _ALL


def _has_wildcard(text):
    return "*" in text or "?" in text


def _account_of_principal(value):
    """(account id, is the whole account) of an AWS principal entry, or (None, None)."""
    value = str(value)
    if len(value) == 12 and value.isdigit():
        return value, True
    parts = value.split(":")
    if len(parts) >= 6 and parts[0] == "arn" and parts[2] == "iam" and len(parts[4]) == 12 and parts[4].isdigit():
        return parts[4], parts[5] == "root"
    return None, None


def _principal_cover(statement, subject):
    if "NotPrincipal" in statement:
        return _MAYBE
    principal = statement.get("Principal")
    if principal is None:
        return _MAYBE
    if principal == "*":
        return _ALL
    if not isinstance(principal, dict):
        return _MAYBE
    results = []
    for kind, values in principal.items():
        if kind != "AWS":
            results.append(_NONE)  # services, federated users: not consumers' launches
            continue
        for value in _as_list(values):
            if value == "*":
                results.append(_ALL)
                continue
            account, whole = _account_of_principal(value)
            if account is None:
                results.append(_MAYBE)
            elif subject.kind == "account":
                results.append((_ALL if whole else _SOME) if account == subject.account_id else _NONE)
            else:
                results.append(_SOME)
    return _or(results)


def _org_id_cover(values, like, subject):
    if subject.kind == "everyone":
        return _SOME
    if subject.org_id is None:
        return _MAYBE
    for v in values:
        if (fnmatch.fnmatchcase(subject.org_id, v) if like else v == subject.org_id):
            return _ALL
    return _NONE


def _path_pattern_cover(pattern, subject):
    """How much of the subject an aws:PrincipalOrgPaths StringLike pattern covers."""
    if subject.kind == "everyone":
        return _SOME  # principals outside any organization have no aws:PrincipalOrgPaths
    if pattern == "*":
        return _ALL if subject.org_id else _MAYBE
    literal = pattern.endswith("*") and not _has_wildcard(pattern[:-1])
    if subject.kind == "account":
        if subject.org_id and not _has_wildcard(pattern.split("/")[0]) and pattern.split("/")[0] != subject.org_id:
            return _NONE
        if subject.ou_path and literal:
            # the account's own path (its parent OU's): a pattern covers it or does not
            return _ALL if subject.ou_path.startswith(pattern[:-1]) else _NONE
        return _MAYBE
    first = pattern.split("/")[0]
    if not _has_wildcard(first) and subject.org_id and first != subject.org_id:
        return _NONE
    if not literal:
        if subject.kind == "organizational_unit" and subject.ou_path and pattern.endswith("*") \
                and fnmatch.fnmatchcase(subject.ou_path, pattern):
            return _MAYBE  # a mid-path wildcard would match: AWS's semantics here are unverified
        return _MAYBE
    prefix = pattern[:-1]
    segments = [s for s in prefix.split("/") if s]
    if subject.kind == "organization":
        # An organization has exactly one root: "o-x/*" and "o-x/r-y/*" cover all of it.
        if len(segments) <= 2 and prefix.endswith("/") or prefix == subject.org_id:
            return _ALL
        return _SOME
    # an organizational unit
    if subject.ou_path:
        if subject.ou_path.startswith(prefix):
            return _ALL
        if prefix.startswith(subject.ou_path):
            return _SOME
        return _NONE
    if len(segments) <= 2 and prefix.endswith("/"):
        return _ALL
    if segments and segments[-1] == subject.ou_id and prefix.endswith("/"):
        return _ALL
    if subject.ou_id in segments:
        return _SOME
    return _MAYBE  # maybe an ancestor of the OU, maybe elsewhere


def _condition_cover(statement, subject, action):
    condition = statement.get("Condition")
    if condition is None:
        return _ALL
    if not isinstance(condition, dict):
        return _MAYBE
    results = []
    for operator, keys in condition.items():
        if not isinstance(keys, dict):
            return _MAYBE
        for key, values in keys.items():
            results.append(_one_condition(operator, key.lower(), [str(v) if not isinstance(v, bool) else _bool_text(v)
                                                                  for v in _as_list(values)], subject, action))
    return _and(results)


def _one_condition(operator, key, values, subject, action):
    op = operator
    if key == "aws:principalorgid":
        if op in ("StringEquals", "StringLike", "StringEqualsIfExists", "StringLikeIfExists"):
            return _org_id_cover(values, "Like" in op, subject)
        if op in ("StringNotEquals", "StringNotLike"):
            inner = _org_id_cover(values, "Like" in op, subject)
            return {_ALL: _NONE, _NONE: _ALL}.get(inner, inner)
        return _MAYBE
    if key == "aws:principalorgpaths":
        if op in ("ForAnyValue:StringLike", "ForAnyValue:StringEquals"):
            if op == "ForAnyValue:StringEquals":
                # an exact path: only that OU itself, never its subtree
                return _or(_SOME if (subject.kind != "account" and not _has_wildcard(v)) else _MAYBE for v in values)
            return _or(_path_pattern_cover(v, subject) for v in values)
        return _MAYBE
    if key == "kms:grantisforawsresource":
        if op == "Bool" and values and all(v == "true" for v in values):
            # EBS creates its grants for an AWS resource; the key is absent for other actions
            return _ALL if action.lower() in _GRANT_OPERATIONS else _NONE
        return _MAYBE
    if key in ("aws:principalaccount", "kms:calleraccount"):
        if op != "StringEquals":
            return _MAYBE
        if subject.kind == "account":
            return _ALL if subject.account_id in values else _NONE
        return _SOME
    return _MAYBE


def _action_covered(statement, action):
    action = action.lower()
    if "NotAction" in statement:
        return not any(fnmatch.fnmatchcase(action, str(p).lower()) for p in _as_list(statement["NotAction"]))
    return any(fnmatch.fnmatchcase(action, str(p).lower()) for p in _as_list(statement.get("Action")))


def _resource_applies(statement):
    if "NotResource" in statement:
        return _MAYBE
    for r in _as_list(statement.get("Resource", "*")):
        r = str(r)
        if r == "*" or (r.startswith("arn:") and ":kms:" in r):
            return _ALL
    return _MAYBE


def _statement_cover(statement, subject, action):
    """How much of ``subject`` a statement covers for ``action`` (None if the action is not in it)."""
    if not isinstance(statement, dict) or not _action_covered(statement, action):
        return None
    return _and([_principal_cover(statement, subject), _resource_applies(statement), _condition_cover(statement, subject, action)])


def _label(statement, index):
    if isinstance(statement, dict) and statement.get("Sid"):
        return statement["Sid"]
    return index


def _subject_access(policy, subject):
    statements = statements_of(policy)
    missing, maybe, denied, maybe_denied = [], [], [], []
    for action in LAUNCH_ACTIONS:
        allow, deny = [], []
        for index, s in enumerate(statements):
            cover = _statement_cover(s, subject, action)
            if cover is None:
                continue
            effect = s.get("Effect")
            if effect == "Deny":
                deny.append((cover, _label(s, index)))
            elif effect == "Allow":
                allow.append(cover)
            else:
                deny.append((_MAYBE, _label(s, index)))
        if any(c == _ALL for c, _label_unused in deny):
            denied.append(action)
        elif any(c in (_MAYBE, _SOME) for c, _label_unused in deny):
            maybe_denied.extend(str(label) for c, label in deny if c in (_MAYBE, _SOME))
        best = _or(allow)
        if best == _MAYBE:
            maybe.append(action)
        elif best != _ALL:
            missing.append(action)
    who = subject.describe()
    if denied:
        return NOT_GRANTED, "a Deny statement denies {0} {1}".format(who, ", ".join(denied))
    if missing:
        return NOT_GRANTED, "the key policy does not allow {0} {1}".format(who, ", ".join(missing))
    if maybe:
        hint = "conditions or principals this analysis does not understand"
        if subject.kind == "account" and subject.org_id is None:
            hint += ", or on the account's organization (unknown here)"
        elif subject.kind == "organizational_unit" and not subject.ou_path:
            hint += ", or on the OU's path (unknown here)"
        return UNKNOWN, "whether the key policy allows {0} {1} depends on {2}".format(who, ", ".join(maybe), hint)
    if maybe_denied:
        return UNKNOWN, "Deny statements that might apply to {0}: {1}".format(who, ", ".join(sorted(set(maybe_denied))))
    return GRANTED, "the key policy allows {0} to launch from AMIs encrypted with the key".format(who)


def _org_of_arn(value):
    # arn:PARTITION:organizations::MGMT:organization/o-x  or  ...:ou/o-x/ou-y
    parts = str(value).split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[2] == "organizations":
        resource = parts[5].split("/")
        if resource[0] == "organization" and len(resource) == 2:
            return resource[1], None
        if resource[0] == "ou" and len(resource) == 3:
            return resource[1], resource[2]
    return None, None


def principal_access(policy, kind, value, org_id=None, ou_path=None, account_org_id=None):
    """Whether the key policy lets ``value`` launch from AMIs encrypted with the key.

    ``kind``: "organization" (value: organization ARN or id), "organizational_unit" (value: OU ARN,
    or OU id with ``org_id``; ``ou_path`` "o-x/r-y/.../ou-z/" when known) or "account" (value:
    12-digit id; ``account_org_id`` the account's organization and ``ou_path`` the path of the OU
    (or root) it sits in, its aws:PrincipalOrgPaths, when known).
    Returns ``(verdict, reason)``: GRANTED only when certain; a condition or principal this does not
    understand, or a Deny that might apply, gives UNKNOWN.
    """
    policy = load_policy(policy)
    if kind == "organization":
        org, _ou = _org_of_arn(value)
        subject = _Subject("organization", org_id=org or str(value))
    elif kind == "organizational_unit":
        org, ou = _org_of_arn(value)
        if ou is None:
            org, ou = org_id, str(value)
        if ou_path:
            ou_path = ou_path if ou_path.endswith("/") else ou_path + "/"
            org = org or ou_path.split("/")[0]
        subject = _Subject("organizational_unit", org_id=org, ou_id=ou, ou_path=ou_path)
    elif kind == "account":
        if ou_path:
            ou_path = ou_path if ou_path.endswith("/") else ou_path + "/"
            account_org_id = account_org_id or ou_path.split("/")[0]
        subject = _Subject("account", account_id=str(value), org_id=account_org_id, ou_path=ou_path)
    else:
        raise ValueError("kind must be organization, organizational_unit or account, not {0!r}".format(kind))
    return _subject_access(policy, subject)


def analyse_key_policy(policy):
    """Who the key policy lets launch from AMIs encrypted with the key.

    Returns a dict: ``granted_organizations`` (sorted org ids), ``granted_organizational_units``
    (sorted aws:PrincipalOrgPaths patterns as written), ``granted_accounts`` (sorted account ids),
    ``everyone`` (bool) and ``unknown_statements`` (Sid, or index when there is none, of Allow
    statements with conditions or principals not understood and of Deny statements that might apply).
    """
    policy = load_policy(policy)
    statements = statements_of(policy)
    orgs, patterns, accounts, unknown = set(), set(), set(), []
    for index, s in enumerate(statements):
        if not isinstance(s, dict):
            unknown.append(index)
            continue
        relevant = [a for a in LAUNCH_ACTIONS if _action_covered(s, a)]
        if not relevant:
            continue
        cond = s.get("Condition") or {}
        if isinstance(cond, dict):
            for operator, keys in cond.items():
                if not isinstance(keys, dict):
                    continue
                for key, values in keys.items():
                    k = key.lower()
                    if k == "aws:principalorgid" and operator in ("StringEquals", "StringLike"):
                        orgs.update(str(v) for v in _as_list(values) if not _has_wildcard(str(v)))
                    elif k == "aws:principalorgpaths" and operator == "ForAnyValue:StringLike":
                        patterns.update(str(v) for v in _as_list(values))
                    elif k in ("aws:principalaccount", "kms:calleraccount"):
                        accounts.update(str(v) for v in _as_list(values))
        principal = s.get("Principal")
        if isinstance(principal, dict):
            for value in _as_list(principal.get("AWS")):
                account, _whole = _account_of_principal(value)
                if account:
                    accounts.add(account)
        if any(p != "*" and _has_wildcard(p[:-1] if p.endswith("*") else p) for p in (org_paths_of(s) or [])):
            unknown.append(_label(s, index))  # a mid-path wildcard: AWS's matching there is unverified
            continue
        # Does the statement hold something this analysis cannot judge?
        probe = [_Subject("everyone"), _Subject("account", account_id="000000000000")]
        if s.get("Effect") == "Deny":
            if any(_statement_cover(s, subj, a) not in (None, _NONE) for subj in probe for a in relevant):
                unknown.append(_label(s, index))
        elif any(_statement_cover(s, subj, a) == _MAYBE for subj in probe for a in relevant
                 if not (subj.kind == "account" and _only_org_conditions(s))):
            unknown.append(_label(s, index))
    result = {
        "granted_organizations": sorted(o for o in orgs if _subject_access(policy, _Subject("organization", org_id=o))[0] == GRANTED),
        "granted_organizational_units": sorted(
            p for p in patterns if _pattern_granted(policy, p)
        ),
        "granted_accounts": sorted(
            a for a in accounts if _subject_access(policy, _Subject("account", account_id=a))[0] == GRANTED
        ),
        "everyone": _subject_access(policy, _Subject("everyone"))[0] == GRANTED,
        "unknown_statements": unknown,
    }
    return result


def _only_org_conditions(statement):
    """Whether every condition key of a statement is one an organization grant uses (an unknown
    account's membership, not an unknown condition, is what makes it undecidable)."""
    cond = statement.get("Condition") or {}
    if not isinstance(cond, dict):
        return False
    for keys in cond.values():
        if not isinstance(keys, dict):
            return False
        for key in keys:
            if key.lower() not in ("aws:principalorgid", "aws:principalorgpaths", "kms:grantisforawsresource"):
                return False
    return True


def _pattern_granted(policy, pattern):
    if not pattern.endswith("*") or _has_wildcard(pattern[:-1]):
        return False
    path = pattern[:-1]
    if not path.endswith("/"):
        return False
    segments = [s for s in path.split("/") if s]
    subject = _Subject("organizational_unit", org_id=segments[0], ou_id=segments[-1], ou_path=path)
    return _subject_access(policy, subject)[0] == GRANTED


# --- principals KMS refuses (deleted users and roles) ----------------------------------------------

# What a key policy shows for a deleted IAM user (AIDA...) or role (AROA...): its unique id (IAM User Guide,
# "IAM identifiers", unique ID prefixes). PutKeyPolicy refuses a document that names one ("Policy contains a
# statement with one or more invalid principals", AWS Knowledge Center, kms-policy-error-invalid-principals).
ORPHANED_PRINCIPAL_RE = re.compile(r"^A(?:IDA|ROA)[A-Z0-9]{12,}$")


def orphaned_principals(policy, skip_sids=()):
    """[{"sid", "index", "principals"}] of the statements (not ``skip_sids``) whose Principal / NotPrincipal ``AWS``
    names a unique id of a deleted user or role, in policy order."""
    found = []
    for index, statement in enumerate(statements_of(policy)):
        if not isinstance(statement, dict) or statement.get("Sid") in skip_sids:
            continue
        ids = []
        for field in ("Principal", "NotPrincipal"):
            principal = statement.get(field)
            if isinstance(principal, dict):
                ids += [v for v in _as_list(principal.get("AWS")) if isinstance(v, str) and ORPHANED_PRINCIPAL_RE.match(v)]
        if ids:
            found.append({"sid": statement.get("Sid"), "index": index, "principals": ids})
    return found


def without_principals(policy, orphans):
    """A new policy without the principals of ``orphans`` (from :func:`orphaned_principals`); a statement left with no
    principal at all goes. The other statements are the very objects of ``policy``."""
    drop = dict((o["index"], set(o["principals"])) for o in orphans)
    statements = []
    for index, statement in enumerate(statements_of(policy)):
        if index not in drop:
            statements.append(statement)
            continue
        new = dict(statement)
        keep_statement = True
        for field in ("Principal", "NotPrincipal"):
            principal = new.get(field)
            if not isinstance(principal, dict) or "AWS" not in principal:
                continue
            values = [v for v in _as_list(principal["AWS"]) if v not in drop[index]]
            rest = dict((k, v) for k, v in principal.items() if k != "AWS")
            if values:
                rest["AWS"] = values if len(values) > 1 else values[0]
            if rest:
                new[field] = rest
            else:
                keep_statement = False
        if keep_statement:
            statements.append(new)
    out = dict(policy)
    out["Statement"] = statements
    return out
