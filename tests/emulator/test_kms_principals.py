"""KMS key-policy rules about principals (emulator/orgshare_emulator/kms.py, sources there and in docs/emulator.md):
principals must exist, a deleted user's or role's ARN turns into its unique id, the lockout safety check, and a
statement without Action is accepted (ineffective) as PutKeyPolicy's documentation says."""

import json

from emulator_helpers import error_of, raw_client
from orgshare_emulator.fixtures import create_key, default_key_policy

INVALID = "Policy contains a statement with one or more invalid principals."
LOCKOUT = "The new key policy will not allow you to update the key policy in the future."


def with_statement(aws, statement):
    doc = json.loads(default_key_policy(aws.account_id))
    doc["Statement"].append(statement)
    return json.dumps(doc)


def use(principal):
    return {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": principal}, "Action": "kms:Decrypt", "Resource": "*"}


def test_a_role_that_does_not_exist_is_an_invalid_principal_until_it_is_created(aws):
    kms, iam = raw_client(aws, "kms"), raw_client(aws, "iam")
    key = create_key(kms)
    before = kms.get_key_policy(KeyId=key)["Policy"]
    arn = "arn:aws:iam::%s:role/ImageConsumers" % aws.account_id
    assert error_of(kms.put_key_policy, KeyId=key, Policy=with_statement(aws, use(arn))) == ("MalformedPolicyDocumentException", INVALID)
    assert kms.get_key_policy(KeyId=key)["Policy"] == before
    iam.create_role(RoleName="ImageConsumers", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    kms.put_key_policy(KeyId=key, Policy=with_statement(aws, use(arn)))
    assert use(arn) in json.loads(kms.get_key_policy(KeyId=key)["Policy"])["Statement"]


def test_unique_ids_are_invalid_principals(aws):
    kms = raw_client(aws, "kms")
    key = create_key(kms)
    for value in ("AROAEXAMPLEEXAMPLE123", "AIDACKCEVSQ6C2EXAMPLE", ["arn:aws:iam::%s:root" % aws.account_id, "AROAEXAMPLEEXAMPLE123"]):
        assert error_of(kms.put_key_policy, KeyId=key, Policy=with_statement(aws, use(value))) == ("MalformedPolicyDocumentException", INVALID)
    assert error_of(kms.create_key, Policy=with_statement(aws, use("AIDACKCEVSQ6C2EXAMPLE")))[0] == "MalformedPolicyDocumentException"


def test_deleting_a_role_or_user_leaves_its_unique_id_and_the_policy_can_no_longer_be_written_as_it_is(aws):
    kms, iam = raw_client(aws, "kms"), raw_client(aws, "iam")
    role = iam.create_role(RoleName="Builder", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))["Role"]
    user = iam.create_user(UserName="ops")["User"]
    key = create_key(kms, policy=with_statement(aws, use([role["Arn"], user["Arn"]])))
    iam.delete_role(RoleName="Builder")
    iam.delete_user(UserName="ops")
    policy = kms.get_key_policy(KeyId=key)["Policy"]
    principals = [s for s in json.loads(policy)["Statement"] if s["Sid"] == "Use"][0]["Principal"]["AWS"]
    assert role["Arn"] not in policy and user["Arn"] not in policy
    assert principals[0] == role["RoleId"] and role["RoleId"].startswith("AROA")
    assert principals[1].startswith("AIDA") and len(principals[1]) == 21
    # the same document, as read, is refused: the principals are gone
    assert error_of(kms.put_key_policy, KeyId=key, Policy=policy) == ("MalformedPolicyDocumentException", INVALID)


def test_lockout_safety_check(aws):
    kms = raw_client(aws, "kms")
    key = create_key(kms)
    before = kms.get_key_policy(KeyId=key)["Policy"]
    only_use = json.dumps({"Version": "2012-10-17", "Statement": [use("arn:aws:iam::%s:root" % aws.account_id)]})
    assert error_of(kms.put_key_policy, KeyId=key, Policy=only_use) == ("MalformedPolicyDocumentException", LOCKOUT)
    assert error_of(kms.create_key, Policy=only_use) == ("MalformedPolicyDocumentException", LOCKOUT)
    assert kms.get_key_policy(KeyId=key)["Policy"] == before
    # other accounts' PutKeyPolicy does not count for the caller
    other = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]})
    assert error_of(kms.put_key_policy, KeyId=key, Policy=other)[1] == LOCKOUT
    # a pattern that covers PutKeyPolicy does, and the bypass skips the check
    put_star = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": aws.account_id}, "Action": ["kms:Put*"], "Resource": "*"}]})
    kms.put_key_policy(KeyId=key, Policy=put_star)
    kms.put_key_policy(KeyId=key, Policy=only_use, BypassPolicyLockoutSafetyCheck=True)
    assert json.loads(kms.get_key_policy(KeyId=key)["Policy"]) == json.loads(only_use)


def test_a_statement_without_action_or_resource_is_accepted(aws):
    kms = raw_client(aws, "kms")
    key = create_key(kms)
    odd = {"Sid": "NoAction", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % aws.account_id}}
    kms.put_key_policy(KeyId=key, Policy=with_statement(aws, odd))
    assert odd in json.loads(kms.get_key_policy(KeyId=key)["Policy"])["Statement"]
