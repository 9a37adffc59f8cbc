"""kms_org_grant with ``keys``: many keys, in several regions, in one call, against the emulator.

The key policies are read back through boto3; the statements the module owns are written out, and
every statement that was there before must be there after, unchanged and in its place."""

import json

import pytest

from orgshare_emulator.fixtures import create_key

MODULE = "kms_org_grant"
ORG = "o-abc1234567"
ACC = "444455556666"
EU = "eu-west-1"
US = "us-east-1"  # the module's region (the aws fixture's)

IAM_ROOT = {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "kms:*", "Resource": "*"}
SERVICE = {"Sid": "Allow CloudWatch Logs", "Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
           "Action": ["kms:Encrypt*", "kms:Decrypt*"], "Resource": "*"}
FOREIGN = [IAM_ROOT, SERVICE]

ORG_USE = {"Sid": "OrgShareUse-o-abc1234567", "Effect": "Allow", "Principal": {"AWS": "*"},
           "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
           "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc1234567"}}}
ORG_GRANTS = {"Sid": "OrgShareGrants-o-abc1234567", "Effect": "Allow", "Principal": {"AWS": "*"},
              "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*",
              "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc1234567"}, "Bool": {"kms:GrantIsForAWSResource": "true"}}}
ACC_USE = {"Sid": "OrgShareAccountUse", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::444455556666:root"]},
           "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"], "Resource": "*"}
ACC_GRANTS = {"Sid": "OrgShareAccountGrants", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::444455556666:root"]},
              "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*",
              "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}
GRANTED = FOREIGN + [ORG_USE, ORG_GRANTS, ACC_USE, ACC_GRANTS]


def new_key(aws, region, alias=None):
    policy = {"Version": "2012-10-17", "Id": "key-consolepolicy-3", "Statement": FOREIGN}
    return create_key(aws.client("kms", region=region), policy=json.dumps(policy, indent=2), alias=alias)


def statements(aws, arn):
    kms = aws.client("kms", region=arn.split(":")[3])
    return json.loads(kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"])["Statement"]


def two_keys(aws):
    """A key in the module's region (named by alias, no region given) and one in eu-west-1 (by ARN)."""
    us = new_key(aws, US, alias="alias/golden")
    eu = new_key(aws, EU)
    return us, eu, [{"key_id": "alias/golden"}, {"key_id": eu, "region": EU}]


def test_two_keys_in_two_regions_in_one_call(aws, run_module):
    us, eu, keys = two_keys(aws)
    args = {"keys": keys, "organization": ORG, "account_ids": [ACC]}
    result = run_module(MODULE, args)
    assert not result.failed, result.msg
    assert result["changed"] is True
    assert statements(aws, us) == GRANTED
    assert statements(aws, eu) == GRANTED
    entries = result["keys"]
    assert [(e["region"], e["key_arn"], e["kms_key_arn"], e["changed"]) for e in entries] == [(US, us, us, True), (EU, eu, eu, True)]
    assert [e["key_id"] for e in entries] == [us.split("/")[-1], eu.split("/")[-1]]
    for entry, arn in zip(entries, (us, eu)):
        assert entry["statements"] == [ORG_USE, ORG_GRANTS, ACC_USE, ACC_GRANTS]
        assert entry["covered_by_organization"] is True
        assert entry["granted_account_ids"] == [ACC]
        assert entry["policy"]["Statement"] == statements(aws, arn)
        assert "diff" not in entry
    for single in ("key_id", "key_arn", "policy", "statements"):
        assert single not in result

    aws.emulator.clear_calls()
    again = run_module(MODULE, args)
    assert not again.failed, again.msg
    assert again["changed"] is False
    assert [e["changed"] for e in again["keys"]] == [False, False]
    assert aws.write_calls() == []
    assert statements(aws, us) == GRANTED and statements(aws, eu) == GRANTED


def test_check_mode_predicts_per_key_and_writes_nothing(aws, run_module):
    us, eu, keys = two_keys(aws)
    run_module(MODULE, {"key_id": us, "organization": ORG})  # the first key is granted already
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"keys": keys, "organization": ORG}, check_mode=True, diff=True)
    assert not result.failed, result.msg
    assert aws.write_calls() == []
    assert result["changed"] is True
    first, second = result["keys"]
    assert (first["region"], first["changed"], second["region"], second["changed"]) == (US, False, EU, True)
    assert first["statements"] == second["statements"] == [ORG_USE, ORG_GRANTS]
    assert second["diff"]["before"]["Statement"] == FOREIGN
    assert second["diff"]["after"]["Statement"] == FOREIGN + [ORG_USE, ORG_GRANTS]
    assert first["diff"]["before"] == first["diff"]["after"]
    # the top-level diff (what ansible-playbook --diff prints): the changed key only, headed with the key and region
    assert [(d["before_header"], d["after_header"]) for d in result["diff"]] == [
        ("%s in eu-west-1 (before)" % eu, "%s in eu-west-1 (after)" % eu)]
    assert result["diff"][0]["after"]["Statement"] == FOREIGN + [ORG_USE, ORG_GRANTS]
    assert statements(aws, us) == FOREIGN + [ORG_USE, ORG_GRANTS]
    assert statements(aws, eu) == FOREIGN


def test_a_missing_key_fails_the_call_and_the_others_are_granted(aws, run_module):
    us = new_key(aws, US)
    result = run_module(MODULE, {"keys": [{"key_id": "alias/missing", "region": EU}, {"key_id": us}], "organization": ORG})
    assert result.failed
    assert result.msg == ("1 of 2 target(s) failed (the others were applied): alias/missing in eu-west-1: "
                          "keys[0].key_id: no KMS key or alias 'alias/missing' in region eu-west-1")
    assert result["changed"] is True
    missing, granted = result["keys"]
    assert missing == {"key_id": "alias/missing", "region": EU, "failed": True, "error_kind": "refused",
                       "msg": "keys[0].key_id: no KMS key or alias 'alias/missing' in region eu-west-1"}
    assert (granted["kms_key_arn"], granted["region"], granted["changed"]) == (us, US, True)
    assert statements(aws, us) == FOREIGN + [ORG_USE, ORG_GRANTS]


def test_an_aws_managed_key_fails_and_the_others_are_granted(aws, run_module):
    eu = new_key(aws, EU)
    result = run_module(MODULE, {"keys": [{"key_id": eu, "region": EU}, {"key_id": "alias/aws/ebs"}], "account_ids": [ACC]})
    assert result.failed
    assert result.msg.startswith("1 of 2 target(s) failed (the others were applied): alias/aws/ebs in us-east-1: "
                                 "keys[1].key_id: 'alias/aws/ebs' is an AWS managed key (arn:aws:kms:us-east-1:123456789012:key/")
    assert (result["keys"][1]["failed"], result["keys"][1]["error_kind"], result["keys"][1]["region"]) == (True, "refused", US)
    assert statements(aws, eu) == FOREIGN + [ACC_USE, ACC_GRANTS]


def test_two_names_of_one_key_both_fail_and_the_key_is_left_alone(aws, run_module):
    us = new_key(aws, US, alias="alias/golden")
    eu = new_key(aws, EU)
    result = run_module(MODULE, {"keys": [{"key_id": "alias/golden"}, {"key_id": eu, "region": EU}, {"key_id": us}],
                                 "organization": ORG})
    assert result.failed
    same = "keys[0] ('alias/golden'), keys[2] ({0!r}) are the same key {0}; list each key once (none of them was changed)".format(us)
    assert result.msg == ("2 of 3 target(s) failed (the others were applied): alias/golden in us-east-1: keys[0].key_id: {0}; "
                          "{1} in us-east-1: keys[2].key_id: {0}".format(same, us))
    assert [e.get("failed", False) for e in result["keys"]] == [True, False, True]
    assert statements(aws, us) == FOREIGN
    assert statements(aws, eu) == FOREIGN + [ORG_USE, ORG_GRANTS]


def test_state_absent_removes_the_statements_from_every_key(aws, run_module):
    us, eu, keys = two_keys(aws)
    assert not run_module(MODULE, {"keys": keys, "organization": ORG, "account_ids": [ACC]}).failed
    assert statements(aws, us) == statements(aws, eu) == GRANTED
    result = run_module(MODULE, {"keys": keys, "organization": ORG, "account_ids": [ACC], "state": "absent"})
    assert not result.failed, result.msg
    assert result["changed"] is True
    assert [(e["region"], e["changed"], e["statements"], e["granted_account_ids"]) for e in result["keys"]] == [
        (US, True, [], []), (EU, True, [], [])]
    assert statements(aws, us) == FOREIGN
    assert statements(aws, eu) == FOREIGN


def test_single_key_result_gains_region_and_kms_key_arn(aws, run_module):
    eu = new_key(aws, EU)
    result = run_module(MODULE, {"key_id": eu, "organization": ORG}, region=EU)
    assert not result.failed, result.msg
    assert (result["region"], result["kms_key_arn"], result["key_arn"]) == (EU, eu, eu)
    assert "keys" not in result
    assert statements(aws, eu) == FOREIGN + [ORG_USE, ORG_GRANTS]


GOOD = {"key_id": "alias/golden"}
KEY = "1234abcd-12ab-34cd-56ef-1234567890ab"
BAD = [
    ("malformed key id", [GOOD, {"key_id": "not a key"}],
     "keys[1].key_id: 'not a key' is not a key id (1234abcd-12ab-34cd-56ef-1234567890ab or mrk-...), a key ARN "
     "(arn:aws:kms:REGION:ACCOUNT:key/KEY_ID), an alias name (alias/NAME) or an alias ARN (arn:aws:kms:REGION:ACCOUNT:alias/NAME)"),
    ("bad region", [GOOD, {"key_id": KEY, "region": "eu-west"}],
     "keys[1].region: 'eu-west' is not a region name; expected a name like 'eu-west-1'"),
    ("ARN of another region than the module's", [{"key_id": "arn:aws:kms:eu-west-1:123456789012:key/" + KEY}],
     "keys[0].key_id: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' names a key in region "
     "eu-west-1, but keys[0].region (the module's region) is us-east-1 (KMS keys are regional)"),
    ("ARN of another region than the element's", [GOOD, {"key_id": "arn:aws:kms:us-east-1:123456789012:key/" + KEY, "region": EU}],
     "keys[1].key_id: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' names a key in region "
     "us-east-1, but keys[1].region is eu-west-1 (KMS keys are regional)"),
    ("listed twice", [GOOD, {"key_id": "alias/golden", "region": US}], "keys[1]: alias/golden in us-east-1 is listed more than once"),
    ("empty list", [], "keys: give at least one element {key_id, region}"),
    # unknown and missing suboptions are refused by Ansible's argument validation, which names the option but not the element
    ("unknown key", [GOOD, {"key_id": KEY, "key": "alias/golden"}],
     "Unsupported parameters for (orgshare.aws.kms_org_grant) module: keys.key. Supported parameters include: key_id, region."),
    ("no key_id", [GOOD, {"region": EU}], "missing required arguments: key_id found in keys"),
    ("only an unknown key", [{"key": "alias/golden"}], "missing required arguments: key_id found in keys"),
]


@pytest.mark.parametrize("keys,message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_malformed_element_fails_the_call_without_any_aws_call(aws, run_module, keys, message):
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"keys": keys, "organization": ORG})
    assert result.failed
    assert message in result.msg, result.msg
    assert aws.emulator.calls == []


def test_malformed_elements_are_refused_before_the_ous_are_resolved(aws, run_module):
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"keys": [{"key_id": "alias/golden", "region": "nowhere"}], "organization": ORG,
                                 "organizational_units": ["arn:aws:organizations::123456789012:ou/o-abc1234567/ou-ab12-aaaaaaaa"]})
    assert result.msg == "keys[0].region: 'nowhere' is not a region name; expected a name like 'eu-west-1'"
    assert aws.emulator.calls == []


@pytest.mark.parametrize("args,message", [
    ({"key_id": "alias/golden", "keys": [GOOD]}, "parameters are mutually exclusive: key_id|keys"),
    ({}, "one of the following is required: key_id, keys"),
], ids=["key_id and keys", "neither"])
def test_key_id_and_keys_argument_errors(aws, run_module, args, message):
    aws.emulator.clear_calls()
    result = run_module(MODULE, dict(args, organization=ORG))
    assert result.failed
    assert message in result.msg, result.msg
    assert aws.emulator.calls == []


def test_a_disabled_key_is_granted_with_a_warning_naming_its_element(aws, run_module):
    us, eu, keys = two_keys(aws)
    aws.client("kms", region=EU).disable_key(KeyId=eu.split("/")[-1])  # moto: DisableKey takes no ARN
    result = run_module(MODULE, {"keys": keys, "organization": ORG})
    assert not result.failed, result.msg
    warnings = [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings", [])]
    assert warnings == ["keys[1] ({0} in eu-west-1): Key {0} is in state Disabled: the grant is written, "
                        "but nobody can use the key until it is enabled".format(eu)]
    assert statements(aws, us) == statements(aws, eu) == FOREIGN + [ORG_USE, ORG_GRANTS]
