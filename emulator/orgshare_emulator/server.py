"""The emulator server: moto's WSGI app behind a middleware that records, delays and fails calls."""

from __future__ import annotations

import io
import json
import random
import re
import threading
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field

from werkzeug.serving import WSGIRequestHandler, make_server

from . import patches

DEFAULT_ACCOUNT_ID = "123456789012"

_CRED_RE = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")

# The throttling error each protocol answers with, as AWS does.
_THROTTLE = {
    "ec2": ("RequestLimitExceeded", "Request limit exceeded.", 503),
    "kms": ("ThrottlingException", "Rate exceeded", 400),
    "organizations": ("TooManyRequestsException", "AWS Organizations can't complete your request because another request is already in progress.", 400),
    "sts": ("Throttling", "Rate exceeded", 400),
    # SSM: "ThrottlingException: Rate exceeded" (PutParameter / GetParameter documentation, botocore's SSM model)
    "ssm": ("ThrottlingException", "Rate exceeded", 400),
}
# kind "denied": the caller's IAM policies do not allow the action. Codes: EC2 API Reference, "Error codes for
# the Amazon EC2 API" (UnauthorizedOperation, 403) https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html;
# KMS and Organizations API References, "Common Errors" (AccessDeniedException, 400); STS: AccessDenied, 403
# (IAM "Troubleshoot access denied error messages"). Not retried by botocore or amazon.aws.
_DENIED = {
    "ec2": ("UnauthorizedOperation", "You are not authorized to perform this operation.", 403),
    "kms": ("AccessDeniedException", "User is not authorized to perform this operation.", 400),
    "organizations": ("AccessDeniedException", "You don't have permissions to access this resource.", 400),
    "sts": ("AccessDenied", "User is not authorized to perform this operation.", 403),
    # SSM: AccessDeniedException, 400 (AWS Systems Manager API Reference, "Common Errors")
    "ssm": ("AccessDeniedException", "User is not authorized to perform this operation.", 400),
}
# kind "invalid": a request the service refuses as invalid, which nobody retries. Codes: Organizations API
# Reference, the errors of each action (InvalidInputException, 400); KMS and STS "Common Errors"
# (ValidationException / ValidationError, 400); EC2 "Error codes for the Amazon EC2 API" (InvalidParameterValue, 400).
_INVALID = {
    "ec2": ("InvalidParameterValue", "The request is invalid.", 400),
    "kms": ("ValidationException", "The request is invalid.", 400),
    "organizations": ("InvalidInputException", "You provided a value that does not match the required pattern.", 400),
    "sts": ("ValidationError", "The request is invalid.", 400),
    "ssm": ("ValidationException", "The request is invalid.", 400),
}


def parse_request(environ, body):
    """Return (service, action, region, access_key) for one AWS API request."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    access_key = service = region = None
    m = _CRED_RE.search(auth)
    if m:
        access_key, region, service = m.group(1), m.group(2), m.group(3)
    action = None
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        action = target.split(".", 1)[-1]
    else:
        params = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        if "Action" not in params and body:
            try:
                params = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            except Exception:  # pragma: no cover - binary bodies
                params = {}
        if "Action" in params:
            action = params["Action"][0]
    if action is None and service == "ram":  # REST-JSON: the action is the path (/createresourceshare)
        from .ram import ACTIONS

        action = ACTIONS.get(environ.get("PATH_INFO", "").rstrip("/").lower())
    return service, action, region, access_key


@dataclass
class Call:
    service: str
    action: str
    region: str
    access_key: str
    time: float
    status: int = 0
    error: str | None = None
    # the orgshare.aws module that made the call (its user agent's ``orgshare.aws/<module>``), if any
    agent: str | None = None

    def as_dict(self):
        return {
            "agent": self.agent,
            "service": self.service,
            "action": self.action,
            "region": self.region,
            "access_key": self.access_key,
            "time": self.time,
            "status": self.status,
            "error": self.error,
        }


@dataclass
class Knobs:
    latency_ms: float = 0.0
    # {"rate": 0.3, "actions": ["ModifyImageAttribute"] | None, "kind": "throttle" | "503", "seed": 1}
    fault_rate: float = 0.0
    fault_actions: list | None = None
    # only calls to these regions fail (None: every region): a region that is down
    fault_regions: list | None = None
    fault_kind: str = "throttle"
    # per action, a list of answers to give to the next calls: "throttle", "503" or None (pass)
    fault_schedule: dict = field(default_factory=dict)
    rng: random.Random = field(default_factory=lambda: random.Random(1))


class _Middleware:
    def __init__(self, app, emulator):
        self.app = app
        self.emu = emulator

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_orgshare/"):
            return self.emu._control(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        service, action, region, access_key = parse_request(environ, body)
        if service is not None:
            patches.ensure(service)
        if environ.get("HTTP_X_ORGSHARE_INTERNAL"):
            # the emulator's own calls (seeding): not recorded, delayed or failed
            return self.app(environ, start_response)
        call = Call(service or "?", action or "?", region or "?", access_key or "?", time.time())
        agent = _AGENT_RE.search(environ.get("HTTP_USER_AGENT", ""))
        if agent:
            call.agent = agent.group(1)
        if service is not None and action is not None:
            with self.emu._lock:
                self.emu._calls.append(call)
        knobs = self.emu.knobs
        if knobs.latency_ms and service is not None:
            time.sleep(knobs.latency_ms / 1000.0)
        fault = self.emu._fault_for(service, action, region)
        if fault:
            return self._fault(fault, service, call, start_response)

        def recording_start_response(status, headers, exc_info=None):
            call.status = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        result = self.app(environ, recording_start_response)
        if call.status >= 400:
            chunks = list(result)
            m = re.search(rb"<Code>([^<]+)</Code>|\"__type\"\s*:\s*\"([^\"]+)\"", b"".join(chunks))
            if m:
                call.error = (m.group(1) or m.group(2)).decode().split("#")[-1]
            return chunks
        return result

    @staticmethod
    def _fault(kind, service, call, start_response):
        if kind == "503":
            call.status, call.error = 503, "ServiceUnavailable"
            start_response("503 Service Unavailable", [("Content-Type", "text/plain"), ("Content-Length", "0")])
            return [b""]
        table = {"denied": _DENIED, "invalid": _INVALID}.get(kind, _THROTTLE)
        code, message, status = table.get(service) or {"denied": ("AccessDenied", "Access denied", 403),
                                                       "invalid": ("ValidationError", "Invalid request", 400)}.get(
            kind, ("Throttling", "Rate exceeded", 400))
        call.status, call.error = status, code
        if service in ("ec2",):
            body = (
                '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code>'
                "<Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>"
                % (code, message, uuid.uuid4())
            ).encode()
            ctype = "text/xml"
        elif service in ("sts", "iam"):
            body = (
                '<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>'
                "<RequestId>%s</RequestId></ErrorResponse>" % (code, message, uuid.uuid4())
            ).encode()
            ctype = "text/xml"
        else:
            body = json.dumps({"__type": code, "message": message}).encode()
            ctype = "application/x-amz-json-1.1"
        reason = {400: "Bad Request", 403: "Forbidden", 503: "Service Unavailable"}[status]
        start_response("%d %s" % (status, reason), [("Content-Type", ctype), ("Content-Length", str(len(body)))])
        return [body]


_AGENT_RE = re.compile(r"\borgshare\.aws/([A-Za-z0-9_]+)")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


def _no_public_amis():
    """moto loads ~1,000 public AMIs per region on first use (seconds per region); the
    collection only deals with the caller's own images, so start with none."""
    import os
    import tempfile

    if "MOTO_AMIS_PATH" not in os.environ:
        path = os.path.join(tempfile.gettempdir(), "orgshare-emulator-no-amis.json")
        # written under a private name and renamed: emulators starting at once never read half a file
        tmp = "%s.%d" % (path, os.getpid())
        with open(tmp, "w") as f:
            f.write("[]")
        os.replace(tmp, path)
        os.environ["MOTO_AMIS_PATH"] = path


class Emulator:
    """moto plus the AWS behaviour orgshare.aws relies on, served on 127.0.0.1.

    >>> emu = Emulator(port=0).start()
    >>> emu.endpoint_url
    'http://127.0.0.1:...'
    """

    def __init__(self, port=0, host="127.0.0.1", latency_ms=0, copy_pending_seconds=0, image_block_public_access="unblocked",
                 public_ami_quota=5):
        _no_public_amis()
        self.host = host
        self.port = port
        self.knobs = Knobs(latency_ms=latency_ms)
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._server = None
        self._thread = None
        self.set_copy_pending_seconds(copy_pending_seconds)
        self.set_image_block_public_access_default(image_block_public_access)
        self.set_public_ami_quota(public_ami_quota)

    # ---- life cycle -------------------------------------------------------------------
    def start(self):
        from .compat import check_moto

        check_moto()  # before moto is patched: refuse a moto version the emulator was not tested with
        from moto.server import DomainDispatcherApplication, create_backend_app

        from . import speed

        speed.apply()
        app = _Middleware(DomainDispatcherApplication(create_backend_app), self)
        self._server = make_server(self.host, self.port, app, threaded=True, request_handler=_QuietHandler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="orgshare-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def endpoint_url(self):
        return "http://%s:%d" % (self.host, self.port)

    def internal_client(self, service, region="us-east-1", access_key="AKIAORGSHAREINTERNAL", secret_key="orgshare-internal"):
        """A boto3 client on this emulator whose calls bypass the call record, latency and faults
        (used for seeding). The default access key maps to the default account 123456789012."""
        import boto3
        import botocore.config

        client = boto3.client(
            service,
            region_name=region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 3}),
        )

        def mark(request, **kwargs):
            request.headers["X-Orgshare-Internal"] = "1"

        client.meta.events.register("before-sign.*.*", mark)
        return client

    def reset(self):
        """Forget every AWS resource, the call record and the knobs (not the port, nor the settings kept
        like constructor options: copy pending time, image block public access default, public AMI quota)."""
        from moto.moto_api import state_manager  # noqa: F401  (import registers the backend)
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        from . import patches

        patches.reset_state()
        pending = self.copy_pending_seconds
        self.knobs = Knobs()
        self.set_copy_pending_seconds(pending)
        self.set_image_block_public_access_default(self.image_block_public_access_default)
        self.set_public_ami_quota(self.public_ami_quota)
        self.clear_calls()

    # ---- knobs --------------------------------------------------------------------------
    def set_latency(self, ms):
        self.knobs.latency_ms = float(ms)

    def set_copy_pending_seconds(self, seconds):
        from . import patches

        self.copy_pending_seconds = float(seconds)
        patches.CONFIG["copy_pending_seconds"] = float(seconds)

    def set_image_block_public_access_default(self, state):
        """The image block public access state of every account and region that has not called
        Enable/DisableImageBlockPublicAccess: "unblocked" (default) or "block-new-sharing" (AWS's default
        for new accounts). Accounts and regions that set their own state keep it until reset()."""
        from . import patches

        if state not in ("block-new-sharing", "unblocked"):
            raise ValueError("image block public access state must be block-new-sharing or unblocked, not %r" % (state,))
        self.image_block_public_access_default = state
        patches.CONFIG["image_block_public_access_default"] = state

    def set_public_ami_quota(self, quota):
        """The "Public AMIs" quota per account and region (AWS's default 5, adjustable)."""
        from . import patches

        self.public_ami_quota = int(quota)
        patches.CONFIG["public_ami_quota"] = int(quota)

    def inject_faults(self, rate=0.0, actions=None, kind="throttle", schedule=None, seed=1, regions=None):
        """Fail a share ``rate`` of the calls to ``actions`` (all when None) in ``regions`` (all when None) with ``kind``
        ("throttle": the service's throttling error; "503": an empty HTTP 503; "denied": the service's access-denied
        error; "invalid": its invalid-request error), and/or answer
        the next calls of each action in ``schedule`` ({action: ["throttle", None, "503", ...]})."""
        self.knobs.fault_rate = float(rate)
        self.knobs.fault_actions = list(actions) if actions else None
        self.knobs.fault_kind = kind
        self.knobs.fault_regions = list(regions) if regions else None
        self.knobs.fault_schedule = {k: list(v) for k, v in (schedule or {}).items()}
        self.knobs.rng = random.Random(seed)

    def clear_faults(self):
        self.inject_faults()

    def _fault_for(self, service, action, region=None):
        if service is None or action is None:
            return None
        k = self.knobs
        if k.fault_regions is not None and region not in k.fault_regions:
            return None
        with self._lock:
            queue = k.fault_schedule.get(action)
            if queue:
                return queue.pop(0)
            if k.fault_rate and (k.fault_actions is None or action in k.fault_actions):
                if k.rng.random() < k.fault_rate:
                    return k.fault_kind
        return None

    # ---- call record ----------------------------------------------------------------------
    @property
    def calls(self):
        """Every API call so far: dicts with service, action, region, access_key, time, status, error."""
        with self._lock:
            return [c.as_dict() for c in self._calls]

    def clear_calls(self):
        with self._lock:
            self._calls = []

    def actions(self, service=None, successful_only=False):
        """The set of "service:Action" names called (optionally of one service)."""
        return {
            "%s:%s" % (c["service"], c["action"])
            for c in self.calls
            if (service is None or c["service"] == service) and (not successful_only or c["status"] < 400)
        }

    # ---- seeding ---------------------------------------------------------------------------
    def seed(self, **kwargs):
        """Create the demo organization, keys and AMIs; see seed.seed(). Returns a JSON-able dict."""
        from .seed import seed

        return seed(self, **kwargs)

    # ---- HTTP control endpoint (for the server mode) --------------------------------------
    def _control(self, environ, start_response):
        path = environ["PATH_INFO"][len("/_orgshare/"):]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        args = json.loads(raw or b"{}")
        status, out = "200 OK", {}
        try:
            if path == "calls":
                out = {"calls": self.calls}
            elif path == "calls/clear":
                self.clear_calls()
            elif path == "config":
                if "latency_ms" in args:
                    self.set_latency(args["latency_ms"])
                if "copy_pending_seconds" in args:
                    self.set_copy_pending_seconds(args["copy_pending_seconds"])
                if "faults" in args:
                    self.inject_faults(**args["faults"])
                if "image_block_public_access_default" in args:
                    self.set_image_block_public_access_default(args["image_block_public_access_default"])
                if "public_ami_quota" in args:
                    self.set_public_ami_quota(args["public_ami_quota"])
                out = {"latency_ms": self.knobs.latency_ms, "copy_pending_seconds": self.copy_pending_seconds,
                       "image_block_public_access_default": self.image_block_public_access_default,
                       "public_ami_quota": self.public_ami_quota}
            elif path == "reset":
                self.reset()
            elif path == "seed":
                out = self.seed(**args)
            elif path == "credentials":
                from .fixtures import credentials_for

                access_key, secret_key = credentials_for(self, args["account_id"])
                out = {"access_key": access_key, "secret_key": secret_key, "account_id": args["account_id"]}
            elif path == "health":
                out = {"ok": True}
            else:
                status, out = "404 Not Found", {"error": "unknown control path %r" % path}
        except Exception as e:  # report to the caller instead of a bare 500
            status, out = "500 Internal Server Error", {"error": "%s: %s" % (type(e).__name__, e)}
        body = json.dumps(out, default=str).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def control(endpoint_url, path, payload=None):
    """Call a running emulator's control endpoint (used by the benchmarks and the demo)."""
    data = json.dumps(payload or {}).encode()
    req = urllib.request.Request(endpoint_url.rstrip("/") + "/_orgshare/" + path, data=data, method="POST")
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read() or b"{}")
