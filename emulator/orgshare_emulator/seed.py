"""Seed data for the demo and tests: an organization with nested OUs and member accounts,
a customer managed key per region, and AMIs (one shareable, one under the AWS managed key).

The caller's account (123456789012, moto's default) is the management account::

    Root
    +-- Workloads
    |   +-- Prod      accounts prod-app, prod-data
    |   +-- Dev       account dev-app
    +-- Sandbox       account sandbox-1
    (Root)            account security

The seed goes through the emulator's own HTTP endpoint with internal clients, so it is neither
recorded in the call record nor delayed or failed by the knobs.
"""

from __future__ import annotations

from .fixtures import create_key, default_key_policy, make_image
from .state import SEED as STATE

DEFAULT_REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
KEY_ALIAS = "alias/orgshare-demo"
ACCOUNT_ID = "123456789012"

# OU name -> parent OU name (None: the root); created in this order.
OU_TREE = (("Workloads", None), ("Prod", "Workloads"), ("Dev", "Workloads"), ("Sandbox", None))
# account name -> OU name (None: stays in the root)
ACCOUNTS = (("prod-app", "Prod"), ("prod-data", "Prod"), ("dev-app", "Dev"), ("sandbox-1", "Sandbox"), ("security", None))


def seed(emulator, regions=None):
    """Create the demo organization, keys and AMIs; return a JSON-serialisable description::

        {"account_id", "regions", "image_region",
         "organization": {"id", "arn", "management_account_id"}, "root_id", "root_arn",
         "ous": {name: {"id", "arn", "path", "parent"}}, "accounts": {name: id},
         "account_ous": {name: OU name or None}, "keys": {region: key ARN}, "key_alias",
         "images": {"encrypted": image id (2 volumes, the first region's key),
                    "aws_managed": image id (alias/aws/ebs, cannot be shared)}}

    Seeding twice without a reset returns the first result."""
    if STATE["last"] is not None:
        return STATE["last"]
    if isinstance(regions, str):
        regions = regions.split(",")
    regions = [r.strip() for r in (regions or DEFAULT_REGIONS) if r.strip()]
    org_client = emulator.internal_client("organizations", regions[0])
    org = org_client.create_organization(FeatureSet="ALL")["Organization"]
    root = org_client.list_roots()["Roots"][0]
    ous = {}
    for name, parent in OU_TREE:
        parent_id = ous[parent]["id"] if parent else root["Id"]
        ou = org_client.create_organizational_unit(ParentId=parent_id, Name=name)["OrganizationalUnit"]
        parent_path = ous[parent]["path"] if parent else "%s/%s/" % (org["Id"], root["Id"])
        ous[name] = {"id": ou["Id"], "arn": ou["Arn"], "path": "%s%s/" % (parent_path, ou["Id"]), "parent": parent}
    accounts, account_ous = {}, {}
    for name, ou_name in ACCOUNTS:
        status = org_client.create_account(Email="%s@example.com" % name, AccountName=name)["CreateAccountStatus"]
        account_id = status.get("AccountId") or org_client.describe_create_account_status(
            CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]
        if ou_name:
            org_client.move_account(AccountId=account_id, SourceParentId=root["Id"], DestinationParentId=ous[ou_name]["id"])
        accounts[name] = account_id
        account_ous[name] = ou_name

    keys = {}
    for region in regions:
        kms = emulator.internal_client("kms", region)
        keys[region] = create_key(kms, description="orgshare demo key (%s)" % region, policy=default_key_policy(ACCOUNT_ID), alias=KEY_ALIAS)

    ec2 = emulator.internal_client("ec2", regions[0])
    encrypted = make_image(
        ec2,
        "orgshare-demo-golden",
        volumes=[
            {"device_name": "/dev/xvda", "size": 8, "kms_key_id": keys[regions[0]]},
            {"device_name": "/dev/xvdb", "size": 20, "kms_key_id": keys[regions[0]]},
        ],
        tags={"Name": "orgshare-demo-golden", "orgshare:demo": "true"},
        description="orgshare demo image (customer managed key)",
    )
    aws_managed = make_image(
        ec2,
        "orgshare-demo-aws-managed",
        volumes=[{"device_name": "/dev/xvda", "size": 8, "encrypted": True}],
        tags={"Name": "orgshare-demo-aws-managed", "orgshare:demo": "true"},
        description="orgshare demo image (AWS managed key: cannot be shared)",
    )
    result = {
        "account_id": ACCOUNT_ID,
        "regions": regions,
        "image_region": regions[0],
        "organization": {"id": org["Id"], "arn": org["Arn"], "management_account_id": org["MasterAccountId"]},
        "root_id": root["Id"],
        "root_arn": root["Arn"],
        "ous": ous,
        "accounts": accounts,
        "account_ous": account_ous,
        "keys": keys,
        "key_alias": KEY_ALIAS,
        "images": {"encrypted": encrypted, "aws_managed": aws_managed},
    }
    STATE["last"] = result
    return result
