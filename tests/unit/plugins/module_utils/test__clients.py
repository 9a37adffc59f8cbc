"""_clients: every client of a module from one boto3 session, with amazon.aws's connection options,
checked against the emulator (which region and credentials each call reached, what retries)."""

import contextlib
import io
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import botocore.exceptions
import pytest
from orgshare_emulator.fixtures import create_key, make_image

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.orgshare.aws.plugins.module_utils import _clients

REGIONS = ["eu-west-1", "us-east-1"]


@contextlib.contextmanager
def _module_args(args):
    try:
        from ansible.module_utils.testing import patch_module_args  # ansible-core >= 2.19
    except ImportError:
        patch_module_args = None
    if patch_module_args is not None:
        with patch_module_args(args):
            yield
        return
    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes

    basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    try:
        yield
    finally:
        basic._ANSIBLE_ARGS = None


def aws_module(args):
    with _module_args(args):
        return AnsibleAWSModule(argument_spec={})


def failure(func, *args, **kwargs):
    """The result a module prints when ``func`` makes it fail."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        func(*args, **kwargs)
    text = out.getvalue().strip()
    return json.loads(text[text.rfind("\n{") + 1:])


def image_ids(client):
    return sorted(i["ImageId"] for i in client.describe_images(Owners=["self"])["Images"])


def test_clients_for_reaches_each_region_with_the_module_credentials(aws):
    made = {r: make_image(aws.client("ec2", r), "img-" + r) for r in REGIONS}
    aws.emulator.clear_calls()
    module = aws_module(aws.module_args("us-east-1"))

    clients = _clients.clients_for(module, "ec2", REGIONS)

    assert sorted(clients) == REGIONS
    assert {r: image_ids(c) for r, c in clients.items()} == {r: [made[r]] for r in REGIONS}
    calls = [(c["region"], c["access_key"]) for c in aws.emulator.calls]
    assert sorted(calls) == [(r, aws.module_args()["access_key"]) for r in REGIONS]


def test_clients_of_one_service_share_a_class_and_still_reach_their_own_region(aws):
    made = {r: make_image(aws.client("ec2", r), "img-" + r) for r in REGIONS}
    factory = _clients.client_factory(aws_module(aws.module_args("us-east-1")))
    ec2 = factory.clients("ec2", REGIONS)
    kms = factory.client("kms")
    other = _clients.client_factory(aws_module(aws.module_args("us-east-1"))).client("ec2", REGIONS[0])
    aws.emulator.clear_calls()

    assert type(ec2[REGIONS[0]]) is type(ec2[REGIONS[1]])
    assert type(kms) is not type(ec2[REGIONS[0]])
    assert type(other) is not type(ec2[REGIONS[0]])  # another session: its own class
    assert {r: c.meta.region_name for r, c in ec2.items()} == {r: r for r in REGIONS}
    for region, client in ec2.items():
        pages = client.get_paginator("describe_images").paginate(Owners=["self"])
        assert [i["ImageId"] for page in pages for i in page["Images"]] == [made[region]]
    assert sorted(c["region"] for c in aws.emulator.calls) == sorted(REGIONS)


def test_paginating_in_many_threads_at_once_does_not_rescan_botocore_data(aws, monkeypatch, private_botocore_loader):
    # botocore's loader cache has no lock: without the factory loading the paginator model first, the
    # first get_paginator of each thread scans every service directory (listdir of each) at once
    regions = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-central-1", "ap-south-1"]
    clients = _clients.client_factory(aws_module(aws.module_args("us-east-1"))).clients("ec2", regions)
    listed = []
    real_listdir = os.listdir
    monkeypatch.setattr(os, "listdir", lambda *a, **k: listed.append(a) or real_listdir(*a, **k))
    start = threading.Barrier(len(regions))

    def images(client):
        start.wait()
        return list(client.get_paginator("describe_images").paginate(Owners=["self"]).build_full_result()["Images"])

    with ThreadPoolExecutor(len(regions)) as pool:
        assert list(pool.map(images, clients.values())) == [[]] * len(regions)
    assert listed == []


def test_factory_default_region_is_the_module_region_and_services_share_the_factory(aws):
    make_image(aws.client("ec2", "eu-west-1"), "img")
    aws.emulator.clear_calls()
    factory = _clients.client_factory(aws_module(aws.module_args("eu-west-1")))

    assert len(image_ids(factory.client("ec2"))) == 1
    factory.client("kms").list_keys()
    assert [(c["service"], c["region"]) for c in aws.emulator.calls] == [("ec2", "eu-west-1"), ("kms", "eu-west-1")]


def test_retry_decorator_wraps_like_module_client(aws):
    # botocore's own retries off, so that only the decorator retries
    args = dict(aws.module_args(), aws_config={"retries": {"total_max_attempts": 1}})
    factory = _clients.client_factory(aws_module(args))
    plain = factory.client("ec2")
    wrapped = factory.client("ec2", retry_decorator=AWSRetry.jittered_backoff(retries=3, delay=0.1))

    aws.emulator.inject_faults(schedule={"DescribeImages": ["throttle"]})
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        plain.describe_images(Owners=["self"])
    assert exc.value.response["Error"]["Code"] == "RequestLimitExceeded"

    aws.emulator.inject_faults(schedule={"DescribeImages": ["throttle"]})
    with pytest.raises(botocore.exceptions.ClientError):
        wrapped.describe_images(Owners=["self"])  # like module.client(): retries only with aws_retry=True

    aws.emulator.inject_faults(schedule={"DescribeImages": ["throttle"]})
    assert wrapped.describe_images(Owners=["self"], aws_retry=True)["Images"] == []
    assert [c["error"] for c in aws.emulator.calls][-2:] == ["RequestLimitExceeded", None]


def test_config_layers_user_agent_then_caller_config_then_aws_config(aws):
    args = dict(aws.module_args(), aws_config={"read_timeout": 7, "max_pool_connections": 5})
    factory = _clients.client_factory(aws_module(args), config={"max_pool_connections": 16, "user_agent_extra": "orgshare.aws/test"})
    config = factory.client("ec2").meta.config

    assert config.user_agent.startswith("APN/1.0 Ansible/")
    assert config.user_agent_extra == "orgshare.aws/test"
    assert config.read_timeout == 7
    assert config.max_pool_connections == 5  # the module's aws_config wins, as in amazon.aws


def test_unknown_profile_fails_like_module_client(aws, tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    args = dict(aws.module_args(), access_key=None, secret_key=None, profile="orgshare-no-such-profile")
    with _module_args(args):  # fail_json needs the module's arguments still in place
        module = AnsibleAWSModule(argument_spec={})
        result = failure(_clients.clients_for, module, "ec2", REGIONS)

    assert result["failed"] is True
    assert result["msg"].startswith("Couldn't connect to AWS") and "orgshare-no-such-profile" in result["msg"]
    assert aws.emulator.calls == []


def test_no_region_fails_with_amazon_aws_message(aws, tmp_path, monkeypatch):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    args = dict(aws.module_args(), region=None)
    with _module_args(args):
        factory = _clients.client_factory(AnsibleAWSModule(argument_spec={}))
        result = failure(factory.client, "ec2")

    assert "requires a region and none was found" in result["msg"]
    assert aws.emulator.calls == []


@pytest.mark.parametrize(
    "name, args",
    [
        ("kms_org_grant", lambda w: {"key_id": w["key"], "account_ids": ["111122223333"]}),
        ("ami_org_share", lambda w: {"image_id": w["image"], "account_ids": ["111122223333"]}),
        ("ami_share_info", lambda w: {"image_ids": [w["image"]]}),
        ("ami_copy", lambda w: {"source_image_id": w["image"], "source_region": "us-east-1",
                                "regions": [{"region": "eu-west-1", "kms_key_id": w["eu_key"]}]}),
    ],
)
def test_every_call_of_a_module_names_it_in_the_user_agent(aws, run_module, name, args):
    key = create_key(aws.client("kms", "us-east-1"))
    world = {
        "key": key,
        "eu_key": create_key(aws.client("kms", "eu-west-1")),
        "image": make_image(aws.client("ec2", "us-east-1"), "img", volumes=[{"device_name": "/dev/xvda", "size": 8, "kms_key_id": key}]),
    }
    aws.emulator.clear_calls()
    result = run_module(name, args(world), check_mode=True)
    assert not result.failed, result.msg
    agents = [c["agent"] for c in aws.emulator.calls]
    assert agents and set(agents) == {name}
    # calls made without the collection carry no such name
    aws.emulator.clear_calls()
    aws.client("ec2", "us-east-1").describe_images(Owners=["self"])
    assert [c["agent"] for c in aws.emulator.calls] == [None]
