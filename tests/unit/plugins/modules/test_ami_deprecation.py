"""ami_deprecation end to end against the emulator: deprecation times set in several regions and read back through
boto3 (DeprecationTime), the time forms, a converged re-run without writes, check mode, diff mode, every refused input
before any AWS call, keep_earlier, state=absent, families with keep_newest and exclude_image_ids per region (creation
dates set in moto's backend), another account's AMI refused, public AMIs' limits, one broken region, and the documented
IAM actions.

The module's clock and the emulator's are one fixed time (NOW); expected times are written out literally from it and
from the inputs."""

import datetime
import re

import pytest
import yaml

from orgshare_emulator import ec2 as emulator_ec2
from orgshare_emulator.fixtures import credentials_for, make_image

MODULE = "ami_deprecation"
US, EU, OR = "us-east-1", "eu-west-1", "us-west-2"
OTHER = "111122223333"
NOW = datetime.datetime(2026, 6, 15, 10, 0, 20, tzinfo=datetime.timezone.utc)
AMI_FORM = "expected the form ami-0123456789abcdef0"


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The module and the emulator read NOW."""
    from ansible_collections.orgshare.aws.plugins.modules import ami_deprecation as module

    monkeypatch.setattr(module, "NOW", lambda: NOW)
    monkeypatch.setattr(emulator_ec2, "_now", lambda: NOW)


def image(aws, region=US, name="golden", created=None, tags=None):
    image_id = make_image(aws.client("ec2", region), name, tags=tags)
    if created is not None:
        set_created(aws, region, image_id, created)
    return image_id


def set_created(aws, region, image_id, created, account=None):
    """CreationDate, through moto's backend (moto keeps a naive UTC datetime)."""
    from moto.ec2.models import ec2_backends

    ec2_backends[account or aws.account_id][region].amis[image_id].creation_date = datetime.datetime.strptime(created, "%Y-%m-%dT%H:%M:%S")


def deprecation(aws, image_id, region=US, client=None):
    """The AMI's DeprecationTime as boto3 reads it (None for none)."""
    ec2 = client or aws.client("ec2", region)
    (found,) = ec2.describe_images(ImageIds=[image_id], IncludeDisabled=True)["Images"]
    return found.get("DeprecationTime")


def actions_called(aws, action):
    return [(c["action"], c["region"]) for c in aws.emulator.calls if c["action"] == action]


def summary(result):
    return [(e["image_id"], e["region"], e["action"], e["deprecation_time"]) for e in result["images"]]


# ---- setting times --------------------------------------------------------------------------------


def test_sets_the_time_in_several_regions_and_a_rerun_writes_nothing(aws, run_module):
    us, eu = image(aws, US), image(aws, EU)
    args = {"images": [{"image_id": us}, {"image_id": eu, "region": EU}], "deprecate_at": "2026-12-31T00:00:00Z"}
    result = run_module(MODULE, args)
    assert not result.failed, result.msg
    assert result["changed"] is True
    assert result["deprecate_at"] == "2026-12-31T00:00:00.000Z"
    assert summary(result) == [(us, US, "deprecate", "2026-12-31T00:00:00.000Z"), (eu, EU, "deprecate", "2026-12-31T00:00:00.000Z")]
    assert [(e["changed"], e["deprecation_time_before"], e["name"]) for e in result["images"]] == [(True, None, "golden")] * 2
    assert deprecation(aws, us, US) == "2026-12-31T00:00:00.000Z"
    assert deprecation(aws, eu, EU) == "2026-12-31T00:00:00.000Z"

    aws.emulator.clear_calls()
    again = run_module(MODULE, args)
    assert not again.failed, again.msg
    assert again["changed"] is False
    assert [(e["action"], e["changed"], e["deprecation_time_before"]) for e in again["images"]] == [
        ("unchanged", False, "2026-12-31T00:00:00.000Z")] * 2
    assert aws.write_calls() == []


@pytest.mark.parametrize("given, stored", [
    ("2026-12-31T10:20:40Z", "2026-12-31T10:21:00.000Z"),  # seconds rounded to the nearest minute
    ("2026-12-31T10:20:29Z", "2026-12-31T10:20:00.000Z"),
    ("2026-12-31T02:00:00+02:00", "2026-12-31T00:00:00.000Z"),
    ("2026-12-31 00:00:00+00:00", "2026-12-31T00:00:00.000Z"),  # a YAML timestamp as Ansible turns it into a string
    ("2026-12-31", "2026-12-31T00:00:00.000Z"),
    ("+30d", "2026-07-15T10:00:00.000Z"),  # NOW is 2026-06-15T10:00:20Z
    ("+12h", "2026-06-15T22:00:00.000Z"),
    ("+90m", "2026-06-15T11:30:00.000Z"),
    ("now", "2026-06-15T10:02:00.000Z"),  # the first whole minute at least 60 s ahead
])
def test_time_forms(aws, run_module, given, stored):
    ami = image(aws)
    result = run_module(MODULE, {"image_id": ami, "deprecate_at": given})
    assert not result.failed, result.msg
    assert (result["image_id"], result["region"], result["action"], result["changed"]) == (ami, US, "deprecate", True)
    assert result["deprecation_time"] == result["deprecate_at"] == stored
    assert deprecation(aws, ami) == stored


def test_the_same_minute_is_not_written_again(aws, run_module):
    ami = image(aws)
    aws.client("ec2").enable_image_deprecation(ImageId=ami, DeprecateAt="2026-12-31T00:00:00Z")
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"image_id": ami, "deprecate_at": "2026-12-31T00:00:20Z", "keep_earlier": False})
    assert (result["action"], result["changed"], result["deprecation_time"]) == ("unchanged", False, "2026-12-31T00:00:00.000Z")
    assert aws.write_calls() == []


def test_check_mode_predicts_and_writes_nothing(aws, run_module):
    us, eu = image(aws, US), image(aws, EU)
    aws.client("ec2", EU).enable_image_deprecation(ImageId=eu, DeprecateAt="2027-03-01T00:00:00Z")
    args = {"images": [{"image_id": us}, {"image_id": eu, "region": EU}], "deprecate_at": "2026-12-31T00:00:00Z"}
    aws.emulator.clear_calls()
    predicted = run_module(MODULE, args, check_mode=True, diff=True)
    assert not predicted.failed, predicted.msg
    assert aws.write_calls() == []
    assert deprecation(aws, us, US) is None
    assert deprecation(aws, eu, EU) == "2027-03-01T00:00:00.000Z"
    assert predicted["changed"] is True
    assert summary(predicted) == [(us, US, "deprecate", "2026-12-31T00:00:00.000Z"), (eu, EU, "deprecate", "2026-12-31T00:00:00.000Z")]
    assert predicted["diff"] == [
        {"before": {"deprecation_time": None}, "after": {"deprecation_time": "2026-12-31T00:00:00.000Z"},
         "before_header": "%s in %s (before)" % (us, US), "after_header": "%s in %s (after)" % (us, US)},
        {"before": {"deprecation_time": "2027-03-01T00:00:00.000Z"}, "after": {"deprecation_time": "2026-12-31T00:00:00.000Z"},
         "before_header": "%s in %s (before)" % (eu, EU), "after_header": "%s in %s (after)" % (eu, EU)},
    ]
    applied = run_module(MODULE, args, diff=True)
    assert summary(applied) == summary(predicted)
    assert applied["diff"] == predicted["diff"]
    assert deprecation(aws, us, US) == deprecation(aws, eu, EU) == "2026-12-31T00:00:00.000Z"


def test_single_image_diff(aws, run_module):
    ami = image(aws)
    result = run_module(MODULE, {"image_id": ami, "deprecate_at": "2026-12-31"}, diff=True)
    assert result["diff"] == {"before": {"deprecation_time": None}, "after": {"deprecation_time": "2026-12-31T00:00:00.000Z"}}


# ---- keep_earlier -----------------------------------------------------------------------------------


def test_keep_earlier_never_postpones_and_false_sets_exactly(aws, run_module):
    earlier, later, none = image(aws, name="golden-a"), image(aws, name="golden-b"), image(aws, name="golden-c")
    ec2 = aws.client("ec2")
    ec2.enable_image_deprecation(ImageId=earlier, DeprecateAt="2026-09-01T00:00:00Z")
    ec2.enable_image_deprecation(ImageId=later, DeprecateAt="2027-06-30T00:00:00Z")
    args = {"images": [{"image_id": i} for i in (earlier, later, none)], "deprecate_at": "2026-12-31T00:00:00Z"}

    result = run_module(MODULE, args)  # keep_earlier: true, the default
    assert not result.failed, result.msg
    assert summary(result) == [
        (earlier, US, "kept_earlier", "2026-09-01T00:00:00.000Z"),
        (later, US, "deprecate", "2026-12-31T00:00:00.000Z"),
        (none, US, "deprecate", "2026-12-31T00:00:00.000Z"),
    ]
    assert [deprecation(aws, i) for i in (earlier, later, none)] == [
        "2026-09-01T00:00:00.000Z", "2026-12-31T00:00:00.000Z", "2026-12-31T00:00:00.000Z"]

    exact = run_module(MODULE, dict(args, keep_earlier=False))
    assert [(e["action"], e["changed"]) for e in exact["images"]] == [("deprecate", True), ("unchanged", False), ("unchanged", False)]
    assert [deprecation(aws, i) for i in (earlier, later, none)] == ["2026-12-31T00:00:00.000Z"] * 3


def test_keep_earlier_keeps_a_deprecation_in_the_past(aws, run_module, monkeypatch):
    ami = image(aws)
    aws.client("ec2").enable_image_deprecation(ImageId=ami, DeprecateAt="2026-06-20T00:00:00Z")
    later = datetime.datetime(2026, 7, 1, tzinfo=datetime.timezone.utc)  # the AMI is deprecated since 2026-06-20
    from ansible_collections.orgshare.aws.plugins.modules import ami_deprecation as module

    monkeypatch.setattr(module, "NOW", lambda: later)
    monkeypatch.setattr(emulator_ec2, "_now", lambda: later)
    result = run_module(MODULE, {"image_id": ami, "deprecate_at": "now"})
    assert (result["action"], result["changed"], result["deprecation_time"]) == ("kept_earlier", False, "2026-06-20T00:00:00.000Z")
    undone = run_module(MODULE, {"image_id": ami, "deprecate_at": "+1d", "keep_earlier": False})
    assert (undone["action"], undone["deprecation_time"]) == ("deprecate", "2026-07-02T00:00:00.000Z")
    assert deprecation(aws, ami) == "2026-07-02T00:00:00.000Z"


# ---- state=absent -----------------------------------------------------------------------------------


def test_absent_cancels_and_a_rerun_writes_nothing(aws, run_module):
    deprecated, plain = image(aws, name="golden-a"), image(aws, name="golden-b")
    aws.client("ec2").enable_image_deprecation(ImageId=deprecated, DeprecateAt="2026-12-31T00:00:00Z")
    args = {"images": [{"image_id": deprecated}, {"image_id": plain}], "state": "absent"}
    aws.emulator.clear_calls()
    predicted = run_module(MODULE, args, check_mode=True)
    assert aws.write_calls() == []
    assert deprecation(aws, deprecated) == "2026-12-31T00:00:00.000Z"
    result = run_module(MODULE, args)
    assert not result.failed, result.msg
    assert summary(result) == summary(predicted) == [(deprecated, US, "cancel", None), (plain, US, "unchanged", None)]
    assert result["deprecate_at"] is None
    assert result["images"][0]["deprecation_time_before"] == "2026-12-31T00:00:00.000Z"
    assert deprecation(aws, deprecated) is None
    aws.emulator.clear_calls()
    again = run_module(MODULE, args)
    assert again["changed"] is False
    assert aws.write_calls() == []


# ---- refused input ----------------------------------------------------------------------------------

BAD_INPUT = [
    ({"deprecate_at": "2020-01-01T00:00:00Z"},
     "deprecate_at: '2020-01-01T00:00:00Z' is in the past (it is 2026-06-15T10:00:20.000Z now); AWS refuses a deprecation "
     "time in the past: give a later time, or 'now' to deprecate at once"),
    ({"deprecate_at": "2026-06-15T10:00:00Z"}, "deprecate_at: '2026-06-15T10:00:00Z' is in the past"),
    ({"deprecate_at": "2036-06-15T10:01:00Z"},
     "deprecate_at: '2036-06-15T10:01:00Z' is more than 10 years from now; AWS allows at most 2036-06-15T10:00:20.000Z"),
    ({"deprecate_at": "+3700d"}, "deprecate_at: '+3700d' is more than 10 years from now"),
    ({"deprecate_at": "tomorrow"}, "deprecate_at: 'tomorrow' is not a time; expected an ISO 8601 time with its time zone like '2026-12-31T00:00:00Z'"),
    ({"deprecate_at": "2026-12-31T00:00:00"}, "deprecate_at: '2026-12-31T00:00:00': no time zone: add Z for UTC"),
    ({"deprecate_at": "2026-02-30"}, "deprecate_at: '2026-02-30': not a real date and time"),
    ({"deprecate_at": "+0d"}, "deprecate_at: '+0d': a time from now is at least +1d (or 'now')"),
    ({"deprecate_at": "+3w"}, "deprecate_at: '+3w' is not a time; expected"),
    ({"deprecate_at": None}, "deprecate_at: required with state=present"),
    ({"images": [{"image_id": "ami-0123456789abcdef0"}, {"image_id": "ami-xyz"}]},
     "images[1].image_id: 'ami-xyz' is not an AMI id; " + AMI_FORM),
    ({"images": [{"image_id": "ami-0123456789abcdef0", "region": "Europe"}]},
     "images[0].region: 'Europe' is not a region name; expected a name like 'eu-west-1'"),
    ({"images": [{"image_id": "ami-0123456789abcdef0"}, {"image_id": "ami-0123456789abcdef0", "region": US}]},
     "images[1]: ami-0123456789abcdef0 in us-east-1 is listed more than once"),
    ({"image_id": "ami-12"}, "image_id: 'ami-12' is not an AMI id; " + AMI_FORM),
    ({"image_id": "ami-0123456789abcdef0", "family": {"name_prefix": "golden-"}}, "mutually exclusive: image_id|images|family"),
    ({"image_id": "ami-0123456789abcdef0", "regions": [EU]}, "regions: only with family"),
    ({"image_id": "ami-0123456789abcdef0", "keep_newest": 2}, "keep_newest: only with family"),
    ({"family": {"name_prefix": "golden-*"}}, "family.name_prefix: 'golden-*': AMI names cannot contain * or ?"),
    ({"family": {}}, "family: give name_prefix, tags, or both"),
    ({"family": {"tags": {"image": ["a"]}}}, "family.tags.image: ['a'] is not a tag value; give a string"),
    ({"family": {"name_prefix": "golden-"}, "regions": [US, "moon"]}, "regions[1]: 'moon' is not a region name"),
    ({"family": {"name_prefix": "golden-"}, "regions": [US, US]}, "regions[1]: us-east-1 is listed more than once"),
    ({"family": {"name_prefix": "golden-"}, "keep_newest": -1}, "keep_newest: -1; give a number of AMIs, 0 or more"),
    ({"family": {"name_prefix": "golden-"}, "exclude_image_ids": ["golden-1"]},
     "exclude_image_ids[0]: 'golden-1' is not an AMI id; " + AMI_FORM),
]


@pytest.mark.parametrize("args, message", BAD_INPUT)
def test_bad_input_fails_before_any_call(aws, run_module, args, message):
    full = {"image_id": "ami-0123456789abcdef0", "deprecate_at": "2026-12-31T00:00:00Z"}
    if "images" in args or "family" in args:
        full.pop("image_id")
    full.update(args)
    full = dict((k, v) for k, v in full.items() if v is not None)
    aws.emulator.clear_calls()
    result = run_module(MODULE, full)
    assert result.failed
    assert message in result.msg, result.msg
    assert aws.emulator.calls == []


# ---- families ---------------------------------------------------------------------------------------


def make_family(aws, region, created_by_name):
    """{name: image id} of AMIs named golden-N with the given creation dates."""
    return dict((name, image(aws, region, name, created=created)) for name, created in created_by_name.items())


def test_family_deprecates_exactly_the_older_ones_in_each_region(aws, run_module):
    us = make_family(aws, US, {"golden-1": "2026-01-01T00:00:00", "golden-2": "2026-02-01T00:00:00",
                               "golden-3": "2026-03-01T00:00:00", "golden-4": "2026-04-01T00:00:00"})
    # in eu-west-1 the creation dates do not follow the names
    eu = make_family(aws, EU, {"golden-1": "2026-04-01T00:00:00", "golden-2": "2026-02-01T00:00:00",
                               "golden-3": "2026-03-01T00:00:00", "golden-4": "2026-01-01T00:00:00"})
    other = image(aws, US, "silver-1", created="2025-01-01T00:00:00")
    # another account's AMI of the same name prefix, shared with the caller: not the caller's family
    access_key, secret_key = credentials_for(aws.emulator, OTHER)
    theirs = aws.client("ec2", US, access_key=access_key, secret_key=secret_key)
    foreign = make_image(theirs, "golden-0")
    set_created(aws, US, foreign, "2025-06-01T00:00:00", account=OTHER)
    theirs.modify_image_attribute(ImageId=foreign, Attribute="launchPermission", LaunchPermission={"Add": [{"UserId": aws.account_id}]})
    args = {"family": {"name_prefix": "golden-"}, "regions": [US, EU], "keep_newest": 2, "deprecate_at": "2026-12-31T00:00:00Z"}
    result = run_module(MODULE, args)
    assert not result.failed, result.msg
    at = "2026-12-31T00:00:00.000Z"
    assert summary(result) == [
        (us["golden-4"], US, "kept_newest", None), (us["golden-3"], US, "kept_newest", None),
        (us["golden-2"], US, "deprecate", at), (us["golden-1"], US, "deprecate", at),
        (eu["golden-1"], EU, "kept_newest", None), (eu["golden-3"], EU, "kept_newest", None),
        (eu["golden-2"], EU, "deprecate", at), (eu["golden-4"], EU, "deprecate", at),
    ]
    assert [e["creation_date"] for e in result["images"][:4]] == [
        "2026-04-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z"]
    assert dict((n, deprecation(aws, i, US)) for n, i in us.items()) == {"golden-1": at, "golden-2": at, "golden-3": None, "golden-4": None}
    assert dict((n, deprecation(aws, i, EU)) for n, i in eu.items()) == {"golden-1": None, "golden-2": at, "golden-3": None, "golden-4": at}
    assert deprecation(aws, other, US) is None
    assert deprecation(aws, foreign, client=theirs) is None

    aws.emulator.clear_calls()
    again = run_module(MODULE, args)
    assert again["changed"] is False
    assert [e["action"] for e in again["images"]] == ["kept_newest", "kept_newest", "unchanged", "unchanged"] * 2
    assert aws.write_calls() == []

    undone = run_module(MODULE, dict(args, state="absent"))  # the same selection, cancelled
    assert [e["action"] for e in undone["images"]] == ["kept_newest", "kept_newest", "cancel", "cancel"] * 2
    assert [deprecation(aws, i, US) for i in us.values()] == [None] * 4
    assert [deprecation(aws, i, EU) for i in eu.values()] == [None] * 4


def test_family_exclude_and_default_keep_newest(aws, run_module):
    us = make_family(aws, US, {"golden-1": "2026-01-01T00:00:00", "golden-2": "2026-02-01T00:00:00",
                               "golden-3": "2026-03-01T00:00:00"})
    # the AMI just distributed: excluded, not counted; keep_newest (default 1) keeps the one before it
    result = run_module(MODULE, {"family": {"name_prefix": "golden-"}, "exclude_image_ids": [us["golden-3"]],
                                 "deprecate_at": "+30d"})
    assert not result.failed, result.msg
    assert summary(result) == [
        (us["golden-3"], US, "excluded", None), (us["golden-2"], US, "kept_newest", None),
        (us["golden-1"], US, "deprecate", "2026-07-15T10:00:00.000Z"),
    ]
    zero = run_module(MODULE, {"family": {"name_prefix": "golden-"}, "exclude_image_ids": [us["golden-3"]],
                               "keep_newest": 0, "deprecate_at": "+30d"})
    assert [(e["action"], e["deprecation_time"]) for e in zero["images"]] == [
        ("excluded", None), ("deprecate", "2026-07-15T10:00:00.000Z"), ("unchanged", "2026-07-15T10:00:00.000Z")]
    assert [deprecation(aws, us[n]) for n in ("golden-1", "golden-2", "golden-3")] == [
        "2026-07-15T10:00:00.000Z", "2026-07-15T10:00:00.000Z", None]


def test_family_by_tags_leaves_disabled_and_failed_amis_alone(aws, run_module):
    tagged = {"image": "golden"}
    old = image(aws, US, "base-1", created="2026-01-01T00:00:00", tags=tagged)
    disabled = image(aws, US, "base-2", created="2026-02-01T00:00:00", tags=tagged)
    failed = image(aws, US, "base-3", created="2026-04-01T00:00:00", tags=tagged)
    newest = image(aws, US, "base-4", created="2026-03-01T00:00:00", tags=tagged)
    untagged = image(aws, US, "base-0", created="2025-01-01T00:00:00", tags={"image": "silver"})
    aws.client("ec2").disable_image(ImageId=disabled)
    from moto.ec2.models import ec2_backends

    ec2_backends[aws.account_id][US].amis[failed].state = "failed"

    result = run_module(MODULE, {"family": {"tag": tagged}, "deprecate_at": "2026-12-31T00:00:00Z"})
    assert not result.failed, result.msg
    assert summary(result) == [
        (failed, US, "skipped", None), (newest, US, "kept_newest", None), (old, US, "deprecate", "2026-12-31T00:00:00.000Z")]
    assert [deprecation(aws, i) for i in (old, disabled, failed, newest, untagged)] == ["2026-12-31T00:00:00.000Z", None, None, None, None]


# ---- ownership, missing AMIs, public AMIs -------------------------------------------------------------


def test_another_accounts_ami_is_refused_before_any_write(aws, run_module):
    mine = image(aws)
    access_key, secret_key = credentials_for(aws.emulator, OTHER)
    theirs = aws.client("ec2", US, access_key=access_key, secret_key=secret_key)
    foreign = make_image(theirs, "shared-golden")
    theirs.modify_image_attribute(ImageId=foreign, Attribute="launchPermission", LaunchPermission={"Add": [{"UserId": aws.account_id}]})
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"images": [{"image_id": foreign}, {"image_id": mine}], "deprecate_at": "2026-12-31T00:00:00Z"})
    assert result.failed
    bad, good = result["images"]
    assert (bad["image_id"], bad["failed"], bad["error_kind"]) == (foreign, True, "refused")
    assert bad["msg"] == ("owned by account 111122223333, not by the caller's account 123456789012: only its owner can set "
                          "or cancel its deprecation; nothing was changed")
    assert result.msg == "1 of 2 target(s) failed (the others were applied): %s in %s: %s" % (foreign, US, bad["msg"])
    assert (good["action"], good["changed"]) == ("deprecate", True)
    assert actions_called(aws, "EnableImageDeprecation") == [("EnableImageDeprecation", US)]  # the caller's own AMI only
    assert deprecation(aws, foreign, client=theirs) is None
    assert deprecation(aws, mine) == "2026-12-31T00:00:00.000Z"

    single = run_module(MODULE, {"image_id": foreign, "deprecate_at": "2026-12-31T00:00:00Z"})
    assert single.failed
    assert single.msg == "AMI %s in %s: %s" % (foreign, US, bad["msg"])


def test_a_missing_ami_is_refused(aws, run_module):
    result = run_module(MODULE, {"image_id": "ami-0123456789abcdef0", "region": EU, "deprecate_at": "2026-12-31"})
    assert result.failed
    assert result.msg == "AMI ami-0123456789abcdef0 in eu-west-1: not found in eu-west-1 (AMIs are regional: give the AMI's own region)"
    assert result["error_kind"] == "refused"


def make_public(aws, image_id, created):
    aws.client("ec2").modify_image_attribute(ImageId=image_id, Attribute="launchPermission", LaunchPermission={"Add": [{"Group": "all"}]})
    set_created(aws, US, image_id, created)


def test_public_amis_limits_are_checked_before_any_write(aws, run_module):
    public = image(aws, name="public-golden")
    make_public(aws, public, "2026-01-10T00:00:00")
    aws.emulator.clear_calls()
    late = run_module(MODULE, {"image_id": public, "deprecate_at": "2028-01-10T00:01:00Z"})
    assert late.failed
    assert ("the AMI is public, and AWS allows a public AMI's deprecation time at most 2 years after its creation "
            "(2026-01-10T00:00:00.000Z): at most 2028-01-10T00:00:00.000Z") in late.msg
    assert aws.write_calls() == []

    ok = run_module(MODULE, {"image_id": public, "deprecate_at": "2027-01-10T00:00:00Z"})
    assert (ok["action"], ok["deprecation_time"]) == ("deprecate", "2027-01-10T00:00:00.000Z")

    aws.emulator.clear_calls()
    postpone = run_module(MODULE, {"image_id": public, "deprecate_at": "2027-06-01T00:00:00Z", "keep_earlier": False})
    assert postpone.failed
    assert "the AMI is public and deprecated at 2027-01-10T00:00:00.000Z; AWS moves a public AMI's deprecation only earlier" in postpone.msg
    cancel = run_module(MODULE, {"image_id": public, "state": "absent"})
    assert cancel.failed
    assert "the AMI is public; AWS cancels a public AMI's deprecation only once it is private" in cancel.msg
    assert aws.write_calls() == []
    assert deprecation(aws, public) == "2027-01-10T00:00:00.000Z"

    sooner = run_module(MODULE, {"image_id": public, "deprecate_at": "2026-10-01T00:00:00Z"})  # earlier: allowed
    assert (sooner["action"], sooner["deprecation_time"]) == ("deprecate", "2026-10-01T00:00:00.000Z")


# ---- failures ---------------------------------------------------------------------------------------


def test_one_broken_region_does_not_stop_the_others_in_a_family(aws, run_module):
    amis = {}
    for region in (US, EU, OR):
        amis[region] = make_family(aws, region, {"golden-1": "2026-01-01T00:00:00", "golden-2": "2026-02-01T00:00:00"})
    # every call to eu-west-1 is denied (not retried)
    aws.emulator.inject_faults(rate=1.0, kind="denied", regions=[EU])
    try:
        result = run_module(MODULE, {"family": {"name_prefix": "golden-"}, "regions": [US, EU, OR], "deprecate_at": "2026-12-31"})
    finally:
        aws.emulator.clear_faults()
    assert result.failed
    assert result.msg.startswith("1 of 5 target(s) failed (the others were applied): the AMIs of the family in eu-west-1: "), result.msg
    assert "UnauthorizedOperation" in result.msg
    at = "2026-12-31T00:00:00.000Z"
    entries = result["images"]
    assert [(e["image_id"], e["region"]) for e in entries] == [
        (amis[US]["golden-2"], US), (amis[US]["golden-1"], US), (None, EU), (amis[OR]["golden-2"], OR), (amis[OR]["golden-1"], OR)]
    assert (entries[2]["failed"], entries[2]["error_kind"]) == (True, "aws_error")
    assert [entries[i]["action"] for i in (0, 1, 3, 4)] == ["kept_newest", "deprecate", "kept_newest", "deprecate"]
    assert result["changed"] is True
    assert deprecation(aws, amis[US]["golden-1"], US) == deprecation(aws, amis[OR]["golden-1"], OR) == at
    assert deprecation(aws, amis[EU]["golden-1"], EU) is None


def test_one_broken_region_does_not_stop_the_others_with_images(aws, run_module):
    amis = dict((r, image(aws, r)) for r in (US, EU, OR))
    aws.emulator.inject_faults(rate=1.0, kind="denied", actions=["EnableImageDeprecation"], regions=[EU])
    try:
        result = run_module(MODULE, {"images": [{"image_id": amis[r], "region": r} for r in (US, EU, OR)], "deprecate_at": "2026-12-31"})
    finally:
        aws.emulator.clear_faults()
    assert result.failed
    assert result.msg.startswith("1 of 3 target(s) failed (the others were applied): %s in %s: " % (amis[EU], EU)), result.msg
    us, eu, west = result["images"]
    assert (eu["failed"], eu["error_kind"]) == (True, "aws_error")
    assert (us["changed"], west["changed"]) == (True, True)
    assert deprecation(aws, amis[US], US) == deprecation(aws, amis[OR], OR) == "2026-12-31T00:00:00.000Z"
    assert deprecation(aws, amis[EU], EU) is None


# ---- documentation ---------------------------------------------------------------------------------


def documented_iam_actions():
    from ansible_collections.orgshare.aws.plugins.modules import ami_deprecation

    doc = yaml.safe_load(ami_deprecation.DOCUMENTATION)
    (text,) = [n for n in doc["notes"] if n.startswith("IAM permissions")]
    return set(re.findall(r"C\(([a-z0-9-]+:[A-Za-z]+)\)", text))


def test_documented_iam_actions_are_the_actions_called(aws, run_module):
    documented = documented_iam_actions()
    assert documented == {"ec2:DescribeImages", "sts:GetCallerIdentity", "ec2:EnableImageDeprecation", "ec2:DisableImageDeprecation"}
    make_family(aws, US, {"golden-1": "2026-01-01T00:00:00", "golden-2": "2026-02-01T00:00:00"})
    one = image(aws, name="single")
    aws.emulator.clear_calls()
    run_module(MODULE, {"family": {"name_prefix": "golden-"}, "deprecate_at": "2026-12-31"})
    assert aws.emulator.actions() == {"ec2:DescribeImages", "ec2:EnableImageDeprecation"}
    run_module(MODULE, {"image_id": one, "deprecate_at": "2026-12-31"}, check_mode=True)
    run_module(MODULE, {"images": [{"image_id": one}], "deprecate_at": "2026-12-31"})
    run_module(MODULE, {"image_id": one, "state": "absent"})
    assert aws.emulator.actions() == documented
