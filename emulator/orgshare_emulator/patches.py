"""Behaviour patches over moto. Each submodule documents the AWS fact it models:

- ``kms``: the AWS managed ``alias/aws/ebs`` key, key-policy validation, PolicyName default.
- ``ec2``: AMIs with real block device mappings, encrypted snapshots, launch-permission
  validation and ResetImageAttribute, CopyImage (encryption, tags, client tokens, names,
  pending time).

apply() is idempotent; reset_state() forgets the emulator's own bookkeeping (client tokens)
when moto's state is reset.
"""

# Knobs read by the patches. copy_pending_seconds: how long a CopyImage result stays
# ``pending`` (its snapshots' Progress growing) before it turns available / failed.
CONFIG = {"copy_pending_seconds": 0.0}

_applied = False


def apply():
    global _applied
    if _applied:
        return
    _applied = True
    from . import ec2, kms

    kms.apply()
    ec2.apply()


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
