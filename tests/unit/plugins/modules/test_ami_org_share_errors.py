"""ami_org_share: every class of bad input fails with a message that says what is wrong, before any write."""

import pytest

from test_ami_org_share_helpers import A1
from test_ami_org_share_helpers import MODULE
from test_ami_org_share_helpers import OTHER_ORG
from test_ami_org_share_helpers import launch_permissions
from test_ami_org_share_helpers import perms
from test_ami_org_share_helpers import plain_image
from test_ami_org_share_helpers import share

# (id, extra args, fragments the message must contain)
BAD_VALUES = [
    ("image id", {"image_id": "img-1234"}, ["image_id", "'img-1234'", "ami-0123456789abcdef0"]),
    ("account id too short", {"account_ids": ["12345"]}, ["account_ids", "'12345'", "12-digit"]),
    ("account arn", {"account_ids": ["arn:aws:iam::111111111111:root"]}, ["account_ids", "arn:aws:iam::111111111111:root", "111111111111"]),
    ("org arn malformed", {"organization_arns": ["arn:aws:organizations::111111111111:organization/x"]},
     ["organization_arns", "organization/x", "arn:"]),
    ("ou arn given as org", {"organization_arns": ["arn:aws:organizations::111111111111:ou/o-abcdefghij/ou-ab12-abcdefgh"]},
     ["organization_arns", "ou-ab12-abcdefgh"]),
    ("ou arn malformed", {"ou_arns": ["ou/o-abcdefghij/ou-ab12-abcdefgh"]}, ["organizational_unit_arns", "ou/o-abcdefghij/ou-ab12-abcdefgh", "arn:"]),
    ("bare org id without an organization", {"org_arns": ["o-abcdefghij"]}, ["organization_arns", "'o-abcdefghij'", "ARN", "describe-organization"]),
    ("bare ou id without an organization", {"org_unit_arns": ["ou-ab12-abcdefgh"]},
     ["organizational_unit_arns", "'ou-ab12-abcdefgh'", "ARN", "describe-organizational-unit"]),
]


@pytest.mark.parametrize("state", ["present", "absent"])
@pytest.mark.parametrize("name,args,fragments", BAD_VALUES, ids=[b[0] for b in BAD_VALUES])
def test_bad_values_fail_before_any_write(aws, run_module, name, args, fragments, state):
    image_id = plain_image(aws)
    share(aws, image_id, {"UserId": A1})
    aws.emulator.clear_calls()
    full = {"image_id": image_id, "account_ids": [A1], "state": state}
    full.update(args)
    result = run_module(MODULE, full, check_mode=False)
    assert result.failed
    for fragment in fragments:
        assert fragment in result.msg
    assert aws.write_calls() == []
    # Malformed values are found before any AWS call at all.
    if not name.startswith("bare"):
        assert aws.emulator.calls == []
    assert launch_permissions(aws, image_id) == perms(accounts=[A1])


def test_a_good_value_does_not_excuse_a_bad_one(aws, run_module):
    image_id = plain_image(aws)
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"image_id": image_id, "account_ids": [A1, "1111-2222-3333"], "organization_arns": [OTHER_ORG]})
    assert result.failed
    assert "account_ids" in result.msg and "1111-2222-3333" in result.msg and "111122223333" in result.msg
    assert aws.emulator.calls == []


@pytest.mark.parametrize("check_mode", [False, True])
def test_missing_ami_names_the_region(aws, run_module, check_mode):
    plain_image(aws)  # an AMI in another region must not be found either
    image_id = plain_image(aws, region="eu-west-1")
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"image_id": image_id, "account_ids": [A1]}, check_mode=check_mode)
    assert result.failed
    assert image_id in result.msg and "not found" in result.msg and "us-east-1" in result.msg
    assert aws.write_calls() == []
    assert launch_permissions(aws, image_id, "eu-west-1") == perms()


def _owned_by_another_account(aws, image_id, owner):
    """moto keeps each account's AMIs apart, so an AMI that another account shared with the
    caller is modelled by changing the owner of one of the caller's AMIs in the emulator."""
    from moto.ec2.models import ec2_backends

    ec2_backends[aws.account_id][aws.region].amis[image_id].owner_id = owner


@pytest.mark.parametrize("state", ["present", "absent"])
def test_ami_of_another_account(aws, run_module, state):
    image_id = plain_image(aws)
    share(aws, image_id, {"UserId": A1})
    _owned_by_another_account(aws, image_id, "999988887777")
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"image_id": image_id, "account_ids": [A1], "state": state, "public": False})
    assert result.failed
    assert image_id in result.msg and "999988887777" in result.msg and aws.account_id in result.msg and "owner" in result.msg
    assert aws.write_calls() == []
    assert launch_permissions(aws, image_id) == perms(accounts=[A1])


def test_unknown_option_value_is_refused_by_the_argument_spec(aws, run_module):
    image_id = plain_image(aws)
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"image_id": image_id, "state": "gone"})
    assert result.failed and "state" in result.msg
    assert aws.emulator.calls == []


@pytest.mark.parametrize("check_mode", [False, True])
def test_ou_arn_of_own_organization_with_wrong_management_account(aws, run_module, check_mode):
    """An OU ARN of the caller's organization with another management account would reach nobody."""
    orgs = aws.client("organizations")
    org = orgs.create_organization(FeatureSet="ALL")["Organization"]
    root = orgs.list_roots()["Roots"][0]["Id"]
    ou = orgs.create_organizational_unit(ParentId=root, Name="golden")["OrganizationalUnit"]
    wrong = ou["Arn"].replace("::%s:" % org["MasterAccountId"], "::999999999999:")
    image_id = plain_image(aws)
    share(aws, image_id, {"UserId": A1})
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"image_id": image_id, "organizational_unit_arns": [wrong]}, check_mode=check_mode)
    assert result.failed
    assert "organizational_unit_arns: %r names organization %s with management account 999999999999" % (wrong, org["Id"]) in result.msg
    assert "e.g. %s" % ou["Arn"] in result.msg
    assert aws.write_calls() == []
    assert launch_permissions(aws, image_id) == perms(accounts=[A1])
    # With the right ARN the same call works
    result = run_module(MODULE, {"image_id": image_id, "organizational_unit_arns": [ou["Arn"]]}, check_mode=check_mode)
    assert not result.failed and result["changed"]
