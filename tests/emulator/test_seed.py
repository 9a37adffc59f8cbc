"""(e) The seed: organization with nested OUs and accounts, per-region keys, AMIs."""

import json
import urllib.request

from emulator_helpers import error_of, raw_client
from orgshare_emulator.fixtures import image_keys

REGIONS = ["us-east-1", "eu-west-1"]


def test_seed_creates_org_ous_accounts_keys_and_images(aws):
    data = aws.emulator.seed(regions=REGIONS)
    json.dumps(data)  # JSON-serialisable
    org = aws.client("organizations")
    described = org.describe_organization()["Organization"]
    assert data["organization"] == {"id": described["Id"], "arn": described["Arn"], "management_account_id": "123456789012"}
    assert set(data["ous"]) == {"Workloads", "Prod", "Dev", "Sandbox"}
    # nesting, checked through Organizations
    for name, ou in data["ous"].items():
        parent = org.list_parents(ChildId=ou["id"])["Parents"][0]["Id"]
        assert parent == (data["ous"][ou["parent"]]["id"] if ou["parent"] else data["root_id"])
        assert org.describe_organizational_unit(OrganizationalUnitId=ou["id"])["OrganizationalUnit"]["Arn"] == ou["arn"]
    prod = data["ous"]["Prod"]
    assert prod["path"] == "%s/%s/%s/%s/" % (data["organization"]["id"], data["root_id"], data["ous"]["Workloads"]["id"], prod["id"])
    for name, account_id in data["accounts"].items():
        ou_name = data["account_ous"][name]
        expected_parent = data["ous"][ou_name]["id"] if ou_name else data["root_id"]
        assert org.list_parents(ChildId=account_id)["Parents"][0]["Id"] == expected_parent
    assert len(set(data["accounts"].values())) == len(data["accounts"]) >= 4
    for region in REGIONS:
        kms = aws.client("kms", region)
        meta = kms.describe_key(KeyId="alias/orgshare-demo")["KeyMetadata"]
        assert meta["Arn"] == data["keys"][region] and meta["KeyManager"] == "CUSTOMER"
        policy = json.loads(kms.get_key_policy(KeyId=meta["Arn"])["Policy"])
        assert policy["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    ec2 = aws.client("ec2", REGIONS[0])
    assert set(image_keys(ec2, data["images"]["encrypted"]).values()) == {data["keys"][REGIONS[0]]}
    assert len(image_keys(ec2, data["images"]["encrypted"])) == 2
    ebs = aws.client("kms").describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["Arn"]
    assert set(image_keys(ec2, data["images"]["aws_managed"]).values()) == {ebs}
    code, dummy = error_of(raw_client(aws, "ec2").modify_image_attribute, ImageId=data["images"]["aws_managed"],
                           LaunchPermission={"Add": [{"OrganizationArn": data["organization"]["arn"]}]})
    assert code == "InvalidParameter"
    ec2.modify_image_attribute(ImageId=data["images"]["encrypted"], LaunchPermission={"Add": [{"OrganizationalUnitArn": prod["arn"]}]})


def test_seed_is_not_recorded_and_is_stable_until_reset(aws):
    aws.emulator.inject_faults(rate=1.0, kind="503")
    try:
        first = aws.emulator.seed(regions=["us-east-1"])
    finally:
        aws.emulator.clear_faults()
    assert aws.emulator.calls == []
    assert aws.emulator.seed(regions=["us-east-1"]) == first
    aws.emulator.reset()
    second = aws.emulator.seed(regions=["us-east-1"])
    assert second["organization"]["id"] != first["organization"]["id"]


def test_seed_through_the_control_endpoint(aws):
    req = urllib.request.Request(aws.endpoint_url + "/_orgshare/seed", data=json.dumps({"regions": ["us-west-2"]}).encode(), method="POST")
    with urllib.request.urlopen(req, timeout=60) as resp:
        data = json.loads(resp.read())
    assert list(data["keys"]) == ["us-west-2"]
    assert aws.client("ec2", "us-west-2").describe_images(ImageIds=[data["images"]["encrypted"]])["Images"][0]["State"] == "available"
