"""The server mode driven by the real AWS CLI: `python -m orgshare_emulator serve --port 0 --url-file F`."""

import json
import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AWS_CLI = os.path.join(os.path.dirname(sys.executable), "aws")


HANG_GUARD = 60  # seconds: only stops a test that would otherwise hang; no test asserts how fast anything is


def wait_for_file(path, proc):
    """Wait until ``path`` exists, failing at once if the server process ends first."""
    deadline = time.monotonic() + HANG_GUARD
    while not path.exists():
        assert proc.poll() is None, proc.stderr.read()
        if time.monotonic() > deadline:
            pytest.fail("hang guard: %s did not appear in %d s" % (path, HANG_GUARD))
        time.sleep(0.02)


@pytest.fixture
def server(tmp_path):
    url_file = tmp_path / "emulator.url"
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "emulator"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "orgshare_emulator", "serve", "--port", "0", "--url-file", str(url_file), "--seed", "--seed-regions", "us-east-1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_for_file(url_file, proc)
        url = url_file.read_text().strip()
        yield {"url": url, "proc": proc, "url_file": url_file}
    finally:
        proc.terminate()
        proc.wait(10)


def _aws(server, *args, access_key="AKIAORGSHARETESTING1", secret_key="orgshare-testing-secret"):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=access_key, AWS_SECRET_ACCESS_KEY=secret_key, AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    env.pop("AWS_PROFILE", None)
    out = subprocess.run([AWS_CLI, "--endpoint-url", server["url"], "--output", "json", *args],
                         env=env, capture_output=True, text=True, timeout=120, check=False)
    return out


def _post(server, path, payload=None):
    req = urllib.request.Request(server["url"] + "/_orgshare/" + path, data=json.dumps(payload or {}).encode(), method="POST")
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def test_server_starts_and_serves_the_aws_cli(server, tmp_path):
    # Answering once the URL file is there; the seed file is written before the URL file.
    assert _post(server, "health") == {"ok": True}
    seed = json.loads((tmp_path / "emulator.url.seed.json").read_text())
    image_id = seed["images"]["encrypted"]

    out = _aws(server, "ec2", "describe-images", "--owners", "self")
    assert out.returncode == 0, out.stderr
    images = {i["ImageId"]: i for i in json.loads(out.stdout)["Images"]}
    assert set(images) == set(seed["images"].values())
    assert [m["Ebs"]["Encrypted"] for m in images[image_id]["BlockDeviceMappings"]] == [True, True]

    org = seed["organization"]["arn"]
    out = _aws(server, "ec2", "modify-image-attribute", "--image-id", image_id, "--launch-permission", json.dumps({"Add": [{"OrganizationArn": org}]}))
    assert out.returncode == 0, out.stderr
    out = _aws(server, "ec2", "describe-image-attribute", "--image-id", image_id, "--attribute", "launchPermission")
    assert json.loads(out.stdout)["LaunchPermissions"] == [{"OrganizationArn": org}]

    out = _aws(server, "ec2", "modify-image-attribute", "--image-id", image_id,
               "--launch-permission", json.dumps({"Add": [{"OrganizationArn": "o-abcdef1234"}]}))
    assert out.returncode != 0 and "InvalidAMIAttributeItemValue" in out.stderr

    out = _aws(server, "ec2", "reset-image-attribute", "--image-id", image_id, "--attribute", "launchPermission")
    assert out.returncode == 0, out.stderr

    out = _aws(server, "kms", "describe-key", "--key-id", "alias/aws/ebs")
    assert json.loads(out.stdout)["KeyMetadata"]["KeyManager"] == "AWS"

    calls = _post(server, "calls")["calls"]
    assert [c["action"] for c in calls] == [
        "DescribeImages", "ModifyImageAttribute", "DescribeImageAttribute", "ModifyImageAttribute", "ResetImageAttribute", "DescribeKey",
    ]


def test_server_answers_as_soon_as_its_url_file_is_there(tmp_path):
    """The URL file is the readiness signal: it appears only once the server listens, so the first
    request after it (no retry) is answered. How long the start takes is not asserted."""
    url_file = tmp_path / "u"
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "emulator"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "orgshare_emulator", "serve", "--port", "0", "--url-file", str(url_file)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_for_file(url_file, proc)
        url = url_file.read_text().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:[1-9][0-9]*", url), url
        req = urllib.request.Request(url + "/_orgshare/health", data=b"{}", method="POST")
        with urllib.request.urlopen(req, timeout=HANG_GUARD) as r:
            assert json.loads(r.read()) == {"ok": True}
        assert not (tmp_path / "u.seed.json").exists()  # no --seed: no seed data
        assert [p.name for p in tmp_path.iterdir()] == ["u"]  # the temporary file was renamed into place
        # the server also prints its URL on stdout
        assert proc.stdout.readline().strip() == url
    finally:
        proc.terminate()
        proc.wait(10)


def test_credentials_control_endpoint_gives_a_second_account(server):
    creds = _post(server, "credentials", {"account_id": "111122223333"})
    out = _aws(server, "sts", "get-caller-identity", access_key=creds["access_key"], secret_key=creds["secret_key"])
    assert json.loads(out.stdout)["Account"] == "111122223333"
