"""ami_share_info principal_names: the names of the accounts and OUs an AMI is shared with, read through AWS
Organizations where the caller may; what cannot be read is listed with the reason and fails nothing."""

from orgshare_emulator.fixtures import make_image

MODULE = "ami_share_info"
OUTSIDER = "444455556666"  # an account in no organization the emulator knows


def organization(aws):
    org = aws.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="Workloads")["OrganizationalUnit"]
    account = org.create_account(Email="app@example.com", AccountName="app-prod")["CreateAccountStatus"]["AccountId"]
    return ou["Arn"], account


def shared_image(aws, ou_arn, accounts):
    ec2 = aws.client("ec2")
    image_id = make_image(ec2, "named")
    add = [{"OrganizationalUnitArn": ou_arn}] + [{"UserId": a} for a in accounts]
    ec2.modify_image_attribute(ImageId=image_id, Attribute="launchPermission", LaunchPermission={"Add": add})
    return image_id


def test_names_of_accounts_and_ous(aws, run_module):
    ou_arn, account = organization(aws)
    image_id = shared_image(aws, ou_arn, [account, OUTSIDER])
    result = run_module(MODULE, {"image_ids": [image_id], "principal_names": True})
    assert not result.failed, result.msg
    assert result["principal_names"] == {ou_arn: "Workloads", account: "app-prod"}
    assert [u["principal"] for u in result["principal_names_unread"]] == [OUTSIDER]
    assert "AccountNotFoundException" in result["principal_names_unread"][0]["reason"]
    assert [i["image_id"] for i in result["images"]] == [image_id]


def test_no_names_read_unless_asked(aws, run_module):
    ou_arn, account = organization(aws)
    image_id = shared_image(aws, ou_arn, [account])
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"image_ids": [image_id]})
    assert not result.failed, result.msg
    assert "principal_names" not in result
    assert not [c for c in aws.emulator.calls if c["action"] in ("DescribeAccount", "DescribeOrganizationalUnit")]
