"""Behaviour patches over moto. Each submodule documents the AWS fact it models:

- ``kms``: the AWS managed ``alias/aws/ebs`` key, key-policy validation, PolicyName default.
- ``organizations``: only the management account or a delegated administrator may read the
  organization's structure (others get AccessDeniedException).
- ``ec2``: AMIs with real block device mappings, encrypted snapshots, launch-permission
  validation and ResetImageAttribute, CopyImage (encryption, tags, client tokens, names,
  pending time), which AMIs of other accounts DescribeImages shows (public, or shared with the
  caller's account, organization or OUs).

apply() is idempotent; reset_state() forgets the emulator's own bookkeeping (client tokens)
when moto's state is reset.
"""

import threading

# Knobs read by the patches. copy_pending_seconds: how long a CopyImage result stays
# ``pending`` (its snapshots' Progress growing) before it turns available / failed.
# image_block_public_access_default: the state of image block public access in an account and region
# that never called Enable/DisableImageBlockPublicAccess ("unblocked", as for an account that had a
# public AMI on or after July 15, 2023; AWS's default for new accounts is "block-new-sharing").
# public_ami_quota / ami_sharing_quota: the "Public AMIs" (5) and "AMI sharing" (1,000) quotas per Region,
# both adjustable in AWS (EC2 User Guide, "AMI quotas").
CONFIG = {
    "copy_pending_seconds": 0.0,
    "image_block_public_access_default": "unblocked",
    "public_ami_quota": 5,
    "ami_sharing_quota": 1000,
}


_applied = set()
_lock = threading.RLock()

# service -> the patch modules it needs, in order (ec2's encrypted snapshots need the kms patches)
# (Service Quotas answers the EC2 public AMI quota: patched in ec2)
_NEEDS = {"kms": ("kms",), "ec2": ("kms", "ec2"), "servicequotas": ("kms", "ec2"), "organizations": ("organizations",)}


def apply(services=("kms", "ec2", "organizations")):
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
    from . import ec2, seed

    ec2.reset_state()
    seed.reset_state()
    try:
        from moto.organizations.models import organizations_backends

        # moto keeps member -> management account links outside the backends it resets
        organizations_backends.master_accounts.clear()
    except ImportError:  # pragma: no cover
        pass
