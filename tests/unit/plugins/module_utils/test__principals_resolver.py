# -*- coding: utf-8 -*-
"""OrganizationsResolver (plugins/module_utils/_principals.py) against the emulator: an organization
with nested OUs is created in the default (management) account, then bare ids are resolved to ARNs
and paths; a member account, an account outside any organization and a missing client fail with a
hint; the emulator's call record shows that every answer is cached."""

import boto3
import botocore.config
import pytest

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.orgshare.aws.plugins.module_utils import _api
from ansible_collections.orgshare.aws.plugins.module_utils import _principals as p
from ansible_collections.orgshare.aws.plugins.module_utils._principals import PrincipalError
from orgshare_emulator.fixtures import credentials_for


def org_client(aws, account_id=None, attempts=10):
    """An Organizations client as ``account_id`` (default: the management account); ``attempts=1``
    turns botocore's own retries off so that the resolver's retries are what is exercised."""
    access_key, secret_key = credentials_for(aws.emulator, account_id or aws.account_id)
    return boto3.client(
        "organizations",
        region_name=aws.region,
        endpoint_url=aws.endpoint_url,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=botocore.config.Config(retries={"mode": "standard", "total_max_attempts": attempts}),
    )


class Org:
    """root -> a -> b -> c, root -> d, and a member account; all ids as AWS returned them."""

    def __init__(self, aws):
        client = org_client(aws)
        self.organization = client.create_organization(FeatureSet="ALL")["Organization"]
        self.id = self.organization["Id"]
        self.arn = self.organization["Arn"]
        self.root = client.list_roots()["Roots"][0]["Id"]
        self.ous = {}
        for name, parent in (("a", self.root), ("b", "a"), ("c", "b"), ("d", self.root)):
            parent_id = self.ous[parent]["Id"] if parent in self.ous else parent
            self.ous[name] = client.create_organizational_unit(ParentId=parent_id, Name=name)["OrganizationalUnit"]
        status = client.create_account(AccountName="member", Email="member@example.com")["CreateAccountStatus"]
        self.member_account_id = status["AccountId"]

    def ou_id(self, name):
        return self.ous[name]["Id"]

    def ou_arn(self, name):
        return self.ous[name]["Arn"]

    def path(self, *names):
        return "/".join([self.id, self.root] + [self.ou_id(n) for n in names]) + "/"


@pytest.fixture
def org(aws):
    return Org(aws)


def calls(aws, action):
    return [c for c in aws.emulator.calls if c["service"] == "organizations" and c["action"] == action]


def test_resolves_bare_ids_to_arns_and_paths(aws, org):
    resolver = p.OrganizationsResolver(org_client(aws))
    assert resolver.organization_arn(org.id) == org.arn
    assert org.arn == "arn:aws:organizations::%s:organization/%s" % (aws.account_id, org.id)
    for name in "abcd":
        arn = resolver.ou_arn(org.ou_id(name))
        assert arn == org.ou_arn(name)
        assert p.parse_ou_arn(arn).organization_id == org.id
    assert resolver.ou_path(org.ou_id("c")) == org.path("a", "b", "c")
    assert resolver.ou_path(org.ou_arn("b")) == org.path("a", "b")
    assert resolver.ou_path(org.ou_id("d")) == org.path("d")
    assert resolver.ou_path(org.ou_id("a"), option="x") == org.path("a")
    # Every OU id of a path names its root, as AWS builds them
    assert p.parse_org_path(org.path("a", "b", "c")) == org.path("a", "b", "c")
    assert resolver.organization() == org.organization


def test_complete_values_need_no_aws_call(aws, org):
    resolver = p.OrganizationsResolver(org_client(aws))
    aws.emulator.clear_calls()
    assert resolver.organization_arn(org.arn) == org.arn
    assert resolver.ou_arn(org.ou_arn("c")) == org.ou_arn("c")
    path = org.path("a", "b")
    assert resolver.ou_path(path) == path
    assert resolver.ou_path(path.rstrip("/")) == path
    assert aws.emulator.calls == []


def test_every_answer_is_cached(aws, org):
    resolver = p.OrganizationsResolver(org_client(aws))
    aws.emulator.clear_calls()
    for _round in range(3):
        assert resolver.organization_arn(org.id) == org.arn
        assert resolver.ou_arn(org.ou_id("c")) == org.ou_arn("c")
    result = p.normalise_principals([org.id, org.arn, org.id], [org.ou_id(n) for n in "abcd"] + [org.ou_arn("a")], ["111122223333"], resolver)
    assert result == {
        "organization_arns": [org.arn],
        "organizational_unit_arns": sorted(org.ou_arn(n) for n in "abcd"),
        "account_ids": ["111122223333"],
    }
    # c, then b and a reuse the parents already listed
    assert resolver.ou_path(org.ou_id("c")) == org.path("a", "b", "c")
    assert resolver.ou_path(org.ou_id("b")) == org.path("a", "b")
    assert resolver.ou_path(org.ou_arn("a")) == org.path("a")
    assert resolver.ou_path(org.ou_id("c")) == org.path("a", "b", "c")
    assert len(calls(aws, "DescribeOrganization")) == 1
    described = calls(aws, "DescribeOrganizationalUnit")
    assert len(described) == 4  # a, b, c, d once each
    assert len(calls(aws, "ListParents")) == 3  # c, b, a once each
    assert aws.write_calls() == []


def test_id_of_another_organization_cannot_be_resolved(aws, org):
    resolver = p.OrganizationsResolver(org_client(aws))
    other = "o-zzzzzzzzzz" if org.id != "o-zzzzzzzzzz" else "o-yyyyyyyyyy"
    with pytest.raises(PrincipalError) as e:
        resolver.organization_arn(other)
    msg = str(e.value)
    assert msg.startswith("organization_arns: '%s' is not the caller's organization (%s)" % (other, org.id))
    assert "its management account, part of its ARN, is unknown" in msg
    assert "give the organization ARN instead; run `aws organizations describe-organization --query Organization.Arn --output text`" in msg


def test_unknown_ou_id_fails_with_hint(aws, org):
    resolver = p.OrganizationsResolver(org_client(aws))
    missing = "ou-%s-zzzzzzzz" % org.root[2:]
    with pytest.raises(PrincipalError) as e:
        resolver.ou_arn(missing)
    assert "is a bare OU id that cannot be resolved" in str(e.value)
    assert "--organizational-unit-id %s" % missing in str(e.value)
    with pytest.raises(PrincipalError) as e:
        resolver.ou_path(missing)
    assert "has no known organization path" in str(e.value)
    assert "list-parents --child-id %s" % missing in str(e.value)


def test_member_account_resolves_its_organization_but_not_ous(aws, org):
    resolver = p.OrganizationsResolver(org_client(aws, org.member_account_id))
    # Any member may call DescribeOrganization
    assert resolver.organization_arn(org.id) == org.arn
    with pytest.raises(PrincipalError) as e:
        resolver.ou_arn(org.ou_id("b"), option="org_unit_arns")
    msg = str(e.value)
    assert msg.startswith("org_unit_arns: '%s' is a bare OU id that cannot be resolved (AccessDeniedException:" % org.ou_id("b"))
    assert (
        "give the OU ARN instead: run `aws organizations describe-organizational-unit --organizational-unit-id %s"
        " --query OrganizationalUnit.Arn --output text` in the management account" % org.ou_id("b")
    ) in msg
    for value in (org.ou_id("c"), org.ou_arn("c")):
        with pytest.raises(PrincipalError) as e:
            resolver.ou_path(value, option="org_paths")
        assert "has no known organization path" in str(e.value)
        assert "give the organization path (e.g. %s) instead" % p.EXAMPLE_ORG_PATH in str(e.value)
        assert "aws organizations list-parents --child-id %s` repeated up to the root" % org.ou_id("c") in str(e.value)
    # The failures are cached too
    resolver.ou_arn(org.ou_arn("b"))
    with pytest.raises(PrincipalError):
        resolver.ou_arn(org.ou_id("b"))
    member_calls = [c for c in aws.emulator.calls if c["access_key"] == credentials_for(aws.emulator, org.member_account_id)[0]]
    assert [c["action"] for c in member_calls].count("DescribeOrganizationalUnit") == 1
    assert [c["action"] for c in member_calls].count("ListParents") == 1


def test_account_outside_any_organization(aws):
    resolver = p.OrganizationsResolver(org_client(aws))
    with pytest.raises(PrincipalError) as e:
        resolver.organization_arn("o-a1b2c3d4e5")
    msg = str(e.value)
    assert "is a bare organization id that cannot be resolved (AWSOrganizationsNotInUseException:" in msg
    assert "run `aws organizations describe-organization --query Organization.Arn --output text`" in msg
    with pytest.raises(PrincipalError) as e:
        resolver.ou_path("ou-ab12-cdef3456")
    assert "has no known organization path (AWSOrganizationsNotInUseException:" in str(e.value)
    assert resolver.organization() is None
    assert len(calls(aws, "DescribeOrganization")) == 1


def test_bad_value_fails_before_any_aws_call(aws, org):
    resolver = p.OrganizationsResolver(org_client(aws))
    aws.emulator.clear_calls()
    with pytest.raises(PrincipalError, match=r"account_ids: '1234' is not a 12-digit AWS account id"):
        p.normalise_principals([org.id], [org.ou_id("a")], ["1234"], resolver)
    assert aws.emulator.calls == []


def test_throttling_is_retried(aws, org):
    resolver = p.OrganizationsResolver(org_client(aws, attempts=1))
    aws.emulator.inject_faults(schedule={"DescribeOrganizationalUnit": ["throttle"]})
    aws.emulator.clear_calls()
    assert resolver.ou_arn(org.ou_id("a")) == org.ou_arn("a")
    answers = [(c["status"], c["error"]) for c in calls(aws, "DescribeOrganizationalUnit")]
    assert answers == [(400, "TooManyRequestsException"), (200, None)]


def test_other_aws_errors_are_ansible_aws_errors(aws, org):
    resolver = p.OrganizationsResolver(org_client(aws, attempts=1))
    aws.emulator.inject_faults(rate=1.0, kind="invalid", actions=["DescribeOrganization"])
    with pytest.raises(_api.AnsibleOrganizationsError) as e:
        resolver.organization_arn(org.id)
    assert isinstance(e.value, AnsibleAWSError)
    assert e.value.message == "Failed to describe the organization"
    aws.emulator.inject_faults(rate=1.0, kind="invalid", actions=["ListParents"])
    with pytest.raises(_api.AnsibleOrganizationsError) as e:
        resolver.ou_path(org.ou_arn("b"))
    assert e.value.message == "Failed to list the parents of %s" % org.ou_id("b")


def test_concurrent_lookups_ask_aws_once(aws, org):
    """ami_share_info resolves paths from a thread pool: each answer is still asked for once."""
    import concurrent.futures

    resolver = p.OrganizationsResolver(org_client(aws))
    aws.emulator.set_latency(30)
    aws.emulator.clear_calls()
    try:
        values = [org.id, org.ou_id("c"), org.ou_arn("c"), org.ou_id("b"), org.ou_id("d")] * 4
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda v: resolver.organization_arn(v) if v == org.id else resolver.ou_path(v), values))
    finally:
        aws.emulator.set_latency(0)
    assert results[:5] == [org.arn, org.path("a", "b", "c"), org.path("a", "b", "c"), org.path("a", "b"), org.path("d")]
    assert results == results[:5] * 4
    assert len(calls(aws, "DescribeOrganization")) == 1
    assert sorted(c["action"] for c in aws.emulator.calls) == ["DescribeOrganization"] + ["ListParents"] * 4  # c, b, a, d


def test_arn_of_own_organization_with_another_management_account_is_refused(aws, org):
    resolver = p.OrganizationsResolver(org_client(aws))
    wrong_org = "arn:aws:organizations::999999999999:organization/%s" % org.id
    # The OU ARN as AWS gave it, with a made-up management account in place of the real one
    wrong_ou = "arn:aws:organizations::999999999999:ou/%s/%s" % (org.id, org.ou_id("b"))
    with pytest.raises(PrincipalError) as e:
        p.normalise_principals([wrong_org], None, None, resolver, check_management_account=True)
    msg = str(e.value)
    assert msg.startswith("organization_arns: %r names organization %s with management account 999999999999" % (wrong_org, org.id))
    assert "the management account of %s is %s (DescribeOrganization)" % (org.id, aws.account_id) in msg
    assert "e.g. %s" % org.arn in msg
    with pytest.raises(PrincipalError) as e:
        p.normalise_principals(None, [wrong_ou], None, resolver, check_management_account=True)
    assert str(e.value).startswith("organizational_unit_arns: %r names organization %s" % (wrong_ou, org.id))
    assert "e.g. %s" % org.ou_arn("b") in str(e.value)
    # Without the check (the default) the same value is accepted as given
    assert p.normalise_principals(None, [wrong_ou], None, resolver)["organizational_unit_arns"] == [wrong_ou]


def test_management_account_check_passes_right_and_foreign_arns(aws, org):
    resolver = p.OrganizationsResolver(org_client(aws))
    other = "arn:aws:organizations::999999999999:ou/o-zz99zz99zz/ou-zz99-zz99zz99"
    got = p.normalise_principals([org.arn], [org.ou_arn("a"), other], None, resolver, check_management_account=True)
    assert got["organization_arns"] == [org.arn]
    assert got["organizational_unit_arns"] == sorted([org.ou_arn("a"), other])


def test_management_account_check_is_skipped_when_the_organization_is_unreadable(aws):
    # The caller is in no organization: nothing is known, nothing is refused.
    resolver = p.OrganizationsResolver(org_client(aws))
    arn = "arn:aws:organizations::999999999999:organization/o-a1b2c3d4e5"
    assert p.normalise_principals([arn], None, None, resolver, check_management_account=True)["organization_arns"] == [arn]
    assert len(calls(aws, "DescribeOrganization")) == 1


def test_a_member_account_does_not_know_where_another_account_is(aws, org):
    """AWS answers a member account AccessDeniedException for ListParents: its place is unknown, not "outside"."""
    resolver = p.OrganizationsResolver(org_client(aws, org.member_account_id))
    with pytest.raises(p._Unavailable) as e:
        resolver.account_path("123456789012")
    assert str(e.value).startswith("AccessDeniedException")
