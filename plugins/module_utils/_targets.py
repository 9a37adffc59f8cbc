# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to this collection: not a public API; may change in any release.

"""One runner for "these targets, concurrently, per region", used by every multi-target module.

A *target* is one thing a module acts on (an AMI in a region, a KMS key in a region). A module with a
list of targets:

1. validates every target's options before any AWS call (``parse_targets``: one refused element
   fails the whole call with a message naming ``option[index].key`` and the expected form);
2. makes the clients of every region in the calling thread, from one boto3 session
   (``_clients.ClientFactory``; sessions are not thread-safe, their clients are);
3. runs one function per target in a bounded thread pool (``run_targets``): a target that fails does
   not stop the others, and each outcome keeps its target's position;
4. reports one entry per target, a top-level ``changed``, and, when any failed, fails with a message
   naming every failed target and why (``summarise``).

Nothing here takes the module, so every piece is a plain function that unit tests call directly.

ami_share_info's targets are its regions: their DescribeImages run through ``run_targets``; the reads
that depend on each region's answer (launch permissions, snapshots, keys) form a graph that runs in
one bounded pool (``_share_info.ShareInfoGatherer``).
"""

import collections
import re
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareInputError

MAX_WORKERS = 16

Outcome = collections.namedtuple("Outcome", "target result error")


# The shape of an AWS region name (us-east-1, eu-central-2, us-gov-west-1, cn-north-1, ap-southeast-5, ...): the one
# check of a region name in the collection.
REGION_RE = re.compile(r"^[a-z]{2}(?:-[a-z0-9]+)+-[0-9]+$")


def region_problem(value, option):
    """The message for a value that is not a region name (naming ``option``), or None."""
    if isinstance(value, str) and REGION_RE.match(value):
        return None
    return "%s: %r is not a region name; expected a name like 'eu-west-1'" % (option, value)


class TargetError(OrgShareInputError):
    """A refused input (raised before any AWS call), or the reason one target cannot be acted on."""


def parse_targets(items, option, id_key, keys, default_region, validate_id):
    """Validate a list option of ``{<id_key>, region}`` dicts.

    Returns a list of dicts with every key of ``keys`` present (``region`` defaulting to
    ``default_region``, checked with ``region_problem``). ``validate_id(value, option_label)`` raises
    ``TargetError`` (or a ``ValueError``) with a message naming the input. A target listed twice
    (same id and region) is refused: its two results would contradict each other."""
    if not items:
        raise TargetError("%s: give at least one element {%s, region}" % (option, id_key))
    seen = set()
    out = []
    for index, item in enumerate(items):
        label = "%s[%d]" % (option, index)
        if not isinstance(item, dict):
            raise TargetError("%s: %r is not a dict; expected {%s: ..., region: ...} (region optional)" % (label, item, id_key))
        unknown = sorted(set(item) - set(keys))
        if unknown:
            raise TargetError(
                "%s: unknown key(s) %s; expected the keys %s (%s required)" % (label, ", ".join(unknown), ", ".join(keys), id_key)
            )
        value = item.get(id_key)
        if value is None or value == "":
            raise TargetError("%s: the key %r is required" % (label, id_key))
        if not isinstance(value, str):
            raise TargetError("%s.%s: %r is not a string" % (label, id_key, value))
        value = value.strip()
        validate_id(value, "%s.%s" % (label, id_key))
        region = item.get("region") or default_region
        if not region:
            raise TargetError(
                "%s.region: no region given, and the module has none (set region on the element or the region option)" % label
            )
        problem = region_problem(region, "%s.region" % label)
        if problem:
            raise TargetError(problem)
        if (value, region) in seen:
            raise TargetError("%s: %s in %s is listed more than once" % (label, value, region))
        seen.add((value, region))
        target = dict((k, item.get(k)) for k in keys)
        target[id_key] = value
        target["region"] = region
        out.append(target)
    return out


def run_targets(func, targets, max_workers=MAX_WORKERS):
    """``func(target)`` for every target in a bounded thread pool; a list of ``Outcome`` in the targets' order.

    An exception raised by one call is kept as that target's ``error``; every call runs to its end
    (no request is abandoned half-way) whatever the others do."""
    targets = list(targets)
    if not targets:
        return []

    def call(target):
        try:
            return Outcome(target, func(target), None)
        except Exception as e:  # pylint: disable=broad-except  # kept per target, reported by summarise()
            return Outcome(target, None, e)

    if len(targets) == 1:
        return [call(targets[0])]
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(targets)))) as pool:
        return list(pool.map(call, targets))


def target_label(target, id_key):
    return "%s in %s" % (target.get(id_key), target.get("region"))


def error_text(error):
    """The message of a per-target error: AnsibleAWSError's message and its AWS error, else str()."""
    message = getattr(error, "message", None) or str(error) or error.__class__.__name__
    exception = getattr(error, "exception", None)
    if exception is not None and str(exception) and str(exception) not in message:
        message = "%s: %s" % (message, exception)
    return message


def error_kind(error):
    """``refused`` for a reason found in the request or the target's state (``_errors.OrgShareInputError``,
    a ``ValueError``: wrong input, missing AMI, AWS managed key, ...), ``aws_error`` for a call that AWS
    or the connection failed (throttling past the retries, an endpoint down, access denied): callers such
    as the role stop on the first kind before any write, and carry on with the other regions on the second."""
    return "refused" if isinstance(error, ValueError) else "aws_error"


def summarise(outcomes, id_key, failed_entry):
    """The per-target entries, the top-level ``changed``, and the failure message (None if none failed).

    ``failed_entry(target, message)`` builds the entry of a failed target (its id, ``region``,
    ``failed: true`` and ``msg``); ``error_kind`` (see ``error_kind()``) is added to it."""
    entries, failures = [], []
    for outcome in outcomes:
        if outcome.error is None:
            entries.append(outcome.result)
            continue
        message = error_text(outcome.error)
        failures.append("%s: %s" % (target_label(outcome.target, id_key), message))
        entry = failed_entry(outcome.target, message)
        entry["error_kind"] = error_kind(outcome.error)
        entries.append(entry)
    changed = any(e.get("changed") for e in entries)
    msg = None
    if failures:
        msg = "%d of %d target(s) failed (the others were applied): %s" % (len(failures), len(outcomes), "; ".join(failures))
    return entries, changed, msg


def combined_diff(entries, id_key):
    """The top-level ``diff`` of a multi-target result: a list of the targets' diffs, each headed with its
    target (Ansible's callbacks print a list of diffs one after the other); unchanged targets are left out."""
    out = []
    for entry in entries:
        diff = entry.get("diff")
        if not diff or not entry.get("changed"):
            continue
        label = "%s in %s" % (entry.get("kms_key_arn") or entry.get(id_key), entry.get("region"))
        out.append(dict(diff, before_header="%s (before)" % label, after_header="%s (after)" % label))
    return out
