"""ami_ssm_parameter end to end against the emulator: parameters written in several regions and read back through
boto3 (value, data type, type, version, tier), a converged re-run without writes, check mode, diff mode, every
refused input before any AWS call, parameters of another kind left alone, one broken region, state=absent, tiers,
AWS's asynchronous validation (on a hand-moved clock), and the documented IAM actions.

Expected values are written out literally (AMI ids come from the emulator, versions are counted here)."""

import re

import botocore.exceptions
import pytest
import yaml

from orgshare_emulator import ssm as emulator_ssm
from orgshare_emulator.fixtures import make_image

MODULE = "ami_ssm_parameter"
US, EU, OR = "us-east-1", "eu-west-1", "us-west-2"
NAME = "/golden/ami/latest"


def image(aws, region=US, name="golden"):
    return make_image(aws.client("ec2", region), "%s-%s" % (name, region))


def stored(aws, name, region=US):
    """The parameter as boto3 reads it: (Value, Type, DataType, Version), or None."""
    try:
        p = aws.client("ssm", region).get_parameter(Name=name)["Parameter"]
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "ParameterNotFound"
        return None
    return (p["Value"], p["Type"], p["DataType"], p["Version"])


def metadata(aws, name, region=US):
    found = aws.client("ssm", region).describe_parameters(
        ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}])["Parameters"]
    return found[0] if found else None


def warnings_of(result):
    """The warning texts of a module result (ansible-core >= 2.19 returns structured warnings)."""
    return [(w.get("event") or w).get("msg", "") if isinstance(w, dict) else w for w in result.get("warnings") or []]


def ssm_actions(aws):
    return [(c["action"], c["region"]) for c in aws.emulator.calls if c["service"] == "ssm"]


class Clock:
    """A clock that moves only when told: the emulator's validation timer and the module's waits read it."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds

    def __getattr__(self, name):
        import time

        return getattr(time, name)


@pytest.fixture
def validation_clock(monkeypatch):
    """AWS's validation takes 30 s on a hand-moved clock; the module's sleeps move it."""
    from ansible_collections.orgshare.aws.plugins.modules import ami_ssm_parameter as module

    clock = Clock()
    sleeps = []
    monkeypatch.setattr(emulator_ssm, "time", clock)
    monkeypatch.setitem(emulator_ssm.CONFIG, "validation_seconds", 30)
    monkeypatch.setattr(module, "CLOCK", clock.monotonic)

    def sleep(seconds):
        sleeps.append(seconds)
        clock.advance(seconds)

    monkeypatch.setattr(module, "SLEEP", sleep)
    clock.sleeps = sleeps
    return clock


# ---- writes, read back -----------------------------------------------------------------------------


def test_create_then_converged_rerun_makes_no_write(aws, run_module):
    ami = image(aws)
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"name": NAME, "image_id": ami})
    assert not result.failed, result.msg
    assert (result["changed"], result["name"], result["region"], result["image_id"], result["version"], result["validated"]) == (
        True, NAME, US, ami, 1, True)
    # read, the AMI checked, written, read back
    assert ssm_actions(aws) == [("GetParameter", US), ("PutParameter", US), ("GetParameter", US)]
    assert stored(aws, NAME) == (ami, "String", "aws:ec2:image", 1)
    assert metadata(aws, NAME)["Tier"] == "Standard"

    aws.emulator.clear_calls()
    again = run_module(MODULE, {"name": NAME, "image_id": ami})
    assert not again.failed, again.msg
    assert (again["changed"], again["version"], again["validated"]) == (False, 1, True)
    assert aws.write_calls() == []
    assert ssm_actions(aws) == [("GetParameter", US)]
    assert stored(aws, NAME) == (ami, "String", "aws:ec2:image", 1)


def test_a_new_ami_makes_a_new_version_and_the_diff_shows_both(aws, run_module):
    old, new = image(aws, name="golden-1"), image(aws, name="golden-2")
    assert not run_module(MODULE, {"name": NAME, "image_id": old}).failed
    result = run_module(MODULE, {"name": NAME, "image_id": new}, diff=True)
    assert not result.failed, result.msg
    assert (result["changed"], result["version"]) == (True, 2)
    assert result["diff"] == {"before": {"image_id": old, "version": 1}, "after": {"image_id": new, "version": 2}}
    assert stored(aws, NAME) == (new, "String", "aws:ec2:image", 2)
    history = aws.client("ssm").get_parameter_history(Name=NAME)["Parameters"]
    assert [(h["Version"], h["Value"]) for h in history] == [(1, old), (2, new)]


def test_check_mode_predicts_and_writes_nothing(aws, run_module):
    old, new = image(aws, name="golden-1"), image(aws, name="golden-2")
    aws.emulator.clear_calls()
    predicted = run_module(MODULE, {"name": NAME, "image_id": old}, check_mode=True, diff=True)
    assert not predicted.failed, predicted.msg
    assert (predicted["changed"], predicted["version"], predicted["validated"]) == (True, 1, False)
    assert predicted["diff"] == {"before": {}, "after": {"image_id": old, "version": 1}}
    assert aws.write_calls() == []
    assert stored(aws, NAME) is None

    assert not run_module(MODULE, {"name": NAME, "image_id": old}).failed
    aws.emulator.clear_calls()
    predicted = run_module(MODULE, {"name": NAME, "image_id": new}, check_mode=True, diff=True)
    assert (predicted["changed"], predicted["version"], predicted["image_id"]) == (True, 2, new)
    assert predicted["diff"] == {"before": {"image_id": old, "version": 1}, "after": {"image_id": new, "version": 2}}
    assert aws.write_calls() == []
    assert stored(aws, NAME) == (old, "String", "aws:ec2:image", 1)

    real = run_module(MODULE, {"name": NAME, "image_id": new})
    assert (real["changed"], real["version"]) == (True, 2)
    assert stored(aws, NAME) == (new, "String", "aws:ec2:image", 2)


def test_many_regions_in_one_call(aws, run_module):
    amis = {r: image(aws, r) for r in (US, EU, OR)}
    assert not run_module(MODULE, {"name": NAME, "image_id": amis[EU]}, region=EU).failed  # EU at version 1 already
    args = {"parameters": [{"name": NAME, "image_id": amis[US]},
                           {"name": NAME, "region": EU, "image_id": amis[EU]},
                           {"name": "golden-ami", "region": OR, "image_id": amis[OR]}]}
    result = run_module(MODULE, args, diff=True)
    assert not result.failed, result.msg
    got = [(e["name"], e["region"], e["image_id"], e["version"], e["changed"], e["validated"]) for e in result["parameters"]]
    assert got == [(NAME, US, amis[US], 1, True, True), (NAME, EU, amis[EU], 1, False, True),
                   ("golden-ami", OR, amis[OR], 1, True, True)]
    assert stored(aws, NAME, US) == (amis[US], "String", "aws:ec2:image", 1)
    assert stored(aws, NAME, EU) == (amis[EU], "String", "aws:ec2:image", 1)
    assert stored(aws, "golden-ami", OR) == (amis[OR], "String", "aws:ec2:image", 1)
    # the top-level diff: the changed parameters only, each headed with its name and region
    assert [(d["before_header"], d["after_header"], d["after"]["image_id"]) for d in result["diff"]] == [
        ("%s in %s (before)" % (NAME, US), "%s in %s (after)" % (NAME, US), amis[US]),
        ("golden-ami in %s (before)" % OR, "golden-ami in %s (after)" % OR, amis[OR])]

    aws.emulator.clear_calls()
    again = run_module(MODULE, args)
    assert again["changed"] is False and [e["changed"] for e in again["parameters"]] == [False, False, False]
    assert aws.write_calls() == []


def test_description_and_tier(aws, run_module):
    ami = image(aws)
    result = run_module(MODULE, {"name": NAME, "image_id": ami, "description": "golden AMI"})
    assert (result["changed"], result["version"]) == (True, 1)
    assert (metadata(aws, NAME)["Description"], metadata(aws, NAME)["Tier"]) == ("golden AMI", "Standard")

    aws.emulator.clear_calls()
    again = run_module(MODULE, {"name": NAME, "image_id": ami, "description": "golden AMI"})
    assert again["changed"] is False
    assert aws.write_calls() == []

    # Standard -> Advanced (shareable through AWS RAM) is a write, of the same AMI id
    advanced = run_module(MODULE, {"name": NAME, "image_id": ami, "tier": "Advanced"}, diff=True)
    assert (advanced["changed"], advanced["version"]) == (True, 2)
    assert advanced["diff"]["before"]["tier"] == "Standard" and advanced["diff"]["after"]["tier"] == "Advanced"
    assert metadata(aws, NAME)["Tier"] == "Advanced"
    assert stored(aws, NAME) == (ami, "String", "aws:ec2:image", 2)

    # without tier, an Advanced parameter stays Advanced when its AMI changes
    newer = image(aws, name="golden-2")
    assert run_module(MODULE, {"name": NAME, "image_id": newer})["version"] == 3
    assert metadata(aws, NAME)["Tier"] == "Advanced"

    # AWS cannot make an Advanced parameter Standard again: refused before any write
    aws.emulator.clear_calls()
    refused = run_module(MODULE, {"name": NAME, "image_id": ami, "tier": "Standard"})
    assert refused.failed
    assert "Advanced parameter" in refused.msg and "tier: Advanced" in refused.msg and NAME in refused.msg
    assert aws.write_calls() == []
    assert stored(aws, NAME) == (newer, "String", "aws:ec2:image", 3)


# ---- refused before any AWS call -------------------------------------------------------------------

BAD_NAMES = [
    ("golden ami", "contains ' '"),
    ("/golden/ami*", "contains '*'"),
    ("golden/ami", "a name in a hierarchy starts with '/'"),
    ("/golden//ami", "empty level"),
    ("/golden/ami/", "empty level"),
    ("awsGolden", "cannot begin with 'aws' or 'ssm'"),
    ("/SSM/golden", "cannot begin with 'aws' or 'ssm'"),
    ("/aws/golden", "cannot begin with 'aws' or 'ssm'"),
    ("/" + "/".join("l%d" % i for i in range(16)), "has 16 levels; a parameter hierarchy has at most 15"),
    # 45 characters of arn:aws:ssm:us-east-1:<12 digits>:parameter/ plus 967 = 1012 > 1011
    ("/" + "a" * 967, "with its ARN (arn:aws:ssm:us-east-1:<account>:parameter/...) it has 1012 characters, AWS allows at most 1011"),
]


@pytest.mark.parametrize("name, expected", BAD_NAMES)
def test_a_bad_name_fails_before_any_call(aws, run_module, name, expected):
    ami = "ami-0123456789abcdef0"
    aws.emulator.clear_calls()
    single = run_module(MODULE, {"name": name, "image_id": ami})
    assert single.failed
    assert single.msg.startswith("name: %r " % name) and expected in single.msg, single.msg
    many = run_module(MODULE, {"parameters": [{"name": "/ok", "image_id": ami}, {"name": name, "image_id": ami}]})
    assert many.failed
    assert many.msg.startswith("parameters[1].name: %r " % name) and expected in many.msg, many.msg
    assert aws.emulator.calls == []


def test_the_longest_name_is_accepted(aws, run_module):
    name = "/" + "a" * 966  # 45 + 966 = 1011 characters with the ARN
    ami = image(aws)
    result = run_module(MODULE, {"name": name, "image_id": ami})
    assert not result.failed, result.msg
    assert stored(aws, name) == (ami, "String", "aws:ec2:image", 1)


@pytest.mark.parametrize("args, expected", [
    ({"name": NAME, "image_id": "ami-123"}, "image_id: 'ami-123' is not an AMI id; expected the form ami-0123456789abcdef0"),
    ({"name": NAME, "image_id": "i-0123456789abcdef0"}, "image_id: 'i-0123456789abcdef0' is not an AMI id; expected the form"),
    ({"name": NAME}, "image_id: an AMI id is required with state=present (expected the form ami-0123456789abcdef0)"),
    ({"parameters": [{"name": NAME, "image_id": "ami-0123456789abcdef0", "region": "europe"}]},
     "parameters[0].region: 'europe' is not a region name; expected a name like 'eu-west-1'"),
    ({"parameters": [{"name": NAME, "image_id": "ami-0123456789ABCDEF0"}]},
     "parameters[0].image_id: 'ami-0123456789ABCDEF0' is not an AMI id; expected the form ami-0123456789abcdef0"),
    ({"parameters": [{"name": NAME}]}, "parameters[0].image_id: an AMI id is required with state=present"),
    ({"parameters": []}, "parameters: give at least one element {name, region}"),
    ({"name": NAME, "image_id": "ami-0123456789abcdef0", "description": "x" * 1025},
     "description: 1025 characters; a parameter's description has at most 1024"),
    ({"name": NAME, "image_id": "ami-0123456789abcdef0", "wait_timeout": 0}, "wait_timeout: a number of seconds, at least 1"),
])
def test_bad_ami_ids_regions_and_settings_fail_before_any_call(aws, run_module, args, expected):
    aws.emulator.clear_calls()
    result = run_module(MODULE, args)
    assert result.failed
    assert expected in result.msg, result.msg
    assert aws.emulator.calls == []


@pytest.mark.parametrize("first, second", [(NAME, NAME), ("/golden-ami", "golden-ami"), ("golden-ami", "/golden-ami")])
def test_a_parameter_listed_twice_is_refused(aws, run_module, first, second):
    ami = "ami-0123456789abcdef0"
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"parameters": [{"name": first, "image_id": ami}, {"name": second, "region": US, "image_id": ami}]})
    assert result.failed
    assert result.msg.startswith("parameters[1]"), result.msg
    assert "is listed more than once" in result.msg or "list each parameter once" in result.msg, result.msg
    assert aws.emulator.calls == []


def test_the_same_name_in_two_regions_is_two_parameters(aws, run_module):
    amis = {r: image(aws, r) for r in (US, EU)}
    result = run_module(MODULE, {"parameters": [{"name": NAME, "image_id": amis[US]}, {"name": NAME, "region": EU, "image_id": amis[EU]}]})
    assert not result.failed, result.msg
    assert (stored(aws, NAME, US)[0], stored(aws, NAME, EU)[0]) == (amis[US], amis[EU])


# ---- refused before the write: what is there, and the AMI ------------------------------------------


@pytest.mark.parametrize("kind, data_type, expected", [
    ("String", "text", "is a String parameter of data type text (version 1)"),
    ("SecureString", "text", "is a SecureString parameter of data type text (version 1)"),
    ("StringList", "text", "is a StringList parameter of data type text (version 1)"),
])
@pytest.mark.parametrize("state", ["present", "absent"])
def test_a_parameter_of_another_kind_is_refused_without_a_write(aws, run_module, kind, data_type, expected, state):
    ami = image(aws)
    aws.client("ssm").put_parameter(Name=NAME, Value=ami, Type=kind, DataType=data_type)
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"name": NAME, "image_id": ami, "state": state})
    assert result.failed
    assert expected in result.msg and "aws ssm delete-parameter --name %s --region %s" % (NAME, US) in result.msg, result.msg
    assert aws.write_calls() == []
    assert stored(aws, NAME)[1:] == (kind, data_type, 1)

    many = run_module(MODULE, {"parameters": [{"name": NAME, "image_id": ami}], "state": state})
    assert many.failed and many["parameters"][0]["error_kind"] == "refused"
    assert expected in many["parameters"][0]["msg"]
    assert aws.write_calls() == []


def test_a_refused_parameter_does_not_stop_the_others(aws, run_module):
    ami = image(aws)
    aws.client("ssm").put_parameter(Name="/plain", Value=ami, Type="String")  # data type text
    result = run_module(MODULE, {"parameters": [{"name": "/plain", "image_id": ami}, {"name": NAME, "image_id": ami}]})
    assert result.failed
    assert result.msg.startswith("1 of 2 target(s) failed (the others were applied): /plain in us-east-1: the parameter is a "
                                 "String parameter of data type text (version 1)"), result.msg
    refused, written = result["parameters"]
    assert (refused["failed"], refused["error_kind"]) == (True, "refused")
    assert (written["changed"], written["version"]) == (True, 1)
    assert stored(aws, NAME) == (ami, "String", "aws:ec2:image", 1)
    assert stored(aws, "/plain") == (ami, "String", "text", 1)


def test_an_ami_that_is_not_in_the_region_is_refused_before_the_write(aws, run_module):
    us_ami = image(aws, US)
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"name": NAME, "image_id": us_ami}, region=EU)
    assert result.failed
    assert "AMI %s was not found in %s" % (us_ami, EU) in result.msg and result.msg.startswith("parameter %s in %s: " % (NAME, EU))
    assert aws.write_calls() == []
    assert stored(aws, NAME, EU) is None


def test_a_disabled_ami_is_refused_before_the_write(aws, run_module):
    ami = image(aws)
    aws.client("ec2").disable_image(ImageId=ami)
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"name": NAME, "image_id": ami})
    assert result.failed
    assert "AMI %s is disabled" % ami in result.msg and "aws ec2 enable-image --image-id %s --region %s" % (ami, US) in result.msg
    assert aws.write_calls() == []


def test_check_mode_predicts_a_refusal(aws, run_module):
    aws.emulator.clear_calls()
    result = run_module(MODULE, {"parameters": [{"name": NAME, "image_id": "ami-0123456789abcdef0"}]}, check_mode=True)
    assert result.failed
    assert result["parameters"][0]["error_kind"] == "refused"
    assert "AMI ami-0123456789abcdef0 was not found in us-east-1" in result["parameters"][0]["msg"]
    assert aws.write_calls() == []


# ---- one broken region -----------------------------------------------------------------------------


def test_one_broken_region_does_not_stop_the_others(aws, run_module):
    amis = {r: image(aws, r) for r in (US, EU, OR)}
    # every call to eu-west-1 is denied (not retried: the test does not wait for retries)
    aws.emulator.inject_faults(rate=1.0, kind="denied", regions=[EU])
    try:
        result = run_module(MODULE, {"parameters": [{"name": NAME, "region": r, "image_id": amis[r]} for r in (US, EU, OR)]})
    finally:
        aws.emulator.clear_faults()
    assert result.failed
    assert result.msg.startswith("1 of 3 target(s) failed (the others were applied): %s in %s: " % (NAME, EU)), result.msg
    assert "AccessDeniedException" in result.msg
    us, eu, west = result["parameters"]
    assert (eu["name"], eu["region"], eu["failed"], eu["error_kind"]) == (NAME, EU, True, "aws_error")
    assert (us["changed"], us["version"], west["changed"], west["version"]) == (True, 1, True, 1)
    assert stored(aws, NAME, US) == (amis[US], "String", "aws:ec2:image", 1)
    assert stored(aws, NAME, OR) == (amis[OR], "String", "aws:ec2:image", 1)
    assert stored(aws, NAME, EU) is None


def test_thirty_percent_throttling_converges(aws, run_module):
    amis = {r: image(aws, r) for r in (US, EU)}
    args = {"parameters": [{"name": NAME, "region": r, "image_id": amis[r]} for r in (US, EU)]}
    aws.emulator.inject_faults(rate=0.3, kind="throttle", seed=3)
    try:
        result = run_module(MODULE, args)
        again = run_module(MODULE, args)
    finally:
        aws.emulator.clear_faults()
    assert not result.failed, result.msg
    assert again["changed"] is False
    assert any(c["error"] == "ThrottlingException" for c in aws.emulator.calls)
    assert stored(aws, NAME, US)[0] == amis[US] and stored(aws, NAME, EU)[0] == amis[EU]


# ---- state=absent ----------------------------------------------------------------------------------


def test_absent_deletes_only_an_ami_parameter_holding_the_given_ami(aws, run_module):
    old, new = image(aws, name="golden-1"), image(aws, name="golden-2")
    assert not run_module(MODULE, {"name": NAME, "image_id": new}).failed

    # it holds another AMI id: left as it is, with a warning
    aws.emulator.clear_calls()
    kept = run_module(MODULE, {"name": NAME, "image_id": old, "state": "absent"})
    assert not kept.failed, kept.msg
    assert (kept["changed"], kept["image_id"], kept["version"]) == (False, new, 1)
    assert "parameter %s in %s: it holds %s (version 1), not %s: left as it is" % (NAME, US, new, old) in warnings_of(kept)
    assert aws.write_calls() == []

    # check mode predicts the deletion
    predicted = run_module(MODULE, {"name": NAME, "image_id": new, "state": "absent"}, check_mode=True, diff=True)
    assert (predicted["changed"], predicted["image_id"], predicted["version"]) == (True, None, None)
    assert predicted["diff"] == {"before": {"image_id": new, "version": 1}, "after": {}}
    assert aws.write_calls() == []
    assert stored(aws, NAME) == (new, "String", "aws:ec2:image", 1)

    deleted = run_module(MODULE, {"name": NAME, "image_id": new, "state": "absent"})
    assert (deleted["changed"], deleted["image_id"], deleted["version"]) == (True, None, None)
    assert stored(aws, NAME) is None

    gone = run_module(MODULE, {"name": NAME, "state": "absent"})
    assert not gone.failed and gone["changed"] is False


def test_absent_without_an_ami_id_deletes_any_ami_parameter(aws, run_module):
    ami = image(aws)
    assert not run_module(MODULE, {"parameters": [{"name": NAME, "image_id": ami}, {"name": "/other", "image_id": ami}]}).failed
    result = run_module(MODULE, {"parameters": [{"name": NAME}, {"name": "/never-there"}], "state": "absent"})
    assert not result.failed, result.msg
    assert [(e["name"], e["changed"]) for e in result["parameters"]] == [(NAME, True), ("/never-there", False)]
    assert stored(aws, NAME) is None
    assert stored(aws, "/other") == (ami, "String", "aws:ec2:image", 1)


# ---- AWS validates the value asynchronously ------------------------------------------------------------


def test_the_module_waits_until_the_written_version_shows(aws, run_module, validation_clock):
    ami = image(aws)
    result = run_module(MODULE, {"name": NAME, "image_id": ami})
    assert not result.failed, result.msg
    assert (result["changed"], result["version"], result["validated"]) == (True, 1, True)
    assert sum(validation_clock.sleeps) >= 30  # it waited (on the hand-moved clock) for the 30 s validation
    assert stored(aws, NAME) == (ami, "String", "aws:ec2:image", 1)


def test_wait_false_returns_before_the_validation(aws, run_module, validation_clock):
    old, new = image(aws, name="golden-1"), image(aws, name="golden-2")
    first = run_module(MODULE, {"name": NAME, "image_id": old, "wait": False})
    assert (first["changed"], first["version"], first["validated"]) == (True, 1, False)
    assert validation_clock.sleeps == []
    assert stored(aws, NAME) is None  # AWS: ParameterNotFound until the new parameter is validated
    validation_clock.advance(30)
    assert stored(aws, NAME) == (old, "String", "aws:ec2:image", 1)

    second = run_module(MODULE, {"name": NAME, "image_id": new, "wait": False})
    assert (second["version"], second["validated"]) == (2, False)
    assert stored(aws, NAME) == (old, "String", "aws:ec2:image", 1)  # the previous version until validated
    validation_clock.advance(30)
    assert stored(aws, NAME) == (new, "String", "aws:ec2:image", 2)


def test_a_value_aws_refuses_after_the_write_fails_the_parameter(aws, run_module, validation_clock, monkeypatch):
    from ansible_collections.orgshare.aws.plugins.modules import ami_ssm_parameter as module

    kept, doomed = image(aws, name="golden-1"), image(aws, name="golden-2")
    assert not run_module(MODULE, {"name": NAME, "image_id": kept}).failed  # version 1, validated
    sleep = module.SLEEP

    def deregister_then_sleep(seconds):
        # the AMI goes away after the module checked it and wrote it, before AWS validated it
        if aws.client("ec2").describe_images(Owners=["self"], Filters=[{"Name": "image-id", "Values": [doomed]}])["Images"]:
            aws.client("ec2").deregister_image(ImageId=doomed)
        sleep(seconds)

    monkeypatch.setattr(module, "SLEEP", deregister_then_sleep)
    result = run_module(MODULE, {"parameters": [{"name": NAME, "image_id": doomed}], "wait_timeout": 60})
    assert result.failed
    (entry,) = result["parameters"]
    assert (entry["failed"], entry["error_kind"], entry["changed"], entry["version"]) == (True, "aws_error", True, 2)
    assert "PutParameter returned version 2, but after wait_timeout=60s GetParameter does not show it" in entry["msg"]
    assert "Parameter Store Change" in entry["msg"]
    assert result["changed"] is True
    # AWS refused the value: the parameter is as it was, and the event says why
    assert stored(aws, NAME) == (kept, "String", "aws:ec2:image", 1)
    assert emulator_ssm.events(aws.account_id, US)[-1]["detail"]["exception"] == "Unable to Describe Resource"


# ---- documentation ---------------------------------------------------------------------------------


def documented_iam_actions():
    from ansible_collections.orgshare.aws.plugins.modules import ami_ssm_parameter

    doc = yaml.safe_load(ami_ssm_parameter.DOCUMENTATION)
    (text,) = [n for n in doc["notes"] if n.startswith("IAM permissions")]
    return set(re.findall(r"C\(([a-z0-9-]+:[A-Za-z]+)\)", text))


def test_documented_iam_actions_are_the_actions_called(aws, run_module):
    documented = documented_iam_actions()
    assert documented == {"ssm:GetParameter", "ssm:DescribeParameters", "ec2:DescribeImages", "ssm:PutParameter",
                          "ssm:DeleteParameter"}
    old, new = image(aws, name="golden-1"), image(aws, name="golden-2")
    aws.emulator.clear_calls()
    run_module(MODULE, {"name": NAME, "image_id": old})  # created
    run_module(MODULE, {"name": NAME, "image_id": new, "description": "d", "tier": "Advanced"}, check_mode=True)
    run_module(MODULE, {"name": NAME, "image_id": new, "description": "d", "tier": "Advanced"})  # updated
    run_module(MODULE, {"name": NAME, "image_id": new, "state": "absent"})  # deleted
    assert aws.emulator.actions() == documented
