"""A tiny in-memory stand-in for the AWX / Automation Controller REST API (``/api/v2/``), enough for the awx.awx
modules that examples/awx/controller.yml uses to run against it for real (tests/fleet/test_awx_as_code.py).

It keeps objects per endpoint (organizations, credential_types, credentials, execution_environments, projects,
inventories, inventory_sources, job_templates), answers the list lookups the modules make (``?name=...&organization=1``),
creates (POST), updates (PATCH) and deletes them, and serves the sub-resources the modules touch: a job template's
``credentials/`` (associations) and ``survey_spec/``, a project's first update and an inventory source's ``update/``
(finished at once). Like AWX it refuses a reference to an object that does not exist (an organization, a project,
an inventory, an execution environment, a credential or credential type, by id) and validates a survey spec as
AWX's API does (the keys every question needs, multiple-choice defaults among the choices, unique variables).
Every request needs ``Authorization: Bearer <token>``. Only 127.0.0.1."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

API = "/api/v2/"
PRODUCT, VERSION = "AWX", "24.6.1"
ENDPOINTS = {
    "organizations": "organization",
    "credential_types": "credential_type",
    "credentials": "credential",
    "execution_environments": "execution_environment",
    "projects": "project",
    "project_updates": "project_update",
    "inventories": "inventory",
    "inventory_sources": "inventory_source",
    "inventory_updates": "inventory_update",
    "job_templates": "job_template",
    "instance_groups": "instance_group",
    "labels": "label",
    "notification_templates": "notification_template",
}
# Fields that reference another object (by id), and its endpoint
REFERENCES = {
    "organization": "organizations",
    "credential_type": "credential_types",
    "credential": "credentials",
    "execution_environment": "execution_environments",
    "default_environment": "execution_environments",
    "project": "projects",
    "source_project": "projects",
    "inventory": "inventories",
}
# The sub-resources an object links to (``related``)
RELATED = ("credentials", "survey_spec", "update", "instance_groups", "labels", "notification_templates_started",
           "notification_templates_success", "notification_templates_error", "input_inventories")
SURVEY_TYPES = ("text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect")
FINISHED = "2026-01-01T00:00:00Z"


class ApiError(Exception):
    def __init__(self, status, body):
        super().__init__(status, body)
        self.status, self.body = status, body


def survey_problems(spec):
    """What AWX's API refuses in a survey spec (awx/api/views: JobTemplateSurveySpec), as a list of messages."""
    problems = []
    if not isinstance(spec, dict) or not isinstance(spec.get("spec"), list):
        return ["a survey spec is a dict with a list 'spec'"]
    for key in ("name", "description"):
        if key not in spec:
            problems.append("'%s' missing from survey spec" % key)
    seen = set()
    for index, question in enumerate(spec["spec"]):
        if not isinstance(question, dict):
            problems.append("question %d is not a dict" % index)
            continue
        for key in ("type", "question_name", "variable", "required"):
            if key not in question:
                problems.append("'%s' missing from survey question %d" % (key, index))
        if question.get("type") not in SURVEY_TYPES:
            problems.append("question %d: type %r is not one of %s" % (index, question.get("type"), ", ".join(SURVEY_TYPES)))
        if question.get("variable") in seen:
            problems.append("question %d: variable %r is used twice" % (index, question.get("variable")))
        seen.add(question.get("variable"))
        if not isinstance(question.get("required", False), bool):
            problems.append("question %d: required must be a bool" % index)
        if question.get("type") in ("multiplechoice", "multiselect"):
            choices = question.get("choices")
            if isinstance(choices, str):
                choices = choices.split("\n")
            if not isinstance(choices, list) or not choices:
                problems.append("question %d: choices must be a non-empty list" % index)
            elif question.get("default") not in (None, ""):
                defaults = question["default"].split("\n") if question["type"] == "multiselect" else [question["default"]]
                if not set(defaults) <= set(choices):
                    problems.append("question %d: default %r is not among the choices" % (index, question["default"]))
        if question.get("type") == "integer" and question.get("default") not in (None, ""):
            if not isinstance(question["default"], int) or isinstance(question["default"], bool):
                problems.append("question %d: the default of an integer question must be an integer" % index)
    return problems


class FakeController:
    """The API's state; ``start()`` serves it on 127.0.0.1 (``url``), ``stop()`` ends the server."""

    def __init__(self, token="fake-controller-token"):
        self.token = token
        self.objects = {endpoint: {} for endpoint in ENDPOINTS}
        self.associations = {}  # (endpoint, id, sub) -> [ids]
        self.surveys = {}  # job template id -> survey spec
        self.requests = []  # (method, path, body) of every request
        self._next_id = 1
        self._lock = threading.Lock()
        self._server = None
        self.add("organizations", name="Default")
        for name, kind in (("Amazon Web Services", "cloud"), ("Source Control", "scm"), ("Container Registry", "registry")):
            self.add("credential_types", name=name, kind=kind, managed=True)

    # ---- state -----------------------------------------------------------------------------------
    def add(self, endpoint, **fields):
        oid = self._next_id
        self._next_id += 1
        url = "%s%s/%d/" % (API, endpoint, oid)
        obj = {"id": oid, "type": ENDPOINTS[endpoint], "url": url, "summary_fields": {}, "created": FINISHED, "modified": FINISHED}
        obj["related"] = {sub: "%s%s/" % (url, sub) for sub in RELATED}
        obj.update(fields)
        self.objects[endpoint][oid] = obj
        return obj

    def find(self, endpoint, **fields):
        """The objects of ``endpoint`` whose fields equal ``fields``."""
        return [o for o in self.objects[endpoint].values() if all(o.get(k) == v for k, v in fields.items())]

    def one(self, endpoint, **fields):
        (found,) = self.find(endpoint, **fields)
        return found

    def associated(self, endpoint, oid, sub):
        return list(self.associations.get((endpoint, oid, sub), []))

    def _check_references(self, fields):
        for field, endpoint in REFERENCES.items():
            value = fields.get(field)
            if value not in (None, "") and value not in self.objects[endpoint]:
                raise ApiError(400, {field: ["Invalid pk \"%s\" - object does not exist." % value]})

    def _create(self, endpoint, body):
        if endpoint in ("project_updates", "inventory_updates", "credential_types"):
            raise ApiError(405, {"detail": "Method \"POST\" not allowed."})
        if not body.get("name"):
            raise ApiError(400, {"name": ["This field is required."]})
        scope = {"organization": body["organization"]} if endpoint in ("projects", "inventories", "credentials", "job_templates") \
            and body.get("organization") else {}
        if endpoint == "inventory_sources":
            scope = {"inventory": body.get("inventory")}
        if self.find(endpoint, name=body["name"], **scope):
            raise ApiError(400, {"__all__": ["%s with this Name already exists." % ENDPOINTS[endpoint]]})
        self._check_references(body)
        if endpoint == "job_templates":
            for field in ("project", "inventory", "playbook"):
                if not body.get(field):
                    raise ApiError(400, {field: ["This field is required."]})
        obj = self.add(endpoint, **body)
        if endpoint == "projects":
            obj["scm_revision"] = ""
            if body.get("scm_type"):
                update = self.add("project_updates", name=body["name"], project=obj["id"], status="successful",
                                  failed=False, finished=FINISHED)
                obj["summary_fields"]["current_update"] = {"id": update["id"], "status": "successful"}
                obj["scm_revision"] = "0" * 40
        return obj

    def _update(self, endpoint, oid, body):
        obj = self.objects[endpoint][oid]
        self._check_references(body)
        obj.update(body)
        return obj

    # ---- HTTP ------------------------------------------------------------------------------------
    def handle(self, method, path, query, body):
        """(status, JSON body or None) for one request."""
        if not path.startswith(API):
            if path in ("/api/", "/api"):
                return 200, {"current_version": API, "available_versions": {"v2": API}}
            raise ApiError(404, {"detail": "Not found."})
        parts = [p for p in path[len(API):].split("/") if p]
        if not parts or parts[0] not in ENDPOINTS:
            if parts == ["ping"]:
                return 200, {"version": VERSION}
            raise ApiError(404, {"detail": "Not found."})
        endpoint = parts[0]
        if len(parts) == 1:
            if method == "GET":
                return 200, self._list(endpoint, query)
            if method == "POST":
                return 201, self._create(endpoint, body)
            raise ApiError(405, {"detail": "Method \"%s\" not allowed." % method})
        try:
            oid = int(parts[1])
        except ValueError:
            raise ApiError(404, {"detail": "Not found."}) from None
        if oid not in self.objects[endpoint]:
            raise ApiError(404, {"detail": "Not found."})
        if len(parts) == 2:
            if method == "GET":
                return 200, self.objects[endpoint][oid]
            if method in ("PATCH", "PUT"):
                return 200, self._update(endpoint, oid, body)
            if method == "DELETE":
                del self.objects[endpoint][oid]
                return 204, None
            raise ApiError(405, {"detail": "Method \"%s\" not allowed." % method})
        sub = parts[2]
        if sub == "survey_spec" and endpoint == "job_templates":
            if method == "GET":
                return 200, self.surveys.get(oid, {})
            if method == "POST":
                problems = survey_problems(body)
                if problems:
                    raise ApiError(400, {"error": "; ".join(problems)})
                self.surveys[oid] = body
                return 200, None
            if method == "DELETE":
                self.surveys.pop(oid, None)
                return 200, None
        if sub == "update" and endpoint == "inventory_sources" and method == "POST":
            update = self.add("inventory_updates", name=self.objects[endpoint][oid]["name"], inventory_source=oid,
                              status="successful", failed=False, finished=FINISHED)
            return 202, update
        if sub == "update" and endpoint == "projects" and method == "POST":
            update = self.add("project_updates", name=self.objects[endpoint][oid]["name"], project=oid,
                              status="successful", failed=False, finished=FINISHED)
            return 202, update
        if sub in ENDPOINTS or sub.startswith("notification_templates_") or sub == "input_inventories":
            target = sub if sub in ENDPOINTS else ("notification_templates" if sub.startswith("notification_templates_") else "inventories")
            key = (endpoint, oid, sub)
            if method == "GET":
                results = [self.objects[target][i] for i in self.associations.get(key, []) if i in self.objects[target]]
                return 200, {"count": len(results), "next": None, "previous": None, "results": results}
            if method == "POST":
                other = body.get("id")
                if other not in self.objects[target]:
                    raise ApiError(400, {"msg": "no %s with id %r" % (target, other)})
                ids = self.associations.setdefault(key, [])
                if body.get("disassociate"):
                    if other in ids:
                        ids.remove(other)
                elif other not in ids:
                    ids.append(other)
                return 204, None
        raise ApiError(404, {"detail": "Not found."})

    def _list(self, endpoint, query):
        results = list(self.objects[endpoint].values())
        ors = {k[len("or__"):]: v for k, v in query.items() if k.startswith("or__")}
        if ors:
            results = [o for o in results if any(str(o.get(k)) == v for k, v in ors.items())]
        for key, value in query.items():
            if key.startswith("or__") or key in ("page", "page_size", "order_by"):
                continue
            results = [o for o in results if str(o.get(key)) == value]
        return {"count": len(results), "next": None, "previous": None, "results": results}

    def start(self):
        controller = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    body = None
                with controller._lock:
                    controller.requests.append((self.command, split.path, body))
                    try:
                        if self.headers.get("Authorization") != "Bearer %s" % controller.token:
                            raise ApiError(401, {"detail": "Authentication credentials were not provided."})
                        if body is None:
                            raise ApiError(400, {"detail": "JSON parse error"})
                        status, payload = controller.handle(self.command, split.path, dict(parse_qsl(split.query)), body)
                    except ApiError as e:
                        status, payload = e.status, e.body
                data = json.dumps(payload).encode() if payload is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-API-Product-Name", PRODUCT)
                self.send_header("X-API-Product-Version", VERSION)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self._server.server_address[1]

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
