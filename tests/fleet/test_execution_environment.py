"""The execution environment: execution-environment/execution-environment.yml (ansible-builder
version 3) and the collection's own meta/execution-environment.yml.

``ansible-builder create`` writes the build context exactly as documented in docs/awx.md (a tarball
of this collection built with ``ansible-galaxy collection build``, next to the definition). Nothing is
built (no container engine here); instead the context's own steps are replayed offline: the galaxy
stage's collection install from the context's requirements.yml (the local tarball; amazon.aws from
the bootstrap, as Galaxy is not reachable), then the builder stage's introspect.py, which must find
the Python and system requirements this collection declares."""

import fnmatch
import os
import re
import shutil
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
AMAZON_AWS = os.path.join(ROOT, ".cache", "collections", "ansible_collections", "amazon", "aws")


def _run(cmd, cwd, env=None):
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, env=env, check=False)
    assert proc.returncode == 0, "%s\n%s\n%s" % (cmd, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc


def _requirement_lines(path):
    with open(path) as f:
        return [line.split("#", 1)[0].strip() for line in f if line.split("#", 1)[0].strip()]


def test_collection_declares_its_requirements():
    with open(os.path.join(ROOT, "meta", "execution-environment.yml")) as f:
        meta = yaml.safe_load(f)
    assert meta["version"] == 1
    deps = meta["dependencies"]
    for kind in ("python", "system"):
        assert not os.path.isabs(deps[kind])  # ansible-builder refuses absolute paths
        assert _requirement_lines(os.path.join(ROOT, deps[kind])), kind
    names = {line.split(">")[0].split("=")[0].strip() for line in _requirement_lines(os.path.join(ROOT, deps["python"]))}
    assert names == {"boto3", "botocore"}
    # The collection tarball carries them: galaxy.yml's manifest allow-list names them (and the introspection
    # in test_ansible_builder_create finds them in the installed tarball)
    with open(os.path.join(ROOT, "galaxy.yml")) as f:
        directives = yaml.safe_load(f)["manifest"]["directives"]
    included = [pattern for d in directives if d.startswith("include ") for pattern in d.split()[1:]]
    for path in ("meta/execution-environment.yml", deps["python"], deps["system"]):
        assert any(fnmatch.fnmatchcase(path, pattern) for pattern in included), path


def _base_image():
    with open(os.path.join(ROOT, "execution-environment", "execution-environment.yml")) as f:
        return yaml.safe_load(f)["images"]["base_image"]["name"]


def test_base_image_is_fully_qualified():
    # registry host / path : tag - never a short name, which podman resolves through the machine's registry search
    # list (or a prompt) and docker through Docker Hub; and not the end-of-life Fedora 42 the definition once named
    image = _base_image()
    m = re.fullmatch(r"(?P<host>[a-z0-9.-]+\.[a-z]{2,}(:\d+)?)/(?P<path>[a-z0-9._-]+(/[a-z0-9._-]+)*):(?P<tag>[A-Za-z0-9_][A-Za-z0-9._-]{0,127})", image)
    assert m, "not registry-host/path:tag: %r" % image
    assert m.group("host") not in ("docker.io", "index.docker.io")  # Docker Hub's rate limits; the distributions publish elsewhere
    assert not re.search(r"(^|/)fedora:42$", image), image
    # docs/awx.md names the same image
    with open(os.path.join(ROOT, "docs", "awx.md")) as f:
        assert "`%s`" % image in f.read()


def test_ansible_builder_create(tmp_path):
    # The steps of docs/awx.md, in a copy of execution-environment/; the tarball is built from the working tree
    # (`make release` builds the same from the last commit)
    ee_dir = tmp_path / "execution-environment"
    shutil.copytree(os.path.join(ROOT, "execution-environment"), ee_dir, ignore=shutil.ignore_patterns("context", "collections"))
    built = tmp_path / "built"
    _run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(built), ROOT], cwd=str(tmp_path))
    (tarball,) = list(built.glob("orgshare-aws-*.tar.gz"))
    (ee_dir / "collections").mkdir()
    shutil.copy(tarball, ee_dir / "collections" / "orgshare-aws.tar.gz")

    context = tmp_path / "context"
    _run(
        [os.path.join(BIN, "ansible-builder"), "create", "-f", "execution-environment.yml", "-c", str(context), "--output-filename", "Containerfile"],
        cwd=str(ee_dir),
    )

    # ---- the build context ---------------------------------------------------------------------
    containerfile = (context / "Containerfile").read_text()
    build = context / "_build"
    assert (build / "collections" / "orgshare-aws.tar.gz").read_bytes() == tarball.read_bytes()
    for script in ("introspect.py", "assemble", "install-from-bindep"):
        assert (build / "scripts" / script).is_file()
    requirements = yaml.safe_load((build / "requirements.yml").read_text())
    by_name = {c["name"]: c for c in requirements["collections"]}
    assert by_name["collections/orgshare-aws.tar.gz"]["type"] == "file"
    # amazon.aws and ansible-core within the tested ranges (scripts/tested-versions.sh; tests/release/test_version_bounds.py)
    with open(os.path.join(ROOT, "galaxy.yml")) as f:
        assert by_name["amazon.aws"]["version"] == yaml.safe_load(f)["dependencies"]["amazon.aws"]
    with open(os.path.join(ROOT, "execution-environment", "execution-environment.yml")) as f:
        core_pin = yaml.safe_load(f)["dependencies"]["ansible_core"]["package_pip"]
    assert "<" in core_pin and ">=" in core_pin, core_pin
    # The galaxy stage installs from the context, where the tarball is; the builder stage introspects
    assert "COPY _build /build" in containerfile and "WORKDIR /build" in containerfile
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in containerfile
    assert "introspect.py introspect" in containerfile
    assert core_pin in containerfile and "ansible-runner" in containerfile
    assert 'ARG EE_BASE_IMAGE="%s"' % _base_image() in containerfile

    # ---- replay the galaxy stage offline: install the file entries, as the build would, from /build
    local = {"collections": [c for c in requirements["collections"] if c.get("type") == "file"]}
    (tmp_path / "local-requirements.yml").write_text(yaml.safe_dump(local))
    installed = tmp_path / "usr-share-ansible-collections"
    _run(
        # --force: a copy of this collection may already be on ANSIBLE_COLLECTIONS_PATH (make test puts one
        # there), and ansible-galaxy would then skip the install
        [os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--force", "--no-deps",
         "-r", str(tmp_path / "local-requirements.yml"), "-p", str(installed)],
        cwd=str(build),
    )
    collection = installed / "ansible_collections" / "orgshare" / "aws"
    assert (collection / "meta" / "execution-environment.yml").is_file()
    assert (collection / "playbooks" / "distribute_fleet.yml").is_file()
    (installed / "ansible_collections" / "amazon").mkdir()
    os.symlink(AMAZON_AWS, installed / "ansible_collections" / "amazon" / "aws")  # what Galaxy would give

    # ---- replay the builder stage: introspect the installed collections -------------------------
    pip_out, bindep_out = tmp_path / "requirements.txt", tmp_path / "bindep.txt"
    _run(
        [sys.executable, str(build / "scripts" / "introspect.py"), "introspect", str(installed),
         "--write-pip", str(pip_out), "--write-bindep", str(bindep_out)],
        cwd=str(build),
    )
    pip_lines = pip_out.read_text().splitlines()
    bindep_lines = bindep_out.read_text().splitlines()
    ours = [line.split("#")[0].strip() for line in pip_lines if line.endswith("# from collection orgshare.aws")]
    assert sorted(ours) == sorted(_requirement_lines(os.path.join(ROOT, "requirements.txt")))
    assert any(line.endswith("# from collection amazon.aws") for line in pip_lines)
    ours_system = [line.split("#")[0].strip() for line in bindep_lines if line.endswith("# from collection orgshare.aws")]
    assert sorted(ours_system) == sorted(_requirement_lines(os.path.join(ROOT, "bindep.txt")))
