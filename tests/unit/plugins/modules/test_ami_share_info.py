"""orgshare.aws.ami_share_info end to end against the emulator."""

import re

import pytest

from orgshare_emulator.fixtures import create_key
from orgshare_emulator.fixtures import credentials_for
from orgshare_emulator.fixtures import make_image

OTHER_ACCOUNT = "210987654321"
OUTSIDER = "777788889999"
LAUNCH = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]


# ---- set-up helpers ------------------------------------------------------------------------------

class Org:
    """The caller's organization: root, two OUs, a member account in OU a."""

    def __init__(self, aws):
        orgs = aws.client("organizations")
        self.org = orgs.create_organization(FeatureSet="ALL")["Organization"]
        self.id, self.arn = self.org["Id"], self.org["Arn"]
        self.root = orgs.list_roots()["Roots"][0]["Id"]
        self.ou_a = orgs.create_organizational_unit(ParentId=self.root, Name="a")["OrganizationalUnit"]
        self.ou_b = orgs.create_organizational_unit(ParentId=self.root, Name="b")["OrganizationalUnit"]
        status = orgs.create_account(AccountName="member", Email="member@example.com")["CreateAccountStatus"]
        self.member = status["AccountId"]
        orgs.move_account(AccountId=self.member, SourceParentId=self.root, DestinationParentId=self.ou_a["Id"])

    def path(self, ou):
        return "%s/%s/%s/" % (self.id, self.root, ou["Id"])


def admin():
    return {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}


def use_and_grants(condition):
    return [
        {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": LAUNCH, "Resource": "*", "Condition": condition},
        {"Sid": "Grants", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
         "Resource": "*", "Condition": dict(condition, Bool={"kms:GrantIsForAWSResource": "true"})},
    ]


def org_key_policy(org_id, **extra):
    condition = {"StringEquals": {"aws:PrincipalOrgID": org_id}}
    condition.update(extra)
    return {"Version": "2012-10-17", "Statement": [admin()] + use_and_grants(condition)}


def path_key_policy(pattern):
    return {"Version": "2012-10-17", "Statement": [admin()] + use_and_grants({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [pattern]}})}


def account_key_policy(account_id):
    return {"Version": "2012-10-17", "Statement": [
        admin(),
        {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % account_id}, "Action": "kms:*", "Resource": "*"},
    ]}


def image(ec2, name, key=None, encrypted=None):
    if key:
        volumes = [{"device_name": "/dev/xvda", "kms_key_id": key}, {"device_name": "/dev/xvdb", "size": 4}]
    elif encrypted:
        volumes = [{"device_name": "/dev/xvda", "encrypted": True}]
    else:
        volumes = [{"device_name": "/dev/xvda"}]
    return make_image(ec2, name, volumes=volumes)


def share(ec2, image_id, orgs=(), ous=(), accounts=(), public=False):
    add = [{"OrganizationArn": a} for a in orgs] + [{"OrganizationalUnitArn": a} for a in ous] + [{"UserId": a} for a in accounts]
    if public:
        add.append({"Group": "all"})
    ec2.modify_image_attribute(ImageId=image_id, Attribute="launchPermission", LaunchPermission={"Add": add})


def by_id(result):
    assert not result.failed, result.msg
    return {i["image_id"]: i for i in result["images"]}


def codes(img):
    return [p["code"] for p in img["problems"]]


def documented_actions():
    from ansible_collections.orgshare.aws.plugins.modules import ami_share_info

    return set(re.findall(r"C\(((?:ec2|kms|organizations|sts):[A-Za-z]+)\)", ami_share_info.DOCUMENTATION))


@pytest.fixture
def scenario(aws):
    """One AMI per problem code, and one per correct set-up, in us-east-1."""
    ec2, kms = aws.client("ec2"), aws.client("kms")
    org = Org(aws)
    foreign_kms = aws.client("kms", access_key=credentials_for(aws.emulator, OTHER_ACCOUNT)[0],
                             secret_key=credentials_for(aws.emulator, OTHER_ACCOUNT)[1])
    keys = {
        "org": create_key(kms, policy=org_key_policy(org.id)),
        "ou_a": create_key(kms, policy=path_key_policy(org.path(org.ou_a) + "*")),
        "account": create_key(kms, policy=account_key_policy(OUTSIDER)),
        "default": create_key(kms),
        "odd": create_key(kms, policy=org_key_policy(org.id, IpAddress={"aws:SourceIp": "203.0.113.0/24"})),
        "foreign": create_key(foreign_kms),
    }
    ids = {}
    # right set-ups: no problem
    ids["org_ok"] = image(ec2, "org-ok", keys["org"])
    share(ec2, ids["org_ok"], orgs=[org.arn])
    ids["ou_ok"] = image(ec2, "ou-ok", keys["ou_a"])
    share(ec2, ids["ou_ok"], ous=[org.ou_a["Arn"]])
    ids["account_ok"] = image(ec2, "account-ok", keys["account"])
    share(ec2, ids["account_ok"], accounts=[OUTSIDER])
    ids["member_ok"] = image(ec2, "member-ok", keys["org"])  # a member account, granted through its organization
    share(ec2, ids["member_ok"], accounts=[org.member])
    ids["private_managed_free"] = image(ec2, "private", keys["default"])  # not shared: no grant needed
    ids["org_and_outsider"] = image(ec2, "org-and-outsider")
    share(ec2, ids["org_and_outsider"], orgs=[org.arn], accounts=[OUTSIDER])
    # one problem each
    ids["public"] = image(ec2, "public")
    share(ec2, ids["public"], public=True)
    ids["aws_managed_key"] = image(ec2, "managed", encrypted=True)
    ids["key_not_granted"] = image(ec2, "not-granted", keys["default"])
    share(ec2, ids["key_not_granted"], orgs=[org.arn])
    ids["key_not_granted_ou"] = image(ec2, "not-granted-ou", keys["ou_a"])
    share(ec2, ids["key_not_granted_ou"], ous=[org.ou_b["Arn"]])
    ids["key_policy_unreadable"] = image(ec2, "unreadable", keys["foreign"])
    share(ec2, ids["key_policy_unreadable"], orgs=[org.arn])
    ids["key_grant_unknown"] = image(ec2, "unknown", keys["odd"])
    share(ec2, ids["key_grant_unknown"], orgs=[org.arn])
    ids["account_in_shared_org"] = image(ec2, "dup-org")
    share(ec2, ids["account_in_shared_org"], orgs=[org.arn], accounts=[org.member])
    ids["account_in_shared_ou"] = image(ec2, "dup-ou")
    share(ec2, ids["account_in_shared_ou"], ous=[org.ou_a["Arn"]], accounts=[org.member])
    return {"org": org, "keys": keys, "ids": ids}


# ---- problems ------------------------------------------------------------------------------------

def test_each_problem_from_its_scenario_and_absent_when_right(aws, run_module, scenario):
    aws.emulator.clear_calls()
    images = by_id(run_module("ami_share_info", {}))
    ids, org, keys = scenario["ids"], scenario["org"], scenario["keys"]
    assert set(images) == set(ids.values())

    for name in ("org_ok", "ou_ok", "account_ok", "member_ok", "private_managed_free", "org_and_outsider"):
        assert images[ids[name]]["problems"] == [], name

    expected = {
        "public": ["public"],
        "aws_managed_key": ["aws_managed_key"],
        "key_not_granted": ["key_not_granted"],
        "key_not_granted_ou": ["key_not_granted"],
        "key_policy_unreadable": ["key_policy_unreadable"],
        "key_grant_unknown": ["key_grant_unknown"],
        "account_in_shared_org": ["account_in_shared_org"],
        "account_in_shared_ou": ["account_in_shared_org"],
    }
    for name, want in expected.items():
        assert codes(images[ids[name]]) == want, (name, images[ids[name]]["problems"])

    # the messages name the principal and the key
    message = images[ids["key_not_granted"]]["problems"][0]["message"]
    assert org.arn in message and keys["default"] in message
    assert org.ou_b["Arn"] in images[ids["key_not_granted_ou"]]["problems"][0]["message"]
    dup = images[ids["account_in_shared_ou"]]["problems"][0]["message"]
    assert org.member in dup and org.ou_a["Arn"] in dup
    assert aws.write_calls() == []

    # problems are data: the fields they are about, beside code and message (no prose parsing needed)
    not_granted = images[ids["key_not_granted"]]["problems"][0]
    snapshot_ids = sorted(s["snapshot_id"] for s in images[ids["key_not_granted"]]["snapshots"] if s["kms_key_id"])
    assert {k: v for k, v in not_granted.items() if k != "message"} == {
        "code": "key_not_granted", "kms_key_arn": keys["default"], "snapshot_ids": snapshot_ids, "principal": org.arn,
        "principal_kind": "organization", "region": "us-east-1", "image_id": ids["key_not_granted"]}
    in_org = images[ids["account_in_shared_ou"]]["problems"][0]
    assert (in_org["code"], in_org["account_id"], in_org["principal"], in_org["region"]) == (
        "account_in_shared_org", org.member, org.ou_a["Arn"], "us-east-1")
    public = images[ids["public"]]["problems"][0]
    assert (public["code"], public["principal"], public["image_id"]) == ("public", "all", ids["public"])


def test_image_entry_shape(aws, run_module, scenario):
    ids, org, keys = scenario["ids"], scenario["org"], scenario["keys"]
    images = by_id(run_module("ami_share_info", {"image_ids": [ids["org_ok"], ids["key_policy_unreadable"], ids["aws_managed_key"]]}))
    ok = images[ids["org_ok"]]
    assert ok["region"] == "us-east-1" and ok["name"] == "org-ok" and ok["owner_id"] == "123456789012" and ok["state"] == "available"
    assert ok["launch_permissions"] == {"organization_arns": [org.arn], "organizational_unit_arns": [], "account_ids": [], "public": False}
    assert [(s["device_name"], s["encrypted"], s["kms_key_id"]) for s in ok["snapshots"]] == [
        ("/dev/xvda", True, keys["org"]), ("/dev/xvdb", False, None)]
    assert ok["kms_keys"] == [{
        "key_arn": keys["org"], "kms_key_arn": keys["org"], "key_manager": "CUSTOMER", "readable": True, "granted_organizations": [org.id],
        "granted_organizational_units": [], "granted_accounts": ["123456789012"], "granted_everyone": False,
    }]
    foreign = images[ids["key_policy_unreadable"]]["kms_keys"][0]
    assert foreign["key_arn"] == foreign["kms_key_arn"] == keys["foreign"] and foreign["readable"] is False and foreign["key_manager"] is None
    managed = images[ids["aws_managed_key"]]["kms_keys"][0]
    assert managed["key_manager"] == "AWS"
    assert managed["key_arn"] == managed["kms_key_arn"] == aws.client("kms").describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["Arn"]


def test_check_mode_gives_the_same_answer(aws, run_module, scenario):
    real = run_module("ami_share_info", {})
    aws.emulator.clear_calls()
    check = run_module("ami_share_info", {}, check_mode=True)
    assert check["changed"] is False and real["changed"] is False
    assert check["images"] == real["images"]
    assert aws.write_calls() == []


# ---- key reads, speed, faults --------------------------------------------------------------------

def test_each_key_read_once_and_snapshots_batched(aws, run_module):
    ec2, kms = aws.client("ec2"), aws.client("kms")
    key = create_key(kms)
    ids = [image(ec2, "same-key-%d" % i, key) for i in range(6)]
    for image_id in ids:
        share(ec2, image_id, accounts=[OUTSIDER])
    aws.emulator.clear_calls()
    images = by_id(run_module("ami_share_info", {}))
    assert sorted(images) == sorted(ids)
    assert all(codes(i) == ["key_not_granted"] for i in images.values())
    calls = [c["action"] for c in aws.emulator.calls if c["status"] < 400]
    assert calls.count("GetKeyPolicy") == 1
    assert calls.count("DescribeKey") == 1
    assert calls.count("DescribeSnapshots") == 1
    assert calls.count("DescribeImageAttribute") == 6


def test_throttling_gives_the_same_answer(aws, run_module, scenario):
    calm = run_module("ami_share_info", {"regions": ["us-east-1", "eu-west-1"]})
    aws.emulator.clear_calls()
    aws.emulator.inject_faults(rate=0.3)
    stormy = run_module("ami_share_info", {"regions": ["us-east-1", "eu-west-1"]})
    throttled = [c for c in aws.emulator.calls if c["error"] in ("RequestLimitExceeded", "ThrottlingException", "TooManyRequestsException")]
    aws.emulator.clear_faults()
    assert throttled  # the faults did happen
    assert stormy["failed_regions"] == calm["failed_regions"] == []
    assert stormy["images"] == calm["images"]


def test_a_failing_region_is_reported_and_the_others_returned(aws, run_module):
    ec2 = aws.client("ec2")
    image_id = image(ec2, "survivor")
    result = run_module("ami_share_info", {"regions": ["us-east-1", "xx-nowhere-1"]})
    # a read that could not be made is a failure, not "nothing found"
    assert result.failed
    assert result.msg.startswith("1 region(s) could not be read, so the answer is incomplete: xx-nowhere-1: ")
    assert [i["image_id"] for i in result["images"]] == [image_id]
    assert [f["region"] for f in result["failed_regions"]] == ["xx-nowhere-1"]
    assert result["failed_regions"][0]["reason"]
    partial = run_module("ami_share_info", {"regions": ["us-east-1", "xx-nowhere-1"], "allow_partial": True})
    assert not partial.failed
    assert [i["image_id"] for i in partial["images"]] == [image_id]
    assert [f["region"] for f in partial["failed_regions"]] == ["xx-nowhere-1"]


# ---- regions, filters, owners, check_keys -------------------------------------------------------

def test_several_regions_at_once(aws, run_module):
    regions = ["us-east-1", "eu-west-1", "ap-southeast-2"]
    made = {}
    for region in regions:
        ec2, kms = aws.client("ec2", region), aws.client("kms", region)
        key = create_key(kms, policy=account_key_policy(OUTSIDER))
        made[region] = [image(ec2, "golden-%s-%d" % (region, i), key) for i in range(2)]
        for image_id in made[region]:
            share(ec2, image_id, accounts=[OUTSIDER])
    result = run_module("ami_share_info", {"regions": regions})
    assert result["failed_regions"] == []
    got = [(i["region"], i["image_id"]) for i in result["images"]]
    assert got == sorted((r, i) for r in regions for i in made[r])
    for img in result["images"]:
        assert img["problems"] == []
        assert img["kms_keys"][0]["key_arn"].startswith("arn:aws:kms:%s:" % img["region"])
    # the default is the module's region only
    only = run_module("ami_share_info", {}, region="eu-west-1")
    assert sorted(i["image_id"] for i in only["images"]) == sorted(made["eu-west-1"])


def test_filters_image_ids_and_owners(aws, run_module):
    east, west = aws.client("ec2", "us-east-1"), aws.client("ec2", "eu-west-1")
    a = image(east, "golden-a")
    b = image(east, "scratch-b")
    c = image(west, "golden-c")
    both = {"regions": ["us-east-1", "eu-west-1"]}

    def ids(args):
        result = run_module("ami_share_info", dict(both, **args))
        assert result["failed_regions"] == []
        return [i["image_id"] for i in result["images"]]

    assert sorted(ids({})) == sorted([a, b, c])
    assert ids({"filters": {"name": "golden-*"}}) == [c, a]  # eu-west-1 sorts first
    assert ids({"image_ids": [b, c]}) == [c, b]  # each id found in its own region, no NotFound elsewhere
    assert sorted(ids({"owners": ["123456789012"]})) == sorted([a, b, c])
    assert ids({"owners": [OUTSIDER]}) == []


def test_check_keys_false_reads_no_key(aws, run_module, scenario):
    aws.emulator.clear_calls()
    images = by_id(run_module("ami_share_info", {"check_keys": False}))
    ids = scenario["ids"]
    assert codes(images[ids["aws_managed_key"]]) == []
    assert codes(images[ids["public"]]) == ["public"]
    assert codes(images[ids["account_in_shared_org"]]) == ["account_in_shared_org"]
    assert all(i["kms_keys"] == [] for i in images.values())
    assert all(s["kms_key_id"] is None for i in images.values() for s in i["snapshots"])
    assert not any(a.startswith("kms:") for a in aws.emulator.actions())
    assert "ec2:DescribeSnapshots" not in aws.emulator.actions()


# ---- shared with me ---------------------------------------------------------------------------------

def test_shared_with_me_excludes_own_images(aws, run_module, scenario):
    # another account's AMI shared with the caller, next to the caller's own (shared) AMIs of the scenario
    access_key, secret_key = credentials_for(aws.emulator, OTHER_ACCOUNT)
    other_ec2 = aws.client("ec2", access_key=access_key, secret_key=secret_key)
    theirs = image(other_ec2, "theirs-for-us")
    share(other_ec2, theirs, accounts=["123456789012"])
    image(other_ec2, "theirs-not-shared")
    result = run_module("ami_share_info", {"shared_with_me": True})
    assert not result.failed, result.msg
    # exactly the other account's shared AMI: none of the caller's own, not the unshared one
    assert [(i["image_id"], i["owner_id"]) for i in result["images"]] == [(theirs, OTHER_ACCOUNT)]


def test_shared_with_me_from_a_second_account(aws, run_module):
    ec2, kms = aws.client("ec2"), aws.client("kms")
    key = create_key(kms, policy=account_key_policy(OTHER_ACCOUNT))
    shared = image(ec2, "for-other", key)
    share(ec2, shared, accounts=[OTHER_ACCOUNT])
    image(ec2, "not-for-other")
    access_key, secret_key = credentials_for(aws.emulator, OTHER_ACCOUNT)
    result = run_module("ami_share_info", {"shared_with_me": True, "access_key": access_key, "secret_key": secret_key})
    images = by_id(result)
    assert list(images) == [shared]
    got = images[shared]
    assert got["owner_id"] == "123456789012"
    assert got["launch_permissions"] == {"organization_arns": None, "organizational_unit_arns": None, "account_ids": None, "public": False}
    assert got["notes"]
    # the owner's snapshots are not visible to this account: their keys could not be checked, which is a problem
    assert [(p["code"], p["principal"]) for p in got["problems"]] == [("key_grant_unknown", OTHER_ACCOUNT)]
    assert got["problems"][0]["snapshot_ids"] == sorted(s["snapshot_id"] for s in got["snapshots"])


# ---- documentation ------------------------------------------------------------------------------------

def test_documented_iam_actions_equal_the_actions_called(aws, run_module, scenario):
    aws.emulator.clear_calls()
    run_module("ami_share_info", {"regions": ["us-east-1", "eu-west-1"]})
    run_module("ami_share_info", {"shared_with_me": True})
    run_module("ami_share_info", {"regions": ["us-east-1"], "principal_names": True})
    run_module("ami_share_info", {"regions": ["us-east-1"], "check_allowed_images": True})
    run_module("ami_share_info", {"shared_with_me": True, "check_allowed_images": True})
    assert aws.emulator.actions() == documented_actions()
