"""Shared helpers for the emulator tests."""

import boto3
import botocore.config
import botocore.exceptions
import pytest

# Any access key moto does not know maps to the default account 123456789012 (the caller's own).
ACCESS_KEY = "AKIAORGSHARETESTING1"
SECRET_KEY = "orgshare-testing-secret"


def raw_client(aws, service, region=None, access_key=None, secret_key=None):
    """A client that does not retry, so error answers are seen as they are."""
    return boto3.client(
        service,
        region_name=region or aws.region,
        endpoint_url=aws.endpoint_url,
        aws_access_key_id=access_key or ACCESS_KEY,
        aws_secret_access_key=secret_key or SECRET_KEY,
        config=botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def error_of(call, *args, **kwargs):
    """The (Code, Message) of the ClientError a call raises."""
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        call(*args, **kwargs)
    err = exc.value.response["Error"]
    return err["Code"], err.get("Message", "")
