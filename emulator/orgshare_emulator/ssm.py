"""SSM Parameter Store: the asynchronous validation of parameters of data type ``aws:ec2:image``.

moto accepts ``DataType="aws:ec2:image"`` with any value and stores it at once (its own comment: "The check of
the existence of an AMI ID in the account for a parameter of DataType `aws:ec2:image` is not supported").

AWS facts modelled here (see docs/aws-facts.md, "SSM parameters of data type aws:ec2:image"):

- PutParameter with ``DataType="aws:ec2:image"`` answers at once, with the new version number, before the value is
  validated: "a successful HTTP 200 response does not guarantee that your parameter was successfully created or
  updated. The aws:ec2:image value is validated asynchronously, and the PutParameter call returns before the
  validation is complete. If you submit an invalid AMI value, the PutParameter operation will return success, but
  the asynchronous validation will fail and the parameter will not be created or updated" (PutParameter
  ``DataType`` in botocore's SSM model). So a malformed value is not refused by the call either.
- What is validated: "the parameter value is in the required format, such as ami-12345abcdeEXAMPLE, and that the
  specified AMI is available in your Amazon Web Services account" (the same documentation). Here: ``ami-`` and 8 or
  17 hexadecimal digits, and an AMI the caller's DescribeImages shows in the parameter's region (its own, public,
  or shared with its account, organization or OU; see ec2.py). A disabled AMI (which DescribeImages leaves out by
  default) is refused (**unverified**); an AMI in another state than ``available`` is accepted (**unverified**).
- Until the validation has succeeded, "For a new parameter, a ParameterNotFound message is returned until the
  parameter is validated. For an existing parameter that you are updating, information about the new version isn't
  included until the parameter is validated" (AWS Systems Manager User Guide, "Native parameter support for Amazon
  Machine Image IDs", https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-ec2-aliases.html,
  troubleshooting). Here every read (GetParameter, GetParameters, GetParameterHistory, GetParametersByPath,
  DescribeParameters) leaves the pending version out (beyond GetParameter: **unverified**).
- "If you attempt to create or update the parameter again before the validation process completes, the system
  reports that validation is still in process" (the same page): PutParameter of that parameter fails while a
  validation is pending. The error code and message are **unverified** (``ValidationException`` here).
- The result is reported as an EventBridge event, detail-type "Parameter Store Change", source ``aws.ssm``, whose
  ``detail`` has ``exception`` ("Unable to Describe Resource") when the validation failed, ``dataType``, ``name``,
  ``type`` and ``operation`` (``Create`` / ``Update``), as in the page's sample. ``events(account, region)`` lists
  them (in-process only). The fields of a successful validation's event beyond these are **unverified**.
- How long the validation takes: "This process can take up to a few minutes" (the same page). Here
  ``CONFIG["validation_seconds"]`` (default 0: settled at the end of the PutParameter call; the answer still has
  the version number and the value may still be refused). Computed lazily, on the next SSM call of that account and
  region, on the clock ``time.monotonic`` of this module (tests put a hand-moved clock there).
- Not modelled: whether a version number taken by a refused value is used again (**unverified**; the next write
  gets the number after the last stored version), DeleteParameter of a parameter whose validation is pending.
"""

from __future__ import annotations

import re
import threading
import time

DATA_TYPE = "aws:ec2:image"
# The AMI id format (EC2: ami- and 8 or 17 hexadecimal digits).
AMI_ID_RE = re.compile(r"^ami-[0-9a-f]{8}(?:[0-9a-f]{9})?$")
UNABLE = "Unable to Describe Resource"

# The knob: seconds from PutParameter until the value is validated (kept across reset(), like the EC2 knobs).
CONFIG = {"validation_seconds": 0.0}

_LOCK = threading.RLock()
# Kept on each SimpleSystemManagerBackend (moto's reset() empties a backend's __dict__, and so these with it).
_PENDING_ATTR = "_orgshare_pending_validations"
_EVENTS_ATTR = "_orgshare_parameter_events"


class _Pending:
    def __init__(self, key, name, parameter, operation):
        self.key = key
        self.name = name
        self.parameter = parameter
        self.operation = operation
        self.start = time.monotonic()
        self.duration = float(CONFIG["validation_seconds"])

    @property
    def due(self):
        return self.duration <= 0 or time.monotonic() - self.start >= self.duration


def _pending(backend):
    found = backend.__dict__.get(_PENDING_ATTR)
    if found is None:
        found = backend.__dict__[_PENDING_ATTR] = []
    return found


def _events(backend):
    found = backend.__dict__.get(_EVENTS_ATTR)
    if found is None:
        found = backend.__dict__[_EVENTS_ATTR] = []
    return found


def events(account_id, region):
    """The "Parameter Store Change" events of aws:ec2:image validations in that account and region, oldest first."""
    from moto.ssm.models import ssm_backends

    backend = ssm_backends[account_id][region]
    with _LOCK:
        settle(backend)
        return [dict(e) for e in _events(backend)]


def image_available(account_id, region, value):
    """Whether ``value`` is an AMI id of an AMI the account may see in the region (DescribeImages, no disabled AMI)."""
    if not isinstance(value, str) or not AMI_ID_RE.match(value):
        return False
    from . import ec2 as ec2_patch

    try:
        images = ec2_patch.describe_images(ec2_patch._ec2_backend(account_id, region), ami_ids=[value], include_disabled=False)
    except Exception:  # noqa: BLE001 - moto's InvalidAMIID.NotFound / Malformed
        return False
    return any(getattr(image, "id", None) == value for image in images)


def _event(backend, pending, exception=None):
    from moto.ssm.utils import parameter_arn

    detail = {"dataType": DATA_TYPE, "name": pending.name, "type": pending.parameter.parameter_type, "operation": pending.operation}
    if exception:
        detail["exception"] = exception
    return {
        "version": "0",
        "detail-type": "Parameter Store Change",
        "source": "aws.ssm",
        "account": backend.account_id,
        "region": backend.region_name,
        "resources": [parameter_arn(backend.account_id, backend.region_name, pending.name)],
        "detail": detail,
    }


def settle(backend):
    """Validate every pending value whose time has come: store it as the parameter's new version, or drop it."""
    from moto.ssm.models import PARAMETER_VERSION_LIMIT

    with _LOCK:
        pending = _pending(backend)
        if not pending:
            return
        due = [p for p in pending if p.due]
        if not due:
            return
        pending[:] = [p for p in pending if not p.due]
        for item in due:
            if image_available(backend.account_id, backend.region_name, item.parameter.value):
                versions = backend._parameters[item.name]
                if len(versions) >= PARAMETER_VERSION_LIMIT:
                    versions.pop(0)
                versions.append(item.parameter)
                _events(backend).append(_event(backend, item))
            else:
                if item.operation == "Create":  # the tags PutParameter was given go with the parameter that never was
                    backend._resource_tags.get("Parameter", {}).pop(item.key, None)
                _events(backend).append(_event(backend, item, UNABLE))


def _still_validating(name):
    from moto.ssm.exceptions import ValidationException

    return ValidationException(
        "Parameter %s is being validated: the validation of its aws:ec2:image value is still in process. "
        "Try again later." % name
    )


def apply():
    from moto.ssm.models import SimpleSystemManagerBackend

    orig_put = SimpleSystemManagerBackend.put_parameter

    def put_parameter(self, name, description, value, parameter_type, allowed_pattern, keyid, overwrite, tags, data_type, tier, policies):
        with _LOCK:
            settle(self)
            key = self._parameters.normalize_name(name)
            if any(p.key == key for p in _pending(self)):
                raise _still_validating(name)
            if data_type != DATA_TYPE:
                return orig_put(self, name, description, value, parameter_type, allowed_pattern, keyid, overwrite, tags,
                                data_type, tier, policies)
            existed = key in self._parameters and bool(self._parameters[key])
            before = list(self._parameters[key]) if existed else []
            parameter = orig_put(self, name, description, value, parameter_type, allowed_pattern, keyid, overwrite, tags,
                                 data_type, tier, policies)
            # Not stored yet: the parameter stays as it was until the value is validated.
            if before:
                self._parameters[key][:] = before
            else:
                dict.pop(self._parameters, key, None)
            _pending(self).append(_Pending(key, name, parameter, "Update" if existed else "Create"))
            settle(self)
            return parameter

    SimpleSystemManagerBackend.put_parameter = put_parameter

    # Every read settles the validations that are due first (and so never shows a pending one).
    for method in ("get_parameter", "get_parameters", "get_parameter_history", "get_parameters_by_path",
                   "describe_parameters", "delete_parameter", "delete_parameters", "label_parameter_version"):
        _settle_before(SimpleSystemManagerBackend, method)


def _settle_before(cls, name):
    orig = getattr(cls, name)

    def method(self, *args, **kwargs):
        settle(self)
        return orig(self, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = orig.__doc__
    setattr(cls, name, method)
