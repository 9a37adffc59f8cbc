"""SSM parameters of data type aws:ec2:image: AWS validates the value after PutParameter has answered.

Sources: PutParameter ``DataType`` in botocore's SSM model ("The aws:ec2:image value is validated asynchronously, and
the PutParameter call returns before the validation is complete. If you submit an invalid AMI value, the PutParameter
operation will return success, but the asynchronous validation will fail and the parameter will not be created or
updated"; the value must be in the AMI id format and "the specified AMI is available in your Amazon Web Services
account"); AWS Systems Manager User Guide, "Native parameter support for Amazon Machine Image IDs"
(https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-ec2-aliases.html): ParameterNotFound for
a new parameter and the previous version for an updated one until validated, a second write during the validation
refused, the "Parameter Store Change" event with "Unable to Describe Resource".

Not pinned (unverified): the error code of a write during the validation, a disabled or pending AMI, the fields of a
successful validation's event, whether a refused value's version number is used again.
"""

import pytest

from emulator_helpers import error_of, raw_client
from orgshare_emulator import ssm as emulator_ssm
from orgshare_emulator.fixtures import credentials_for, make_image

NAME = "/golden/ami"
OTHER = "444455556666"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    """The validation takes 30 s, on a clock that moves only when the test says so."""
    c = Clock()
    monkeypatch.setattr(emulator_ssm, "time", c)
    monkeypatch.setitem(emulator_ssm.CONFIG, "validation_seconds", 30)
    return c


def read(ssm, name=NAME):
    """(Value, Version, DataType), or the error code of GetParameter."""
    try:
        p = ssm.get_parameter(Name=name)["Parameter"]
    except Exception as e:  # noqa: BLE001 - botocore ClientError
        return e.response["Error"]["Code"]
    return (p["Value"], p["Version"], p["DataType"])


def put(ssm, value, name=NAME, overwrite=False, data_type="aws:ec2:image"):
    return ssm.put_parameter(Name=name, Value=value, Type="String", DataType=data_type, Overwrite=overwrite)["Version"]


def test_an_ami_of_the_region_is_stored(aws):
    ssm, ec2 = raw_client(aws, "ssm"), raw_client(aws, "ec2")
    ami = make_image(ec2, "golden-1")
    assert put(ssm, ami) == 1
    assert read(ssm) == (ami, 1, "aws:ec2:image")
    newer = make_image(ec2, "golden-2")
    assert put(ssm, newer, overwrite=True) == 2
    assert read(ssm) == (newer, 2, "aws:ec2:image")
    detail = emulator_ssm.events(aws.account_id, aws.region)[-1]["detail"]
    assert (detail["name"], detail["dataType"], detail["type"], detail["operation"]) == (NAME, "aws:ec2:image", "String", "Update")
    assert "exception" not in detail


@pytest.mark.parametrize("value", ["ami-0123456789abcdef0", "ami-12345678", "not-an-ami", "ami-0123"])
def test_a_value_that_is_no_ami_of_the_caller_is_accepted_by_the_call_and_never_stored(aws, value):
    ssm = raw_client(aws, "ssm")
    assert put(ssm, value) == 1  # the call succeeds, with a version number
    assert read(ssm) == "ParameterNotFound"
    assert ssm.describe_parameters()["Parameters"] == []
    event = emulator_ssm.events(aws.account_id, aws.region)[-1]
    assert (event["detail-type"], event["source"], event["resources"]) == (
        "Parameter Store Change", "aws.ssm", ["arn:aws:ssm:us-east-1:123456789012:parameter/golden/ami"])
    detail = event["detail"]
    assert (detail["exception"], detail["dataType"], detail["name"], detail["type"], detail["operation"]) == (
        "Unable to Describe Resource", "aws:ec2:image", NAME, "String", "Create")


def test_a_refused_update_leaves_the_previous_version(aws):
    ssm, ec2 = raw_client(aws, "ssm"), raw_client(aws, "ec2")
    ami = make_image(ec2, "golden-1")
    put(ssm, ami)
    assert put(ssm, "ami-0123456789abcdef0", overwrite=True) == 2
    assert read(ssm) == (ami, 1, "aws:ec2:image")
    assert [h["Value"] for h in ssm.get_parameter_history(Name=NAME)["Parameters"]] == [ami]
    assert emulator_ssm.events(aws.account_id, aws.region)[-1]["detail"]["operation"] == "Update"


def test_an_ami_of_another_region_is_refused(aws):
    ami = make_image(raw_client(aws, "ec2", region="us-west-2"), "golden-west")
    ssm = raw_client(aws, "ssm")
    put(ssm, ami)
    assert read(ssm) == "ParameterNotFound"


def test_an_ami_shared_with_the_caller_is_accepted(aws):
    access_key, secret_key = credentials_for(aws.emulator, OTHER)
    theirs = raw_client(aws, "ec2", access_key=access_key, secret_key=secret_key)
    ami = make_image(theirs, "their-golden")
    ssm = raw_client(aws, "ssm")
    put(ssm, ami, name="/not-yet")
    assert read(ssm, "/not-yet") == "ParameterNotFound"  # not shared yet: not available to the caller
    theirs.modify_image_attribute(ImageId=ami, LaunchPermission={"Add": [{"UserId": aws.account_id}]})
    put(ssm, ami, name="/shared")
    assert read(ssm, "/shared") == (ami, 1, "aws:ec2:image")


def test_until_validated_reads_show_the_previous_state(aws, clock):
    ssm, ec2 = raw_client(aws, "ssm"), raw_client(aws, "ec2")
    first, second = make_image(ec2, "golden-1"), make_image(ec2, "golden-2")
    assert put(ssm, first) == 1
    assert read(ssm) == "ParameterNotFound"  # a new parameter: not found until validated
    assert ssm.get_parameters(Names=[NAME])["InvalidParameters"] == [NAME]
    clock.advance(30)
    assert read(ssm) == (first, 1, "aws:ec2:image")

    assert put(ssm, second, overwrite=True) == 2
    assert read(ssm) == (first, 1, "aws:ec2:image")  # an update: the previous version until validated
    assert [p["Version"] for p in ssm.describe_parameters()["Parameters"]] == [1]
    clock.advance(29)
    assert read(ssm) == (first, 1, "aws:ec2:image")
    clock.advance(1)
    assert read(ssm) == (second, 2, "aws:ec2:image")


def test_a_write_during_the_validation_is_refused(aws, clock):
    ssm, ec2 = raw_client(aws, "ssm"), raw_client(aws, "ec2")
    first, second = make_image(ec2, "golden-1"), make_image(ec2, "golden-2")
    put(ssm, first)
    # the error code is not documented (unverified): only the refusal is asserted
    code, _message = error_of(put, ssm, second, overwrite=True)
    assert code
    clock.advance(30)
    assert read(ssm) == (first, 1, "aws:ec2:image")
    assert put(ssm, second, overwrite=True) == 2
    clock.advance(30)
    assert read(ssm) == (second, 2, "aws:ec2:image")


def test_text_parameters_are_stored_at_once_whatever_their_value(aws, clock):
    ssm = raw_client(aws, "ssm")
    assert put(ssm, "ami-0123456789abcdef0", data_type="text") == 1
    assert read(ssm) == ("ami-0123456789abcdef0", 1, "text")


@pytest.mark.parametrize("kind, code", [("throttle", "ThrottlingException"), ("denied", "AccessDeniedException"),
                                        ("invalid", "ValidationException")])
def test_faults_answer_ssm_s_own_error_codes(aws, kind, code):
    ssm = raw_client(aws, "ssm")
    aws.emulator.inject_faults(rate=1.0, kind=kind, actions=["GetParameter"])
    try:
        assert error_of(ssm.get_parameter, Name=NAME)[0] == code
    finally:
        aws.emulator.clear_faults()
