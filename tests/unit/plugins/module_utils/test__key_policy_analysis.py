"""The key-policy grant analysis (analyse_key_policy, principal_access) used by ami_share_info."""

import json

import pytest

from ansible_collections.orgshare.aws.plugins.module_utils import _key_policy as kp
from ansible_collections.orgshare.aws.plugins.module_utils._key_policy import GRANTED, NOT_GRANTED, UNKNOWN

ORG = "o-abc1234567"
OTHER_ORG = "o-zzz9876543"
ORG_ARN = "arn:aws:organizations::111111111111:organization/" + ORG
OU = "ou-ab12-11111111"
OU_ARN = "arn:aws:organizations::111111111111:ou/{0}/{1}".format(ORG, OU)
OU_PATH = "{0}/r-ab12/{1}/".format(ORG, OU)
CHILD = "ou-ab12-22222222"
CHILD_PATH = OU_PATH + CHILD + "/"
SIBLING_PATH = "{0}/r-ab12/ou-ab12-33333333/".format(ORG)
ACCOUNT = "222222222222"

ADMIN = {
    "Sid": "Enable IAM User Permissions",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
    "Action": "kms:*",
    "Resource": "*",
}
LAUNCH = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
GRANTS = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]


def stmt(sid, actions, principal=None, condition=None, effect="Allow", resource="*"):
    s = {"Sid": sid, "Effect": effect, "Principal": principal if principal is not None else {"AWS": "*"},
         "Action": actions, "Resource": resource}
    if condition is not None:
        s["Condition"] = condition
    return s


def org_cond(org=ORG, op="StringEquals", paths=None, grant=False):
    c = {op: {"aws:PrincipalOrgID": org}}
    if paths is not None:
        c["ForAnyValue:StringLike"] = {"aws:PrincipalOrgPaths": paths}
    if grant:
        c["Bool"] = {"kms:GrantIsForAWSResource": "true"}
    return c


def pol(*statements):
    return {"Version": "2012-10-17", "Statement": [ADMIN] + list(statements)}


def org_pair(org=ORG, paths=None, op="StringEquals"):
    return [stmt("use", LAUNCH, condition=org_cond(org, op, paths)), stmt("grants", GRANTS, condition=org_cond(org, op, paths, True))]


def account_pair(principal):
    return [stmt("acct", LAUNCH + ["kms:CreateGrant"], principal={"AWS": principal})]


EXPLICIT_LAUNCH = ["kms:Decrypt", "kms:DescribeKey", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKeyWithoutPlaintext"]
UNKNOWN_COND = {"StringEquals": {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}}

# (id, policy, kind, value, kwargs, expected verdict)
CASES = [
    # organizations
    ("org granted", pol(*org_pair()), "organization", ORG, {}, GRANTED),
    ("org granted by arn", pol(*org_pair()), "organization", ORG_ARN, {}, GRANTED),
    ("org StringLike", pol(*org_pair(op="StringLike")), "organization", ORG, {}, GRANTED),
    ("org list value", pol(*org_pair(org=[OTHER_ORG, ORG])), "organization", ORG, {}, GRANTED),
    ("other org", pol(*org_pair(org=OTHER_ORG)), "organization", ORG, {}, NOT_GRANTED),
    ("org without grants statement", pol(org_pair()[0]), "organization", ORG, {}, NOT_GRANTED),
    ("org kms:* single statement", pol(stmt("all", "kms:*", condition=org_cond())), "organization", ORG, {}, GRANTED),
    ("org * action", pol(stmt("all", "*", condition=org_cond())), "organization", ORG, {}, GRANTED),
    ("org principal string *", pol(stmt("all", "kms:*", principal="*", condition=org_cond())), "organization", ORG, {}, GRANTED),
    ("org restricted to an OU", pol(*org_pair(paths=[OU_PATH + "*"])), "organization", ORG, {}, NOT_GRANTED),
    ("org restricted to the root", pol(*org_pair(paths=[ORG + "/r-ab12/*"])), "organization", ORG, {}, GRANTED),
    ("org, missing DescribeKey", pol(stmt("u", ["kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"], condition=org_cond()),
                                     org_pair()[1]), "organization", ORG, {}, NOT_GRANTED),
    ("org, GenerateDataKey only is not enough",
     pol(stmt("u", ["kms:Decrypt", "kms:DescribeKey", "kms:ReEncrypt*", "kms:GenerateDataKey"], condition=org_cond()), org_pair()[1]),
     "organization", ORG, {}, NOT_GRANTED),
    ("org, explicit ReEncryptFrom/To", pol(stmt("u", EXPLICIT_LAUNCH, condition=org_cond()), org_pair()[1]),
     "organization", ORG, {}, GRANTED),
    ("org, CreateGrant only under GrantIsForAWSResource covers nothing else",
     pol(stmt("g", "kms:*", condition=org_cond(grant=True))), "organization", ORG, {}, NOT_GRANTED),
    ("org, unknown condition", pol(stmt("u", LAUNCH, condition=dict(org_cond(), **UNKNOWN_COND)), org_pair()[1]),
     "organization", ORG, {}, UNKNOWN),
    ("org, unknown operator on org id", pol(*org_pair(op="ForAllValues:StringEquals")), "organization", ORG, {}, UNKNOWN),
    ("org, NotPrincipal", pol({"Effect": "Allow", "NotPrincipal": {"AWS": "x"}, "Action": "kms:*", "Resource": "*"}),
     "organization", ORG, {}, UNKNOWN),
    ("org, NotAction allow", pol({"Effect": "Allow", "Principal": "*", "NotAction": "kms:ScheduleKeyDeletion", "Resource": "*",
                                  "Condition": org_cond()}), "organization", ORG, {}, GRANTED),
    ("org, deny everyone Decrypt", pol(*org_pair() + [stmt("d", "kms:Decrypt", principal="*", effect="Deny")]),
     "organization", ORG, {}, NOT_GRANTED),
    ("org, deny with unknown condition", pol(*org_pair() + [stmt("d", "kms:Decrypt", principal="*", effect="Deny",
                                                                 condition={"Bool": {"aws:SecureTransport": "false"}})]),
     "organization", ORG, {}, UNKNOWN),
    ("org, deny outside the org", pol(*org_pair() + [stmt("d", "kms:*", principal="*", effect="Deny",
                                                          condition={"StringNotEquals": {"aws:PrincipalOrgID": ORG}})]),
     "organization", ORG, {}, GRANTED),
    ("org, deny of an unrelated action", pol(*org_pair() + [stmt("d", "kms:ScheduleKeyDeletion", principal="*", effect="Deny")]),
     "organization", ORG, {}, GRANTED),
    ("org, deny for a service principal", pol(*org_pair() + [stmt("d", "kms:*", principal={"Service": "logs.amazonaws.com"},
                                                                  effect="Deny")]), "organization", ORG, {}, GRANTED),
    ("everyone grants the org", pol(stmt("all", "kms:*", principal="*")), "organization", ORG, {}, GRANTED),
    # organizational units with a known path
    ("ou exact pattern", pol(*org_pair(paths=[OU_PATH + "*"])), "organizational_unit", OU_ARN, {"ou_path": OU_PATH}, GRANTED),
    ("ou by ancestor pattern", pol(*org_pair(paths=[ORG + "/r-ab12/*"])), "organizational_unit", OU_ARN, {"ou_path": CHILD_PATH}, GRANTED),
    ("ou by parent OU", pol(*org_pair(paths=[OU_PATH + "*"])), "organizational_unit", CHILD, {"org_id": ORG, "ou_path": CHILD_PATH},
     GRANTED),
    ("ou, only a child granted", pol(*org_pair(paths=[CHILD_PATH + "*"])), "organizational_unit", OU_ARN, {"ou_path": OU_PATH},
     NOT_GRANTED),
    ("ou, sibling granted", pol(*org_pair(paths=[SIBLING_PATH + "*"])), "organizational_unit", OU_ARN, {"ou_path": OU_PATH},
     NOT_GRANTED),
    ("ou, org-wide grant", pol(*org_pair()), "organizational_unit", OU_ARN, {"ou_path": OU_PATH}, GRANTED),
    ("ou, other org grant", pol(*org_pair(org=OTHER_ORG)), "organizational_unit", OU_ARN, {"ou_path": OU_PATH}, NOT_GRANTED),
    ("ou, mid-path wildcard that would match", pol(*org_pair(paths=[ORG + "/*/" + OU + "/*"])), "organizational_unit", OU_ARN,
     {"ou_path": OU_PATH}, UNKNOWN),
    ("ou, pattern without trailing slash", pol(*org_pair(paths=[OU_PATH[:-1] + "*"])), "organizational_unit", OU_ARN,
     {"ou_path": OU_PATH}, GRANTED),
    # organizational units without a path
    ("ou no path, pattern ends with the ou", pol(*org_pair(paths=[OU_PATH + "*"])), "organizational_unit", OU_ARN, {}, GRANTED),
    ("ou no path, org-wide", pol(*org_pair()), "organizational_unit", OU_ARN, {}, GRANTED),
    ("ou no path, root pattern", pol(*org_pair(paths=[ORG + "/r-ab12/*"])), "organizational_unit", OU_ARN, {}, GRANTED),
    ("ou no path, maybe an ancestor", pol(*org_pair(paths=[SIBLING_PATH + "*"])), "organizational_unit", OU_ARN, {}, UNKNOWN),
    ("ou no path, a child of it", pol(*org_pair(paths=[CHILD_PATH + "*"])), "organizational_unit", OU_ARN, {}, NOT_GRANTED),
    ("ou no path, other org pattern", pol(*org_pair(paths=[OTHER_ORG + "/r-ab12/*"])), "organizational_unit", OU_ARN, {}, NOT_GRANTED),
    ("ou no path, mid wildcard", pol(*org_pair(paths=[ORG + "/*/" + OU + "/*"])), "organizational_unit", OU_ARN, {}, UNKNOWN),
    # accounts
    ("account root arn", pol(*account_pair("arn:aws:iam::{0}:root".format(ACCOUNT))), "account", ACCOUNT, {}, GRANTED),
    ("account bare id", pol(*account_pair(ACCOUNT)), "account", ACCOUNT, {}, GRANTED),
    ("account in a list", pol(*account_pair(["333333333333", ACCOUNT])), "account", ACCOUNT, {}, GRANTED),
    ("other account", pol(*account_pair("333333333333")), "account", ACCOUNT, {}, NOT_GRANTED),
    ("account, a role only", pol(*account_pair("arn:aws:iam::{0}:role/x".format(ACCOUNT))), "account", ACCOUNT, {}, NOT_GRANTED),
    ("account, org-wide, membership unknown", pol(*org_pair()), "account", ACCOUNT, {}, UNKNOWN),
    ("account, org-wide, member", pol(*org_pair()), "account", ACCOUNT, {"account_org_id": ORG}, GRANTED),
    ("account, org-wide, not a member", pol(*org_pair()), "account", ACCOUNT, {"account_org_id": OTHER_ORG}, NOT_GRANTED),
    ("account, OU grant, member of org", pol(*org_pair(paths=[OU_PATH + "*"])), "account", ACCOUNT, {"account_org_id": ORG}, UNKNOWN),
    ("account, OU grant in other org", pol(*org_pair(paths=[OU_PATH + "*"])), "account", ACCOUNT, {"account_org_id": OTHER_ORG},
     NOT_GRANTED),
    ("account, OU grant, account in that OU", pol(*org_pair(paths=[OU_PATH + "*"])), "account", ACCOUNT, {"ou_path": CHILD_PATH},
     GRANTED),
    ("account, OU grant, account in a sibling", pol(*org_pair(paths=[OU_PATH + "*"])), "account", ACCOUNT,
     {"ou_path": SIBLING_PATH, "account_org_id": ORG}, NOT_GRANTED),
    ("account, OU grant, account in the parent", pol(*org_pair(paths=[CHILD_PATH + "*"])), "account", ACCOUNT, {"ou_path": OU_PATH},
     NOT_GRANTED),
    ("account, mid wildcard, path known", pol(*org_pair(paths=[ORG + "/*/" + OU + "/*"])), "account", ACCOUNT, {"ou_path": OU_PATH},
     UNKNOWN),
    ("account via aws:PrincipalAccount", pol(stmt("a", "kms:*", condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT}})),
     "account", ACCOUNT, {}, GRANTED),
    ("account, deny for it", pol(*account_pair(ACCOUNT) + [stmt("d", "kms:Decrypt", principal={"AWS": ACCOUNT}, effect="Deny")]),
     "account", ACCOUNT, {}, NOT_GRANTED),
    ("account, deny for another", pol(*account_pair(ACCOUNT) + [stmt("d", "kms:Decrypt", principal={"AWS": "333333333333"},
                                                                     effect="Deny")]), "account", ACCOUNT, {}, GRANTED),
    ("account, everyone", pol(stmt("all", "kms:*", principal={"AWS": "*"})), "account", ACCOUNT, {}, GRANTED),
    ("account, resource another key", pol(stmt("a", "kms:*", principal={"AWS": ACCOUNT}, resource="arn:aws:s3:::bucket")),
     "account", ACCOUNT, {}, UNKNOWN),
    ("empty policy", {"Version": "2012-10-17", "Statement": []}, "account", ACCOUNT, {}, NOT_GRANTED),
    ("single statement object", {"Statement": stmt("all", "kms:*", principal="*")}, "account", ACCOUNT, {}, GRANTED),
    ("lower-case condition key", pol(stmt("all", "kms:*", condition={"StringEquals": {"aws:principalorgid": ORG}})),
     "organization", ORG, {}, GRANTED),
    ("boolean true value", pol(org_pair()[0], stmt("g", GRANTS, condition={"StringEquals": {"aws:PrincipalOrgID": ORG},
                                                                           "Bool": {"kms:GrantIsForAWSResource": True}})),
     "organization", ORG, {}, GRANTED),
    ("grant condition false", pol(org_pair()[0], stmt("g", GRANTS, condition={"StringEquals": {"aws:PrincipalOrgID": ORG},
                                                                              "Bool": {"kms:GrantIsForAWSResource": "false"}})),
     "organization", ORG, {}, UNKNOWN),
]


@pytest.mark.parametrize("policy,kind,value,kwargs,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_principal_access(policy, kind, value, kwargs, expected):
    verdict, reason = kp.principal_access(policy, kind, value, **kwargs)
    assert verdict == expected, reason
    assert reason


def test_principal_access_takes_json_text():
    assert kp.principal_access(json.dumps(pol(*org_pair())), "organization", ORG)[0] == GRANTED


def test_principal_access_rejects_a_bad_kind():
    with pytest.raises(ValueError):
        kp.principal_access(pol(), "user", "x")


def test_reason_names_the_missing_actions():
    verdict, reason = kp.principal_access(pol(org_pair()[0]), "organization", ORG)
    assert verdict == NOT_GRANTED
    assert "kms:CreateGrant" in reason and "kms:Decrypt" not in reason


def test_reason_for_unknown_membership_says_so():
    verdict, reason = kp.principal_access(pol(*org_pair()), "account", ACCOUNT)
    assert verdict == UNKNOWN
    assert "organization" in reason


ANALYSES = [
    ("admin only", pol(), dict(granted_organizations=[], granted_organizational_units=[], granted_accounts=["111111111111"],
                               everyone=False, unknown_statements=[])),
    ("org and OUs of another org", pol(*org_pair() + org_pair(org=OTHER_ORG, paths=[OTHER_ORG + "/r-zz99/ou-zz99-11111111/*",
                                                                                    OTHER_ORG + "/r-zz99/ou-zz99-22222222/*"])),
     dict(granted_organizations=[ORG], granted_organizational_units=[OTHER_ORG + "/r-zz99/ou-zz99-11111111/*",
                                                                     OTHER_ORG + "/r-zz99/ou-zz99-22222222/*"],
          granted_accounts=["111111111111"], everyone=False, unknown_statements=[])),
    ("ou of the org's statement with no grants statement", pol(org_pair(paths=[OU_PATH + "*"])[0]),
     dict(granted_organizations=[], granted_organizational_units=[], granted_accounts=["111111111111"], everyone=False,
          unknown_statements=[])),
    ("accounts", pol(*account_pair(["arn:aws:iam::{0}:root".format(ACCOUNT), "333333333333"])),
     dict(granted_organizations=[], granted_organizational_units=[], granted_accounts=["111111111111", ACCOUNT, "333333333333"],
          everyone=False, unknown_statements=[])),
    ("everyone", {"Statement": [stmt("pub", "kms:*", principal="*")]},
     dict(granted_organizations=[], granted_organizational_units=[], granted_accounts=[], everyone=True, unknown_statements=[])),
    ("unknown allow and deny", pol(stmt("via", "kms:*", principal="*", condition=UNKNOWN_COND),
                                   {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
                                    "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                                   stmt("ignored deny", "kms:ScheduleKeyDeletion", principal="*", effect="Deny")),
     # the Deny might apply to the admin account too: not certainly granted
     dict(granted_organizations=[], granted_organizational_units=[], granted_accounts=[], everyone=False,
          unknown_statements=["via", 2])),
    ("mid-path wildcard is unknown", pol(*org_pair(paths=[ORG + "/*/" + OU + "/*"])),
     dict(granted_organizations=[], granted_organizational_units=[], granted_accounts=["111111111111"], everyone=False,
          unknown_statements=["use", "grants"])),
    ("deny makes the org grant unknown, so not listed",
     pol(*org_pair() + [stmt("d", "kms:*", principal="*", effect="Deny", condition=UNKNOWN_COND)]),
     dict(granted_organizations=[], granted_organizational_units=[], granted_accounts=[], everyone=False, unknown_statements=["d"])),
]


@pytest.mark.parametrize("policy,expected", [a[1:] for a in ANALYSES], ids=[a[0] for a in ANALYSES])
def test_analyse_key_policy(policy, expected):
    assert kp.analyse_key_policy(policy) == expected


def test_analysis_of_the_module_statements():
    _changed, policy, _ours, _cov = kp.plan(pol(), ORG, [OU_PATH, SIBLING_PATH])
    result = kp.analyse_key_policy(policy)
    assert result["granted_organizational_units"] == sorted([OU_PATH + "*", SIBLING_PATH + "*"])
    assert result["granted_organizations"] == []
    assert kp.principal_access(policy, "organizational_unit", OU_ARN, ou_path=CHILD_PATH)[0] == GRANTED
    _changed, policy, _ours, _cov = kp.plan(pol(), ORG)
    assert kp.analyse_key_policy(policy)["granted_organizations"] == [ORG]
    _changed, policy, _ours, _cov = kp.plan(pol(), ORG, allow_grants=False)
    assert kp.analyse_key_policy(policy)["granted_organizations"] == []


def test_analysis_of_the_account_statements():
    other = "333333333333"
    _changed, policy, _ours, _granted = kp.plan_accounts(pol(), [ACCOUNT, other])
    result = kp.analyse_key_policy(policy)
    assert result["granted_accounts"] == sorted(["111111111111", ACCOUNT, other])
    assert result["granted_organizations"] == [] and result["unknown_statements"] == [] and result["everyone"] is False
    assert kp.principal_access(policy, "account", ACCOUNT)[0] == GRANTED
    assert kp.principal_access(policy, "account", "444444444444")[0] == NOT_GRANTED
    assert kp.principal_access(policy, "organization", ORG)[0] == NOT_GRANTED
    # without the grants statement an account cannot launch (EBS needs kms:CreateGrant)
    _changed, policy, _ours, _granted = kp.plan_accounts(pol(), [ACCOUNT], allow_grants=False)
    verdict, reason = kp.principal_access(policy, "account", ACCOUNT)
    assert verdict == NOT_GRANTED and "kms:CreateGrant" in reason
    assert ACCOUNT not in kp.analyse_key_policy(policy)["granted_accounts"]
