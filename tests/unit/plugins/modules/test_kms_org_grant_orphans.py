"""kms_org_grant and a key policy that names a deleted IAM user or role (shown as its unique id, which KMS refuses to
write back): fails before any write naming it, or drops it with drop_orphaned_principals=true. Policies are read back
through boto3."""

import json

import botocore.exceptions
import pytest

from orgshare_emulator.fixtures import create_key

from ansible_collections.orgshare.aws.plugins.module_utils import _kms
from ansible_collections.orgshare.aws.plugins.module_utils._api import OrgShareKMSError

MODULE = "kms_org_grant"
ORG = "o-abc1234567"
ROOT = {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "kms:*", "Resource": "*"}


def admins(arns):
    return {"Sid": "Key administrators", "Effect": "Allow", "Principal": {"AWS": arns}, "Action": ["kms:Describe*", "kms:Put*"],
            "Resource": "*"}


def builders(arn):
    return {"Sid": "Builders", "Effect": "Allow", "Principal": {"AWS": arn}, "Action": "kms:Decrypt", "Resource": "*"}


def key_with_deleted_role(aws):
    """A key whose policy names role Builder (in two statements) and user ops; then the role is deleted."""
    iam = aws.client("iam")
    role = iam.create_role(RoleName="Builder", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))["Role"]
    user = iam.create_user(UserName="ops")["User"]
    key = create_key(aws.client("kms"), policy=json.dumps(
        {"Version": "2012-10-17", "Statement": [ROOT, admins([user["Arn"], role["Arn"]]), builders(role["Arn"])]}))
    iam.delete_role(RoleName="Builder")
    return key, role["RoleId"], user["Arn"]


def policy_of(aws, key):
    kms = aws.client("kms")
    arn = kms.describe_key(KeyId=key)["KeyMetadata"]["Arn"]
    return json.loads(kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"])


def warnings_of(result):
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings", [])]


@pytest.mark.parametrize("check_mode", [False, True])
def test_fails_before_any_write_naming_the_statements_and_ids(aws, run_module, check_mode):
    key, role_id, _user = key_with_deleted_role(aws)
    before = policy_of(aws, key)
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"key_id": key, "organization": ORG}, check_mode=check_mode)
    assert result.failed
    assert "names deleted IAM users or roles" in result.msg
    assert "statement Key administrators (%s)" % role_id in result.msg
    assert "statement Builders (%s)" % role_id in result.msg
    assert "drop_orphaned_principals=true" in result.msg
    assert aws.write_calls() == []
    assert policy_of(aws, key) == before


def test_drop_removes_them_and_grants(aws, run_module):
    key, role_id, user_arn = key_with_deleted_role(aws)
    result = run_module(MODULE, {"key_id": key, "organization": ORG, "drop_orphaned_principals": True})
    assert not result.failed, result.msg
    assert result["changed"] is True
    assert result["dropped_principals"] == [{"sid": "Key administrators", "principals": [role_id]},
                                            {"sid": "Builders", "principals": [role_id]}]
    assert any(w.startswith("Dropped the deleted IAM user(s) / role(s) %s from statement Key administrators" % role_id)
               for w in warnings_of(result))
    statements = policy_of(aws, key)["Statement"]
    # the administrators keep the user; the builders' statement named only the deleted role, so it went
    assert statements[:2] == [ROOT, admins(user_arn)]
    assert [s["Sid"] for s in statements[2:]] == ["OrgShareUse-" + ORG, "OrgShareGrants-" + ORG]
    again = run_module(MODULE, {"key_id": key, "organization": ORG, "drop_orphaned_principals": True})
    assert again["changed"] is False and again["dropped_principals"] == []


def test_a_policy_that_needs_no_write_is_left_alone(aws, run_module):
    key = create_key(aws.client("kms"), policy=json.dumps({"Version": "2012-10-17", "Statement": [ROOT]}))
    assert not run_module(MODULE, {"key_id": key, "organization": ORG}).failed
    iam = aws.client("iam")
    role = iam.create_role(RoleName="Builder", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))["Role"]
    doc = policy_of(aws, key)
    doc["Statement"].insert(1, builders(role["Arn"]))
    aws.client("kms").put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(doc))
    iam.delete_role(RoleName="Builder")
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"key_id": key, "organization": ORG})
    assert not result.failed, result.msg
    assert result["changed"] is False
    assert aws.write_calls() == []


def test_put_key_policy_refusing_principals_is_explained():
    error = botocore.exceptions.ClientError(
        {"Error": {"Code": "MalformedPolicyDocumentException", "Message": "Policy contains a statement with one or more invalid principals."}},
        "PutKeyPolicy")
    explained = _kms._explained(OrgShareKMSError(message="Failed to put the policy of key k", exception=error), "arn:aws:kms:us-east-1:1:key/k")
    assert isinstance(explained, _kms.KeyPolicyRefusedError)
    assert explained.message.startswith("KMS refused the policy of key arn:aws:kms:us-east-1:1:key/k: Policy contains a statement")
    assert "an IAM user or role that does not exist" in explained.message
    other = OrgShareKMSError(message="m", exception=botocore.exceptions.ClientError(
        {"Error": {"Code": "MalformedPolicyDocumentException", "Message": "too long"}}, "PutKeyPolicy"))
    assert _kms._explained(other, "k") is other
