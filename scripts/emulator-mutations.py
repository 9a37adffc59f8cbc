"""Proof that the emulator's tests test: remove each emulator behaviour in turn and run the emulator tests.

    .venv/bin/python scripts/emulator-mutations.py            # every mutant, 2 at a time
    .venv/bin/python scripts/emulator-mutations.py --list     # the mutants, without running them
    .venv/bin/python scripts/emulator-mutations.py --only ec2.py:512 --only kms.py   # some of them

A *behaviour* is one of:
- a patch the emulator installs over moto (an assignment ``Class.attr = ...`` or a ``setattr(...)`` in an
  ``apply()`` / ``_patch_*()`` function of emulator/orgshare_emulator/{ec2,kms,organizations,ami_lifecycle}.py): the mutant
  leaves moto's own method in place;
- a refusal (a ``raise`` in those modules): the mutant lets the request through.

Each mutant is one behaviour removed (the statement replaced by ``pass``) in a copy of the source tree made
outside the repository; the emulator tests (tests/emulator) run against that copy, stopping at the first
failure. A mutant the tests kill is fine; one they leave green is a *survivor*: a behaviour no emulator test
checks. NO_OPS names the survivors that are not behaviours at all (a defensive branch AWS cannot reach from
the emulator's clients, a patch whose removal changes nothing observable, a duplicate of a check moto makes
itself), each with the reason; the script
prints them apart and fails (exit 1) when any other mutant survives.

Not part of ``make test`` (about half an hour on 2 cores); run it after changing the emulator.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join("emulator", "orgshare_emulator")
MODULES = ("ec2.py", "kms.py", "organizations.py", "ami_lifecycle.py")
PATCH_FUNCTIONS = ("apply", "_patch_")

# (module, the statement's first line as written, stripped) -> why its removal is no behaviour change
NO_OPS = {
    ("ec2.py", 'raise InvalidAMIAttributeItemValueError("UserGroup", perm["Group"])'):
        "a duplicate of moto's own check: AmiBackend.validate_permission_targets, which moto's modify_image_attribute "
        "runs on the same entries in the same call before it changes anything, raises the same error (same condition, "
        "code and message); without this line it answers after the emulator's other refusals of an Add (disabled, AWS "
        "managed key, public, quotas) instead of before them, an order no AWS source gives (docs/emulator.md, "
        "Unverified), so no test may tell the two apart",
    ("ec2.py", 'raise _err("InvalidParameterValue", "Empty launch permission entry")'):
        "unreachable from AWS SDK clients: an empty LaunchPermission entry serializes to no query parameter at all (so "
        "moto parses no entry), a member outside the model cannot be serialized (botocore: KeyError), and a member "
        "sent empty ('') or None ('None', with parameter_validation off) is kept and refused by that member's own check",
    ("ec2.py", "AmiBackend.validate_permission_targets = validate_permission_targets"):
        "only moto's AmiBackend.modify_image_attribute calls validate_permission_targets, and it runs only inside the "
        "emulator's modify_image_attribute, after validate_launch_permissions has checked the same two lists: the "
        "patched method never sees an entry that the unpatched one would let through",
    ("ec2.py", "Ami.deprecation_time = None"):
        "a class-level default no reader needs: the emulator reads it only as getattr(ami, 'deprecation_time', None) "
        "and moto's response serializer takes a missing attribute as absent, as it takes None",
    ("ec2.py", "Snapshot.state = property(_get_status, _set_status)"):
        "moto's response serializer reads a snapshot's State from 'state' and, when there is none, from 'status' (the "
        "member's XML name in the EC2 model), which is the same property (_get_status); nothing else reads "
        "Snapshot.state",
}


class Mutant:
    def __init__(self, module, node, kind, source_line):
        self.module = module
        self.lineno = node.lineno
        self.end_lineno = node.end_lineno
        self.col = node.col_offset
        self.kind = kind
        self.source_line = source_line.strip()

    @property
    def name(self):
        return "%s:%d" % (self.module, self.lineno)

    @property
    def no_op_reason(self):
        return NO_OPS.get((self.module, self.source_line))

    def apply_to(self, text):
        """``text`` with this statement replaced by ``pass`` (same indentation, same line count)."""
        lines = text.splitlines(True)
        first = lines[self.lineno - 1]
        indent = first[: len(first) - len(first.lstrip())]
        replacement = [indent + "pass  # mutant: removed\n"] + ["\n"] * (self.end_lineno - self.lineno)
        return "".join(lines[: self.lineno - 1] + replacement + lines[self.end_lineno:])


def _in_patch_function(stack):
    return any(f.name == "apply" or f.name.startswith("_patch_") for f in stack)


def mutants_of(module, text):
    tree = ast.parse(text)
    lines = text.splitlines()
    found = []

    def visit(node, stack):
        for child in ast.iter_child_nodes(node):
            inner = stack + [child] if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else stack
            if isinstance(child, ast.Raise) and stack:
                found.append(Mutant(module, child, "refusal", lines[child.lineno - 1]))
            elif _in_patch_function(stack) and isinstance(child, ast.Assign) and len(child.targets) == 1 \
                    and isinstance(child.targets[0], ast.Attribute) and isinstance(child.targets[0].value, ast.Name) \
                    and child.targets[0].value.id[:1].isupper():
                found.append(Mutant(module, child, "patch", lines[child.lineno - 1]))
            elif _in_patch_function(stack) and isinstance(child, ast.Expr) and isinstance(child.value, ast.Call) \
                    and getattr(child.value.func, "id", None) == "setattr":
                found.append(Mutant(module, child, "patch", lines[child.lineno - 1]))
            visit(child, inner)

    visit(tree, [])
    return sorted(found, key=lambda m: m.lineno)


def all_mutants(tree=ROOT):
    out = []
    for module in MODULES:
        with open(os.path.join(tree, PACKAGE, module)) as f:
            out += mutants_of(module, f.read())
    return out


def make_copy(dest):
    """The source tree as it is (tracked files, with local changes) plus the bootstrap's collections, under ``dest``."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = os.path.join(ROOT, rel)
        if not os.path.isfile(src):
            continue
        os.makedirs(os.path.dirname(os.path.join(dest, rel)) or dest, exist_ok=True)
        shutil.copy2(src, os.path.join(dest, rel))
    os.makedirs(os.path.join(dest, ".cache"), exist_ok=True)
    # amazon.aws and community.aws, read only; the copy's tests build their own .cache/test-collections
    os.symlink(os.path.join(ROOT, ".cache", "collections"), os.path.join(dest, ".cache", "collections"))


def run_mutant(mutant, base, workdir, python, timeout):
    """(mutant, survived, detail): run tests/emulator in a fresh copy of ``base`` (the tree as it was when the run
    started, whatever is edited meanwhile) with the mutant applied."""
    dest = os.path.join(tempfile.mkdtemp(prefix="mutant-", dir=workdir), "tree")
    try:
        shutil.copytree(base, dest, symlinks=True)
        path = os.path.join(dest, PACKAGE, mutant.module)
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(mutant.apply_to(text))
        cmd = [python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "tests/emulator"]
        try:
            proc = subprocess.run(cmd, cwd=dest, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return mutant, False, "killed (timed out after %d s)" % timeout
        tail = (proc.stdout.strip().splitlines() or [""])[-1]
        return mutant, proc.returncode == 0, tail
    finally:
        shutil.rmtree(os.path.dirname(dest), ignore_errors=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    p.add_argument("--list", action="store_true", help="list the mutants and exit")
    p.add_argument("--only", action="append", default=[], help="a module (kms.py) or module:line (ec2.py:512); repeatable")
    p.add_argument("-j", "--jobs", type=int, default=2, help="mutants run at once (default 2)")
    p.add_argument("--timeout", type=int, default=900, help="seconds per mutant (default 900)")
    args = p.parse_args(argv)
    workdir = tempfile.mkdtemp(prefix="orgshare-mutations-")
    base = os.path.join(workdir, "base")
    make_copy(base)
    mutants = all_mutants(base)
    if args.only:
        mutants = [m for m in mutants if m.module in args.only or m.name in args.only]
    if args.list:
        for m in mutants:
            print("%-22s %-8s %s%s" % (m.name, m.kind, m.source_line, "   [no-op: %s]" % m.no_op_reason if m.no_op_reason else ""))
        print("%d mutant(s)" % len(mutants))
        shutil.rmtree(workdir, ignore_errors=True)
        return 0
    python = sys.executable
    survivors, no_ops = [], []
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = [pool.submit(run_mutant, m, base, workdir, python, args.timeout) for m in mutants]
            for n, future in enumerate(concurrent.futures.as_completed(futures), 1):
                mutant, survived, detail = future.result()
                verdict = "SURVIVED" if survived else "killed"
                print("[%d/%d] %-22s %-8s %s  (%s)" % (n, len(mutants), mutant.name, verdict, mutant.source_line[:70], detail), flush=True)
                if survived:
                    (no_ops if mutant.no_op_reason else survivors).append(mutant)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    print("%d mutant(s), %d killed, %d no-op(s), %d survivor(s)" % (len(mutants), len(mutants) - len(survivors) - len(no_ops), len(no_ops), len(survivors)))
    for m in sorted(no_ops, key=lambda m: (m.module, m.lineno)):
        print("  no-op     %-22s %s -- %s" % (m.name, m.source_line, m.no_op_reason))
    for m in sorted(survivors, key=lambda m: (m.module, m.lineno)):
        print("  SURVIVOR  %-22s %s" % (m.name, m.source_line))
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
