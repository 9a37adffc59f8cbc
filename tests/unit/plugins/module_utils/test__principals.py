# -*- coding: utf-8 -*-
"""Parsers and validators of plugins/module_utils/_principals.py: table-driven cases for every
parser (valid and invalid values in each partition, with the messages checked) and hypothesis
properties (valid values round-trip, arbitrary input never crashes, mutated ARNs are rejected)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.orgshare.aws.plugins.module_utils import _principals as p
from ansible_collections.orgshare.aws.plugins.module_utils._principals import PrincipalError

ORG = "o-a1b2c3d4e5"
OU = "ou-ab12-cdef3456"
ROOT = "r-ab12"
MGMT = "111122223333"


def org_arn(partition="aws", account=MGMT, org=ORG):
    return "arn:%s:organizations::%s:organization/%s" % (partition, account, org)


def ou_arn(partition="aws", account=MGMT, org=ORG, ou=OU):
    return "arn:%s:organizations::%s:ou/%s/%s" % (partition, account, org, ou)


# ---- organization ARNs ---------------------------------------------------------------------------


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b"])
def test_organization_arn_every_partition(partition):
    arn = org_arn(partition)
    assert p.parse_organization_arn(arn) == p.OrganizationArn(arn, partition, MGMT, ORG)
    assert p.is_organization_arn(arn)


@pytest.mark.parametrize(
    "org_id", ["o-" + "a" * 10, "o-" + "0" * 32, "o-exampleorgid", "o-1234567890abcdef"]
)
def test_organization_arn_id_lengths(org_id):
    assert p.parse_organization_arn(org_arn(org=org_id)).organization_id == org_id


ORG_ARN_ERRORS = [
    # (value, substrings of the message after "organization_arns: ")
    ("o-abc", ["'o-abc' is a bare organization id", "not a valid one", "describe-organization"]),
    ("o-a1b2c3d4e5", ["'o-a1b2c3d4e5' is a bare organization id; the module needs the organization ARN", "describe-organization"]),
    (ou_arn(), ["is an OU ARN (it belongs in organizational_unit_arns)"]),
    ("123456789012", ["is an account id (it belongs in account_ids)"]),
    ("arn:aws:iam::123456789012:root", ["is an account ARN (give the 12-digit account id 123456789012 in account_ids)"]),
    (
        "arn:aws:organizations::111122223333:account/o-a1b2c3d4e5/444455556666",
        ["is an account ARN (give the 12-digit account id 444455556666"],
    ),
    (org_arn(partition="aws-eu"), ["unknown partition 'aws-eu'", "aws, aws-cn, aws-us-gov"]),
    (org_arn(partition="AWS"), ["unknown partition 'AWS'"]),
    (org_arn().replace("organizations", "ec2"), ["is an ARN of service 'ec2', not of organizations"]),
    (org_arn().replace("::", ":us-east-1:"), ["has a region 'us-east-1'"]),
    (org_arn(account="12345678901"), ["has '12345678901' where the 12-digit management account id belongs"]),
    (org_arn(org="o-abc"), ["has 'o-abc' where the organization id"]),
    (org_arn(org="o-A1B2C3D4E5"), ["has 'o-A1B2C3D4E5' where the organization id"]),
    (org_arn(org="o-" + "a" * 33), ["where the organization id"]),
    (org_arn() + "/", ["has extra text after the organization id"]),
    (org_arn().replace("organization/", "org/"), ["has resource type 'org' where 'organization' belongs"]),
    (org_arn() + "\n", ["has leading or trailing whitespace"]),
    (" " + org_arn(), ["has leading or trailing whitespace"]),
    (org_arn(org="o-*"), ["contains a wildcard"]),
    ("", ["is an empty string"]),
    (None, ["None is empty (null)"]),
    (42, ["42 is a int, not a string"]),
    (["x"], ["is a list, not a string"]),
    ("my-org", ["'my-org' is not an organization ARN"]),
]


@pytest.mark.parametrize("value,parts", ORG_ARN_ERRORS)
def test_organization_arn_errors(value, parts):
    with pytest.raises(PrincipalError) as e:
        p.parse_organization_arn(value)
    msg = str(e.value)
    assert msg.startswith("organization_arns: ")
    for part in parts:
        assert part in msg
    # Always the expected form with an example
    assert "expected an organization ARN arn:PARTITION:organizations::MANAGEMENT_ACCOUNT_ID:organization/o-ID" in msg
    assert "e.g. arn:aws:organizations::111122223333:organization/o-exampleorgid" in msg
    assert e.value.option == "organization_arns"
    assert e.value.value == value
    assert not p.is_organization_arn(value)


def test_organization_arn_option_name_is_used():
    with pytest.raises(PrincipalError, match=r"^launch_permissions\.org_arns\[2\]: 'o-abc' "):
        p.parse_organization_arn("o-abc", option="launch_permissions.org_arns[2]")


def test_example_values_are_valid():
    assert p.parse_organization_arn(p.EXAMPLE_ORG_ARN)
    assert p.parse_ou_arn(p.EXAMPLE_OU_ARN)
    assert p.parse_org_path(p.EXAMPLE_ORG_PATH) == p.EXAMPLE_ORG_PATH
    assert p.validate_account_id(p.EXAMPLE_ACCOUNT_ID) == p.EXAMPLE_ACCOUNT_ID


# ---- OU ARNs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b"])
def test_ou_arn_every_partition(partition):
    arn = ou_arn(partition)
    parsed = p.parse_ou_arn(arn)
    assert parsed == p.OrganizationalUnitArn(arn, partition, MGMT, ORG, OU)
    assert parsed.root_id == ROOT
    assert p.org_id_of_ou_arn(arn) == ORG
    assert p.organization_id_from_arn(arn) == ORG


@pytest.mark.parametrize(
    "ou_id,root",
    [("ou-abcd-12345678", "r-abcd"), ("ou-" + "z" * 32 + "-" + "9" * 32, "r-" + "z" * 32), ("ou-0a0a-bbbbbbbbb", "r-0a0a")],
)
def test_ou_arn_id_forms(ou_id, root):
    parsed = p.parse_ou_arn(ou_arn(ou=ou_id))
    assert parsed.ou_id == ou_id
    assert parsed.root_id == root


OU_ARN_ERRORS = [
    ("ou-1234-5ex", ["'ou-1234-5ex' is a bare OU id (and not a valid one", "describe-organizational-unit"]),
    (OU, ["is a bare OU id; the module needs the OU ARN", "--organizational-unit-id " + OU, "management account"]),
    (ROOT, ["is a root id; share with the whole organization through its organization ARN"]),
    (org_arn(), ["is an organization ARN (it belongs in organization_arns)"]),
    ("444455556666", ["is an account id (it belongs in account_ids)"]),
    ("arn:aws:iam::444455556666:role/x", ["is an account ARN"]),
    ("%s/%s/%s/" % (ORG, ROOT, OU), ["is an organization path, not an OU ARN"]),
    (ou_arn(partition="aws-xx"), ["unknown partition 'aws-xx'"]),
    (ou_arn(ou="ou-ab12-short"), ["has 'ou-ab12-short' where the OU id"]),
    (ou_arn(ou="ou-abc-cdef3456"), ["where the OU id"]),
    (ou_arn(ou="ou-ab12-CDEF3456"), ["where the OU id"]),
    (ou_arn(org="o-1"), ["has 'o-1' where the organization id"]),
    ("arn:aws:organizations::111122223333:ou/" + OU, ["has '%s' where the organization id" % OU]),
    (ou_arn() + "/ou-ab12-cdef3457", ["must end with /ou-ROOT-ID"]),
    (ou_arn().replace(":ou/", ":organizationalunit/"), ["resource type 'organizationalunit' where 'ou' belongs"]),
    (ou_arn(ou="ou-ab12-*"), ["contains a wildcard"]),
    ("", ["is an empty string"]),
    (3.5, ["is a float, not a string"]),
]


@pytest.mark.parametrize("value,parts", OU_ARN_ERRORS)
def test_ou_arn_errors(value, parts):
    with pytest.raises(PrincipalError) as e:
        p.parse_ou_arn(value)
    msg = str(e.value)
    assert msg.startswith("organizational_unit_arns: ")
    for part in parts:
        assert part in msg
    assert "expected an OU ARN arn:PARTITION:organizations::MANAGEMENT_ACCOUNT_ID:ou/o-ID/ou-ROOT-ID" in msg
    assert "e.g. " + p.EXAMPLE_OU_ARN in msg
    assert not p.is_ou_arn(value)


def test_organization_id_from_arn_rejects_other_things():
    with pytest.raises(PrincipalError, match="is a bare organization id"):
        p.organization_id_from_arn(ORG)
    with pytest.raises(PrincipalError, match="is an organization ARN"):
        p.org_id_of_ou_arn(org_arn())
    assert p.organization_id_from_arn(org_arn(partition="aws-cn")) == ORG


# ---- account ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,expected",
    [
        ("123456789012", "123456789012"),
        ("000000000000", "000000000000"),
        ("012345678901", "012345678901"),
        (123456789012, "123456789012"),
        (999999999999, "999999999999"),
        (100000000000, "100000000000"),
    ],
)
def test_account_id_valid(value, expected):
    assert p.validate_account_id(value) == expected


ACCOUNT_ERRORS = [
    ("12345", ["'12345' is not a 12-digit AWS account id"]),
    ("1234567890123", ["is not a 12-digit AWS account id"]),
    ("12345678901a", ["is not a 12-digit AWS account id"]),
    ("1234-5678-9012", ["write it without dashes or spaces ('123456789012')"]),
    ("1234 5678 9012", ["write it without dashes or spaces ('123456789012')"]),
    ("arn:aws:iam::123456789012:root", ["is an account ARN; give the account id 123456789012"]),
    ("arn:aws-cn:iam::123456789012:user/bob", ["is an account ARN; give the account id 123456789012"]),
    ("arn:aws:sts::123456789012:assumed-role/r/s", ["is an account ARN; give the account id 123456789012"]),
    ("arn:aws:organizations::111122223333:account/o-a1b2c3d4e5/444455556666", ["give the account id 444455556666"]),
    (org_arn(), ["is an organization ARN (it belongs in organization_arns), not an account id"]),
    (ou_arn(), ["is an OU ARN (it belongs in organizational_unit_arns), not an account id"]),
    (ORG, ["is an organization or OU id, not an account id"]),
    (12345678901, ["12345678901 is not a 12-digit AWS account id", "quote account ids in YAML"]),
    (1234567890123, ["is not a 12-digit AWS account id"]),
    (-123456789012, ["is not a 12-digit AWS account id"]),
    (True, ["True is a bool, not a string"]),
    (None, ["None is empty (null)"]),
    (123456789012.0, ["is a float, not a string"]),
    (" 123456789012", ["has leading or trailing whitespace"]),
    ("12345678901*", ["contains a wildcard"]),
    ("", ["is an empty string"]),
    ("１２３４５６７８９０１２", ["is not a 12-digit AWS account id"]),  # full-width digits
]


@pytest.mark.parametrize("value,parts", ACCOUNT_ERRORS)
def test_account_id_errors(value, parts):
    with pytest.raises(PrincipalError) as e:
        p.validate_account_id(value)
    msg = str(e.value)
    assert msg.startswith("account_ids: ")
    for part in parts:
        assert part in msg
    assert "expected a 12-digit AWS account id as a string, e.g. '111122223333'" in msg
    assert not p.is_account_id(value)


# ---- ids -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "func,good,bad",
    [
        (p.is_organization_id, [ORG, "o-" + "9" * 32], ["o-abc", "o-ABCDEFGHIJ", ORG + "\n", "x" + ORG, None, 5, org_arn()]),
        (p.is_ou_id, [OU, "ou-" + "a" * 32 + "-" + "b" * 32], ["ou-abc-12345678", "ou-ab12-1234567", "ou-ab12", OU + " ", None, ou_arn()]),
        (p.is_root_id, [ROOT, "r-" + "0" * 32], ["r-abc", "r-AB12", ROOT + "/", None]),
        (p.is_account_id, ["123456789012"], ["12345678901", 123456789012, None]),
    ],
)
def test_id_predicates(func, good, bad):
    for value in good:
        assert func(value) is True, value
    for value in bad:
        assert func(value) is False, value


# ---- organization paths --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,expected,ou",
    [
        (ORG + "/", ORG + "/", None),
        (ORG, ORG + "/", None),
        ("%s/%s/" % (ORG, ROOT), "%s/%s/" % (ORG, ROOT), None),
        ("%s/%s/%s/" % (ORG, ROOT, OU), "%s/%s/%s/" % (ORG, ROOT, OU), OU),
        ("%s/%s/%s" % (ORG, ROOT, OU), "%s/%s/%s/" % (ORG, ROOT, OU), OU),
        ("%s/%s/%s/ou-ab12-99999999/" % (ORG, ROOT, OU), "%s/%s/%s/ou-ab12-99999999/" % (ORG, ROOT, OU), "ou-ab12-99999999"),
        (p.EXAMPLE_ORG_PATH, p.EXAMPLE_ORG_PATH, p.EXAMPLE_OU_ID),
    ],
)
def test_org_path_valid(value, expected, ou):
    assert p.parse_org_path(value) == expected
    assert p.is_org_path(value)
    assert p.ou_id_from_path(value) == ou
    assert p.organization_id_from_path(value) == value.split("/")[0]


ORG_PATH_ERRORS = [
    ("%s/%s/ou-cd34-cdef3456/" % (ORG, ROOT), ["has OU 'ou-cd34-cdef3456', which cannot be under root 'r-ab12'"]),
    ("%s/%s/*" % (ORG, ROOT), ["contains a wildcard"]),
    ("%s/*/%s/" % (ORG, OU), ["contains a wildcard"]),
    ("%s/%s/%s/" % (ORG, OU, OU), ["has '%s' where the root id" % OU]),
    ("%s/%s/%s/" % (ROOT, ORG, OU), ["must start with the organization id", "not 'r-ab12'"]),
    ("/%s/%s/" % (ORG, ROOT), ["has an empty segment (//) or a leading slash"]),
    ("%s//%s/" % (ORG, ROOT), ["has an empty segment"]),
    ("%s/%s/%s//" % (ORG, ROOT, OU), ["has an empty segment"]),
    ("%s/%s/%s/%s/" % (ORG, ROOT, OU, OU), ["lists an OU twice"]),
    ("%s/%s/ou-ab12-x/" % (ORG, ROOT), ["has 'ou-ab12-x' where an OU id (ou-ROOT-...) belongs"]),
    ("%s/%s/123456789012/" % (ORG, ROOT), ["has '123456789012' where an OU id"]),
    (OU, ["is a bare OU id; the path lists the OU's ancestors too", "list-parents --child-id " + OU]),
    (ou_arn(), ["is an ARN, not an organization path"]),
    ("o-abc/", ["must start with the organization id", "not 'o-abc'"]),
    ("O-A1B2C3D4E5/", ["must start with the organization id"]),
    ("", ["is an empty string"]),
    (None, ["is empty (null)"]),
    (["o-a1b2c3d4e5/"], ["is a list, not a string"]),
]


@pytest.mark.parametrize("value,parts", ORG_PATH_ERRORS)
def test_org_path_errors(value, parts):
    with pytest.raises(PrincipalError) as e:
        p.parse_org_path(value, option="org_paths")
    msg = str(e.value)
    assert msg.startswith("org_paths: ")
    for part in parts:
        assert part in msg
    assert "expected an organization path o-ID/r-ROOT/ou-ROOT-ID/.../" in msg
    assert "e.g. " + p.EXAMPLE_ORG_PATH in msg
    assert not p.is_org_path(value)


# ---- path patterns (key-policy analysis) ---------------------------------------------------------


@pytest.mark.parametrize(
    "pattern,path,matches",
    [
        ("%s/*" % ORG, "%s/%s/%s/" % (ORG, ROOT, OU), True),
        ("%s/%s/%s/*" % (ORG, ROOT, OU), "%s/%s/%s/" % (ORG, ROOT, OU), True),
        ("%s/%s/%s/*" % (ORG, ROOT, OU), "%s/%s/%s/ou-ab12-99999999/" % (ORG, ROOT, OU), True),
        ("%s/%s/%s/*" % (ORG, ROOT, OU), "%s/%s/" % (ORG, ROOT), False),
        ("%s/%s/ou-ab12-99999999/*" % (ORG, ROOT), "%s/%s/%s/" % (ORG, ROOT, OU), False),
        ("%s/*/%s/*" % (ORG, OU), "%s/%s/ou-ab12-00000000/%s/" % (ORG, ROOT, OU), True),
        ("%s/%s/%s/" % (ORG, ROOT, OU), "%s/%s/%s" % (ORG, ROOT, OU), True),
        ("%s/%s/%s/" % (ORG, ROOT, OU), "%s/%s/%s/ou-ab12-99999999/" % (ORG, ROOT, OU), False),
        ("%s/%s/ou-ab12-cdef345?/*" % (ORG, ROOT), "%s/%s/%s/" % (ORG, ROOT, OU), True),
        ("o-zzzzzzzzzz/*", "%s/%s/" % (ORG, ROOT), False),
    ],
)
def test_org_path_pattern_matches(pattern, path, matches):
    assert p.parse_org_path_pattern(pattern) == pattern
    assert p.org_path_pattern_matches(pattern, path) is matches


@pytest.mark.parametrize(
    "pattern,part",
    [("o-abc/*", "'o-abc' at position 1"), ("%s/ou-ab12-cdef3456/*" % ORG, "at position 2"), ("%s/%s/xx/*" % (ORG, ROOT), "'xx' at position 3"), (7, "int")],
)
def test_org_path_pattern_errors(pattern, part):
    with pytest.raises(PrincipalError) as e:
        p.parse_org_path_pattern(pattern)
    assert part in str(e.value)
    assert "such as %s*" % p.EXAMPLE_ORG_PATH in str(e.value)


# ---- normalise_principals without AWS ------------------------------------------------------------


def test_normalise_principals_sorts_and_deduplicates():
    other = org_arn(account="999999999999", org="o-0000000000")
    result = p.normalise_principals(
        organization_arns=[org_arn(), other, org_arn()],
        organizational_unit_arns=[ou_arn(ou="ou-ab12-zzzzzzzz"), ou_arn(), ou_arn()],
        account_ids=["444455556666", 111122223333, "111122223333"],
    )
    assert result == {
        "organization_arns": sorted([org_arn(), other]),
        "organizational_unit_arns": [ou_arn(), ou_arn(ou="ou-ab12-zzzzzzzz")],
        "account_ids": ["111122223333", "444455556666"],
    }


def test_normalise_principals_keeps_options_not_given_apart_from_empty_lists():
    assert p.normalise_principals(None, [], None) == {"organization_arns": None, "organizational_unit_arns": [], "account_ids": None}


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"account_ids": ["123456789012", "12345"]}, "account_ids: '12345' is not a 12-digit AWS account id"),
        ({"organization_arns": ["o-a1b2c3d4e5"]}, "organization_arns: 'o-a1b2c3d4e5' is a bare organization id that cannot be resolved"),
        ({"organizational_unit_arns": [OU]}, "organizational_unit_arns: '%s' is a bare OU id that cannot be resolved" % OU),
        ({"organizational_unit_arns": org_arn()}, "organizational_unit_arns: '%s' must be a list" % org_arn()),
        ({"organization_arns": [ou_arn()]}, "is an OU ARN (it belongs in organizational_unit_arns)"),
    ],
)
def test_normalise_principals_errors(kwargs, message):
    with pytest.raises(PrincipalError) as e:
        p.normalise_principals(**kwargs)
    assert message in str(e.value)


def test_resolver_without_client_explains_what_to_give():
    resolver = p.OrganizationsResolver(None)
    assert resolver.organization() is None
    # Complete values need no AWS
    assert resolver.organization_arn(org_arn()) == org_arn()
    assert resolver.ou_arn(ou_arn()) == ou_arn()
    path = "%s/%s/%s" % (ORG, ROOT, OU)
    assert resolver.ou_path(path) == path + "/"
    with pytest.raises(PrincipalError) as e:
        resolver.organization_arn(ORG)
    assert "no AWS Organizations client is available" in str(e.value)
    assert "give the organization ARN instead; run `aws organizations describe-organization" in str(e.value)
    with pytest.raises(PrincipalError) as e:
        resolver.ou_arn(OU)
    assert "give the OU ARN instead: run `aws organizations describe-organizational-unit --organizational-unit-id %s" % OU in str(e.value)
    with pytest.raises(PrincipalError) as e:
        resolver.ou_path(ou_arn(), option="org_paths")
    assert str(e.value).startswith("org_paths: ")
    assert "give the organization path" in str(e.value)
    assert "aws organizations list-parents --child-id %s" % OU in str(e.value)
    for bad, reason in [("ou-bad", "is a bare OU id (and not a valid one"), (None, "is empty (null)"), (org_arn(), "is an organization ARN")]:
        with pytest.raises(PrincipalError) as e:
            resolver.ou_path(bad)
        assert reason in str(e.value)
        assert "expected an organization path o-ID/r-ROOT/ou-ROOT-ID/.../" in str(e.value)
        assert "or an OU ARN arn:PARTITION:organizations::" in str(e.value)


# ---- properties ----------------------------------------------------------------------------------

LOWER_DIGITS = "abcdefghijklmnopqrstuvwxyz0123456789"
partitions = st.sampled_from(p.PARTITIONS)
accounts = st.text("0123456789", min_size=12, max_size=12)
org_ids = st.text(LOWER_DIGITS, min_size=10, max_size=32).map(lambda s: "o-" + s)
root_parts = st.text(LOWER_DIGITS, min_size=4, max_size=32)


def ou_ids(root_part):
    return st.text(LOWER_DIGITS, min_size=8, max_size=32).map(lambda s: "ou-%s-%s" % (root_part, s))


@st.composite
def org_paths(draw):
    org = draw(org_ids)
    root_part = draw(root_parts)
    depth = draw(st.integers(0, 5))
    ous = draw(st.lists(ou_ids(root_part), min_size=depth, max_size=depth, unique=True))
    segments = [org] + (["r-" + root_part] + ous if draw(st.booleans()) or ous else [])
    return segments


@st.composite
def ou_arn_parts(draw):
    root_part = draw(root_parts)
    return draw(partitions), draw(accounts), draw(org_ids), draw(ou_ids(root_part)), "r-" + root_part


@given(partitions, accounts, org_ids)
def test_property_organization_arn_round_trip(partition, account, org):
    arn = org_arn(partition, account, org)
    parsed = p.parse_organization_arn(arn)
    assert parsed == (arn, partition, account, org)
    assert org_arn(parsed.partition, parsed.management_account_id, parsed.organization_id) == arn
    assert p.organization_id_from_arn(arn) == org
    assert p.normalise_principals([arn, arn])["organization_arns"] == [arn]


@given(ou_arn_parts())
def test_property_ou_arn_round_trip(parts):
    partition, account, org, ou, root = parts
    arn = ou_arn(partition, account, org, ou)
    parsed = p.parse_ou_arn(arn)
    assert parsed == (arn, partition, account, org, ou)
    assert parsed.root_id == root
    assert ou_arn(*parsed[1:]) == arn


@given(org_paths(), st.booleans())
def test_property_org_path_round_trip(segments, trailing_slash):
    path = "/".join(segments) + ("/" if trailing_slash else "")
    normalised = p.parse_org_path(path)
    assert normalised == "/".join(segments) + "/"
    assert p.parse_org_path(normalised) == normalised
    assert p.ou_id_from_path(path) == (segments[-1] if len(segments) > 2 else None)
    assert p.organization_id_from_path(path) == segments[0]
    # The path pattern of an OU and everything below matches the OU's own path
    assert p.org_path_pattern_matches(normalised + "*", normalised)


@given(accounts)
def test_property_account_id_round_trip(account):
    assert p.validate_account_id(account) == account
    if account[0] != "0":
        assert p.validate_account_id(int(account)) == account


anything = st.one_of(
    st.text(),
    st.text(alphabet="arnaws-cgovorganizationsu:/0123456789o-r-ou-xyz*", max_size=80),
    st.integers(),
    st.floats(),
    st.none(),
    st.booleans(),
    st.lists(st.text(max_size=3), max_size=2),
    st.binary(max_size=20),
)


@settings(max_examples=300)
@given(anything)
def test_property_arbitrary_input_parses_or_raises_principal_error(value):
    for func in (p.parse_organization_arn, p.parse_ou_arn, p.validate_account_id, p.parse_org_path, p.parse_org_path_pattern):
        try:
            func(value, option="opt")
        except PrincipalError as e:
            assert str(e).startswith("opt: ")
            assert "expected" in str(e)
    for predicate in (p.is_organization_id, p.is_ou_id, p.is_org_path, p.is_account_id, p.is_organization_arn, p.is_ou_arn):
        assert predicate(value) in (True, False)


# Characters that occur nowhere in a valid ARN, so inserting one anywhere must break it.
FOREIGN = st.sampled_from(list("ABCXYZ_.!* \t\n@#%") + ["\u00e9", "\u0430"])


@st.composite
def mutated_arns(draw):
    if draw(st.booleans()):
        partition, account, org = draw(partitions), draw(accounts), draw(org_ids)
        arn, parse = org_arn(partition, account, org), p.parse_organization_arn
    else:
        partition, account, org, ou, _root = draw(ou_arn_parts())
        arn, parse = ou_arn(partition, account, org, ou), p.parse_ou_arn
    kind = draw(st.sampled_from(["insert", "replace", "drop_separator", "swap_type"]))
    if kind == "insert":
        i = draw(st.integers(0, len(arn)))
        mutated = arn[:i] + draw(FOREIGN) + arn[i:]
    elif kind == "replace":
        i = draw(st.integers(0, len(arn) - 1))
        mutated = arn[:i] + draw(FOREIGN) + arn[i + 1:]
    elif kind == "drop_separator":
        seps = [i for i, c in enumerate(arn) if c in ":/"]
        i = draw(st.sampled_from(seps))
        mutated = arn[:i] + arn[i + 1:]
    else:
        mutated = arn.replace(":organization/", ":ou/") if ":organization/" in arn else arn.replace(":ou/", ":organization/")
    return arn, mutated, parse


@settings(max_examples=300)
@given(mutated_arns())
def test_property_mutated_arn_is_rejected(case):
    arn, mutated, parse = case
    assert parse(arn).arn == arn
    with pytest.raises(PrincipalError) as e:
        parse(mutated)
    assert repr(mutated)[:50] in str(e.value) or "characters)" in str(e.value)


@given(st.integers())
def test_property_integer_account_ids(value):
    if 10 ** 11 <= value < 10 ** 12:
        assert p.validate_account_id(value) == str(value)
    else:
        with pytest.raises(PrincipalError, match="is not a 12-digit AWS account id"):
            p.validate_account_id(value)
