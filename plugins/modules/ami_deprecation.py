#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ami_deprecation
version_added: 0.1.0
short_description: Set or cancel the deprecation time of the caller's AMIs, many AMIs in many regions at once, or the previous versions of a family
description:
  - >-
    Sets (C(ec2:EnableImageDeprecation)) or cancels (C(ec2:DisableImageDeprecation)) the deprecation time of AMIs the
    caller owns: one AMI in the module's region (O(image_id)), many AMIs in one or more regions in one call
    (O(images)), or the previous versions of a family of AMIs in each of O(regions) (O(family), O(keep_newest),
    O(exclude_image_ids)).
  - >-
    Once its deprecation time has passed, an AMI no longer appears in other accounts' C(DescribeImages) answers unless
    they name its id or ask for deprecated AMIs, and not in the console's AMI catalog; its owner still sees it, and
    launches by id, launch templates and Auto Scaling groups keep working (EC2 User Guide, "Deprecate an Amazon EC2 AMI").
    To make an AMI unusable, deregister it.
  - >-
    Idempotent: each AMI is read first (C(ec2:DescribeImages)); an AMI already deprecated at the wanted minute (or, with
    O(keep_earlier=true), at an earlier time; or, with O(state=absent), not deprecated) is not written, so a converged
    run makes no write call.
  - >-
    Every option is validated before any AWS call: the time (its form, not in the past, at most 10 years ahead), AMI
    ids (C(ami-) and 8 or 17 hexadecimal digits), regions and the family. A refused one fails the call, naming it (for
    example C(images[1].image_id)) and the expected form, and nothing is read or written.
  - >-
    Only the caller's own AMIs are changed (only the owner can deprecate an AMI): an AMI of another account (shared with
    the caller, or public) is refused before any write, naming its owner. A family is looked for among the caller's own
    AMIs only.
  - >-
    The AMIs are read and written concurrently. An AMI (or, with O(family), a region) that fails does not stop the
    others: the module then fails with a message naming every failed AMI or region and why, and still returns every
    AMI's result in RV(images).
author:
  - orgshare.aws maintainers (@orgshare)
options:
  image_id:
    description:
      - The AMI, in the module's region (O(region)).
      - Exactly one of O(image_id), O(images) and O(family) is required.
    type: str
  images:
    description:
      - Several AMIs, possibly in several regions, for one call; O(deprecate_at), O(keep_earlier) and O(state) apply to
        every one.
      - Exactly one of O(image_id), O(images) and O(family) is required. An AMI may be listed once per region.
    type: list
    elements: dict
    suboptions:
      image_id:
        description:
          - The id of the AMI, in the element's region.
        type: str
        required: true
      region:
        description:
          - The region of the AMI (a name like V(eu-west-1)).
          - Default, the module's region (O(region)).
        type: str
  family:
    description:
      - >-
        A family of AMIs, the versions of one image, found among the caller's own AMIs in each of O(regions)
        (C(DescribeImages) with C(Owners=self)): those whose name starts with O(family.name_prefix) and that have every
        tag of O(family.tags). At least one of the two is required; with both, an AMI must match both.
      - >-
        In each region, the family's AMIs are ordered newest first by C(CreationDate) (then by name and id); the
        O(exclude_image_ids) are left alone and not counted; the O(keep_newest) newest of the rest are left alone;
        every older one is a previous version and gets the deprecation time (or, with O(state=absent), has its
        deprecation cancelled, which undoes a run with the same options).
      - >-
        Disabled AMIs are not looked for (C(DescribeImages) leaves them out by default): nobody can launch or see them,
        they do not count as versions kept, and whether AWS deprecates a disabled AMI is not documented. AMIs in another
        state than C(available) or C(pending) (C(failed), C(error), ...) are listed with RV(images[].action=skipped), left
        alone and not counted (a failed copy is no version to keep). A copy still C(pending) counts as a version.
      - Exactly one of O(image_id), O(images) and O(family) is required.
    type: dict
    suboptions:
      name_prefix:
        description:
          - The beginning of the family's AMI names, for example V(golden-base-) for C(golden-base-2026-12-01). It is sent
            as the filter C(name=PREFIX*), so it cannot contain C(*) or C(?) (no AMI name can).
        type: str
      tags:
        description:
          - >-
            Tags every AMI of the family has, as C({key: value}) (exact values; tags are per account, so these are the
            caller's tags on its AMIs).
        type: dict
        aliases: [tag]
  regions:
    description:
      - With O(family), the regions in which to look for the family, each on its own (O(keep_newest) counts per region).
      - Default, the module's region (O(region)). Only with O(family).
    type: list
    elements: str
  keep_newest:
    description:
      - With O(family), how many of the newest AMIs of the family in each region (O(exclude_image_ids) left aside) are
        left alone. V(0) deprecates every AMI of the family but the excluded ones.
      - Default V(1) with O(family) (the newest version stays, or, when the newest one is excluded, the one before it).
        Only with O(family).
    type: int
  exclude_image_ids:
    description:
      - With O(family), AMIs that are never changed and not counted by O(keep_newest), for example the AMIs a
        distribution has just made or shared in each region. Ids of AMIs that are not in the family are ignored.
      - Only with O(family).
    type: list
    elements: str
  deprecate_at:
    description:
      - >-
        When the AMIs are deprecated: an ISO 8601 date and time with its time zone (V(2026-12-31T00:00:00Z),
        V(2026-12-31T02:00:00+02:00)); a date (V(2026-12-31), midnight UTC); a time from the module's run, V(+N) and a
        unit, V(m) minutes, V(h) hours or V(d) days (V(+30d), V(+12h), V(+90m)); or V(now).
      - >-
        The time is rounded to the nearest minute, as EC2 stores it (30 seconds round up), and must then be later than
        the module's time and at most 10 years ahead (AWS's limits); for a public AMI, at most 2 years after its
        creation. V(now) is the first whole minute at least 60 seconds ahead (a time at the moment of the call could be
        in the past by the time AWS gets it), so the AMIs are deprecated within two minutes.
      - >-
        A time from now (and V(now)) is another time on each run: with O(keep_earlier=true) a re-run changes nothing (the
        time set first is earlier), with O(keep_earlier=false) each run moves the AMIs' time; give an absolute time there.
      - Required with O(state=present); not used with O(state=absent).
    type: str
  keep_earlier:
    description:
      - >-
        V(true): an AMI already deprecated at a time earlier than O(deprecate_at) (also one in the past: deprecated
        already) keeps its time, so that a run never postpones a deprecation someone set sooner; a later time, or none,
        becomes O(deprecate_at).
      - >-
        V(false): every AMI gets exactly O(deprecate_at), also when that postpones its deprecation (an AMI deprecated in
        the past becomes not deprecated until then). AWS does not postpone a public AMI's deprecation: such an AMI is
        refused before any write.
    type: bool
    default: true
  state:
    description:
      - V(present) sets the deprecation time.
      - >-
        V(absent) cancels the deprecation (C(ec2:DisableImageDeprecation)): the AMI then has no deprecation time, and
        other accounts list it again. An AMI without one is left as it is. AWS cancels a public AMI's deprecation only
        once the AMI is private, so a public AMI with a deprecation time is refused before any write.
    type: str
    choices: [present, absent]
    default: present
notes:
  - >-
    Check mode is supported: nothing is written, and the result predicts the run (RV(images[].changed),
    RV(images[].action) and RV(images[].deprecation_time)). Diff mode shows each changed AMI's C(deprecation_time)
    before and after (with O(images) or O(family), a list of diffs, one per changed AMI, each headed with its id and
    region).
  - >-
    The module is idempotent; a second run with the same options (and an absolute O(deprecate_at), or
    O(keep_earlier=true)) reports no change and makes no write.
  - >-
    IAM permissions: the module calls C(ec2:DescribeImages); C(sts:GetCallerIdentity) with O(image_id) or O(images)
    (to tell the caller's own AMIs from others'); C(ec2:EnableImageDeprecation) with O(state=present), and
    C(ec2:DisableImageDeprecation) with O(state=absent), for the AMIs that change.
  - >-
    Public AMIs: "By default, the deprecation date of all public AMIs is set to two years from the AMI creation date. You
    can set the deprecation date to earlier than two years. To cancel the deprecation date, or to move the deprecation to
    a later date, you must make the AMI private" (EC2 User Guide, "Deprecate an Amazon EC2 AMI"). The module refuses, before
    any write, what that forbids; AWS's own error for it is not documented.
  - >-
    Unverified: the way AWS rounds exactly 30 seconds; whether AWS counts its limits in calendar years (the module does,
    which is never more than a count in days); whether AWS deprecates a disabled AMI named in O(images) (the module
    tries, and reports AWS's answer).
seealso:
  - name: Deprecate an Amazon EC2 AMI
    description: What deprecation does, who sees a deprecated AMI, and the limits for public AMIs.
    link: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ami-deprecate.html
  - name: EnableImageDeprecation
    description: The API, and the limits of DeprecateAt.
    link: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_EnableImageDeprecation.html
  - name: DisableImageDeprecation
    description: The API that cancels a deprecation.
    link: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DisableImageDeprecation.html
  - module: orgshare.aws.ami_share_info
    description: Reports deprecated AMIs and their deprecation times.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Deprecate one AMI at the end of the year
  orgshare.aws.ami_deprecation:
    region: eu-west-1
    image_id: ami-0123456789abcdef0
    deprecate_at: "2026-12-31T00:00:00Z"

- name: Deprecate each region's copy of an old version in 30 days, in one call
  orgshare.aws.ami_deprecation:
    images:
      - {image_id: ami-0123456789abcdef0, region: us-east-1}
      - {image_id: ami-0fedcba9876543210, region: eu-west-1}
    deprecate_at: +30d

- name: After a distribution, deprecate the previous versions of the family in 14 days (the new AMIs and the one before stay)
  orgshare.aws.ami_deprecation:
    family:
      name_prefix: golden-base-
    regions: [us-east-1, eu-west-1]
    exclude_image_ids: "{{ distributed.images | map(attribute='image_id') | list }}"
    keep_newest: 1
    deprecate_at: +14d
  register: retired

- name: Show what was deprecated
  ansible.builtin.debug:
    msg: "{{ retired.images | selectattr('action', 'equalto', 'deprecate') | map(attribute='image_id') | list }}"

- name: Deprecate every AMI tagged image=golden but the newest one in this region, at once
  orgshare.aws.ami_deprecation:
    family:
      tags:
        image: golden
    deprecate_at: now

- name: Set exactly this time, also where someone set an earlier one
  orgshare.aws.ami_deprecation:
    image_id: ami-0123456789abcdef0
    deprecate_at: "2027-06-30"
    keep_earlier: false

- name: Cancel the deprecation of an AMI
  orgshare.aws.ami_deprecation:
    image_id: ami-0123456789abcdef0
    state: absent
"""

RETURN = r"""
changed:
  description: Whether any AMI's deprecation changed; predicted in check mode.
  returned: always
  type: bool
  sample: true
deprecate_at:
  description: The deprecation time asked for, as EC2 stores it (rounded to the minute); null with O(state=absent).
  returned: always
  type: str
  sample: "2026-12-31T00:00:00.000Z"
image_id:
  description: The AMI's id.
  returned: with O(image_id)
  type: str
  sample: ami-0123456789abcdef0
region:
  description: The AMI's region.
  returned: with O(image_id)
  type: str
  sample: eu-west-1
name:
  description: The AMI's name.
  returned: with O(image_id), success
  type: str
  sample: golden-base-2026-12-01
creation_date:
  description: The AMI's C(CreationDate).
  returned: with O(image_id), success
  type: str
  sample: "2026-12-01T10:15:00.000Z"
deprecation_time:
  description: The AMI's deprecation time after the run (predicted in check mode), as C(DescribeImages) shows it; null for none.
  returned: with O(image_id), success
  type: str
  sample: "2026-12-31T00:00:00.000Z"
deprecation_time_before:
  description: The AMI's deprecation time before the run; null for none.
  returned: with O(image_id), success
  type: str
  sample: null
action:
  description:
    - What was done, or would be done in check mode. V(deprecate) the deprecation time was set; V(cancel) the deprecation
      was cancelled; V(unchanged) it already was as asked; V(kept_earlier) the AMI keeps its earlier deprecation time
      (O(keep_earlier)); with O(family), V(kept_newest) one of the O(keep_newest) newest, V(excluded) listed in
      O(exclude_image_ids), V(skipped) in another state than C(available) or C(pending).
  returned: with O(image_id), success
  type: str
  choices: [deprecate, cancel, unchanged, kept_earlier, kept_newest, excluded, skipped]
  sample: deprecate
diff:
  description:
    - The AMI's C(deprecation_time) before and after.
    - With O(images) or O(family), a list of these, one per AMI that changes, each also with C(before_header) and
      C(after_header) naming the AMI and its region (so that C(ansible-playbook --diff) shows every change).
  returned: in diff mode
  type: raw
  sample: {"before": {"deprecation_time": null}, "after": {"deprecation_time": "2026-12-31T00:00:00.000Z"}}
images:
  description:
    - With O(images), one entry per element, in their order. With O(family), one entry per AMI of the family found,
      region by region in the order of O(regions), newest first.
    - Also returned when the module fails because some AMIs or regions failed; a failed AMI's entry has
      RV(images[].image_id), RV(images[].region), RV(images[].failed), RV(images[].error_kind) and RV(images[].msg). A
      region in which the family could not be looked for has an entry with RV(images[].image_id) null.
  returned: with O(images) or O(family)
  type: list
  elements: dict
  contains:
    image_id:
      description: The AMI's id; null for a region in which the family could not be looked for.
      returned: always
      type: str
      sample: ami-0123456789abcdef0
    region:
      description: The AMI's region.
      returned: always
      type: str
      sample: eu-west-1
    name:
      description: As RV(name), for this AMI.
      returned: success
      type: str
      sample: golden-base-2026-11-01
    creation_date:
      description: As RV(creation_date), for this AMI.
      returned: success
      type: str
      sample: "2026-11-01T10:15:00.000Z"
    deprecation_time:
      description: As RV(deprecation_time), for this AMI.
      returned: success
      type: str
      sample: "2026-12-31T00:00:00.000Z"
    deprecation_time_before:
      description: As RV(deprecation_time_before), for this AMI.
      returned: success
      type: str
      sample: null
    action:
      description: As RV(action), for this AMI.
      returned: success
      type: str
      sample: deprecate
    changed:
      description: Whether this AMI's deprecation changed (predicted in check mode).
      returned: success
      type: bool
      sample: true
    diff:
      description: As RV(diff), for this AMI.
      returned: success, in diff mode
      type: dict
    failed:
      description: True when this AMI (or region) could not be read, checked or written.
      returned: failure
      type: bool
      sample: true
    error_kind:
      description:
        - V(refused) when the AMI cannot be changed as asked (not found in the region, another account's, a public AMI's
          limits), V(aws_error) when an AWS call failed (access denied, throttling past the retries, AWS refused the
          time, ...).
      returned: failure
      type: str
      choices: [refused, aws_error]
      sample: refused
    msg:
      description: Why this AMI (or region) failed.
      returned: failure
      type: str
      sample: "owned by account 111122223333, not by the caller's account 123456789012: only its owner can ..."
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.orgshare.aws.plugins.module_utils import _api
from ansible_collections.orgshare.aws.plugins.module_utils import _deprecation
from ansible_collections.orgshare.aws.plugins.module_utils import _ec2
from ansible_collections.orgshare.aws.plugins.module_utils import _targets
from ansible_collections.orgshare.aws.plugins.module_utils._clients import client_factory
from ansible_collections.orgshare.aws.plugins.module_utils._deprecation import DeprecationError
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareInputError

IMAGES_OPTION = "images"
TARGET_KEYS = ("image_id", "region")
AMI_FORM = _ec2.AMI_FORM
FAMILY_ONLY = ("regions", "keep_newest", "exclude_image_ids")
DEFAULT_KEEP_NEWEST = 1
CHANGES = ("deprecate", "cancel")
FAMILY_LABEL = "the AMIs of the family"

# The module reads the time through this name (tests put a clock of their own here).
NOW = _deprecation.utc_now


# ---- input ----------------------------------------------------------------------------------------


def _check_image_id(value, option):
    if not isinstance(value, str) or not _ec2.is_image_id(value.strip()):
        raise _targets.TargetError("%s: %r is not an AMI id; %s" % (option, value, AMI_FORM))
    return value.strip()


def _check_region(region, option):
    if not region:
        raise _targets.TargetError("%s: no region given (set the region option, or AWS_REGION)" % option)
    problem = _targets.region_problem(region, option)
    if problem:
        raise _targets.TargetError(problem)
    return region


def parse_settings(params, now):
    """state, the wanted minute (None with state=absent) and keep_earlier, checked before any AWS call."""
    state = params["state"]
    wanted = None
    if state == "present":
        if params.get("deprecate_at") in (None, ""):
            raise DeprecationError("deprecate_at: required with state=present; %s" % _deprecation.FORMS)
        wanted = _deprecation.wanted_time(params["deprecate_at"], now)
    return dict(state=state, wanted=wanted, keep_earlier=params["keep_earlier"])


def parse_single(params, region):
    region = _check_region(region, "region")
    image_id = _check_image_id(params["image_id"], "image_id")
    return [dict(image_id=image_id, region=region, label=image_id, image=None, reason=None)]


def parse_images(items, default_region):
    targets = _targets.parse_targets(items, IMAGES_OPTION, "image_id", TARGET_KEYS, default_region, _check_image_id)
    for target in targets:
        target.update(label=target["image_id"], image=None, reason=None)
    return targets


def parse_family(params, default_region):
    """The family's search (name_prefix, tags, regions, keep_newest, exclude), checked before any AWS call."""
    keep_newest = params.get("keep_newest")
    return _deprecation.parse_family_search(params, default_region, DEFAULT_KEEP_NEWEST if keep_newest is None else keep_newest)


def refuse_family_only(params):
    given = [name for name in FAMILY_ONLY if params.get(name) is not None]
    if given:
        raise _targets.TargetError(
            "%s: only with family (with image_id or images, every AMI listed is acted on, each in its own region)" % ", ".join(given)
        )


# ---- one region's family --------------------------------------------------------------------------


def search_family(ec2, region, family):
    """The family's AMIs in the region, newest first, each as a target with the reason it is left alone (or None)."""
    filters = _deprecation.family_filters(family["name_prefix"], family["tags"])
    found = _api.describe_images(ec2, "the AMIs of the family", Owners=["self"], Filters=filters)
    members = [image for image in found if _deprecation.in_family(image, family["name_prefix"], family["tags"])]
    return [dict(image_id=image["ImageId"], region=region, label=image["ImageId"], image=image, reason=reason)
            for image, reason in _deprecation.choose_previous(members, family["keep_newest"], family["exclude"])]


# ---- one AMI --------------------------------------------------------------------------------------


def read_own_image(ec2, target, account):
    """The AMI as DescribeImages gives it (disabled ones too); DeprecationError when it is missing or another account's."""
    image = _api.get_image(ec2, target["image_id"], include_disabled=True)
    if image is None:
        raise DeprecationError("not found in %s (AMIs are regional: give the AMI's own region)" % target["region"])
    if image.get("OwnerId") != account:
        raise DeprecationError(
            "owned by account %s, not by the caller's account %s: only its owner can set or cancel its deprecation; "
            "nothing was changed" % (image.get("OwnerId"), account)
        )
    return image


def converge(ec2, target, settings, account, check_mode, diff):
    """Read (unless the family search did), plan and, unless in check mode, write one AMI: its result entry."""
    image = target["image"]
    if image is None:
        image = read_own_image(ec2, target, account)
        target["image"] = image
    before = image.get("DeprecationTime")
    if target["reason"] is not None:
        action, after = target["reason"], before
    elif settings["state"] == "present":
        action, after = _deprecation.plan_present(image, settings["wanted"], settings["keep_earlier"])
    else:
        action, after = _deprecation.plan_absent(image)
    changed = action in CHANGES
    if changed and not check_mode:
        if action == "deprecate":
            _api.enable_image_deprecation(ec2, target["image_id"], settings["wanted"])
        else:
            _api.disable_image_deprecation(ec2, target["image_id"])
    result = dict(image_id=target["image_id"], region=target["region"], name=image.get("Name"),
                  creation_date=image.get("CreationDate"), deprecation_time=after, deprecation_time_before=before,
                  action=action, changed=changed)
    if diff:
        result["diff"] = dict(before=dict(deprecation_time=before), after=dict(deprecation_time=after))
    return result


def failed_entry(target, message):
    return dict(image_id=target.get("image_id"), region=target["region"], failed=True, msg=message)


# ---- the run --------------------------------------------------------------------------------------


def run(module, settings, targets=None, family=None):
    """Every AMI (of ``targets``, or found by ``family``), concurrently: ((entries, changed, msg), outcomes)."""
    regions = family["regions"] if family is not None else sorted(set(t["region"] for t in targets))
    # Every client in this thread, from one boto3 session (sessions are not thread-safe; their clients are).
    clients = client_factory(module)
    ec2 = clients.clients("ec2", regions)
    account = None
    if family is None:
        home = module.region or targets[0]["region"]
        account = _api.caller_account_id(clients.client("sts", home))

    if family is not None:
        searches = _targets.run_targets(
            lambda t: search_family(ec2[t["region"]], t["region"], family),
            [dict(image_id=None, region=r, label=FAMILY_LABEL) for r in regions],
        )
        targets = [t for s in searches if s.error is None for t in s.result]

    done = iter(_targets.run_targets(
        lambda t: converge(ec2[t["region"]], t, settings, account, module.check_mode, module._diff), targets
    ))
    if family is None:
        outcomes = list(done)
    else:  # region by region, a failed search in its region's place
        outcomes = []
        for search in searches:
            if search.error is not None:
                outcomes.append(search)
            else:
                outcomes.extend(next(done) for _target in search.result)
    return _targets.summarise(outcomes, "label", failed_entry), outcomes


def main():
    argument_spec = dict(
        image_id=dict(type="str"),
        images=dict(
            type="list",
            elements="dict",
            options=dict(
                image_id=dict(type="str", required=True),
                region=dict(type="str"),
            ),
        ),
        family=dict(
            type="dict",
            options=dict(
                name_prefix=dict(type="str"),
                tags=dict(type="dict", aliases=["tag"]),
            ),
        ),
        regions=dict(type="list", elements="str"),
        keep_newest=dict(type="int"),
        exclude_image_ids=dict(type="list", elements="str"),
        deprecate_at=dict(type="str"),
        keep_earlier=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        mutually_exclusive=[["image_id", IMAGES_OPTION, "family"]],
        required_one_of=[["image_id", IMAGES_OPTION, "family"]],
        supports_check_mode=True,
    )
    params = module.params
    many = params["image_id"] is None
    try:
        settings = parse_settings(params, NOW())
        family = targets = None
        if params["family"] is not None:
            family = parse_family(params, module.region)
        else:
            refuse_family_only(params)
            if params[IMAGES_OPTION] is not None:
                targets = parse_images(params[IMAGES_OPTION], module.region)
            else:
                targets = parse_single(params, module.region)
        (entries, changed, msg), outcomes = run(module, settings, targets=targets, family=family)
    except OrgShareInputError as e:  # TargetError, DeprecationError: refused input
        module.fail_json(msg=str(e))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)

    deprecate_at = _deprecation.show(settings["wanted"])
    if many:
        extra = {"diff": _targets.combined_diff(entries, "image_id")} if module._diff else {}  # shown by ansible-playbook --diff
        if msg:
            module.fail_json(msg=msg, changed=changed, deprecate_at=deprecate_at, images=entries, **extra)
        module.exit_json(changed=changed, deprecate_at=deprecate_at, images=entries, **extra)

    (result,) = entries
    if result.get("failed"):
        (outcome,) = outcomes
        if isinstance(outcome.error, AnsibleAWSError):
            module.fail_json_aws_error(outcome.error)
        result = dict(result, msg="AMI %s in %s: %s" % (result["image_id"], result["region"], result["msg"]))
        result.pop("failed")
        module.fail_json(deprecate_at=deprecate_at, **result)
    module.exit_json(deprecate_at=deprecate_at, **result)


if __name__ == "__main__":
    main()
