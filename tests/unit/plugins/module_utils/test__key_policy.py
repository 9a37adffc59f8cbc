"""The key-policy merge plan of kms_org_grant: table-driven cases and properties."""

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.orgshare.aws.plugins.module_utils import _key_policy as kp

ORG = "o-abc1234567"
OTHER = "o-zzz9876543"
ROOT = ORG + "/r-ab12/"
A = ROOT + "ou-ab12-aaaaaaaa/"
B = ROOT + "ou-ab12-bbbbbbbb/"
C = A + "ou-ab12-cccccccc/"

ADMIN = {
    "Sid": "Allow access for Key Administrators",
    "Effect": "Allow",
    "Principal": {"AWS": ["arn:aws:iam::111111111111:role/Admin", "arn:aws:iam::111111111111:user/ops"]},
    "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
               "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"],
    "Resource": "*",
}
IAM_ROOT = {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:*", "Resource": "*"}
SERVICE = {"Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
           "Action": ["kms:Encrypt*", "kms:Decrypt*"], "Resource": "*",
           "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:111111111111:*"}}}


# The module's statements, written out here in the forms AWS documents (aws:PrincipalOrgID with StringEquals,
# aws:PrincipalOrgPaths with ForAnyValue:StringLike and "<path>*" entries, kms:GrantIsForAWSResource with Bool;
# whole accounts as "arn:aws:iam::<id>:root"), so that no expected value is built by the code under test.
DEFAULT_ACTIONS = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
GRANT_ACTIONS = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
USE_SID, GRANTS_SID = "OrgShareUse-" + ORG, "OrgShareGrants-" + ORG
ACCOUNT_SIDS = ("OrgShareAccountUse", "OrgShareAccountGrants")


def org_condition(org, patterns):
    condition = {"StringEquals": {"aws:PrincipalOrgID": org}}
    if patterns:
        condition["ForAnyValue:StringLike"] = {"aws:PrincipalOrgPaths": list(patterns)}
    return condition


def use_statement(patterns=None, actions=tuple(DEFAULT_ACTIONS), org=ORG):
    """OrgShareUse-<org>: ``patterns`` None for the whole organization, else the sorted "<path>*" patterns."""
    return {"Sid": "OrgShareUse-" + org, "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": list(actions), "Resource": "*",
            "Condition": org_condition(org, patterns)}


def grants_statement(patterns=None, org=ORG):
    condition = dict(org_condition(org, patterns), Bool={"kms:GrantIsForAWSResource": "true"})
    return {"Sid": "OrgShareGrants-" + org, "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": list(GRANT_ACTIONS), "Resource": "*",
            "Condition": condition}


def account_use_statement(accounts, actions=tuple(DEFAULT_ACTIONS)):
    return {"Sid": "OrgShareAccountUse", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::%s:root" % a for a in accounts]},
            "Action": list(actions), "Resource": "*"}


def account_grants_statement(accounts):
    return {"Sid": "OrgShareAccountGrants", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::%s:root" % a for a in accounts]},
            "Action": list(GRANT_ACTIONS), "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}


def org_paths(statement):
    """The aws:PrincipalOrgPaths patterns of one of the module's statements, or None (the whole organization)."""
    return statement["Condition"].get("ForAnyValue:StringLike", {}).get("aws:PrincipalOrgPaths")


def base():
    statements = [copy.deepcopy(IAM_ROOT), copy.deepcopy(ADMIN), copy.deepcopy(SERVICE)]
    return {"Version": "2012-10-17", "Id": "key-default-1", "Statement": statements}


def ours(policy, org=ORG):
    return {s["Sid"]: s for s in policy["Statement"] if s.get("Sid") in ("OrgShareUse-" + org, "OrgShareGrants-" + org)}


def scope(policy, org=ORG):
    """None (no grant), "org", or the sorted patterns of the use statement; both statements agree."""
    mine = ours(policy, org)
    if not mine:
        return None
    scopes = set()
    for s in mine.values():
        pats = org_paths(s)
        scopes.add("org" if pats is None else tuple(sorted(pats)))
    assert len(scopes) == 1, mine
    one = scopes.pop()
    return one if one == "org" else list(one)


def apply(policy, **kw):
    return kp.plan(policy, ORG, **kw)


def p(*paths):
    """The aws:PrincipalOrgPaths patterns of organization paths ("o-x/r-y/ou-z/" -> "o-x/r-y/ou-z/*")."""
    return [x + "*" for x in paths]


# (id, start scope, request, expected changed, expected scope, covered)
PLAN_CASES = [
    ("org grant on empty", None, dict(), True, "org", True),
    ("org grant again", "org", dict(), False, "org", True),
    ("ous on empty", None, dict(paths=[A, B]), True, sorted(p(A, B)), False),
    ("ous again, reordered", p(A, B), dict(paths=[B, A]), False, sorted(p(A, B)), False),
    ("add an ou", p(A), dict(paths=[B]), True, sorted(p(A, B)), False),
    ("add a child ou", p(A), dict(paths=[C]), True, sorted(p(A, C)), False),
    ("ous on an org-wide grant are covered", "org", dict(paths=[A]), False, "org", True),
    ("purge narrows an org-wide grant", "org", dict(paths=[A], purge=True), True, p(A), False),
    ("purge makes the list exact", p(A, B), dict(paths=[B, C], purge=True), True, sorted(p(B, C)), False),
    ("purge with the same list", p(A, B), dict(paths=[A, B], purge=True), False, sorted(p(A, B)), False),
    ("present without ous widens to the org", p(A), dict(), True, "org", True),
    ("absent one ou", p(A, B), dict(paths=[A], state="absent"), True, p(B), False),
    ("absent the last ou removes the statements", p(A), dict(paths=[A], state="absent"), True, None, False),
    ("absent an ou not there", p(A), dict(paths=[B], state="absent"), False, p(A), False),
    ("absent without ous", p(A, B), dict(state="absent"), True, None, False),
    ("absent org-wide", "org", dict(state="absent"), True, None, False),
    ("absent on nothing", None, dict(state="absent"), False, None, False),
    ("absent ous on an org-wide grant keeps it", "org", dict(paths=[A], state="absent"), False, "org", True),
]


def our_statements(scope_):
    """The module's two statements for a scope (None, "org" or sorted patterns), as written out above."""
    if scope_ is None:
        return []
    pats = None if scope_ == "org" else sorted(scope_)
    return [use_statement(pats), grants_statement(pats)]


def start_policy(start):
    policy = base()
    policy["Statement"].extend(our_statements(start))
    return policy


@pytest.mark.parametrize("start,request_,changed,expected,covered", [c[1:] for c in PLAN_CASES], ids=[c[0] for c in PLAN_CASES])
def test_plan_scopes(start, request_, changed, expected, covered):
    policy = start_policy(start)
    before = copy.deepcopy(policy)
    got_changed, new, mine, got_covered = apply(policy, **request_)
    assert got_changed is changed
    assert scope(new) == expected
    assert got_covered is covered
    assert policy == before, "the input policy must not be modified"
    assert mine == list(ours(new).values()) == our_statements(expected)
    # foreign statements: the very same objects, same order
    foreign_before = [s for s in policy["Statement"] if s.get("Sid", "") not in ours(policy)]
    foreign_after = [s for s in new["Statement"] if s.get("Sid", "") not in ours(new)]
    assert [id(s) for s in foreign_after] == [id(s) for s in foreign_before]
    if not changed:
        assert new is policy


def test_statement_shape():
    _c, new, mine, _cov = apply(base(), paths=[B, A])
    use, grants = mine
    assert use == {
        "Sid": "OrgShareUse-o-abc1234567", "Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"], "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc1234567"},
                      "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-abc1234567/r-ab12/ou-ab12-aaaaaaaa/*",
                                                                           "o-abc1234567/r-ab12/ou-ab12-bbbbbbbb/*"]}},
    }
    assert grants == {
        "Sid": "OrgShareGrants-o-abc1234567", "Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc1234567"},
                      "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-abc1234567/r-ab12/ou-ab12-aaaaaaaa/*",
                                                                           "o-abc1234567/r-ab12/ou-ab12-bbbbbbbb/*"]},
                      "Bool": {"kms:GrantIsForAWSResource": "true"}},
    }
    assert new["Statement"] == base()["Statement"] + [use, grants]


def test_allow_grants_false_drops_the_grants_statement():
    policy = start_policy("org")
    changed, new, mine, _cov = apply(policy, allow_grants=False)
    assert changed and mine == [use_statement()]
    assert new["Statement"] == base()["Statement"] + [use_statement()]
    changed, again, _m, _c = apply(new, allow_grants=False)
    assert not changed


def test_actions_are_replaced_and_compared_as_sets():
    changed, new, mine, _c = apply(base(), actions=["kms:DescribeKey", "kms:Decrypt", "kms:DescribeKey"])
    assert changed and mine == [use_statement(actions=["kms:Decrypt", "kms:DescribeKey"]), grants_statement()]  # sorted, once each
    assert not apply(new, actions=["kms:DescribeKey", "kms:Decrypt", "kms:Decrypt"])[0]
    assert apply(new)[0]  # back to the default actions


def test_our_statements_stay_in_place():
    policy = start_policy(p(A))
    policy["Statement"].append({"Sid": "Later", "Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "kms:Decrypt",
                                "Resource": "*"})
    _c, new, _m, _cov = apply(policy, paths=[B])
    assert [s.get("Sid") for s in new["Statement"]] == [s.get("Sid") for s in policy["Statement"]]


@pytest.mark.parametrize("variant", [
    lambda s: s.update(Principal="*"),
    lambda s: s.update(Action=list(reversed(s["Action"]))),
    lambda s: s["Condition"]["StringEquals"].update({"aws:PrincipalOrgID": [ORG]}),
    lambda s: s.update(Resource=["*"]),
    lambda s: s["Condition"].update({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": list(reversed(
        s["Condition"]["ForAnyValue:StringLike"]["aws:PrincipalOrgPaths"]))}}),
    lambda s: s.update(Action=[a.lower() for a in s["Action"]]),
], ids=["principal-star", "action-order", "list-org-id", "resource-list", "paths-order", "action-case"])
def test_semantically_equal_statements_make_no_change(variant):
    policy = start_policy(p(A, B))
    for s in policy["Statement"][3:]:
        variant(s)
    policy["Statement"].reverse()
    changed, new, _m, _c = apply(policy, paths=[A])
    assert not changed and new is policy


def test_duplicate_of_our_statement_is_removed():
    policy = start_policy(p(A))
    policy["Statement"].append(copy.deepcopy(policy["Statement"][3]))
    changed, new, mine, _c = apply(policy, paths=[A])
    assert changed and len(mine) == 2


def test_other_orgs_statements_are_foreign():
    policy = base()
    other_paths = ["o-zzz9876543/r-zz99/ou-zz99-11111111/*"]
    policy["Statement"] += [use_statement(other_paths, org=OTHER), grants_statement(other_paths, org=OTHER)]
    _c, new, _m, _cov = apply(policy, state="absent")
    assert not _c
    _c, new, _m, _cov = apply(policy)
    assert new["Statement"] == policy["Statement"] + [use_statement(), grants_statement()]
    _c, new, _m, _cov = apply(new, state="absent")
    assert new["Statement"] == policy["Statement"]


def test_single_statement_object_and_missing_version():
    policy = {"Statement": copy.deepcopy(IAM_ROOT)}
    changed, new, _m, _c = apply(policy)
    assert changed and new["Statement"] == [IAM_ROOT, use_statement(), grants_statement()] and new["Version"] == "2012-10-17"


# base() and the 800-entry pad statement, compact: the 804 bytes of base(), a comma, the 163 bytes of the pad
# statement with an empty list, and the list's 800 quoted 40-character strings with 799 commas between them
BIG_SIZE = 804 + 1 + 163 + 800 * 42 + 799


def test_size_check_and_serialisation():
    # sent compact, not ASCII-escaped; the size is that text's UTF-8 length
    policy = {"Version": "2012-10-17", "Statement": [{"Sid": "Café", "Effect": "Allow", "Principal": {"AWS": "111111111111"},
                                                      "Action": "kms:Decrypt", "Resource": "*"}]}
    text = '{"Version":"2012-10-17","Statement":[{"Sid":"Café","Effect":"Allow","Principal":{"AWS":"111111111111"},' \
           '"Action":"kms:Decrypt","Resource":"*"}]}'
    assert kp.dump_policy(policy) == text
    assert kp.check_size(policy) == kp.policy_size(policy) == 144  # 143 characters, "é" is two bytes in UTF-8
    big = base()
    big["Statement"].append({"Sid": "Pad", "Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "kms:Decrypt",
                             "Resource": "*", "Condition": {"StringEquals": {"kms:EncryptionContext:x": ["y" * 40] * 800}}})
    with pytest.raises(kp.PolicyTooLargeError) as e:
        kp.check_size(big)
    assert e.value.size == BIG_SIZE
    assert str(BIG_SIZE) in str(e.value) and "32768" in str(e.value)


def test_load_policy_errors():
    with pytest.raises(kp.KeyPolicyError):
        kp.load_policy("{not json")
    with pytest.raises(kp.KeyPolicyError):
        kp.load_policy("[]")
    assert kp.load_policy('{"Statement": []}') == {"Statement": []}


def test_policies_differ():
    a = start_policy(p(A, B))
    b = copy.deepcopy(a)
    b["Statement"].reverse()
    b["Statement"][0]["Principal"] = "*"
    assert not kp.policies_differ(a, b)
    b["Statement"][0]["Action"] = "kms:Decrypt"
    assert kp.policies_differ(a, b)


# --- properties ----------------------------------------------------------------------------------

ou_ids = st.from_regex(r"ou-ab12-[a-z0-9]{8}", fullmatch=True)
paths = st.lists(ou_ids, min_size=1, max_size=3).map(lambda ids: ROOT + "/".join(ids) + "/")
path_lists = st.lists(paths, max_size=4)
foreign_statement = st.fixed_dictionaries({
    "Sid": st.text(alphabet="abcdefXYZ0123 ", min_size=1, max_size=12),
    "Effect": st.sampled_from(["Allow", "Deny"]),
    "Principal": st.one_of(st.just("*"), st.fixed_dictionaries({"AWS": st.sampled_from(
        ["arn:aws:iam::111111111111:root", "111111111111", ["arn:aws:iam::111111111111:role/x", "*"]])}),
        st.fixed_dictionaries({"Service": st.just("ec2.amazonaws.com")})),
    "Action": st.one_of(st.sampled_from(["kms:*", "kms:Decrypt"]), st.lists(st.sampled_from(
        ["kms:Encrypt", "kms:Get*", "kms:CreateGrant"]), min_size=1, max_size=3)),
    "Resource": st.sampled_from(["*", ["*"]]),
}) | st.fixed_dictionaries({"Effect": st.just("Allow"), "Principal": st.just({"AWS": "*"}), "Action": st.just("kms:Decrypt"),
                            "Resource": st.just("*"),
                            "Condition": st.fixed_dictionaries({"StringEquals": st.fixed_dictionaries({"aws:PrincipalOrgID": st.just(OTHER)})})})
start_scopes = st.one_of(st.none(), st.just("org"), st.lists(paths, min_size=1, max_size=3, unique=True).map(lambda x: sorted(p(*x))))
requests = st.fixed_dictionaries({
    "paths": path_lists,
    "state": st.sampled_from(["present", "absent"]),
    "purge": st.booleans(),
    "allow_grants": st.booleans(),
    "actions": st.one_of(st.none(), st.lists(st.sampled_from(["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt"]), min_size=1)),
})


@st.composite
def policies(draw):
    foreign = draw(st.lists(foreign_statement, max_size=5))
    policy = {"Version": "2012-10-17", "Statement": foreign}
    start = draw(start_scopes)
    if start is not None:
        pats = None if start == "org" else start
        where = draw(st.integers(min_value=0, max_value=len(foreign)))
        policy["Statement"][where:where] = [use_statement(pats), grants_statement(pats)]
    return policy


def foreign_of(policy):
    return [s for s in policy["Statement"] if s.get("Sid") not in (USE_SID, GRANTS_SID)]


@settings(max_examples=150, deadline=None)
@given(policies(), requests)
def test_foreign_statements_are_never_altered(policy, request_):
    before = copy.deepcopy(foreign_of(policy))
    objects = [id(s) for s in foreign_of(policy)]
    _c, new, _m, _cov = kp.plan(policy, ORG, **request_)
    assert foreign_of(new) == before
    assert [id(s) for s in foreign_of(new)] == objects


@settings(max_examples=150, deadline=None)
@given(policies(), requests)
def test_applying_twice_equals_once(policy, request_):
    _c, once, _m, cov1 = kp.plan(policy, ORG, **request_)
    changed, twice, _m2, cov2 = kp.plan(copy.deepcopy(once), ORG, **request_)
    assert not changed
    assert twice == once and cov1 == cov2


@settings(max_examples=150, deadline=None)
@given(st.lists(foreign_statement, max_size=5), path_lists, st.booleans(), st.booleans())
def test_present_then_absent_restores_the_original(foreign, ou_paths, allow_grants, with_ous_on_absent):
    original = {"Version": "2012-10-17", "Statement": foreign}
    _c, granted, _m, _cov = kp.plan(copy.deepcopy(original), ORG, ou_paths, allow_grants=allow_grants)
    absent_paths = ou_paths if with_ous_on_absent else None
    _c, restored, _m, _cov = kp.plan(granted, ORG, absent_paths, state="absent")
    assert restored["Statement"] == original["Statement"]


# --- account statements --------------------------------------------------------------------------

ACC1, ACC2, ACC3 = "111122223333", "444455556666", "777788889999"


def account_statements(accounts):
    """The two account statements for these (sorted) accounts, as written out above; none for no account."""
    return [account_use_statement(accounts), account_grants_statement(accounts)] if accounts else []


def account_start(accounts):
    policy = base()
    policy["Statement"].extend(account_statements(accounts))
    return policy


# (id, accounts at the start, request, expected changed, expected granted accounts)
ACCOUNT_CASES = [
    ("accounts on empty", [], dict(account_ids=[ACC2, ACC1]), True, [ACC1, ACC2]),
    ("accounts again", [ACC1, ACC2], dict(account_ids=[ACC2, ACC1]), False, [ACC1, ACC2]),
    ("add an account", [ACC1], dict(account_ids=[ACC2]), True, [ACC1, ACC2]),
    ("add one already there", [ACC1, ACC2], dict(account_ids=[ACC1]), False, [ACC1, ACC2]),
    ("purge makes the list exact", [ACC1, ACC2], dict(account_ids=[ACC2, ACC3], purge=True), True, [ACC2, ACC3]),
    ("purge with the same list", [ACC1, ACC2], dict(account_ids=[ACC1, ACC2], purge=True), False, [ACC1, ACC2]),
    ("purge to nothing removes the statements", [ACC1], dict(account_ids=[], purge=True), True, []),
    ("present with no account changes nothing", [ACC1], dict(account_ids=[]), False, [ACC1]),
    ("absent one account", [ACC1, ACC2], dict(account_ids=[ACC1], state="absent"), True, [ACC2]),
    ("absent the last account removes the statements", [ACC1], dict(account_ids=[ACC1], state="absent"), True, []),
    ("absent an account not there", [ACC1], dict(account_ids=[ACC2], state="absent"), False, [ACC1]),
    ("absent on nothing", [], dict(account_ids=[ACC1], state="absent"), False, []),
]


@pytest.mark.parametrize("start,request_,changed,expected", [c[1:] for c in ACCOUNT_CASES], ids=[c[0] for c in ACCOUNT_CASES])
def test_plan_accounts(start, request_, changed, expected):
    policy = account_start(start)
    before = copy.deepcopy(policy)
    got_changed, new, mine, granted = kp.plan_accounts(policy, **request_)
    assert got_changed is changed
    assert granted == expected
    assert policy == before, "the input policy must not be modified"
    # both statements name exactly the granted accounts, as sorted root ARNs
    assert mine == account_statements(expected)
    assert new["Statement"] == base()["Statement"] + account_statements(expected)
    assert [id(s) for s in new["Statement"][:3]] == [id(s) for s in policy["Statement"][:3]]
    if not changed:
        assert new is policy


def test_account_statement_shape_and_partition():
    _c, new, mine, granted = kp.plan_accounts(base(), [ACC2, ACC1], partition="aws-cn")
    use, grants = mine
    arns = ["arn:aws-cn:iam::{0}:root".format(ACC1), "arn:aws-cn:iam::{0}:root".format(ACC2)]
    assert use == {"Sid": "OrgShareAccountUse", "Effect": "Allow", "Principal": {"AWS": arns},
                   "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"], "Resource": "*"}
    assert grants == {"Sid": "OrgShareAccountGrants", "Effect": "Allow", "Principal": {"AWS": arns},
                      "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*",
                      "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}
    assert new["Statement"][:3] == base()["Statement"] and granted == [ACC1, ACC2]


def test_account_statements_with_custom_actions_and_no_grants():
    _c, new, mine, _g = kp.plan_accounts(account_start([ACC1]), [ACC2], actions=["kms:Decrypt"], allow_grants=False)
    assert mine == [account_use_statement([ACC1, ACC2], actions=["kms:Decrypt"])]
    # absent narrows without touching the statement's actions
    changed, narrowed, mine, granted = kp.plan_accounts(new, [ACC1], state="absent")
    assert changed and granted == [ACC2] and mine == [account_use_statement([ACC2], actions=["kms:Decrypt"])]


def test_accounts_and_organization_statements_are_independent():
    with_org = base()
    with_org["Statement"] += [use_statement(p(A)), grants_statement(p(A))]
    changed, both, mine, _g = kp.plan_accounts(with_org, [ACC1])
    assert changed
    assert both["Statement"] == base()["Statement"] + [use_statement(p(A)), grants_statement(p(A)), account_use_statement([ACC1]),
                                                       account_grants_statement([ACC1])]
    # revoking the organization leaves the accounts; revoking the accounts leaves the organization
    _c, no_org, _m, _cov = apply(both, state="absent")
    assert no_org["Statement"] == base()["Statement"] + [account_use_statement([ACC1]), account_grants_statement([ACC1])]
    _c, no_accounts, _m, _g = kp.plan_accounts(both, [ACC1], state="absent")
    assert no_accounts["Statement"] == base()["Statement"] + [use_statement(p(A)), grants_statement(p(A))]


def test_drifted_account_statement_is_brought_back():
    drifted = {"Sid": "OrgShareAccountUse", "Effect": "Allow", "Principal": {"AWS": ACC1}, "Action": "kms:Decrypt", "Resource": "*"}
    policy = base()
    policy["Statement"].insert(1, drifted)
    changed, new, mine, granted = kp.plan_accounts(policy, [ACC2])
    assert changed and granted == [ACC1, ACC2]
    # in its place, as this collection writes it, and the grants statement appended
    assert new["Statement"] == [IAM_ROOT, account_use_statement([ACC1, ACC2]), ADMIN, SERVICE, account_grants_statement([ACC1, ACC2])]


account_ids = st.lists(st.sampled_from([ACC1, ACC2, ACC3]), max_size=3)
account_requests = st.fixed_dictionaries({
    "account_ids": account_ids,
    "state": st.sampled_from(["present", "absent"]),
    "purge": st.booleans(),
    "allow_grants": st.booleans(),
})


@settings(max_examples=100, deadline=None)
@given(policies(), account_ids, account_requests)
def test_account_plans_never_alter_foreign_statements_and_are_idempotent(policy, start, request_):
    policy["Statement"] += account_statements(sorted(set(start)))
    foreign = [s for s in policy["Statement"] if s.get("Sid") not in ACCOUNT_SIDS]
    snapshot = copy.deepcopy(foreign)
    _c, once, _m, granted = kp.plan_accounts(policy, **request_)
    assert [s for s in once["Statement"] if s.get("Sid") not in ACCOUNT_SIDS] == snapshot
    assert [id(s) for s in once["Statement"] if s.get("Sid") not in ACCOUNT_SIDS] == [id(s) for s in foreign]
    changed, twice, _m, again = kp.plan_accounts(copy.deepcopy(once), **request_)
    assert not changed and twice == once and again == granted


@settings(max_examples=100, deadline=None)
@given(st.lists(foreign_statement, max_size=5), st.lists(st.sampled_from([ACC1, ACC2, ACC3]), min_size=1, max_size=3))
def test_accounts_present_then_absent_restores_the_original(foreign, accounts):
    original = {"Version": "2012-10-17", "Statement": foreign}
    _c, granted, _m, _g = kp.plan_accounts(copy.deepcopy(original), accounts)
    _c, restored, _m, left = kp.plan_accounts(granted, accounts, state="absent")
    assert left == [] and restored["Statement"] == original["Statement"]
