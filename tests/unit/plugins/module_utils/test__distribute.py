"""The role's plan (module_utils/_distribute.py): pure tables, no AWS, no Ansible run.

Expected values are written out literally."""

import os

import pytest
import yaml

from ansible_collections.orgshare.aws.plugins.module_utils import _distribute as d

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
with open(os.path.join(ROOT, "roles", "ami_distribute", "meta", "argument_specs.yml")) as f:
    SPECS = yaml.safe_load(f)

SRC = "ami-0123456789abcdef0"
ORG = "arn:aws:organizations::111122223333:organization/o-a1b2c3d4e5"
ORG2 = "arn:aws:organizations::444455556666:organization/o-zzzzzzzzzz"
OU1 = "arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-11111111"
OU2 = "arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-22222222"
OU3 = "arn:aws:organizations::444455556666:ou/o-zzzzzzzzzz/ou-zz12-33333333"
KEY_W2 = "arn:aws:kms:us-west-2:123456789012:key/11111111-1111-1111-1111-111111111111"
KEY_E1 = "arn:aws:kms:us-east-1:123456789012:key/22222222-2222-2222-2222-222222222222"
KEY_EU = "arn:aws:kms:eu-west-1:123456789012:key/33333333-3333-3333-3333-333333333333"


def inputs(**kw):
    base = {"source_image_id": SRC, "source_region": "us-east-1"}
    base.update(kw)
    return d.validate_inputs(base, SPECS)


# ---- inputs: conversion ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "given, expected",
    [("false", False), ("no", False), ("False", False), (False, False), ("true", True), ("yes", True), (True, True), ("1", True), ("0", False)],
)
def test_booleans_given_as_strings_are_converted(given, expected):
    got = inputs(share_source=given, grant_keys=given, fail_on_problems=given)
    assert (got["share_source"], got["grant_keys"], got["fail_on_problems"]) == (expected, expected, expected)


def test_a_list_given_as_one_string_is_one_element_not_characters():
    got = inputs(organizational_unit_arns=OU1, account_ids="444455556666,777788889999", regions="us-west-2,eu-west-1")
    assert got["organizational_unit_arns"] == [OU1]
    assert got["account_ids"] == ["444455556666", "777788889999"]
    assert [r["region"] for r in got["regions"]] == ["us-west-2", "eu-west-1"]


def test_wait_timeout_string_becomes_int():
    assert inputs(wait_timeout="120")["wait_timeout"] == 120


def test_region_entries_strings_and_dicts_and_source_region_left_out():
    got = inputs(regions=["us-west-2", {"region": "eu-west-1", "kms_key_id": "alias/golden"}, "us-east-1"])
    assert got["copy_destinations"] == [{"region": "us-west-2"}, {"region": "eu-west-1", "kms_key_id": "alias/golden"}]
    assert got["source_entry"]["region"] == "us-east-1"


def test_principals_deduplicated_and_sorted():
    got = inputs(organizational_unit_arns=[OU2, OU1, OU2], account_ids=["777788889999", "444455556666"])
    assert got["organizational_unit_arns"] == [OU1, OU2]
    assert got["account_ids"] == ["444455556666", "777788889999"]
    assert got["has_principals"] is True


def test_bare_ids_are_accepted_for_resolution():
    got = inputs(organization_arns=["o-a1b2c3d4e5"], organizational_unit_arns=["ou-ab12-11111111"])
    assert got["organization_arns"] == ["o-a1b2c3d4e5"]
    assert d.needs_resolution(got) is True


# ---- inputs: refusals (each names the variable and the expected form) ------------------------------
BAD = [
    ({"source_image_id": None}, "source_image_id", "ami-"),
    ({"source_image_id": "ami-xyz"}, "ami_distribute_source_image_id", "ami- and 8 or 17 hexadecimal digits"),
    ({"source_region": None}, "source_region", "region"),
    ({"source_region": "us-east"}, "ami_distribute_source_region", "eu-west-1"),
    ({"regions": ["eu-west"]}, "ami_distribute_regions[0].region", "eu-west-1"),
    ({"regions": [{"region": "eu-west-1", "kms_key": "alias/x"}]}, "ami_distribute_regions[0]", "kms_key"),
    ({"regions": [{"kms_key_id": "alias/x"}]}, "ami_distribute_regions[0]", "region"),
    ({"regions": [42]}, "ami_distribute_regions[0]", "region name"),
    ({"regions": ["eu-west-1", "eu-west-1"]}, "ami_distribute_regions[1]", "already listed"),
    ({"regions": [{"region": "eu-west-1", "kms_key_id": "not a key"}]}, "ami_distribute_regions[0].kms_key_id", "key id, alias/NAME"),
    ({"regions": [{"region": "eu-west-1", "kms_key_id": KEY_W2}]}, "ami_distribute_regions[0].kms_key_id", "KMS keys are regional"),
    ({"regions": [{"region": "eu-west-1", "kms_key_id": "alias/aws/ebs"}]}, "ami_distribute_regions[0].kms_key_id", "AWS managed key"),
    ({"regions": [{"region": "eu-west-1", "name": "x"}]}, "ami_distribute_regions[0].name", "3 to 128 characters"),
    ({"organization_arns": ["arn:aws:organizations::111122223333:organization/bad"]}, "ami_distribute_organization_arns[0]", "organization ARN"),
    ({"organizational_unit_arns": ["arn:aws:organizations::11112222333:ou/o-a1b2c3d4e5/ou-ab12-11111111"]}, "ami_distribute_organizational_unit_arns[0]", "OU ARN"),  # noqa: E501
    ({"organizational_unit_arns": [ORG]}, "ami_distribute_organizational_unit_arns[0]", "OU ARN"),
    ({"account_ids": ["12345678901"]}, "ami_distribute_account_ids[0]", "quote account ids"),
    ({"account_ids": ["1234-5678-9012"]}, "ami_distribute_account_ids[0]", "12-digit"),
    ({"account_ids": [12345678901]}, "ami_distribute_account_ids[0]", "12-digit"),
    ({"share_source": "maybe"}, "ami_distribute_share_source", "bool"),
    ({"state": "gone"}, "ami_distribute_state", "present, absent"),
    ({"wait_timeout": "soon"}, "ami_distribute_wait_timeout", "int"),
    ({"wait_timeout": 0}, "ami_distribute_wait_timeout", "at least 1"),
    ({"regions": {"region": "eu-west-1"}}, "ami_distribute_regions", "list"),
    ({"bogus": 1}, "ami_distribute_bogus", "unknown role variable"),
]


@pytest.mark.parametrize("change, names, expects", BAD, ids=["%d-%s" % (i, c[1]) for i, c in enumerate(BAD)])
def test_refused_inputs_name_the_variable_and_the_form(change, names, expects):
    base = {"source_image_id": SRC, "source_region": "us-east-1"}
    base.update(change)
    with pytest.raises(d.DistributeError) as e:
        d.validate_inputs(base, SPECS)
    assert names in str(e.value)
    assert expects in str(e.value)


# ---- grants: which keys get which principals ------------------------------------------------------
GROUPS = [
    ({"organization_arns": [ORG], "organizational_unit_arns": [], "account_ids": []},
     [{"organization": "o-a1b2c3d4e5", "organizational_units": [], "account_ids": []}]),
    ({"organization_arns": [], "organizational_unit_arns": [OU1, OU2], "account_ids": []},
     [{"organization": "o-a1b2c3d4e5", "organizational_units": [OU1, OU2], "account_ids": []}]),
    # the organization-wide grant covers its OUs: no OU-scoped grant beside it
    ({"organization_arns": [ORG], "organizational_unit_arns": [OU1], "account_ids": ["444455556666"]},
     [{"organization": "o-a1b2c3d4e5", "organizational_units": [], "account_ids": ["444455556666"]}]),
    ({"organization_arns": [ORG2], "organizational_unit_arns": [OU1, OU3], "account_ids": ["444455556666"]},
     [{"organization": "o-zzzzzzzzzz", "organizational_units": [], "account_ids": ["444455556666"]},
      {"organization": "o-a1b2c3d4e5", "organizational_units": [OU1], "account_ids": []}]),
    ({"organization_arns": [], "organizational_unit_arns": [], "account_ids": ["444455556666"]},
     [{"organization": None, "organizational_units": [], "account_ids": ["444455556666"]}]),
    ({"organization_arns": [], "organizational_unit_arns": [], "account_ids": []}, []),
]


@pytest.mark.parametrize("principals, expected", GROUPS)
def test_grant_groups(principals, expected):
    assert d.grant_groups(principals) == expected


def _copy_check(images, encrypted=True, source_keys=(KEY_E1,)):
    return {
        "changed": any(i.get("state") == "would_copy" for i in images),
        "images": images,
        "source": {"image_id": SRC, "region": "us-east-1", "encrypted": encrypted, "kms_key_arns": list(source_keys)},
    }


KEY_TABLE = [
    # (share_source, regions, ami_copy entries, expected keys)
    (True, [{"region": "us-west-2", "kms_key_id": KEY_W2}],
     [{"region": "us-west-2", "image_id": None, "state": "would_copy", "kms_key_arn": KEY_W2}],
     [{"key_id": KEY_E1, "region": "us-east-1"}, {"key_id": KEY_W2, "region": "us-west-2"}]),
    (False, [{"region": "us-west-2", "kms_key_id": KEY_W2}],
     [{"region": "us-west-2", "image_id": None, "state": "would_copy", "kms_key_arn": KEY_W2}],
     [{"key_id": KEY_W2, "region": "us-west-2"}]),
    # an existing copy under another key: that key is granted, not the named one
    (True, [{"region": "eu-west-1", "kms_key_id": "alias/golden"}],
     [{"region": "eu-west-1", "image_id": "ami-0aaaaaaaaaaaaaaaa", "state": "available", "kms_key_arn": KEY_EU}],
     [{"key_id": KEY_E1, "region": "us-east-1"}, {"key_id": KEY_EU, "region": "eu-west-1"}]),
    # a would-be copy named by alias: the ARN ami_copy resolved
    (False, [{"region": "eu-west-1", "kms_key_id": "alias/golden"}],
     [{"region": "eu-west-1", "image_id": None, "state": "would_copy", "kms_key_arn": KEY_EU}],
     [{"key_id": KEY_EU, "region": "eu-west-1"}]),
]


@pytest.mark.parametrize("share_source, regions, images, expected", KEY_TABLE)
def test_keys_to_grant(share_source, regions, images, expected):
    got = d.keys_to_grant(inputs(share_source=share_source, regions=regions), _copy_check(images))
    assert got == expected


def test_an_encrypted_source_needs_a_key_for_every_new_copy():
    ins = inputs(regions=["us-west-2", {"region": "eu-west-1", "kms_key_id": KEY_EU}, "ap-south-1"])
    check = _copy_check([
        {"region": "us-west-2", "image_id": None, "state": "would_copy"},
        {"region": "eu-west-1", "image_id": None, "state": "would_copy", "kms_key_arn": KEY_EU},
        {"region": "ap-south-1", "image_id": None, "state": "would_copy"},
    ])
    with pytest.raises(d.DistributeError) as e:
        d.keys_to_grant(ins, check)
    assert "ami_distribute_regions[0] (us-west-2)" in str(e.value)
    assert "ami_distribute_regions[2] (ap-south-1)" in str(e.value)
    assert "eu-west-1" not in str(e.value).split("name(s)", maxsplit=1)[0]
    assert "allow_aws_managed_key" not in str(e.value)


def test_an_unencrypted_source_needs_no_key():
    ins = inputs(regions=["us-west-2"])
    check = _copy_check([{"region": "us-west-2", "image_id": None, "state": "would_copy"}], encrypted=False, source_keys=())
    assert d.keys_to_grant(ins, check) == []


# ---- verdicts and writes ---------------------------------------------------------------------------
def test_a_refused_target_stops_everything():
    ins = inputs(regions=[{"region": "us-west-2", "kms_key_id": KEY_W2}], organization_arns=[ORG])
    share = {"failed": True, "images": [{"image_id": SRC, "region": "us-east-1", "failed": True, "error_kind": "refused", "msg": "not owned"}]}
    with pytest.raises(d.DistributeError) as e:
        d.reads_verdict(ins, _copy_check([]), share, [])
    assert "nothing was written" in str(e.value) and "not owned" in str(e.value)


def test_an_aws_failure_leaves_the_region_out():
    ins = inputs(regions=[{"region": "us-west-2", "kms_key_id": KEY_W2}, {"region": "eu-west-1", "kms_key_id": KEY_EU}], organization_arns=[ORG])
    copy_check = _copy_check([
        {"region": "us-west-2", "image_id": None, "state": "would_copy", "kms_key_arn": KEY_W2},
        {"region": "eu-west-1", "image_id": None, "state": "would_copy", "kms_key_arn": KEY_EU},
    ])
    grant = {"item": {"organization": "o-a1b2c3d4e5", "organizational_units": [], "account_ids": []}, "failed": True, "keys": [
        {"key_id": KEY_W2, "region": "us-west-2", "changed": True, "kms_key_arn": KEY_W2},
        {"key_id": KEY_EU, "region": "eu-west-1", "failed": True, "error_kind": "aws_error", "msg": "endpoint down"},
    ]}
    failed = d.reads_verdict(ins, copy_check, None, [grant])
    assert failed == {"eu-west-1": "%s: endpoint down" % KEY_EU}
    plan = d.write_plan(ins, copy_check, None, [grant], failed)
    assert plan["copy_regions"] == [{"region": "us-west-2", "kms_key_id": KEY_W2}]
    assert plan["grants"] == [{"organization": "o-a1b2c3d4e5", "organizational_units": [], "account_ids": [],
                               "keys": [{"key_id": KEY_W2, "region": "us-west-2"}]}]


def test_a_converged_state_plans_no_write():
    ins = inputs(regions=[{"region": "us-west-2", "kms_key_id": KEY_W2}], organization_arns=[ORG])
    copy_check = _copy_check([{"region": "us-west-2", "image_id": "ami-0bbbbbbbbbbbbbbbb", "state": "available", "kms_key_arn": KEY_W2}])
    share = {"changed": False, "images": [
        {"image_id": SRC, "region": "us-east-1", "changed": False},
        {"image_id": "ami-0bbbbbbbbbbbbbbbb", "region": "us-west-2", "changed": False},
    ], "principals": {"organization_arns": [ORG], "organizational_unit_arns": [], "account_ids": []}}
    grant = {"item": {"organization": "o-a1b2c3d4e5"}, "changed": False, "keys": [
        {"key_id": KEY_E1, "region": "us-east-1", "changed": False}, {"key_id": KEY_W2, "region": "us-west-2", "changed": False}]}
    assert d.reads_verdict(ins, copy_check, share, [grant]) == {}
    assert d.write_plan(ins, copy_check, share, [grant], {}) == {"grants": [], "copy_regions": [], "share_images": []}


def test_share_check_targets_source_and_available_copies_only():
    ins = inputs(regions=["us-west-2", "eu-west-1", "ap-south-1"], organization_arns=[ORG])
    check = _copy_check([
        {"region": "us-west-2", "image_id": "ami-0bbbbbbbbbbbbbbbb", "state": "available"},
        {"region": "eu-west-1", "image_id": "ami-0cccccccccccccccc", "state": "pending"},
        {"region": "ap-south-1", "image_id": None, "state": "would_copy"},
    ])
    assert d.share_check_targets(ins, check) == [
        {"image_id": SRC, "region": "us-east-1"}, {"image_id": "ami-0bbbbbbbbbbbbbbbb", "region": "us-west-2"}]
    ins = inputs(regions=["us-west-2"], organization_arns=[ORG], share_source=False)
    assert d.share_check_targets(ins, check) == [{"image_id": "ami-0bbbbbbbbbbbbbbbb", "region": "us-west-2"}]


def test_resolved_principals_come_from_the_share_check():
    ins = inputs(organizational_unit_arns=["ou-ab12-11111111"])
    assert d.resolved_principals(ins, None) is None
    share = {"principals": {"organization_arns": [], "organizational_unit_arns": [OU1], "account_ids": []}, "images": []}
    assert d.resolved_principals(ins, share) == {"organization_arns": [], "organizational_unit_arns": [OU1], "account_ids": []}


def test_failure_message_names_every_region():
    assert d.failure_message({"eu-west-1": "copy failed", "ap-south-1": "endpoint down"}) == (
        "2 region(s) failed (every other region was copied, granted and shared): ap-south-1: endpoint down; eu-west-1: copy failed")
    assert d.failure_message({}) == ""


def test_only_the_runs_own_principals_problems_block():
    result = {"us-west-2": {"image_id": "ami-0bbbbbbbbbbbbbbbb", "problems": [
        {"code": "key_not_granted", "message": "not ours", "principal": "999988887777"},
        {"code": "key_not_granted", "message": "ours", "principal": OU1},
        {"code": "aws_managed_key", "message": "managed"},
        {"code": "account_in_shared_org", "message": "a caveat", "principal": OU1},
    ]}}
    principals = {"organization_arns": [], "organizational_unit_arns": [OU1], "account_ids": []}
    assert d.blocking_problems(result, principals) == ["us-west-2 ami-0bbbbbbbbbbbbbbbb: ours", "us-west-2 ami-0bbbbbbbbbbbbbbbb: managed"]
    assert len(d.blocking_problems(result)) == 3


# ---- SSM publication -------------------------------------------------------------------------------
def test_ssm_parameter_name_is_checked_with_the_inputs():
    assert inputs()["ssm_parameter"] is None
    assert inputs(ssm_parameter="  /golden/al2023/latest ")["ssm_parameter"] == "/golden/al2023/latest"
    for bad, words in (("/aws/x", "'aws' or 'ssm'"), ("golden/x", "starts with '/'"), ("a b", "contains ' '")):
        with pytest.raises(d.DistributeError) as e:
            inputs(ssm_parameter=bad)
        assert str(e.value).startswith("ami_distribute_ssm_parameter: %r" % bad) and words in str(e.value)


def test_ssm_targets_are_the_final_checks_amis():
    targets = [{"image_id": "ami-0aaaaaaaaaaaaaaaa", "region": "us-east-1", "kms_key_arn": None},
               {"image_id": "ami-0bbbbbbbbbbbbbbbb", "region": "eu-west-1", "kms_key_arn": "k"}]
    assert d.ssm_targets(inputs(), targets) == []
    assert d.ssm_targets(inputs(ssm_parameter="/golden/latest"), targets) == [
        {"name": "/golden/latest", "region": "us-east-1", "image_id": "ami-0aaaaaaaaaaaaaaaa"},
        {"name": "/golden/latest", "region": "eu-west-1", "image_id": "ami-0bbbbbbbbbbbbbbbb"},
    ]


def test_ssm_outcome_splits_published_and_failed():
    run = {"failed": True, "msg": "1 of 2 target(s) failed", "parameters": [
        {"name": "/g", "region": "us-east-1", "image_id": "ami-0aaaaaaaaaaaaaaaa", "version": 3, "changed": True},
        {"name": "/g", "region": "eu-west-1", "failed": True, "msg": "AccessDeniedException", "error_kind": "aws_error"},
    ]}
    published, failed = d.ssm_outcome(run)
    assert published == {"us-east-1": {"name": "/g", "version": 3, "changed": True}}
    assert failed == {"eu-west-1": "the SSM parameter /g could not be published: AccessDeniedException"}
    assert d.ssm_outcome(None) == ({}, {})
    assert d.ssm_outcome({"failed": True, "msg": "no credentials"}) == ({}, {"*": "the SSM parameters could not be published: no credentials"})
