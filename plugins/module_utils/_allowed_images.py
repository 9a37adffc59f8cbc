# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to this collection: not a public API; may change in any release.

"""Allowed AMIs: whether the consumers an AMI is shared with may use it (ami_share_info's check_allowed_images).

AWS facts (EC2 User Guide, "Control the discovery and use of AMIs in Amazon EC2 with Allowed AMIs",
https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-allowed-amis.html; botocore's EC2 model, ImageCriterion;
AWS Organizations User Guide, "Declarative policy syntax and examples", allowed_images_settings):

- per account and region, a state: ``disabled`` (every AMI allowed), ``audit-mode`` (every AMI allowed, DescribeImages
  marks those that match the criteria ``ImageAllowed``) or ``enabled`` (only matching AMIs are listed and launched);
- the criteria: a list of ImageCriterion, an AMI is allowed when it matches one; within a criterion every given
  parameter must match (ImageProviders: the owner account id, or ``amazon`` / ``aws-marketplace`` /
  ``aws-backup-vault``; ImageNames with ``*`` and ``?``; CreationDateCondition MaximumDaysSinceCreated;
  DeprecationTimeCondition MaximumDaysSinceDeprecated); "The Allowed AMIs feature does not restrict the AMIs owned by
  your account";
- an EC2 declarative policy (``ec2_attributes.allowed_images_settings``: ``state`` enabled / audit_mode / disabled,
  ``image_criteria`` {criteria_1: {allowed_image_providers, image_names, ...}}) sets it for the accounts it applies
  to; the management account (or a delegated administrator) reads an account's effective policy through
  Organizations DescribeEffectivePolicy.

Unverified: that a declarative policy's setting holds in every region (the module applies it to each region it reads);
how AWS matches an AMI against a criterion with MarketplaceProductCodes or ImageWatermarks (such a criterion is taken
as not matching the collection's own AMIs, which carry neither); the mapping of the policy's field names to the API's
(audit_mode -> audit-mode, aws_marketplace -> aws-marketplace, aws_backup_vault -> aws-backup-vault).
"""

import datetime
import fnmatch

POLICY_STATES = {"enabled": "enabled", "audit_mode": "audit-mode", "disabled": "disabled"}
POLICY_PROVIDERS = {"aws_marketplace": "aws-marketplace", "aws_backup_vault": "aws-backup-vault"}
NOT_ALLOWED = "image_provider_not_allowed"
AUDIT_ONLY = "image_provider_not_allowed_audit_mode"
NOT_CHECKED = "allowed_images_not_checked"
CONSUMER_NOT_ALLOWED = "image_not_allowed"
# DescribeEffectivePolicy for an account that is not in the caller's organization (botocore's Organizations model:
# TargetNotFoundException "We can't find a root, OU, account, or policy with the TargetId that you specified";
# AccountNotFoundException). Its settings are its own business: a note, not a problem.
OUTSIDE_CODES = ("TargetNotFoundException", "AccountNotFoundException")


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def settings_from_policy(policy):
    """The Allowed AMIs settings an effective EC2 declarative policy sets ({state, criteria}), or None when it sets none."""
    attributes = (policy or {}).get("ec2_attributes") if isinstance(policy, dict) else None
    declared = (attributes or {}).get("allowed_images_settings") if isinstance(attributes, dict) else None
    if not isinstance(declared, dict) or declared.get("state") not in POLICY_STATES:
        return None
    criteria = []
    numbered = declared.get("image_criteria") if isinstance(declared.get("image_criteria"), dict) else {}

    def order(item):
        suffix = str(item[0]).rsplit("_", 1)[-1]
        return (int(suffix) if suffix.isdigit() else 0, str(item[0]))

    for _name, entry in sorted(numbered.items(), key=order):
        if not isinstance(entry, dict):
            continue
        criterion = {}
        if "allowed_image_providers" in entry:
            criterion["ImageProviders"] = [POLICY_PROVIDERS.get(p, p) for p in _as_list(entry["allowed_image_providers"])]
        if "image_names" in entry:
            criterion["ImageNames"] = _as_list(entry["image_names"])
        for key, api in (("marketplace_product_codes", "MarketplaceProductCodes"), ("image_watermarks", "ImageWatermarks")):
            if key in entry:
                criterion[api] = _as_list(entry[key])
        created = entry.get("creation_date_condition")
        if isinstance(created, dict) and created.get("maximum_days_since_created") is not None:
            criterion["CreationDateCondition"] = {"MaximumDaysSinceCreated": int(created["maximum_days_since_created"])}
        deprecated = entry.get("deprecation_time_condition")
        if isinstance(deprecated, dict) and deprecated.get("maximum_days_since_deprecated") is not None:
            criterion["DeprecationTimeCondition"] = {"MaximumDaysSinceDeprecated": int(deprecated["maximum_days_since_deprecated"])}
        criteria.append(criterion)
    return {"state": POLICY_STATES[declared["state"]], "criteria": criteria}


def _time(value):
    if not value:
        return None
    try:
        return datetime.datetime.strptime(value.replace("Z", "+0000")[:19] + "+0000", "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def criterion_matches(criterion, image, now):
    """Whether one ImageCriterion allows ``image`` (an ami_share_info entry: owner_id, name, creation_date, ...)."""
    if "MarketplaceProductCodes" in criterion or "ImageWatermarks" in criterion:
        return False  # see the module docstring (unverified)
    providers = criterion.get("ImageProviders")
    if providers is not None and image.get("owner_id") not in providers:
        return False
    names = criterion.get("ImageNames")
    if names is not None and not any(fnmatch.fnmatchcase(image.get("name") or "", pattern) for pattern in names):
        return False
    created = criterion.get("CreationDateCondition")
    if created is not None:
        when = _time(image.get("creation_date"))
        if when is None or (now - when).days > int(created.get("MaximumDaysSinceCreated", 0)):
            return False
    deprecated = criterion.get("DeprecationTimeCondition")
    if deprecated is not None:
        when = _time(image.get("deprecation_time"))
        if when is not None and when <= now:
            limit = deprecated.get("MaximumDaysSinceDeprecated")
            if limit is not None and (int(limit) == 0 or (now - when).days > int(limit)):
                return False
    return True


def allowed(image, settings, now):
    """Whether ``settings`` ({state, criteria}) allow the image in a consumer account (any criterion matches)."""
    return any(criterion_matches(c, image, now) for c in settings.get("criteria") or [])


def consumers(launch_permissions, owner_id, accounts_of):
    """{account id: the principal that reaches it} for an AMI's launch permissions (the owner left out).

    ``accounts_of(kind, value)``: the accounts of an organization or OU (raises when they cannot be read)."""
    out = {}
    for account in launch_permissions.get("account_ids") or []:
        out.setdefault(account, account)
    for arn in launch_permissions.get("organizational_unit_arns") or []:
        for account in accounts_of("organizational_unit", arn):
            out.setdefault(account, arn)
    for arn in launch_permissions.get("organization_arns") or []:
        for account in accounts_of("organization", arn):
            out.setdefault(account, arn)
    out.pop(owner_id, None)
    return out


def owner_problems(image, reached, settings_of, now):
    """The problems of one of the caller's AMIs: the consumer accounts whose Allowed AMIs settings do not allow it.

    ``reached``: {account: principal}; ``settings_of(account)``: {state, criteria} or None (no declarative policy)."""
    blocked, audited = {}, {}
    for account in sorted(reached):
        settings = settings_of(account)
        if not settings or settings["state"] == "disabled" or allowed(image, settings, now):
            continue
        (blocked if settings["state"] == "enabled" else audited).setdefault(reached[account], []).append(account)
    problems = []
    for principal, accounts in sorted(blocked.items()):
        problems.append(dict(
            code=NOT_ALLOWED, principal=principal, account_ids=accounts,
            message="The Allowed AMIs settings of account(s) %s (reached through %s), set by an EC2 declarative policy, do not "
                    "allow AMIs of owner %s like this one: those accounts can neither see nor launch it. Add %s to the "
                    "policy's allowed_image_providers (or a criterion matching the AMI)." % (
                        ", ".join(accounts), principal, image.get("owner_id"), image.get("owner_id")),
        ))
    for principal, accounts in sorted(audited.items()):
        problems.append(dict(
            code=AUDIT_ONLY, principal=principal, account_ids=accounts,
            message="The Allowed AMIs settings of account(s) %s (reached through %s) are in audit mode and do not match this "
                    "AMI: launches work today and fail once the setting is enabled." % (", ".join(accounts), principal),
        ))
    return problems


def not_checked_problem(reason):
    return dict(code=NOT_CHECKED, message="The consumers' Allowed AMIs settings could not be checked: %s" % reason)


def consumer_problem(image, settings):
    """The caller's own settings (shared_with_me) refuse the AMI it was shared (ImageAllowed false)."""
    if image.get("image_allowed") is not False:
        return []
    state = (settings or {}).get("State") or "audit-mode"
    effect = "it cannot be launched here" if state == "enabled" else "launches work until the setting is enabled"
    return [dict(code=CONSUMER_NOT_ALLOWED, principal=image.get("owner_id"), principal_kind="account",
                 message="This account's Allowed AMIs settings (%s, managed by %s) do not allow this AMI of owner %s: %s."
                 % (state, (settings or {}).get("ManagedBy") or "account", image.get("owner_id"), effect))]


# ---- the reads (through _api), for ami_share_info ----------------------------------------------------


def _reason(error):
    exception = getattr(error, "exception", None)
    response = getattr(exception, "response", None) or {}
    code = (response.get("Error") or {}).get("Code")
    return "%s: %s" % (code, error) if code else str(error)


def add_to_report(report, organizations, ec2_clients, shared_with_me, now=None, max_workers=8):
    """Add the Allowed AMIs problems to every image of an ami_share_info ``report`` (in place); returns
    ``allowed_images_settings`` ({region: settings}) with shared_with_me, else {account: {state, criteria} or None}."""
    from concurrent.futures import ThreadPoolExecutor
    import threading

    from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
    from ansible_collections.orgshare.aws.plugins.module_utils import _api

    now = now or datetime.datetime.now(datetime.timezone.utc)
    images = report.get("images") or []
    if shared_with_me:
        settings = {}
        failed = set(f["region"] for f in report.get("failed_regions") or [])
        for region in sorted(r for r in ec2_clients if r not in failed):
            try:
                settings[region] = _api.get_allowed_images_settings(ec2_clients[region])
            except AnsibleAWSError as e:
                settings[region] = None
                for image in (i for i in images if i["region"] == region):
                    image["problems"].append(dict(not_checked_problem(_reason(e)), region=region, image_id=image["image_id"]))
        for image in images:
            if settings.get(image["region"]) is not None:
                image["problems"].extend(dict(p, region=image["region"], image_id=image["image_id"])
                                         for p in consumer_problem(image, settings[image["region"]]))
        return settings

    lock = threading.Lock()
    members = {}

    def accounts_of(kind, arn):
        with lock:
            if arn not in members:
                members[arn] = (_api.list_accounts(organizations) if kind == "organization"
                                else _api.list_accounts_under(organizations, arn.rsplit("/", 1)[-1]))
            return members[arn]

    work = []
    for image in images:
        lp = image.get("launch_permissions") or {}
        if lp.get("unknown") or not any(lp.get(k) for k in ("account_ids", "organization_arns", "organizational_unit_arns")):
            continue
        try:
            work.append((image, consumers(lp, image.get("owner_id"), accounts_of)))
        except AnsibleAWSError as e:
            image["problems"].append(dict(not_checked_problem(_reason(e)), region=image["region"], image_id=image["image_id"]))
    accounts = sorted(set(a for _image, reached in work for a in reached))

    def read(account):
        try:
            return account, settings_from_policy(_api.describe_effective_declarative_policy(organizations, account)), None
        except AnsibleAWSError as e:
            return account, None, e

    found, unread, outside = {}, {}, set()
    if accounts:
        with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(accounts)))) as pool:
            for account, settings, error in pool.map(read, accounts):
                if error is None:
                    found[account] = settings
                elif _api.error_code(error) in OUTSIDE_CODES:
                    outside.add(account)
                else:
                    unread[account] = _reason(error)
    for image, reached in work:
        strangers = sorted(a for a in reached if a in outside)
        if strangers:
            image.setdefault("notes", []).append(
                "Allowed AMIs settings of account(s) %s, outside the caller's organization, are visible to those accounts only: "
                "not checked." % ", ".join(strangers))
            reached = dict((a, p) for a, p in reached.items() if a not in outside)
        missing = sorted(a for a in reached if a in unread)
        if missing:
            image["problems"].append(dict(
                not_checked_problem("the effective EC2 declarative policy of account(s) %s could not be read (%s)"
                                    % (", ".join(missing), unread[missing[0]])),
                region=image["region"], image_id=image["image_id"]))
        image["problems"].extend(dict(p, region=image["region"], image_id=image["image_id"])
                                 for p in owner_problems(image, dict((a, p) for a, p in reached.items() if a not in unread),
                                                         found.get, now))
    for image in images:
        image["problems"].sort(key=lambda p: (p["code"], p["message"]))
    return found
