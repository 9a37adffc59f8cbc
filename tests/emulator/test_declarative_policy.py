"""Declarative policies for EC2 and DescribeEffectivePolicy (emulator/orgshare_emulator/organizations.py), and a member
account's Allowed AMIs settings under such a policy (ami_lifecycle.py).

Sources: botocore's Organizations model (PolicyType DECLARATIVE_POLICY_EC2; DescribeEffectivePolicy: "You can call this
operation from any account in a organization", TargetId, EffectivePolicyNotFoundException; AttachPolicy
PolicyTypeNotEnabledException; CreatePolicy MalformedPolicyDocumentException); AWS Organizations User Guide, "Declarative
policy syntax and examples" (ec2_attributes, allowed_images_settings: state, image_criteria.criteria_N
.allowed_image_providers; EnableAllowedImagesSettings / ReplaceImageCriteriaInAllowedImagesSettings /
DisableAllowedImagesSettings can't change what the policy sets), "Inheritance operators" (@@assign, @@append, @@remove)
and "Inheritance examples" (operator-free effective policies; example 1; example 6: the first policy attached to an
entity holds); botocore's EC2 model (GetAllowedImagesSettings ManagedBy declarative-policy). Unverified, so only the
failure is asserted: the code of a member naming another account and of an EC2 setting change refused because a
declarative policy manages it.
"""

import datetime
import json

import botocore.exceptions
import pytest

from emulator_helpers import error_of, raw_client
from orgshare_emulator import organizations as org_patch
from orgshare_emulator.fixtures import credentials_for, make_image

DECLARATIVE = "DECLARATIVE_POLICY_EC2"


def allowed_images(state=None, providers=None, operator="@@assign", criteria="criteria_1"):
    settings = {}
    if state is not None:
        settings["state"] = {"@@assign": state}
    if providers is not None:
        settings["image_criteria"] = {criteria: {"allowed_image_providers": {operator: providers}}}
    return {"ec2_attributes": {"allowed_images_settings": settings}}


class Org:
    """Root > Workloads > (member, second); the management account 123456789012; DECLARATIVE_POLICY_EC2 enabled."""

    def __init__(self, aws, enable=True):
        self.aws = aws
        self.orgs = raw_client(aws, "organizations")
        self.orgs.create_organization(FeatureSet="ALL")
        self.root = self.orgs.list_roots()["Roots"][0]["Id"]
        self.workloads = self.orgs.create_organizational_unit(ParentId=self.root, Name="Workloads")["OrganizationalUnit"]["Id"]
        self.member = self._account("member")
        self.second = self._account("second")
        if enable:
            self.orgs.enable_policy_type(RootId=self.root, PolicyType=DECLARATIVE)

    def _account(self, name):
        account_id = self.orgs.create_account(AccountName=name, Email="%s@example.com" % name)["CreateAccountStatus"]["AccountId"]
        self.orgs.move_account(AccountId=account_id, SourceParentId=self.root, DestinationParentId=self.workloads)
        return account_id

    def policy(self, name, content, target=None, policy_type=DECLARATIVE):
        policy_id = self.orgs.create_policy(Name=name, Description=name, Type=policy_type, Content=json.dumps(content))["Policy"]["PolicySummary"]["Id"]
        if target:
            self.orgs.attach_policy(PolicyId=policy_id, TargetId=target)
        return policy_id

    def client(self, account_id, service):
        access_key, secret_key = credentials_for(self.aws.emulator, account_id)
        return raw_client(self.aws, service, access_key=access_key, secret_key=secret_key)


def effective(orgs, target=None, policy_type=DECLARATIVE):
    kwargs = {"TargetId": target} if target else {}
    found = orgs.describe_effective_policy(PolicyType=policy_type, **kwargs)["EffectivePolicy"]
    return found["TargetId"], found["PolicyType"], json.loads(found["PolicyContent"])


def settings(ec2):
    return {k: v for k, v in ec2.get_allowed_images_settings().items() if k != "ResponseMetadata"}


def test_a_declarative_policy_is_created_listed_and_attached_once_its_type_is_enabled(aws):
    org = Org(aws, enable=False)
    policy_id = org.policy("allowed-amis", allowed_images("enabled", ["amazon"]))
    summary = org.orgs.describe_policy(PolicyId=policy_id)["Policy"]["PolicySummary"]
    organization = org.orgs.describe_organization()["Organization"]
    assert summary["Type"] == DECLARATIVE
    assert summary["Arn"] == "arn:aws:organizations::123456789012:policy/%s/declarative_policy_ec2/%s" % (organization["Id"], policy_id)
    assert [p["Id"] for p in org.orgs.list_policies(Filter=DECLARATIVE)["Policies"]] == [policy_id]
    # "You can't attach policies of the specified type to entities in a root until you enable that type in the root"
    assert error_of(org.orgs.attach_policy, PolicyId=policy_id, TargetId=org.root)[0] == "PolicyTypeNotEnabledException"
    assert org.orgs.list_policies_for_target(TargetId=org.root, Filter=DECLARATIVE)["Policies"] == []
    org.orgs.enable_policy_type(RootId=org.root, PolicyType=DECLARATIVE)
    assert {"Type": DECLARATIVE, "Status": "ENABLED"} in org.orgs.list_roots()["Roots"][0]["PolicyTypes"]
    org.orgs.attach_policy(PolicyId=policy_id, TargetId=org.root)
    assert [p["Id"] for p in org.orgs.list_policies_for_target(TargetId=org.root, Filter=DECLARATIVE)["Policies"]] == [policy_id]
    org.orgs.detach_policy(PolicyId=policy_id, TargetId=org.root)
    org.orgs.disable_policy_type(RootId=org.root, PolicyType=DECLARATIVE)
    assert {"Type": DECLARATIVE, "Status": "ENABLED"} not in org.orgs.list_roots()["Roots"][0]["PolicyTypes"]


@pytest.mark.parametrize("content", ["not json", json.dumps({"tags": {}}), json.dumps({"ec2_attributes": "x"})])
def test_content_that_is_no_declarative_policy_is_malformed(aws, content):
    org = Org(aws)
    assert error_of(org.orgs.create_policy, Name="bad", Description="bad", Type=DECLARATIVE, Content=content)[0] == "MalformedPolicyDocumentException"
    assert org.orgs.list_policies(Filter=DECLARATIVE)["Policies"] == []
    policy_id = org.policy("good", allowed_images("enabled", ["amazon"]))
    assert error_of(org.orgs.update_policy, PolicyId=policy_id, Content=content)[0] == "MalformedPolicyDocumentException"
    assert json.loads(org.orgs.describe_policy(PolicyId=policy_id)["Policy"]["Content"]) == allowed_images("enabled", ["amazon"])


def test_the_effective_policy_merges_the_policies_from_the_root_down_to_the_account(aws):
    org = Org(aws)
    org.policy("root", allowed_images("audit_mode", ["amazon", "111122223333"]), target=org.root)
    org.policy("workloads", allowed_images(providers=["123456789012"], operator="@@append"), target=org.workloads)
    org.policy("member", allowed_images("enabled", ["111122223333"], operator="@@remove"), target=org.member)
    assert effective(org.orgs, org.member) == (org.member, DECLARATIVE, {"ec2_attributes": {"allowed_images_settings": {
        "state": "enabled", "image_criteria": {"criteria_1": {"allowed_image_providers": ["amazon", "123456789012"]}}}}})
    assert effective(org.orgs, org.second)[2] == {"ec2_attributes": {"allowed_images_settings": {
        "state": "audit_mode", "image_criteria": {"criteria_1": {"allowed_image_providers": ["amazon", "111122223333", "123456789012"]}}}}}
    # the management account is under the root only
    assert effective(org.orgs, "123456789012")[2] == allowed_images_effective("audit_mode", ["amazon", "111122223333"])
    # a child's @@assign replaces what it inherits
    org.policy("second", allowed_images(providers=["444455556666"]), target=org.second)
    assert effective(org.orgs, org.second)[2] == allowed_images_effective("audit_mode", ["444455556666"])


def allowed_images_effective(state, providers):
    return {"ec2_attributes": {"allowed_images_settings": {"state": state, "image_criteria": {"criteria_1": {"allowed_image_providers": providers}}}}}


def test_of_two_policies_attached_to_one_entity_the_first_assignment_holds(aws):
    org = Org(aws)
    org.policy("first", allowed_images("audit_mode"), target=org.root)
    org.policy("second", allowed_images("enabled", ["amazon"]), target=org.root)
    assert effective(org.orgs, org.member)[2] == allowed_images_effective("audit_mode", ["amazon"])


def test_the_tag_policy_example_of_the_user_guide(aws):
    org = Org(aws)
    org.orgs.enable_policy_type(RootId=org.root, PolicyType="TAG_POLICY")
    policy_a = {"tags": {"costcenter": {"tag_key": {"@@assign": "CostCenter"}, "tag_value": {"@@assign": ["Development", "Support"]}}}}
    policy_b = {"tags": {"costcenter": {"tag_key": {"@@assign": "CostCenter"}, "tag_value": {"@@assign": ["Sandbox"]},
                                        "enforced_for": {"@@assign": ["redshift:*", "dynamodb:table"]}}}}
    org.policy("a", policy_a, target=org.root, policy_type="TAG_POLICY")
    org.policy("b", policy_b, target=org.workloads, policy_type="TAG_POLICY")
    assert effective(org.orgs, org.member, "TAG_POLICY")[2] == {
        "tags": {"costcenter": {"tag_key": "CostCenter", "tag_value": ["Sandbox"], "enforced_for": ["redshift:*", "dynamodb:table"]}}}


def test_who_may_ask_for_which_account(aws):
    org = Org(aws)
    org.policy("root", allowed_images("enabled", ["amazon"]), target=org.root)
    member = org.client(org.member, "organizations")
    # any account in the organization asks for its own
    assert effective(member)[:2] == (org.member, DECLARATIVE)
    assert effective(member, org.member)[0] == org.member
    # another account's: the management account may; a member may not (the code is unverified)
    assert effective(org.orgs, org.second)[0] == org.second
    with pytest.raises(botocore.exceptions.ClientError):
        effective(member, org.second)
    # a root or an OU is no target, an SCP has no effective policy: InvalidInputException (its reasons TARGET_NOT_SUPPORTED,
    # INVALID_ENUM_POLICY_TYPE in botocore's Organizations model)
    for kwargs in ({"PolicyType": DECLARATIVE, "TargetId": org.root}, {"PolicyType": DECLARATIVE, "TargetId": org.workloads},
                   {"PolicyType": "SERVICE_CONTROL_POLICY", "TargetId": org.member}):
        assert error_of(org.orgs.describe_effective_policy, **kwargs)[0] == "InvalidInputException"
    assert error_of(org.orgs.describe_effective_policy, PolicyType=DECLARATIVE, TargetId="999988887777")[0] == "TargetNotFoundException"
    outsider = org.client("999988887777", "organizations")
    assert error_of(outsider.describe_effective_policy, PolicyType=DECLARATIVE)[0] == "AWSOrganizationsNotInUseException"


def test_no_policy_of_the_type_no_effective_policy(aws):
    org = Org(aws, enable=False)
    assert error_of(org.orgs.describe_effective_policy, PolicyType=DECLARATIVE, TargetId=org.member)[0] == "EffectivePolicyNotFoundException"
    org.orgs.enable_policy_type(RootId=org.root, PolicyType=DECLARATIVE)
    org.policy("member", allowed_images("enabled", ["amazon"]), target=org.member)
    assert error_of(org.orgs.describe_effective_policy, PolicyType=DECLARATIVE, TargetId=org.second)[0] == "EffectivePolicyNotFoundException"


def test_last_updated_is_the_last_change_of_its_policies(aws, monkeypatch):
    org = Org(aws)
    created = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    monkeypatch.setattr(org_patch, "_now", lambda: created)
    policy_id = org.policy("root", allowed_images("enabled", ["amazon"]), target=org.root)
    stamp = org.orgs.describe_effective_policy(PolicyType=DECLARATIVE, TargetId=org.member)["EffectivePolicy"]["LastUpdatedTimestamp"]
    assert stamp == created
    updated = created + datetime.timedelta(days=1)
    monkeypatch.setattr(org_patch, "_now", lambda: updated)
    org.orgs.update_policy(PolicyId=policy_id, Content=json.dumps(allowed_images("audit_mode", ["amazon"])))
    found = org.orgs.describe_effective_policy(PolicyType=DECLARATIVE, TargetId=org.member)["EffectivePolicy"]
    assert found["LastUpdatedTimestamp"] == updated
    assert json.loads(found["PolicyContent"]) == allowed_images_effective("audit_mode", ["amazon"])


def test_a_member_accounts_allowed_amis_follow_the_declarative_policy(aws):
    org = Org(aws)
    owner = raw_client(aws, "ec2")
    golden, other = make_image(owner, "golden-1"), make_image(owner, "other-1")
    vendor = org.client(org.second, "ec2")
    vendor_image = make_image(vendor, "vendor-1")
    for ec2, image_id in ((owner, golden), (owner, other), (vendor, vendor_image)):
        ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": org.member}]})
    member = org.client(org.member, "ec2")
    member.enable_allowed_images_settings(AllowedImagesSettingsState="audit-mode")
    assert settings(member)["ManagedBy"] == "account"

    org.policy("root", allowed_images("enabled", ["amazon", "123456789012"]), target=org.root)
    assert settings(member) == {"State": "enabled", "ImageCriteria": [{"ImageProviders": ["amazon", "123456789012"]}], "ManagedBy": "declarative-policy"}
    # enabled by the policy: the vendor's AMI is neither discoverable nor launched
    assert sorted(i["ImageId"] for i in member.describe_images()["Images"]) == sorted([golden, other])
    with pytest.raises(botocore.exceptions.ClientError):
        member.run_instances(ImageId=vendor_image, MinCount=1, MaxCount=1)
    member.run_instances(ImageId=golden, MinCount=1, MaxCount=1)
    # the account can't change what the policy manages
    for call, kwargs in ((member.enable_allowed_images_settings, {"AllowedImagesSettingsState": "audit-mode"}),
                         (member.disable_allowed_images_settings, {}),
                         (member.replace_image_criteria_in_allowed_images_settings, {"ImageCriteria": [{"ImageProviders": ["444455556666"]}]})):
        with pytest.raises(botocore.exceptions.ClientError):
            call(**kwargs)
    assert settings(member)["State"] == "enabled" and settings(member)["ManagedBy"] == "declarative-policy"
    # an account the policy does not reach keeps its own settings
    outsider = org.client("999988887777", "ec2")
    assert settings(outsider)["ManagedBy"] == "account"
