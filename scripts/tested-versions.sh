# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables are read by the scripts that source this file
# The versions the test command runs the collection on, and so the bounds it declares: galaxy.yml
# (dependencies), meta/runtime.yml (requires_ansible), README.md, the execution environment and
# docs/DEVELOPING.md say the same (tests/unit/test_version_bounds.py checks). Sourced by
# scripts/bootstrap.sh and scripts/run-compat.sh.
#
# ansible-core: the oldest on .venv-compat (scripts/run-compat.sh, a Python 3.10-3.12), the newest
# on .venv (scripts/bootstrap.sh, on Python >= 3.12).
CORE_OLDEST=2.17
CORE_NEWEST=2.21
# amazon.aws: the lowest with the oldest ansible-core, the newest with the newest; each taken from
# the PyPI `ansible` release that carries it (Ansible Galaxy is not reachable). 11.3.0 is the first
# amazon.aws whose error handlers fill in the "{image_id}" placeholders of plugins/module_utils/_api.py,
# and the first release of the `ansible` package with 11.x (14.0.0) carries it.
AMAZON_AWS_LOWEST=11.3.0
AMAZON_AWS_LOWEST_ANSIBLE=14.0.0
AMAZON_AWS_NEWEST=11.4.0
AMAZON_AWS_NEWEST_ANSIBLE=14.5.0
# The first major release of amazon.aws that is not declared (nor tested)
AMAZON_AWS_NEXT_MAJOR=12.0.0
