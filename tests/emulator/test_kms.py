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
