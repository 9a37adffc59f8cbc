"""A collections tree for running the working tree without copying it.

``link_collections(base)`` makes ``base/ansible_collections/{amazon,community,orgshare}/aws``, where
amazon.aws and community.aws link to the ones the bootstrap unpacked and orgshare/aws links to the
working tree (or to ``orgshare_target``: another orgshare.aws tree, e.g. an installed build), and
awx/awx to the bootstrap's awx.awx where it has one (for examples/awx). Edits
are then seen by ansible-playbook without a copy. Used by tests/conftest.py and bench/harness.py.
``amazon_aws_target`` links another amazon.aws instead (tests/conftest.py: ``ORGSHARE_AMAZON_AWS``, the
lowest declared amazon.aws that scripts/amazon-aws.sh unpacks for scripts/run-compat.sh).

Safe when several processes build the same tree at once (pytest-xdist workers): every link is
made under a temporary name and renamed into place, which is atomic.
"""

from __future__ import annotations

import json
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOOTSTRAP_COLLECTIONS = os.path.join(ROOT, ".cache", "collections", "ansible_collections")


def _link(target, link):
    if os.path.islink(link) and os.readlink(link) == target:
        return
    tmp = "%s.tmp-%d" % (link, os.getpid())
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(target, tmp)
    os.replace(tmp, link)


def collection_version(path):
    """The version in the MANIFEST.json of the collection at ``path`` (None when it has none)."""
    try:
        with open(os.path.join(path, "MANIFEST.json")) as f:
            return json.load(f)["collection_info"]["version"]
    except (OSError, ValueError, KeyError):
        return None


def versions_tested():
    """scripts/tested-versions.sh as a dict (CORE_OLDEST, CORE_NEWEST, AMAZON_AWS_LOWEST, ...): the versions
    the test command runs on, which the collection declares."""
    values = {}
    with open(os.path.join(ROOT, "scripts", "tested-versions.sh")) as f:
        for line in f:
            m = re.match(r"([A-Z_]+)=(\S+)$", line.strip())
            if m:
                values[m.group(1)] = m.group(2)
    return values


def link_collections(base, orgshare_target=None, amazon_aws_target=None):
    """Build (or refresh) the tree under ``base`` and return ``base``."""
    dst = os.path.join(base, "ansible_collections")
    for ns, name, target in (
        ("amazon", "aws", os.path.abspath(amazon_aws_target) if amazon_aws_target else os.path.join(BOOTSTRAP_COLLECTIONS, "amazon", "aws")),
        ("community", "aws", os.path.join(BOOTSTRAP_COLLECTIONS, "community", "aws")),
        ("orgshare", "aws", os.path.abspath(orgshare_target) if orgshare_target else ROOT),
    ):
        if not os.path.isdir(target):
            raise SystemExit("missing %s (run `make venv` first)" % target)
        os.makedirs(os.path.join(dst, ns), exist_ok=True)
        _link(target, os.path.join(dst, ns, name))
    # awx.awx, for examples/awx (tests/fleet/test_awx_as_code.py says when it is missing): linked where the bootstrap has it
    awx = os.path.join(BOOTSTRAP_COLLECTIONS, "awx", "awx")
    if os.path.isdir(awx):
        os.makedirs(os.path.join(dst, "awx"), exist_ok=True)
        _link(awx, os.path.join(dst, "awx", "awx"))
    return base
