"""ami_org_share and AWS: encrypted snapshots (AWS managed vs customer managed keys), throttling,
the IAM actions it documents, and agreement with the AWS CLI."""

import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from test_ami_org_share_helpers import A1
from test_ami_org_share_helpers import A2
from test_ami_org_share_helpers import MODULE
from test_ami_org_share_helpers import NONE
from test_ami_org_share_helpers import OTHER_ORG
from test_ami_org_share_helpers import OTHER_OU
from test_ami_org_share_helpers import four_steps
from test_ami_org_share_helpers import launch_permissions
from test_ami_org_share_helpers import perms
from test_ami_org_share_helpers import plain_image
from test_ami_org_share_helpers import share
from test_ami_org_share_helpers import warnings_of


def _cmk(aws, region=None):
    from orgshare_emulator.fixtures import create_key

    return create_key(aws.client("kms", region), description="ami_org_share test key")


def _aws_managed_image(aws):
    # An encrypted volume without a key uses the account's EBS default key, the AWS managed aws/ebs.
    return plain_image(aws, volumes=[{"device_name": "/dev/xvda", "size": 8, "encrypted": True}, {"device_name": "/dev/xvdb", "size": 4}])


def _aws_managed_key_arn(aws, image_id):
    from orgshare_emulator.fixtures import image_keys

    return image_keys(aws.client("ec2"), image_id)["/dev/xvda"]


@pytest.mark.parametrize("check_mode", [True, False])
@pytest.mark.parametrize(
    "args",
    [{"organization_arns": [OTHER_ORG]}, {"account_ids": [A1], "purge": True}, {"public": True}],
    ids=["org", "account-with-purge", "public"],
)
def test_aws_managed_key_cannot_be_shared(aws, run_module, args, check_mode):
    image_id = _aws_managed_image(aws)
    key_arn = _aws_managed_key_arn(aws, image_id)
    aws.emulator.clear_calls()
    result = run_module(MODULE, dict(args, image_id=image_id), check_mode=check_mode)
    assert result.failed
    msg = result.msg
    if args.get("public"):
        # an encrypted AMI cannot be made public whatever its key: a copy under a customer managed key would not help
        assert image_id in msg and "cannot be made public" in msg and "encrypted" in msg
    else:
        assert image_id in msg and key_arn in msg and "AWS managed key" in msg
        assert "orgshare.aws.ami_copy" in msg and "orgshare.aws.ami_distribute" in msg and "customer managed key" in msg
    assert aws.write_calls() == []
    assert launch_permissions(aws, image_id) == NONE


def test_aws_managed_key_does_not_block_removals(aws, run_module):
    image_id = _aws_managed_image(aws)
    aws.emulator.clear_calls()
    for args in ({"account_ids": [A1], "state": "absent"}, {"public": False}, {"purge": True}):
        result = run_module(MODULE, dict(args, image_id=image_id))
        assert not result.failed, result.msg
        assert result["changed"] is False
    # Nothing is added, so the key is not even looked at.
    assert not aws.emulator.actions("kms")
    assert launch_permissions(aws, image_id) == NONE


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_snapshot_key_that_does_not_exist_is_refused(aws, run_module, check_mode):
    # DescribeKey answers NotFoundException (a deleted key): nobody could launch the AMI.
    missing = "arn:aws:kms:%s:%s:key/00000000-0000-0000-0000-000000000000" % (aws.region, aws.account_id)
    image_id = plain_image(aws, volumes=[{"device_name": "/dev/xvda", "size": 8, "kms_key_id": missing}])
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"image_id": image_id, "account_ids": [A1]}, check_mode=check_mode)
    assert result.failed
    assert image_id in result.msg and missing in result.msg and "does not exist" in result.msg
    assert aws.write_calls() == []
    assert launch_permissions(aws, image_id) == NONE


def test_customer_managed_key_not_granted_shares_with_a_warning(aws, run_module):
    key_arn = _cmk(aws)
    image_id = plain_image(aws, volumes=[{"device_name": "/dev/xvda", "size": 8, "kms_key_id": key_arn}])
    result = four_steps(aws, run_module, {"image_id": image_id, "ou_arns": [OTHER_OU]}, perms(ous=[OTHER_OU]))
    warning = [w for w in warnings_of(result) if image_id in w]
    assert len(warning) == 1
    assert key_arn in warning[0] and "orgshare.aws.kms_org_grant" in warning[0] and "does not allow" in warning[0]


def test_no_key_warning_when_the_key_policy_already_allows_the_principals(aws, run_module):
    key_arn = _cmk(aws)
    image_id = plain_image(aws, volumes=[{"device_name": "/dev/xvda", "size": 8, "kms_key_id": key_arn}])
    granted = run_module("kms_org_grant", {"key_id": key_arn, "account_ids": [A1]})
    assert not granted.failed, granted.msg
    result = run_module(MODULE, {"image_id": image_id, "account_ids": [A1]})
    assert result["changed"] is True
    assert launch_permissions(aws, image_id) == perms(accounts=[A1])
    assert [w for w in warnings_of(result) if image_id in w] == []


def test_an_unreadable_key_policy_is_said_not_silenced(aws, run_module):
    key_arn = _cmk(aws)
    image_id = plain_image(aws, volumes=[{"device_name": "/dev/xvda", "size": 8, "kms_key_id": key_arn}])
    aws.emulator.inject_faults(rate=1.0, kind="denied", actions=["GetKeyPolicy"])
    try:
        result = run_module(MODULE, {"image_id": image_id, "account_ids": [A1]})
    finally:
        aws.emulator.clear_faults()
    assert launch_permissions(aws, image_id) == perms(accounts=[A1])
    warning = [w for w in warnings_of(result) if image_id in w]
    assert len(warning) == 1 and "could not be read" in warning[0] and key_arn in warning[0] and "AccessDeniedException" in warning[0]


def test_check_key_policy_false_reads_no_key_policy(aws, run_module):
    key_arn = _cmk(aws)
    image_id = plain_image(aws, volumes=[{"device_name": "/dev/xvda", "size": 8, "kms_key_id": key_arn}])
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"image_id": image_id, "account_ids": [A1], "check_key_policy": False})
    assert launch_permissions(aws, image_id) == perms(accounts=[A1])
    assert [w for w in warnings_of(result) if image_id in w] == []
    assert [c for c in aws.emulator.calls if c["action"] == "GetKeyPolicy"] == []


def test_unencrypted_ami_needs_no_kms(aws, run_module):
    image_id = plain_image(aws)
    result = run_module(MODULE, {"image_id": image_id, "account_ids": [A1]})
    assert result["changed"] is True
    assert not [w for w in warnings_of(result) if image_id in w]
    assert not aws.emulator.actions("kms")


def _scenario(aws, run_module, image_id, args, expected):
    """Run the module until unchanged (check, apply, check, apply); return the results."""
    results = []
    for check_mode in (True, False, True, False):
        result = run_module(MODULE, dict(args, image_id=image_id), check_mode=check_mode, diff=True)
        assert not result.failed, result.msg
        results.append(result)
    assert launch_permissions(aws, image_id) == expected
    return results


def _without_warnings(result):
    return {k: v for k, v in result.items() if k not in ("warnings", "invocation")}


def test_throttling_converges_to_the_same_result(aws, run_module):
    key_arn = _cmk(aws)
    org = aws.client("organizations").create_organization(FeatureSet="ALL")["Organization"]
    scenario = [
        # (not public: AWS refuses to make an AMI with encrypted snapshots public)
        ({"organization_arns": [org["Id"]], "account_ids": [A1, A2]}, perms(orgs=[org["Arn"]], accounts=[A1, A2])),
        ({"account_ids": [A2], "ou_arns": [OTHER_OU], "purge": True}, perms(ous=[OTHER_OU], accounts=[A2])),
        ({"ou_arns": [OTHER_OU], "state": "absent"}, perms(accounts=[A2])),
    ]
    calm_image = plain_image(aws, volumes=[{"device_name": "/dev/xvda", "size": 8, "kms_key_id": key_arn}])
    stormy_image = plain_image(aws, volumes=[{"device_name": "/dev/xvda", "size": 8, "kms_key_id": key_arn}])
    calm = [_scenario(aws, run_module, calm_image, args, expected) for args, expected in scenario]

    aws.emulator.clear_calls()
    aws.emulator.inject_faults(rate=0.3, kind="throttle")
    stormy = [_scenario(aws, run_module, stormy_image, args, expected) for args, expected in scenario]
    throttled = [c for c in aws.emulator.calls if c["error"] in ("RequestLimitExceeded", "ThrottlingException", "TooManyRequestsException", "Throttling")]
    aws.emulator.clear_faults()

    assert throttled, "the fault injection must have throttled some calls"
    assert {c["service"] for c in throttled} >= {"ec2"}
    for calm_results, stormy_results in zip(calm, stormy):
        for a, b in zip(calm_results, stormy_results):
            a, b = _without_warnings(a), _without_warnings(b)
            assert b.pop("image_id") == stormy_image and a.pop("image_id") == calm_image
            assert a == b
    assert launch_permissions(aws, stormy_image) == launch_permissions(aws, calm_image)


def _documented_iam_actions():
    from ansible_collections.orgshare.aws.plugins.modules import ami_org_share

    doc = yaml.safe_load(ami_org_share.DOCUMENTATION)
    text = " ".join(doc["description"])
    section = text[text.index("IAM permissions"):]
    return set(re.findall(r"C\(([a-z0-9-]+:[A-Za-z]+)\)", section))


def test_documented_iam_actions_are_the_ones_called(aws, run_module):
    documented = _documented_iam_actions()
    assert documented  # the section exists and names actions

    org_client = aws.client("organizations")
    org = org_client.create_organization(FeatureSet="ALL")["Organization"]
    root_id = org_client.list_roots()["Roots"][0]["Id"]
    ou = org_client.create_organizational_unit(ParentId=root_id, Name="apps")["OrganizationalUnit"]
    key_arn = _cmk(aws)
    image_id = plain_image(aws, volumes=[{"device_name": "/dev/xvda", "size": 8, "kms_key_id": key_arn}])
    for public_image in [plain_image(aws) for _n in range(5)]:  # the default public AMIs quota, reached
        share(aws, public_image, {"Group": "all"})
    candidate = plain_image(aws)
    aws.emulator.clear_calls()

    # Every path: bare ids resolved, an encrypted AMI shared (key check), removals, a missing AMI, making an AMI
    # public (block public access read, public AMIs counted, the quota read: refused).
    run_module(MODULE, {"image_id": candidate, "public": True})
    run_module(MODULE, {"image_id": image_id, "organization_arns": [org["Id"]], "ou_arns": [ou["Id"]], "account_ids": [A1]})
    run_module(MODULE, {"image_id": image_id, "account_ids": [A1], "state": "absent"})
    run_module(MODULE, {"image_id": image_id, "purge": True}, check_mode=True)
    run_module(MODULE, {"image_id": "ami-0123456789abcdef0", "state": "absent"})
    called = {c["service"] + ":" + c["action"] for c in aws.emulator.calls}
    assert called == documented


def _cli(aws, *args):
    aws_cli = os.path.join(os.path.dirname(sys.executable), "aws")
    proc = subprocess.run(
        [aws_cli, "--endpoint-url", aws.endpoint_url, "--output", "json"] + list(args),
        env=aws.env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_aws_cli_agrees_with_the_report(aws, run_module):
    image_id = plain_image(aws)
    share(aws, image_id, {"UserId": A2})
    result = run_module(MODULE, {"image_id": image_id, "org_arns": [OTHER_ORG], "ou_arns": [OTHER_OU], "user_ids": [A1], "public": True})
    assert result["changed"] is True
    answer = _cli(aws, "ec2", "describe-image-attribute", "--region", aws.region, "--image-id", image_id, "--attribute", "launchPermission")
    entries = answer["LaunchPermissions"]
    seen = {
        "organization_arns": sorted(e["OrganizationArn"] for e in entries if "OrganizationArn" in e),
        "organizational_unit_arns": sorted(e["OrganizationalUnitArn"] for e in entries if "OrganizationalUnitArn" in e),
        "account_ids": sorted(e["UserId"] for e in entries if "UserId" in e),
        "public": any(e.get("Group") == "all" for e in entries),
    }
    assert seen == result["launch_permissions"]
    assert seen == perms(orgs=[OTHER_ORG], ous=[OTHER_OU], accounts=[A1, A2], public=True)
