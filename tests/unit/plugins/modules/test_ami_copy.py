"""orgshare.aws.ami_copy end to end against the emulator: state is asserted through boto3."""

import re
import threading

import pytest
import yaml

from orgshare_emulator.fixtures import create_key, image_keys, make_image

from ansible_collections.orgshare.aws.plugins.module_utils import _ami_copy
from ansible_collections.orgshare.aws.plugins.modules import ami_copy as ami_copy_module

SOURCE_REGION = "us-east-1"
REGIONS = ("eu-west-1", "us-west-2", "ap-southeast-2")
MISSING_KEY = "arn:aws:kms:us-west-2:123456789012:key/00000000-0000-4000-8000-000000000000"


@pytest.fixture
def pending_seconds(aws):
    """Set the emulator's copy pending time for one test, and put it back."""
    def set_(seconds):
        aws.emulator.set_copy_pending_seconds(seconds)

    yield set_
    aws.emulator.set_copy_pending_seconds(0)


def source_image(aws, encrypted=True, name="golden-1"):
    ec2 = aws.client("ec2", SOURCE_REGION)
    volumes = [{"device_name": "/dev/xvda", "size": 8}, {"device_name": "/dev/xvdb", "size": 20}]
    if encrypted:
        key = create_key(aws.client("kms", SOURCE_REGION), description="source key")
        for v in volumes:
            v.update(encrypted=True, kms_key_id=key)
    return make_image(ec2, name, volumes=volumes, tags={"team": "platform"}, description="the golden image")


def region_keys(aws, regions=REGIONS):
    return {r: create_key(aws.client("kms", r), description="copy key " + r) for r in regions}


def copies_in(aws, region, source_id):
    """The caller's own copies of the source in a region, as boto3 sees them (any state)."""
    images = aws.client("ec2", region).describe_images(
        Owners=["self"],
        Filters=[{"Name": "source-image-id", "Values": [source_id]}, {"Name": "source-image-region", "Values": [SOURCE_REGION]}],
    )["Images"]
    return sorted(images, key=lambda i: i["ImageId"])


def by_region(result):
    return {i["region"]: i for i in result["images"]}


def ec2_calls(aws, action):
    return [c for c in aws.emulator.calls if c["service"] == "ec2" and c["action"] == action]


def documented_iam_actions(service):
    doc = yaml.safe_load(ami_copy_module.DOCUMENTATION)
    text = " ".join(d for d in doc["description"] if d.startswith("IAM permissions"))
    called = re.search(r"calls exactly (.*?) \(", text).group(1)
    return set(re.findall(r"%s:[A-Za-z]+" % service, called))


def test_four_steps_copy_to_three_regions(aws, run_module):
    src = source_image(aws)
    keys = region_keys(aws)
    args = {
        "source_image_id": src,
        "source_region": SOURCE_REGION,
        "regions": [{"region": r, "kms_key_id": keys[r]} for r in REGIONS],
        "tags": {"distribution": "orgshare"},
    }
    aws.emulator.clear_calls()

    # 1. check mode: every region would be copied, nothing written
    result = run_module("ami_copy", args, check_mode=True, diff=True)
    assert not result.failed, result.msg
    assert result["changed"] is True
    assert [(i["region"], i["image_id"], i["state"], i["created"], i["kms_key_id"]) for i in result["images"]] == [
        (r, None, "would_copy", True, keys[r]) for r in REGIONS
    ]
    assert result["diff"] == {"before": {"images": dict.fromkeys(REGIONS)}, "after": {"images": dict.fromkeys(REGIONS, "(new copy)")}}
    assert aws.write_calls() == []
    assert all(copies_in(aws, r, src) == [] for r in REGIONS)

    # 2. apply: one available copy per region, under the region's key, with the tags
    result = run_module("ami_copy", args)
    assert not result.failed, result.msg
    assert result["changed"] is True
    images = by_region(result)
    for r in REGIONS:
        copies = copies_in(aws, r, src)
        assert [c["ImageId"] for c in copies] == [images[r]["image_id"]]
        copy = copies[0]
        assert copy["State"] == "available" and images[r]["state"] == "available" and images[r]["created"] is True
        assert copy["Name"] == "golden-1" and copy["Description"] == "the golden image"
        tags = {t["Key"]: t["Value"] for t in copy.get("Tags", [])}
        assert tags == {"team": "platform", "distribution": "orgshare"}  # copied + added
        assert set(image_keys(aws.client("ec2", r), copy["ImageId"]).values()) == {keys[r]}
        assert images[r]["kms_key_id"] == keys[r]
        snap_ids = [m["Ebs"]["SnapshotId"] for m in copy["BlockDeviceMappings"] if "Ebs" in m]
        for snap in aws.client("ec2", r).describe_snapshots(SnapshotIds=snap_ids)["Snapshots"]:
            assert {"Key": "distribution", "Value": "orgshare"} in snap.get("Tags", [])
    first_ids = {r: images[r]["image_id"] for r in REGIONS}

    # 3. check mode again: nothing to do
    aws.emulator.clear_calls()
    result = run_module("ami_copy", args, check_mode=True, diff=True)
    assert result["changed"] is False
    assert {i["region"]: (i["image_id"], i["created"], i["state"]) for i in result["images"]} == {
        r: (first_ids[r], False, "available") for r in REGIONS
    }
    assert result["diff"]["before"] == result["diff"]["after"] == {"images": first_ids}
    assert aws.write_calls() == []

    # 4. apply again: unchanged, still one copy per region
    result = run_module("ami_copy", args)
    assert result["changed"] is False
    assert {i["region"]: i["image_id"] for i in result["images"]} == first_ids
    assert aws.write_calls() == []
    assert all(len(copies_in(aws, r, src)) == 1 for r in REGIONS)


def test_unencrypted_source_to_plain_region_names(aws, run_module):
    src = source_image(aws, encrypted=False)
    result = run_module("ami_copy", {"source_image_id": src, "source_region": SOURCE_REGION, "regions": ["eu-west-1", "us-west-2"],
                                     "name": "golden-copy", "copy_tags": False})
    assert not result.failed, result.msg
    for r in ("eu-west-1", "us-west-2"):
        (copy,) = copies_in(aws, r, src)
        assert copy["Name"] == "golden-copy"
        assert copy.get("Tags", []) == []
        assert set(image_keys(aws.client("ec2", r), copy["ImageId"]).values()) == {None}
        assert by_region(result)[r]["kms_key_id"] is None


def test_copy_made_by_hand_is_found_and_not_copied_again(aws, run_module):
    src = source_image(aws)
    keys = region_keys(aws, ("eu-west-1", "us-west-2"))
    by_hand = aws.client("ec2", "eu-west-1").copy_image(
        SourceImageId=src, SourceRegion=SOURCE_REGION, Name="made-by-hand", Encrypted=True, KmsKeyId=keys["eu-west-1"]
    )["ImageId"]
    aws.emulator.clear_calls()
    args = {"source_image_id": src, "source_region": SOURCE_REGION, "regions": [{"region": r, "kms_key_id": keys[r]} for r in keys]}

    predicted = run_module("ami_copy", args, check_mode=True)
    assert by_region(predicted)["eu-west-1"] == dict(
        region="eu-west-1", image_id=by_hand, state="available", created=False, kms_key_id=keys["eu-west-1"], kms_key_arn=keys["eu-west-1"],
        state_reason=None, failed_image_ids=[]
    )
    assert by_region(predicted)["us-west-2"]["state"] == "would_copy"

    result = run_module("ami_copy", args)
    assert result["changed"] is True
    assert by_region(result)["eu-west-1"]["image_id"] == by_hand and by_region(result)["eu-west-1"]["created"] is False
    assert by_region(result)["us-west-2"]["created"] is True
    assert [c["ImageId"] for c in copies_in(aws, "eu-west-1", src)] == [by_hand]
    assert [c["region"] for c in ec2_calls(aws, "CopyImage")] == ["us-west-2"]


def test_concurrent_runs_share_one_copy_through_the_client_token(aws):
    """Two runs that both planned before either copied send the same CopyImage request: the
    deterministic ClientToken makes AWS answer the second with the first's image."""
    src = source_image(aws)
    keys = region_keys(aws, ("eu-west-1",))
    params = {
        "source_image_id": src, "source_region": SOURCE_REGION, "regions": [{"region": "eu-west-1", "kms_key_id": keys["eu-west-1"]}],
        "name": None, "description": None, "encrypted": None, "copy_tags": True, "tags": {"run": "x"}, "wait": True,
        "wait_timeout": 60, "allow_aws_managed_key": False,
    }
    clients = {r: aws.client("ec2", r) for r in (SOURCE_REGION, "eu-west-1")}
    kms_clients = {r: aws.client("kms", r) for r in (SOURCE_REGION, "eu-west-1")}
    runs = [_ami_copy.AmiCopier(clients, dict(params), kms_clients=kms_clients) for dummy in range(2)]
    plans = [run.plan() for run in runs]  # both see no copy
    assert all(p[0]["copy"] is None for p in plans)
    aws.emulator.clear_calls()
    outcomes = {}

    def go(i):
        outcomes[i] = runs[i].apply(plans[i])

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    (result_a,), dummy = outcomes[0]
    (result_b,), dummy = outcomes[1]
    assert result_a["image_id"] == result_b["image_id"]
    assert [c["ImageId"] for c in copies_in(aws, "eu-west-1", src)] == [result_a["image_id"]]
    calls = ec2_calls(aws, "CopyImage")
    assert len(calls) == 2 and all(c["status"] == 200 for c in calls)  # no InvalidAMIName.Duplicate: the token answered


def test_client_token_used_with_other_parameters_is_reported(aws, run_module):
    src = source_image(aws, encrypted=False)
    other_src = source_image(aws, encrypted=False, name="other-image")
    dest = _ami_copy.Destination("eu-west-1", None, "golden-1")
    source = aws.client("ec2", SOURCE_REGION).describe_images(ImageIds=[src])["Images"][0]
    token = _ami_copy.copy_request(source, SOURCE_REGION, dest, "golden-1", None, None, True, None)["ClientToken"]
    # someone used "our" token for a copy of another image
    aws.client("ec2", "eu-west-1").copy_image(SourceImageId=other_src, SourceRegion=SOURCE_REGION, Name="other-copy", ClientToken=token)
    result = run_module("ami_copy", {"source_image_id": src, "source_region": SOURCE_REGION, "regions": ["eu-west-1", "us-west-2"]})
    assert result.failed
    images = by_region(result)
    assert images["eu-west-1"]["state"] == "error" and images["eu-west-1"]["image_id"] is None
    assert images["eu-west-1"]["state_reason"]["code"] == "IdempotentParameterMismatch"
    assert token in images["eu-west-1"]["state_reason"]["message"]
    assert "eu-west-1" in result.msg and "client token" in result.msg
    # the other region still got its copy
    assert images["us-west-2"]["state"] == "available"
    assert [c["ImageId"] for c in copies_in(aws, "us-west-2", src)] == [images["us-west-2"]["image_id"]]
    assert copies_in(aws, "eu-west-1", src) == []


def test_failing_region_among_good_ones_then_fixed(aws, run_module, pending_seconds, monkeypatch):
    """A key that passes the check but is disabled before CopyImage (AWS notices only after accepting the
    request): that region's copy fails, the others finish; once the key is enabled again, a re-run replaces it."""
    src = source_image(aws)
    keys = region_keys(aws)
    pending_seconds(1)
    fixed = [{"region": r, "kms_key_id": keys[r]} for r in REGIONS]
    kms_usw2 = aws.emulator.internal_client("kms", "us-west-2")  # not in the call record
    real_plan = _ami_copy.AmiCopier.plan

    def plan_then_disable_the_key(self):
        plans = real_plan(self)
        kms_usw2.disable_key(KeyId=keys["us-west-2"])
        return plans

    monkeypatch.setattr(_ami_copy.AmiCopier, "plan", plan_then_disable_the_key)
    aws.emulator.clear_calls()

    result = run_module("ami_copy", {"source_image_id": src, "source_region": SOURCE_REGION, "regions": fixed})
    monkeypatch.undo()
    assert result.failed
    assert result["changed"] is True
    images = by_region(result)
    failed_id = images["us-west-2"]["image_id"]
    assert images["us-west-2"]["state"] == "failed"
    # the module reports the StateReason AWS gives (the emulator's codes are unverified: not pinned)
    reason = aws.client("ec2", "us-west-2").describe_images(ImageIds=[failed_id])["Images"][0]["StateReason"]
    assert images["us-west-2"]["state_reason"] == {"code": reason["Code"], "message": reason["Message"]}
    assert "us-west-2: %s failed" % failed_id in result.msg
    for r in ("eu-west-1", "ap-southeast-2"):
        assert images[r]["state"] == "available"
        assert [c["State"] for c in copies_in(aws, r, src)] == ["available"]
        assert "%s:" % r not in result.msg
    assert [c["State"] for c in copies_in(aws, "us-west-2", src)] == ["failed"]

    # the key enabled again, re-run: the failed copy is replaced, the others are kept
    kms_usw2.enable_key(KeyId=keys["us-west-2"])
    predicted = run_module("ami_copy", {"source_image_id": src, "source_region": SOURCE_REGION, "regions": fixed}, check_mode=True)
    assert [(i["region"], i["created"], i["state"]) for i in predicted["images"]] == [
        ("eu-west-1", False, "available"), ("us-west-2", True, "would_copy"), ("ap-southeast-2", False, "available")
    ]
    assert by_region(predicted)["us-west-2"]["failed_image_ids"] == [failed_id]
    result = run_module("ami_copy", {"source_image_id": src, "source_region": SOURCE_REGION, "regions": fixed})
    assert not result.failed, result.msg
    images = by_region(result)
    assert images["us-west-2"]["created"] is True and images["us-west-2"]["failed_image_ids"] == [failed_id]
    assert images["eu-west-1"]["created"] is False and images["ap-southeast-2"]["created"] is False
    (copy,) = copies_in(aws, "us-west-2", src)  # the failed copy, which held the name, is gone
    assert copy["State"] == "available" and copy["ImageId"] == images["us-west-2"]["image_id"]
    assert set(image_keys(aws.client("ec2", "us-west-2"), copy["ImageId"]).values()) == {keys["us-west-2"]}

    again = run_module("ami_copy", {"source_image_id": src, "source_region": SOURCE_REGION, "regions": fixed})
    assert again["changed"] is False and not again.failed

    # the IAM actions in DOCUMENTATION are exactly those called (this scenario calls each of them)
    assert aws.emulator.actions(service="ec2") == documented_iam_actions("ec2") == {
        "ec2:CopyImage", "ec2:DeregisterImage", "ec2:DescribeImages", "ec2:DescribeSnapshots"}
    assert aws.emulator.actions(service="kms") == documented_iam_actions("kms") == {"kms:DescribeKey"}


def test_aws_managed_key_guard_writes_nothing(aws, run_module):
    src = source_image(aws)
    keys = region_keys(aws, ("eu-west-1",))
    aws.emulator.clear_calls()
    regions = [{"region": "eu-west-1", "kms_key_id": keys["eu-west-1"]}, "us-west-2", {"region": "ap-southeast-2", "kms_key_id": "alias/aws/ebs"}]
    for check_mode in (True, False):
        result = run_module("ami_copy", {"source_image_id": src, "source_region": SOURCE_REGION, "regions": regions}, check_mode=check_mode)
        assert result.failed
        assert "us-west-2, ap-southeast-2" in result.msg and "AWS managed key" in result.msg and "allow_aws_managed_key" in result.msg
        assert "eu-west-1" not in result.msg
    assert aws.write_calls() == []
    assert all(copies_in(aws, r, src) == [] for r in ("eu-west-1", "us-west-2", "ap-southeast-2"))
    assert ec2_calls(aws, "CopyImage") == []


def test_aws_managed_key_when_allowed(aws, run_module):
    src = source_image(aws)
    result = run_module("ami_copy", {"source_image_id": src, "source_region": SOURCE_REGION, "regions": ["eu-west-1"], "allow_aws_managed_key": True})
    assert not result.failed, result.msg
    key_arn = by_region(result)["eu-west-1"]["kms_key_id"]
    meta = aws.client("kms", "eu-west-1").describe_key(KeyId=key_arn)["KeyMetadata"]
    assert meta["KeyManager"] == "AWS"


def test_name_taken_by_another_image_fails_before_copying(aws, run_module):
    src = source_image(aws, encrypted=False)
    stranger = make_image(aws.client("ec2", "us-west-2"), "golden-1")
    aws.emulator.clear_calls()
    result = run_module("ami_copy", {"source_image_id": src, "source_region": SOURCE_REGION, "regions": ["eu-west-1", "us-west-2"]})
    assert result.failed
    assert "us-west-2: 'golden-1' is used by %s" % stranger in result.msg
    assert aws.write_calls() == []
    # the same region as the source, under the source's own name, is the same clash
    result = run_module("ami_copy", {"source_image_id": src, "source_region": SOURCE_REGION, "regions": [SOURCE_REGION]})
    assert result.failed and "us-east-1: 'golden-1' is used by %s" % src in result.msg
    # with a name of its own, the same-region copy is made
    result = run_module("ami_copy", {"source_image_id": src, "source_region": SOURCE_REGION, "regions": [{"region": SOURCE_REGION, "name": "golden-1-copy"}]})
    assert not result.failed, result.msg
    assert [c["Name"] for c in copies_in(aws, SOURCE_REGION, src)] == ["golden-1-copy"]


def test_source_missing_or_invalid_options(aws, run_module):
    result = run_module("ami_copy", {"source_image_id": "ami-0123456789abcdef0", "source_region": SOURCE_REGION, "regions": ["eu-west-1"]})
    assert result.failed and "ami-0123456789abcdef0 does not exist in source_region us-east-1" in result.msg
    aws.emulator.clear_calls()
    result = run_module("ami_copy", {"source_image_id": "ami-0123456789abcdef0", "source_region": SOURCE_REGION,
                                     "regions": [{"region": "eu-west-1", "kms_key_id": "arn:aws:kms:us-east-1:123456789012:key/x"}]})
    assert result.failed and "regions[0].kms_key_id" in result.msg and "KMS keys are regional" in result.msg
    assert aws.emulator.calls == []  # validated before any call
    assert result["images"] == []


def test_pending_copies_are_started_together_and_waited_for_together(aws, run_module, pending_seconds):
    src = source_image(aws)
    keys = region_keys(aws)
    pending_seconds(2.0)
    aws.emulator.clear_calls()
    result = run_module("ami_copy", {"source_image_id": src, "source_region": SOURCE_REGION,
                                     "regions": [{"region": r, "kms_key_id": keys[r]} for r in REGIONS]})
    assert not result.failed, result.msg
    assert {i["region"]: i["state"] for i in result["images"]} == {r: "available" for r in REGIONS}
    assert {r: [c["State"] for c in copies_in(aws, r, src)] for r in REGIONS} == {r: ["available"] for r in REGIONS}
    # The order of the calls, from the emulator's record (in the order they arrived): the plan reads
    # (DescribeImages of the source, of existing copies and of names), then every CopyImage, then the
    # polls (DescribeImages of the new copies), then DescribeSnapshots for the keys of the copies.
    ec2 = [(c["action"], c["region"]) for c in aws.emulator.calls if c["service"] == "ec2"]
    copy_at = [n for n, (action, dummy) in enumerate(ec2) if action == "CopyImage"]
    assert sorted(ec2[n][1] for n in copy_at) == sorted(REGIONS)
    # every copy was started before the first poll: no DescribeImages between the first and the last CopyImage
    assert [a for a, dummy in ec2[copy_at[0]:copy_at[-1] + 1]] == ["CopyImage"] * len(REGIONS)
    polls = [(n, region) for n, (action, region) in enumerate(ec2) if action == "DescribeImages" and n > copy_at[-1]]
    assert polls, "the pending copies were never polled"
    # waited for together: the first round of polls looks at every region once, before any region is looked at again
    assert sorted(region for dummy, region in polls[:len(REGIONS)]) == sorted(REGIONS)


def test_no_wait_then_rerun_waits_and_wait_timeout(aws, run_module, pending_seconds, copy_clock):
    src = source_image(aws, encrypted=False)
    pending_seconds(8)  # on the emulator's hand-moved clock: pending until the test moves it
    args = {"source_image_id": src, "source_region": SOURCE_REGION, "regions": ["eu-west-1", "us-west-2"]}
    result = run_module("ami_copy", dict(args, wait=False))
    assert not result.failed, result.msg
    assert result["changed"] is True and {i["state"] for i in result["images"]} == {"pending"}
    ids = {i["region"]: i["image_id"] for i in result["images"]}

    result = run_module("ami_copy", dict(args, wait_timeout=1))
    assert result.failed and "still pending after wait_timeout=1s in eu-west-1, us-west-2" in result.msg
    assert result["changed"] is False and {i["image_id"] for i in result["images"]} == set(ids.values())
    assert {r: [c["State"] for c in copies_in(aws, r, src)] for r in ids} == {r: ["pending"] for r in ids}

    copy_clock.advance(8)  # the copies' pending time is over
    aws.emulator.clear_calls()
    result = run_module("ami_copy", args)
    assert not result.failed, result.msg
    assert result["changed"] is False
    assert {i["region"]: (i["image_id"], i["state"]) for i in result["images"]} == {r: (ids[r], "available") for r in ids}
    assert ec2_calls(aws, "CopyImage") == []


def test_thirty_percent_throttling_converges(aws, run_module):
    src = source_image(aws)
    keys = region_keys(aws)
    args = {"source_image_id": src, "source_region": SOURCE_REGION, "regions": [{"region": r, "kms_key_id": keys[r]} for r in REGIONS]}
    aws.emulator.clear_calls()
    aws.emulator.inject_faults(rate=0.3, actions=["DescribeImages", "DescribeSnapshots", "CopyImage"], seed=7)
    result = run_module("ami_copy", args)
    assert not result.failed, result.msg
    again = run_module("ami_copy", args)
    aws.emulator.clear_faults()
    assert again["changed"] is False
    assert any(c["error"] == "RequestLimitExceeded" for c in aws.emulator.calls)
    for r in REGIONS:
        (copy,) = copies_in(aws, r, src)
        assert copy["State"] == "available" and copy["ImageId"] == by_region(result)[r]["image_id"]


def test_an_ami_baked_from_an_instance_of_the_source_is_not_a_copy(aws, run_module):
    """CreateImage from an instance launched from the source also names the source (SourceImageId, in its region);
    it has a SourceInstanceId, a copy has none: a copy into the source's own region is still made."""
    src = source_image(aws, encrypted=False)
    ec2 = aws.client("ec2", SOURCE_REGION)
    instance = ec2.run_instances(ImageId=src, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    baked = ec2.create_image(InstanceId=instance, Name="baked-from-golden")["ImageId"]
    assert ec2.describe_images(ImageIds=[baked])["Images"][0]["SourceImageId"] == src
    key = create_key(aws.client("kms", SOURCE_REGION), description="re-encryption key")
    args = {"source_image_id": src, "source_region": SOURCE_REGION, "regions": [{"region": SOURCE_REGION, "kms_key_id": key,
                                                                                 "name": "golden-1-reencrypted"}]}
    predicted = run_module("ami_copy", args, check_mode=True)
    assert by_region(predicted)[SOURCE_REGION]["state"] == "would_copy"
    result = run_module("ami_copy", args)
    assert not result.failed, result.msg
    copy_id = by_region(result)[SOURCE_REGION]["image_id"]
    assert copy_id != baked and by_region(result)[SOURCE_REGION]["created"] is True
    copy = ec2.describe_images(ImageIds=[copy_id])["Images"][0]
    assert copy["SourceImageId"] == src and "SourceInstanceId" not in copy


def test_copy_made_by_a_concurrent_run_between_the_lookups_is_the_copy(aws, run_module, monkeypatch, pending_seconds):
    """Two runs for one image (two inventory hosts, two jobs): the other run's copy appears after this run looked for
    copies and before it looked for images holding the name. That copy is the copy (reported, not made again), not a
    name clash."""
    pending_seconds(1)
    src = source_image(aws)
    keys = region_keys(aws, ("us-west-2",))
    other = {}
    original = _ami_copy.find_copies

    def find_copies_then_the_other_run_copies(client, source_image_id, source_region):
        found = original(client, source_image_id, source_region)
        if not other:
            other["id"] = aws.client("ec2", "us-west-2").copy_image(
                SourceImageId=src, SourceRegion=SOURCE_REGION, Name="golden-1", Encrypted=True, KmsKeyId=keys["us-west-2"]
            )["ImageId"]
        return found

    monkeypatch.setattr(_ami_copy, "find_copies", find_copies_then_the_other_run_copies)
    result = run_module("ami_copy", {"source_image_id": src, "source_region": SOURCE_REGION,
                                     "regions": [{"region": "us-west-2", "kms_key_id": keys["us-west-2"]}]})
    assert not result.failed, result.msg
    assert by_region(result)["us-west-2"]["image_id"] == other["id"]
    assert [c["ImageId"] for c in copies_in(aws, "us-west-2", src)] == [other["id"]]
    assert result["changed"] is False
