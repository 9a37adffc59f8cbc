"""kms_org_grant end to end against the emulator: every write path in four steps, the key policy
read back through boto3; foreign statements; errors without writes; throttling; IAM actions."""

import json
import re

import pytest

from orgshare_emulator.fixtures import create_key, credentials_for

MODULE = "kms_org_grant"
ORG = "o-abc1234567"
ROOT = ORG + "/r-ab12/"
A = ROOT + "ou-ab12-aaaaaaaa/"
B = ROOT + "ou-ab12-bbbbbbbb/"
C = A + "ou-ab12-cccccccc/"
MGMT = "123456789012"

IAM_ROOT = {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "kms:*", "Resource": "*"}
ADMIN = {"Sid": "Allow access for Key Administrators", "Effect": "Allow",
         "Principal": {"AWS": ["arn:aws:iam::123456789012:role/KeyAdmin", "arn:aws:iam::123456789012:user/ops"]},
         "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
                    "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
                    "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"],
         "Resource": "*"}
SERVICE = {"Sid": "Allow CloudWatch Logs", "Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
           "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"], "Resource": "*",
           "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:123456789012:*"}}}
FOREIGN = [IAM_ROOT, ADMIN, SERVICE]

# The module's statements, written out here in the forms AWS documents (aws:PrincipalOrgID with StringEquals,
# aws:PrincipalOrgPaths with ForAnyValue:StringLike and "<path>*" entries, kms:GrantIsForAWSResource with Bool;
# whole accounts as "arn:aws:iam::<id>:root"), so that no expected value is built by the code under test.
USE_ACTIONS = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
GRANT_ACTIONS = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
ACCOUNT_SIDS = ["OrgShareAccountUse", "OrgShareAccountGrants"]


def org_condition(org, patterns):
    condition = {"StringEquals": {"aws:PrincipalOrgID": org}}
    if patterns:
        condition["ForAnyValue:StringLike"] = {"aws:PrincipalOrgPaths": list(patterns)}
    return condition


def use_statement(patterns=None, actions=tuple(USE_ACTIONS), org=ORG):
    return {"Sid": "OrgShareUse-" + org, "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": list(actions), "Resource": "*",
            "Condition": org_condition(org, patterns)}


def grants_statement(patterns=None, org=ORG):
    return {"Sid": "OrgShareGrants-" + org, "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": list(GRANT_ACTIONS), "Resource": "*",
            "Condition": dict(org_condition(org, patterns), Bool={"kms:GrantIsForAWSResource": "true"})}


def account_statements(accounts, actions=tuple(USE_ACTIONS), grants=True):
    roots = ["arn:aws:iam::%s:root" % a for a in accounts]
    statements = [{"Sid": "OrgShareAccountUse", "Effect": "Allow", "Principal": {"AWS": roots}, "Action": list(actions), "Resource": "*"}]
    if grants:
        statements.append({"Sid": "OrgShareAccountGrants", "Effect": "Allow", "Principal": {"AWS": roots}, "Action": list(GRANT_ACTIONS),
                           "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}})
    return statements


def org_paths(statement):
    """The aws:PrincipalOrgPaths patterns of one of the module's statements, or None (the whole organization)."""
    return (statement.get("Condition") or {}).get("ForAnyValue:StringLike", {}).get("aws:PrincipalOrgPaths")


def compact_size(policy):
    """The size KMS counts: the document as sent, compact JSON in UTF-8 (see the module's documentation)."""
    return len(json.dumps(policy, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def ensure_admins(aws):
    """The role and the user ADMIN names: KMS refuses a key policy whose principals do not exist."""
    iam = aws.client("iam")
    if not iam.list_roles(PathPrefix="/")["Roles"] or "KeyAdmin" not in [r["RoleName"] for r in iam.list_roles()["Roles"]]:
        iam.create_role(RoleName="KeyAdmin", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    if "ops" not in [u["UserName"] for u in iam.list_users()["Users"]]:
        iam.create_user(UserName="ops")


def new_key(aws, statements=None, alias=None, indent=2):
    ensure_admins(aws)
    policy = {"Version": "2012-10-17", "Id": "key-consolepolicy-3", "Statement": statements if statements is not None else FOREIGN}
    text = json.dumps(policy, indent=indent) if indent else json.dumps(policy, separators=(",", ":"))
    return create_key(aws.client("kms"), policy=text, alias=alias)


def warnings_of(result):
    # ansible-core >= 2.19 reports warnings as dicts
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings", [])]


def key_policy(aws, key):
    kms = aws.client("kms")
    arn = kms.describe_key(KeyId=key)["KeyMetadata"]["Arn"]  # GetKeyPolicy takes no alias
    return json.loads(kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"])


def our_sids(org, accounts):
    return (["OrgShareUse-" + org, "OrgShareGrants-" + org] if org else []) + (ACCOUNT_SIDS if accounts else [])


def ours(policy, org=ORG, accounts=False):
    return [s for s in policy["Statement"] if s.get("Sid") in our_sids(org, accounts)]


def foreign(policy, org=ORG, accounts=False):
    return [s for s in policy["Statement"] if s.get("Sid") not in our_sids(org, accounts)]


def scope_of(policy, org=ORG):
    """None, "org" or the sorted path patterns; the two statements must agree."""
    scopes = set()
    for s in ours(policy, org):
        paths = org_paths(s)
        scopes.add("org" if paths is None else tuple(sorted(paths)))
    if not scopes:
        return None
    assert len(scopes) == 1
    one = scopes.pop()
    return one if one == "org" else list(one)


def granted_accounts(policy):
    """The accounts of the account statements, read from their root-ARN principals; both statements must agree."""
    found = set()
    for s in ours(policy, org=None, accounts=True):
        principals = s["Principal"]["AWS"]
        assert principals == sorted(principals)
        found.add(tuple(p.split(":")[4] for p in principals if p.endswith(":root")))
    if not found:
        return []
    assert len(found) == 1
    return list(found.pop())


def pats(*paths):
    return sorted(p + "*" for p in paths)


def four_steps(aws, run_module, args, expected_scope, expect_change=True, org=ORG, accounts=None):
    """check (changed, nothing written) -> apply -> check (unchanged) -> apply (unchanged).

    ``accounts``: the granted accounts expected after (None: the call gives no account_ids, and
    only the organization's statements are its own)."""
    mine = dict(org=org if "organization" in args else None, accounts="account_ids" in args)
    key = args["key_id"]
    before = key_policy(aws, key)
    aws.emulator.clear_calls()
    predicted = run_module(MODULE, args, check_mode=True, diff=True)
    assert not predicted.failed, predicted.msg
    assert predicted["changed"] is expect_change
    assert aws.write_calls() == []
    assert key_policy(aws, key) == before
    assert predicted["diff"]["before"] == before

    applied = run_module(MODULE, args, diff=True)
    assert not applied.failed, applied.msg
    assert applied["changed"] is expect_change
    after = key_policy(aws, key)
    assert applied["policy"] == after
    assert predicted["policy"] == after  # check mode predicted the very document written
    assert applied["diff"] == {"before": before, "after": after}
    assert scope_of(after, org) == expected_scope
    assert applied["statements"] == ours(after, **mine)
    if accounts is not None:
        assert applied["granted_account_ids"] == accounts == granted_accounts(after)
    # foreign statements: equal, in their order
    assert foreign(after, **mine) == foreign(before, **mine)

    aws.emulator.clear_calls()
    again = run_module(MODULE, args, check_mode=True)
    assert again["changed"] is False and aws.write_calls() == []
    again = run_module(MODULE, args)
    assert again["changed"] is False and aws.write_calls() == []
    assert key_policy(aws, key) == after
    for field in ("key_id", "key_arn", "policy", "statements", "covered_by_organization", "granted_account_ids"):
        assert again[field] == applied[field] == predicted[field] or field == "policy"
    return applied


def test_organization_wide_grant(aws, run_module):
    key = new_key(aws)
    result = four_steps(aws, run_module, {"key_id": key, "organization": ORG}, "org")
    assert result["key_arn"] == key and key.endswith(result["key_id"])
    assert result["covered_by_organization"] is True
    use, grants = result["statements"]
    assert use == {"Sid": "OrgShareUse-o-abc1234567", "Effect": "Allow", "Principal": {"AWS": "*"},
                   "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
                   "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc1234567"}}}
    assert grants == {"Sid": "OrgShareGrants-o-abc1234567", "Effect": "Allow", "Principal": {"AWS": "*"},
                      "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*",
                      "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc1234567"}, "Bool": {"kms:GrantIsForAWSResource": "true"}}}
    assert key_policy(aws, key)["Statement"] == FOREIGN + [use, grants]


def test_grant_by_alias_and_organization_arn(aws, run_module):
    key = new_key(aws, alias="alias/golden")
    org_arn = "arn:aws:organizations::{0}:organization/{1}".format(MGMT, ORG)
    four_steps(aws, run_module, {"key_id": "alias/golden", "organization": org_arn}, "org")
    alias_arn = "arn:aws:kms:{0}:{1}:alias/golden".format(aws.region, MGMT)
    result = run_module(MODULE, {"key_id": alias_arn, "organization": ORG})
    assert result["changed"] is False and result["key_arn"] == key


def test_ou_paths_are_added(aws, run_module):
    key = new_key(aws)
    four_steps(aws, run_module, {"key_id": key, "organization": ORG, "organizational_units": [B, A, A]}, pats(A, B))
    result = four_steps(aws, run_module, {"key_id": key, "organization": ORG, "organizational_units": [C]}, pats(A, B, C))
    assert result["covered_by_organization"] is False
    patterns = ["o-abc1234567/r-ab12/ou-ab12-aaaaaaaa/*", "o-abc1234567/r-ab12/ou-ab12-aaaaaaaa/ou-ab12-cccccccc/*",
                "o-abc1234567/r-ab12/ou-ab12-bbbbbbbb/*"]
    assert key_policy(aws, key)["Statement"] == FOREIGN + [use_statement(patterns), grants_statement(patterns)]


def test_ous_on_an_organization_wide_grant_are_covered(aws, run_module):
    key = new_key(aws)
    run_module(MODULE, {"key_id": key, "organization": ORG})
    result = four_steps(aws, run_module, {"key_id": key, "organization": ORG, "organizational_units": [A]}, "org", expect_change=False)
    assert result["covered_by_organization"] is True


def test_purge_narrows_to_exactly_the_list(aws, run_module):
    key = new_key(aws)
    run_module(MODULE, {"key_id": key, "organization": ORG})
    four_steps(aws, run_module, {"key_id": key, "organization": ORG, "organizational_units": [A, B], "purge": True}, pats(A, B))
    four_steps(aws, run_module, {"key_id": key, "organization": ORG, "organizational_units": [C], "purge": True}, pats(C))


def test_absent_ous_then_organization(aws, run_module):
    key = new_key(aws)
    original = key_policy(aws, key)
    run_module(MODULE, {"key_id": key, "organization": ORG, "organizational_units": [A, B]})
    four_steps(aws, run_module, {"key_id": key, "organization": ORG, "organizational_units": [A], "state": "absent"}, pats(B))
    four_steps(aws, run_module, {"key_id": key, "organization": ORG, "organizational_units": [B], "state": "absent"}, None)
    assert key_policy(aws, key) == original
    run_module(MODULE, {"key_id": key, "organization": ORG, "organizational_units": [A]})
    four_steps(aws, run_module, {"key_id": key, "organization": ORG, "state": "absent"}, None)
    assert key_policy(aws, key)["Statement"] == original["Statement"]


def test_absent_ous_on_an_organization_wide_grant_warns(aws, run_module):
    key = new_key(aws)
    run_module(MODULE, {"key_id": key, "organization": ORG})
    result = four_steps(aws, run_module, {"key_id": key, "organization": ORG, "organizational_units": [A], "state": "absent"}, "org",
                        expect_change=False)
    assert any("covers the whole organization" in w for w in warnings_of(result))


def test_actions_and_allow_grants(aws, run_module):
    key = new_key(aws)
    result = four_steps(aws, run_module, {"key_id": key, "organization": ORG, "actions": ["kms:DescribeKey", "kms:Decrypt"],
                                          "allow_grants": False}, "org")
    assert [s["Sid"] for s in result["statements"]] == ["OrgShareUse-" + ORG]
    assert result["statements"][0]["Action"] == ["kms:Decrypt", "kms:DescribeKey"]
    four_steps(aws, run_module, {"key_id": key, "organization": ORG}, "org")
    assert len(ours(key_policy(aws, key))) == 2


def test_foreign_statements_survive_grants_and_revokes(aws, run_module):
    other = {"Sid": "OrgShareUse-o-zzz9876543", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-zzz9876543"}}}
    statements = [IAM_ROOT, ADMIN, other, SERVICE]
    key = new_key(aws, statements=statements)
    original = key_policy(aws, key)
    for args in ({"organization": ORG}, {"organization": ORG, "organizational_units": [A], "purge": True},
                 {"organization": ORG, "organizational_units": [B]}, {"organization": ORG, "organizational_units": [A], "state": "absent"},
                 {"organization": ORG, "state": "absent"}):
        result = run_module(MODULE, dict(args, key_id=key))
        assert not result.failed, result.msg
        policy = key_policy(aws, key)
        assert foreign(policy) == statements
        # byte for byte: each foreign statement serialises as it did
        assert [json.dumps(s) for s in foreign(policy)] == [json.dumps(s) for s in statements]
    assert key_policy(aws, key) == original


def test_a_statement_written_by_hand_is_brought_back_in_place(aws, run_module):
    drifted = {"Sid": "OrgShareUse-" + ORG, "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
    key = new_key(aws, statements=[IAM_ROOT, drifted, SERVICE])
    result = four_steps(aws, run_module, {"key_id": key, "organization": ORG}, "org")
    expected = [IAM_ROOT["Sid"], "OrgShareUse-" + ORG, SERVICE["Sid"], "OrgShareGrants-" + ORG]
    assert [s.get("Sid") for s in result["policy"]["Statement"]] == expected


def test_semantically_equal_policy_is_not_rewritten(aws, run_module):
    key = new_key(aws)
    planned = dict(key_policy(aws, key))
    planned["Statement"] = FOREIGN + [use_statement(pats(A, B)), grants_statement(pats(A, B))]
    for s in ours(planned):  # the same meaning, written differently
        s["Principal"] = "*"
        s["Action"] = list(reversed(s["Action"]))
        s["Condition"]["StringEquals"]["aws:PrincipalOrgID"] = [ORG]
    planned["Statement"].reverse()
    aws.client("kms").put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(planned))
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"key_id": key, "organization": ORG, "organizational_units": [A, B]})
    assert result["changed"] is False and aws.write_calls() == []


def test_ou_arns_and_ids_are_resolved_through_organizations(aws, run_module):
    orgs = aws.client("organizations")
    org = orgs.create_organization(FeatureSet="ALL")["Organization"]
    root = orgs.list_roots()["Roots"][0]["Id"]
    parent = orgs.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]
    child = orgs.create_organizational_unit(ParentId=parent["Id"], Name="prod")["OrganizationalUnit"]
    key = new_key(aws)
    parent_path = "{0}/{1}/{2}/".format(org["Id"], root, parent["Id"])
    args = {"key_id": key, "organization": org["Arn"], "organizational_units": [child["Arn"], parent["Id"]]}
    four_steps(aws, run_module, args, pats(parent_path, parent_path + child["Id"] + "/"), org=org["Id"])
    assert run_module(MODULE, args, check_mode=True)["changed"] is False


def test_diff_mode_when_nothing_changes(aws, run_module):
    key = new_key(aws)
    run_module(MODULE, {"key_id": key, "organization": ORG})
    result = run_module(MODULE, {"key_id": key, "organization": ORG}, diff=True)
    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"] == key_policy(aws, key)


def test_disabled_key_warns_and_grants(aws, run_module):
    key = new_key(aws)
    aws.client("kms").disable_key(KeyId=key.split("/")[-1])  # moto: DisableKey takes no ARN
    result = run_module(MODULE, {"key_id": key, "organization": ORG})
    assert result["changed"] is True
    assert any("Disabled" in w for w in warnings_of(result))
    assert scope_of(key_policy(aws, key)) == "org"


def test_key_pending_deletion_warns(aws, run_module):
    key = new_key(aws)
    aws.client("kms").schedule_key_deletion(KeyId=key.split("/")[-1], PendingWindowInDays=7)
    result = run_module(MODULE, {"key_id": key, "organization": ORG}, check_mode=True)
    assert any("PendingDeletion" in w for w in warnings_of(result))


# --- accounts ---------------------------------------------------------------------------------------

ACC1, ACC2, ACC3 = "111122223333", "444455556666", "777788889999"


def test_account_grants_present_absent_purge(aws, run_module):
    key = new_key(aws)
    original = key_policy(aws, key)
    result = four_steps(aws, run_module, {"key_id": key, "account_ids": [ACC2, ACC1, ACC2]}, None, accounts=[ACC1, ACC2])
    use, grants = result["statements"]
    roots = ["arn:aws:iam::{0}:root".format(ACC1), "arn:aws:iam::{0}:root".format(ACC2)]
    assert use == {"Sid": "OrgShareAccountUse", "Effect": "Allow", "Principal": {"AWS": roots},
                   "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
                   "Resource": "*"}
    assert grants == {"Sid": "OrgShareAccountGrants", "Effect": "Allow", "Principal": {"AWS": roots},
                      "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*",
                      "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}
    assert result["covered_by_organization"] is False
    assert key_policy(aws, key)["Statement"] == FOREIGN + account_statements([ACC1, ACC2])
    # present adds; purge makes the list exact; absent removes, and the statements go with the last account
    four_steps(aws, run_module, {"key_id": key, "account_ids": [ACC3]}, None, accounts=[ACC1, ACC2, ACC3])
    four_steps(aws, run_module, {"key_id": key, "account_ids": [ACC2, ACC3], "purge": True}, None, accounts=[ACC2, ACC3])
    four_steps(aws, run_module, {"key_id": key, "account_ids": [ACC3], "state": "absent"}, None, accounts=[ACC2])
    assert key_policy(aws, key)["Statement"] == FOREIGN + account_statements([ACC2])
    result = four_steps(aws, run_module, {"key_id": key, "account_ids": [ACC2, ACC1], "state": "absent"}, None, accounts=[])
    assert result["statements"] == []
    assert key_policy(aws, key)["Statement"] == original["Statement"]


def test_account_grants_leave_organization_and_foreign_statements_alone(aws, run_module):
    other = {"Sid": "OrgShareUse-o-zzz9876543", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-zzz9876543"}}}
    statements = [IAM_ROOT, ADMIN, other, SERVICE]
    key = new_key(aws, statements=statements)
    run_module(MODULE, {"key_id": key, "organization": ORG, "organizational_units": [A]})
    with_org = key_policy(aws, key)
    for args in ({"account_ids": [ACC1, ACC2]}, {"account_ids": [ACC3], "purge": True}, {"account_ids": [ACC1]},
                 {"account_ids": [ACC1, ACC3], "state": "absent"}):
        result = run_module(MODULE, dict(args, key_id=key))
        assert not result.failed, result.msg
        assert result["changed"] is True
        policy = key_policy(aws, key)
        # the organization's statements and every foreign one: unchanged, in their order, byte for byte
        assert [json.dumps(s) for s in foreign(policy, org=None, accounts=True)] == [json.dumps(s) for s in with_org["Statement"]]
        assert [s["Sid"] for s in result["statements"]] == (ACCOUNT_SIDS if result["granted_account_ids"] else [])
    assert key_policy(aws, key) == with_org


def test_organization_and_accounts_in_one_call(aws, run_module):
    key = new_key(aws)
    args = {"key_id": key, "organization": ORG, "organizational_units": [A], "account_ids": [ACC1]}
    result = four_steps(aws, run_module, args, pats(A), accounts=[ACC1])
    expected = [use_statement(pats(A)), grants_statement(pats(A))] + account_statements([ACC1])
    assert result["statements"] == expected
    assert key_policy(aws, key)["Statement"] == FOREIGN + expected
    # purge applies to both lists; allow_grants and actions to both pairs of statements
    args = dict(args, organizational_units=[B], account_ids=[ACC2], purge=True, allow_grants=False, actions=["kms:Decrypt"])
    result = four_steps(aws, run_module, args, pats(B), accounts=[ACC2])
    expected = [("OrgShareUse-" + ORG, ["kms:Decrypt"]), ("OrgShareAccountUse", ["kms:Decrypt"])]
    assert [(s["Sid"], s["Action"]) for s in result["statements"]] == expected
    result = four_steps(aws, run_module, dict(args, state="absent", purge=False, organizational_units=None), None, accounts=[])
    assert result["statements"] == [] and key_policy(aws, key)["Statement"] == FOREIGN


def test_organization_grant_reports_the_accounts_it_leaves_alone(aws, run_module):
    key = new_key(aws)
    run_module(MODULE, {"key_id": key, "account_ids": [ACC1]})
    result = four_steps(aws, run_module, {"key_id": key, "organization": ORG}, "org")
    assert result["granted_account_ids"] == [ACC1] == granted_accounts(key_policy(aws, key))
    assert [s["Sid"] for s in result["statements"]] == ["OrgShareUse-" + ORG, "OrgShareGrants-" + ORG]


# --- errors: the message, and nothing written ------------------------------------------------------

BAD = [
    ("malformed key id", {"key_id": "not-a-key", "organization": ORG}, r"key_id: 'not-a-key' is not a key id"),
    ("key of another region", {"key_id": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                               "organization": ORG}, r"names a key in region eu-west-1, but the module runs in region us-east-1"),
    ("unknown key", {"key_id": "1234abcd-12ab-34cd-56ef-1234567890ab", "organization": ORG},
     r"no KMS key or alias '1234abcd-12ab-34cd-56ef-1234567890ab' in region us-east-1"),
    ("unknown alias", {"key_id": "alias/nope", "organization": ORG}, r"no KMS key or alias 'alias/nope'"),
    ("AWS managed key", {"key_id": "alias/aws/ebs", "organization": ORG}, r"is an AWS managed key .*its policy cannot be changed"),
    ("bad organization", {"organization": "o-x"}, r"organization"),
    ("organization is an OU ARN", {"organization": "arn:aws:organizations::123456789012:ou/o-abc1234567/ou-ab12-aaaaaaaa"},
     r"organization"),
    ("bad OU path", {"organization": ORG, "organizational_units": [ROOT + "ou-zz99-aaaaaaaa/"]}, r"organizational_units"),
    ("OU of another organization", {"organization": ORG, "organizational_units": ["o-zzz9876543/r-ab12/ou-ab12-aaaaaaaa/"]},
     r"belongs to organization o-zzz9876543, not to o-abc1234567"),
    ("bare OU id without Organizations", {"organization": ORG, "organizational_units": ["ou-ab12-aaaaaaaa"]},
     r"organizational_units.*ou-ab12-aaaaaaaa"),
    ("bad action", {"organization": ORG, "actions": ["s3:GetObject"]}, r"actions: expected a non-empty list of KMS actions"),
    ("misspelt action", {"organization": ORG, "actions": ["kms:Decrpyt"]}, r"actions: 'kms:Decrpyt' matches no KMS action"),
    ("pattern matching nothing", {"organization": ORG, "actions": ["kms:Decrypt", "kms:Launch*"]}, r"'kms:Launch\*' matches no KMS action"),
    ("wildcard", {"organization": ORG, "actions": ["*"]}, r"actions: \* would let every consumer.*allow_wildcard_actions=true"),
    ("kms wildcard", {"organization": ORG, "actions": ["kms:Decrypt", "kms:*"]}, r"actions: kms:\* would let every consumer"),
    ("bad account id", {"account_ids": ["111122223333", "12345"]}, r"account_ids.*'12345'.*12-digit"),
    ("account ARN for an account id", {"organization": ORG, "account_ids": ["arn:aws:iam::111122223333:root"]},
     r"account_ids.*arn:aws:iam::111122223333:root"),
    ("neither organization nor accounts", {}, r"one of the following is required: organization, account_ids"),
    ("OUs without organization", {"account_ids": ["111122223333"], "organizational_units": [A]},
     r"organizational_units.*organization"),
]


@pytest.mark.parametrize("args,message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_fails_without_writing(aws, run_module, args, message):
    key = new_key(aws)
    before = key_policy(aws, key)
    full = dict({"key_id": key}, **args)
    aws.emulator.clear_calls()
    result = run_module(MODULE, full)
    assert result.failed
    assert re.search(message, result.msg), result.msg
    assert aws.write_calls() == []
    assert key_policy(aws, key) == before


def test_too_large_a_policy_fails_with_its_size(aws, run_module):
    def pad(n):
        return {"Sid": "Pad", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:Decrypt",
                "Resource": "*", "Condition": {"StringEquals": {"kms:EncryptionContext:team": ["t%05d-%s" % (i, "x" * 20) for i in range(n)]}}}

    def size(n):
        return compact_size({"Version": "2012-10-17", "Id": "key-consolepolicy-3", "Statement": [IAM_ROOT, pad(n)]})

    n = (32768 - 250 - size(0)) // 30  # each entry is 30 bytes: a document just under the limit
    assert 32768 - 300 < size(n) <= 32768
    pad = pad(n)
    key = new_key(aws, statements=[IAM_ROOT, pad], indent=None)
    before = key_policy(aws, key)
    # what the grant would make of it: the two organization statements appended
    size = compact_size(dict(before, Statement=before["Statement"] + [use_statement(), grants_statement()]))
    assert size > 32768 >= compact_size(before)
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"key_id": key, "organization": ORG})
    assert result.failed
    assert "would be {0} bytes, over the KMS limit of 32768 bytes".format(size) in result.msg
    assert aws.write_calls() == []
    # check mode says the same
    assert run_module(MODULE, {"key_id": key, "organization": ORG}, check_mode=True).msg == result.msg


def test_member_account_without_list_parents_is_told_to_give_paths(aws, run_module):
    orgs = aws.client("organizations")
    orgs.create_organization(FeatureSet="ALL")
    member = orgs.create_account(AccountName="m", Email="m@example.com")["CreateAccountStatus"]["AccountId"]
    access, secret = credentials_for(aws.emulator, member)
    key = create_key(aws.client("kms", access_key=access, secret_key=secret))
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"key_id": key, "organization": ORG, "access_key": access, "secret_key": secret,
                                 "organizational_units": ["arn:aws:organizations::123456789012:ou/o-abc1234567/ou-ab12-aaaaaaaa"]})
    assert result.failed
    assert "organization path" in result.msg and "list-parents" in result.msg
    assert aws.write_calls() == []


# --- retries and the IAM actions -------------------------------------------------------------------


def test_converges_under_30_percent_throttling(aws, run_module):
    # one grant and one revoke: both write paths, with few steps (every throttled call sleeps)
    key = new_key(aws)
    aws.emulator.inject_faults(rate=0.3, kind="throttle", seed=7)
    try:
        for args, scope in (({"organizational_units": [A, B], "account_ids": [ACC1]}, pats(A, B)),
                            ({"organizational_units": [A], "state": "absent"}, pats(B))):
            result = run_module(MODULE, dict(args, key_id=key, organization=ORG))
            assert not result.failed, result.msg
            assert result["changed"] is True
        throttled = [c for c in aws.emulator.calls if c["error"] == "ThrottlingException"]
    finally:
        aws.emulator.clear_faults()
    assert {c["action"] for c in throttled} >= {"GetKeyPolicy", "PutKeyPolicy"}, throttled
    assert scope_of(key_policy(aws, key)) == scope
    assert granted_accounts(key_policy(aws, key)) == [ACC1]
    assert foreign(key_policy(aws, key), accounts=True) == FOREIGN


def test_documented_iam_actions_are_the_actions_called(aws, run_module):
    from ansible_collections.orgshare.aws.plugins.modules import kms_org_grant

    documented = set(re.findall(r"C\(((?:kms|organizations|ec2):[A-Za-z]+)\)", kms_org_grant.DOCUMENTATION.split("IAM permissions", 1)[1]
                                .split("  - ", 1)[0]))
    orgs = aws.client("organizations")
    org = orgs.create_organization(FeatureSet="ALL")["Organization"]
    root = orgs.list_roots()["Roots"][0]["Id"]
    ou = orgs.create_organizational_unit(ParentId=root, Name="w")["OrganizationalUnit"]
    key = new_key(aws)
    # an AMI under the key: state=absent looks for the AMIs that still need the grant
    from orgshare_emulator.fixtures import make_image

    make_image(aws.client("ec2"), "under-the-key", volumes=[{"device_name": "/dev/xvda", "size": 8, "encrypted": True, "kms_key_id": key}])
    aws.emulator.clear_calls()
    for args in ({"organizational_units": [ou["Arn"]]}, {"organizational_units": [ou["Id"]], "state": "absent"}):
        result = run_module(MODULE, dict(args, key_id=key, organization=org["Id"]))
        assert not result.failed, result.msg
    assert aws.emulator.actions() == documented


def test_wildcard_actions_only_when_allowed_explicitly(aws, run_module):
    key = new_key(aws)
    result = run_module(MODULE, {"key_id": key, "organization": ORG, "actions": ["kms:*"], "allow_wildcard_actions": True})
    assert not result.failed, result.msg
    use = [s for s in key_policy(aws, key)["Statement"] if s.get("Sid") == "OrgShareUse-" + ORG]
    assert len(use) == 1 and use[0]["Action"] in ("kms:*", ["kms:*"])


def test_action_patterns_and_permission_only_actions_are_known():
    from ansible_collections.orgshare.aws.plugins.modules.kms_org_grant import validate_actions

    actions = ["kms:Decrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:ReEncryptFrom", "kms:CreateGrant", "KMS:describekey"]
    assert validate_actions(actions) == actions


@pytest.mark.parametrize("on_lost", ["fail", "warn"])
def test_statements_taken_away_after_the_write_are_noticed(aws, run_module, monkeypatch, on_lost):
    from ansible_collections.orgshare.aws.plugins.module_utils import _kms

    key = new_key(aws)
    original = json.dumps(key_policy(aws, key))
    pauses = []

    def another_writer_replaces_the_policy(seconds):
        # a writer elsewhere that does not merge puts its own document back, between our write and the check
        pauses.append(seconds)
        aws.client("kms").put_key_policy(KeyId=key, PolicyName="default", Policy=original)

    monkeypatch.setattr(_kms, "_verify_sleep", another_writer_replaces_the_policy)
    result = run_module(MODULE, {"key_id": key, "organization": ORG, "on_lost_statements": on_lost})
    assert pauses == [1.0]  # the default verify_delay
    assert key_policy(aws, key) == json.loads(original)  # our statements are really gone
    if on_lost == "fail":
        assert result.failed
        assert "were gone 1.0s after the last write" in result.msg and key in result.msg
    else:
        assert not result.failed
        assert any("were gone" in w for w in warnings_of(result))
        assert result["statements"] == []


def test_no_verifying_read_without_a_write_or_with_verify_delay_0(aws, run_module, monkeypatch):
    from ansible_collections.orgshare.aws.plugins.module_utils import _kms

    pauses = []
    monkeypatch.setattr(_kms, "_verify_sleep", pauses.append)
    key = new_key(aws)
    assert not run_module(MODULE, {"key_id": key, "organization": ORG, "verify_delay": 0}).failed
    assert not run_module(MODULE, {"key_id": key, "organization": ORG}).failed  # converged: nothing written
    assert pauses == []


def test_a_tightening_condition_someone_added_is_kept(aws, run_module):
    key = new_key(aws)
    assert not run_module(MODULE, {"key_id": key, "organization": ORG}).failed
    policy = key_policy(aws, key)
    for statement in policy["Statement"]:
        if statement.get("Sid") == "OrgShareUse-" + ORG:
            statement["Condition"]["StringEquals"]["aws:PrincipalTag/team"] = "platform"  # the security team's
    aws.client("kms").put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(policy))
    aws.emulator.clear_calls()
    # the same run again, and one that adds an OU: the tag condition stays in both
    again = run_module(MODULE, {"key_id": key, "organization": ORG})
    assert again["changed"] is False
    assert aws.write_calls() == []
    use = [st for st in key_policy(aws, key)["Statement"] if st.get("Sid") == "OrgShareUse-" + ORG][0]
    assert use["Condition"]["StringEquals"] == {"aws:PrincipalOrgID": ORG, "aws:PrincipalTag/team": "platform"}
