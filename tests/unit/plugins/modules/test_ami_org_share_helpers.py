"""Helpers (no tests) shared by the ami_org_share tests: AMIs on the emulator and their launch permissions read through boto3."""

import uuid

MODULE = "ami_org_share"
OTHER_ORG = "arn:aws:organizations::210987654321:organization/o-otherorg01"
OTHER_OU = "arn:aws:organizations::210987654321:ou/o-otherorg01/ou-ot01-abcdefgh"
A1, A2, A3 = "111111111111", "222222222222", "333333333333"


def plain_image(aws, name=None, region=None, volumes=None):
    """An AMI owned by the caller, with real snapshots (default: one unencrypted volume)."""
    from orgshare_emulator.fixtures import make_image

    return make_image(aws.client("ec2", region), name or "orgshare-test-%s" % uuid.uuid4().hex[:12], volumes=volumes)


def perms(orgs=(), ous=(), accounts=(), public=False):
    return {
        "organization_arns": sorted(orgs),
        "organizational_unit_arns": sorted(ous),
        "account_ids": sorted(accounts),
        "public": public,
    }


NONE = perms()


def launch_permissions(aws, image_id, region=None):
    """The AMI's launch permissions, read with boto3 and put in the module's shape."""
    entries = aws.client("ec2", region).describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"]
    return perms(
        orgs=[e["OrganizationArn"] for e in entries if "OrganizationArn" in e],
        ous=[e["OrganizationalUnitArn"] for e in entries if "OrganizationalUnitArn" in e],
        accounts=[e["UserId"] for e in entries if "UserId" in e],
        public=any(e.get("Group") == "all" for e in entries),
    )


def share(aws, image_id, *entries, region=None):
    """Share directly through boto3 (someone else's principals)."""
    aws.client("ec2", region).modify_image_attribute(
        ImageId=image_id, Attribute="launchPermission", LaunchPermission={"Add": list(entries)}
    )


def four_steps(aws, run_module, args, expected, region=None):
    """check -> apply -> check (unchanged) -> apply (unchanged), asserting AWS state each time.

    Returns the result of the first apply."""
    image_id = args["image_id"]
    before = launch_permissions(aws, image_id, region)
    assert before != expected, "the scenario must change something"

    aws.emulator.clear_calls()
    checked = run_module(MODULE, args, check_mode=True, diff=True, region=region)
    assert not checked.failed, checked.msg
    assert checked["changed"] is True
    assert checked["launch_permissions"] == expected
    assert checked["diff"] == {"before": before, "after": expected}
    assert launch_permissions(aws, image_id, region) == before
    assert aws.write_calls() == []

    applied = run_module(MODULE, args, diff=True, region=region)
    assert not applied.failed, applied.msg
    assert applied["changed"] is True
    assert launch_permissions(aws, image_id, region) == expected
    for key in ("image_id", "region", "launch_permissions", "added", "removed", "diff"):
        assert applied[key] == checked[key], key
    # One write, and it is ModifyImageAttribute
    assert [c["action"] for c in aws.write_calls() if c["status"] < 400] == ["ModifyImageAttribute"]

    for check_mode in (True, False):
        aws.emulator.clear_calls()
        again = run_module(MODULE, args, check_mode=check_mode, diff=True, region=region)
        assert not again.failed, again.msg
        assert again["changed"] is False
        assert again["launch_permissions"] == expected
        assert again["added"] == NONE and again["removed"] == NONE
        assert again["diff"] == {"before": expected, "after": expected}
        assert launch_permissions(aws, image_id, region) == expected
        assert aws.write_calls() == []
    return applied


def warnings_of(result):
    """The warning texts of a module result (ansible-core >= 2.19 returns structured warnings)."""
    texts = []
    for warning in result.get("warnings") or []:
        if isinstance(warning, dict):
            warning = (warning.get("event") or warning).get("msg", "")
        texts.append(warning)
    return texts
