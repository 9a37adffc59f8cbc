"""The server mode driven by the real AWS CLI: `python -m orgshare_emulator serve --port 0 --url-file F`."""

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AWS_CLI = os.path.join(os.path.dirname(sys.executable), "aws")


@pytest.fixture
def server(tmp_path):
    url_file = tmp_path / "emulator.url"
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "emulator"))
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "orgshare_emulator", "serve", "--port", "0", "--url-file", str(url_file), "--seed", "--seed-regions", "us-east-1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        while not url_file.exists():
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() - start < 30, "server did not start"
            time.sleep(0.02)
        url = url_file.read_text().strip()
        yield {"url": url, "proc": proc, "url_file": url_file, "ready_after": time.monotonic() - start, "start": start}
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
    # Ready (answering) quickly; the seed file is written before the URL file.
    t0 = time.monotonic()
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
    assert time.monotonic() - t0 < 60


def _cpu_seconds(pid):
    """User + system CPU time of a process (Linux /proc), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def test_server_is_ready_in_under_two_seconds(tmp_path):
    url_file = tmp_path / "u"
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "emulator"))
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "orgshare_emulator", "serve", "--port", "0", "--url-file", str(url_file)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        ready = cpu = None
        while time.monotonic() - start < 30:
            assert proc.poll() is None, proc.stderr.read()
            if url_file.exists():
                url = url_file.read_text().strip()
                req = urllib.request.Request(url + "/_orgshare/health", data=b"{}", method="POST")
                with urllib.request.urlopen(req, timeout=5) as r:
                    assert json.loads(r.read()) == {"ok": True}
                ready = time.monotonic() - start
                cpu = _cpu_seconds(proc.pid)
                break
            time.sleep(0.01)
        assert ready is not None, "not ready after 30 s"
        # The 2 s budget is wall-clock on an idle machine. On a shared, loaded machine the wall
        # clock stretches by the load factor, so the budget does too; the CPU the server used
        # must stay under 2 s regardless.
        load = os.getloadavg()[0] / (os.cpu_count() or 1)
        assert ready < 2.0 * max(1.0, load), (ready, load)
        if cpu is not None:
            assert cpu < 2.0, cpu
    finally:
        proc.terminate()
        proc.wait(10)


def test_credentials_control_endpoint_gives_a_second_account(server):
    creds = _post(server, "credentials", {"account_id": "111122223333"})
    out = _aws(server, "sts", "get-caller-identity", access_key=creds["access_key"], secret_key=creds["secret_key"])
    assert json.loads(out.stdout)["Account"] == "111122223333"
