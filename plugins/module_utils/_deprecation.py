# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to this collection: not a public API; may change in any release.

"""Pure AMI deprecation helpers: the time forms of ``deprecate_at``, AWS's limits, and the choice of a family's
previous versions (no boto3; the API calls are in ``_api``).

AWS's rules (EnableImageDeprecation ``DeprecateAt``, EC2 API Reference and botocore's EC2 model; EC2 User Guide,
"Deprecate an Amazon EC2 AMI", https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ami-deprecate.html):

- "If you specify a value for seconds, Amazon EC2 rounds the seconds to the nearest minute" (which way exactly 30
  seconds go is not documented: here, up);
- "You can't specify a date in the past";
- "The upper limit for DeprecateAt is 10 years from now, except for public AMIs, where the upper limit is 2 years
  from the creation date" (counted here in calendar years, which is never more than AWS's limit in days);
- "By default, the deprecation date of all public AMIs is set to two years from the AMI creation date. You can set
  the deprecation date to earlier than two years. To cancel the deprecation date, or to move the deprecation to a
  later date, you must make the AMI private" (``public_problem``).
"""

import datetime
import re

from ansible_collections.orgshare.aws.plugins.module_utils import _ec2
from ansible_collections.orgshare.aws.plugins.module_utils import _targets
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareInputError

UTC = datetime.timezone.utc
# DeprecationTime and CreationDate as DescribeImages gives them (2021-05-10T13:17:00.000Z).
AWS_FORMAT = "%Y-%m-%dT%H:%M:%S.000Z"
MAX_YEARS = 10
PUBLIC_MAX_YEARS = 2
# "now": the first whole minute at least this far ahead, so that the time is still in the future when AWS gets the
# request, and rounding does not move it.
NOW_MARGIN = datetime.timedelta(seconds=60)

FORMS = (
    "expected an ISO 8601 time with its time zone like '2026-12-31T00:00:00Z' (or '2026-12-31T02:00:00+02:00'), "
    "a date like '2026-12-31' (midnight UTC), a time from now like '+30d', '+12h' or '+90m', or 'now'"
)

_ABSOLUTE_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(?:(Z|z)|([+-])(\d{2}):?(\d{2}))?)?$"
)
_RELATIVE_RE = re.compile(r"^\+\s*(\d{1,7})\s*([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}

# A family's name prefix is sent as the DescribeImages filter ``name`` = ``prefix*``; in filter values * and ?
# are wildcards, and AMI names cannot contain them (RegisterImage ``Name``: letters, digits, ( ) [ ] space . / - ' @ _).
NAME_PREFIX_MAX = 128


class DeprecationError(OrgShareInputError):
    """A refused deprecation time, or a reason why an AMI's deprecation cannot be set or cancelled as asked."""


def utc_now():
    return datetime.datetime.now(UTC)


def to_minute(at):
    """``at`` rounded to the nearest minute (30 seconds up), as EC2 rounds DeprecateAt."""
    return (at + datetime.timedelta(seconds=30)).replace(second=0, microsecond=0)


def next_minute(at):
    """The first whole minute at or after ``at``."""
    whole = at.replace(second=0, microsecond=0)
    return whole if whole == at else whole + datetime.timedelta(minutes=1)


def add_years(at, years):
    """``at`` plus ``years`` calendar years (29 February becomes 28 February)."""
    try:
        return at.replace(year=at.year + years)
    except ValueError:
        return at.replace(year=at.year + years, day=28)


def show(at):
    """A time as DescribeImages shows it."""
    return at.astimezone(UTC).strftime(AWS_FORMAT) if at is not None else None


def parse_absolute(text):
    """An aware datetime in UTC for an ISO 8601 date or date-time with a time zone; None when ``text`` has not the
    form; DeprecationError when it has the form of a time but no time zone, or is not a real date."""
    match = _ABSOLUTE_RE.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    if hour is not None and not zulu and not sign:
        raise DeprecationError("no time zone: add Z for UTC (%s)" % FORMS)
    try:
        at = datetime.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                               int((fraction or "0").ljust(6, "0")[:6]), tzinfo=UTC)
        if sign:
            offset = datetime.timedelta(hours=int(off_h), minutes=int(off_m))
            if offset >= datetime.timedelta(hours=24):
                raise ValueError("offset")
            at = at - offset if sign == "+" else at + offset
    except (ValueError, OverflowError):
        raise DeprecationError("not a real date and time (%s)" % FORMS)
    return at


def aws_time(value):
    """DescribeImages' ``DeprecationTime`` / ``CreationDate`` text as an aware datetime (None for none, or for a text
    of another form)."""
    if not value:
        return None
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return parse_absolute(str(value).strip())
    except DeprecationError:
        return None


def _requested(value, now, option):
    """The time ``value`` names, rounded to the minute as EC2 rounds it, not yet checked against the limits."""
    if isinstance(value, datetime.datetime):  # a YAML timestamp (without a zone: UTC, as YAML reads it)
        value = value.isoformat() if value.tzinfo else value.isoformat() + "Z"
    elif isinstance(value, datetime.date):  # a YAML date
        value = value.isoformat()
    if not isinstance(value, str) or not value.strip():
        raise DeprecationError("%s: %r is not a time; %s" % (option, value, FORMS))
    text = value.strip()
    if text.lower() == "now":
        return next_minute(now + NOW_MARGIN)
    relative = _RELATIVE_RE.match(text.lower())
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        if amount < 1:
            raise DeprecationError("%s: %r: a time from now is at least +1%s (or 'now'); %s" % (option, value, unit, FORMS))
        try:
            return to_minute(now + datetime.timedelta(**{_UNITS[unit]: amount}))
        except OverflowError:
            raise DeprecationError("%s: %r is more than %d years from now" % (option, value, MAX_YEARS))
    try:
        at = parse_absolute(text)
    except DeprecationError as e:
        raise DeprecationError("%s: %r: %s" % (option, value, e))
    if at is None:
        raise DeprecationError("%s: %r is not a time; %s" % (option, value, FORMS))
    return to_minute(at)


def wanted_time(value, now, option="deprecate_at"):
    """The minute ``value`` asks for, as EC2 will store it, checked against AWS's limits for any AMI (not in the
    past, at most 10 years ahead); DeprecationError naming ``option`` and the forms otherwise."""
    at = _requested(value, now, option)
    if at <= now:
        raise DeprecationError(
            "%s: %r is in the past (it is %s now); AWS refuses a deprecation time in the past: give a later time, or "
            "'now' to deprecate at once" % (option, value, show(now))
        )
    limit = add_years(now, MAX_YEARS)
    if at > limit:
        raise DeprecationError(
            "%s: %r is more than %d years from now; AWS allows at most %s" % (option, value, MAX_YEARS, show(limit))
        )
    return at


def public_limit(image):
    """The latest deprecation time AWS allows for a public AMI (2 years after its creation), or None when the
    creation date is unknown."""
    created = aws_time(image.get("CreationDate"))
    return add_years(created, PUBLIC_MAX_YEARS) if created is not None else None


def check_name_prefix(value, option):
    if not isinstance(value, str) or not value.strip():
        raise DeprecationError("%s: give the beginning of the family's AMI names, for example 'golden-base-'" % option)
    if "*" in value or "?" in value:
        raise DeprecationError(
            "%s: %r: AMI names cannot contain * or ?; give the literal beginning of the names (the module adds the "
            "wildcard)" % (option, value)
        )
    if len(value) > NAME_PREFIX_MAX:
        raise DeprecationError("%s: %d characters; an AMI name has at most %d" % (option, len(value), NAME_PREFIX_MAX))
    return value


def check_tags(value, option):
    """The family's tags as {key: value} of strings."""
    if not isinstance(value, dict) or not value:
        raise DeprecationError("%s: give at least one tag, as {key: value}" % option)
    out = {}
    for key, tag_value in value.items():
        if not isinstance(key, str) or not key:
            raise DeprecationError("%s: %r is not a tag key (a non-empty string)" % (option, key))
        if isinstance(tag_value, bool) or not isinstance(tag_value, (str, int)):
            raise DeprecationError("%s.%s: %r is not a tag value; give a string" % (option, key, tag_value))
        out[key] = str(tag_value)
    return out


def parse_family_search(params, default_region, keep_newest, counted="AMIs"):
    """A family's search, checked before any AWS call (ami_deprecation's and ami_retire's ``family``, ``regions``,
    ``keep_newest``, ``exclude_image_ids``): {name_prefix, tags, regions, keep_newest, exclude}. ``keep_newest`` is
    the number to keep (the option's value, or the module's default); ``counted`` names what it counts in its
    message. A refused value raises ``DeprecationError`` naming the option and the expected form."""
    family = params.get("family") or {}
    name_prefix, tags = family.get("name_prefix"), family.get("tags")
    if name_prefix is None and tags is None:
        raise DeprecationError("family: give name_prefix, tags, or both (for example family: {name_prefix: golden-base-})")
    if name_prefix is not None:
        name_prefix = check_name_prefix(name_prefix, "family.name_prefix")
    if tags is not None:
        tags = check_tags(tags, "family.tags")
    regions = params.get("regions")
    if regions is None:
        if not default_region:
            raise DeprecationError("region: no region given (set regions, the region option, or AWS_REGION)")
        problem = _targets.region_problem(default_region, "region")
        if problem:
            raise DeprecationError(problem)
        regions = [default_region]
    elif not regions:
        raise DeprecationError("regions: give at least one region, or leave it out for the module's region")
    seen = set()
    for index, region in enumerate(regions):
        problem = _targets.region_problem(region, "regions[%d]" % index)
        if problem:
            raise DeprecationError(problem)
        if region in seen:
            raise DeprecationError("regions[%d]: %s is listed more than once" % (index, region))
        seen.add(region)
    if keep_newest < 0:
        raise DeprecationError("keep_newest: %r; give a number of %s, 0 or more" % (keep_newest, counted))
    exclude = []
    for index, value in enumerate(params.get("exclude_image_ids") or []):
        if not isinstance(value, str) or not _ec2.is_image_id(value.strip()):
            raise DeprecationError("exclude_image_ids[%d]: %r is not an AMI id; %s" % (index, value, _ec2.AMI_FORM))
        exclude.append(value.strip())
    return dict(name_prefix=name_prefix, tags=tags, regions=list(regions), keep_newest=keep_newest, exclude=exclude)


def family_filters(name_prefix, tags):
    """DescribeImages ``Filters`` for a family (the caller's own AMIs are asked for with ``Owners=['self']``)."""
    filters = []
    if name_prefix:
        filters.append({"Name": "name", "Values": [name_prefix + "*"]})
    for key in sorted(tags or {}):
        filters.append({"Name": "tag:%s" % key, "Values": [tags[key]]})
    return filters


def in_family(image, name_prefix, tags):
    """True when the image's name starts with ``name_prefix`` and it has every tag of ``tags`` exactly (filter values
    are patterns: a tag value holding * or ? matches more than itself)."""
    if name_prefix and not (image.get("Name") or "").startswith(name_prefix):
        return False
    have = dict((t.get("Key"), t.get("Value")) for t in image.get("Tags") or [])
    return all(have.get(k) == v for k, v in (tags or {}).items())


# A family member counts toward keep_newest, and gets the deprecation time, in one of these states (a copy still
# being made is the newest version; a failed one is none).
MEMBER_STATES = ("available", "pending")


def newest_first(images):
    """``images`` sorted newest first by CreationDate (then name and id, so that ties have one order)."""
    def key(image):
        created = aws_time(image.get("CreationDate"))
        return (created or datetime.datetime.min.replace(tzinfo=UTC), image.get("Name") or "", image.get("ImageId") or "")

    return sorted(images, key=key, reverse=True)


def choose_previous(images, keep_newest, exclude_image_ids):
    """[(image, reason)] newest first: reason ``excluded`` (in ``exclude_image_ids``), ``skipped`` (in a state other
    than MEMBER_STATES), ``kept_newest`` (one of the ``keep_newest`` newest of the rest), or None (a previous
    version: it gets the deprecation time)."""
    exclude = set(exclude_image_ids or ())
    kept = 0
    out = []
    for image in newest_first(images):
        if image.get("ImageId") in exclude:
            out.append((image, "excluded"))
        elif image.get("State") not in MEMBER_STATES:
            out.append((image, "skipped"))
        elif kept < keep_newest:
            kept += 1
            out.append((image, "kept_newest"))
        else:
            out.append((image, None))
    return out


def plan_present(image, wanted, keep_earlier):
    """(action, after) for setting ``wanted`` on ``image``: ``unchanged`` (already at that minute), ``kept_earlier``
    (deprecated earlier and ``keep_earlier``) or ``deprecate``. DeprecationError for what AWS refuses on a public AMI."""
    current_text = image.get("DeprecationTime")
    current = aws_time(current_text)
    if current is not None and to_minute(current) == wanted:
        return "unchanged", current_text
    if current is not None and to_minute(current) < wanted and keep_earlier:
        return "kept_earlier", current_text
    if image.get("Public"):
        limit = public_limit(image)
        if limit is not None and wanted > limit:
            raise DeprecationError(
                "the AMI is public, and AWS allows a public AMI's deprecation time at most %d years after its creation "
                "(%s): at most %s" % (PUBLIC_MAX_YEARS, image.get("CreationDate"), show(limit))
            )
        if current is not None and wanted > to_minute(current):
            raise DeprecationError(
                "the AMI is public and deprecated at %s; AWS moves a public AMI's deprecation only earlier (to postpone "
                "it, make the AMI private first)" % current_text
            )
    return "deprecate", show(wanted)


def plan_absent(image):
    """(action, after) for cancelling ``image``'s deprecation: ``unchanged`` (none) or ``cancel``."""
    current_text = image.get("DeprecationTime")
    if not current_text:
        return "unchanged", None
    if image.get("Public"):
        raise DeprecationError(
            "the AMI is public; AWS cancels a public AMI's deprecation only once it is private (share it with "
            "accounts, its organization or OUs only, then re-run)"
        )
    return "cancel", None
