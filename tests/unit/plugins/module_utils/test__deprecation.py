"""Pure helpers of orgshare.aws.ami_deprecation: the time forms, rounding, AWS's limits, public AMIs' rules and the
choice of a family's previous versions. Every expected time is written out from the inputs."""

import datetime

import pytest

from ansible_collections.orgshare.aws.plugins.module_utils import _deprecation as dep
from ansible_collections.orgshare.aws.plugins.module_utils._deprecation import DeprecationError

UTC = datetime.timezone.utc
NOW = datetime.datetime(2028, 2, 29, 23, 59, 45, tzinfo=UTC)  # a leap day, 15 seconds before midnight


def at(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)


@pytest.mark.parametrize("given, wanted", [
    ("now", "2028-03-01T00:01:00"),  # 23:59:45 + 60 s = 00:00:45, the next whole minute
    ("+1m", "2028-03-01T00:01:00"),  # 00:00:45 rounds up
    ("+ 2 h", "2028-03-01T02:00:00"),
    ("+1D", "2028-03-02T00:00:00"),
    ("2028-03-01T00:00:30Z", "2028-03-01T00:01:00"),  # 30 s rounds up
    ("2028-03-01T00:00:29.999Z", "2028-03-01T00:00:00"),
    ("2028-02-29T23:59:50Z", "2028-03-01T00:00:00"),  # rounded up to a minute later than NOW: accepted
    ("2028-03-01t01:00:00z", "2028-03-01T01:00:00"),
    ("2028-03-01T05:30:00+0530", "2028-03-01T00:00:00"),
    ("2028-03-01T00:00:00-01:00", "2028-03-01T01:00:00"),
    ("2028-03-01", "2028-03-01T00:00:00"),
    ("2038-02-28T23:59:00Z", "2038-02-28T23:59:00"),  # 10 calendar years ahead (29 February -> 28 February)
])
def test_wanted_time(given, wanted):
    assert dep.wanted_time(given, NOW) == at(wanted)


def test_yaml_values():
    assert dep.wanted_time(datetime.date(2028, 3, 1), NOW) == at("2028-03-01T00:00:00")
    assert dep.wanted_time(datetime.datetime(2028, 3, 1, 12, 0, 0), NOW) == at("2028-03-01T12:00:00")


@pytest.mark.parametrize("given, message", [
    ("2028-02-29T23:59:00Z", "in the past (it is 2028-02-29T23:59:45.000Z now)"),
    ("+9999999d", "more than 10 years from now"),
    ("2038-03-01T00:00:00Z", "more than 10 years from now; AWS allows at most 2038-02-28T23:59:45.000Z"),
    ("+99999999d", "is not a time"),
    ("2028-03-01T00:00", "no time zone"),
    ("2028-13-01", "not a real date"),
    ("2028-03-01T00:00:00+24:00", "not a real date"),
    ("", "is not a time"),
    (None, "is not a time"),
    (5, "is not a time"),
    ("+0h", "at least +1h"),
])
def test_refused_times(given, message):
    with pytest.raises(DeprecationError) as e:
        dep.wanted_time(given, NOW, option="opt")
    assert str(e.value).startswith("opt: ")
    assert message in str(e.value)


def test_aws_time_and_show():
    assert dep.aws_time("2027-01-10T00:01:00.000Z") == at("2027-01-10T00:01:00")
    assert dep.aws_time(None) is None and dep.aws_time("garbage") is None
    assert dep.show(at("2027-01-10T00:01:00")) == "2027-01-10T00:01:00.000Z"
    assert dep.show(None) is None


def image(image_id, created, state="available", deprecation=None, public=False, name=None):
    out = {"ImageId": image_id, "CreationDate": created, "State": state, "Name": name or image_id, "Public": public}
    if deprecation:
        out["DeprecationTime"] = deprecation
    return out


def test_choose_previous_orders_by_creation_date_and_leaves_the_newest():
    images = [
        image("ami-00000001", "2026-01-01T00:00:00.000Z"),
        image("ami-00000002", "2026-03-01T00:00:00.000Z"),
        image("ami-00000003", "2026-02-01T00:00:00.000Z", state="failed"),
        image("ami-00000004", "2026-04-01T00:00:00.000Z"),
        image("ami-00000005", "2026-02-15T00:00:00.000Z", state="pending"),
    ]
    chosen = [(i["ImageId"], reason) for i, reason in dep.choose_previous(images, 2, ["ami-00000004"])]
    assert chosen == [
        ("ami-00000004", "excluded"), ("ami-00000002", "kept_newest"), ("ami-00000005", "kept_newest"),
        ("ami-00000003", "skipped"), ("ami-00000001", None),
    ]
    assert [reason for _i, reason in dep.choose_previous(images, 0, [])] == [None, None, None, "skipped", None]


def test_ties_are_ordered_by_name_then_id():
    images = [image("ami-0000000a", "2026-01-01T00:00:00.000Z", name="golden-1"),
              image("ami-0000000b", "2026-01-01T00:00:00.000Z", name="golden-2")]
    assert [i["ImageId"] for i, _r in dep.choose_previous(images, 1, [])] == ["ami-0000000b", "ami-0000000a"]


def test_family_filters_and_membership():
    assert dep.family_filters("golden-", {"b": "2", "a": "1"}) == [
        {"Name": "name", "Values": ["golden-*"]}, {"Name": "tag:a", "Values": ["1"]}, {"Name": "tag:b", "Values": ["2"]}]
    tagged = {"Name": "golden-1", "Tags": [{"Key": "a", "Value": "1"}]}
    assert dep.in_family(tagged, "golden-", {"a": "1"})
    assert not dep.in_family(tagged, "golden-", {"a": "1*"})
    assert not dep.in_family(tagged, "silver-", None)
    assert dep.check_tags({"version": 3}, "t") == {"version": "3"}
    with pytest.raises(DeprecationError):
        dep.check_tags({"flag": True}, "t")
    with pytest.raises(DeprecationError):
        dep.check_name_prefix("golden-?", "p")


def test_plan_present_and_absent():
    wanted = at("2026-12-31T00:00:00")
    assert dep.plan_present(image("ami-1", "2026-01-01T00:00:00.000Z"), wanted, True) == ("deprecate", "2026-12-31T00:00:00.000Z")
    earlier = image("ami-1", "2026-01-01T00:00:00.000Z", deprecation="2026-09-01T00:00:00.000Z")
    assert dep.plan_present(earlier, wanted, True) == ("kept_earlier", "2026-09-01T00:00:00.000Z")
    assert dep.plan_present(earlier, wanted, False) == ("deprecate", "2026-12-31T00:00:00.000Z")
    same = image("ami-1", "2026-01-01T00:00:00.000Z", deprecation="2026-12-31T00:00:12.000Z")
    assert dep.plan_present(same, wanted, False) == ("unchanged", "2026-12-31T00:00:12.000Z")
    assert dep.plan_absent(earlier) == ("cancel", None)
    assert dep.plan_absent(image("ami-1", "2026-01-01T00:00:00.000Z")) == ("unchanged", None)


def test_public_rules():
    wanted = at("2027-06-01T00:00:00")
    young = image("ami-1", "2026-01-01T00:00:00.000Z", public=True)
    assert dep.plan_present(young, wanted, True) == ("deprecate", "2027-06-01T00:00:00.000Z")
    old = image("ami-1", "2025-01-01T00:00:00.000Z", public=True)
    with pytest.raises(DeprecationError, match="at most 2027-01-01T00:00:00.000Z"):
        dep.plan_present(old, wanted, True)
    deprecated = image("ami-1", "2026-01-01T00:00:00.000Z", public=True, deprecation="2027-01-01T00:00:00.000Z")
    assert dep.plan_present(deprecated, wanted, True) == ("kept_earlier", "2027-01-01T00:00:00.000Z")
    with pytest.raises(DeprecationError, match="only earlier"):
        dep.plan_present(deprecated, wanted, False)
    assert dep.plan_present(deprecated, at("2026-12-01T00:00:00"), False) == ("deprecate", "2026-12-01T00:00:00.000Z")
    with pytest.raises(DeprecationError, match="only once it is private"):
        dep.plan_absent(deprecated)


# ---- parse_family_search (ami_deprecation's and ami_retire's family options) ----------------------
@pytest.mark.parametrize("params, region, counted, message", [
    ({"family": {}}, "eu-west-1", "AMIs", "family: give name_prefix, tags, or both"),
    ({"family": {"name_prefix": "golden-"}}, None, "AMIs", "region: no region given (set regions, the region option, or AWS_REGION)"),
    ({"family": {"name_prefix": "golden-"}}, "eu-west", "AMIs", "region: 'eu-west' is not a region name"),
    ({"family": {"name_prefix": "golden-"}, "regions": []}, "eu-west-1", "AMIs", "regions: give at least one region"),
    ({"family": {"name_prefix": "golden-"}, "regions": ["eu-west-1", "EU"]}, None, "AMIs", "regions[1]: 'EU' is not a region name"),
    ({"family": {"name_prefix": "golden-"}, "regions": ["eu-west-1", "eu-west-1"]}, None, "AMIs",
     "regions[1]: eu-west-1 is listed more than once"),
    ({"family": {"name_prefix": "golden-"}, "keep": -1}, "eu-west-1", "versions", "keep_newest: -1; give a number of versions, 0 or more"),
    ({"family": {"name_prefix": "golden-"}, "exclude_image_ids": ["ami-12345678", "ami-xyz"]}, "eu-west-1", "AMIs",
     "exclude_image_ids[1]: 'ami-xyz' is not an AMI id; expected the form ami-0123456789abcdef0"),
])
def test_parse_family_search_refuses_naming_the_option(params, region, counted, message):
    with pytest.raises(DeprecationError) as e:
        dep.parse_family_search(params, region, params.get("keep", 1), counted=counted)
    assert str(e.value).startswith(message)


def test_parse_family_search_defaults_to_the_modules_region():
    spec = dep.parse_family_search({"family": {"name_prefix": "golden-"}, "exclude_image_ids": [" ami-12345678 "]}, "eu-west-1", 2)
    assert spec == {"name_prefix": "golden-", "tags": None, "regions": ["eu-west-1"], "keep_newest": 2, "exclude": ["ami-12345678"]}
