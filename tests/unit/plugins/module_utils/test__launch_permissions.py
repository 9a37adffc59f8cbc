"""Table-driven tests of the pure launch-permission logic."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.orgshare.aws.plugins.module_utils import _launch_permissions as lp

ORG = "arn:aws:organizations::111111111111:organization/o-aaaaaaaaaa"
ORG2 = "arn:aws:organizations::222222222222:organization/o-bbbbbbbbbb"
OU = "arn:aws:organizations::111111111111:ou/o-aaaaaaaaaa/ou-aaaa-11111111"
OU2 = "arn:aws:organizations::111111111111:ou/o-aaaaaaaaaa/ou-aaaa-22222222"
A1, A2, A3 = "111111111111", "222222222222", "333333333333"


def perms(orgs=(), ous=(), accounts=(), public=False):
    return {
        "organization_arns": sorted(orgs),
        "organizational_unit_arns": sorted(ous),
        "account_ids": sorted(accounts),
        "public": public,
    }


NONE = perms()

# (name, current, plan kwargs, expected added, expected removed, expected after)
PLANS = [
    ("add to empty", NONE, dict(account_ids=[A2, A1]), perms(accounts=[A1, A2]), NONE, perms(accounts=[A1, A2])),
    ("present keeps others", perms(orgs=[ORG], accounts=[A3], public=True), dict(account_ids=[A1]),
     perms(accounts=[A1]), NONE, perms(orgs=[ORG], accounts=[A1, A3], public=True)),
    ("present already there", perms(ous=[OU]), dict(organizational_unit_arns=[OU]), NONE, NONE, perms(ous=[OU])),
    ("duplicates collapse", NONE, dict(account_ids=[A1, A1]), perms(accounts=[A1]), NONE, perms(accounts=[A1])),
    ("purge other kinds", perms(orgs=[ORG], ous=[OU], accounts=[A1, A2], public=True), dict(account_ids=[A1], purge=True),
     NONE, perms(orgs=[ORG], ous=[OU], accounts=[A2], public=True), perms(accounts=[A1])),
    ("purge with nothing listed empties", perms(orgs=[ORG], accounts=[A1]), dict(purge=True),
     NONE, perms(orgs=[ORG], accounts=[A1]), NONE),
    ("purge keeps public when public true", perms(public=True, accounts=[A1]), dict(public=True, purge=True),
     NONE, perms(accounts=[A1]), perms(public=True)),
    ("purge adds and removes at once", perms(ous=[OU]), dict(organizational_unit_arns=[OU2], purge=True),
     perms(ous=[OU2]), perms(ous=[OU]), perms(ous=[OU2])),
    ("public true adds", NONE, dict(public=True), perms(public=True), NONE, perms(public=True)),
    ("public true already", perms(public=True), dict(public=True), NONE, NONE, perms(public=True)),
    ("public false removes", perms(public=True, orgs=[ORG]), dict(public=False), NONE, perms(public=True), perms(orgs=[ORG])),
    ("public false already private", NONE, dict(public=False), NONE, NONE, NONE),
    ("public omitted left alone", perms(public=True), dict(account_ids=[A1]), perms(accounts=[A1]), NONE,
     perms(accounts=[A1], public=True)),
    ("absent removes listed only", perms(orgs=[ORG, ORG2], accounts=[A1, A2]), dict(organization_arns=[ORG], account_ids=[A1, A3], state="absent"),
     NONE, perms(orgs=[ORG], accounts=[A1]), perms(orgs=[ORG2], accounts=[A2])),
    ("absent nothing to remove", perms(accounts=[A2]), dict(account_ids=[A1], state="absent"), NONE, NONE, perms(accounts=[A2])),
    ("absent public true removes public", perms(public=True), dict(public=True, state="absent"), NONE, perms(public=True), NONE),
    ("absent public false removes public", perms(public=True), dict(public=False, state="absent"), NONE, perms(public=True), NONE),
    ("absent ignores purge", perms(orgs=[ORG], accounts=[A1]), dict(account_ids=[A1], state="absent", purge=True),
     NONE, perms(accounts=[A1]), perms(orgs=[ORG])),
]


@pytest.mark.parametrize("name,current,kwargs,added,removed,after", PLANS, ids=[p[0] for p in PLANS])
def test_plan(name, current, kwargs, added, removed, after):
    assert lp.plan(current, **kwargs) == (added, removed, after)


# (name, current, added, removed, expected after): written out by hand
APPLIED = [
    ("nothing to do", perms(orgs=[ORG], accounts=[A1]), NONE, NONE, perms(orgs=[ORG], accounts=[A1])),
    ("adds are merged, sorted", perms(accounts=[A3]), perms(accounts=[A2, A1]), NONE, perms(accounts=[A1, A2, A3])),
    ("an add already there is not doubled", perms(ous=[OU]), perms(ous=[OU, OU2]), NONE, perms(ous=[OU, OU2])),
    ("removes only what is named", perms(orgs=[ORG, ORG2], ous=[OU], accounts=[A1, A2], public=True), perms(),
     perms(orgs=[ORG2], accounts=[A1]), perms(orgs=[ORG], ous=[OU], accounts=[A2], public=True)),
    ("a remove of something absent is a no-op", perms(accounts=[A1]), NONE, perms(accounts=[A2], ous=[OU2]), perms(accounts=[A1])),
    ("add and remove of different kinds at once", perms(ous=[OU]), perms(orgs=[ORG]), perms(ous=[OU]), perms(orgs=[ORG])),
    ("made public", perms(accounts=[A1]), perms(public=True), NONE, perms(accounts=[A1], public=True)),
    ("no longer public", perms(public=True, orgs=[ORG]), NONE, perms(public=True), perms(orgs=[ORG])),
    ("public stays when not removed", perms(public=True), perms(accounts=[A3]), NONE, perms(accounts=[A3], public=True)),
    ("partial shapes: missing keys are empty", {"account_ids": [A2, A1]}, {}, {}, perms(accounts=[A1, A2])),
    ("empty everything", {}, {}, {}, NONE),
]


@pytest.mark.parametrize("name,current,added,removed,after", APPLIED, ids=[a[0] for a in APPLIED])
def test_apply_plan(name, current, added, removed, after):
    assert lp.apply_plan(current, added, removed) == after


def test_plan_rejects_unknown_state():
    with pytest.raises(ValueError, match="state"):
        lp.plan(NONE, state="gone")


def test_from_api_reads_every_kind_and_ignores_order():
    entries = [
        {"UserId": A2},
        {"Group": "all"},
        {"OrganizationalUnitArn": OU},
        {"UserId": A1},
        {"OrganizationArn": ORG},
    ]
    assert lp.from_api(entries) == perms(orgs=[ORG], ous=[OU], accounts=[A1, A2], public=True)
    assert lp.from_api(list(reversed(entries))) == lp.from_api(entries)
    assert lp.from_api([]) == NONE
    assert lp.from_api(None) == NONE


def test_to_api_is_structured_and_deterministic():
    assert lp.to_api(perms(orgs=[ORG], ous=[OU], accounts=[A2, A1], public=True)) == [
        {"OrganizationArn": ORG},
        {"OrganizationalUnitArn": OU},
        {"UserId": A1},
        {"UserId": A2},
        {"Group": "all"},
    ]
    assert lp.to_api(NONE) == []


def test_modify_request():
    assert lp.modify_request(NONE, NONE) is None
    assert lp.modify_request(perms(accounts=[A1]), perms(public=True)) == {"Add": [{"UserId": A1}], "Remove": [{"Group": "all"}]}
    assert lp.modify_request(NONE, perms(orgs=[ORG])) == {"Remove": [{"OrganizationArn": ORG}]}


@pytest.mark.parametrize(
    "removed,after,expected",
    [
        (perms(accounts=[A2, A1]), perms(orgs=[ORG]), [A1, A2]),
        (perms(accounts=[A1]), perms(ous=[OU]), [A1]),
        (perms(accounts=[A1]), perms(accounts=[A2], public=True), []),
        (NONE, perms(orgs=[ORG]), []),
    ],
)
def test_accounts_still_covered(removed, after, expected):
    assert lp.accounts_still_covered(removed, after) == expected


def test_diff_shape():
    d = lp.diff({"account_ids": [A2, A1]}, None)
    assert d == {"before": perms(accounts=[A1, A2]), "after": NONE}


principal_sets = st.fixed_dictionaries(
    {
        "organization_arns": st.lists(st.sampled_from([ORG, ORG2]), unique=True).map(sorted),
        "organizational_unit_arns": st.lists(st.sampled_from([OU, OU2]), unique=True).map(sorted),
        "account_ids": st.lists(st.sampled_from([A1, A2, A3]), unique=True).map(sorted),
        "public": st.booleans(),
    }
)


@given(
    current=principal_sets,
    orgs=st.one_of(st.none(), st.lists(st.sampled_from([ORG, ORG2]))),
    ous=st.one_of(st.none(), st.lists(st.sampled_from([OU, OU2]))),
    accounts=st.one_of(st.none(), st.lists(st.sampled_from([A1, A2, A3]))),
    public=st.one_of(st.none(), st.booleans()),
    state=st.sampled_from(["present", "absent"]),
    purge=st.booleans(),
)
def test_plan_properties(current, orgs, ous, accounts, public, state, purge):
    kwargs = dict(organization_arns=orgs, organizational_unit_arns=ous, account_ids=accounts, public=public, state=state, purge=purge)
    added, removed, after = lp.plan(current, **kwargs)
    listed = {"organization_arns": orgs, "organizational_unit_arns": ous, "account_ids": accounts}
    for key in lp.KIND_KEYS:
        # added is new, removed was there, nothing is both
        assert not set(added[key]) & set(current[key])
        assert set(removed[key]) <= set(current[key])
        if state == "present":
            assert set(listed[key] or []) <= set(after[key])
            if purge:
                assert after[key] == sorted(set(listed[key] or []))
            else:
                assert set(current[key]) <= set(after[key])
        else:
            assert not set(listed[key] or []) & set(after[key])
            assert set(after[key]) == set(current[key]) - set(listed[key] or [])
        assert after[key] == sorted(after[key])
    if public is not None:
        assert after["public"] == (public and state == "present")
    elif not (purge and state == "present"):
        assert after["public"] == current["public"]
    # Idempotence: planning again from the result changes nothing.
    again = lp.plan(after, **kwargs)
    assert again == (NONE, NONE, after)
    # added and removed account for the whole difference between current and after
    for key in lp.KIND_KEYS:
        assert sorted((set(current[key]) | set(added[key])) - set(removed[key])) == after[key]
        assert set(after[key]) - set(current[key]) == set(added[key])
        assert set(current[key]) - set(after[key]) == set(removed[key])
    assert after["public"] == ((current["public"] or added["public"]) and not removed["public"])
