"""Behaviour patches over moto. Each submodule documents the AWS fact it models.

apply() is idempotent; reset_state() forgets the emulator's own bookkeeping (client tokens,
copy timers) when moto's state is reset.
"""

CONFIG = {"copy_pending_seconds": 0.0}

_applied = False


def apply():
    global _applied
    if _applied:
        return
    _applied = True
    # Submodules register their patches here (ec2, kms, organizations ...).


def reset_state():
    pass
