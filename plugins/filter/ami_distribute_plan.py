# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The filter ``orgshare.aws.ami_distribute_plan``: the planning steps of the role ``orgshare.aws.ami_distribute``.

Documentation: ami_distribute_plan.yml beside this file. The logic lives in
module_utils/_distribute.py (pure functions, unit tested); this file only dispatches."""

import os

import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.orgshare.aws.plugins.module_utils import _distribute as d

SPEC_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "roles", "ami_distribute", "meta", "argument_specs.yml")
_SPECS = []


def argument_specs():
    if not _SPECS:
        with open(SPEC_PATH) as f:
            _SPECS.append(yaml.safe_load(f))
    return _SPECS[0]


def _plain(value):
    """A copy of ``value`` made of plain dicts, lists, strings, numbers, booleans and None.

    What the role passes in are Ansible's lazily templated containers and tagged strings; a result
    built from them carries them along, and they take Ansible's template machinery with them when the
    fact is sent between processes."""
    if isinstance(value, dict):
        # skipped_reason: deprecated by ansible-core 2.21 (reading it warns); the plan never needs it
        return dict((_plain(k), _plain(value[k])) for k in value if k != "skipped_reason")
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return "".join([value[:]])
    return value


def _results(registered):
    """A registered loop's ``results`` (or [] for a skipped / missing task)."""
    if not registered or registered.get("skipped"):
        return []
    return list(registered.get("results") or [])


def _ran(registered):
    return None if not registered or registered.get("skipped") else registered


def _stage_inputs(data):
    return d.validate_inputs(data, argument_specs())


def _stage_share_check_targets(inputs, copy_check=None):
    return d.share_check_targets(inputs, _ran(copy_check))


def _stage_grant_calls(inputs, copy_check=None, source_info=None, share_check=None):
    copy_check = _with_source(copy_check, source_info)
    principals = d.resolved_principals(inputs, _ran(share_check))
    return d.grant_calls(inputs, principals, d.keys_to_grant(inputs, copy_check))


def _stage_writes(inputs, copy_check=None, share_check=None, grant_checks=None):
    checks = _results(grant_checks)
    failed = d.reads_verdict(inputs, _ran(copy_check), _ran(share_check), checks)
    plan = d.write_plan(inputs, _ran(copy_check), _ran(share_check), checks, failed)
    plan["failed_regions"] = failed
    return plan


def _stage_copies(plan, grant_runs=None):
    failed = set(plan.get("failed_regions") or {})
    failed.update(d.write_failures(_results(grant_runs), "keys", "key_id"))
    return [c for c in plan["copy_regions"] if c["region"] not in failed]


def _stage_shares(plan, grant_runs=None, copy_run=None):
    failed = dict(plan.get("failed_regions") or {})
    failed.update(d.write_failures(_results(grant_runs), "keys", "key_id"))
    failed.update(d.copy_failures(_ran(copy_run)))
    images = [t for t in plan["share_images"] if t["region"] not in failed]
    images += [t for t in d.new_copy_targets(_ran(copy_run), images) if t["region"] not in failed]
    return {"share_images": images, "failed_regions": failed}


def _with_source(copy_check, source_info):
    """ami_copy's check result, or (no copy region) one holding the source read by ami_share_info."""
    copy_check = _ran(copy_check)
    if copy_check is None or not copy_check.get("source"):
        copy_check = dict(copy_check or {}, source=d.source_from_info(_ran(source_info)))
    return copy_check


def _stage_check_targets(inputs, copy_check=None, copy_run=None, failed_regions=None, source_info=None):
    return d.check_targets(inputs, _with_source(copy_check, source_info), _ran(copy_run), failed_regions)


def _stage_ssm_targets(inputs, targets=None):
    return d.ssm_targets(inputs, targets or [])


def _stage_ssm_share_with(inputs, share_check=None):
    return d.ssm_share_with(inputs, d.resolved_principals(inputs, _ran(share_check)))


def _stage_deprecation_images(inputs, targets=None):
    return [{"image_id": t["image_id"], "region": t["region"]} for t in targets or []]


def _stage_result(inputs, targets, info=None, share_check=None, share_run=None, failed_regions=None, ssm_run=None,
                  deprecation_runs=None):
    failed = dict(failed_regions or {})
    info = _ran(info)
    failed.update(d.info_failures(info))
    failed.update(d.write_failures([_ran(share_run)], "images", "image_id"))
    published, ssm_failed = d.ssm_outcome(_ran(ssm_run))
    failed.update(ssm_failed)
    deprecated, deprecation_failed = d.deprecation_outcome([_ran(r) for r in deprecation_runs or []])
    failed.update(deprecation_failed)
    result = d.final_result(inputs, targets, info, [_ran(share_check), _ran(share_run)], failed, ssm=published,
                            deprecations=deprecated)
    principals = d.resolved_principals(inputs, _ran(share_check))
    return {"result": result, "failed_regions": failed, "blocking": d.blocking_problems(result, principals),
            "failure": d.failure_message(failed)}


STAGES = {
    "inputs": _stage_inputs,
    "share_check_targets": _stage_share_check_targets,
    "grant_calls": _stage_grant_calls,
    "writes": _stage_writes,
    "copies": _stage_copies,
    "shares": _stage_shares,
    "check_targets": _stage_check_targets,
    "ssm_targets": _stage_ssm_targets,
    "ssm_share_with": _stage_ssm_share_with,
    "deprecation_images": _stage_deprecation_images,
    "result": _stage_result,
}


def ami_distribute_plan(data, stage, **kwargs):
    if stage not in STAGES:
        raise AnsibleFilterError("ami_distribute_plan: unknown stage %r; expected one of %s" % (stage, ", ".join(sorted(STAGES))))
    try:
        return _plain(STAGES[stage](_plain(data), **dict((k, _plain(v)) for k, v in kwargs.items())))
    except d.DistributeError as e:
        raise AnsibleFilterError("orgshare.aws.ami_distribute: %s" % e)


class FilterModule(object):
    def filters(self):
        return {"ami_distribute_plan": ami_distribute_plan}
