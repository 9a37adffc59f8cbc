"""Organizations (emulator/orgshare_emulator/organizations.py): only the management account or a delegated
administrator may read the organization's structure; other members get AccessDeniedException (botocore's
Organizations model, each operation's documentation); any member may call DescribeOrganization."""

import pytest

from emulator_helpers import error_of, raw_client
from orgshare_emulator.fixtures import credentials_for

CALLS = [
    ("list_roots", lambda w: {}),
    ("list_parents", lambda w: {"ChildId": w["member"]}),
    ("describe_organizational_unit", lambda w: {"OrganizationalUnitId": w["ou"]}),
    ("list_children", lambda w: {"ParentId": w["root"], "ChildType": "ACCOUNT"}),
    ("list_accounts", lambda w: {}),
    ("list_accounts_for_parent", lambda w: {"ParentId": w["root"]}),
    ("list_organizational_units_for_parent", lambda w: {"ParentId": w["root"]}),
    ("describe_account", lambda w: {"AccountId": w["member"]}),
]


@pytest.fixture
def world(aws):
    orgs = raw_client(aws, "organizations")
    orgs.create_organization(FeatureSet="ALL")
    root = orgs.list_roots()["Roots"][0]["Id"]
    ou = orgs.create_organizational_unit(ParentId=root, Name="w")["OrganizationalUnit"]["Id"]
    member = orgs.create_account(Email="m@example.com", AccountName="member")["CreateAccountStatus"]["AccountId"]
    admin = orgs.create_account(Email="d@example.com", AccountName="admin")["CreateAccountStatus"]["AccountId"]
    orgs.register_delegated_administrator(AccountId=admin, ServicePrincipal="ssm.amazonaws.com")
    return {"orgs": orgs, "root": root, "ou": ou, "member": member, "admin": admin}


def client_as(aws, account_id):
    access_key, secret_key = credentials_for(aws.emulator, account_id)
    return raw_client(aws, "organizations", access_key=access_key, secret_key=secret_key)


@pytest.mark.parametrize("name,args", CALLS, ids=[c[0] for c in CALLS])
def test_a_member_account_is_denied_the_structure(aws, world, name, args):
    member = client_as(aws, world["member"])
    assert error_of(getattr(member, name), **args(world))[0] == "AccessDeniedException"
    # the management account and a delegated administrator may
    getattr(world["orgs"], name)(**args(world))
    getattr(client_as(aws, world["admin"]), name)(**args(world))


def test_any_member_may_describe_its_organization(aws, world):
    member = client_as(aws, world["member"])
    assert member.describe_organization()["Organization"]["Id"] == world["orgs"].describe_organization()["Organization"]["Id"]
