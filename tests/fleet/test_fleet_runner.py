"""The playbook orgshare.aws.distribute_fleet run as AWX runs a job: through ansible-runner, with a
private data dir (env/envvars holding the AWS credential's variables, inventory/, project/), forks 8,
against the emulator with copies pending for a second.

4 encrypted images (ORGSHARE_FLEET_IMAGES), each copied into two more regions (present and shared in 3
regions); two keys per region, each shared by half of the images, which grant different OUs concurrently; one image listed twice
in the inventory (two hosts, one image). Checked through boto3: one copy per image and region, under
the right key; every AMI shared with exactly its OU; every key's policy granting the union of the
OUs of its images (no grant lost to a concurrent writer). Checked in the runner's result: status, rc,
stats, events, artifacts. Then a re-run: nothing changes and nothing is written."""

import json
import os

import pytest

from orgshare_emulator.fixtures import image_keys

from fleet_env import build_fleet, host_results, job_envvars, run_job, write_private_data_dir

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

# Each image costs some 10 module runs (~1.5 s of CPU each) per run, so on 2 cores the test takes minutes.
# 4 images (the least that still has several writers per key) and their twin host with forks 8: every
# image's tasks run at once, two writers per key and per region, the twin hosts of one image side by side
# (eight concurrent writers on one key: tests/unit/plugins/modules/test_kms_org_grant_concurrency.py).
# ORGSHARE_FLEET_IMAGES sets another size (8: four writers per key; 20, the benchmark's, for a long run);
# the benchmark (bench/run.py, fleet section) measures the 20-image job.
IMAGES = int(os.environ.get("ORGSHARE_FLEET_IMAGES", "4"))
FORKS = 8
COPY_ACTION = "orgshare.aws.ami_copy"
RESULT_ACTION = "ansible.builtin.debug"  # the playbook's last task shows ami_distribute_result


@pytest.fixture
def pending_copies(aws):
    aws.emulator.set_copy_pending_seconds(1)
    yield 1
    aws.emulator.set_copy_pending_seconds(0)


def _org_path(org, org_id, ou_arn):
    """The organization path of an OU ("o-x/r-y/ou-a/ou-b/"), from the OU up to the root."""
    ou_id = ou_arn.rsplit("/", 1)[1]
    parts = [ou_id]
    child = ou_id
    while True:
        parent = org.list_parents(ChildId=child)["Parents"][0]
        parts.append(parent["Id"])
        if parent["Type"] == "ROOT":
            break
        child = parent["Id"]
    return "/".join([org_id] + parts[::-1]) + "/"


def _launch_permissions(ec2, image_id):
    perms = ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"]
    return sorted(p.get("OrganizationalUnitArn") or p.get("OrganizationArn") or p.get("UserId") or p.get("Group") for p in perms)


def _org_paths_granted(kms, key_arn, sid):
    policy = json.loads(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"])
    statements = [s for s in policy["Statement"] if s.get("Sid") == sid]
    assert len(statements) == 1, policy
    return sorted(statements[0]["Condition"]["ForAnyValue:StringLike"]["aws:PrincipalOrgPaths"])


def _failures(stdout):
    """The failed and ignored task results of a job's stdout (with the task each belongs to), for the message."""
    lines = stdout.splitlines()
    picked = []
    for n, line in enumerate(lines):
        if line.startswith(("fatal:", "failed:")) or "...ignoring" in line:
            task = next((lines[k] for k in range(n, -1, -1) if lines[k].startswith("TASK [")), "")
            picked.append(task + "\n" + line[:3000])
    return "\n".join(picked) + "\n----\n"


def test_fleet_through_ansible_runner(aws, pending_copies, tmp_path):
    fleet = build_fleet(aws.client, images=IMAGES)
    hosts = [h["host"] for h in fleet["hosts"]]
    assert len(hosts) == IMAGES + 1  # one image is listed twice
    env = job_envvars(aws.endpoint_url, "AKIAORGSHARETESTING1", "orgshare-testing-secret", session_token="orgshare-session-token")
    pdd = write_private_data_dir(str(tmp_path / "job"), fleet, env)

    # ---- first run: everything is copied, granted and shared ---------------------------------
    first = run_job(pdd, forks=FORKS, ident="1")
    stdout = open(os.path.join(pdd, "artifacts", "1", "stdout")).read()
    assert (first.status, first.rc) == ("successful", 0), _failures(stdout) + stdout[-3000:]
    assert first.stats["failures"] == {} and first.stats["dark"] == {}
    assert sorted(first.stats["ok"]) == sorted(hosts)
    # Every image changed something; the alias of an image may find everything done by its twin
    assert set(hosts) - set(first.stats["changed"]) <= {fleet["hosts"][1]["host"], fleet["hosts"][0]["host"]}

    # The artifacts AWX keeps: rc, status, stdout, the job events
    artifacts = os.path.join(pdd, "artifacts", "1")
    assert open(os.path.join(artifacts, "rc")).read().strip() == "0"
    assert open(os.path.join(artifacts, "status")).read().strip() == "successful"
    assert len(os.listdir(os.path.join(artifacts, "job_events"))) == len(list(first.events))
    kinds = [e["event"] for e in first.events]
    assert kinds[0] == "playbook_on_start" and "playbook_on_stats" in kinds
    # Each image went through the copy task as its own host, with forks set from the job
    assert sorted(host_results(first, COPY_ACTION)) == sorted(hosts)
    start = next(e for e in first.events if e["event"] == "playbook_on_start")
    assert start["event_data"]["playbook"] == "fleet.yml"

    results = {h: res["ami_distribute_result"] for h, res in host_results(first, RESULT_ACTION).items()}
    assert sorted(results) == sorted(hosts)

    # ---- the AWS state, through boto3 ---------------------------------------------------------
    source_ec2 = aws.client("ec2", fleet["source_region"])
    for image in fleet["images"]:
        assert _launch_permissions(source_ec2, image["image_id"]) == [image["ou_arn"]]
        reported = results[image["host"]]
        assert sorted(reported) == sorted([fleet["source_region"]] + fleet["copy_regions"])
        for region in fleet["copy_regions"]:
            ec2 = aws.client("ec2", region)
            copies = ec2.describe_images(
                Owners=["self"], Filters=[{"Name": "source-image-id", "Values": [image["image_id"]]}]
            )["Images"]
            assert len(copies) == 1, (image["host"], region, copies)
            copy = copies[0]
            assert copy["State"] == "available"
            assert reported[region]["image_id"] == copy["ImageId"]
            assert set(image_keys(ec2, copy["ImageId"]).values()) == {fleet["keys"][region][image["key_index"]]}
            assert _launch_permissions(ec2, copy["ImageId"]) == [image["ou_arn"]]
    # The twin hosts of one image report the very same copies
    twin, alias = fleet["hosts"][0]["host"], fleet["hosts"][1]["host"]
    assert {r: v["image_id"] for r, v in results[twin].items()} == {r: v["image_id"] for r, v in results[alias].items()}
    # Nothing else was copied anywhere
    for region in fleet["copy_regions"]:
        assert len(aws.client("ec2", region).describe_images(Owners=["self"])["Images"]) == IMAGES

    # Every key grants exactly the OUs of the images under it: no concurrent writer lost a grant
    org = aws.client("organizations")
    paths = {arn: _org_path(org, fleet["org_id"], arn) for arn in fleet["ou_arns"]}
    for region, keys in fleet["keys"].items():
        kms = aws.client("kms", region)
        for k, key_arn in enumerate(keys):
            wanted = sorted({paths[i["ou_arn"]] + "*" for i in fleet["images"] if i["key_index"] == k})
            assert len(wanted) > 1  # several writers, each adding its own OU
            for sid in ("OrgShareUse-", "OrgShareGrants-"):
                assert _org_paths_granted(kms, key_arn, sid + fleet["org_id"]) == wanted, (region, key_arn, sid)

    # ---- re-run: no change, no write ----------------------------------------------------------
    aws.emulator.clear_calls()
    second = run_job(pdd, forks=FORKS, ident="2")
    assert (second.status, second.rc) == ("successful", 0)
    assert second.stats["failures"] == {} and second.stats["changed"] == {}
    assert sorted(second.stats["ok"]) == sorted(hosts)
    assert aws.write_calls() == []
    assert not any(e["event"] == "runner_on_ok" and e["event_data"]["res"].get("changed") for e in second.events)
