"""AWX / Automation Controller as code: examples/awx/controller.yml (the execution environment, project, AWS
credential, inventory and job templates with their survey, applied with awx.awx) and the project's playbook file
examples/awx/project/fleet.yml.

- Both pass ``ansible-playbook --syntax-check`` with awx.awx on the collections path (the bootstrap unpacks it from
  the PyPI ``ansible`` release that still carries it; scripts/collections_tree.py links it into the test tree).
- The survey asks only for variables of the role orgshare.aws.ami_distribute, and each question agrees with the
  role's meta/argument_specs.yml: its type, its choices, its default (equal or absent), required only where the spec
  says so.
- The job templates run the project's playbook file, which imports a playbook of this collection, with the
  credential of type Amazon Web Services that the playbook creates, and the project, inventory and execution
  environment it creates.
- The playbook runs, for real, against a fake controller API (tests/fleet/fake_controller.py): the awx.awx
  modules accept every option (ansible-lint does not check their options), and the objects the API receives are
  the documented ones; a second run changes nothing but the inventory sync it asks for.
"""

import copy
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from fake_controller import FakeController, survey_problems
from fleet_env import PROJECT_PLAYBOOK, ROOT

BIN = os.path.dirname(sys.executable)
CONTROLLER = os.path.join(ROOT, "examples", "awx", "controller.yml")
PROJECT = os.path.join(ROOT, "examples", "awx", "project")
# tests/conftest.py builds it: orgshare.aws (the working tree), amazon.aws, community.aws and awx.awx
COLLECTIONS = os.path.join(ROOT, ".cache", "test-collections")
AWS_CREDENTIAL_TYPE = "Amazon Web Services"


def _load(path):
    with open(path) as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="module")
def play():
    """The one play of controller.yml, its variables and tasks keyed by module."""

    class Unsafe(str):
        pass

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!unsafe", lambda loader, node: Unsafe(loader.construct_scalar(node)))
    Loader.add_constructor("!vault", lambda loader, node: loader.construct_scalar(node))
    with open(CONTROLLER) as f:
        (the_play,) = yaml.load(f, Loader=Loader)
    return the_play


def _tasks(play, module):
    return [t for t in play["tasks"] if module in t]


def _resolve(play, value):
    """A value that is only a play variable ("{{ name }}") resolved to that variable's value (once)."""
    m = re.fullmatch(r"\{\{\s*(\w+)\s*\}\}", value) if isinstance(value, str) else None
    return play["vars"][m.group(1)] if m and m.group(1) in play["vars"] else value


def _role_options():
    return _load(os.path.join(ROOT, "roles", "ami_distribute", "meta", "argument_specs.yml"))["argument_specs"]["main"]["options"]


def _env(tmp_path, controller):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTROLLER_", "TOWER_", "AWX_", "AAP_"))}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(
        HOME=str(home),  # no ~/.tower_cli.cfg of the developer's
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"),
    )
    if controller is not None:
        env.update(CONTROLLER_HOST=controller.url, CONTROLLER_OAUTH_TOKEN=controller.token)
    return env


def _playbook(tmp_path, args, controller=None):
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), *args], cwd=str(tmp_path), env=_env(tmp_path, controller),
                          capture_output=True, text=True, timeout=300, check=False)
    return proc


def test_awx_awx_is_on_the_collections_path():
    manifest = os.path.join(COLLECTIONS, "ansible_collections", "awx", "awx", "MANIFEST.json")
    assert os.path.isfile(manifest), "awx.awx is missing from %s: run scripts/bootstrap.sh (make venv)" % COLLECTIONS


@pytest.mark.parametrize("path", [CONTROLLER, os.path.join(PROJECT, "fleet.yml")], ids=["controller.yml", "project/fleet.yml"])
def test_syntax_check(tmp_path, path):
    proc = _playbook(tmp_path, ["--syntax-check", path])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_every_module_is_fully_qualified(play):
    for task in play["tasks"]:
        (module,) = [k for k in task if k not in ("name", "when", "register", "vars", "no_log", "tags", "loop")]
        assert module.startswith(("awx.awx.", "ansible.builtin.")), module
    assert set(play["module_defaults"]) == {"group/awx.awx.controller"}


def test_the_survey_asks_for_role_variables_as_the_argument_spec_defines_them(play):
    options = _role_options()
    templates = [t["awx.awx.job_template"] for t in _tasks(play, "awx.awx.job_template")]
    surveyed = [t for t in templates if t.get("survey_enabled")]
    assert surveyed, "no job template has a survey"
    asked = set()
    for template in surveyed:
        spec = template["survey_spec"]
        assert survey_problems(spec) == []
        for question in spec["spec"]:
            variable = question["variable"]
            assert variable in options, "%s is not a variable of the role ami_distribute" % variable
            option = options[variable]
            kind = option.get("type", "str")
            asked.add(variable)
            # required only where the spec says so (and where it says so, required)
            assert question["required"] is bool(option.get("required", False)), variable
            qtype = question["type"]
            if kind == "str" and "choices" in option:
                assert qtype == "multiplechoice", variable
                assert question["choices"] == option["choices"], variable
            elif kind == "str":
                assert qtype in ("text", "textarea", "password"), variable
            elif kind == "int":
                assert qtype == "integer", variable
            elif kind == "float":
                assert qtype == "float", variable
            elif kind == "bool":
                assert qtype == "multiplechoice" and sorted(question["choices"]) == ["false", "true"], variable
            elif kind == "list" and option.get("elements") == "str" and "choices" in option:
                assert qtype == "multiselect" and question["choices"] == option["choices"], variable
            else:
                pytest.fail("%s (type %s) cannot be a survey question: a survey answer is a string, integer or float" % (variable, kind))
            if "default" in question:
                default = question["default"]
                if kind == "bool":
                    default = default == "true"
                assert default == option.get("default"), variable
    # What docs/awx.md names as the survey's questions
    assert {"ami_distribute_state", "ami_distribute_wait_timeout"} <= asked


def test_the_job_templates_run_collection_playbooks_with_the_aws_credential(play):
    def created(module, **where):
        return [_resolve(play, t[module]["name"]) for t in _tasks(play, module)
                if all(t[module].get(k) == v for k, v in where.items())]

    aws_credentials = created("awx.awx.credential", credential_type=AWS_CREDENTIAL_TYPE)
    assert aws_credentials
    templates = [t["awx.awx.job_template"] for t in _tasks(play, "awx.awx.job_template")]
    names = [_resolve(play, t["name"]) for t in templates]
    assert len(templates) == 2 and len(set(names)) == 2, names
    collection_playbooks = {os.path.splitext(f)[0] for f in os.listdir(os.path.join(ROOT, "playbooks")) if f.endswith(".yml")}
    for template in templates:
        # The project's playbook file imports a playbook of this collection
        playbook = _resolve(play, template["playbook"])
        project_file = os.path.join(PROJECT, playbook)
        assert os.path.isfile(project_file), playbook
        imported = [p["ansible.builtin.import_playbook"] for p in _load(project_file)]
        assert imported and all(i.startswith("orgshare.aws.") and i.split(".", 2)[2] in collection_playbooks for i in imported), imported
        # ... with the AWS credential, project, inventory and execution environment this playbook creates
        assert [_resolve(play, c) for c in template["credentials"]] == aws_credentials[:1]
        assert _resolve(play, template["project"]) in created("awx.awx.project")
        assert _resolve(play, template["inventory"]) in created("awx.awx.inventory")
        assert _resolve(play, template["execution_environment"]) in created("awx.awx.execution_environment")
        assert template["organization"] == "{{ orgshare_awx_organization }}"
        # docs/awx.md: forks, job slicing, limit and job type (check) on launch, extra vars on launch
        assert _resolve(play, template["forks"]) >= 1 and _resolve(play, template["job_slice_count"]) >= 1
        for ask in ("ask_limit_on_launch", "ask_job_type_on_launch", "ask_variables_on_launch"):
            assert template[ask] is True, ask
    # The unshare template sets the state in its extra vars
    unshare = [t for t in templates if "unshare" in t["name"]]
    assert len(unshare) == 1 and "'ami_distribute_state': 'absent'" in unshare[0]["extra_vars"]
    # The project: a Git repository whose URL the user sets, with the execution environment as its default
    (project,) = [t["awx.awx.project"] for t in _tasks(play, "awx.awx.project")]
    assert project["scm_type"] == "git" and _resolve(play, project["scm_url"]) == ""
    assert project["default_environment"] == "{{ orgshare_awx_ee_name }}"


def test_no_secret_is_written_in_the_playbook(play):
    (credential,) = [t["awx.awx.credential"] for t in _tasks(play, "awx.awx.credential")]
    for field, value in credential["inputs"].items():
        assert re.fullmatch(r"\{\{ orgshare_awx_aws_\w+( \| default\(omit, true\))? \}\}", value), field
    for name in ("orgshare_awx_aws_access_key", "orgshare_awx_aws_secret_key", "orgshare_awx_aws_session_token",
                 "orgshare_awx_controller_oauthtoken", "orgshare_awx_controller_password"):
        assert play["vars"][name] == "", name


def test_the_project_playbook_is_the_one_the_runner_test_runs():
    # tests/fleet/test_fleet_runner.py runs PROJECT_PLAYBOOK as AWX would, in an ansible-runner project directory
    assert _load(os.path.join(PROJECT, "fleet.yml")) == yaml.safe_load(PROJECT_PLAYBOOK)


USER_VARS = {
    "orgshare_awx_ee_image": "registry.example.com/automation/orgshare-aws-ee:0.1.0",
    "orgshare_awx_project_scm_url": "https://git.example.com/golden-images/fleet.git",
    "orgshare_awx_aws_access_key": "AKIAORGSHARETESTING1",
    "orgshare_awx_aws_secret_key": "orgshare-testing-secret",
}


def _apply(tmp_path, controller, extra):
    (tmp_path / "my-controller-vars.yml").write_text(yaml.safe_dump(extra))
    return _playbook(tmp_path, [CONTROLLER, "-e", "@my-controller-vars.yml"], controller)


def _recap(proc):
    m = re.search(r"localhost\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout)
    assert m, proc.stdout[-3000:] + proc.stderr[-3000:]
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, m.groups())))


@pytest.fixture
def controller():
    fake = FakeController().start()
    yield fake
    fake.stop()


def test_applied_to_a_controller(tmp_path, controller, play):
    proc = _apply(tmp_path, controller, dict(USER_VARS, orgshare_awx_legacy_security_token=True))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-3000:]
    assert _recap(proc)["failed"] == 0
    c = controller
    org = c.one("organizations", name="Default")["id"]

    ee = c.one("execution_environments", name="orgshare.aws")
    assert (ee["image"], ee["organization"], ee["pull"]) == (USER_VARS["orgshare_awx_ee_image"], org, "missing")
    project = c.one("projects", name="orgshare.aws fleet")
    assert (project["scm_type"], project["scm_url"], project["organization"], project["default_environment"]) == (
        "git", USER_VARS["orgshare_awx_project_scm_url"], org, ee["id"])
    assert "scm_branch" not in project and "credential" not in project  # not set: the repository's default branch
    credential = c.one("credentials", name="orgshare.aws AWS")
    assert credential["credential_type"] == c.one("credential_types", name=AWS_CREDENTIAL_TYPE)["id"]
    assert credential["organization"] == org
    # The fields of AWX's Amazon Web Services type; no empty STS token
    assert credential["inputs"] == {"username": USER_VARS["orgshare_awx_aws_access_key"], "password": USER_VARS["orgshare_awx_aws_secret_key"]}
    inventory = c.one("inventories", name="orgshare.aws fleet")
    source = c.one("inventory_sources", inventory=inventory["id"])
    assert (source["source"], source["source_project"], source["source_path"], source["update_on_launch"]) == (
        "scm", project["id"], "fleet-inventory.yml", True)
    assert c.find("inventory_updates", inventory_source=source["id"])  # read once, for job slicing

    distribute = c.one("job_templates", name="orgshare.aws: distribute the fleet")
    unshare = c.one("job_templates", name="orgshare.aws: unshare the fleet")
    for template in (distribute, unshare):
        assert (template["project"], template["inventory"], template["execution_environment"], template["organization"]) == (
            project["id"], inventory["id"], ee["id"], org)
        assert (template["playbook"], template["job_type"], template["forks"], template["job_slice_count"]) == ("fleet.yml", "run", 8, 1)
        assert template["ask_variables_on_launch"] and template["ask_limit_on_launch"] and template["ask_job_type_on_launch"]
        assert c.associated("job_templates", template["id"], "credentials") == [credential["id"]]
    # The survey, as the API received it, is the playbook's
    (task,) = [t["awx.awx.job_template"] for t in _tasks(play, "awx.awx.job_template") if t["awx.awx.job_template"].get("survey_enabled")]
    assert distribute["survey_enabled"] is True and c.surveys[distribute["id"]] == task["survey_spec"]
    assert unshare["survey_enabled"] is False and unshare["id"] not in c.surveys
    # Extra vars: the legacy STS token variable left for the job to evaluate (not evaluated here), the unshare state
    token = "{{ lookup('ansible.builtin.env', 'AWS_SECURITY_TOKEN') }}"
    assert json.loads(distribute["extra_vars"]) == {"ami_distribute_aws_session_token": token}
    assert json.loads(unshare["extra_vars"]) == {"ami_distribute_aws_session_token": token, "ami_distribute_state": "absent"}
    # No secret in the output
    assert USER_VARS["orgshare_awx_aws_secret_key"] not in proc.stdout + proc.stderr

    # Applied again: nothing changes but the inventory sync it asks for
    before = copy.deepcopy(c.objects["job_templates"])
    again = _apply(tmp_path, controller, dict(USER_VARS, orgshare_awx_legacy_security_token=True))
    assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-3000:]
    assert _recap(again)["changed"] == 1, again.stdout[-4000:]
    assert c.objects["job_templates"] == before
    assert not [r for r in c.requests[-100:] if r[0] == "PATCH"]


def test_without_keys_or_settings(tmp_path, controller):
    # Without AWS keys the credential is left alone: the job templates then need one of that name
    keyless = {k: v for k, v in USER_VARS.items() if "aws" not in k}
    proc = _apply(tmp_path, controller, keyless)
    assert proc.returncode != 0
    assert "Request to /api/v2/credentials/" in proc.stdout and "returned 0 items, expected 1" in proc.stdout, proc.stdout[-3000:]
    assert not controller.find("credentials")
    controller.add("credentials", name="orgshare.aws AWS", organization=1,
                   credential_type=controller.one("credential_types", name=AWS_CREDENTIAL_TYPE)["id"], inputs={})
    proc = _apply(tmp_path, controller, keyless)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-3000:]
    assert len(controller.find("job_templates")) == 2
    # A missing setting stops the run before it calls the controller
    calls = len(controller.requests)
    proc = _apply(tmp_path, controller, {"orgshare_awx_ee_image": USER_VARS["orgshare_awx_ee_image"]})
    assert proc.returncode != 0 and "orgshare_awx_project_scm_url" in proc.stdout, proc.stdout[-3000:]
    assert len(controller.requests) == calls
