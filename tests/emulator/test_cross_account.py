"""Cross-account AMI visibility: DescribeImages as another account sees shared AMIs."""

import pytest

from emulator_helpers import error_of, raw_client
from orgshare_emulator.fixtures import credentials_for, make_image

OWNER = "123456789012"
OUTSIDER = "777788889999"


class Org:
    """The owner's organization: Root > Workloads > Prod > (member), Root > Sandbox > (sandbox)."""

    def __init__(self, aws):
        orgs = aws.client("organizations")
        org = orgs.create_organization(FeatureSet="ALL")["Organization"]
        self.arn = org["Arn"]
        self.root = orgs.list_roots()["Roots"][0]["Id"]

        def ou(parent, name):
            return orgs.create_organizational_unit(ParentId=parent, Name=name)["OrganizationalUnit"]

        def account(name, parent):
            account_id = orgs.create_account(AccountName=name, Email="%s@example.com" % name)["CreateAccountStatus"]["AccountId"]
            orgs.move_account(AccountId=account_id, SourceParentId=self.root, DestinationParentId=parent["Id"])
            return account_id

        self.workloads = ou(self.root, "Workloads")
        self.prod = ou(self.workloads["Id"], "Prod")
        self.sandbox = ou(self.root, "Sandbox")
        self.member = account("member", self.prod)
        self.sandboxed = account("sandboxed", self.sandbox)


def ec2_of(aws, account_id, region=None):
    access_key, secret_key = credentials_for(aws.emulator, account_id)
    return raw_client(aws, "ec2", region=region, access_key=access_key, secret_key=secret_key)


def share(ec2, image_id, *entries):
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": list(entries)})


def ids(ec2, **kwargs):
    return sorted(i["ImageId"] for i in ec2.describe_images(**kwargs)["Images"])


@pytest.fixture
def world(aws):
    """The owner's AMIs, one per way of sharing, and an unshared one."""
    org = Org(aws)
    owner = raw_client(aws, "ec2")
    images = {name: make_image(owner, name) for name in ("private", "member", "prod", "workloads", "sandbox", "org", "public", "outsider")}
    share(owner, images["member"], {"UserId": org.member})
    share(owner, images["prod"], {"OrganizationalUnitArn": org.prod["Arn"]})
    share(owner, images["workloads"], {"OrganizationalUnitArn": org.workloads["Arn"]})
    share(owner, images["sandbox"], {"OrganizationalUnitArn": org.sandbox["Arn"]})
    share(owner, images["org"], {"OrganizationArn": org.arn})
    share(owner, images["public"], {"Group": "all"})
    share(owner, images["outsider"], {"UserId": OUTSIDER})
    return org, owner, images


def test_a_member_sees_what_is_shared_with_its_account_ou_ancestors_organization_and_public(aws, world):
    org, owner, images = world
    member = ec2_of(aws, org.member)
    expected = sorted(images[n] for n in ("member", "prod", "workloads", "org", "public"))
    assert ids(member) == expected
    assert ids(member, Owners=[OWNER]) == expected
    # what it may launch because it was shared with it: not the public one
    assert ids(member, ExecutableUsers=["self"]) == sorted(images[n] for n in ("member", "prod", "workloads", "org"))
    assert ids(member, ExecutableUsers=[org.member]) == ids(member, ExecutableUsers=["self"])
    assert ids(member, ExecutableUsers=["all"]) == [images["public"]]
    assert ids(member, ExecutableUsers=["self"], Owners=["self"]) == []
    assert ids(member, Owners=["self"]) == []
    # the owner still sees all of its own
    assert ids(owner) == sorted(images.values())


def test_an_account_in_another_ou_sees_only_its_ou_organization_and_public(aws, world):
    org, _owner, images = world
    sandboxed = ec2_of(aws, org.sandboxed)
    assert ids(sandboxed, ExecutableUsers=["self"]) == sorted(images[n] for n in ("sandbox", "org"))
    assert ids(sandboxed) == sorted(images[n] for n in ("sandbox", "org", "public"))


def test_an_outsider_sees_its_own_share_and_public_only(aws, world):
    _org, _owner, images = world
    outsider = ec2_of(aws, OUTSIDER)
    assert ids(outsider) == sorted([images["outsider"], images["public"]])
    assert ids(outsider, ExecutableUsers=["self"]) == [images["outsider"]]
    assert ids(outsider, Owners=[OWNER], ExecutableUsers=["self"]) == [images["outsider"]]
    assert ids(outsider, Owners=["111122223333"]) == []


def test_another_account_id_in_executable_users_means_explicit_shares_only(aws, world):
    """AWS: for another account's id, AMIs shared with its organization or OU are not returned."""
    org, owner, images = world
    assert ids(owner, ExecutableUsers=[org.member]) == [images["member"]]
    assert ids(owner, ExecutableUsers=[org.member, "all"]) == sorted([images["member"], images["public"]])


def test_image_ids_of_shared_and_private_images(aws, world):
    org, _owner, images = world
    member = ec2_of(aws, org.member)
    got = member.describe_images(ImageIds=[images["prod"]])["Images"]
    assert [(i["ImageId"], i["OwnerId"], i["Name"], i["Public"]) for i in got] == [(images["prod"], OWNER, "prod", False)]
    assert got[0]["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"].startswith("snap-")
    assert ids(member, ImageIds=[images["prod"], images["private"]]) == [images["prod"]]
    code, message = error_of(member.describe_images, ImageIds=[images["private"]])
    assert code == "InvalidAMIID.NotFound" and images["private"] in message
    assert error_of(member.describe_images, ImageIds=[images["sandbox"]])[0] == "InvalidAMIID.NotFound"


def test_filters_apply_to_shared_images(aws, world):
    org, _owner, images = world
    member = ec2_of(aws, org.member)
    assert ids(member, Filters=[{"Name": "name", "Values": ["work*", "org"]}]) == sorted([images["workloads"], images["org"]])
    assert ids(member, Filters=[{"Name": "is-public", "Values": ["true"]}]) == [images["public"]]


def test_tags_are_per_account(aws, world):
    """The owner's tags on a shared AMI are not shown to other accounts; theirs are shown to them."""
    org, owner, images = world
    owner.create_tags(Resources=[images["org"]], Tags=[{"Key": "team", "Value": "platform"}])
    member = ec2_of(aws, org.member)
    assert member.describe_images(ImageIds=[images["org"]])["Images"][0].get("Tags", []) == []
    assert ids(member, Filters=[{"Name": "tag:team", "Values": ["platform"]}]) == []
    member.create_tags(Resources=[images["org"]], Tags=[{"Key": "seen", "Value": "yes"}])
    assert member.describe_images(ImageIds=[images["org"]])["Images"][0]["Tags"] == [{"Key": "seen", "Value": "yes"}]
    assert ids(member, Filters=[{"Name": "tag:seen", "Values": ["yes"]}]) == [images["org"]]
    assert owner.describe_images(ImageIds=[images["org"]])["Images"][0]["Tags"] == [{"Key": "team", "Value": "platform"}]


def test_visibility_follows_launch_permission_changes(aws, world):
    org, owner, images = world
    member = ec2_of(aws, org.member)
    owner.modify_image_attribute(ImageId=images["org"], LaunchPermission={"Remove": [{"OrganizationArn": org.arn}]})
    assert images["org"] not in ids(member)
    share(owner, images["private"], {"UserId": org.member})
    assert images["private"] in ids(member, ExecutableUsers=["self"])
    owner.reset_image_attribute(ImageId=images["private"], Attribute="launchPermission")
    assert images["private"] not in ids(member)


def test_moving_an_account_changes_what_it_sees(aws, world):
    org, _owner, images = world
    orgs = aws.client("organizations")
    orgs.move_account(AccountId=org.sandboxed, SourceParentId=org.sandbox["Id"], DestinationParentId=org.prod["Id"])
    assert ids(ec2_of(aws, org.sandboxed), ExecutableUsers=["self"]) == sorted(images[n] for n in ("prod", "workloads", "org"))


def test_other_regions_do_not_see_it(aws, world):
    org, _owner, images = world
    assert ids(ec2_of(aws, org.member, region="eu-west-1")) == []
    assert error_of(ec2_of(aws, org.member, region="eu-west-1").describe_images, ImageIds=[images["org"]])[0] == "InvalidAMIID.NotFound"


def test_the_consumer_reads_no_attribute_and_no_snapshot(aws, world):
    """Launch permissions are the owner's to read; the AMI's snapshots are not shared with it."""
    org, owner, images = world
    member = ec2_of(aws, org.member)
    code, message = error_of(member.describe_image_attribute, ImageId=images["org"], Attribute="launchPermission")
    assert code == "AuthFailure" and images["org"] in message
    snapshot_id = owner.describe_images(ImageIds=[images["org"]])["Images"][0]["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    assert error_of(member.describe_snapshots, SnapshotIds=[snapshot_id])[0] == "InvalidSnapshot.NotFound"
    assert snapshot_id not in [s["SnapshotId"] for s in member.describe_snapshots()["Snapshots"]]


def test_the_management_account_sees_what_is_shared_with_its_organization(aws):
    org = Org(aws)
    other = ec2_of(aws, org.member)
    image_id = make_image(other, "from-member")
    share(other, image_id, {"OrganizationArn": org.arn})
    management = raw_client(aws, "ec2")
    assert ids(management, ExecutableUsers=["self"]) == [image_id]
    assert ids(management, Owners=["self"]) == []
