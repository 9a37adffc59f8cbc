# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to this collection: not a public API; may change in any release.

"""The plan of the role ``orgshare.aws.ami_distribute``, as pure functions.

The role runs in three phases, and this module decides everything between them (the filter plugin
``orgshare.aws.ami_distribute`` exposes it to the role's tasks):

1. ``validate_inputs``: every role variable checked and converted to the type its argument spec says
   (``-e name=value`` strings included), before any AWS call.
2. Reads, all in check mode (nothing is written): ``ami_copy`` finds the existing copies and reads the
   source, ``ami_org_share`` checks the source and the existing copies and resolves bare ids,
   ``kms_org_grant`` checks every key. ``read_targets`` and ``grant_calls`` say what to read;
   ``reads_verdict`` turns the answers into "refused: stop before any write" or "these regions
   failed: leave them out".
3. Writes, only what the reads predicted: ``write_plan``. Then ``final_result``.

Every function takes and returns plain data (dicts and lists, as the modules return them).
"""

import copy

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.orgshare.aws.plugins.module_utils import _ami_copy_inputs as _ami_copy
from ansible_collections.orgshare.aws.plugins.module_utils import _deprecation
from ansible_collections.orgshare.aws.plugins.module_utils import _ec2
from ansible_collections.orgshare.aws.plugins.module_utils import _principals as pr
from ansible_collections.orgshare.aws.plugins.module_utils import _ssm
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareInputError

PREFIX = "ami_distribute_"
REGION_ENTRY_KEYS = ("region", "kms_key_id", "name")
REGION_ENTRY_SPEC = dict(
    region=dict(type="str", required=True),
    kms_key_id=dict(type="str"),
    name=dict(type="str"),
)
BLOCKING_PROBLEMS = ("key_not_granted", "aws_managed_key")


class DistributeError(OrgShareInputError):
    """Refused input or a refused plan: the message names the variable (or region) and what was expected."""


# ---- 1. inputs ---------------------------------------------------------------------------------


def _spec_of(argument_specs):
    """The ``options`` of the role's ``main`` entry point (meta/argument_specs.yml), as an argument spec."""
    options = copy.deepcopy(argument_specs["argument_specs"]["main"]["options"])
    for option in options.values():
        for doc_only in ("description", "version_added"):
            option.pop(doc_only, None)
    return options


def _validate(spec, params, what):
    result = ArgumentSpecValidator(spec).validate(params)
    if result.error_messages:
        raise DistributeError("%s: %s" % (what, "; ".join(result.error_messages)))
    return result.validated_parameters


# The syntax checks are the modules' own (ami_copy's for regions, keys and names, _ec2's for AMI ids), so the role
# and the modules accept and refuse the same values; only the error type differs.


def _same_checks(check, *args):
    try:
        return check(*args)
    except _ami_copy.AmiCopyError as e:
        raise DistributeError(str(e))


def _region(value, label):
    return _same_checks(_ami_copy.validate_region, value, label)


def _kms_key_id(value, region, label):
    _same_checks(_ami_copy.validate_kms_key_id, value, region, label)
    if _ami_copy.is_aws_managed_key(value):
        raise DistributeError(
            "%s: %s is an AWS managed key; AMIs encrypted with it cannot be shared. Give a customer managed key of %s"
            % (label, value, region)
        )
    return value


def region_entries(values):
    """``ami_distribute_regions`` as a list of ``{region, kms_key_id, name}`` (strings become ``{region}``)."""
    out, seen = [], {}
    for index, item in enumerate(values):
        label = "%sregions[%d]" % (PREFIX, index)
        if isinstance(item, str):
            item = {"region": item.strip()}
        if not isinstance(item, dict):
            raise DistributeError(
                "%s: %r is neither a region name nor a dict; expected 'eu-west-1' or {region: eu-west-1, kms_key_id: ..., name: ...}"
                % (label, item)
            )
        unknown = sorted(str(k) for k in set(item) - set(REGION_ENTRY_KEYS))
        if unknown:
            raise DistributeError(
                "%s: unknown key(s) %s; a region entry is a region name or a dict with the keys region (required), kms_key_id, name"
                % (label, ", ".join(unknown))
            )
        entry = _validate(REGION_ENTRY_SPEC, dict((k, v) for k, v in item.items() if v is not None), label)
        entry = dict((k, entry.get(k)) for k in REGION_ENTRY_KEYS)
        region = _region(entry["region"], label + ".region")
        if entry["kms_key_id"] is not None:
            entry["kms_key_id"] = _kms_key_id(entry["kms_key_id"], region, label + ".kms_key_id")
        if entry["name"] is not None:
            _same_checks(_ami_copy.validate_ami_name, entry["name"], label + ".name")
        if region in seen:
            raise DistributeError("%s: the region %s is already listed as %sregions[%d]" % (label, region, PREFIX, seen[region]))
        seen[region] = index
        entry["index"] = index
        out.append(entry)
    return out


def _principal_list(values, option, check):
    out = []
    for index, value in enumerate(values):
        label = "%s%s[%d]" % (PREFIX, option, index)
        try:
            out.append(check(value, label))
        except pr.PrincipalError as e:
            raise DistributeError(str(e))
    return sorted(set(out))


def _org(value, label):
    if pr.is_organization_id(value):
        return value
    return pr.parse_organization_arn(value, label).arn


def _ou(value, label):
    if pr.is_ou_id(value):
        return value
    return pr.parse_ou_arn(value, label).arn


def _account(value, label):
    if isinstance(value, str) and value.isdigit() and len(value) < 12:
        raise DistributeError(
            "%s: %r is not a 12-digit AWS account id: it has %d digits. If it was written unquoted in YAML, the number lost "
            "its leading zero(s): quote account ids, e.g. '012345678901'" % (label, value, len(value))
        )
    return pr.validate_account_id(value, label)


def validate_inputs(variables, argument_specs):
    """The role's variables (``ami_distribute_*``, without the prefix or with it), checked and converted.

    ``argument_specs`` is the parsed meta/argument_specs.yml. Returns a dict without the prefix:
    source_image_id, source_region, regions (the copy destinations, each {region, kms_key_id, name,
    index}), source_entry (the entry naming the source region, or None), organization_arns,
    organizational_unit_arns, account_ids, share_source, grant_keys, state, wait_timeout,
    and fail_on_problems (the connection settings are not returned). Raises DistributeError."""
    params = {}
    for name, value in (variables or {}).items():
        full = name if name.startswith(PREFIX) else PREFIX + name
        if value is None or (isinstance(value, str) and value == "" and full in _REQUIRED_NONEMPTY):
            continue  # not given
        params[full] = value
    for name, form in _REQUIRED_FORMS:
        if name not in params:
            raise DistributeError("%s is required (it has no default): %s" % (name, form))
    spec = _spec_of(argument_specs)
    unknown = sorted(set(params) - set(spec))
    if unknown:
        raise DistributeError("unknown role variable(s) %s; the role takes %s" % (", ".join(unknown), ", ".join(sorted(spec))))
    values = _validate(spec, params, "role ami_distribute")
    out = dict((k[len(PREFIX):], v) for k, v in values.items())

    image_id = (out.get("source_image_id") or "").strip()
    if not _ec2.is_image_id(image_id):
        raise DistributeError(
            "%ssource_image_id: %r is not an AMI id; expected ami- and 8 or 17 hexadecimal digits, e.g. ami-0123456789abcdef0"
            % (PREFIX, out.get("source_image_id"))
        )
    out["source_image_id"] = image_id
    out["source_region"] = _region((out.get("source_region") or "").strip(), PREFIX + "source_region")
    entries = region_entries(out.get("regions") or [])
    out["regions"] = [e for e in entries if e["region"] != out["source_region"]]
    source_entries = [e for e in entries if e["region"] == out["source_region"]]
    out["source_entry"] = source_entries[0] if source_entries else None
    out["copy_destinations"] = [dict((k, e[k]) for k in REGION_ENTRY_KEYS if e[k] is not None) for e in out["regions"]]
    out["organization_arns"] = _principal_list(out.get("organization_arns") or [], "organization_arns", _org)
    out["organizational_unit_arns"] = _principal_list(out.get("organizational_unit_arns") or [], "organizational_unit_arns", _ou)
    out["account_ids"] = _principal_list(out.get("account_ids") or [], "account_ids", _account)
    if out.get("wait_timeout") is not None and out["wait_timeout"] < 1:
        raise DistributeError("%swait_timeout: a number of seconds, at least 1 (got %r)" % (PREFIX, out["wait_timeout"]))
    name = (out.get("ssm_parameter") or "").strip()
    if name:
        problem = _ssm.name_problem(name)
        if problem:
            raise DistributeError("%sssm_parameter: %r %s" % (PREFIX, out.get("ssm_parameter"), problem))
    out["ssm_parameter"] = name or None
    out["ssm_share"] = bool(out.get("ssm_share"))
    if out["ssm_share"] and not out["ssm_parameter"]:
        raise DistributeError("%sssm_share: true needs %sssm_parameter (the parameter to share), e.g. /golden/al2023/latest"
                              % (PREFIX, PREFIX))
    now = _deprecation.utc_now()
    for option in ("deprecate_at", "deprecate_previous_at"):
        value = (out.get(option) or "").strip()
        if value:
            _deprecation.wanted_time(value, now, option=PREFIX + option)  # refused here, before any write
        out[option] = value or None
    family = out.get("family") or {}
    if out["deprecate_previous_at"]:
        if not family or not (family.get("name_prefix") or family.get("tags")):
            raise DistributeError("%sdeprecate_previous_at needs %sfamily: {name_prefix: ...} and/or {tags: {key: value}}, how "
                                  "the image's versions are recognised" % (PREFIX, PREFIX))
    if family:
        unknown = sorted(set(family) - {"name_prefix", "tags", "tag"})
        if unknown:
            raise DistributeError("%sfamily: unknown key(s) %s; expected name_prefix and/or tags" % (PREFIX, ", ".join(unknown)))
        if family.get("name_prefix") is not None:
            _deprecation.check_name_prefix(family["name_prefix"], PREFIX + "family.name_prefix")
        tags = family.get("tags", family.get("tag"))
        if tags is not None:
            _deprecation.check_tags(tags, PREFIX + "family.tags")
        out["family"] = dict((k, v) for k, v in (("name_prefix", family.get("name_prefix")), ("tags", tags)) if v is not None)
    else:
        out["family"] = None
    if (out.get("keep_newest") or 0) < 0:
        raise DistributeError("%skeep_newest: a number of versions, 0 or more (got %r)" % (PREFIX, out.get("keep_newest")))
    out["has_principals"] = has_principals(out)
    if out["ssm_share"] and not out["has_principals"]:
        raise DistributeError("%sssm_share: true shares the SSM parameter with the principals the AMIs are shared with, and "
                              "none is given: set %sorganization_arns, %sorganizational_unit_arns or %saccount_ids"
                              % (PREFIX, PREFIX, PREFIX, PREFIX))
    for k in ("profile", "access_key", "secret_key", "session_token", "endpoint_url"):
        out.pop("aws_" + k, None)  # never kept in a fact: the tasks read these variables themselves
    return out


_REQUIRED_FORMS = (
    (PREFIX + "source_image_id", "the id of the AMI to distribute, e.g. ami-0123456789abcdef0"),
    (PREFIX + "source_region", "the region of that AMI, e.g. us-east-1"),
)
_REQUIRED_NONEMPTY = tuple(name for name, dummy in _REQUIRED_FORMS)


def has_principals(inputs):
    return bool(inputs["organization_arns"] or inputs["organizational_unit_arns"] or inputs["account_ids"])


def needs_resolution(inputs):
    return any(pr.is_organization_id(v) for v in inputs["organization_arns"]) or any(
        pr.is_ou_id(v) for v in inputs["organizational_unit_arns"]
    )


# ---- 2. reads ------------------------------------------------------------------------------------


def copies_by_region(copy_result):
    """{region: ami_copy's entry} from ami_copy's result (check mode or not)."""
    return dict((e["region"], e) for e in (copy_result or {}).get("images") or [])


def existing_copy(entry):
    """The id of an existing, usable copy in an ami_copy entry, else None."""
    if entry and entry.get("image_id") and entry.get("state") in ("available", "pending"):
        return entry["image_id"]
    return None


def share_check_targets(inputs, copy_result):
    """The AMIs ``ami_org_share`` checks before any write: the source (when it is shared, or when bare ids
    must be resolved and nothing else is there), and every existing copy that is available."""
    targets = []
    usable = ("available", "pending") if inputs["state"] == "absent" else ("available",)
    for entry in (copy_result or {}).get("images") or []:
        if entry.get("image_id") and entry.get("state") in usable and not entry.get("failed"):
            targets.append({"image_id": entry["image_id"], "region": entry["region"]})
    if inputs["share_source"] or inputs["state"] == "absent" or (needs_resolution(inputs) and not targets):
        targets.insert(0, {"image_id": inputs["source_image_id"], "region": inputs["source_region"]})
    return targets


def resolved_principals(inputs, share_check):
    """The principals with bare ids resolved (from ami_org_share's ``principals``), else the inputs'."""
    got = (share_check or {}).get("principals")
    if got and not (share_check or {}).get("failed"):
        return dict((k, list(got.get(k) or [])) for k in ("organization_arns", "organizational_unit_arns", "account_ids"))
    if needs_resolution(inputs):
        return None
    return dict((k, list(inputs[k])) for k in ("organization_arns", "organizational_unit_arns", "account_ids"))


def grant_groups(principals):
    """One kms_org_grant call per organization: organization-wide when its ARN is listed, else for its listed
    OUs; the accounts ride with the first call (or go alone when no organization is listed)."""
    orgs = []
    for arn in principals["organization_arns"]:
        org_id = arn.rsplit("/", 1)[-1]
        if org_id not in orgs:
            orgs.append(org_id)
    ous_by_org = {}
    for arn in principals["organizational_unit_arns"]:
        org_id = arn.split(":ou/", 1)[1].split("/", 1)[0]
        ous_by_org.setdefault(org_id, []).append(arn)
        if org_id not in orgs:
            orgs.append(org_id)
    groups = []
    for org_id in orgs:
        whole = any(a.rsplit("/", 1)[-1] == org_id for a in principals["organization_arns"])
        groups.append({"organization": org_id, "organizational_units": [] if whole else sorted(ous_by_org.get(org_id, [])), "account_ids": []})
    if principals["account_ids"]:
        if groups:
            groups[0]["account_ids"] = list(principals["account_ids"])
        else:
            groups.append({"organization": None, "organizational_units": [], "account_ids": list(principals["account_ids"])})
    return groups


def keys_to_grant(inputs, copy_result):
    """Every customer managed key that an AMI of this run is (or will be) encrypted with: ``[{key_id, region}]``.

    The source's keys (when the source is shared), and for each copy region the key of its existing copy,
    else the ``kms_key_id`` named for it. Raises DistributeError when the source is encrypted and a region
    that needs a copy names no key (the copy would land under the AWS managed key, which cannot be shared)."""
    source = (copy_result or {}).get("source") or {}
    keys = []

    def add(key_id, region):
        if key_id and {"key_id": key_id, "region": region} not in keys:
            keys.append({"key_id": key_id, "region": region})

    absent = inputs["state"] == "absent"
    if inputs["share_source"] or absent:
        for arn in source.get("kms_key_arns") or []:
            add(arn, inputs["source_region"])
    copies = copies_by_region(copy_result)
    missing = []
    for dest in inputs["regions"]:
        entry = copies.get(dest["region"]) or {}
        if existing_copy(entry):
            add(entry.get("kms_key_arn") or entry.get("kms_key_id"), dest["region"])
        elif absent:
            continue  # no AMI there: nothing of this run uses a key in that region
        elif dest["kms_key_id"]:
            add(entry.get("kms_key_arn") or dest["kms_key_id"], dest["region"])
        elif source.get("encrypted"):
            missing.append(dest)
    if missing:
        raise DistributeError(
            "the source %s is encrypted, and %s name(s) no kms_key_id: a copy would be encrypted with the AWS managed key "
            "(aws/ebs), and AMIs encrypted with it cannot be shared. Give each of these entries a customer managed key of its "
            "region, e.g. {region: %s, kms_key_id: alias/golden-ami}"
            % (
                inputs["source_image_id"],
                ", ".join("%sregions[%d] (%s)" % (PREFIX, d["index"], d["region"]) for d in missing),
                missing[0]["region"],
            )
        )
    return keys


def grant_calls(inputs, principals, keys):
    """The kms_org_grant calls (one per group of ``grant_groups``), each over every key; [] when nothing to grant."""
    if not inputs["grant_keys"] or not keys or principals is None:
        return []
    calls = []
    for group in grant_groups(principals):
        calls.append(dict(group, keys=list(keys)))
    return calls


def _failures(result, list_key):
    """(refused, failed): the failed entries of a multi-target result, split by error_kind."""
    refused, failed = [], []
    for entry in (result or {}).get(list_key) or []:
        if entry.get("failed"):
            (refused if entry.get("error_kind") == "refused" else failed).append(entry)
    return refused, failed


def _whole_failure(result, what):
    """A module that failed without per-target entries (bad options, no connection): its message."""
    if result and result.get("failed") and not any(result.get(k) for k in ("images", "keys")):
        return "%s: %s" % (what, result.get("msg") or "failed")
    return None


def reads_verdict(inputs, copy_check=None, share_check=None, grant_checks=None):
    """Decide after the reads: raise DistributeError when any input was refused (nothing has been written);
    otherwise return ``{region: reason}`` of the regions whose reads AWS failed (they are left out)."""
    problems, failed = [], {}
    for result, what in [(copy_check, "orgshare.aws.ami_copy (check mode)"), (share_check, "orgshare.aws.ami_org_share (check mode)")] + [
        (g, "orgshare.aws.kms_org_grant (check mode)") for g in (grant_checks or [])
    ]:
        whole = _whole_failure(result, what)
        if whole:
            problems.append(whole)
    if copy_check and copy_check.get("failed") and not problems:
        # ami_copy refuses the whole call for input (a key, a name); per-region AWS errors come as entries
        errored = [e for e in copy_check.get("images") or [] if e.get("state") == "error"]
        if not errored:
            problems.append("orgshare.aws.ami_copy (check mode): %s" % copy_check.get("msg"))
        for entry in errored:
            failed[entry["region"]] = (entry.get("state_reason") or {}).get("message") or "the copy check failed"
    for result, list_key, id_key in [(share_check, "images", "image_id")] + [(g, "keys", "key_id") for g in grant_checks or []]:
        refused, aws_failed = _failures(result, list_key)
        for entry in refused:
            problems.append("%s in %s: %s" % (entry.get(id_key), entry.get("region"), entry.get("msg")))
        for entry in aws_failed:
            failed.setdefault(entry["region"], "%s: %s" % (entry.get(id_key), entry.get("msg")))
    if problems:
        raise DistributeError("nothing was written: " + " | ".join(problems))
    return failed


# ---- 3. writes -------------------------------------------------------------------------------------


def _changed_targets(result, list_key, id_key):
    """[{<id_key>, region}] of the entries a check run predicted to change (keys by their ARN)."""
    out = []
    for entry in (result or {}).get(list_key) or []:
        if not entry.get("changed") or entry.get("failed"):
            continue
        value = entry.get(id_key)
        if id_key == "key_id":
            value = entry.get("kms_key_arn") or entry.get("key_arn") or value
        out.append({id_key: value, "region": entry["region"]})
    return out


def write_plan(inputs, copy_check, share_check, grant_checks, failed_regions):
    """What to write, from what the reads predicted: ``{grants, copy_regions, share_images, shared_checked}``.

    - grants: the kms_org_grant calls, each over the keys its check predicted to change (none: no call);
    - copy_regions: the ``ami_copy`` destinations that have no available copy yet (none: no call);
    - share_images: the checked AMIs whose share the check predicted to change (the new copies are added
      by the role from ami_copy's result).
    Regions in ``failed_regions`` are left out of everything."""
    failed = set(failed_regions or {})
    grants = []
    for check in grant_checks or []:
        if inputs["state"] == "absent":
            # the check ran before the AMIs were unshared: an AMI of this run still counted as needing the grant
            # (kms_org_grant keeps a grant another AMI needs). The revocation runs on every key, after the unshare.
            keys = [{"key_id": e.get("kms_key_arn") or e.get("key_arn") or e["key_id"], "region": e["region"]}
                    for e in check.get("keys") or [] if not e.get("failed") and e["region"] not in failed]
        else:
            keys = [k for k in _changed_targets(check, "keys", "key_id") if k["region"] not in failed]
        if keys:
            call = dict((k, (check.get("item") or {}).get(k)) for k in ("organization", "organizational_units", "account_ids"))
            call["keys"] = keys
            grants.append(call)
    copies = copies_by_region(copy_check)
    copy_regions = []
    for dest in inputs["regions"] if inputs["state"] == "present" else []:
        if dest["region"] in failed:
            continue
        entry = copies.get(dest["region"]) or {}
        if entry.get("image_id") and entry.get("state") == "available":
            continue
        copy_regions.append(dict((k, dest[k]) for k in REGION_ENTRY_KEYS if dest[k] is not None))
    share_images = []
    if has_principals(inputs):
        for target in _changed_targets(share_check, "images", "image_id"):
            if target["region"] in failed:
                continue
            is_source = target["region"] == inputs["source_region"] and target["image_id"] == inputs["source_image_id"]
            if is_source and not inputs["share_source"] and inputs["state"] == "present":
                continue
            share_images.append(target)
    return {"grants": grants, "copy_regions": copy_regions, "share_images": share_images}


def new_copy_targets(copy_result, already):
    """The copies ``ami_copy`` made or found in the write run that are not yet among ``already``: [{image_id, region}]."""
    known = set((t["image_id"], t["region"]) for t in already or [])
    out = []
    for entry in (copy_result or {}).get("images") or []:
        if entry.get("image_id") and entry.get("state") == "available" and (entry["image_id"], entry["region"]) not in known:
            out.append({"image_id": entry["image_id"], "region": entry["region"]})
    return out


def copy_failures(copy_result):
    """{region: reason} of the regions whose copy failed in the write run."""
    out = {}
    for entry in (copy_result or {}).get("images") or []:
        if entry.get("state") not in ("available", "pending", None) or (entry.get("failed")):
            reason = (entry.get("state_reason") or {}).get("message") or entry.get("msg") or "copy %s" % entry.get("state")
            out[entry["region"]] = reason
    if (copy_result or {}).get("failed") and not out:
        out["*"] = copy_result.get("msg") or "ami_copy failed"
    return out


def write_failures(results, list_key, id_key):
    """{region: reason} of the failed targets of multi-target write results."""
    out = {}
    for result in results or []:
        if not result:
            continue
        for entry in result.get(list_key) or []:
            if entry.get("failed"):
                out.setdefault(entry["region"], "%s: %s" % (entry.get(id_key), entry.get("msg")))
        if result.get("failed") and not result.get(list_key):
            out.setdefault("*", result.get("msg") or "failed")
    return out


def check_targets(inputs, copy_check, copy_run, failed_regions):
    """The AMIs the final ``ami_share_info`` check reads: the source (when shared) and every copy, by region."""
    failed = set(failed_regions or {})
    images = []
    if (inputs["share_source"] or inputs["state"] == "absent") and inputs["source_region"] not in failed:
        source_keys = ((copy_check or {}).get("source") or {}).get("kms_key_arns") or []
        images.append({"image_id": inputs["source_image_id"], "region": inputs["source_region"],
                       "kms_key_arn": source_keys[0] if source_keys else None})
    copies = copies_by_region(copy_check)
    copies.update(copies_by_region(copy_run))
    for dest in inputs["regions"]:
        entry = copies.get(dest["region"])
        if dest["region"] not in failed and entry and entry.get("image_id") and entry.get("state") == "available":
            images.append({"image_id": entry["image_id"], "region": dest["region"],
                           "kms_key_arn": entry.get("kms_key_arn") or entry.get("kms_key_id")})
    return images


def ssm_targets(inputs, targets):
    """The ``parameters`` of ami_ssm_parameter: the SSM parameter in each region of ``targets`` (the final check's AMIs:
    the source when shared, and every available copy), holding that region's AMI id; [] without a parameter name."""
    if not inputs.get("ssm_parameter"):
        return []
    return [{"name": inputs["ssm_parameter"], "region": t["region"], "image_id": t["image_id"]} for t in targets]


def ssm_share_with(inputs, principals):
    """The ``share_with`` of ami_ssm_parameter with ``ami_distribute_ssm_share``: the principals the AMIs are shared with
    (``principals``: bare ids resolved by the share check, or None, then the inputs' own, which the module resolves);
    None without ``ami_distribute_ssm_share``. An empty kind is left out."""
    if not inputs.get("ssm_share") or not inputs.get("ssm_parameter"):
        return None
    kinds = ("organization_arns", "organizational_unit_arns", "account_ids")
    source = principals if principals is not None else inputs
    return dict((k, list(source.get(k) or [])) for k in kinds if source.get(k))


def ssm_outcome(ssm_run):
    """({region: {name, version, changed}}, {region: reason}) from ami_ssm_parameter's result (None: not run); a shared
    parameter's entry also has ``arn`` (what consumers use) and ``resource_share`` (the RAM share's ARN)."""
    published, failed = {}, {}
    for entry in (ssm_run or {}).get("parameters") or []:
        region = entry.get("region")
        if entry.get("failed"):
            failed[region] = "the SSM parameter %s could not be published: %s" % (entry.get("name"), entry.get("msg"))
        else:
            published[region] = {"name": entry.get("name"), "version": entry.get("version"), "changed": bool(entry.get("changed"))}
            if entry.get("resource_share"):
                published[region].update(arn=entry.get("arn"), resource_share=entry["resource_share"].get("arn"))
    if (ssm_run or {}).get("failed") and not failed and not published:
        failed["*"] = "the SSM parameters could not be published: %s" % ssm_run.get("msg")
    return published, failed


def deprecation_outcome(runs):
    """({region: [{image_id, deprecation_time, action, changed}]}, {region: reason}) from ami_deprecation's results."""
    done, failed = {}, {}
    for run in runs or []:
        if not run:
            continue
        for entry in run.get("images") or []:
            region = entry.get("region")
            if entry.get("failed"):
                failed[region] = "the deprecation of %s could not be set: %s" % (entry.get("image_id") or "the family", entry.get("msg"))
            else:
                done.setdefault(region, []).append(dict((k, entry.get(k)) for k in ("image_id", "deprecation_time", "action", "changed")))
        if run.get("failed") and not run.get("images"):
            failed["*"] = "the deprecation could not be set: %s" % run.get("msg")
    return done, failed


def final_result(inputs, targets, info, share_results, failed_regions, ssm=None, deprecations=None):
    """``ami_distribute_result``: {region: {image_id, kms_key_arn, launch_permissions, problems}} (+ failed regions
    as {failed: true, msg}). ``info`` is the final ami_share_info result (None in check mode)."""
    by_image = {}
    for result in share_results or []:
        for entry in (result or {}).get("images") or []:
            if not entry.get("failed"):
                by_image[(entry["image_id"], entry["region"])] = entry
    info_by_image = dict(((i.get("image_id"), i.get("region")), i) for i in (info or {}).get("images") or [])
    out = {}
    for target in targets:
        key = (target["image_id"], target["region"])
        seen = info_by_image.get(key) or {}
        shared = by_image.get(key) or {}
        keys = [k for k in seen.get("kms_keys") or [] if k.get("key_manager") == "CUSTOMER"]
        out[target["region"]] = {
            "image_id": target["image_id"],
            "kms_key_arn": (keys[0].get("kms_key_arn") or keys[0].get("key_arn")) if keys else target.get("kms_key_arn"),
            "launch_permissions": seen.get("launch_permissions") or shared.get("launch_permissions"),
            "problems": seen.get("problems") or [],
        }
        if inputs.get("ssm_parameter") and (ssm or {}).get(target["region"]):
            out[target["region"]]["ssm_parameter"] = ssm[target["region"]]
        if (deprecations or {}).get(target["region"]):
            out[target["region"]]["deprecations"] = deprecations[target["region"]]
    for region, reason in (failed_regions or {}).items():
        out[region] = dict(out.get(region) or {}, failed=True, msg=reason)
    return out


def source_from_info(info):
    """The ``source`` of ami_copy's result, from an ami_share_info result for the source alone."""
    images = (info or {}).get("images") or []
    if not images:
        return {}
    keys = images[0].get("kms_keys") or []
    return {
        "image_id": images[0].get("image_id"),
        "encrypted": bool(keys) or any(s.get("encrypted") for s in images[0].get("snapshots") or []),
        "kms_key_arns": sorted(k.get("kms_key_arn") or k.get("key_arn") for k in keys if k.get("key_manager") == "CUSTOMER"),
    }


def info_failures(info):
    """{region: reason} of the regions the final ami_share_info could not read."""
    out = {}
    for entry in (info or {}).get("failed_regions") or []:
        out[entry.get("region")] = "the final check could not read the region: %s" % entry.get("reason")
    if (info or {}).get("failed") and not out:
        out["*"] = "the final check failed: %s" % info.get("msg")
    return out


def blocking_problems(result, principals=None):
    """The final check's problems that make a launch by one of the run's principals fail.

    ``principals``: the run's principals (bare ids resolved); a key problem about another principal (someone else's
    share of the AMI) is reported in the result but does not fail the run. None: every key problem counts."""
    ours = None
    if principals is not None:
        ours = set(principals.get("organization_arns") or []) | set(principals.get("organizational_unit_arns") or []) | set(
            principals.get("account_ids") or [])
    out = []
    for region in sorted(result):
        for problem in result[region].get("problems") or []:
            if problem.get("code") not in BLOCKING_PROBLEMS:
                continue
            if ours is not None and problem.get("principal") is not None and problem["principal"] not in ours:
                continue
            out.append("%s %s: %s" % (region, result[region].get("image_id"), problem.get("message")))
    return out


def failure_message(failed_regions):
    """The run's failure message naming each failed region and why ('' when none failed)."""
    if not failed_regions:
        return ""
    return "%d region(s) failed (every other region was copied, granted and shared): %s" % (
        len(failed_regions), "; ".join("%s: %s" % (r, failed_regions[r]) for r in sorted(failed_regions))
    )
