"""The emulator's shared state, in one leaf module: it imports nothing of the package, and every
other module (patches, ec2, seed, server) reads and writes the state here, so no module needs
another at import time for it (no import cycle).

- ``CONFIG``: the knobs the patches read. ``copy_pending_seconds``: how long a CopyImage result
  stays ``pending`` (its snapshots' Progress growing) before it turns available / failed.
  ``image_block_public_access_default``: the state of image block public access in an account and
  region that never called Enable/DisableImageBlockPublicAccess ("unblocked", as for an account that
  had a public AMI on or after July 15, 2023; AWS's default for new accounts is
  "block-new-sharing"). ``public_ami_quota`` / ``ami_sharing_quota``: the "Public AMIs" (5) and
  "AMI sharing" (1,000) quotas per Region, both adjustable in AWS (EC2 User Guide, "AMI quotas").
- ``EC2``: bookkeeping that moto's reset does not know about (CopyImage client tokens, image block
  public access per account and region, the Allowed AMIs settings per account and region), under ``EC2_LOCK``.
- ``SEED``: the last seed's answer (seed.py).

``reset()`` forgets the bookkeeping (not the knobs) when moto's state is reset.
"""

import threading

CONFIG = {
    "copy_pending_seconds": 0.0,
    "image_block_public_access_default": "unblocked",
    "public_ami_quota": 5,
    "ami_sharing_quota": 1000,
}

EC2 = {"client_tokens": {}, "image_block_public_access": {}, "allowed_images": {}}
EC2_LOCK = threading.Lock()
SEED = {"last": None}


def reset():
    with EC2_LOCK:
        EC2["client_tokens"] = {}
        EC2["image_block_public_access"] = {}
        EC2["allowed_images"] = {}
    SEED["last"] = None
