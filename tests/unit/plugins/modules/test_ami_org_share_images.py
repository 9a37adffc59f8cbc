"""ami_org_share with the option images: many AMIs in several regions per call, AWS state read back through boto3."""

import pytest

from test_ami_org_share_helpers import A1
from test_ami_org_share_helpers import A2
from test_ami_org_share_helpers import MODULE
from test_ami_org_share_helpers import NONE
from test_ami_org_share_helpers import OTHER_ORG
from test_ami_org_share_helpers import launch_permissions
from test_ami_org_share_helpers import perms
from test_ami_org_share_helpers import plain_image
from test_ami_org_share_helpers import share
from test_ami_org_share_helpers import warnings_of

EU = "eu-west-1"
US = "us-east-1"
MISSING = "ami-0123456789abcdef0"  # well formed, never registered


def _two_images(aws):
    return plain_image(aws, region=US), plain_image(aws, region=EU)


def _calls_of(aws, action):
    return [c for c in aws.emulator.calls if c["action"] == action and c["status"] < 400]


def test_two_regions_in_one_call_then_unchanged(aws, run_module):
    us_image, eu_image = _two_images(aws)
    args = {
        "images": [{"image_id": us_image}, {"image_id": eu_image, "region": EU}],
        "organization_arns": [OTHER_ORG],
        "account_ids": [A1],
    }
    aws.emulator.clear_calls()
    result = run_module(MODULE, args)
    assert not result.failed, result.msg
    assert result["changed"] is True
    expected = perms(orgs=[OTHER_ORG], accounts=[A1])
    assert launch_permissions(aws, us_image, US) == expected
    assert launch_permissions(aws, eu_image, EU) == expected
    assert [(e["image_id"], e["region"], e["changed"]) for e in result["images"]] == [(us_image, US, True), (eu_image, EU, True)]
    for entry in result["images"]:
        assert entry["launch_permissions"] == expected
        assert entry["added"] == expected
        assert entry["removed"] == NONE
        assert "diff" not in entry and "failed" not in entry
    assert result["principals"] == {
        "organization_arns": [OTHER_ORG],
        "organizational_unit_arns": [],
        "account_ids": [A1],
    }
    # One ModifyImageAttribute per AMI, in its own region; the caller's account asked once.
    assert sorted(c["region"] for c in _calls_of(aws, "ModifyImageAttribute")) == [EU, US]
    assert len(_calls_of(aws, "GetCallerIdentity")) == 1

    aws.emulator.clear_calls()
    again = run_module(MODULE, args)
    assert not again.failed, again.msg
    assert again["changed"] is False
    assert [(e["image_id"], e["region"], e["changed"]) for e in again["images"]] == [(us_image, US, False), (eu_image, EU, False)]
    assert aws.write_calls() == []
    assert launch_permissions(aws, us_image, US) == expected
    assert launch_permissions(aws, eu_image, EU) == expected


def test_check_mode_and_diff_per_target(aws, run_module):
    us_image, eu_image = _two_images(aws)
    share(aws, eu_image, {"UserId": A1}, region=EU)  # the EU AMI is already as asked
    aws.emulator.clear_calls()
    result = run_module(
        MODULE,
        {"images": [{"image_id": us_image, "region": US}, {"image_id": eu_image, "region": EU}], "account_ids": [A1]},
        check_mode=True,
        diff=True,
    )
    assert not result.failed, result.msg
    assert result["changed"] is True
    us_entry, eu_entry = result["images"]
    assert (us_entry["image_id"], us_entry["region"], us_entry["changed"]) == (us_image, US, True)
    assert us_entry["added"] == perms(accounts=[A1])
    assert us_entry["diff"] == {"before": NONE, "after": perms(accounts=[A1])}
    assert (eu_entry["image_id"], eu_entry["region"], eu_entry["changed"]) == (eu_image, EU, False)
    assert eu_entry["added"] == NONE
    assert eu_entry["diff"] == {"before": perms(accounts=[A1]), "after": perms(accounts=[A1])}
    # the top-level diff, which ansible-playbook --diff prints: the changed AMI only, headed with its id and region
    assert result["diff"] == [{
        "before": NONE, "after": perms(accounts=[A1]),
        "before_header": "%s in us-east-1 (before)" % us_image, "after_header": "%s in us-east-1 (after)" % us_image,
    }]
    assert aws.write_calls() == []
    assert launch_permissions(aws, us_image, US) == NONE
    assert launch_permissions(aws, eu_image, EU) == perms(accounts=[A1])


def test_a_missing_ami_fails_the_call_but_not_the_others(aws, run_module):
    us_image = plain_image(aws, region=US)
    result = run_module(
        MODULE,
        {"images": [{"image_id": us_image}, {"image_id": MISSING, "region": EU}], "account_ids": [A1, A2]},
    )
    assert result.failed
    assert MISSING in result.msg and EU in result.msg and "not found" in result.msg
    assert "1 of 2" in result.msg
    assert us_image not in result.msg
    assert result["changed"] is True
    ok, failed = result["images"]
    assert (ok["image_id"], ok["region"], ok["changed"]) == (us_image, US, True)
    assert ok["launch_permissions"] == perms(accounts=[A1, A2])
    assert failed["image_id"] == MISSING and failed["region"] == EU and failed["failed"] is True
    assert failed["error_kind"] == "refused"
    assert MISSING in failed["msg"] and "not found" in failed["msg"]
    assert launch_permissions(aws, us_image, US) == perms(accounts=[A1, A2])


def test_a_missing_ami_is_no_error_with_state_absent(aws, run_module):
    us_image = plain_image(aws, region=US)
    share(aws, us_image, {"UserId": A1}, {"UserId": A2})
    result = run_module(
        MODULE,
        {"images": [{"image_id": MISSING, "region": EU}, {"image_id": us_image}], "account_ids": [A1], "state": "absent"},
    )
    assert not result.failed, result.msg
    assert result["changed"] is True
    missing, ok = result["images"]
    assert (missing["image_id"], missing["region"], missing["changed"]) == (MISSING, EU, False)
    assert missing["launch_permissions"] == NONE
    assert (ok["image_id"], ok["region"], ok["changed"]) == (us_image, US, True)
    assert ok["removed"] == perms(accounts=[A1])
    assert launch_permissions(aws, us_image, US) == perms(accounts=[A2])


def test_an_ami_of_another_account_fails_only_itself(aws, run_module):
    from moto.ec2.models import ec2_backends

    us_image, eu_image = _two_images(aws)
    ec2_backends[aws.account_id][EU].amis[eu_image].owner_id = "999988887777"
    result = run_module(
        MODULE, {"images": [{"image_id": us_image}, {"image_id": eu_image, "region": EU}], "account_ids": [A1]}
    )
    assert result.failed
    assert eu_image in result.msg and EU in result.msg and "999988887777" in result.msg
    assert result["images"][0]["changed"] is True
    assert result["images"][1] == {
        "image_id": eu_image, "region": EU, "failed": True, "error_kind": "refused", "msg": result["images"][1]["msg"]
    }
    assert "owned by account 999988887777" in result["images"][1]["msg"]
    assert launch_permissions(aws, us_image, US) == perms(accounts=[A1])
    assert launch_permissions(aws, eu_image, EU) == NONE


def test_warnings_name_the_image_and_the_region(aws, run_module):
    from orgshare_emulator.fixtures import create_key

    key_arn = create_key(aws.client("kms", EU), description="ami_org_share images test key")
    eu_image = plain_image(aws, region=EU, volumes=[{"device_name": "/dev/xvda", "size": 8, "kms_key_id": key_arn}])
    us_image = plain_image(aws, region=US)
    result = run_module(
        MODULE, {"images": [{"image_id": us_image}, {"image_id": eu_image, "region": EU}], "account_ids": [A1]}
    )
    assert not result.failed, result.msg
    warning = [w for w in warnings_of(result) if eu_image in w]
    assert len(warning) == 1
    assert "region eu-west-1" in warning[0] and key_arn in warning[0] and "orgshare.aws.kms_org_grant" in warning[0]
    assert not [w for w in warnings_of(result) if us_image in w]
    assert launch_permissions(aws, eu_image, EU) == perms(accounts=[A1])


BAD_ELEMENTS = [
    ("bad ami id", [{"image_id": "ami-xyz"}], ["images[0].image_id", "'ami-xyz'", "ami-0123456789abcdef0"]),
    ("bad region", [{"image_id": "GOOD"}, {"image_id": "GOOD", "region": "eu-west"}], ["images[1].region", "'eu-west'", "eu-west-1"]),
    ("listed twice", [{"image_id": "GOOD"}, {"image_id": "GOOD", "region": "us-east-1"}], ["images[1]", "more than once"]),
    # Unknown keys and a missing image_id are refused by ansible's own argument validation.
    ("unknown key", [{"image_id": "GOOD", "image": "GOOD"}], ["images.image", "image_id, region"]),
    ("unknown key instead of image_id", [{"image": "GOOD"}], ["missing required arguments: image_id found in images"]),
    ("no image_id", [{"image_id": "GOOD"}, {"region": "eu-west-1"}], ["missing required arguments: image_id found in images"]),
    ("not a dict", ["GOOD"], ["dictionary requested"]),
    ("empty list", [], ["images", "at least one"]),
]


@pytest.mark.parametrize("name,images,fragments", BAD_ELEMENTS, ids=[b[0] for b in BAD_ELEMENTS])
def test_a_malformed_element_fails_before_any_aws_call(aws, run_module, name, images, fragments):
    good = plain_image(aws, region=US)

    def fill(value):
        if isinstance(value, dict):
            return dict((k, good if v == "GOOD" else v) for k, v in value.items())
        return good if value == "GOOD" else value

    aws.emulator.clear_calls()
    result = run_module(MODULE, {"images": [fill(i) for i in images], "account_ids": [A1]})
    assert result.failed
    for fragment in fragments:
        assert fragment in result.msg, (fragment, result.msg)
    assert aws.emulator.calls == []
    assert launch_permissions(aws, good, US) == NONE


def test_a_malformed_principal_fails_before_any_aws_call(aws, run_module):
    us_image, eu_image = _two_images(aws)
    aws.emulator.clear_calls()
    result = run_module(
        MODULE, {"images": [{"image_id": us_image}, {"image_id": eu_image, "region": EU}], "account_ids": [A1, "12345"]}
    )
    assert result.failed
    assert "account_ids" in result.msg and "'12345'" in result.msg
    assert aws.emulator.calls == []


def test_image_id_and_images_are_mutually_exclusive(aws, run_module):
    us_image = plain_image(aws, region=US)
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"image_id": us_image, "images": [{"image_id": us_image}], "account_ids": [A1]})
    assert result.failed
    assert "mutually exclusive" in result.msg and "image_id|images" in result.msg
    none = run_module(MODULE, {"account_ids": [A1]})
    assert none.failed
    assert "one of the following is required: image_id, images" in none.msg
    assert aws.emulator.calls == []
    assert launch_permissions(aws, us_image, US) == NONE


def _organization(aws):
    org_client = aws.client("organizations")
    org = org_client.create_organization(FeatureSet="ALL")["Organization"]
    root_id = org_client.list_roots()["Roots"][0]["Id"]
    ou = org_client.create_organizational_unit(ParentId=root_id, Name="workloads")["OrganizationalUnit"]
    return org, ou


def test_bare_ids_are_resolved_once_and_reported(aws, run_module):
    org, ou = _organization(aws)
    us_image, eu_image = _two_images(aws)
    aws.emulator.clear_calls()
    result = run_module(
        MODULE,
        {
            "images": [{"image_id": us_image}, {"image_id": eu_image, "region": EU}],
            "organization_arns": [org["Id"]],
            "organizational_unit_arns": [ou["Id"]],
        },
    )
    assert not result.failed, result.msg
    assert result["principals"] == {
        "organization_arns": [org["Arn"]],
        "organizational_unit_arns": [ou["Arn"]],
        "account_ids": [],
    }
    assert org["Arn"].startswith("arn:aws:organizations::123456789012:organization/o-")
    expected = perms(orgs=[org["Arn"]], ous=[ou["Arn"]])
    assert launch_permissions(aws, us_image, US) == expected
    assert launch_permissions(aws, eu_image, EU) == expected
    assert len(_calls_of(aws, "DescribeOrganization")) == 1
    assert len(_calls_of(aws, "DescribeOrganizationalUnit")) == 1


def test_single_image_reports_principals(aws, run_module):
    org, _ou = _organization(aws)
    image_id = plain_image(aws)
    result = run_module(MODULE, {"image_id": image_id, "organization_arns": [org["Id"]], "account_ids": [A2, A1]})
    assert not result.failed, result.msg
    assert result["principals"] == {"organization_arns": [org["Arn"]], "organizational_unit_arns": [], "account_ids": [A1, A2]}
    assert result["image_id"] == image_id and result["region"] == US
    assert "images" not in result
    assert launch_permissions(aws, image_id) == perms(orgs=[org["Arn"]], accounts=[A1, A2])


def test_throttling_of_concurrent_targets_converges(aws, run_module):
    images = [plain_image(aws, region=US), plain_image(aws, region=EU), plain_image(aws, region=US)]
    aws.emulator.inject_faults(
        schedule={"DescribeImageAttribute": ["throttle", "throttle"], "ModifyImageAttribute": ["throttle", None, "throttle"]}
    )
    result = run_module(
        MODULE,
        {
            "images": [{"image_id": images[0]}, {"image_id": images[1], "region": EU}, {"image_id": images[2], "region": US}],
            "account_ids": [A1],
        },
    )
    aws.emulator.clear_faults()
    assert not result.failed, result.msg
    assert [e["changed"] for e in result["images"]] == [True, True, True]
    assert launch_permissions(aws, images[0], US) == perms(accounts=[A1])
    assert launch_permissions(aws, images[1], EU) == perms(accounts=[A1])
    assert launch_permissions(aws, images[2], US) == perms(accounts=[A1])


# ---- accepted, written and useless: refused before any write ---------------------------------------
def test_an_organization_of_another_partition_is_refused(aws, run_module):
    us_image = plain_image(aws, region=US)
    cn_org = "arn:aws-cn:organizations::111122223333:organization/o-exampleorg1"
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"images": [{"image_id": us_image}], "organization_arns": [cn_org]})
    assert result.failed
    assert cn_org in result.msg and "partition aws" in result.msg
    assert aws.write_calls() == []
    assert launch_permissions(aws, us_image, US) == NONE


def test_more_than_1000_sharing_entities_are_refused(aws, run_module):
    us_image = plain_image(aws, region=US)
    accounts = ["%012d" % (100000000000 + i) for i in range(1001)]
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"image_id": us_image, "account_ids": accounts})
    assert result.failed
    assert "1001 accounts, organizations and OUs" in result.msg and "at most 1000" in result.msg
    assert aws.write_calls() == []
    assert launch_permissions(aws, us_image, US) == NONE


def test_an_account_id_that_lost_its_leading_zero_gets_a_quote_it_hint(aws, run_module):
    us_image = plain_image(aws, region=US)
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"image_id": us_image, "account_ids": [12345678901]})
    assert result.failed
    assert "11 digits" in result.msg and "quote account ids" in result.msg
    assert aws.emulator.calls == []
