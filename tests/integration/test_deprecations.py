"""No deprecation of this collection's making on the newest ansible-core.

One ansible-playbook run in which each module warns (ami_org_share, kms_org_grant, ami_copy; ami_share_info
never warns: it reports what it finds in its result, and runs all the same), then every
``[DEPRECATION WARNING]`` of the run is read. A new module adds a task that makes it warn. None may be there but one, which is amazon.aws's, not ours:

ansible-core 2.19 deprecated passing ``warnings`` to ``exit_json`` / ``fail_json`` (removal in
2.23). Our modules warn with ``module.warn()``, the documented way; amazon.aws's ``AnsibleAWSModule``
(``module_utils/modules.py``, since amazon.aws 10.1.2, still in 11.4.0) records each of those warnings
and, on ansible-core >= 2.19, passes them again as ``warnings=`` to ``AnsibleModule.exit_json``, which
deprecates that. Any amazon.aws module that warns shows it the same way. The test allows exactly that
message, and only while the installed amazon.aws is seen doing so (``test_the_exit_json_deprecation_is_amazon_aws``
checks it in-process, with ansible-core's own ``AnsibleModule`` as the control); anything else fails.
docs/DEVELOPING.md ("amazon.aws and the ansible-core 2.23 deprecation") says what it means for users."""

import json
import os
import re

import pytest

from orgshare_emulator.fixtures import create_key, make_image

from ansible.module_utils.ansible_release import __version__ as CORE_VERSION

A1 = "111111111111"
OTHER_ORG = "arn:aws:organizations::210987654321:organization/o-otherorg01"
ORG = "o-abc1234567"
REGION = "us-east-1"
COPY_REGION = "eu-west-1"
EXIT_JSON_DEPRECATION = ("Passing `warnings` to `exit_json` or `fail_json` is deprecated. This feature will be removed "
                         "from ansible-core version 2.23. Use `AnsibleModule.warn` instead.")

PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/orgshare.aws.aws:
      region: "%(region)s"
      endpoint_url: "{{ endpoint }}"
  tasks:
    - name: ami_org_share removes an account that an organization share still covers (warns)
      orgshare.aws.ami_org_share:
        image_id: "{{ shared_image }}"
        account_ids: ["%(account)s"]
        state: absent
      register: ami_org_share
    - name: kms_org_grant grants on a disabled key (warns)
      orgshare.aws.kms_org_grant:
        key_id: "{{ disabled_key }}"
        organization: "%(org)s"
      register: kms_org_grant
    - name: ami_copy finds two copies of the source in a region (warns)
      orgshare.aws.ami_copy:
        source_image_id: "{{ source_image }}"
        source_region: "%(region)s"
        regions: [{region: "%(copy_region)s"}]
      register: ami_copy
    - name: ami_share_info reads the shared AMI
      orgshare.aws.ami_share_info:
        image_ids: ["{{ shared_image }}"]
      register: ami_share_info
    - name: Keep the warnings for the test
      ansible.builtin.copy:
        content: "{{ {'ami_org_share': ami_org_share.warnings | default([]), 'kms_org_grant': kms_org_grant.warnings | default([]),
                      'ami_copy': ami_copy.warnings | default([])} | to_json }}"
        dest: "{{ result_file }}"
        mode: "0644"
""" % {"region": REGION, "copy_region": COPY_REGION, "account": A1, "org": ORG}


def _core_version():
    return tuple(int(p) for p in re.findall(r"\d+", CORE_VERSION)[:2])


PROBE = """
import contextlib, io, json, sys
from ansible.module_utils.testing import patch_module_args
if sys.argv[1] == "aws":
    from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule as cls
else:
    from ansible.module_utils.basic import AnsibleModule as cls
out = io.StringIO()
with patch_module_args({"_ansible_module_name": "orgshare.aws.probe"}), contextlib.redirect_stdout(out):
    module = cls(argument_spec={})
    module.warn("a warning")
    try:
        module.exit_json(changed=False)
    except SystemExit:
        pass
sys.stdout.write(out.getvalue().strip().splitlines()[-1])
"""


def _exit_json_deprecations(which):
    """The deprecations in the result of a module of class ``which`` ("aws": amazon.aws's AnsibleAWSModule, "core":
    ansible-core's AnsibleModule) that warns once and exits, in a fresh interpreter (the deprecations are kept in
    module-level state that other tests of this process may have touched)."""
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, "-c", PROBE, which], capture_output=True, text=True, env=env, timeout=300, check=True)
    result = json.loads(proc.stdout)
    # ansible-core >= 2.19: {"event": {"msg": ...}, "deprecator": {"resolved_name": ...}, "version": ...}
    return [((d.get("event") or d).get("msg"), (d.get("deprecator") or {}).get("resolved_name")) for d in result.get("deprecations", [])]


def amazon_aws_deprecates_exit_json():
    """True when the installed amazon.aws's AnsibleAWSModule makes ansible-core deprecate a module's plain
    ``module.warn()`` (it passes the warnings again to exit_json)."""
    return ("Passing `warnings` to `exit_json` or `fail_json` is deprecated.", "ansible.builtin") in _exit_json_deprecations("aws")


def deprecation_messages(text):
    """Every ``[DEPRECATION WARNING]: ...`` message of ansible-playbook's output (ansible-core >= 2.19 prints
    each on one line, unwrapped)."""
    return [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("[DEPRECATION WARNING]:")]


def test_deprecation_messages_are_read():
    out = "changed: [localhost]\n[WARNING]: a warning\n[DEPRECATION WARNING]: Something is deprecated. Use x instead.\nPLAY RECAP"
    assert deprecation_messages(out) == ["Something is deprecated. Use x instead."]


@pytest.mark.skipif(_core_version() < (2, 19), reason="the deprecation exists from ansible-core 2.19 on")
def test_the_exit_json_deprecation_is_amazon_aws():
    # module.warn() then exit_json() is fine with ansible-core's own AnsibleModule ...
    assert _exit_json_deprecations("core") == []
    # ... and what AnsibleAWSModule adds, if anything, is at most that one deprecation, ansible-core's own
    # (deprecator ansible.builtin), not one of orgshare.aws. amazon.aws 10.1.2 to 11.4.0 add it; once a
    # release does not, the playbook test below allows no deprecation at all.
    assert set(_exit_json_deprecations("aws")) <= {
        ("Passing `warnings` to `exit_json` or `fail_json` is deprecated.", "ansible.builtin")}


def test_no_deprecation_of_ours_when_every_module_warns(aws, run_playbook, tmp_path, monkeypatch):
    monkeypatch.setenv("ANSIBLE_DEPRECATION_WARNINGS", "true")  # the default, whatever the caller's environment says
    ec2 = aws.client("ec2")
    shared = make_image(ec2, "orgshare-deprecations-shared")
    ec2.modify_image_attribute(ImageId=shared, Attribute="launchPermission",
                               LaunchPermission={"Add": [{"UserId": A1}, {"OrganizationArn": OTHER_ORG}]})
    kms = aws.client("kms")
    key = create_key(kms, description="disabled key")
    kms.disable_key(KeyId=key.split("/")[-1])
    source = make_image(ec2, "orgshare-deprecations-source")
    dest = aws.client("ec2", COPY_REGION)
    for n in (1, 2):
        dest.copy_image(SourceImageId=source, SourceRegion=REGION, Name="orgshare-deprecations-copy-%d" % n)
    result_file = tmp_path / "warnings.json"

    proc = run_playbook(PLAYBOOK, extra_vars={"endpoint": aws.endpoint_url, "shared_image": shared, "disabled_key": key,
                                              "source_image": source, "result_file": str(result_file)})
    output = proc.stdout + "\n" + proc.stderr  # ansible-core 2.21 prints warnings and deprecations on stderr
    assert proc.returncode == 0, output[-4000:]
    # Every module that can warn did (else the run would not show what warning costs)
    warned = json.loads(result_file.read_text())
    for module, warnings in warned.items():
        assert warnings, "%s did not warn:\n%s" % (module, output[-4000:])
    assert output.count("[WARNING]") >= 3, output[-4000:]

    allowed = {EXIT_JSON_DEPRECATION} if (2, 19) <= _core_version() < (2, 23) and amazon_aws_deprecates_exit_json() else set()
    unexpected = [m for m in deprecation_messages(proc.stdout) + deprecation_messages(proc.stderr) if m not in allowed]
    assert not unexpected, "deprecations other than amazon.aws's exit_json one:\n%s\n---\n%s" % (
        "\n".join(unexpected), output[-4000:])
