"""A credentials or connection error says so, in every module: never "not found", never an empty answer."""

import socket

import pytest

from orgshare_emulator.fixtures import create_key, make_image

CASES = [
    ("ami_org_share", lambda image, key: {"image_id": image, "account_ids": ["111122223333"]}),
    ("ami_copy", lambda image, key: {"source_image_id": image, "source_region": "us-east-1", "regions": [{"region": "us-west-2"}]}),
    ("kms_org_grant", lambda image, key: {"key_id": key, "organization": "o-abc1234567"}),
    ("ami_share_info", lambda image, key: {"image_ids": [image]}),
]


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
                 "AWS_SECURITY_TOKEN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "missing-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "missing-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def world(aws):
    return make_image(aws.client("ec2"), "conn"), create_key(aws.client("kms"))


@pytest.mark.parametrize("name,args", CASES, ids=[c[0] for c in CASES])
def test_missing_credentials_say_so(aws, run_module, no_credentials, name, args):
    image, key = world(aws)
    full = dict(args(image, key), endpoint_url=aws.endpoint_url, region="us-east-1", access_key=None, secret_key=None)
    aws.emulator.clear_calls()
    result = run_module(name, full)
    assert result.failed
    assert "Unable to locate credentials" in result.msg, result.msg
    assert "not found" not in result.msg.lower()
    assert aws.emulator.calls == []


@pytest.mark.parametrize("name,args", CASES, ids=[c[0] for c in CASES])
def test_unreachable_endpoint_says_so(aws, run_module, name, args):
    image, key = world(aws)
    url = "http://127.0.0.1:%d" % closed_port()
    result = run_module(name, dict(args(image, key), endpoint_url=url))
    assert result.failed
    assert "Could not connect to the endpoint URL" in result.msg and url in result.msg, result.msg
    assert "not found" not in result.msg.lower()
