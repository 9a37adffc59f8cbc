"""Request-handling shortcuts over moto's server: the same responses, less CPU per request.

moto's server spends about 40 % of a small request's CPU on two lookups that never change while
it runs:

- ``moto.core.utils.method_names_from_class``: ``inspect.getmembers`` over the whole response
  class (EC2's has hundreds of methods) on every call, to find the action's handler;
- ``moto.backends.list_of_moto_modules``: a directory listing of moto's package, with an
  ``isdir`` per entry, on every request, to route it to a service.

Both are cached here. The benchmarks model AWS's own time per request with the latency knob; the
emulator's CPU per request is an artefact of running AWS on the same two cores as the client, so
the less of it, the closer the measurements are to what the latency knob says. The cache of
method names is dropped whenever a behaviour patch is applied (``patches.apply``), because patches
may add handlers to a response class.
"""

import threading

_lock = threading.Lock()
_applied = False
_method_names = {}


def clear():
    _method_names.clear()


def apply():
    global _applied
    with _lock:
        if _applied:
            return
        import moto.backends
        import moto.core.responses
        import moto.core.utils

        original = moto.core.utils.method_names_from_class

        def method_names_from_class(clazz):
            names = _method_names.get(clazz)
            if names is None:
                names = _method_names[clazz] = original(clazz)
            return names

        moto.core.responses.method_names_from_class = method_names_from_class
        moto.core.utils.method_names_from_class = method_names_from_class

        modules = frozenset(moto.backends.list_of_moto_modules())
        moto.backends.list_of_moto_modules = lambda: modules
        _applied = True
