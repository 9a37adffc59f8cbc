"""A local AWS emulator for orgshare.aws: moto, plus the AWS behaviour the collection is about.

moto is the base. What moto lacks (see docs/emulator.md) is modelled by the patch modules of
this package, each documented with the AWS fact it models. The emulator runs

- as a server on 127.0.0.1: ``python -m orgshare_emulator serve --port 0``, and
- in-process for pytest: ``Emulator().start()`` (a threaded server in the test process, whose
  moto backends the tests can also read directly).

Knobs for tests and benchmarks: per-request latency, fault injection (a share or a schedule of
throttling / HTTP 503 answers per action), and a record of every API call.
"""

from .server import Emulator, parse_request  # noqa: F401

__all__ = ["Emulator", "parse_request"]
