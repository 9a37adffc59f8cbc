"""Behaviour patches over moto. Each submodule documents the AWS fact it models:

- ``kms``: the AWS managed ``alias/aws/ebs`` key, key-policy validation, PolicyName default.
- ``organizations``: only the management account or a delegated administrator may read the
  organization's structure (others get AccessDeniedException); declarative policies for EC2
  (DECLARATIVE_POLICY_EC2) and DescribeEffectivePolicy.
- ``ec2``: AMIs with real block device mappings, encrypted snapshots, launch-permission
  validation and ResetImageAttribute, CopyImage (encryption, tags, client tokens, names,
  pending time), which AMIs of other accounts DescribeImages shows (public, or shared with the
  caller's account, organization or OUs).
- ``ami_lifecycle``: DescribeImageReferences, deregistration protection (with its 24-hour cooldown), Allowed AMIs
  (settings per account and region or from a declarative policy, ImageAllowed, the image-allowed filter, RunInstances).
- ``ssm``: parameters of data type ``aws:ec2:image`` are validated asynchronously (the AMI must exist for
  the caller in the region); until then reads show the previous version, and a refused value is never stored.
- ``ram``: resource shares of SSM parameters (Advanced ones of the owner's region only; organization / OU principals
  once sharing with AWS Organizations is enabled; tags, filters, Associate/DisassociateResourceShare), and a
  consumer's GetParameter of a parameter shared with it, by its ARN.

apply() is idempotent; reset_state() forgets the emulator's own bookkeeping (state.py: client tokens, ...)
when moto's state is reset.
"""

import threading

from . import state
# the knobs, read as patches.CONFIG (see state.py)
from .state import CONFIG  # noqa: F401  # pylint: disable=unused-import


_applied = set()
_lock = threading.RLock()

# service -> the patch modules it needs, in order (ec2's encrypted snapshots need the kms patches)
# (Service Quotas answers the EC2 public AMI quota: patched in ec2)
# (ami_lifecycle patches over ec2's DescribeImages and SharedImage: after ec2)
_NEEDS = {"kms": ("kms",), "ec2": ("kms", "ec2", "ami_lifecycle"), "servicequotas": ("kms", "ec2", "ami_lifecycle"),
          "organizations": ("organizations",),
          # ssm validates aws:ec2:image values against the AMIs ec2's DescribeImages shows the caller
          "ssm": ("kms", "ec2", "ssm"),
          # ram checks the SSM parameters it shares and the organization of its principals; it patches GetParameter
          # (a consumer reads a shared parameter by its ARN) over ssm's own patch
          "ram": ("kms", "ec2", "ssm", "ram")}


def apply(services=("kms", "ec2", "organizations", "ssm", "ram")):
    """Apply the patches for ``services`` (default: all). Idempotent and thread-safe.

    The Emulator applies them lazily, on the first request for a service (importing moto.ec2
    costs about a second), so that the server is ready fast; code that touches moto's backends
    directly before any request should call apply() first."""
    import importlib

    for service in services:
        for name in _NEEDS.get(service, ()):
            if name in _applied:
                continue
            with _lock:
                if name not in _applied:
                    importlib.import_module("." + name, __package__).apply()
                    _applied.add(name)
                    from . import speed

                    speed.clear()  # a patch may add handlers to a response class


def ensure(service):
    """Called by the server for every request: patch ``service`` before moto handles it."""
    if service in _NEEDS and not all(n in _applied for n in _NEEDS[service]):
        apply((service,))


def reset_state():
    state.reset()
    from . import ram

    ram.reset()
    try:
        from moto.organizations.models import organizations_backends

        # moto keeps member -> management account links outside the backends it resets
        organizations_backends.master_accounts.clear()
    except ImportError:  # pragma: no cover
        pass
