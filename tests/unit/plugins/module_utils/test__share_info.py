"""Pure parts of _share_info: request parameters, summaries, and the problems of one AMI."""

import pytest

from ansible_collections.orgshare.aws.plugins.module_utils import _api
from ansible_collections.orgshare.aws.plugins.module_utils import _share_info as si

ORG_ID = "o-abcdefghij"
OTHER_ORG_ID = "o-zzzzzzzzzz"
MGMT = "111122223333"
ORG_ARN = "arn:aws:organizations::%s:organization/%s" % (MGMT, ORG_ID)
OU_ID = "ou-ab12-11111111"
OU_ARN = "arn:aws:organizations::%s:ou/%s/%s" % (MGMT, ORG_ID, OU_ID)
OU_PATH = "%s/r-ab12/%s/" % (ORG_ID, OU_ID)
ACCOUNT = "444455556666"
KEY = "arn:aws:kms:us-east-1:%s:key/1234abcd-12ab-34cd-56ef-1234567890ab" % MGMT
AWS_KEY = "arn:aws:kms:us-east-1:%s:key/aaaaaaaa-12ab-34cd-56ef-1234567890ab" % MGMT

LAUNCH = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]


def admin_statement():
    return {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % MGMT}, "Action": "kms:*", "Resource": "*"}


def org_policy(org_id=ORG_ID, extra_condition=None):
    use = {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": LAUNCH, "Resource": "*",
           "Condition": {"StringEquals": {"aws:PrincipalOrgID": org_id}}}
    grants = {"Sid": "Grants", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
              "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": org_id}, "Bool": {"kms:GrantIsForAWSResource": "true"}}}
    if extra_condition:
        use["Condition"].update(extra_condition)
        grants["Condition"].update(extra_condition)
    return {"Version": "2012-10-17", "Statement": [admin_statement(), use, grants]}


def ou_policy(pattern):
    cond = {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [pattern]}}
    return {"Version": "2012-10-17", "Statement": [
        admin_statement(),
        {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": LAUNCH, "Resource": "*", "Condition": cond},
        {"Sid": "Grants", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:CreateGrant", "Resource": "*",
         "Condition": dict(cond, Bool={"kms:GrantIsForAWSResource": "true"})},
    ]}


def account_policy(account):
    return {"Version": "2012-10-17", "Statement": [
        admin_statement(),
        {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % account}, "Action": "kms:*", "Resource": "*"},
    ]}


DEFAULT_POLICY = {"Version": "2012-10-17", "Statement": [admin_statement()]}


def lp(orgs=(), ous=(), accounts=(), public=False):
    return {"organization_arns": list(orgs), "organizational_unit_arns": list(ous), "account_ids": list(accounts), "public": public}


def customer_key(key_id=KEY, policy=None, manager="CUSTOMER"):
    return si.key_entry(key_id, {"Arn": key_id, "KeyManager": manager}, policy)


SNAPSHOTS = ({"snapshot_id": "snap-1", "device_name": "/dev/xvda", "encrypted": True, "kms_key_id": KEY},)


def problems_of(launch_permissions, policy, ou_paths=None, memberships=None, manager="CUSTOMER", principals=None, snapshots=SNAPSHOTS):
    snapshots = list(snapshots)
    keys = {KEY: customer_key(policy=policy, manager=manager)}
    return si.image_problems(launch_permissions, snapshots, keys, {KEY: policy}, ou_paths or {}, memberships or {}, principals)


def codes(problems):
    return [p["code"] for p in problems]


# ---- request parameters ------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, expected", [
    ({"owners": ["self"]}, {"Owners": ["self"]}),
    ({"owners": ["self", "123456789012"]}, {"Owners": ["self", "123456789012"]}),
    ({"owners": ["self"], "shared_with_me": True}, {"ExecutableUsers": ["self"]}),
    ({"owners": ["self", "210987654321"], "shared_with_me": True}, {"ExecutableUsers": ["self"], "Owners": ["210987654321"]}),
    ({"image_ids": ["ami-2", "ami-1", "ami-2"], "owners": ["self"]},
     {"Owners": ["self"], "Filters": [{"Name": "image-id", "Values": ["ami-1", "ami-2"]}]}),
    ({"filters": {"name": "golden-*"}, "owners": []}, {"Filters": [{"Name": "name", "Values": ["golden-*"]}]}),
])
def test_describe_images_params(kwargs, expected):
    # disabled and deprecated AMIs are always asked for: an audit reports them
    assert si.describe_images_params(**kwargs) == dict(expected, IncludeDisabled=True, IncludeDeprecated=True)


def test_batches_bound_the_size():
    ids = ["snap-%03d" % i for i in range(450)]
    out = si.batches(ids, _api.SNAPSHOT_BATCH)
    assert [len(b) for b in out] == [200, 200, 50]
    assert sum(out, []) == ids


# ---- summaries -----------------------------------------------------------------------------------

def test_snapshot_rows_take_the_key_from_describe_snapshots_and_sort_by_device():
    image = {"BlockDeviceMappings": [
        {"DeviceName": "/dev/xvdb", "Ebs": {"SnapshotId": "snap-b", "Encrypted": False}},
        {"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-a", "Encrypted": True}},
        {"DeviceName": "/dev/sdc", "VirtualName": "ephemeral0"},
    ]}
    snaps = {"snap-a": {"SnapshotId": "snap-a", "Encrypted": True, "KmsKeyId": KEY}}
    assert si.snapshot_rows(image, snaps) == [
        {"snapshot_id": "snap-a", "device_name": "/dev/xvda", "encrypted": True, "kms_key_id": KEY},
        {"snapshot_id": "snap-b", "device_name": "/dev/xvdb", "encrypted": False, "kms_key_id": None},
    ]


def test_key_entry_unreadable_and_readable():
    assert si.key_entry(KEY, None, None) == {
        "key_arn": KEY, "kms_key_arn": KEY, "key_manager": None, "readable": False, "granted_organizations": [],
        "granted_organizational_units": [], "granted_accounts": [], "granted_everyone": False,
    }
    entry = customer_key(policy=org_policy())
    assert entry["readable"] is True
    assert entry["granted_organizations"] == [ORG_ID]
    assert entry["granted_everyone"] is False
    assert customer_key(policy=ou_policy(OU_PATH + "*"))["granted_organizational_units"] == [OU_PATH + "*"]


@pytest.mark.parametrize("parent, path, expected", [
    (None, None, {"organization_id": None, "path": None}),
    ({"Id": "r-ab12", "Type": "ROOT"}, None, {"organization_id": ORG_ID, "path": ORG_ID + "/r-ab12/"}),
    ({"Id": OU_ID, "Type": "ORGANIZATIONAL_UNIT"}, OU_PATH, {"organization_id": ORG_ID, "path": OU_PATH}),
])
def test_membership_from_parent(parent, path, expected):
    assert si.membership_from_parent(ORG_ID, parent, path) == expected


# ---- problems ------------------------------------------------------------------------------------

@pytest.mark.parametrize("membership, shared, expected", [
    ({"organization_id": ORG_ID, "path": ORG_ID + "/r-ab12/"}, lp(orgs=[ORG_ARN]), [ORG_ARN]),
    ({"organization_id": ORG_ID, "path": OU_PATH}, lp(ous=[OU_ARN]), [OU_ARN]),
    ({"organization_id": ORG_ID, "path": ORG_ID + "/r-ab12/ou-ab12-99999999/" + OU_ID + "/"}, lp(ous=[OU_ARN]), [OU_ARN]),
    ({"organization_id": ORG_ID, "path": ORG_ID + "/r-ab12/"}, lp(ous=[OU_ARN]), []),  # in the org, not in the OU
    ({"organization_id": OTHER_ORG_ID, "path": None}, lp(orgs=[ORG_ARN]), []),
    ({"organization_id": None, "path": None}, lp(orgs=[ORG_ARN]), []),  # not in the caller's organization
    (None, lp(orgs=[ORG_ARN]), []),  # unknown: reported only when certain
])
def test_account_reached_through(membership, shared, expected):
    assert si.account_reached_through(ACCOUNT, membership, shared) == expected


def test_no_problem_when_the_setup_is_right():
    assert problems_of(lp(orgs=[ORG_ARN]), org_policy()) == []
    assert problems_of(lp(ous=[OU_ARN]), ou_policy(OU_PATH + "*"), ou_paths={OU_ARN: OU_PATH}) == []
    assert problems_of(lp(accounts=[ACCOUNT]), account_policy(ACCOUNT)) == []
    # an unshared AMI under a customer key needs no grant
    assert problems_of(lp(), DEFAULT_POLICY) == []


def test_public():
    problems = problems_of(lp(public=True), DEFAULT_POLICY, snapshots=[])
    assert codes(problems) == ["public"]


def test_aws_managed_key_whether_shared_or_not():
    for shared in (lp(), lp(orgs=[ORG_ARN])):
        problems = problems_of(shared, DEFAULT_POLICY, manager="AWS")
        assert codes(problems) == ["aws_managed_key"]
        assert KEY in problems[0]["message"] and "snap-1" in problems[0]["message"]


@pytest.mark.parametrize("shared, policy, principal", [
    (lp(orgs=[ORG_ARN]), DEFAULT_POLICY, ORG_ARN),
    (lp(orgs=[ORG_ARN]), org_policy(OTHER_ORG_ID), ORG_ARN),
    (lp(ous=[OU_ARN]), ou_policy(ORG_ID + "/r-ab12/ou-ab12-99999999/*"), OU_ARN),
    (lp(accounts=[ACCOUNT]), DEFAULT_POLICY, ACCOUNT),
    (lp(accounts=[ACCOUNT]), account_policy("777788889999"), ACCOUNT),
])
def test_key_not_granted_names_principal_and_key(shared, policy, principal):
    problems = problems_of(shared, policy, ou_paths={OU_ARN: OU_PATH})
    assert codes(problems) == ["key_not_granted"]
    assert principal in problems[0]["message"] and KEY in problems[0]["message"]


def test_key_grant_unknown_for_a_condition_not_understood():
    policy = org_policy(extra_condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})
    assert codes(problems_of(lp(orgs=[ORG_ARN]), policy)) == ["key_grant_unknown"]


def test_account_granted_by_org_needs_its_membership():
    shared = lp(accounts=[ACCOUNT])
    assert codes(problems_of(shared, org_policy())) == ["key_grant_unknown"]
    in_org = {ACCOUNT: {"organization_id": ORG_ID, "path": OU_PATH}}
    assert problems_of(shared, org_policy(), memberships=in_org) == []
    elsewhere = {ACCOUNT: {"organization_id": OTHER_ORG_ID, "path": None}}
    assert codes(problems_of(shared, org_policy(), memberships=elsewhere)) == ["key_not_granted"]


def test_key_policy_unreadable_only_when_there_is_someone_to_check():
    assert codes(problems_of(lp(orgs=[ORG_ARN]), None)) == ["key_policy_unreadable"]
    assert problems_of(lp(), None) == []


def test_account_in_shared_org_and_problems_sorted():
    shared = lp(orgs=[ORG_ARN], accounts=[ACCOUNT], public=True)
    memberships = {ACCOUNT: {"organization_id": ORG_ID, "path": OU_PATH}}
    problems = problems_of(shared, org_policy(), memberships=memberships)
    assert codes(problems) == ["account_in_shared_org", "public"]
    assert ACCOUNT in problems[0]["message"] and ORG_ARN in problems[0]["message"]


def test_shared_with_me_checks_the_callers_account():
    me = [("account", ACCOUNT)]
    assert codes(problems_of(lp(), DEFAULT_POLICY, principals=me)) == ["key_not_granted"]
    assert problems_of(lp(), account_policy(ACCOUNT), principals=me) == []


# ---- report ----------------------------------------------------------------------------------------

def _image(image_id, snapshot_id="snap-1"):
    return {"ImageId": image_id, "Name": image_id, "OwnerId": MGMT, "State": "available", "CreationDate": "2024-01-01T00:00:00.000Z",
            "Tags": [{"Key": "team", "Value": "x"}],
            "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snapshot_id, "Encrypted": True}}]}


def test_build_report_sorts_and_keeps_failed_regions():
    snaps = {"snap-1": {"SnapshotId": "snap-1", "Encrypted": True, "KmsKeyId": KEY}}
    gathered = {
        "regions": {
            "us-west-2": {"images": [_image("ami-b"), _image("ami-a")], "attributes": {"ami-a": [{"OrganizationArn": ORG_ARN}], "ami-b": []},
                          "snapshots": snaps, "keys": {KEY: [{"Arn": KEY, "KeyManager": "CUSTOMER"}, org_policy()]}},
            "eu-west-1": {"images": [_image("ami-c", "snap-gone")], "attributes": {"ami-c": None}, "snapshots": {}, "keys": {}},
        },
        "failed_regions": {"ap-south-1": "Failed to describe images: denied"},
        "ou_paths": {}, "memberships": {}, "caller_account_id": None,
    }
    report = si.build_report(gathered)
    assert [(i["region"], i["image_id"]) for i in report["images"]] == [("eu-west-1", "ami-c"), ("us-west-2", "ami-a"), ("us-west-2", "ami-b")]
    assert report["failed_regions"] == [{"region": "ap-south-1", "reason": "Failed to describe images: denied"}]
    c, a, b = report["images"]
    assert a["launch_permissions"] == lp(orgs=[ORG_ARN]) and a["problems"] == [] and a["tags"] == {"team": "x"}
    assert a["kms_keys"][0]["granted_organizations"] == [ORG_ID]
    assert c["launch_permissions"]["account_ids"] is None and len(c["notes"]) == 2
    assert c["snapshots"][0]["kms_key_id"] is None
