"""The role orgshare.aws.ami_distribute as a user runs it: every input wrong in turn (each refused with a
message naming the variable and the expected form, with zero writes in the emulator's call record),
``-e name=value`` strings, the play's module_defaults, one region broken, and the module processes of a
converged re-run.

Expected values are written out literally; AWS state is read back with boto3."""

import json
import os
import subprocess
import sys

import pytest

from orgshare_emulator.fixtures import create_key, make_image
from play_results import print_task, printed

SOURCE = "us-east-1"
COPY_REGIONS = ["us-west-2", "eu-west-1"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = ("orgshare.aws.ami_copy", "orgshare.aws.ami_org_share", "orgshare.aws.kms_org_grant", "orgshare.aws.ami_share_info")


@pytest.fixture
def world(aws):
    org = aws.client("organizations")
    org.create_organization(FeatureSet="ALL")
    o = org.describe_organization()["Organization"]
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="Workloads")["OrganizationalUnit"]
    account = org.create_account(Email="a@example.com", AccountName="app")["CreateAccountStatus"]["AccountId"]
    keys = {r: create_key(aws.client("kms", r), description="golden " + r) for r in [SOURCE] + COPY_REGIONS}
    image_id = make_image(
        aws.client("ec2", SOURCE), "golden-1",
        volumes=[{"device_name": "/dev/xvda", "size": 8, "encrypted": True, "kms_key_id": keys[SOURCE]}],
    )
    return {"org_id": o["Id"], "org_arn": o["Arn"], "ou_id": ou["Id"], "ou_arn": ou["Arn"], "account": account,
            "keys": keys, "image_id": image_id, "ou_path": "%s/%s/%s/" % (o["Id"], root, ou["Id"])}


def good_vars(aws, world, **over):
    v = {
        "ami_distribute_source_image_id": world["image_id"],
        "ami_distribute_source_region": SOURCE,
        "ami_distribute_regions": [{"region": r, "kms_key_id": world["keys"][r]} for r in COPY_REGIONS],
        "ami_distribute_organizational_unit_arns": [world["ou_arn"]],
        "ami_distribute_account_ids": [world["account"]],
        "ami_distribute_aws_endpoint_url": aws.endpoint_url,
        "ami_distribute_wait_timeout": 120,
    }
    v.update(over)
    return v


def play(tmp_path, module_defaults=None):
    defaults = ""
    if module_defaults:
        defaults = "  module_defaults:\n    group/orgshare.aws.aws:\n" + "".join(
            "      %s: %s\n" % (k, json.dumps(v)) for k, v in module_defaults.items())
    text = (
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n" + defaults + "  tasks:\n"
        "    - ansible.builtin.include_role:\n        name: orgshare.aws.ami_distribute\n"
        + print_task("ami_distribute_result")
    )
    path = tmp_path / "play.yml"
    path.write_text(text)
    return str(path)


def run(aws, tmp_path, playbook, extra_vars=None, args=(), env=None, check=False):
    timeline = tmp_path / "timeline.jsonl"
    if timeline.exists():
        timeline.unlink()
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local", playbook]
    if extra_vars is not None:
        vf = tmp_path / "vars.json"
        vf.write_text(json.dumps(extra_vars))
        cmd += ["-e", "@" + str(vf)]
    if check:
        cmd.append("--check")
    cmd += list(args)
    full_env = aws.env()
    full_env.update(
        ANSIBLE_CALLBACK_PLUGINS=os.path.join(ROOT, "bench", "callback_plugins"),
        ANSIBLE_CALLBACKS_ENABLED="bench_timeline",
        BENCH_TIMELINE_FILE=str(timeline),
    )
    full_env.update(env or {})
    proc = subprocess.run(cmd, env=full_env, capture_output=True, text=True, cwd=str(tmp_path), timeout=900, check=False)
    proc.module_runs = module_runs(timeline)
    return proc


def module_runs(timeline):
    """How many module processes the run started (one per task, or per loop item, that ran a module)."""
    if not timeline.exists():
        return None
    n, action = 0, None
    for line in timeline.read_text().splitlines():
        rec = json.loads(line)
        if rec["event"] == "task_start":
            action = rec["action"]
        elif rec["event"] == "task_result" and rec["status"] != "skipped" and action in MODULES:
            n += rec["items"]
    return n


def launch_permissions(aws, region, image_id):
    lp = aws.client("ec2", region).describe_image_attribute(ImageId=image_id, Attribute="launchPermission")
    return sorted(e.get("OrganizationalUnitArn") or e.get("OrganizationArn") or e.get("UserId") or e.get("Group")
                  for e in lp["LaunchPermissions"])


def copies(aws, image_id, regions=tuple(COPY_REGIONS)):
    return dict((r, [i["ImageId"] for i in aws.client("ec2", r).describe_images(
        Owners=["self"], Filters=[{"Name": "source-image-id", "Values": [image_id]}])["Images"]]) for r in regions)


def key_policy(aws, key_arn):
    return aws.client("kms", key_arn.split(":")[3]).get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]


# ---- every input wrong in turn, one ansible-playbook run ------------------------------------------------
CASE_TASKS = """
- name: Run the role with one input wrong
  block:
    - name: The role
      ansible.builtin.include_role:
        name: orgshare.aws.ami_distribute
      vars:
        ami_distribute_source_image_id: "{{ case.vars.get('ami_distribute_source_image_id', good.ami_distribute_source_image_id) }}"
        ami_distribute_source_region: "{{ case.vars.get('ami_distribute_source_region', good.ami_distribute_source_region) }}"
        ami_distribute_regions: "{{ case.vars.get('ami_distribute_regions', good.ami_distribute_regions) }}"
        ami_distribute_organization_arns: "{{ case.vars.get('ami_distribute_organization_arns', []) }}"
        ami_distribute_organizational_unit_arns: "{{ case.vars.get('ami_distribute_organizational_unit_arns', good.ami_distribute_organizational_unit_arns) }}"
        ami_distribute_account_ids: "{{ case.vars.get('ami_distribute_account_ids', good.ami_distribute_account_ids) }}"
        ami_distribute_share_source: "{{ case.vars.get('ami_distribute_share_source', true) }}"
        ami_distribute_state: "{{ case.vars.get('ami_distribute_state', 'present') }}"
        ami_distribute_wait_timeout: "{{ case.vars.get('ami_distribute_wait_timeout', 120) }}"
        ami_distribute_ssm_parameter: "{{ case.vars.get('ami_distribute_ssm_parameter', '') }}"
        ami_distribute_deprecate_at: "{{ case.vars.get('ami_distribute_deprecate_at', '') }}"
        ami_distribute_family: "{{ case.vars.get('ami_distribute_family', {}) }}"
        ami_distribute_deprecate_previous_at: "{{ case.vars.get('ami_distribute_deprecate_previous_at', '') }}"
        ami_distribute_keep_newest: "{{ case.vars.get('ami_distribute_keep_newest', 0) }}"
        ami_distribute_aws_endpoint_url: "{{ good.ami_distribute_aws_endpoint_url }}"
    - name: Record that it did not fail
      ansible.builtin.set_fact:
        messages: "{{ messages | combine({case.name: 'DID NOT FAIL'}) }}"
  rescue:
    - name: Record the failure
      ansible.builtin.set_fact:
        messages: "{{ messages | combine({case.name: ansible_failed_result.msg | default('') | string}) }}"
"""

MATRIX_PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    messages: {}
  tasks:
    - name: Each case
      ansible.builtin.include_tasks: case.yml
      loop: "{{ cases }}"
      loop_control:
        loop_var: case
        label: "{{ case.name }}"
""" + print_task("messages")


def bad_cases(world):
    w2, eu = world["keys"]["us-west-2"], world["keys"]["eu-west-1"]
    return [
        # (name, vars, words the message must contain)
        ("image id malformed", {"ami_distribute_source_image_id": "ami-xyz"}, ["ami_distribute_source_image_id", "ami- and 8 or 17 hexadecimal"]),
        ("image id missing", {"ami_distribute_source_image_id": None}, ["ami_distribute_source_image_id", "required", "ami-0123456789abcdef0"]),
        ("image id not found", {"ami_distribute_source_image_id": "ami-0123456789abcdef0"}, ["ami-0123456789abcdef0", "nothing was written"]),
        ("source region malformed", {"ami_distribute_source_region": "us-east"}, ["ami_distribute_source_region", "eu-west-1"]),
        ("source region missing", {"ami_distribute_source_region": None}, ["ami_distribute_source_region", "required"]),
        ("region malformed", {"ami_distribute_regions": ["eu-west"]}, ["ami_distribute_regions[0].region", "eu-west-1"]),
        ("region entry typo", {"ami_distribute_regions": [{"region": "us-west-2", "kms_key": w2}]}, ["ami_distribute_regions[0]", "kms_key", "kms_key_id"]),
        ("region entry without region", {"ami_distribute_regions": [{"kms_key_id": w2}]}, ["ami_distribute_regions[0]", "region"]),
        ("region entry wrong type", {"ami_distribute_regions": [["us-west-2"]]}, ["ami_distribute_regions[0]", "region name"]),
        ("regions not a list", {"ami_distribute_regions": {"region": "us-west-2"}}, ["ami_distribute_regions", "list"]),
        ("key malformed", {"ami_distribute_regions": [{"region": "us-west-2", "kms_key_id": "golden"}]}, ["ami_distribute_regions[0].kms_key_id", "alias/NAME"]),  # noqa: E501
        ("key of another region", {"ami_distribute_regions": [{"region": "us-west-2", "kms_key_id": eu}]}, ["ami_distribute_regions[0].kms_key_id", "regional"]),  # noqa: E501
        ("key missing in AWS", {"ami_distribute_regions": [{"region": "us-west-2", "kms_key_id": w2}, {"region": "eu-west-1", "kms_key_id": "alias/nope"}]},
         ["alias/nope", "eu-west-1", "nothing was written"]),
        ("encrypted source, no key", {"ami_distribute_regions": [{"region": "us-west-2", "kms_key_id": w2}, "eu-west-1"]},
         ["ami_distribute_regions[1] (eu-west-1)", "kms_key_id", "customer managed key"]),
        ("organization ARN malformed", {"ami_distribute_organization_arns": ["arn:aws:organizations::111122223333:organization/bad"]},
         ["ami_distribute_organization_arns[0]", "organization ARN"]),
        ("OU ARN with an 11-digit account", {"ami_distribute_organizational_unit_arns": ["arn:aws:organizations::11112222333:ou/%s/ou-ab12-11111111" % world["org_id"]]},  # noqa: E501
         ["ami_distribute_organizational_unit_arns[0]", "OU ARN"]),
        ("bare OU id unknown", {"ami_distribute_organizational_unit_arns": ["ou-zzzz-99999999"]}, ["ou-zzzz-99999999", "nothing was written"]),
        ("account id of 11 digits", {"ami_distribute_account_ids": ["12345678901"]}, ["ami_distribute_account_ids[0]", "quote"]),
        ("account id with dashes", {"ami_distribute_account_ids": ["1234-5678-9012"]}, ["ami_distribute_account_ids[0]", "12-digit"]),
        ("boolean not a boolean", {"ami_distribute_share_source": "maybe"}, ["ami_distribute_share_source", "bool"]),
        ("state unknown", {"ami_distribute_state": "gone"}, ["ami_distribute_state", "present", "absent"]),
        ("timeout not a number", {"ami_distribute_wait_timeout": "soon"}, ["ami_distribute_wait_timeout", "int"]),
        ("region listed twice", {"ami_distribute_regions": ["us-west-2", "us-west-2"]}, ["ami_distribute_regions[1]", "already listed"]),
        ("SSM parameter name reserved", {"ami_distribute_ssm_parameter": "/aws/golden"}, ["ami_distribute_ssm_parameter", "'aws' or 'ssm'"]),
        ("SSM parameter name malformed", {"ami_distribute_ssm_parameter": "golden ami"}, ["ami_distribute_ssm_parameter", "/golden/ami"]),
        ("deprecation time malformed", {"ami_distribute_deprecate_at": "next week"}, ["ami_distribute_deprecate_at"]),
        ("previous versions with no family", {"ami_distribute_deprecate_previous_at": "+30d", "ami_distribute_keep_newest": 1},
         ["ami_distribute_family"]),
    ]


def test_every_input_wrong_in_turn_fails_before_any_write(aws, world, tmp_path):
    cases = bad_cases(world)
    (tmp_path / "case.yml").write_text(CASE_TASKS)
    path = tmp_path / "matrix.yml"
    path.write_text(MATRIX_PLAY)
    aws.emulator.clear_calls()
    proc = run(aws, tmp_path, str(path), extra_vars={
        "good": good_vars(aws, world), "cases": [{"name": n, "vars": v} for n, v, _w in cases]})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    messages = printed(proc.stdout)
    for name, _vars, words in cases:
        msg = messages[name]
        assert msg != "DID NOT FAIL", name
        for word in words:
            assert word in msg, (name, word, msg)
    assert aws.write_calls() == []
    assert copies(aws, world["image_id"]) == {"us-west-2": [], "eu-west-1": []}
    assert launch_permissions(aws, SOURCE, world["image_id"]) == []


# ---- a first run, a converged re-run, and what a user types ----------------------------------------------
def test_first_run_then_converged_rerun_makes_no_write_and_few_module_processes(aws, world, tmp_path):
    """The first run with every feature a release pipeline uses: shares, key grants, the SSM parameter of each region,
    ami_distribute_deprecate_at on the AMIs it distributes and ami_distribute_deprecate_previous_at on the previous
    versions of the family (found by name prefix in every region of the run, the newest one kept with keep_newest 1).
    Then a converged re-run, and --check on the converged state."""
    import datetime

    ec2 = aws.client("ec2", SOURCE)
    older = [make_image(ec2, "golden-0%d" % i) for i in (1, 2)]  # previous versions in the source region
    day = (datetime.date.today() + datetime.timedelta(days=400)).isoformat()  # a date about a year ahead (AWS: at most 10 years)
    name = "/golden/al2023/latest"
    v = good_vars(aws, world, ami_distribute_ssm_parameter=name, ami_distribute_deprecate_at=day + "T00:00:00Z",
                  ami_distribute_family={"name_prefix": "golden-"}, ami_distribute_deprecate_previous_at="+30d",
                  ami_distribute_keep_newest=1)
    first = run(aws, tmp_path, play(tmp_path), v)
    assert first.returncode == 0, first.stdout[-4000:]
    found = copies(aws, world["image_id"])
    assert all(len(ids) == 1 for ids in found.values()), found
    distributed = dict([(SOURCE, world["image_id"])] + [(r, found[r][0]) for r in COPY_REGIONS])
    for region, image_id in distributed.items():
        assert launch_permissions(aws, region, image_id) == sorted([world["ou_arn"], world["account"]])
    for key in world["keys"].values():
        assert world["ou_path"] + "*" in key_policy(aws, key)
    result = printed(first.stdout)
    assert sorted(result) == sorted([SOURCE] + COPY_REGIONS)
    for region, image_id in distributed.items():
        assert result[region]["image_id"] == image_id
        assert result[region]["kms_key_arn"] == world["keys"][region]
        assert result[region]["launch_permissions"]["organizational_unit_arns"] == [world["ou_arn"]]
        assert result[region]["problems"] == []
        # the AMI id of each region published in the SSM parameter
        parameter = aws.client("ssm", region).get_parameter(Name=name)["Parameter"]
        assert (parameter["Value"], parameter["Type"], parameter["DataType"]) == (image_id, "String", "aws:ec2:image")
        assert result[region]["ssm_parameter"] == {"name": name, "version": 1, "changed": True}
        # deprecated at the time given
        image = aws.client("ec2", region).describe_images(ImageIds=[image_id])["Images"][0]
        assert image["DeprecationTime"] == day + "T00:00:00.000Z", (region, image)
    times = dict((i["ImageId"], i.get("DeprecationTime")) for i in ec2.describe_images(ImageIds=older)["Images"])
    # the two previous versions were made in the same second: the emulator orders a tie by name and id, newest first;
    # one is kept, one deprecated about 30 days ahead
    deprecated = [t for t in times.values() if t]
    assert len(deprecated) == 1
    at = datetime.datetime.strptime(deprecated[0], "%Y-%m-%dT%H:%M:%S.000Z")
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    assert datetime.timedelta(days=29) < at - now < datetime.timedelta(days=31)
    assert "FAILED - RETRYING" not in first.stdout
    assert "WARNING" not in first.stdout + first.stderr  # a clean run warns of nothing (no false key alarm)

    # converged: nothing written (an earlier deprecation is kept, a relative time does not move it), few module processes
    aws.emulator.clear_calls()
    second = run(aws, tmp_path, play(tmp_path), v)
    assert second.returncode == 0, second.stdout[-4000:]
    assert aws.write_calls() == []
    assert "changed=0" in second.stdout
    assert second.module_runs <= 6, second.module_runs
    assert "[WARNING]" not in second.stdout + second.stderr
    assert all(printed(second.stdout)[r]["ssm_parameter"] == {"name": name, "version": 1, "changed": False} for r in distributed)

    # --check on the converged state: nothing to predict, nothing written, the same result
    check = run(aws, tmp_path, play(tmp_path), v, check=True)
    assert check.returncode == 0, check.stdout[-4000:]
    assert "changed=0" in check.stdout, check.stdout[-4000:]
    assert aws.write_calls() == []
    predicted = printed(check.stdout)
    for region in result:
        assert predicted[region]["image_id"] == result[region]["image_id"]
        assert predicted[region]["kms_key_arn"] == result[region]["kms_key_arn"]


def test_minus_e_strings_are_converted_and_the_plays_module_defaults_reach_the_role(aws, world, tmp_path):
    from orgshare_emulator.fixtures import credentials_for

    # the credentials and the endpoint come from the play's module_defaults alone: the environment's are wrong
    access, secret = credentials_for(aws.emulator, aws.account_id, user_name="play-defaults")
    v = good_vars(aws, world, ami_distribute_regions=[{"region": "us-west-2", "kms_key_id": world["keys"]["us-west-2"]}])
    del v["ami_distribute_aws_endpoint_url"]
    del v["ami_distribute_organizational_unit_arns"]
    env = {"AWS_ACCESS_KEY_ID": "AKIAENVIRONMENTKEY01", "AWS_SECRET_ACCESS_KEY": "wrong", "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
           "AWS_URL": "http://127.0.0.1:9"}
    aws.emulator.clear_calls()
    defaults = {"endpoint_url": aws.endpoint_url, "access_key": access, "secret_key": secret, "region": SOURCE}
    strings = ["-e", "ami_distribute_share_source=false", "-e", "ami_distribute_organizational_unit_arns=%s" % world["ou_arn"]]
    proc = run(aws, tmp_path, play(tmp_path, defaults), v, env=env, args=strings)
    assert proc.returncode == 0, proc.stdout[-4000:]
    used = set(c["access_key"] for c in aws.emulator.calls)
    assert used == {access}
    # share_source=false: the source stays private, its key untouched
    assert launch_permissions(aws, SOURCE, world["image_id"]) == []
    assert world["ou_path"] not in key_policy(aws, world["keys"][SOURCE])
    # one ARN given as a string: one OU, granted and shared (not one grant per character)
    copy = copies(aws, world["image_id"], ["us-west-2"])["us-west-2"][0]
    assert launch_permissions(aws, "us-west-2", copy) == sorted([world["ou_arn"], world["account"]])
    assert world["ou_path"] + "*" in key_policy(aws, world["keys"]["us-west-2"])


def test_one_broken_region_does_not_block_the_others(aws, world, tmp_path):
    # Every call in eu-west-1 is refused (UnauthorizedOperation / AccessDeniedException), which no one retries: the
    # region fails at once. A region that keeps answering 503 fails the same way once the retries are spent (the
    # module tests of _api cover that), only 80 s later.
    aws.emulator.inject_faults(rate=1.0, kind="denied", regions=["eu-west-1"])
    try:
        proc = run(aws, tmp_path, play(tmp_path), good_vars(aws, world))
    finally:
        aws.emulator.clear_faults()
    assert proc.returncode != 0
    assert "1 region(s) failed" in proc.stdout and "eu-west-1" in proc.stdout
    found = copies(aws, world["image_id"])
    assert found["eu-west-1"] == []
    assert len(found["us-west-2"]) == 1
    assert launch_permissions(aws, "us-west-2", found["us-west-2"][0]) == sorted([world["ou_arn"], world["account"]])
    assert launch_permissions(aws, SOURCE, world["image_id"]) == sorted([world["ou_arn"], world["account"]])
    assert world["ou_path"] + "*" in key_policy(aws, world["keys"]["us-west-2"])


def test_diff_mode_shows_each_change_once_and_check_diff_predicts_it(aws, world, tmp_path):
    v = good_vars(aws, world, ami_distribute_regions=[])  # the source alone: one share, one key grant
    aws.emulator.clear_calls()
    check = run(aws, tmp_path, play(tmp_path), v, check=True, args=["--diff"])
    assert check.returncode == 0, check.stdout[-4000:]
    assert aws.write_calls() == []
    # the predicted share (ami_org_share's diff) and the predicted key policy (kms_org_grant's diff)
    assert check.stdout.count(world["ou_arn"]) >= 1
    assert world["ou_path"] + "*" in check.stdout, check.stdout[-6000:]

    real = run(aws, tmp_path, play(tmp_path), v, args=["--diff"])
    assert real.returncode == 0, real.stdout[-4000:]
    assert launch_permissions(aws, SOURCE, world["image_id"]) == sorted([world["ou_arn"], world["account"]])
    # shown once, by the write (the check-mode reads show no diff outside --check)
    assert real.stdout.count('"%s*"' % world["ou_path"]) == check.stdout.count('"%s*"' % world["ou_path"])


def test_missing_credentials_say_so_before_any_write(aws, world, tmp_path):
    """No credentials at all: the role stops at its first read, saying so (not "the source AMI was not found")."""
    aws.emulator.clear_calls()
    proc = run(aws, tmp_path, play(tmp_path), good_vars(aws, world), env={
        "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), "AWS_EC2_METADATA_DISABLED": "true"})
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "Unable to locate credentials" in out, out[-3000:]
    assert "was not found" not in out
    assert aws.emulator.calls == []


def test_a_key_policy_naming_a_deleted_role_stops_the_role_before_any_write_unless_dropped(aws, world, tmp_path):
    kms, iam = aws.client("kms", "us-west-2"), aws.client("iam")
    role = iam.create_role(RoleName="Builder", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))["Role"]
    key = world["keys"]["us-west-2"]
    doc = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    doc["Statement"].append({"Sid": "Builders", "Effect": "Allow", "Principal": {"AWS": role["Arn"]}, "Action": "kms:Decrypt",
                             "Resource": "*"})
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(doc))
    iam.delete_role(RoleName="Builder")  # the policy now shows the role's unique id
    aws.emulator.clear_calls()
    proc = run(aws, tmp_path, play(tmp_path), good_vars(aws, world))
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "names deleted IAM users or roles" in out and role["RoleId"] in out, out[-3000:]
    assert aws.write_calls() == []
    # the role's variable, given as an -e string, lets kms_org_grant drop them
    proc = run(aws, tmp_path, play(tmp_path), good_vars(aws, world), args=["-e", "ami_distribute_drop_orphaned_principals=true"])
    assert proc.returncode == 0, proc.stdout[-3000:]
    policy = kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"]
    assert role["RoleId"] not in policy and "Builders" not in policy
    assert "OrgShareUse-" + world["org_id"] in policy
