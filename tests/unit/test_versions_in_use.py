"""The amazon.aws the module tests import is the one the run asked for: the bootstrap's (the newest tested)
or, with ORGSHARE_AMAZON_AWS (scripts/run-compat.sh), the lowest declared one; and it accepts the ansible-core
the tests run on (its meta/runtime.yml requires_ansible)."""

import os

import yaml
from packaging.specifiers import SpecifierSet

from ansible.module_utils.ansible_release import __version__ as CORE_VERSION

from collections_tree import collection_version, versions_tested


def _imported_amazon_aws():
    from ansible_collections.amazon.aws.plugins.module_utils import modules

    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(modules.__file__))))


def test_the_amazon_aws_in_use():
    path = _imported_amazon_aws()
    wanted = os.environ.get("ORGSHARE_AMAZON_AWS")
    versions = versions_tested()
    if wanted:  # scripts/run-compat.sh: the lowest declared one, which scripts/amazon-aws.sh checked it unpacked
        assert path == os.path.realpath(wanted)
    else:
        assert collection_version(path) == versions["AMAZON_AWS_NEWEST"]
    with open(os.path.join(path, "meta", "runtime.yml")) as f:
        requires = yaml.safe_load(f)["requires_ansible"]
    assert SpecifierSet(requires).contains(CORE_VERSION), (requires, CORE_VERSION)
