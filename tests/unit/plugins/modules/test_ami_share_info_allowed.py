"""ami_share_info check_allowed_images: the consumers whose Allowed AMIs settings block a shared AMI.

The owner's side reads each consumer account's effective EC2 declarative policy (management account); the consumer's
side (shared_with_me) reads its own settings. The organization, its policies and the AMIs are made through boto3."""

import json

import pytest

from orgshare_emulator.fixtures import credentials_for, make_image

REGION = "us-east-1"
OWNER = "123456789012"
DECLARATIVE = "DECLARATIVE_POLICY_EC2"


def providers_policy(state, providers):
    return {"ec2_attributes": {"allowed_images_settings": {
        "state": {"@@assign": state},
        "image_criteria": {"criteria_1": {"allowed_image_providers": {"@@assign": providers}}}}}}


@pytest.fixture
def org(aws):
    """Root > strict (account strict: only amazon AMIs), open (account open: amazon and the owner), audit (account
    audited: amazon only, audit mode). One AMI of the owner shared with the three OUs, one shared with nobody."""
    orgs = aws.client("organizations", REGION)
    orgs.create_organization(FeatureSet="ALL")
    root = orgs.list_roots()["Roots"][0]["Id"]
    orgs.enable_policy_type(RootId=root, PolicyType=DECLARATIVE)
    out = {"root": root}
    for name, state, providers in (("strict", "enabled", ["amazon"]), ("open", "enabled", ["amazon", OWNER]),
                                   ("audit", "audit_mode", ["amazon"])):
        ou = orgs.create_organizational_unit(ParentId=root, Name=name)["OrganizationalUnit"]
        account = orgs.create_account(AccountName=name, Email="%s@example.com" % name)["CreateAccountStatus"]["AccountId"]
        orgs.move_account(AccountId=account, SourceParentId=root, DestinationParentId=ou["Id"])
        policy = orgs.create_policy(Name=name, Description=name, Type=DECLARATIVE,
                                    Content=json.dumps(providers_policy(state, providers)))["Policy"]["PolicySummary"]["Id"]
        orgs.attach_policy(PolicyId=policy, TargetId=ou["Id"])
        out[name] = {"ou_arn": ou["Arn"], "account": account}
    ec2 = aws.client("ec2", REGION)
    out["image"] = make_image(ec2, "golden-1")
    ec2.modify_image_attribute(ImageId=out["image"], Attribute="launchPermission", LaunchPermission={
        "Add": [{"OrganizationalUnitArn": out[n]["ou_arn"]} for n in ("strict", "open", "audit")]})
    out["private"] = make_image(ec2, "golden-private")
    return out


def problems_of(result, image_id):
    (image,) = [i for i in result["images"] if i["image_id"] == image_id]
    return image["problems"]


def test_owner_side_names_the_accounts_whose_declarative_policy_blocks_the_ami(aws, org, run_module):
    result = run_module("ami_share_info", {"image_ids": [org["image"], org["private"]], "check_allowed_images": True})
    assert not result.failed, result.msg
    problems = problems_of(result, org["image"])
    codes = sorted((p["code"], p["principal"], tuple(p["account_ids"])) for p in problems)
    assert codes == [
        ("image_provider_not_allowed", org["strict"]["ou_arn"], (org["strict"]["account"],)),
        ("image_provider_not_allowed_audit_mode", org["audit"]["ou_arn"], (org["audit"]["account"],)),
    ]
    assert problems_of(result, org["private"]) == []
    settings = result["allowed_images_settings"]
    assert settings[org["open"]["account"]] == {"state": "enabled", "criteria": [{"ImageProviders": ["amazon", OWNER]}]}
    # without the option nothing of this is read or reported
    plain = run_module("ami_share_info", {"image_ids": [org["image"]]})
    assert problems_of(plain, org["image"]) == [] and "allowed_images_settings" not in plain


def test_an_account_shared_directly_is_checked_too(aws, org, run_module):
    aws.client("ec2", REGION).modify_image_attribute(
        ImageId=org["private"], Attribute="launchPermission", LaunchPermission={"Add": [{"UserId": org["strict"]["account"]}]})
    result = run_module("ami_share_info", {"image_ids": [org["private"]], "check_allowed_images": True})
    (problem,) = problems_of(result, org["private"])
    assert (problem["code"], problem["principal"], problem["account_ids"]) == (
        "image_provider_not_allowed", org["strict"]["account"], [org["strict"]["account"]])


def test_what_cannot_be_read_is_a_problem_not_a_pass(aws, org, run_module):
    aws.emulator.inject_faults(rate=1.0, kind="denied", actions=["DescribeEffectivePolicy"])
    try:
        result = run_module("ami_share_info", {"image_ids": [org["image"]], "check_allowed_images": True})
    finally:
        aws.emulator.clear_faults()
    assert not result.failed, result.msg
    codes = [p["code"] for p in problems_of(result, org["image"])]
    assert codes == ["allowed_images_not_checked"]
    assert "AccessDenied" in problems_of(result, org["image"])[0]["message"]


def test_consumer_side_uses_its_own_settings(aws, org, run_module):
    """The audited account (audit mode, amazon only) lists the owner's AMI with ImageAllowed false."""
    access_key, secret_key = credentials_for(aws.emulator, org["audit"]["account"])
    result = run_module("ami_share_info", {"image_ids": [org["image"]], "owners": [OWNER], "shared_with_me": True,
                                           "check_allowed_images": True, "check_keys": False,
                                           "access_key": access_key, "secret_key": secret_key})
    assert not result.failed, result.msg
    problems = problems_of(result, org["image"])
    assert [p["code"] for p in problems] == ["image_not_allowed"]
    assert "audit-mode" in problems[0]["message"]
    assert result["allowed_images_settings"][REGION]["ManagedBy"] == "declarative-policy"
    # the open account's settings allow the owner: no problem there
    access_key, secret_key = credentials_for(aws.emulator, org["open"]["account"])
    result = run_module("ami_share_info", {"image_ids": [org["image"]], "owners": [OWNER], "shared_with_me": True,
                                           "check_allowed_images": True, "check_keys": False,
                                           "access_key": access_key, "secret_key": secret_key})
    assert not result.failed, result.msg
    assert problems_of(result, org["image"]) == []


def test_an_account_outside_the_organization_is_a_note(aws, org, run_module):
    stranger = "444455556666"
    aws.client("ec2", REGION).modify_image_attribute(
        ImageId=org["private"], Attribute="launchPermission", LaunchPermission={"Add": [{"UserId": stranger}]})
    result = run_module("ami_share_info", {"image_ids": [org["private"]], "check_allowed_images": True})
    assert not result.failed, result.msg
    (image,) = result["images"]
    assert image["problems"] == []
    assert any(stranger in n and "outside the caller's organization" in n for n in image["notes"])
