"""A fleet of AMIs on the emulator and an AWX-style ansible-runner job that distributes it.

Used by tests/fleet/test_fleet_runner.py and bench/fleet_forks.py.

The fleet: an organization with OUs; in every region a few customer managed keys, each shared by
several images; ``images`` encrypted AMIs in the source region, image ``i`` under key ``i % keys``
and shared with OU ``i % ous``. The job: an ansible-runner private data dir laid out as AWX lays it
out (``env/envvars`` with the AWS credential's variables, ``env/extravars``, ``inventory/``,
``project/`` with a playbook that imports ``orgshare.aws.distribute_fleet``).
"""

from __future__ import annotations

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# tests/conftest.py links the working tree there as orgshare/aws, next to amazon.aws and community.aws.
# ORGSHARE_COLLECTIONS_PATH points the job at another collections dir (e.g. an installed build).
TEST_COLLECTIONS = os.environ.get("ORGSHARE_COLLECTIONS_PATH") or os.path.join(ROOT, ".cache", "test-collections")
SOURCE_REGION = "us-east-1"
COPY_REGIONS = ("us-west-2", "eu-west-1")

# What a project in AWX holds: a playbook file (job templates pick a file of the project), which
# imports the collection's playbook.
PROJECT_PLAYBOOK = """---
- name: Distribute the fleet
  ansible.builtin.import_playbook: orgshare.aws.distribute_fleet
"""


def build_fleet(client, images=20, keys_per_region=2, ous=3, source_region=SOURCE_REGION, copy_regions=COPY_REGIONS, alias_of=0):
    """Create the organization, keys and source AMIs through ``client(service, region)``.

    Returns a dict: org_id, org_arn, ou_arns, keys ({region: [key ARN, ...]}), images (list of
    {host, image_id, key_index, ou_arn, name}) and hosts (the inventory hosts: every image, plus,
    when ``alias_of`` is not None, a second host for that image, listed right after it)."""
    from orgshare_emulator.fixtures import create_key, make_image

    org = client("organizations", source_region)
    org.create_organization(FeatureSet="ALL")
    o = org.describe_organization()["Organization"]
    root = org.list_roots()["Roots"][0]["Id"]
    parent = org.create_organizational_unit(ParentId=root, Name="Workloads")["OrganizationalUnit"]["Id"]
    ou_arns = [org.create_organizational_unit(ParentId=parent, Name="team-%d" % n)["OrganizationalUnit"]["Arn"] for n in range(ous)]

    regions = [source_region] + list(copy_regions)
    keys = {r: [create_key(client("kms", r), description="fleet key %d %s" % (k, r)) for k in range(keys_per_region)] for r in regions}

    ec2 = client("ec2", source_region)
    fleet_images = []
    for i in range(images):
        key_index = i % keys_per_region
        name = "fleet-%02d" % i
        image_id = make_image(
            ec2,
            name,
            volumes=[{"device_name": "/dev/xvda", "size": 8, "encrypted": True, "kms_key_id": keys[source_region][key_index]}],
            tags={"fleet": "yes"},
        )
        fleet_images.append({"host": name, "image_id": image_id, "key_index": key_index, "ou_arn": ou_arns[i % ous], "name": name})

    hosts = []
    for i, image in enumerate(fleet_images):
        hosts.append(image)
        if alias_of == i:
            hosts.append(dict(image, host=image["host"] + "-again"))
    return {
        "org_id": o["Id"],
        "org_arn": o["Arn"],
        "ou_arns": ou_arns,
        "keys": keys,
        "images": fleet_images,
        "hosts": hosts,
        "source_region": source_region,
        "copy_regions": list(copy_regions),
    }


def inventory(fleet):
    """The YAML inventory (as a dict) of the fleet, shaped like examples/fleet-inventory.yml:
    the shared settings as group vars, the image, its key and its OU as host vars."""
    hosts = {}
    for h in fleet["hosts"]:
        k = h["key_index"]
        hosts[h["host"]] = {
            "ami_distribute_source_image_id": h["image_id"],
            "ami_distribute_regions": [{"region": r, "kms_key_id": fleet["keys"][r][k]} for r in fleet["copy_regions"]],
            "ami_distribute_organizational_unit_arns": [h["ou_arn"]],
        }
    return {
        "all": {
            "children": {
                "fleet": {
                    "vars": {"ami_distribute_source_region": fleet["source_region"]},
                    "hosts": hosts,
                }
            }
        }
    }


def write_private_data_dir(path, fleet, envvars, extravars=None):
    """Lay out an ansible-runner private data dir as AWX does for a job; return its path."""
    for d in ("env", "inventory", "project"):
        os.makedirs(os.path.join(path, d), exist_ok=True)
    # JSON is YAML: runner and Ansible's YAML inventory plugin read these files as YAML.
    with open(os.path.join(path, "env", "envvars"), "w") as f:
        json.dump(envvars, f, indent=2, sort_keys=True)
    with open(os.path.join(path, "env", "extravars"), "w") as f:
        json.dump(extravars or {}, f, indent=2, sort_keys=True)
    with open(os.path.join(path, "inventory", "hosts.yml"), "w") as f:
        json.dump(inventory(fleet), f, indent=2)
    with open(os.path.join(path, "project", "fleet.yml"), "w") as f:
        f.write(PROJECT_PLAYBOOK)
    return path


def job_envvars(endpoint_url, access_key, secret_key, session_token=None, extra=None):
    """What the job's environment holds: the variables AWX's AWS credential type injects, the
    emulator's endpoint (AWS_URL, read by amazon.aws-based modules), and where the collections are."""
    env = {
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret_key,
        "AWS_URL": endpoint_url,
        "ANSIBLE_COLLECTIONS_PATH": TEST_COLLECTIONS,
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_HOST_KEY_CHECKING": "false",
        "ANSIBLE_NOCOLOR": "1",
    }
    if session_token:
        env["AWS_SESSION_TOKEN"] = session_token
    env.update(extra or {})
    return env


def run_job(private_data_dir, forks, ident, timeout=900):
    """Run the project's playbook with ansible-runner, as an AWX job does. Returns the Runner."""
    import ansible_runner

    clean = {k: None for k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL")}
    saved = {k: os.environ.pop(k) for k in clean if k in os.environ}
    try:
        return ansible_runner.run(
            private_data_dir=str(private_data_dir),
            playbook="fleet.yml",
            forks=forks,
            ident=ident,
            quiet=True,
            timeout=timeout,
            # The ansible-playbook next to the Python that runs this (AWX: the execution environment's)
            envvars={"PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")},
        )
    finally:
        os.environ.update(saved)


def host_results(runner, action):
    """{host: event_data.res} of the runner_on_ok events of the tasks that ran module ``action``."""
    out = {}
    for ev in runner.events:
        data = ev.get("event_data") or {}
        if ev.get("event") == "runner_on_ok" and data.get("task_action") == action:
            out[data["host"]] = data.get("res") or {}
    return out
