"""kms_org_grant state=absent keeps a grant that another AMI still needs (issue: nothing lost).

Two AMIs under one customer managed key, both shared: unsharing and revoking for the first keeps the
principals' grants for the second; the result and a warning say what was kept for which AMI;
revoke_in_use=true removes them anyway. The key policy is read back with boto3."""

import json

import pytest

from orgshare_emulator.fixtures import create_key, make_image

MODULE = "kms_org_grant"
ACCOUNT = "444455556666"


@pytest.fixture
def world(aws):
    org = aws.client("organizations")
    org.create_organization(FeatureSet="ALL")
    o = org.describe_organization()["Organization"]
    root = org.list_roots()["Roots"][0]["Id"]
    parent = org.create_organizational_unit(ParentId=root, Name="Workloads")["OrganizationalUnit"]
    child = org.create_organizational_unit(ParentId=parent["Id"], Name="Prod")["OrganizationalUnit"]
    key = create_key(aws.client("kms"), description="golden")
    ec2 = aws.client("ec2")
    images = [make_image(ec2, "golden-%d" % i, volumes=[{"device_name": "/dev/xvda", "size": 8, "encrypted": True, "kms_key_id": key}])
              for i in (1, 2)]
    return {"org_id": o["Id"], "parent": parent["Arn"], "child": child["Arn"], "key": key, "images": images,
            "parent_path": "%s/%s/%s/" % (o["Id"], root, parent["Id"])}


def share(aws, image_id, ou=None, account=None, remove=False):
    entries = ([{"OrganizationalUnitArn": ou}] if ou else []) + ([{"UserId": account}] if account else [])
    aws.client("ec2").modify_image_attribute(ImageId=image_id, Attribute="launchPermission",
                                             LaunchPermission={"Remove" if remove else "Add": entries})


def sids(aws, key):
    policy = json.loads(aws.client("kms").get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    return sorted(s.get("Sid", "") for s in policy["Statement"])


def paths_in(aws, key):
    return aws.client("kms").get_key_policy(KeyId=key, PolicyName="default")["Policy"]


def warnings_text(result):
    out = []
    for w in result.get("warnings") or []:
        out.append(w if isinstance(w, str) else (w.get("event") or w).get("msg", ""))
    return " ".join(out)


def grant(run_module, world, state="present", **extra):
    args = {"key_id": world["key"], "organization": world["org_id"], "organizational_units": [world["parent"]],
            "account_ids": [ACCOUNT], "state": state}
    args.update(extra)
    return run_module(MODULE, args)


GRANTED = ["Enable IAM User Permissions", "OrgShareAccountGrants", "OrgShareAccountUse", "OrgShareGrants-%s", "OrgShareUse-%s"]


def granted(world):
    return sorted(s % world["org_id"] if "%s" in s else s for s in GRANTED)


def test_revoking_for_one_ami_keeps_what_the_other_still_needs(aws, run_module, world):
    one, two = world["images"]
    for image in (one, two):
        share(aws, image, ou=world["parent"], account=ACCOUNT)
    assert not grant(run_module, world).failed
    assert sids(aws, world["key"]) == granted(world)

    share(aws, one, ou=world["parent"], account=ACCOUNT, remove=True)  # the first AMI is unshared
    result = grant(run_module, world, state="absent")
    assert not result.failed, result.msg
    assert result["changed"] is False
    assert sids(aws, world["key"]) == granted(world)  # the second AMI's launches still work
    assert world["parent_path"] in paths_in(aws, world["key"])
    assert result["kept"] == [
        {"kind": "organizational_unit", "principal": world["parent_path"], "needed_by": [two]},
        {"kind": "account", "principal": ACCOUNT, "needed_by": [two]},
    ]
    assert two in warnings_text(result) and "revoke_in_use" in warnings_text(result)

    share(aws, two, ou=world["parent"], account=ACCOUNT, remove=True)  # now nothing needs them
    result = grant(run_module, world, state="absent")
    assert result["changed"] is True and result["kept"] == []
    assert sids(aws, world["key"]) == ["Enable IAM User Permissions"]


def test_revoke_in_use_removes_anyway(aws, run_module, world):
    one, two = world["images"]
    share(aws, two, ou=world["parent"], account=ACCOUNT)
    assert not grant(run_module, world).failed
    result = grant(run_module, world, state="absent", revoke_in_use=True)
    assert result["changed"] is True
    assert sids(aws, world["key"]) == ["Enable IAM User Permissions"]
    assert "kept" not in result


def test_an_ami_shared_with_a_nested_ou_keeps_the_parents_grant(aws, run_module, world):
    one, two = world["images"]
    share(aws, two, ou=world["child"])  # shared with an OU below the granted one
    assert not run_module(MODULE, {"key_id": world["key"], "organization": world["org_id"],
                                   "organizational_units": [world["parent"]]}).failed
    result = run_module(MODULE, {"key_id": world["key"], "organization": world["org_id"],
                                 "organizational_units": [world["parent"]], "state": "absent"})
    assert not result.failed, result.msg
    assert world["parent_path"] in paths_in(aws, world["key"])
    assert result["kept"] == [{"kind": "organizational_unit", "principal": world["parent_path"], "needed_by": [two]}]


def test_the_organization_grant_is_kept_while_an_ami_is_shared_with_one_of_its_ous(aws, run_module, world):
    one, two = world["images"]
    share(aws, two, ou=world["parent"])
    assert not run_module(MODULE, {"key_id": world["key"], "organization": world["org_id"]}).failed
    result = run_module(MODULE, {"key_id": world["key"], "organization": world["org_id"], "state": "absent"})
    assert result["changed"] is False
    assert "OrgShareUse-%s" % world["org_id"] in sids(aws, world["key"])
    assert result["kept"] == [{"kind": "organization", "principal": world["org_id"], "needed_by": [two]}]


def test_an_ami_under_another_key_does_not_hold_the_grant(aws, run_module, world):
    other_key = create_key(aws.client("kms"), description="other")
    other = make_image(aws.client("ec2"), "other-1",
                       volumes=[{"device_name": "/dev/xvda", "size": 8, "encrypted": True, "kms_key_id": other_key}])
    share(aws, other, ou=world["parent"], account=ACCOUNT)
    assert not grant(run_module, world).failed
    result = grant(run_module, world, state="absent")
    assert result["changed"] is True and result["kept"] == []
    assert sids(aws, world["key"]) == ["Enable IAM User Permissions"]


def test_keys_with_state_absent_keep_per_key(aws, run_module, world):
    one, two = world["images"]
    share(aws, two, account=ACCOUNT)
    lonely = create_key(aws.client("kms"), description="no AMI")
    for key in (world["key"], lonely):
        assert not run_module(MODULE, {"key_id": key, "account_ids": [ACCOUNT]}).failed
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"keys": [{"key_id": world["key"]}, {"key_id": lonely}], "account_ids": [ACCOUNT], "state": "absent"})
    assert not result.failed, result.msg
    # the region's AMIs are read once for both keys of that region
    assert len([c for c in aws.emulator.calls if c["action"] == "DescribeImages"]) == 1
    first, second = result["keys"]
    assert first["kept"] == [{"kind": "account", "principal": ACCOUNT, "needed_by": [two]}] and first["changed"] is False
    assert second["kept"] == [] and second["changed"] is True
    assert "OrgShareAccountUse" in sids(aws, world["key"])
    assert sids(aws, lonely) == ["Enable IAM User Permissions"]


def test_unshared_image_ids_make_check_mode_predict_the_revocation_after_the_unshare(aws, run_module, world):
    one, two = world["images"]
    share(aws, one, ou=world["parent"], account=ACCOUNT)  # only the first AMI is shared
    assert not grant(run_module, world).failed
    aws.emulator.clear_calls()
    # Check mode before the unshare: without the option the grant is kept for the first AMI ...
    kept = run_module(MODULE, {"key_id": world["key"], "organization": world["org_id"], "organizational_units": [world["parent"]],
                               "account_ids": [ACCOUNT], "state": "absent"}, check_mode=True)
    assert kept["changed"] is False and [k["needed_by"] for k in kept["kept"]] == [[one], [one]]
    # ... with it (the run unshares that AMI first), the revocation is predicted, and nothing is written
    predicted = grant_check = run_module(MODULE, {"key_id": world["key"], "organization": world["org_id"],
                                                  "organizational_units": [world["parent"]], "account_ids": [ACCOUNT],
                                                  "state": "absent", "unshared_image_ids": [one]}, check_mode=True)
    assert grant_check["changed"] is True and grant_check["kept"] == []
    assert aws.write_calls() == []
    assert sids(aws, world["key"]) == granted(world)
    # the run as predicted: unshare, then revoke
    share(aws, one, ou=world["parent"], account=ACCOUNT, remove=True)
    result = grant(run_module, world, state="absent", unshared_image_ids=[one])
    assert result["changed"] is predicted["changed"] is True
    assert sids(aws, world["key"]) == ["Enable IAM User Permissions"]


def test_unshared_image_ids_are_validated(aws, run_module, world):
    aws.emulator.clear_calls()
    result = grant(run_module, world, state="absent", unshared_image_ids=["ami-1"])
    assert result.failed and "unshared_image_ids[0]: 'ami-1' is not an AMI id" in result.msg
    assert aws.write_calls() == []
