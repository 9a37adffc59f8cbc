# -*- coding: utf-8 -*-
"""The API layer (plugins/module_utils/_api.py) against the emulator: the retry policy adds only the
codes amazon.aws lacks, "not there" answers, DescribeSnapshots in batches of visible snapshots; and
every refused-input error of the collection is an OrgShareInputError."""

import pytest

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.orgshare.aws.plugins.module_utils import _api
from ansible_collections.orgshare.aws.plugins.module_utils import _targets
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareInputError
from orgshare_emulator.fixtures import create_key, make_image

MISSING_AMI = "ami-0123456789abcdef0"
MISSING_SNAPSHOT = "snap-0123456789abcdef0"
MISSING_KEY = "00000000-0000-0000-0000-000000000000"


def actions(aws, action):
    return [c for c in aws.emulator.calls if c["action"] == action]


def test_retry_adds_only_codes_amazon_aws_does_not_retry():
    for code in _api.EXTRA_RETRY_CODES:
        assert not AWSRetry.found(code), code
    for code in ("RequestLimitExceeded", "Throttling", "TooManyRequestsException"):  # EC2, STS, Organizations
        assert AWSRetry.found(code)
    assert AWSRetry.found("ThrottlingException", _api.EXTRA_RETRY_CODES)  # KMS


def test_an_empty_503_is_retried_past_botocores_attempts(aws):
    # a client that makes one attempt (so only the collection's retry policy retries), then four
    # empty 503 answers in a row (botocore's own mode would give up after 3 attempts)
    import boto3
    import botocore.config

    ec2 = boto3.client("ec2", region_name=aws.region, endpoint_url=aws.endpoint_url, aws_access_key_id="AKIAORGSHARETESTING1",
                       aws_secret_access_key="x", config=botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 1}))
    aws.emulator.inject_faults(schedule={"DescribeImages": ["503"] * 4})
    try:
        assert _api.get_image(ec2, MISSING_AMI) is None
    finally:
        aws.emulator.clear_faults()
    statuses = [c["status"] for c in actions(aws, "DescribeImages")]
    assert statuses == [503] * 4 + [400]  # then AWS's answer: InvalidAMIID.NotFound, read as "no such image"


def test_missing_things_are_answers(aws):
    ec2, kms = aws.client("ec2"), aws.client("kms")
    assert _api.get_image(ec2, MISSING_AMI) is None
    assert _api.describe_images(ec2, ImageIds=[MISSING_AMI]) == []
    assert _api.describe_launch_permissions(ec2, MISSING_AMI) is None
    assert _api.deregister_image(ec2, MISSING_AMI) is False
    assert _api.describe_key(kms, MISSING_KEY) is None
    assert _api.describe_key(kms, "alias/orgshare-missing") is None


def test_a_failure_names_what_was_asked_for(aws):
    with pytest.raises(_api.OrgShareKMSError) as e:
        _api.get_key_policy(aws.client("kms"), MISSING_KEY)
    assert e.value.message == "Failed to get the policy of key %s" % MISSING_KEY
    assert _api.none_on(["NotFoundException"], _api.get_key_policy, aws.client("kms"), MISSING_KEY) is None


def test_describe_snapshots_gives_the_visible_ones_in_batches(aws, monkeypatch):
    ec2 = aws.client("ec2")
    key = create_key(aws.client("kms"))
    image_id = make_image(ec2, "api-snapshots", volumes=[
        {"device_name": "/dev/xvda", "size": 8}, {"device_name": "/dev/xvdb", "size": 8, "kms_key_id": key},
    ])
    ids = [m["Ebs"]["SnapshotId"] for m in _api.get_image(ec2, image_id)["BlockDeviceMappings"]]
    monkeypatch.setattr(_api, "SNAPSHOT_BATCH", 2)
    aws.emulator.clear_calls()
    snapshots = _api.describe_snapshots(ec2, ids + [MISSING_SNAPSHOT, ids[0]])
    assert sorted(s["SnapshotId"] for s in snapshots) == sorted(ids)
    assert len(actions(aws, "DescribeSnapshots")) == 2  # three distinct ids, two a call
    assert _api.describe_snapshots(ec2, []) == []


def test_every_refused_input_error_is_an_org_share_input_error():
    from ansible_collections.orgshare.aws.plugins.module_utils._ami_copy import AmiCopyError
    from ansible_collections.orgshare.aws.plugins.module_utils._distribute import DistributeError
    from ansible_collections.orgshare.aws.plugins.module_utils._key_policy import KeyPolicyError
    from ansible_collections.orgshare.aws.plugins.module_utils._principals import PrincipalError
    from ansible_collections.orgshare.aws.plugins.modules.ami_org_share import ShareError
    from ansible_collections.orgshare.aws.plugins.modules.kms_org_grant import GrantError

    for cls in (AmiCopyError, DistributeError, KeyPolicyError, PrincipalError, ShareError, GrantError, _targets.TargetError):
        assert issubclass(cls, OrgShareInputError), cls
        assert _targets.error_kind(cls.__new__(cls)) == "refused"
    assert _targets.error_kind(_api.OrgShareEC2Error(message="Failed")) == "aws_error"
