"""python -m orgshare_emulator serve [--port N] [--latency-ms MS] [--copy-pending S] [--image-block-public-access STATE]
[--public-ami-quota N] [--seed] [--url-file F]"""

import argparse
import json
import signal
import sys
import threading

from .server import Emulator


def main(argv=None):
    p = argparse.ArgumentParser(prog="orgshare_emulator", description="Local AWS emulator for orgshare.aws")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="serve on 127.0.0.1 until interrupted")
    s.add_argument("--port", type=int, default=0, help="port (0: pick a free one)")
    s.add_argument("--latency-ms", type=float, default=0)
    s.add_argument("--copy-pending", type=float, default=0, help="seconds copies stay pending")
    s.add_argument("--image-block-public-access", choices=["unblocked", "block-new-sharing"], default="unblocked",
                   help="the state of image block public access in every account and region (AWS's default for new accounts: "
                        "block-new-sharing)")
    s.add_argument("--public-ami-quota", type=int, default=5, help="public AMIs allowed per account and region")
    s.add_argument("--seed", action="store_true", help="create the demo organization, keys and AMI")
    s.add_argument("--seed-regions", default="us-east-1,us-west-2,eu-west-1")
    s.add_argument("--url-file", help="write the endpoint URL (and seed data as JSON next to it) here")
    args = p.parse_args(argv)

    emu = Emulator(port=args.port, latency_ms=args.latency_ms, copy_pending_seconds=args.copy_pending,
                   image_block_public_access=args.image_block_public_access, public_ami_quota=args.public_ami_quota).start()
    seeded = emu.seed(regions=args.seed_regions.split(",")) if args.seed else None
    if args.url_file:
        with open(args.url_file + ".tmp", "w") as f:
            f.write(emu.endpoint_url + "\n")
        if seeded is not None:
            with open(args.url_file + ".seed.json", "w") as f:
                json.dump(seeded, f, indent=2, sort_keys=True)
        import os

        os.replace(args.url_file + ".tmp", args.url_file)
    print(emu.endpoint_url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    stop.wait()
    emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
