"""The emulator's shared state lives in one leaf module (state.py, importing nothing of the package), and the
package's modules import each other without a cycle (imports inside functions included)."""

import ast
import os

import orgshare_emulator

PACKAGE = os.path.dirname(orgshare_emulator.__file__)


def imports():
    graph = {}
    for name in sorted(f[:-3] for f in os.listdir(PACKAGE) if f.endswith(".py")):
        tree = ast.parse(open(os.path.join(PACKAGE, name + ".py")).read())
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                found.update([node.module] if node.module else [a.name for a in node.names])
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("orgshare_emulator"):
                found.add(node.module.split(".", 1)[1] if "." in node.module else "__init__")
        graph[name] = found
    return graph


def test_state_is_a_leaf_and_holds_the_shared_state():
    graph = imports()
    assert graph["state"] == set()
    from orgshare_emulator import ec2, patches, seed, state

    assert patches.CONFIG is state.CONFIG and ec2.CONFIG is state.CONFIG
    assert ec2.STATE is state.EC2 and seed.STATE is state.SEED


def test_no_import_cycle():
    graph = imports()
    seen, stack = set(), []

    def visit(node):
        assert node not in stack, "import cycle: %s" % " -> ".join(stack[stack.index(node):] + [node])
        if node in seen or node not in graph:
            return
        stack.append(node)
        for nxt in sorted(graph[node]):
            visit(nxt)
        stack.pop()
        seen.add(node)

    for name in graph:
        visit(name)
