"""kms_org_grant: a change someone made to one of the collection's own statements (a narrowing condition, a narrower
Principal) is kept by default; replace_modified_statements=true removes it, with a warning that names it. The key
policy is read back through boto3."""

import json

import pytest

from orgshare_emulator.fixtures import create_key, credentials_for

MODULE = "kms_org_grant"
ORG = "o-abc1234567"
IAM_ROOT = {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "kms:*", "Resource": "*"}
# The statement as this collection writes it for the whole organization (AWS's documented form:
# "Allow use of the key" with aws:PrincipalOrgID), written out by hand.
USE = {
    "Sid": "OrgShareUse-" + ORG,
    "Effect": "Allow",
    "Principal": {"AWS": "*"},
    "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
    "Resource": "*",
    "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}},
}
ROLE = "arn:aws:iam::111122223333:role/ImageConsumers"


def key_with(aws, use_statement):
    policy = {"Version": "2012-10-17", "Statement": [IAM_ROOT, use_statement]}
    return create_key(aws.client("kms"), policy=json.dumps(policy))


def use_statement(aws, key):
    kms = aws.client("kms")
    arn = kms.describe_key(KeyId=key)["KeyMetadata"]["Arn"]
    policy = json.loads(kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"])
    return [s for s in policy["Statement"] if s.get("Sid") == "OrgShareUse-" + ORG][0]


def warnings_of(result):
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings", [])]


def tightened():
    statement = json.loads(json.dumps(USE))
    statement["Condition"]["StringEquals"]["aws:PrincipalTag/team"] = "platform"
    return statement


def test_by_default_the_change_is_kept_and_nothing_written(aws, run_module):
    key = key_with(aws, tightened())
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"key_id": key, "organization": ORG, "allow_grants": False})
    assert not result.failed, result.msg
    assert result["changed"] is False
    assert result["replaced_statements"] == []
    assert aws.write_calls() == []
    assert use_statement(aws, key)["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORG, "aws:PrincipalTag/team": "platform"}}
    assert not any("replace" in w.lower() for w in warnings_of(result))


@pytest.mark.parametrize("check_mode", [True, False])
def test_replace_removes_the_condition_with_a_warning(aws, run_module, check_mode):
    key = key_with(aws, tightened())
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"key_id": key, "organization": ORG, "allow_grants": False, "replace_modified_statements": True},
                        check_mode=check_mode)
    assert not result.failed, result.msg
    assert result["changed"] is True
    assert result["replaced_statements"] == [
        {"sid": "OrgShareUse-" + ORG, "conditions": {"StringEquals": {"aws:PrincipalTag/team": "platform"}}, "principal": None}
    ]
    verb = "Would replace" if check_mode else "Replaced"
    assert any(w.startswith("%s statement OrgShareUse-%s of key arn:aws:kms:" % (verb, ORG)) and "aws:PrincipalTag/team" in w
               for w in warnings_of(result)), warnings_of(result)
    if check_mode:
        assert aws.write_calls() == []
        assert use_statement(aws, key) == tightened()
    else:
        assert use_statement(aws, key) == USE
        # converged: a second run changes nothing and warns nothing
        again = run_module(MODULE, {"key_id": key, "organization": ORG, "allow_grants": False, "replace_modified_statements": True})
        assert again["changed"] is False and again["replaced_statements"] == []
        assert warnings_of(again) == []


def test_replace_widens_a_narrower_principal_back(aws, run_module):
    # KMS refuses a key policy that names a role that does not exist: make it, in its account
    access_key, secret_key = credentials_for(aws.emulator, "111122223333")
    aws.client("iam", access_key=access_key, secret_key=secret_key).create_role(
        RoleName="ImageConsumers", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    narrowed = dict(USE, Principal={"AWS": ROLE})
    key = key_with(aws, narrowed)
    kept = run_module(MODULE, {"key_id": key, "organization": ORG, "allow_grants": False})
    assert kept["changed"] is False
    assert use_statement(aws, key)["Principal"] == {"AWS": ROLE}
    result = run_module(MODULE, {"key_id": key, "organization": ORG, "allow_grants": False, "replace_modified_statements": True})
    assert result["changed"] is True
    assert result["replaced_statements"] == [{"sid": "OrgShareUse-" + ORG, "conditions": {}, "principal": {"AWS": ROLE}}]
    assert any("Principal" in w and ROLE in w for w in warnings_of(result))
    assert use_statement(aws, key)["Principal"] == {"AWS": "*"}
