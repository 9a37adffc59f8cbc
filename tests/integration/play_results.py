"""A play hands a value to its test on stdout: a debug task prints it base64-encoded between markers, which
no callback escapes or wraps, and printed() reads it back (no module process, no file to write)."""

import base64
import json
import re

_MARKED = re.compile(r"RESULT<([A-Za-z0-9+/=]*)>RESULT")


def print_task(expression, indent=4):
    """The YAML of a debug task that prints the value of the Jinja expression for printed()."""
    pad = " " * indent
    return (
        pad + "- name: Print the result for the test\n"
        + pad + "  ansible.builtin.debug:\n"
        + pad + '    msg: "RESULT<{{ %s | to_json | b64encode }}>RESULT"\n' % expression
    )


def printed(stdout):
    """The value of the last print_task() in the output of ansible-playbook; fails when none was printed."""
    found = _MARKED.findall(stdout)
    assert found, "no result printed:\n" + stdout[-3000:]
    return json.loads(base64.b64decode(found[-1]).decode("utf-8"))
