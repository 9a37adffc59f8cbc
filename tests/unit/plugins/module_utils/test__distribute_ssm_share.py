"""The role's plan for ami_distribute_ssm_share (module_utils/_distribute.py): checked with the inputs, the share_with
given to ami_ssm_parameter, and the shared parameter's ARN and share in the result. Pure; no AWS, no Ansible run."""

import os

import pytest
import yaml

from ansible_collections.orgshare.aws.plugins.module_utils import _distribute as d

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
with open(os.path.join(ROOT, "roles", "ami_distribute", "meta", "argument_specs.yml")) as f:
    SPECS = yaml.safe_load(f)

SRC = "ami-0123456789abcdef0"
ORG = "arn:aws:organizations::111122223333:organization/o-a1b2c3d4e5"
OU1 = "arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-11111111"
NAME = "/golden/al2023/latest"


def inputs(**kw):
    base = {"source_image_id": SRC, "source_region": "us-east-1"}
    base.update(kw)
    return d.validate_inputs(base, SPECS)


def test_ssm_share_defaults_to_false_and_converts_strings():
    assert inputs()["ssm_share"] is False
    assert inputs(ssm_share="yes", ssm_parameter=NAME, account_ids=["444455556666"])["ssm_share"] is True


@pytest.mark.parametrize("given, words", [
    ({"ssm_share": True, "account_ids": ["444455556666"]}, "ami_distribute_ssm_share: true needs ami_distribute_ssm_parameter"),
    ({"ssm_share": True, "ssm_parameter": NAME}, "ami_distribute_ssm_share: true shares the SSM parameter with the principals"),
])
def test_ssm_share_is_refused_with_the_inputs(given, words):
    with pytest.raises(d.DistributeError) as e:
        inputs(**given)
    assert words in str(e.value)


def test_share_with_is_the_principals_of_the_amis():
    got = inputs(ssm_share=True, ssm_parameter=NAME, organization_arns=[ORG], account_ids=["444455556666"])
    assert d.ssm_share_with(got, None) == {"organization_arns": [ORG], "account_ids": ["444455556666"]}
    # the share check's resolution of bare ids wins
    bare = inputs(ssm_share=True, ssm_parameter=NAME, organizational_unit_arns=["ou-ab12-11111111"])
    resolved = {"organization_arns": [], "organizational_unit_arns": [OU1], "account_ids": []}
    assert d.ssm_share_with(bare, resolved) == {"organizational_unit_arns": [OU1]}
    assert d.ssm_share_with(bare, None) == {"organizational_unit_arns": ["ou-ab12-11111111"]}  # the module resolves them
    assert d.ssm_share_with(inputs(ssm_parameter=NAME, organization_arns=[ORG]), None) is None
    # ssm_targets keep their shape
    targets = [{"image_id": SRC, "region": "us-east-1"}]
    assert d.ssm_targets(got, targets) == [{"name": NAME, "region": "us-east-1", "image_id": SRC}]


def test_ssm_outcome_adds_the_arn_and_the_share_of_a_shared_parameter():
    arn = "arn:aws:ssm:us-east-1:123456789012:parameter/golden/al2023/latest"
    share = "arn:aws:ram:us-east-1:123456789012:resource-share/4476c27d"
    run = {"parameters": [
        {"name": NAME, "region": "us-east-1", "version": 2, "changed": True, "arn": arn, "resource_share": {"arn": share, "name": "x"}},
        {"name": NAME, "region": "eu-west-1", "version": 1, "changed": False},
    ]}
    published, failed = d.ssm_outcome(run)
    assert failed == {}
    assert published == {
        "us-east-1": {"name": NAME, "version": 2, "changed": True, "arn": arn, "resource_share": share},
        "eu-west-1": {"name": NAME, "version": 1, "changed": False},
    }
