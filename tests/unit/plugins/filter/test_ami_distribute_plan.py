"""The filter orgshare.aws.ami_distribute_plan: dispatch, errors, plain data out."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.orgshare.aws.plugins.filter.ami_distribute_plan import FilterModule
from ansible_collections.orgshare.aws.plugins.filter.ami_distribute_plan import ami_distribute_plan

SRC = "ami-0123456789abcdef0"


class TaggedStr(str):
    """Stands in for Ansible's tagged strings (a str subclass)."""


def test_the_filter_is_registered_under_its_file_name():
    assert list(FilterModule().filters()) == ["ami_distribute_plan"]


def test_inputs_come_back_as_plain_types():
    got = ami_distribute_plan({"source_image_id": TaggedStr(SRC), "source_region": "us-east-1", "share_source": "no"}, "inputs")
    assert got["source_image_id"].__class__ is str  # not a subclass (a tagged string)
    assert got["source_image_id"] == SRC and got["share_source"] is False


def test_a_refused_input_is_a_filter_error_naming_the_role():
    with pytest.raises(AnsibleFilterError) as e:
        ami_distribute_plan({"source_image_id": "ami-x", "source_region": "us-east-1"}, "inputs")
    assert str(e.value).startswith("orgshare.aws.ami_distribute: ami_distribute_source_image_id:")


def test_an_unknown_stage_is_refused():
    with pytest.raises(AnsibleFilterError) as e:
        ami_distribute_plan({}, "launch")
    assert "unknown stage 'launch'" in str(e.value)


def test_skipped_results_count_as_not_run():
    inputs = ami_distribute_plan({"source_image_id": SRC, "source_region": "us-east-1", "regions": ["us-west-2"]}, "inputs")
    skipped = {"skipped": True, "skipped_reason": "Conditional result was False", "changed": False}
    # no copy check ran: the source is the only AMI to check
    assert ami_distribute_plan(inputs, "share_check_targets", copy_check=skipped) == [{"image_id": SRC, "region": "us-east-1"}]


def test_the_filter_imports_no_aws_sdk():
    # Every task of the role that plans runs the filter in a fresh worker process on the controller,
    # which imports it again: importing boto3 there cost about half a second per task
    import os
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from ansible_collections.orgshare.aws.plugins.filter import ami_distribute_plan\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore', 's3transfer')}))\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
