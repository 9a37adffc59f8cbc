"""(f) Knobs: per-request latency, fault injection (rate and schedule), the call record."""

import json
import time
import urllib.request

import botocore.exceptions
import pytest

from emulator_helpers import error_of, raw_client


@pytest.fixture
def knobs(aws):
    yield aws.emulator
    aws.emulator.set_latency(0)
    aws.emulator.clear_faults()


class SleepRecorder:
    """The emulator server's ``time`` module, with every sleep recorded (and still slept)."""

    def __init__(self):
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        time.sleep(seconds)

    def __getattr__(self, name):
        return getattr(time, name)


def test_latency_delays_every_call(aws, knobs, monkeypatch):
    from orgshare_emulator import server as emulator_server

    recorder = SleepRecorder()
    monkeypatch.setattr(emulator_server, "time", recorder)
    ec2, kms = raw_client(aws, "ec2"), raw_client(aws, "kms")
    ec2.describe_images(Owners=["self"])  # warm the backend
    assert recorder.sleeps == []  # no latency set: no delay
    knobs.set_latency(300)
    start = time.monotonic()
    ec2.describe_images(Owners=["self"])
    kms.list_keys()
    # each call waits the latency before it is answered: a lower bound, whatever the machine's speed
    assert time.monotonic() - start >= 0.6
    assert recorder.sleeps == [0.3, 0.3]
    knobs.set_latency(0)
    ec2.describe_images(Owners=["self"])
    assert recorder.sleeps == [0.3, 0.3]  # latency 0 again: no delay added
    assert [c["action"] for c in knobs.calls] == ["DescribeImages", "DescribeImages", "ListKeys", "DescribeImages"]


def test_schedule_answers_the_next_calls_of_an_action(aws, knobs):
    ec2 = raw_client(aws, "ec2")
    knobs.inject_faults(schedule={"DescribeImages": ["throttle", "503", None, "throttle"]})
    assert error_of(ec2.describe_images, Owners=["self"])[0] == "RequestLimitExceeded"
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        ec2.describe_images(Owners=["self"])
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    ec2.describe_images(Owners=["self"])  # None: passes
    assert error_of(ec2.describe_images, Owners=["self"])[0] == "RequestLimitExceeded"
    ec2.describe_images(Owners=["self"])  # schedule used up
    ec2.describe_snapshots(OwnerIds=["self"])  # other actions untouched
    statuses = [(c["action"], c["status"], c["error"]) for c in knobs.calls if c["action"] == "DescribeImages"]
    assert statuses == [
        ("DescribeImages", 503, "RequestLimitExceeded"),
        ("DescribeImages", 503, "ServiceUnavailable"),
        ("DescribeImages", 200, None),
        ("DescribeImages", 503, "RequestLimitExceeded"),
        ("DescribeImages", 200, None),
    ]


@pytest.mark.parametrize("service,call,code,kind", [
    ("kms", "list_keys", "ThrottlingException", "throttle"), ("organizations", "list_roots", "TooManyRequestsException", "throttle"),
    ("kms", "list_keys", "AccessDeniedException", "denied"), ("organizations", "list_roots", "AccessDeniedException", "denied"),
    ("ec2", "describe_images", "UnauthorizedOperation", "denied"), ("sts", "get_caller_identity", "AccessDenied", "denied"),
    ("organizations", "list_roots", "InvalidInputException", "invalid"), ("kms", "list_keys", "ValidationException", "invalid"),
])
def test_fault_errors_are_the_services_own(aws, knobs, service, call, code, kind):
    client = raw_client(aws, service)
    knobs.inject_faults(rate=1.0, kind=kind, actions=[call.title().replace("_", "")])
    assert error_of(getattr(client, call))[0] == code


def test_rate_fails_a_share_of_calls_and_boto3_retries_through(aws, knobs):
    knobs.inject_faults(rate=0.3, actions=["DescribeImages"], kind="throttle", seed=10)
    ec2 = aws.client("ec2")  # standard retry mode
    for dummy in range(6):
        ec2.describe_images(Owners=["self"])
    calls = [c for c in knobs.calls if c["action"] == "DescribeImages"]
    failed = [c for c in calls if c["error"] == "RequestLimitExceeded"]
    assert len(calls) == 6 + len(failed)
    assert len(failed) == 1  # seed 10: the 4th draw of the fault RNG fails
    # only the listed actions fail
    assert all(c["status"] == 200 for c in knobs.calls if c["action"] != "DescribeImages")


def test_faults_limited_to_regions_leave_the_other_regions_alone(aws, knobs):
    # a region that is down: every call there answers 503, the other regions answer as usual
    knobs.inject_faults(rate=1.0, kind="503", regions=["eu-west-1"])
    down = raw_client(aws, "ec2", region="eu-west-1")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        down.describe_images(Owners=["self"])
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    raw_client(aws, "ec2", region="us-west-2").describe_images(Owners=["self"])
    raw_client(aws, "kms", region="us-east-1").list_keys()
    statuses = sorted((c["region"], c["status"]) for c in knobs.calls)
    assert statuses == [("eu-west-1", 503), ("us-east-1", 200), ("us-west-2", 200)]


def test_503_is_retried_by_boto3(aws, knobs):
    knobs.inject_faults(schedule={"DescribeSnapshots": ["503", "503"]})
    aws.client("ec2").describe_snapshots(OwnerIds=["self"])
    assert [c["status"] for c in knobs.calls if c["action"] == "DescribeSnapshots"] == [503, 503, 200]


def test_call_record_has_service_action_region_and_actions_set(aws, knobs):
    aws.client("ec2", "eu-west-1").describe_images(Owners=["self"])
    aws.client("kms", "us-west-2").list_aliases()
    aws.client("sts").get_caller_identity()
    calls = knobs.calls
    assert [(c["service"], c["action"], c["region"]) for c in calls] == [
        ("ec2", "DescribeImages", "eu-west-1"),
        ("kms", "ListAliases", "us-west-2"),
        ("sts", "GetCallerIdentity", "us-east-1"),
    ]
    assert all(c["time"] > 0 and c["access_key"] == "AKIAORGSHARETESTING1" for c in calls)
    assert knobs.actions() == {"ec2:DescribeImages", "kms:ListAliases", "sts:GetCallerIdentity"}
    assert knobs.actions("kms") == {"kms:ListAliases"}
    knobs.clear_calls()
    assert knobs.calls == []


def test_control_endpoint_config_and_calls(aws, knobs):
    def post(path, payload=None):
        req = urllib.request.Request(aws.endpoint_url + "/_orgshare/" + path, data=json.dumps(payload or {}).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    assert post("health") == {"ok": True}
    assert post("config", {"latency_ms": 5, "copy_pending_seconds": 3})["copy_pending_seconds"] == 3
    assert knobs.knobs.latency_ms == 5
    post("config", {"copy_pending_seconds": 0, "faults": {"schedule": {"ListKeys": ["throttle"]}}})
    assert error_of(raw_client(aws, "kms").list_keys)[0] == "ThrottlingException"
    assert [c["action"] for c in post("calls")["calls"]] == ["ListKeys"]
    post("calls/clear")
    assert post("calls") == {"calls": []}
