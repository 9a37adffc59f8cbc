"""AWS RAM resource shares of SSM parameters, and consumers reading a shared parameter by its ARN.

Sources: AWS Systems Manager User Guide, "Working with shared parameters"
(https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-shared-parameters.html): only the owner
shares, only Advanced parameters; consumers are accounts, an OU of the organization, the organization. GetParameter
``Name`` (botocore's SSM model): "For parameters shared with you from another account, you must use the full ARN";
PutParameter ``Name``: "You can't enter the Amazon Resource Name (ARN) for a parameter". AWS RAM User Guide, "Sharing your
AWS resources": organizations and OUs only once sharing with AWS Organizations is enabled ("Only the management account
can enable sharing with AWS Organizations"); RAM is regional. botocore's RAM model: the parameters and filters of
CreateResourceShare, AssociateResourceShare, DisassociateResourceShare, GetResourceShares, GetResourceShareAssociations.

Not pinned (unverified): the error codes and messages of refused shares and associations, ASSOCIATING / DISASSOCIATED
states, the answer to a consumer whose account the share does not reach (ParameterNotFound here).
"""

import botocore.exceptions
import pytest

from emulator_helpers import raw_client
from orgshare_emulator.fixtures import credentials_for, make_image

NAME = "/golden/ami"
OWNER = "123456789012"
OUTSIDER = "777788889999"
EU = "eu-west-1"


class World:
    """The owner's organization (Root > Workloads > Prod > member; Root > Sandbox > sandboxed) and an Advanced
    parameter /golden/ami holding an AMI of us-east-1."""

    def __init__(self, aws):
        orgs = aws.client("organizations")
        org = orgs.create_organization(FeatureSet="ALL")["Organization"]
        self.org_arn = org["Arn"]
        root = orgs.list_roots()["Roots"][0]["Id"]

        def ou(parent, name):
            return orgs.create_organizational_unit(ParentId=parent, Name=name)["OrganizationalUnit"]

        def account(name, parent):
            account_id = orgs.create_account(AccountName=name, Email="%s@example.com" % name)["CreateAccountStatus"]["AccountId"]
            orgs.move_account(AccountId=account_id, SourceParentId=root, DestinationParentId=parent["Id"])
            return account_id

        self.workloads = ou(root, "Workloads")
        self.prod = ou(self.workloads["Id"], "Prod")
        self.sandbox = ou(root, "Sandbox")
        self.member = account("member", self.prod)
        self.sandboxed = account("sandboxed", self.sandbox)
        self.ssm, self.ram = raw_client(aws, "ssm"), raw_client(aws, "ram")
        self.ami = make_image(raw_client(aws, "ec2"), "golden-ami")
        self.ssm.put_parameter(Name=NAME, Value=self.ami, Type="String", DataType="aws:ec2:image", Tier="Advanced")
        self.arn = self.ssm.get_parameter(Name=NAME)["Parameter"]["ARN"]


@pytest.fixture
def world(aws):
    return World(aws)


def consumer(aws, account_id, region=None):
    access_key, secret_key = credentials_for(aws.emulator, account_id)
    return raw_client(aws, "ssm", region=region, access_key=access_key, secret_key=secret_key)


def fails(call, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError):
        call(*args, **kwargs)


def entities(ram, share_arn, kind):
    found = ram.get_resource_share_associations(associationType=kind, resourceShareArns=[share_arn])["resourceShareAssociations"]
    return sorted(a["associatedEntity"] for a in found)


def test_the_arn_of_a_parameter_in_a_hierarchy_drops_the_leading_slash(world):
    assert world.arn == "arn:aws:ssm:us-east-1:%s:parameter/golden/ami" % OWNER


def test_put_parameter_tier_advanced_and_describe_parameters_shows_it(world):
    assert world.ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [NAME]}])["Parameters"][0]["Tier"] == "Advanced"


def test_a_standard_parameter_cannot_be_shared(aws, world):
    world.ssm.put_parameter(Name="/golden/standard", Value=world.ami, Type="String", DataType="aws:ec2:image")
    arn = world.ssm.get_parameter(Name="/golden/standard")["Parameter"]["ARN"]
    fails(world.ram.create_resource_share, name="s", resourceArns=[arn], principals=[world.member])
    assert world.ram.get_resource_shares(resourceOwner="SELF")["resourceShares"] == []


def test_only_the_owners_existing_parameters_of_the_region_can_be_shared(aws, world):
    other = "arn:aws:ssm:us-east-1:%s:parameter/golden/ami" % OUTSIDER
    missing = "arn:aws:ssm:us-east-1:%s:parameter/golden/none" % OWNER
    elsewhere = "arn:aws:ssm:%s:%s:parameter/golden/ami" % (EU, OWNER)
    for arn in (other, missing, elsewhere):
        fails(world.ram.create_resource_share, name="s", resourceArns=[arn])


def test_organizations_and_ous_need_sharing_with_organizations_enabled(aws, world):
    fails(world.ram.create_resource_share, name="s", resourceArns=[world.arn], principals=[world.org_arn])
    # only the management account enables it
    access_key, secret_key = credentials_for(aws.emulator, world.member)
    fails(raw_client(aws, "ram", access_key=access_key, secret_key=secret_key).enable_sharing_with_aws_organization)
    assert world.ram.enable_sharing_with_aws_organization()["returnValue"] is True
    share = world.ram.create_resource_share(name="s", resourceArns=[world.arn], principals=[world.org_arn])["resourceShare"]
    assert entities(world.ram, share["resourceShareArn"], "PRINCIPAL") == [world.org_arn]


def test_an_ou_at_any_depth_is_a_principal_but_not_another_organizations(aws, world):
    world.ram.enable_sharing_with_aws_organization()
    share = world.ram.create_resource_share(name="s", resourceArns=[world.arn], principals=[world.prod["Arn"]],
                                            allowExternalPrincipals=False)["resourceShare"]
    assert share["allowExternalPrincipals"] is False
    foreign = "arn:aws:organizations::444455556666:ou/o-zzzzzzzzzz/ou-zz12-33333333"
    fails(world.ram.associate_resource_share, resourceShareArn=share["resourceShareArn"], principals=[foreign])
    assert entities(world.ram, share["resourceShareArn"], "PRINCIPAL") == [world.prod["Arn"]]


def test_an_account_outside_the_organization_needs_allow_external_principals(aws, world):
    closed = world.ram.create_resource_share(name="closed", allowExternalPrincipals=False)["resourceShare"]["resourceShareArn"]
    try:  # whether AWS refuses the call or lets the association fail is unverified: only the outcome is pinned
        world.ram.associate_resource_share(resourceShareArn=closed, principals=[OUTSIDER])
    except botocore.exceptions.ClientError:
        pass
    world.ram.associate_resource_share(resourceShareArn=closed, principals=[world.member])  # inside: fine
    assert entities(world.ram, closed, "PRINCIPAL") == [world.member]
    open_ = world.ram.create_resource_share(name="open")["resourceShare"]  # default true
    assert open_["allowExternalPrincipals"] is True
    world.ram.associate_resource_share(resourceShareArn=open_["resourceShareArn"], principals=[OUTSIDER])
    found = world.ram.get_resource_share_associations(associationType="PRINCIPAL", resourceShareArns=[open_["resourceShareArn"]])
    assert [(a["associatedEntity"], a["external"]) for a in found["resourceShareAssociations"]] == [(OUTSIDER, True)]


def test_associate_and_disassociate_add_and_remove_only_what_they_name(world):
    share = world.ram.create_resource_share(name="s", principals=[world.member])["resourceShare"]["resourceShareArn"]
    world.ram.associate_resource_share(resourceShareArn=share, resourceArns=[world.arn], principals=[world.sandboxed])
    assert entities(world.ram, share, "PRINCIPAL") == sorted([world.member, world.sandboxed])
    assert entities(world.ram, share, "RESOURCE") == [world.arn]
    world.ram.disassociate_resource_share(resourceShareArn=share, principals=[world.sandboxed])
    assert entities(world.ram, share, "PRINCIPAL") == [world.member]
    assert entities(world.ram, share, "RESOURCE") == [world.arn]


def test_get_resource_shares_filters_by_name_tag_status_and_arn(world):
    ram = world.ram
    a = ram.create_resource_share(name="a", tags=[{"key": "team", "value": "platform"}])["resourceShare"]
    b = ram.create_resource_share(name="b", tags=[{"key": "team", "value": "apps"}])["resourceShare"]
    ram.delete_resource_share(resourceShareArn=b["resourceShareArn"])

    def names(**kwargs):
        return sorted(s["name"] for s in ram.get_resource_shares(resourceOwner="SELF", **kwargs)["resourceShares"])

    assert names() == ["a", "b"]
    assert names(name="a") == ["a"]
    assert names(resourceShareStatus="ACTIVE") == ["a"]
    assert names(tagFilters=[{"tagKey": "team", "tagValues": ["apps"]}]) == ["b"]
    assert names(tagFilters=[{"tagKey": "team"}]) == ["a", "b"]
    assert names(resourceShareArns=[a["resourceShareArn"]]) == ["a"]
    assert ram.get_resource_shares(resourceOwner="SELF", name="a")["resourceShares"][0]["tags"] == [{"key": "team", "value": "platform"}]
    pages = ram.get_paginator("get_resource_shares").paginate(resourceOwner="SELF", PaginationConfig={"PageSize": 1})
    assert sorted(s["name"] for p in pages for s in p["resourceShares"]) == ["a", "b"]


def test_consumers_read_the_shared_parameter_by_arn_only(aws, world):
    world.ram.enable_sharing_with_aws_organization()
    world.ram.create_resource_share(name="s", resourceArns=[world.arn], principals=[world.workloads["Arn"]])
    member = consumer(aws, world.member)
    got = member.get_parameter(Name=world.arn)["Parameter"]
    assert (got["Value"], got["ARN"], got["DataType"]) == (world.ami, world.arn, "aws:ec2:image")
    assert member.get_parameter(Name=world.arn + ":1")["Parameter"]["Version"] == 1
    fails(member.get_parameter, Name=NAME)  # by name: the member's own parameter store
    fails(consumer(aws, world.sandboxed).get_parameter, Name=world.arn)  # Sandbox is not below Workloads
    fails(consumer(aws, world.member, region=EU).get_parameter, Name=world.arn)  # another region


def test_consumers_cannot_write_a_shared_parameter(aws, world):
    world.ram.create_resource_share(name="s", resourceArns=[world.arn], principals=[world.member])
    member = consumer(aws, world.member)
    fails(member.put_parameter, Name=world.arn, Value="ami-0123456789abcdef0", Type="String", Overwrite=True)
    assert world.ssm.get_parameter(Name=NAME)["Parameter"]["Value"] == world.ami


def test_ram_calls_are_recorded_by_action(aws, world):
    aws.emulator.clear_calls()
    world.ram.get_resource_shares(resourceOwner="SELF")
    world.ram.create_resource_share(name="s")
    assert [(c["service"], c["action"]) for c in aws.emulator.calls] == [("ram", "GetResourceShares"), ("ram", "CreateResourceShare")]
    assert [c["action"] for c in aws.write_calls()] == ["CreateResourceShare"]
