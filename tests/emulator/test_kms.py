"""(d) KMS: key-policy validation, the AWS managed key's policy is fixed, PolicyName default."""

import json

from emulator_helpers import error_of, raw_client
from orgshare_emulator.fixtures import create_key, default_key_policy


def test_put_key_policy_rejects_invalid_json(aws):
    kms = raw_client(aws, "kms")
    key = create_key(kms)
    before = kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"]
    for bad in ("{not json", json.dumps({"Version": "2012-10-17"}), json.dumps([1, 2]), json.dumps({"Statement": [{"Effect": "Allow"}]})):
        code, dummy = error_of(kms.put_key_policy, KeyId=key, PolicyName="default", Policy=bad)
        assert code == "MalformedPolicyDocumentException"
    assert kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"] == before
    assert error_of(kms.create_key, Policy="{not json")[0] == "MalformedPolicyDocumentException"


def test_put_key_policy_size_limit_is_32768_bytes(aws):
    kms = raw_client(aws, "kms")
    key = create_key(kms)
    doc = json.loads(default_key_policy(aws.account_id))
    base = len(json.dumps(doc).encode())
    doc["Statement"][0]["Sid"] = "x" * (32768 - base + len("Enable IAM User Permissions"))
    exact = json.dumps(doc)
    assert len(exact.encode()) == 32768
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=exact)
    doc["Statement"][0]["Sid"] += "x"
    code, dummy = error_of(kms.put_key_policy, KeyId=key, PolicyName="default", Policy=json.dumps(doc))
    assert code == "LimitExceededException"
    assert kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"] == exact


def test_aws_managed_key_policy_cannot_be_changed(aws):
    kms = raw_client(aws, "kms")
    meta = kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]
    assert meta["KeyManager"] == "AWS"
    before = kms.get_key_policy(KeyId=meta["Arn"])["Policy"]
    assert "kms:ViaService" in before
    code, message = error_of(kms.put_key_policy, KeyId=meta["KeyId"], PolicyName="default", Policy=default_key_policy(aws.account_id))
    assert code == "AccessDeniedException" and "kms:PutKeyPolicy" in message
    assert kms.get_key_policy(KeyId=meta["KeyId"])["Policy"] == before


def test_policy_name_defaults_to_default(aws):
    kms = raw_client(aws, "kms")
    key = create_key(kms, policy=default_key_policy(aws.account_id))
    got = kms.get_key_policy(KeyId=key)
    assert json.loads(got["Policy"]) == json.loads(default_key_policy(aws.account_id))
    new = json.loads(default_key_policy(aws.account_id))
    new["Statement"][0]["Sid"] = "Changed"
    kms.put_key_policy(KeyId=key, Policy=json.dumps(new))
    assert json.loads(kms.get_key_policy(KeyId=key)["Policy"])["Statement"][0]["Sid"] == "Changed"
    assert error_of(kms.get_key_policy, KeyId=key, PolicyName="other")[0] == "NotFoundException"


def test_disable_key_accepts_a_key_arn(aws):
    kms = raw_client(aws, "kms")
    key = create_key(kms)
    kms.disable_key(KeyId=key)
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["Enabled"] is False


def test_a_statement_without_a_principal_is_refused(aws):
    """PutKeyPolicy ``Policy`` (botocore's KMS model): "Each statement in the key policy must contain one or more
    principals"; MalformedPolicyDocumentException, an error of PutKeyPolicy and CreateKey there: "The request was rejected
    because the specified policy is not syntactically or semantically correct." The rest of the policy is the default one
    (the account may manage the key), so only that rule refuses it. The stored policy is unchanged, no key is created."""
    kms = raw_client(aws, "kms")
    key = create_key(kms)
    before = kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"]
    doc = json.loads(default_key_policy(aws.account_id))
    doc["Statement"].append({"Sid": "NoPrincipal", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"})
    code, dummy = error_of(kms.put_key_policy, KeyId=key, PolicyName="default", Policy=json.dumps(doc))
    assert code == "MalformedPolicyDocumentException"
    assert kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"] == before
    assert error_of(kms.create_key, Policy=json.dumps(doc))[0] == "MalformedPolicyDocumentException"
    assert [k["KeyId"] for k in kms.list_keys()["Keys"]] == [kms.describe_key(KeyId=key)["KeyMetadata"]["KeyId"]]


def test_list_aliases_shows_a_predefined_alias_without_a_key_until_it_has_one(aws):
    """ListAliases (botocore's KMS model): "The response might also include aliases that have no TargetKeyId field.
    These are predefined aliases that Amazon Web Services has created but has not yet associated with a KMS key."
    DescribeKey (same model): "Amazon Web Services services use DescribeKey to create Amazon Web Services managed keys from
    a predefined Amazon Web Services alias with no key ID"; then the alias lists its key."""
    kms = raw_client(aws, "kms", region="ap-south-1")  # a region no other call of this test touches
    aliases = {a["AliasName"]: a for a in kms.list_aliases()["Aliases"]}
    assert "TargetKeyId" not in aliases["alias/aws/ebs"]
    assert kms.list_keys()["Keys"] == []  # listing made no key
    key_id = kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["KeyId"]
    aliases = {a["AliasName"]: a for a in kms.list_aliases()["Aliases"]}
    assert aliases["alias/aws/ebs"]["TargetKeyId"] == key_id
    assert [a["AliasName"] for a in kms.list_aliases(KeyId=key_id)["Aliases"]] == ["alias/aws/ebs"]
