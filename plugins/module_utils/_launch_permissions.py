# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to this collection: not a public API; may change in any release.

"""Pure launch-permission logic: no boto3, no AnsibleModule.

A set of launch permissions is represented as a dict::

    {"organization_arns": [...], "organizational_unit_arns": [...], "account_ids": [...], "public": bool}

with sorted, duplicate-free lists. The same shape describes what a plan adds and removes
(``public: True`` in ``added`` means "made public", in ``removed`` "no longer public").
"""

# The kinds of named principals, their key in our shape and in an EC2 LaunchPermission entry.
KINDS = (
    ("organization_arns", "OrganizationArn"),
    ("organizational_unit_arns", "OrganizationalUnitArn"),
    ("account_ids", "UserId"),
)
KIND_KEYS = tuple(k for k, dummy in KINDS)
PUBLIC_GROUP = "all"


def empty():
    """A set of launch permissions that allows nobody but the owner."""
    result = dict((k, []) for k in KIND_KEYS)
    result["public"] = False
    return result


def normalize(perms):
    """Return ``perms`` in canonical form (every key present, sorted unique lists)."""
    perms = perms or {}
    result = dict((k, sorted(set(perms.get(k) or []))) for k in KIND_KEYS)
    result["public"] = bool(perms.get("public"))
    return result


def is_empty(perms):
    """True when ``perms`` names no principal and is not public."""
    return not perms.get("public") and not any(perms.get(k) for k in KIND_KEYS)


def from_api(entries):
    """EC2 ``LaunchPermissions`` (DescribeImageAttribute) -> our shape.

    Unknown entry kinds are ignored: the module neither reports nor touches them."""
    sets = dict((k, set()) for k in KIND_KEYS)
    public = False
    for entry in entries or []:
        if entry.get("Group") == PUBLIC_GROUP:
            public = True
        for key, api_key in KINDS:
            if entry.get(api_key):
                sets[key].add(entry[api_key])
    result = dict((k, sorted(v)) for k, v in sets.items())
    result["public"] = public
    return result


def to_api(perms):
    """Our shape -> a list of EC2 ``LaunchPermission`` entries, in a deterministic order."""
    entries = []
    for key, api_key in KINDS:
        for value in sorted(set(perms.get(key) or [])):
            entries.append({api_key: value})
    if perms.get("public"):
        entries.append({"Group": PUBLIC_GROUP})
    return entries


def plan(current, organization_arns=None, organizational_unit_arns=None, account_ids=None, public=None, state="present", purge=False):
    """Plan the change from ``current`` (our shape) to what the options ask for.

    ``organization_arns``, ``organizational_unit_arns``, ``account_ids``: the listed principals
    (``None``: the option was not given). ``public``: True / False / None (leave alone).
    ``state="present"`` adds the listed principals; with ``purge`` it also removes every other
    principal, the public permission included unless ``public`` is True, so that the result is
    exactly the list. ``state="absent"`` removes the listed principals; any ``public`` value other
    than None removes the public permission. ``purge`` is ignored with ``state="absent"``.

    Returns ``(added, removed, after)``, each in our shape.
    """
    if state not in ("present", "absent"):
        raise ValueError("state must be 'present' or 'absent', not %r" % (state,))
    current = normalize(current)
    desired = {
        "organization_arns": organization_arns,
        "organizational_unit_arns": organizational_unit_arns,
        "account_ids": account_ids,
    }
    added = empty()
    removed = empty()
    for key in KIND_KEYS:
        have = set(current[key])
        listed = set(desired[key] or [])
        if state == "present":
            added[key] = sorted(listed - have)
            if purge:
                removed[key] = sorted(have - listed)
        else:
            removed[key] = sorted(listed & have)

    if state == "present":
        if public is True and not current["public"]:
            added["public"] = True
        elif current["public"] and (public is False or (purge and public is not True)):
            removed["public"] = True
    elif public is not None and current["public"]:
        removed["public"] = True

    after = apply_plan(current, added, removed)
    return added, removed, after


def apply_plan(current, added, removed):
    """The launch permissions after adding ``added`` to and removing ``removed`` from ``current``."""
    after = {}
    for key in KIND_KEYS:
        after[key] = sorted((set(current.get(key) or []) | set(added.get(key) or [])) - set(removed.get(key) or []))
    after["public"] = bool((current.get("public") or added.get("public")) and not removed.get("public"))
    return after


def modify_request(added, removed):
    """The ``LaunchPermission`` argument of ModifyImageAttribute, or None when nothing changes."""
    request = {}
    if not is_empty(added):
        request["Add"] = to_api(added)
    if not is_empty(removed):
        request["Remove"] = to_api(removed)
    return request or None


def accounts_still_covered(removed, after):
    """Accounts being removed while an organization or OU share remains.

    AWS accepts the removal, yet such an account keeps its access through the organization or OU
    if it is a member; we cannot tell membership without Organizations rights, so we report
    every removed account whenever any organization or OU share remains."""
    if after.get("organization_arns") or after.get("organizational_unit_arns"):
        return sorted(removed.get("account_ids") or [])
    return []


def diff(before, after):
    """The Ansible ``diff`` for a change of launch permissions."""
    return {"before": normalize(before), "after": normalize(after)}
