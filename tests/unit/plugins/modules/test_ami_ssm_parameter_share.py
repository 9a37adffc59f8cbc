"""ami_ssm_parameter share_with against the emulator: each parameter made Advanced and shared through one AWS RAM
resource share per region, read back through boto3 (the share's principals and resources, the parameter's tier, a
consumer reading it by ARN); a converged re-run without writes; check mode without writes; diff mode; principals someone
else added kept; two shares of one name refused; bad input refused before any AWS call, naming the option.

AWS sources (module docs and emulator/orgshare_emulator/ram.py): AWS Systems Manager User Guide, "Working with shared
parameters" (Advanced tier only, owner only; consumers: accounts, an OU of the organization, the organization); GetParameter
``Name`` in botocore's SSM model ("For parameters shared with you from another account, you must use the full ARN");
PutParameter ``Tier`` (an Advanced parameter cannot be made Standard again); AWS RAM User Guide, "Sharing your AWS
resources" (sharing with the organization or OUs needs EnableSharingWithAwsOrganization; RAM is regional).
Unverified emulator details (error codes of refused shares, ASSOCIATING) are not pinned here."""

import re

import botocore.exceptions
import pytest
import yaml

from orgshare_emulator.fixtures import credentials_for, make_image

MODULE = "ami_ssm_parameter"
US, EU = "us-east-1", "eu-west-1"
NAME = "/golden/ami/latest"
OWNER = "123456789012"
OUTSIDER = "777788889999"


class Org:
    """The caller's organization: Root > Workloads > Prod > (member); sharing with AWS Organizations enabled."""

    def __init__(self, aws, enable=True):
        orgs = aws.client("organizations")
        org = orgs.create_organization(FeatureSet="ALL")["Organization"]
        self.arn, self.id = org["Arn"], org["Id"]
        root = orgs.list_roots()["Roots"][0]["Id"]
        self.workloads = orgs.create_organizational_unit(ParentId=root, Name="Workloads")["OrganizationalUnit"]
        self.prod = orgs.create_organizational_unit(ParentId=self.workloads["Id"], Name="Prod")["OrganizationalUnit"]
        status = orgs.create_account(AccountName="member", Email="member@example.com")["CreateAccountStatus"]
        self.member = status["AccountId"]
        orgs.move_account(AccountId=self.member, SourceParentId=root, DestinationParentId=self.prod["Id"])
        if enable:
            aws.client("ram").enable_sharing_with_aws_organization()


@pytest.fixture
def org(aws):
    return Org(aws)


def image(aws, region=US, name="golden"):
    return make_image(aws.client("ec2", region), "%s-%s" % (name, region))


def tier(aws, name=NAME, region=US):
    found = aws.client("ssm", region).describe_parameters(
        ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}])["Parameters"]
    return found[0]["Tier"] if found else None


def shares(aws, region=US):
    """{share name: (allowExternalPrincipals, sorted principals, sorted resource ARNs)} of the caller's ACTIVE shares."""
    ram = aws.client("ram", region)
    out = {}
    for share in ram.get_resource_shares(resourceOwner="SELF", resourceShareStatus="ACTIVE")["resourceShares"]:
        arn = share["resourceShareArn"]

        def entities(kind):
            found = ram.get_resource_share_associations(associationType=kind, resourceShareArns=[arn])["resourceShareAssociations"]
            return sorted(a["associatedEntity"] for a in found)

        out[share["name"]] = (share["allowExternalPrincipals"], entities("PRINCIPAL"), entities("RESOURCE"))
    return out


def arn_of(name, region=US, account=OWNER):
    return "arn:aws:ssm:%s:%s:parameter/%s" % (region, account, name.lstrip("/"))


def ram_actions(aws):
    return [c["action"] for c in aws.emulator.calls if c["service"] == "ram"]


def warnings_of(result):
    return [(w.get("event") or w).get("msg", "") if isinstance(w, dict) else w for w in result.get("warnings") or []]


def test_share_with_an_ou_in_two_regions_then_a_converged_rerun(aws, run_module, org):
    amis = {r: image(aws, r) for r in (US, EU)}
    args = {"parameters": [{"name": NAME, "image_id": amis[US]}, {"name": NAME, "region": EU, "image_id": amis[EU]}],
            "share_with": {"organizational_unit_arns": [org.workloads["Arn"]]}}
    result = run_module(MODULE, args)
    assert not result.failed, result.msg
    share_name = result["parameters"][0]["resource_share"]["name"]
    assert share_name.startswith("orgshare-ssm-golden-ami-latest-")
    for entry, region in zip(result["parameters"], (US, EU)):
        assert (entry["changed"], entry["version"], entry["arn"]) == (True, 1, arn_of(NAME, region))
        assert entry["resource_share"]["created"] is True and entry["resource_share"]["arn"].startswith("arn:aws:ram:%s:" % region)
        assert entry["resource_share"]["principals"] == [org.workloads["Arn"]]
        assert entry["resource_share"]["allow_external_principals"] is False
        # AWS state: the parameter is Advanced, and the region's one share holds it and names the OU only
        assert tier(aws, region=region) == "Advanced"
        assert shares(aws, region) == {share_name: (False, [org.workloads["Arn"]], [arn_of(NAME, region)])}

    # the member account (in Prod, below Workloads) reads the parameter by its ARN, not by its name
    access_key, secret_key = credentials_for(aws.emulator, org.member)
    consumer = aws.client("ssm", EU, access_key=access_key, secret_key=secret_key)
    assert consumer.get_parameter(Name=arn_of(NAME, EU))["Parameter"]["Value"] == amis[EU]
    with pytest.raises(botocore.exceptions.ClientError):
        consumer.get_parameter(Name=NAME)

    aws.emulator.clear_calls()
    again = run_module(MODULE, args)
    assert not again.failed, again.msg
    assert again["changed"] is False and [e["changed"] for e in again["parameters"]] == [False, False]
    assert [e["resource_share"]["created"] for e in again["parameters"]] == [False, False]
    assert aws.write_calls() == []
    assert sorted(ram_actions(aws)) == ["GetResourceShareAssociations"] * 4 + ["GetResourceShares"] * 2


def test_check_mode_writes_nothing_and_predicts_the_share(aws, run_module, org):
    ami = image(aws)
    aws.emulator.clear_calls()
    args = {"name": NAME, "image_id": ami, "share_with": {"organization_arns": [org.arn]}}
    predicted = run_module(MODULE, args, check_mode=True, diff=True)
    assert not predicted.failed, predicted.msg
    assert (predicted["changed"], predicted["version"], predicted["arn"]) == (True, 1, arn_of(NAME))
    assert predicted["resource_share"]["created"] is True and predicted["resource_share"]["arn"] is None
    assert predicted["resource_share"]["added_principals"] == [org.arn]
    assert predicted["diff"]["before"] == {}
    assert (predicted["diff"]["after"]["tier"], predicted["diff"]["after"]["shared_with"]) == ("Advanced", [org.arn])
    assert aws.write_calls() == []
    assert tier(aws) is None and shares(aws) == {}

    real = run_module(MODULE, args)
    assert not real.failed, real.msg
    assert shares(aws) == {real["resource_share"]["name"]: (False, [org.arn], [arn_of(NAME)])}


def test_a_standard_parameter_becomes_advanced_and_the_diff_shows_it(aws, run_module, org):
    ami = image(aws)
    assert not run_module(MODULE, {"name": NAME, "image_id": ami}).failed
    assert tier(aws) == "Standard"
    result = run_module(MODULE, {"name": NAME, "image_id": ami, "share_with": {"account_ids": [org.member]}}, diff=True)
    assert not result.failed, result.msg
    assert (result["changed"], result["version"]) == (True, 2)
    assert result["diff"]["before"]["tier"] == "Standard" and result["diff"]["after"]["tier"] == "Advanced"
    assert (result["diff"]["before"]["shared_with"], result["diff"]["after"]["shared_with"]) == ([], [org.member])
    assert tier(aws) == "Advanced"
    # a share that names accounts allows external principals (accounts may be outside the organization)
    assert shares(aws) == {result["resource_share"]["name"]: (True, [org.member], [arn_of(NAME)])}


def test_principals_someone_else_added_stay_and_only_what_is_missing_is_added(aws, run_module, org):
    ami = image(aws)
    args = {"name": NAME, "image_id": ami, "share_with": {"organizational_unit_arns": [org.prod["Arn"]]}}
    first = run_module(MODULE, args)
    assert not first.failed, first.msg
    share_arn, share_name = first["resource_share"]["arn"], first["resource_share"]["name"]
    aws.client("ram").associate_resource_share(resourceShareArn=share_arn, principals=[org.member])  # someone else's

    aws.emulator.clear_calls()
    again = run_module(MODULE, args)
    assert again["changed"] is False and again["resource_share"]["principals"] == sorted([org.prod["Arn"], org.member])
    assert aws.write_calls() == []

    wider = dict(args, share_with={"organization_arns": [org.arn], "organizational_unit_arns": [org.prod["Arn"]]})
    aws.emulator.clear_calls()
    result = run_module(MODULE, wider)
    assert not result.failed, result.msg
    assert (result["changed"], result["resource_share"]["added_principals"]) == (True, [org.arn])
    assert [c["action"] for c in aws.write_calls()] == ["AssociateResourceShare"]
    assert shares(aws) == {share_name: (False, sorted([org.arn, org.prod["Arn"], org.member]), [arn_of(NAME)])}


def test_one_named_share_holds_several_parameters_of_a_region(aws, run_module, org):
    ami = image(aws)
    args = {"parameters": [{"name": NAME, "image_id": ami}, {"name": "golden-ami", "image_id": ami}],
            "share_with": {"organization_arns": [org.arn], "resource_share_name": "golden-amis"}}
    result = run_module(MODULE, args)
    assert not result.failed, result.msg
    assert [e["arn"] for e in result["parameters"]] == [arn_of(NAME), arn_of("golden-ami")]
    assert shares(aws) == {"golden-amis": (False, [org.arn], sorted([arn_of(NAME), arn_of("golden-ami")]))}
    assert ram_actions(aws).count("CreateResourceShare") == 1


def test_two_shares_of_the_name_are_refused_naming_both(aws, run_module, org):
    ami = image(aws)
    ram = aws.client("ram")
    arns = sorted(ram.create_resource_share(name="golden-amis")["resourceShare"]["resourceShareArn"] for dummy in range(2))
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"name": NAME, "image_id": ami,
                                 "share_with": {"organization_arns": [org.arn], "resource_share_name": "golden-amis"}})
    assert result.failed
    assert "2 ACTIVE resource shares named golden-amis" in result.msg and all(a in result.msg for a in arns)
    assert ram_actions(aws) == ["GetResourceShares"]  # nothing written to either share


def test_accounts_added_to_a_share_without_external_principals_warn(aws, run_module, org):
    ami = image(aws)
    first = run_module(MODULE, {"name": NAME, "image_id": ami, "share_with": {"organization_arns": [org.arn]}})
    assert first["resource_share"]["allow_external_principals"] is False
    result = run_module(MODULE, {"name": NAME, "image_id": ami, "share_with": {"account_ids": [org.member]}})
    assert not result.failed, result.msg
    assert any("does not allow external principals" in w and org.member in w for w in warnings_of(result))
    assert shares(aws)[first["resource_share"]["name"]][1] == sorted([org.arn, org.member])


@pytest.mark.parametrize("extra, expected", [
    ({"share_with": {"organizational_unit_arns": ["ou-abcd"]}}, "share_with.organizational_unit_arns: 'ou-abcd' is a bare OU id"),
    ({"share_with": {"organization_arns": ["arn:aws:organizations::111122223333:ou/o-exampleorgid/ou-ab12-exampleouid"]}},
     "share_with.organization_arns:"),
    ({"share_with": {"account_ids": ["12345"]}}, "share_with.account_ids: '12345' is not a 12-digit AWS account id"),
    ({"share_with": {}}, "share_with: name at least one principal"),
    ({"share_with": {"account_ids": ["111122223333"]}, "tier": "Standard"}, "share_with: AWS shares only Advanced parameters"),
    ({"share_with": {"account_ids": ["111122223333"]}, "wait": False}, "share_with: needs wait=true"),
    ({"share_with": {"account_ids": ["111122223333"]}, "state": "absent"}, "share_with: only with state=present"),
    ({"share_with": {"account_ids": ["111122223333"], "resource_share_name": "golden amis"}},
     "share_with.resource_share_name: 'golden amis' is not a resource share name"),
])
def test_bad_share_with_fails_before_any_call(aws, run_module, extra, expected):
    aws.emulator.clear_calls()
    args = dict({"name": NAME, "image_id": "ami-0123456789abcdef0"}, **extra)
    result = run_module(MODULE, args)
    assert result.failed
    assert expected in result.msg
    assert aws.emulator.calls == []


def test_the_documented_sharing_actions_are_the_actions_called(aws, run_module, org):
    from ansible_collections.orgshare.aws.plugins.modules import ami_ssm_parameter

    doc = yaml.safe_load(ami_ssm_parameter.DOCUMENTATION)
    (text,) = [n for n in doc["notes"] if n.startswith("Sharing: with O(share_with)")]
    documented = set(re.findall(r"C\(([a-z0-9-]+:[A-Za-z]+)\)", text))
    assert documented == {"sts:GetCallerIdentity", "ram:GetResourceShares", "ram:GetResourceShareAssociations",
                          "ram:CreateResourceShare", "ram:TagResource", "ram:AssociateResourceShare",
                          "organizations:DescribeOrganization", "organizations:DescribeOrganizationalUnit"}
    ami = image(aws)
    aws.emulator.clear_calls()
    share_with = {"organization_arns": [org.id], "organizational_unit_arns": [org.prod["Id"]]}  # bare ids, resolved
    assert not run_module(MODULE, {"name": NAME, "image_id": ami, "share_with": share_with}).failed
    assert not run_module(MODULE, {"name": NAME, "image_id": ami, "share_with": dict(share_with, account_ids=[org.member])}).failed
    called = set("%s:%s" % (c["service"], c["action"]) for c in aws.emulator.calls if c["service"] != "ssm" and c["service"] != "ec2")
    # ram:TagResource is the permission CreateResourceShare with tags needs (not a call of its own)
    assert called == documented - {"ram:TagResource"}
