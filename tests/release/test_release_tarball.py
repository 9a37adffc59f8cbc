"""The release tarball as a user gets it: ``scripts/release.sh`` (``make release``) builds it from a throwaway
clone (``RELEASE_REPO``) that has untracked files in it; it carries only what runs from an installed copy; ``ansible-galaxy
collection install`` installs it (offline, no dependencies: amazon.aws is the bootstrap's); and each module and
the role then run from the installed copy, the only orgshare.aws on the collections path, against the emulator.

The clone is the repository's last commit plus the working tree's changes to tracked files (committed in the
clone), so the test checks what would be released if the working tree were committed. AWS state is read back
with boto3."""

import json
import os
import shutil
import subprocess
import sys
import tarfile

import pytest

from collections_tree import BOOTSTRAP_COLLECTIONS
from orgshare_emulator.fixtures import create_key, make_image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
VENV = os.path.dirname(BIN)
SOURCE = "us-east-1"
COPY_REGION = "us-west-2"  # the modules' copy
ROLE_REGION = "eu-west-1"  # the role's copy
# Files and folders of the source tree that must not be in the tarball
NOT_SHIPPED = ("tests/", "bench/", "emulator/", "scripts/", ".ci/", "execution-environment/", "changelogs/fragments/",
               "Makefile", "pytest.ini", "galaxy.yml", "requirements-bench.txt", "requirements-dev.txt",
               "requirements-test.txt", "docs/emulator.md", "docs/performance.md", "docs/performance.png",
               "docs/DEVELOPING.md", ".gitignore", ".ansible-lint")
UNTRACKED = ("untracked-probe.txt", "docs/untracked-probe.md", "plugins/modules/untracked_probe.py",
             "roles/ami_distribute/tasks/untracked_probe.yml", "playbooks/untracked_probe.yml")


def _run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False, **kw)
    assert proc.returncode == 0, "%s\n%s\n%s" % (cmd, proc.stdout[-4000:], proc.stderr[-4000:])
    return proc


def _git(*args, cwd=ROOT):
    return _run(["git", *args], cwd=cwd).stdout


def _clone_with_working_tree(dest):
    """A clone of the repository whose HEAD also has the working tree's changes to tracked files."""
    _git("clone", "-q", ROOT, str(dest))
    changed = [f for f in _git("ls-files", "-m", "-z").split("\0") if f]
    for f in changed:
        src, dst = os.path.join(ROOT, f), os.path.join(str(dest), f)
        if os.path.lexists(src):
            shutil.copy2(src, dst)
        elif os.path.lexists(dst):
            os.unlink(dst)
    if changed:
        _git("-c", "user.name=test", "-c", "user.email=test@example.invalid", "commit", "-q", "-a",
             "-m", "the working tree", cwd=str(dest))


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """(tarball path, member names): built by scripts/release.sh from a clone with untracked files."""
    base = tmp_path_factory.mktemp("release")
    clone = base / "repo"
    _clone_with_working_tree(clone)
    for f in UNTRACKED:
        path = clone / f
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# untracked: must not be released\n")
    assert set(UNTRACKED) <= set(_git("ls-files", "-o", "--exclude-standard", cwd=str(clone)).split())
    # The working tree's release script, on the clone
    env = dict(os.environ, RELEASE_REPO=str(clone), RELEASE_COLLECTIONS=os.path.dirname(BOOTSTRAP_COLLECTIONS))
    proc = _run(["bash", os.path.join(ROOT, "scripts", "release.sh"), VENV, str(base / "dist")], cwd=str(clone), env=env)
    with open(clone / "galaxy.yml") as f:
        version = next(line.split(":", 1)[1].strip() for line in f if line.startswith("version:"))
    tarball = base / "dist" / ("orgshare-aws-%s.tar.gz" % version)
    assert proc.stdout.strip().splitlines()[-1] == str(tarball)
    with tarfile.open(tarball) as tar:
        names = [m.name.rstrip("/") for m in tar.getmembers()]
    return tarball, names, version


def test_the_tarball_carries_only_what_runs_from_an_installed_copy(release):
    _tarball, names, version = release
    for name in names:
        assert not any(name == bad.rstrip("/") or name.startswith(bad) for bad in NOT_SHIPPED), name
        assert "__pycache__" not in name and not name.endswith(".pyc"), name
        assert not os.path.basename(name).startswith("."), name  # .plugin-cache.yaml, .gitkeep, ...
    for f in UNTRACKED:
        assert f not in names
    for f in ("MANIFEST.json", "FILES.json", "README.md", "LICENSE", "CHANGELOG.rst", "changelogs/changelog.yaml",
              "requirements.txt", "bindep.txt", "meta/runtime.yml", "meta/execution-environment.yml", "docs/awx.md",
              "plugins/modules/ami_org_share.py", "plugins/modules/kms_org_grant.py", "plugins/modules/ami_copy.py",
              "plugins/modules/ami_share_info.py", "plugins/module_utils/_api.py", "plugins/filter/ami_distribute_plan.py",
              "plugins/filter/ami_distribute_plan.yml", "roles/ami_distribute/tasks/main.yml",
              "roles/ami_distribute/meta/argument_specs.yml", "playbooks/distribute.yml", "playbooks/audit.yml",
              "playbooks/templates/audit_report.md.j2", "examples/fleet-inventory.yml"):
        assert f in names
    # Every committed file under these folders is shipped (no allow-list entry forgotten)
    for folder in ("plugins", "roles", "playbooks", "meta", "examples"):
        for f in _git("ls-files", "-z", folder).split("\0"):
            if f and "__pycache__" not in f:
                assert f in names, f
    top = sorted({n.split("/")[0] for n in names})
    assert top == ["CHANGELOG.rst", "FILES.json", "LICENSE", "MANIFEST.json", "README.md", "bindep.txt", "changelogs",
                   "docs", "examples", "meta", "playbooks", "plugins", "requirements.txt", "roles"]


def test_the_tarball_has_the_release_in_its_changelog(release, tmp_path):
    tarball, _names, version = release
    with tarfile.open(tarball) as tar:
        tar.extractall(tmp_path, members=[tar.getmember(n) for n in ("CHANGELOG.rst", "changelogs/changelog.yaml")],
                       filter="data")
    import yaml

    with open(tmp_path / "changelogs" / "changelog.yaml") as f:
        changes = yaml.safe_load(f)
    assert version in changes["releases"]
    # every module of the release (the committed files of plugins/modules) is announced in it
    committed = subprocess.run(["git", "ls-files", "plugins/modules"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    modules = sorted(os.path.basename(p)[:-3] for p in committed if p.endswith(".py") and not os.path.basename(p).startswith("_"))
    assert "ami_org_share" in modules and "kms_org_grant" in modules
    assert sorted(m["name"] for m in changes["releases"][version]["modules"]) == modules
    assert "v%s\n" % version in (tmp_path / "CHANGELOG.rst").read_text()
    with tarfile.open(tarball) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == ("orgshare", "aws", version)
    assert info["dependencies"] == {"amazon.aws": ">=11.3.0,<12.0.0"}  # scripts/tested-versions.sh
    for url in ("repository", "documentation", "homepage", "issues"):
        assert not info.get(url), url  # no fake addresses


# ---- installed, then run against the emulator --------------------------------------------------------

PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/orgshare.aws.aws:
      region: %(source)s
      endpoint_url: "{{ endpoint }}"
  tasks:
    - name: Copy the first AMI
      orgshare.aws.ami_copy:
        source_image_id: "{{ image_id }}"
        source_region: %(source)s
        regions:
          - region: %(copy)s
            kms_key_id: "{{ keys['%(copy)s'] }}"
        wait_timeout: 120
      register: copied

    - name: Let the organization's OU use the first AMI's key
      orgshare.aws.kms_org_grant:
        key_id: "{{ keys['%(source)s'] }}"
        organization: "{{ org_id }}"
        organizational_units: ["{{ ou_arn }}"]
      register: granted

    - name: Share the first AMI with the OU and an account
      orgshare.aws.ami_org_share:
        image_id: "{{ image_id }}"
        organizational_unit_arns: ["{{ ou_arn }}"]
        account_ids: ["{{ account }}"]
      register: shared

    - name: Who may launch it
      orgshare.aws.ami_share_info:
        image_ids: ["{{ image_id }}"]
        check_keys: true
      register: info

    - name: Distribute the second AMI with the role
      ansible.builtin.include_role:
        name: orgshare.aws.ami_distribute
      vars:
        ami_distribute_source_image_id: "{{ role_image_id }}"
        ami_distribute_source_region: %(source)s
        ami_distribute_regions:
          - region: %(role)s
            kms_key_id: "{{ keys['%(role)s'] }}"
        ami_distribute_organizational_unit_arns: ["{{ ou_arn }}"]
        ami_distribute_aws_endpoint_url: "{{ endpoint }}"
        ami_distribute_wait_timeout: 120

    - name: Keep the results for the test
      ansible.builtin.copy:
        content: "{{ {'copied': copied, 'granted': granted, 'shared': shared, 'info': info} | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
""" % {"source": SOURCE, "copy": COPY_REGION, "role": ROLE_REGION}


def _launch_permissions(aws, region, image_id):
    lp = aws.client("ec2", region).describe_image_attribute(ImageId=image_id, Attribute="launchPermission")
    return sorted(e.get("OrganizationalUnitArn") or e.get("OrganizationArn") or e.get("UserId") or e.get("Group")
                  for e in lp["LaunchPermissions"])


def _copies(aws, region, image_id):
    return [i["ImageId"] for i in aws.client("ec2", region).describe_images(
        Owners=["self"], Filters=[{"Name": "source-image-id", "Values": [image_id]}])["Images"]]


def _sids(aws, key_arn):
    policy = aws.client("kms", key_arn.split(":")[3]).get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]
    return [s.get("Sid") for s in json.loads(policy)["Statement"]]


def test_the_installed_copy_runs_each_module_and_the_role(release, aws, tmp_path):
    tarball, _names, version = release
    # The installed copy and amazon.aws (the bootstrap's, from the ansible wheel), nothing else
    collections = tmp_path / "collections"
    env = aws.env()
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false")
    _run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--offline", "--no-deps",
          "-p", str(collections), str(tarball)], env=env, cwd=str(tmp_path))
    installed = collections / "ansible_collections" / "orgshare" / "aws"
    assert (installed / "plugins" / "modules" / "ami_copy.py").is_file()
    assert not (installed / "tests").exists()
    (collections / "ansible_collections" / "amazon").mkdir()
    os.symlink(os.path.join(BOOTSTRAP_COLLECTIONS, "amazon", "aws"), collections / "ansible_collections" / "amazon" / "aws")
    listed = json.loads(_run([os.path.join(BIN, "ansible-galaxy"), "collection", "list", "--format", "json"],
                             env=env, cwd=str(tmp_path)).stdout)
    found = {path: colls["orgshare.aws"]["version"] for path, colls in listed.items() if "orgshare.aws" in colls}
    assert found == {str(collections / "ansible_collections"): version}
    _run([os.path.join(BIN, "ansible-galaxy"), "collection", "verify", "--offline", "orgshare.aws"], env=env, cwd=str(tmp_path))

    org = aws.client("organizations")
    org.create_organization(FeatureSet="ALL")
    o = org.describe_organization()["Organization"]
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="Workloads")["OrganizationalUnit"]
    account = org.create_account(Email="a@example.com", AccountName="app")["CreateAccountStatus"]["AccountId"]
    keys = {r: create_key(aws.client("kms", r), description="golden " + r) for r in (SOURCE, COPY_REGION, ROLE_REGION)}
    ec2 = aws.client("ec2", SOURCE)
    volume = {"device_name": "/dev/xvda", "size": 8, "encrypted": True, "kms_key_id": keys[SOURCE]}
    image_id = make_image(ec2, "golden-1", volumes=[volume])
    role_image_id = make_image(ec2, "golden-2", volumes=[volume])

    # The playbook in a folder of its own: no playbook-adjacent collections/ either
    play_dir = tmp_path / "play"
    play_dir.mkdir()
    (play_dir / "play.yml").write_text(PLAY)
    result_file = tmp_path / "result.json"
    (play_dir / "vars.json").write_text(json.dumps({
        "endpoint": aws.endpoint_url, "image_id": image_id, "role_image_id": role_image_id, "keys": keys,
        "org_id": o["Id"], "ou_arn": ou["Arn"], "account": account, "result_file": str(result_file)}))
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", "play.yml",
                           "-e", "@vars.json"], env=env, cwd=str(play_dir), capture_output=True, text=True,
                          timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    assert "untracked_probe" not in proc.stdout + proc.stderr

    # Each task's module ran from the installed copy and changed AWS
    results = json.loads(result_file.read_text())
    assert all(results[k]["changed"] for k in ("copied", "granted", "shared")), results
    (copy_id,) = _copies(aws, COPY_REGION, image_id)
    assert [i["image_id"] for i in results["copied"]["images"] if i["region"] == COPY_REGION] == [copy_id]
    assert _launch_permissions(aws, SOURCE, image_id) == sorted([ou["Arn"], account])
    assert "OrgShareUse-" + o["Id"] in _sids(aws, keys[SOURCE])
    (info,) = results["info"]["images"]
    assert info["image_id"] == image_id
    assert info["launch_permissions"]["organizational_unit_arns"] == [ou["Arn"]]
    assert info["launch_permissions"]["account_ids"] == [account]

    # The role: the second AMI copied into its region under that region's key, both shared, both keys granted
    (role_copy_id,) = _copies(aws, ROLE_REGION, role_image_id)
    assert _launch_permissions(aws, SOURCE, role_image_id) == [ou["Arn"]]
    assert _launch_permissions(aws, ROLE_REGION, role_copy_id) == [ou["Arn"]]
    assert "OrgShareUse-" + o["Id"] in _sids(aws, keys[ROLE_REGION])
