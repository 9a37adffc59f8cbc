"""The versions the collection declares are the ones the test command tests (scripts/tested-versions.sh):
galaxy.yml's dependency on amazon.aws, meta/runtime.yml's requires_ansible, the README, the execution
environment (tests/fleet/test_execution_environment.py checks what ansible-builder makes of it) and the
bootstrap's amazon.aws. See "Supported versions" in docs/DEVELOPING.md."""

import os

import yaml

from collections_tree import BOOTSTRAP_COLLECTIONS, ROOT, collection_version, versions_tested

V = versions_tested()


def _next_minor(version):
    major, minor = version.split(".")[:2]
    return "%s.%d" % (major, int(minor) + 1)


def _load(path):
    with open(os.path.join(ROOT, path)) as f:
        return yaml.safe_load(f)


def test_galaxy_dependency_is_the_tested_amazon_aws_range():
    assert _load("galaxy.yml")["dependencies"] == {"amazon.aws": ">=%s,<%s" % (V["AMAZON_AWS_LOWEST"], V["AMAZON_AWS_NEXT_MAJOR"])}
    assert V["AMAZON_AWS_LOWEST"].split(".")[0] == V["AMAZON_AWS_NEWEST"].split(".")[0] == str(int(V["AMAZON_AWS_NEXT_MAJOR"].split(".")[0]) - 1)


def test_requires_ansible_is_the_oldest_tested_core():
    # No upper bound at run time: ansible-core would refuse the collection on a newer core; the EE pins the tested range
    assert _load("meta/runtime.yml")["requires_ansible"] == ">=%s.0" % V["CORE_OLDEST"]
    assert _load("roles/ami_distribute/meta/main.yml")["galaxy_info"]["min_ansible_version"] == V["CORE_OLDEST"]


def test_execution_environment_pins_the_tested_ranges():
    ee = _load("execution-environment/execution-environment.yml")
    assert ee["dependencies"]["ansible_core"]["package_pip"] == "ansible-core>=%s,<%s" % (V["CORE_OLDEST"], _next_minor(V["CORE_NEWEST"]))
    (amazon,) = [c for c in ee["dependencies"]["galaxy"]["collections"] if c["name"] == "amazon.aws"]
    assert amazon["version"] == _load("galaxy.yml")["dependencies"]["amazon.aws"]


def test_readme_and_developing_say_the_same():
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = " ".join(f.read().split())
    assert "needs amazon.aws >= %s, < %s" % (V["AMAZON_AWS_LOWEST"], V["AMAZON_AWS_NEXT_MAJOR"]) in readme
    assert "tested on ansible-core %s to %s" % (V["CORE_OLDEST"], V["CORE_NEWEST"]) in readme
    with open(os.path.join(ROOT, "docs", "DEVELOPING.md")) as f:
        developing = " ".join(f.read().split())
    for key in ("CORE_OLDEST", "CORE_NEWEST", "AMAZON_AWS_LOWEST", "AMAZON_AWS_NEWEST"):
        assert V[key] in developing, key


def test_the_bootstrap_amazon_aws_is_the_newest_tested():
    # scripts/bootstrap.sh unpacks it from the `ansible` release AMAZON_AWS_NEWEST_ANSIBLE (once: after a change of
    # that release, remove .cache/collections/ansible_collections/amazon and run `make venv`)
    if os.environ.get("ANSIBLE_WHEEL_VERSION"):
        return  # another `ansible` release asked for on purpose
    assert collection_version(os.path.join(BOOTSTRAP_COLLECTIONS, "amazon", "aws")) == V["AMAZON_AWS_NEWEST"]
