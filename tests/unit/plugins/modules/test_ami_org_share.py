"""ami_org_share end to end against the emulator: every write path in four steps, AWS state read through boto3."""

from test_ami_org_share_helpers import A1
from test_ami_org_share_helpers import A2
from test_ami_org_share_helpers import A3
from test_ami_org_share_helpers import MODULE
from test_ami_org_share_helpers import NONE
from test_ami_org_share_helpers import OTHER_ORG
from test_ami_org_share_helpers import OTHER_OU
from test_ami_org_share_helpers import four_steps
from test_ami_org_share_helpers import launch_permissions
from test_ami_org_share_helpers import perms
from test_ami_org_share_helpers import plain_image
from test_ami_org_share_helpers import share
from test_ami_org_share_helpers import warnings_of


def test_present_adds_every_kind(aws, run_module):
    image_id = plain_image(aws)
    result = four_steps(
        aws,
        run_module,
        {"image_id": image_id, "org_arns": [OTHER_ORG], "ou_arns": [OTHER_OU], "user_ids": [A2, A1, A1]},
        perms(orgs=[OTHER_ORG], ous=[OTHER_OU], accounts=[A1, A2]),
    )
    assert result["image_id"] == image_id
    assert result["region"] == aws.region
    assert result["added"] == perms(orgs=[OTHER_ORG], ous=[OTHER_OU], accounts=[A1, A2])
    assert result["removed"] == NONE


def test_present_keeps_principals_shared_by_someone_else(aws, run_module):
    image_id = plain_image(aws)
    share(aws, image_id, {"UserId": A3}, {"OrganizationArn": OTHER_ORG}, {"Group": "all"})
    four_steps(
        aws,
        run_module,
        {"image_id": image_id, "account_ids": [A1]},
        perms(orgs=[OTHER_ORG], accounts=[A1, A3], public=True),
    )


def test_absent_removes_only_the_listed(aws, run_module):
    image_id = plain_image(aws)
    share(aws, image_id, {"UserId": A1}, {"UserId": A2}, {"OrganizationalUnitArn": OTHER_OU})
    result = four_steps(
        aws,
        run_module,
        {"image_id": image_id, "account_ids": [A1, A3], "state": "absent"},
        perms(ous=[OTHER_OU], accounts=[A2]),
    )
    assert result["removed"] == perms(accounts=[A1])
    assert result["added"] == NONE


def test_purge_makes_the_result_exactly_the_list(aws, run_module):
    image_id = plain_image(aws)
    share(aws, image_id, {"UserId": A1}, {"UserId": A2}, {"OrganizationArn": OTHER_ORG}, {"Group": "all"})
    result = four_steps(
        aws,
        run_module,
        {"image_id": image_id, "account_ids": [A2, A3], "purge": True},
        perms(accounts=[A2, A3]),
    )
    assert result["added"] == perms(accounts=[A3])
    assert result["removed"] == perms(orgs=[OTHER_ORG], accounts=[A1], public=True)


def test_purge_without_principals_unshares_everything(aws, run_module):
    image_id = plain_image(aws)
    share(aws, image_id, {"UserId": A1}, {"OrganizationalUnitArn": OTHER_OU}, {"Group": "all"})
    four_steps(aws, run_module, {"image_id": image_id, "purge": True}, NONE)


def test_public_true_then_false(aws, run_module):
    image_id = plain_image(aws)
    share(aws, image_id, {"UserId": A1})
    four_steps(aws, run_module, {"image_id": image_id, "public": True}, perms(accounts=[A1], public=True))
    assert aws.client("ec2").describe_images(ImageIds=[image_id])["Images"][0]["Public"] is True
    four_steps(aws, run_module, {"image_id": image_id, "public": False}, perms(accounts=[A1]))
    assert aws.client("ec2").describe_images(ImageIds=[image_id])["Images"][0]["Public"] is False


def test_public_with_state_absent_removes_public(aws, run_module):
    image_id = plain_image(aws)
    share(aws, image_id, {"Group": "all"}, {"UserId": A2})
    four_steps(aws, run_module, {"image_id": image_id, "public": True, "state": "absent"}, perms(accounts=[A2]))


def test_add_and_remove_in_one_call(aws, run_module):
    image_id = plain_image(aws)
    share(aws, image_id, {"Group": "all"})
    result = four_steps(
        aws, run_module, {"image_id": image_id, "account_ids": [A1], "public": False}, perms(accounts=[A1])
    )
    assert result["added"] == perms(accounts=[A1])
    assert result["removed"] == perms(public=True)


def _organization(aws):
    org_client = aws.client("organizations")
    org = org_client.create_organization(FeatureSet="ALL")["Organization"]
    root_id = org_client.list_roots()["Roots"][0]["Id"]
    ou = org_client.create_organizational_unit(ParentId=root_id, Name="workloads")["OrganizationalUnit"]
    return org, ou


def test_bare_ids_are_resolved_to_arns(aws, run_module):
    org, ou = _organization(aws)
    image_id = plain_image(aws)
    four_steps(
        aws,
        run_module,
        {"image_id": image_id, "organization_arns": [org["Id"]], "organizational_unit_arns": [ou["Id"]]},
        perms(orgs=[org["Arn"]], ous=[ou["Arn"]]),
    )
    # The bare ids and the ARNs name the same principals: nothing more to do either way.
    again = run_module(MODULE, {"image_id": image_id, "organization_arns": [org["Arn"]], "organizational_unit_arns": [ou["Arn"]]})
    assert again["changed"] is False


def test_bare_ids_resolved_with_state_absent(aws, run_module):
    org, ou = _organization(aws)
    image_id = plain_image(aws)
    share(aws, image_id, {"OrganizationArn": org["Arn"]}, {"OrganizationalUnitArn": ou["Arn"]}, {"UserId": A1})
    four_steps(
        aws,
        run_module,
        {"image_id": image_id, "organization_arns": [org["Id"]], "ou_arns": [ou["Id"]], "state": "absent"},
        perms(accounts=[A1]),
    )


def test_absent_on_a_missing_ami_is_not_an_error(aws, run_module):
    for check_mode in (True, False):
        result = run_module(MODULE, {"image_id": "ami-0123456789abcdef0", "account_ids": [A1], "state": "absent"},
                            check_mode=check_mode, diff=True)
        assert not result.failed, result.msg
        assert result["changed"] is False
        assert result["launch_permissions"] == NONE
        assert result["diff"] == {"before": NONE, "after": NONE}
    assert aws.write_calls() == []


def test_other_region(aws, run_module):
    region = "eu-west-1"
    image_id = plain_image(aws, region=region)
    result = four_steps(aws, run_module, {"image_id": image_id, "account_ids": [A1]}, perms(accounts=[A1]), region=region)
    assert result["region"] == region
    assert {c["region"] for c in aws.emulator.calls if c["service"] == "ec2"} == {region}


def test_removing_an_account_covered_by_an_org_share_warns(aws, run_module):
    image_id = plain_image(aws)
    share(aws, image_id, {"UserId": A1}, {"OrganizationArn": OTHER_ORG})
    result = run_module(MODULE, {"image_id": image_id, "account_ids": [A1], "state": "absent"})
    assert result["changed"] is True
    assert launch_permissions(aws, image_id) == perms(orgs=[OTHER_ORG])
    warnings = " ".join(warnings_of(result))
    assert A1 in warnings and OTHER_ORG in warnings and "keeps its access" in warnings


def test_removing_an_account_without_org_share_does_not_warn(aws, run_module):
    image_id = plain_image(aws)
    share(aws, image_id, {"UserId": A1}, {"UserId": A2})
    result = run_module(MODULE, {"image_id": image_id, "account_ids": [A1], "state": "absent"})
    assert result["changed"] is True
    # Warnings of earlier in-process runs may linger in ansible's global list: look at this AMI's only.
    assert not [w for w in warnings_of(result) if image_id in w]


def test_the_keeps_its_access_caveat_names_only_members_of_the_shared_ou(aws, run_module):
    org = aws.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="Workloads")["OrganizationalUnit"]
    inside = org.create_account(Email="in@example.com", AccountName="in")["CreateAccountStatus"]["AccountId"]
    org.move_account(AccountId=inside, SourceParentId=root, DestinationParentId=ou["Id"])
    outside = org.create_account(Email="out@example.com", AccountName="out")["CreateAccountStatus"]["AccountId"]
    image_id = plain_image(aws)
    share(aws, image_id, {"UserId": inside}, {"UserId": outside}, {"OrganizationalUnitArn": ou["Arn"]})
    result = run_module(MODULE, {"image_id": image_id, "account_ids": [inside, outside], "state": "absent"})
    assert launch_permissions(aws, image_id) == perms(ous=[ou["Arn"]])
    mine = [w for w in warnings_of(result) if image_id in w]
    assert len(mine) == 1
    assert inside in mine[0] and ou["Arn"] in mine[0]
    assert outside not in mine[0]  # at the root, outside the OU: it really loses its access
