"""Turn the raw results of bench/run.py into docs/performance.md, a plot, and a console summary."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

from harness import BENCH, ROOT, describe_tree, log

SIDES = ("ours", "old", "anchor")
SIDE_NAMES = {"ours": "orgshare.aws", "old": "old", "anchor": "anchor"}
# The goals of the issue, as ratios measured in one run (B1 and B2 are defined at GOAL_REGIONS);
# b2_processes: a converged run starts at most that many module processes whatever the regions.
GOALS = {"b2_vs_anchor": 0.35, "b1_vs_anchor": 0.15, "b2_scale": 1.3, "b2_vs_old": 0.4, "b2_processes": 6}
GOAL_REGIONS = 8


def fmt_s(st):
    if not st:
        return "failed"
    if st["n"] == 1:
        return "%.1f s" % st["median"]
    return "%.1f s (%.1f–%.1f)" % (st["median"], st["min"], st["max"])


def fmt_n(st):
    if not st:
        return "–"
    if st["n"] == 1 or st["min"] == st["max"]:
        return "%d" % st["median"]
    return "%g (%d–%d)" % (st["median"], st["min"], st["max"])


def fmt_load(values):
    if not values:
        return "–"
    values = sorted(values)
    return "median %.1f (%.1f–%.1f) over %d runs" % (values[len(values) // 2], values[0], values[-1], len(values))


def fmt_ratio(st):
    if not st:
        return "–"
    if st["n"] == 1:
        return "%.2f" % st["median"]
    return "%.2f (%.2f–%.2f)" % (st["median"], st["min"], st["max"])


def fmt(v, pattern="%.1f s"):
    return "–" if v is None else pattern % v


def _median(st):
    return st["median"] if st else None


def _wall(summary, side):
    if side not in summary:
        return "–"
    return "not measured" if summary[side].get("skipped") else fmt_s(summary[side]["wall"])


def _yes(ok):
    """A goal's verdict: yes, **no**, not measured (None), or a text of its own (e.g. not judged)."""
    if isinstance(ok, str):
        return ok
    return "not measured" if ok is None else "yes" if ok else "**no**"


# ---- what was measured ----------------------------------------------------------------------------------
def sides(results):
    """The sides of B1/B2 in this results file (ours, [old,] anchor)."""
    d = results.get("distribution")
    entries = [d] if d else []
    entries += list(((results.get("scale") or {}).get("distribution") or {}).values())
    runs = [r for e in entries for r in e["runs"]]
    return tuple(s for s in SIDES if any(s in r for r in runs)) or ("ours", "anchor")


def has_old(results):
    return "old" in sides(results)


def old_commit(results):
    return ((results["meta"].get("sides") or {}).get("old") or {}).get("commit")


def side_name(results, side):
    if side == "old" and old_commit(results):
        return "old (%s)" % old_commit(results)
    return SIDE_NAMES[side]


def by_regions(results):
    """{regions: {"runs", "summary"}} of every B1/B2 measurement: the main one and the scale runs."""
    out = {int(n): e for n, e in ((results.get("scale") or {}).get("distribution") or {}).items()}
    d = results.get("distribution")
    if d:
        out[int(d["regions"])] = d
    return dict(sorted(out.items()))


def goal_count(results):
    """The region count the ratio goals are judged at: GOAL_REGIONS when measured, else the main
    B1/B2 count (else the largest); and a note when it is not GOAL_REGIONS."""
    entries = by_regions(results)
    if not entries:
        return None, ""
    if GOAL_REGIONS in entries:
        return GOAL_REGIONS, ""
    d = results.get("distribution")
    n = int(d["regions"]) if d else max(entries)
    return n, " (measured at %d regions; the goal is at %d, not measured in this run)" % (n, GOAL_REGIONS)


# the region counts of the goal "B2 at 16 regions <= 1.3x B2 at 2 regions"
SCALE_GOAL_REGIONS = (16, 2)


def b2_scale(results, side):
    """(B2 wall at the largest region count / at the smallest, largest, smallest) for one side: at
    16 and 2 regions (the goal's) when both were measured, else at the largest and the smallest."""
    entries = by_regions(results)
    if len(entries) < 2:
        return None, None, None
    hi, lo = SCALE_GOAL_REGIONS if all(n in entries for n in SCALE_GOAL_REGIONS) else (max(entries), min(entries))
    a, b = (_median((entries[n]["summary"]["rerun"].get(side) or {}).get("wall")) for n in (hi, lo))
    return (a / b if a and b else None), hi, lo


def goals(results):
    """[(benchmark, goal text, what was measured, met: True, False or None when not measured)]"""
    out = []
    cfg = results["meta"]["config"]
    d = results.get("distribution")
    if d:
        s = d["summary"]["first"]
        limit = cfg["pending"] + 30
        ours = s["ours"]["wall"]
        out.append(("B1", "orgshare.aws within %g s (copy pending %g s + 30 s) at %d regions" % (limit, cfg["pending"], d["regions"]),
                    "%.1f s (slowest run)" % ours["max"] if ours else "failed",
                    bool(ours) and ours["max"] <= limit and not s["ours"]["failures"]))
        out.append(("B1", "orgshare.aws at most 1/4 of the anchor's wall time (every measurement)", fmt_ratio(s["ratio"]),
                    None if not s["ratio"] else s["ratio"]["max"] <= 0.25))
        out.append(("B1", "every side's result verified (copies, keys, launch permissions)",
                    ", ".join(side_name(results, x) for x in sides(results) if x in s and not s[x]["verified"]) or "all verified",
                    all(s[x]["verified"] for x in sides(results) if x in s)))
        r = d["summary"]["rerun"]
        out.append(("B2", "orgshare.aws makes no write call on the re-run", fmt_n(r["ours"]["writes"]),
                    not r["ours"]["failures"] and bool(r["ours"]["writes"]) and r["ours"]["writes"]["max"] == 0))
    entries = by_regions(results)
    n, note = goal_count(results)
    if n is not None:
        e = entries[n]["summary"]

        def ratio_goal(bench, phase, key, limit, versus):
            st = e[phase].get(key)
            what = "%s ours / %s ≤ %g at %d regions" % (bench, versus, limit, GOAL_REGIONS)
            if key == "ratio_old" and not has_old(results):
                return (bench, what, "no side 'old' (no --old-collection)", None)
            measured = fmt_ratio(st) + ("" if not st or st["n"] == 1 else " (median of %d measurements)" % st["n"])
            if note:  # not judged away from the goal's region count
                return (bench, what, "%s at %d regions" % (measured, n), "not judged (at %d regions)" % GOAL_REGIONS)
            return (bench, what, measured, None if not st else st["median"] <= limit)

        out.append(ratio_goal("B1", "first", "ratio", GOALS["b1_vs_anchor"], "anchor"))
        out.append(ratio_goal("B2", "rerun", "ratio", GOALS["b2_vs_anchor"], "anchor"))
        out.append(ratio_goal("B2", "rerun", "ratio_old", GOALS["b2_vs_old"], "old" if not old_commit(results) else "commit %s" % old_commit(results)))
        value, hi, lo = b2_scale(results, "ours")
        what = "B2 ours at %d regions ≤ %g× B2 ours at %d regions" % (SCALE_GOAL_REGIONS[0], GOALS["b2_scale"], SCALE_GOAL_REGIONS[1])
        if hi is None:
            out.append(("B2", what, "one region count only", None))
        elif (hi, lo) != SCALE_GOAL_REGIONS:
            out.append(("B2", what, "%s at %d / %d regions" % (fmt(value, "%.2f"), hi, lo), "not judged (at %d / %d regions)" % SCALE_GOAL_REGIONS))
        else:
            out.append(("B2", what, fmt(value, "%.2f"), None if value is None else value <= GOALS["b2_scale"]))
        procs = {k: _median(v["summary"]["rerun"]["ours"]["modules"]) for k, v in entries.items()}
        shown = ", ".join("%s at %d" % (fmt(v, "%d"), k) for k, v in procs.items())
        out.append(("B2", "a converged run (ours) starts at most %d module processes, whatever the region count" % GOALS["b2_processes"],
                    shown + " regions", None if None in procs.values() else max(procs.values()) <= GOALS["b2_processes"]))
    a = results.get("audit")
    if a:
        s = a["summary"]
        out.append(("B3", "orgshare.aws at most 1/4 of the anchor's wall time (every measurement)", fmt_ratio(s["ratio"]),
                    None if not s["ratio"] else s["ratio"]["max"] <= 0.25))
        out.append(("B3", "both sides report every AMI", "yes" if s["ours"]["verified"] and s["anchor"]["verified"] else "no",
                    s["ours"]["verified"] and s["anchor"]["verified"]))
    return sorted(out, key=lambda g: g[0])  # stable: B1, B2, B3, each in the order above


def fleet_ratio(fleet):
    data = fleet if fleet and fleet.get("rounds") else None
    return data["ratio_ours_other"] if data else None


def console_summary(results):
    lines = ["", "=== orgshare.aws benchmarks (%s)" % results["meta"]["config"]["profile"]]
    d = results.get("distribution")
    sd = sides(results)
    if d:
        for phase, title in (("first", "B1 first distribution"), ("rerun", "B2 re-run")):
            s = d["summary"][phase]
            walls = "  ".join("%s %-22s" % (x, _wall(s, x)) for x in sd)
            procs = ", ".join("%s %s" % (x, fmt_n(s[x].get("modules"))) for x in sd if not s[x].get("skipped"))
            lines.append("%-22s %s ours/anchor %s%s   writes ours %s; module processes %s" % (
                title, walls, fmt_ratio(s["ratio"]), "  ours/old %s" % fmt_ratio(s.get("ratio_old")) if "old" in sd else "",
                fmt_n(s["ours"]["writes"]), procs))
    a = results.get("audit")
    if a:
        s = a["summary"]
        lines.append("%-22s ours %-22s anchor %-22s ratio %s" % ("B3 audit", fmt_s(s["ours"]["wall"]), fmt_s(s["anchor"]["wall"]), fmt_ratio(s["ratio"])))
    for side in sd:
        value, hi, lo = b2_scale(results, side)
        if hi is not None:
            lines.append("B2 %s at %d regions / at %d regions: %s" % (side, hi, lo, fmt(value, "%.2f")))
    lines += retire_console(results)
    fleet = results.get("fleet")
    if fleet:
        if fleet.get("rounds"):
            lines.append("fleet forks 1, %d images: ours / old %.2f" % (fleet["images"], fleet_ratio(fleet)))
        else:
            lines.append("fleet: %s" % (fleet.get("error") or "not measured: %s" % fleet.get("skipped")))
    if not has_old(results):
        lines.append("no side 'old' (no --old-collection): no ratio against it, no fleet comparison")
    for bench, text, measured, met in goals(results):
        verdict = met if isinstance(met, str) else "met" if met else "not measured" if met is None else "NOT MET"
        lines.append("goal %s: %s: %s: %s" % (bench, text, measured, verdict))
    for f in failures(results):
        lines.append("FAILURE %s" % f)
    return "\n".join(lines)


def failures(results):
    out = []

    def add(where, run):
        if run.get("skipped"):
            return
        if not run["ok"]:
            out.append("%s: %s" % (where, run["failure"]))
        elif run.get("problems"):
            out.append("%s: wrong result: %s" % (where, "; ".join(run["problems"])))

    d = results.get("distribution")
    sd = sides(results)
    if d:
        for i, r in enumerate(d["runs"]):
            for side in sd:
                for phase in ("first", "rerun"):
                    add("B1/B2 run %d, %s, %s" % (i + 1, side_name(results, side), phase), r[side][phase])
    a = results.get("audit")
    if a:
        for i, r in enumerate(a["runs"]):
            for side in ("ours", "anchor"):
                add("B3 run %d, %s" % (i + 1, SIDE_NAMES[side]), r[side])
    for n, entry in sorted((results.get("scale") or {}).get("distribution", {}).items(), key=lambda kv: int(kv[0])):
        if d and int(n) == int(d["regions"]):
            continue
        for i, r in enumerate(entry["runs"]):
            for side in sd:
                for phase in ("first", "rerun"):
                    add("scale B1/B2 %s regions run %d, %s, %s" % (n, i + 1, side_name(results, side), phase), r[side][phase])
    for n, entry in sorted((results.get("scale") or {}).get("audit", {}).items(), key=lambda kv: int(kv[0])):
        if a and int(n) == int(a["images"]):
            continue
        for i, r in enumerate(entry["runs"]):
            for side in ("ours", "anchor"):
                add("scale B3 %s AMIs run %d, %s" % (n, i + 1, SIDE_NAMES[side]), r[side])
    for scenario, runs in ((results.get("retire") or {}).get("runs") or {}).items():
        for i, r in enumerate(runs):
            for side in ("ours", "anchor"):
                for phase in ("first", "rerun"):
                    add("retirement %s run %d, %s, %s" % (scenario, i + 1, SIDE_NAMES[side], "first run" if phase == "first" else "re-run"), r[side][phase])
    fleet = results.get("fleet") or {}
    if fleet.get("error"):
        out.append("fleet comparison: %s" % fleet["error"])
    return sorted(set(out), key=out.index)


# ---- Markdown ---------------------------------------------------------------------------------------
_PATH_OPTIONS = ("--results-dir", "--json", "--doc", "--plot", "--from-json")
_TREE_OPTIONS = ("--collection", "--old-collection")


def public_command(command):
    """The command line without options that name local paths (they say nothing about the run);
    a tree (--collection, --old-collection) is shown as PATH."""
    out, skip = [], None
    for token in command.split():
        if skip:
            if skip in _TREE_OPTIONS:
                out += [skip, "PATH"]
            skip = None
            continue
        name = token.split("=", 1)[0]
        if token in _PATH_OPTIONS + _TREE_OPTIONS:
            skip = token
            continue
        if name in _PATH_OPTIONS:
            continue
        if name in _TREE_OPTIONS:
            out.append(name + "=PATH")
            continue
        out.append(token)
    return " ".join(out)


def _loads(results):
    """Every measured run's 1-minute load average before it started."""
    out = {}

    def walk(node):
        if isinstance(node, dict):
            if node.get("load_before") is not None and node.get("t0") is not None:
                out[node.get("t0")] = node["load_before"]  # the scale runs reuse the main runs
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk({k: v for k, v in results.items() if k not in ("meta", "fleet")})
    return list(out.values())


def _table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def _short(module):
    return module.replace("ansible.builtin.", "")


def _calls_by_module_region(first, rerun):
    """{module: {region: "r/w → r/w"}} for one side."""
    modules = sorted(set(first["calls"]["by_module"]) | set(rerun["calls"]["by_module"]))
    regions = sorted({reg for c in (first, rerun) for m in c["calls"]["by_module"].values() for reg in m})
    rows = []
    for module in modules:
        row = [_short(module)]
        for region in regions:
            cells = []
            for run in (first, rerun):
                c = run["calls"]["by_module"].get(module, {}).get(region)
                cells.append("%d/%d" % (c["reads"], c["writes"]) if c else "–")
            row.append(" → ".join(cells) if cells != ["–", "–"] else "")
        rows.append(row)
    total = ["**total**"]
    for region in regions:
        cells = []
        for run in (first, rerun):
            c = run["calls"]["by_region"].get(region)
            cells.append("%d/%d" % (c["reads"], c["writes"]) if c else "0/0")
        total.append("**%s**" % " → ".join(cells))
    rows.append(total)
    return ["module"] + regions, rows


def _time_by_module(run):
    """[(module, invocations, seconds)] for one run, heaviest first; ansible.builtin tasks together."""
    acc = {}
    for t in run.get("tasks") or []:
        action = t["action"]
        if action.startswith("("):
            key = t["name"]
        elif action.startswith("ansible.builtin."):
            key = "ansible.builtin tasks (set_fact, assert, ...)"
        else:
            key = action
        n, sec = acc.get(key, (0, 0.0))
        acc[key] = (n + t["items"], sec + t["seconds"])
    return sorted(((k, n, sec) for k, (n, sec) in acc.items()), key=lambda x: -x[2])


def _time_table(runs_by_title):
    lines = []
    for title, run in runs_by_title:
        rows = [[m, n if not m.startswith("(") else "", "%.1f s" % sec] for m, n, sec in _time_by_module(run)]
        rows.append(["**total (wall)**", "", "**%.1f s**" % run["wall"]])
        lines += ["%s:" % title, "", _table(["module", "invocations", "time"], rows), ""]
    return lines


def _actions_table(results, pair):
    cols = [(side, phase) for side in sides(results) for phase in ("first", "rerun") if not pair[side][phase].get("skipped") and pair[side][phase].get("calls")]
    names = sorted({a for side, phase in cols for a in pair[side][phase]["calls"]["by_action"]})
    rows = []
    for name in names:
        rows.append([name] + [pair[side][phase]["calls"]["by_action"].get(name, "") or "" for side, phase in cols])
    rows.append(["**total**"] + ["**%d**" % pair[side][phase]["calls"]["total"] for side, phase in cols])
    header = ["API call"] + ["%s %s" % (side_name(results, side), "first" if phase == "first" else "re-run") for side, phase in cols]
    return header, rows


def growth(results, entries, phase, unit, per=1, side_list=("ours", "anchor")):
    """A sentence on how wall time and calls grow between the smallest and the largest size."""
    sizes = sorted(entries, key=int)
    if len(sizes) < 2:
        return None
    lo, hi = entries[sizes[0]]["summary"], entries[sizes[-1]]["summary"]
    span = (int(sizes[-1]) - int(sizes[0])) / float(per)
    parts = []
    for side in side_list:
        a, b = (lo[phase].get(side), hi[phase].get(side)) if phase else (lo.get(side), hi.get(side))
        if not (a and b and a["wall"] and b["wall"] and a["calls"] and b["calls"]):
            parts.append("%s: not measured at both ends" % side_name(results, side))
            continue
        dt = (b["wall"]["median"] - a["wall"]["median"]) / span
        dn = (b["calls"]["median"] - a["calls"]["median"]) / span
        parts.append("%s %+.1f s and %+.0f API calls" % (side_name(results, side), dt, dn))
    return "From %s to %s, per %s: %s." % (sizes[0], sizes[-1], unit, "; ".join(parts))


def _calls_writes(st_calls, st_writes):
    return "%s (%s)" % (fmt_n(st_calls), fmt_n(st_writes)) if st_calls else "–"


def region_tables(results):
    """The B1/B2 measurements of every side at every region count (wall, API calls, module
    processes, async_status polls, load), the ratios against their goals, and B2's growth."""
    entries = by_regions(results)
    if not entries:
        return []
    sd = sides(results)
    counts = list(entries)
    rows = []
    for n, e in entries.items():
        for side in sd:
            f, r = e["summary"]["first"].get(side), e["summary"]["rerun"].get(side)
            if not f or f["skipped"]:
                rows.append([n, side_name(results, side), "not measured", "", "not measured", "", "", "", ""])
                continue

            def wall(x):
                return "not measured" if x["skipped"] else "failed" if x["failures"] and not x["wall"] else fmt_s(x["wall"])

            rows.append([n, side_name(results, side), wall(f), _calls_writes(f["calls"], f["writes"]), wall(r), _calls_writes(r["calls"], r["writes"]),
                         "%s / %s" % (fmt_n(f.get("modules")), fmt_n(r.get("modules"))),
                         "%s / %s" % (fmt_n(f.get("async_status")), fmt_n(r.get("async_status"))),
                         "%s / %s" % (fmt(_median(f.get("load_before")), "%.1f"), fmt(_median(r.get("load_before")), "%.1f"))])
    lines = [_table(["regions", "side", "B1 wall", "B1 API calls (writes)", "B2 wall", "B2 API calls (writes)", "module processes B1 / B2",
                     "async_status polls B1 / B2", "1-min load before B1 / B2"], rows), ""]

    def verdict(values, limit, at):
        marks = ["not measured" if v is None else "yes" if v <= limit else "**no**" for v in values]
        if at in counts:
            i = counts.index(at)
            others = "; ".join("%s at %d" % (m, k) for j, (m, k) in enumerate(zip(marks, counts)) if j != i)
            return "%s at %d regions, the goal's%s" % (marks[i], at, " (%s)" % others if others else "")
        return "; ".join("%s at %d regions" % (m, k) for m, k in zip(marks, counts)) + " (the goal is at %d, not measured)" % at

    ratio_rows = []
    for label, phase, key, goal in (("B2 ours / anchor", "rerun", "ratio", GOALS["b2_vs_anchor"]),
                                    ("B1 ours / anchor", "first", "ratio", GOALS["b1_vs_anchor"]),
                                    ("B2 ours / old", "rerun", "ratio_old", GOALS["b2_vs_old"]),
                                    ("B1 ours / old", "first", "ratio_old", None)):
        if key == "ratio_old" and "old" not in sd:
            continue
        sts = [entries[n]["summary"][phase].get(key) for n in counts]
        ratio_rows.append([label] + [fmt_ratio(st) for st in sts] + (
            ["≤ %g" % goal, verdict([_median(st) for st in sts], goal, GOAL_REGIONS)] if goal else ["", ""]))
    procs = [_median(entries[n]["summary"]["rerun"]["ours"].get("modules")) for n in counts]
    marks = {"not measured" if v is None else "yes" if v <= GOALS["b2_processes"] else "**no**" for v in procs}
    ratio_rows.append(["module processes of the converged run (ours)"] + [fmt(v, "%d") for v in procs] + [
        "≤ %d" % GOALS["b2_processes"], marks.pop() if len(marks) == 1 else "; ".join(
            "%s at %d" % ("not measured" if v is None else "yes" if v <= GOALS["b2_processes"] else "**no**", k) for v, k in zip(procs, counts))])
    lines += [_table(["ratio"] + ["%d regions" % n for n in counts] + ["goal", "met"], ratio_rows), ""]
    if "old" not in sd:
        lines += ["No side 'old' in this run (no `--old-collection`): no ratio against it.", ""]
    if len(counts) > 1:
        for side in sd:
            value, hi, lo = b2_scale(results, side)
            goal = ""
            if side == "ours" and (hi, lo) == SCALE_GOAL_REGIONS:
                goal = " (goal ≤ %g: %s)" % (GOALS["b2_scale"], _yes(None if value is None else value <= GOALS["b2_scale"]))
            elif side == "ours":
                goal = " (the goal, ≤ %g, is at %d / %d regions: not judged)" % ((GOALS["b2_scale"],) + SCALE_GOAL_REGIONS)
            lines.append("- B2 %s at %d regions / at %d regions: %s%s" % (side_name(results, side), hi, lo, fmt(value, "%.2f"), goal))
        lines.append("")
    return lines


def _rerun_calls(results):
    """'ours 35 / 101 / 189, old ..., anchor ... at 2 / 8 / 16 regions' (every re-run's API calls)."""
    entries = by_regions(results)
    parts = []
    for side in sides(results):
        vals = [_median((e["summary"]["rerun"].get(side) or {}).get("calls")) for e in entries.values()]
        parts.append("%s %s" % (side_name(results, side), " / ".join(fmt(v, "%d") for v in vals)))
    return "%s at %s regions" % (", ".join(parts), " / ".join(str(n) for n in entries))


def _sides_text(results):
    meta = results["meta"]
    sm = meta.get("sides") or {}
    ours = sm.get("ours") or {}
    lines = []
    what = ours.get("what") or ("the working tree" if meta["config"].get("collection", "working tree") == "working tree" else "another tree (`--collection`)")
    state = describe_tree(ours) if ours else "commit %s" % (meta["machine"].get("git_commit") or "?")
    lines.append("- **orgshare.aws** (side 'ours'): %s, %s." % (what, state))
    if has_old(results):
        lines.append("- **old**: %s (`--old-collection PATH`), %s." % ("another orgshare.aws tree", describe_tree(sm.get("old"))))
    lines.append("- **anchor**: `bench/anchor/distribute.yml` (B1/B2), `bench/anchor/audit.yml` (B3).")
    end = meta.get("tree_end")
    if ours and end and (end.get("commit"), end.get("modified")) != (ours.get("commit"), ours.get("modified")):
        lines.append("- The working tree changed during the run (%s at the end); side 'ours' did not see it." % describe_tree(end))
    if not has_old(results):
        lines.append("- No side 'old' in this run (no `--old-collection`): the ratios against it and the fleet comparison are absent.")
    return lines


def markdown(results, plot_name=None):
    meta = results["meta"]
    cfg = meta["config"]
    m = meta["machine"]
    full = cfg["profile"] == "full"
    sd = sides(results)
    lines = [
        "# Performance",
        "",
        "orgshare.aws against the way users do the same job today (amazon.aws / community.aws modules in a",
        "playbook), and against an older orgshare.aws (side 'old'), measured side by side on the AWS emulator",
        "(`emulator/orgshare_emulator`, moto plus the AWS behaviour the collection relies on) with a fixed latency",
        "per API request and copies that stay pending for a fixed time, as they do on AWS. Generated by",
        "`bench/run.py`; do not edit by hand.",
        "",
    ]
    if not full:
        lines += ["> **These numbers are from a `--%s` run (reduced sizes), not the full benchmark.**" % cfg["profile"], ""]
    lines += [
        "## Reproduce",
        "",
        "```",
        "make bench OLD=PATH   # = .venv/bin/python bench/run.py --old-collection PATH (about 85 min; writes this page and performance.png)",
        "make bench            # the same without the side 'old' and the fleet comparison (about 70 min, 35 of them the retirement)",
        "make bench-smoke      # = .venv/bin/python bench/run.py --smoke (a minute or two; part of the test command)",
        ".venv/bin/python bench/run.py --only retire   # the retirement alone: rewrites only its section of this page (about 35 min)",
        ".venv/bin/python bench/run.py --quick --old-collection PATH   # reduced sizes, for development (about 8 min)",
        "```",
        "",
        "PATH is another orgshare.aws tree, outside this repository: the goals below compare with commit 015e4d1 (the",
        "role before the plan-first rewrite), checked out with `git worktree add PATH 015e4d1`. Run it on a quiet",
        "machine: the sides are compared within one run, measured back to back, but every figure is a wall time.",
        "`--no-fleet` skips the fleet comparison; `.venv/bin/python bench/run.py --from-json RESULTS --doc FILE` writes",
        "the page again from a run's raw results.",
        "",
        "Raw results (every run, every API call count) go to `bench/results/` (not committed; only the fleet run's "
        "`fleet-forks.json` is, for the section at the end).",
        "",
        "This run: `%s`; %d measurement(s) per figure (scale runs: %d), copies pending %g s, %g ms per request." % (
            public_command(meta["command"]), cfg["repeat"], cfg["scale_repeat"], cfg["pending"], cfg["latency"]),
        "Figures are the median of the measurements, with (min–max); a ratio between two sides is computed for each",
        "measurement (the sides measured back to back), then summarised the same way. The sides:",
        "",
    ] + _sides_text(results) + [
        "",
        "## Machine",
        "",
        _table(["", ""], [
            ["CPU", "%s × %s" % (m["cpu_count"], m["cpu_model"])],
            ["OS", m["os"]],
            ["Python", m["python"]],
            ["ansible-core", m["ansible_core"]],
            ["amazon.aws / community.aws", "%s / %s" % (m["amazon_aws"], m["community_aws"])],
            ["moto / boto3", "%s / %s" % (m["moto"], m["boto3"])],
            ["load average at start", ", ".join("%.2f" % x for x in m["load_average"]) if m.get("load_average") else "–"],
            ["load average at the end", ", ".join("%.2f" % x for x in meta["load_average_end"]) if meta.get("load_average_end") else "–"],
            ["1-min load average before each run", fmt_load(_loads(results))],
            ["commit", m.get("git_commit") or "–"],
            ["date", m["date"]],
            ["duration of the run", "%.0f min" % (meta.get("duration_seconds", 0) / 60.0)],
        ]),
        "",
        "The machine is shared (2 cores); wall times include ansible-playbook's own start-up, which every side pays.",
        "",
        "## Summary",
        "",
    ]
    rows = []
    d = results.get("distribution")
    old = "old" in sd
    if d:
        for phase, title in (("first", "B1 first distribution: 1 encrypted AMI to %d regions" % d["regions"]),
                             ("rerun", "B2 converged re-run of B1")):
            s = d["summary"][phase]
            rows.append([title] + [_wall(s, x) for x in sd] + [fmt_ratio(s["ratio"])] + ([fmt_ratio(s.get("ratio_old"))] if old else []))
        for phase, title in (("first", "B1 module processes (async_status polls)"), ("rerun", "B2 module processes (async_status polls)")):
            s = d["summary"][phase]
            rows.append([title] + ["" if s[x].get("skipped") else "%s (%s)" % (fmt_n(s[x].get("modules")), fmt_n(s[x].get("async_status"))) for x in sd]
                        + [""] + ([""] if old else []))
        s = d["summary"]["rerun"]
        rows.append(["B2 API calls on the re-run (writes)"] + ["" if s[x].get("skipped") else _calls_writes(s[x]["calls"], s[x]["writes"]) for x in sd]
                    + [""] + ([""] if old else []))
    a = results.get("audit")
    if a:
        s = a["summary"]
        rows.append(["B3 audit: %d AMIs over %d regions" % (a["images"], a["regions"])] + [
            fmt_s(s[x]["wall"]) if x in s else "–" for x in sd] + [fmt_ratio(s["ratio"])] + ([""] if old else []))
    fleet = results.get("fleet") or {}
    if fleet.get("rounds"):
        per = [[rnd[k]["seconds"] for rnd in fleet["rounds"]] for k in ("ours", "other")]
        cell = {"ours": "%.1f s" % statistics.median(per[0]), "old": "%.1f s" % statistics.median(per[1]), "anchor": "–"}
        rows.append(["Fleet: %d images × 3 regions, forks 1" % fleet["images"]] + [cell[x] for x in sd] + ["", "%.2f" % fleet["ratio_ours_other"]])
    header = ["benchmark"] + [side_name(results, x) for x in sd] + ["ours / anchor"] + (["ours / old"] if old else [])
    if rows:
        lines += [_table(header, rows), ""]
    g = goals(results)
    if g:
        n, note = goal_count(results)
        lines += ["Goals (the ratio goals judged at %d regions%s; all regions in [Scale](#b1--b2-by-number-of-regions)):" % (
            GOAL_REGIONS, ", not measured in this run: shown at %d" % n if note else ""), ""]
        lines += [_table(["", "goal", "measured", "met"], [[b, t, v, _yes(met)] for b, t, v, met in g]), ""]

    lines += [
        "## What is compared",
        "",
        "- **B1 / B2** (`bench/anchor/distribute.yml` against `ansible-playbook orgshare.aws.distribute`): a source AMI in",
        "  us-east-1 with two EBS volumes encrypted under a customer managed key; a customer managed key in every target",
        "  region; share the source and every copy with the organization and let the organization use every key.",
        "  The anchor loops `community.aws.ec2_ami_copy` (`wait: true`, `encrypted`, `kms_key_id`, `tag_equality` so that a",
        "  re-run finds the copy) over the regions, then `amazon.aws.kms_key` with the key policy merged by hand (the default",
        "  statement plus the organization's) per region, then `amazon.aws.ec2_ami` with `launch_permissions.org_arns` per",
        "  AMI. orgshare.aws starts every copy before waiting for any, then grants and shares; side 'old' runs the same",
        "  playbook of the other tree with the same variables. After each first run the result is checked through boto3",
        "  (one available copy per region under that region's key, every AMI shared with the organization, every key",
        "  policy naming it). B2 runs the same playbook again on the converged state.",
        "- **One measurement** of B1/B2: every side has its own emulator process and gets a fresh world; then the first",
        "  runs of all sides run one after the other, then their re-runs, so that the re-runs are measured back to back",
        "  and the machine's noise hits them alike. The order of the sides rotates from one measurement to the next. A",
        "  side whose first run failed gets no re-run.",
        "- **Module processes**: one per task result, or per loop item that ran, of an orgshare.aws, amazon.aws or",
        "  community.aws module (skipped ones not counted; from the task timeline of `bench/callback_plugins/bench_timeline.py`).",
        "  `ansible.builtin.async_status` polls are processes too and are counted apart.",
        "- **B3** (`bench/anchor/audit.yml` against `bench/ours/audit.yml`): AMIs spread over us-east-1, us-west-2 and",
        "  eu-west-1, each encrypted under its region's customer managed key, every other one shared with the organization.",
        "  The anchor runs `amazon.aws.ec2_ami_info` with `describe_image_attributes: true` once per region (a loop);",
        "  orgshare.aws runs `orgshare.aws.ami_share_info` once with `regions:` (and also reads every snapshot and key",
        "  policy for its launch analysis, which the anchor does not do at all). Both are read-only, so one set-up serves",
        "  every run; the order of the two sides alternates.",
        "- **B4**: the emulator records every API call; each call is attributed to the task that was running when it",
        "  arrived (tasks run one after another). Reads are `Describe*`, `Get*`, `List*`; every other call is a write.",
        "",
    ]

    if d:
        pair = d["runs"][0]
        lines += ["## B1 / B2 in detail", ""]
        rows = []
        for side in sd:
            s1, s2 = d["summary"]["first"][side], d["summary"]["rerun"][side]
            changed = sorted({t for r in d["runs"] for t in r[side]["rerun"].get("changed_tasks") or []})
            rows.append([side_name(results, side), _wall(d["summary"]["first"], side), fmt_n(s1["calls"]), fmt_n(s1["writes"]), fmt_n(s1.get("modules")),
                         fmt_n(s1.get("async_status")), _wall(d["summary"]["rerun"], side), fmt_n(s2["calls"]), fmt_n(s2["writes"]),
                         fmt_n(s2.get("modules")), fmt_n(s2.get("async_status")), "" if s2["skipped"] else ", ".join(changed) or "none"])
        lines += [_table(["", "first run", "API calls", "writes", "module processes", "async_status polls", "re-run", "API calls", "writes",
                          "module processes", "async_status polls", "tasks changed on the re-run"], rows), ""]
        lines += ["Measured in the order %s." % "; ".join(", ".join(r["order"]) for r in d["runs"] if r.get("order")), ""] if pair.get("order") else []
        lines += ["## B4 API calls per module and region", "",
                  "From the first of the B1 measurements (%d regions). Each cell: reads/writes on the first run → on the re-run." % d["regions"], ""]
        for side in sd:
            if pair[side]["first"].get("skipped"):
                continue
            rerun = pair[side]["rerun"] if pair[side]["rerun"].get("calls") else {"calls": {"by_module": {}, "by_region": {}}}
            header, rows = _calls_by_module_region(pair[side]["first"], rerun)
            lines += ["### %s" % side_name(results, side), "", _table(header, rows), ""]
        header, rows = _actions_table(results, pair)
        lines += ["### Per API action", "", _table(header, rows), ""]
        lines += ["### Where the time goes (first run)", "",
                  "Each task's time, from its start to the next task's start, summed per module; an invocation is one",
                  "loop item (one module process).", ""]
        lines += _time_table([("%s, first run" % side_name(results, side), pair[side]["first"]) for side in sd if pair[side]["first"].get("tasks")])
    if a:
        lines += ["## B3 in detail", ""]
        rows = []
        for side in ("ours", "anchor"):
            s = a["summary"][side]
            by_action = a["runs"][0][side]["calls"]["by_action"]
            rows.append([SIDE_NAMES[side], fmt_s(s["wall"]), fmt_n(s["calls"]),
                         ", ".join("%s %d" % (k, v) for k, v in sorted(by_action.items(), key=lambda kv: -kv[1]))])
        lines += [_table(["", "wall time", "API calls", "calls by action (first run)"], rows), ""]
        lines += _time_table([(SIDE_NAMES[side], a["runs"][0][side]) for side in ("ours", "anchor") if a["runs"][0][side].get("tasks")])

    scale = results.get("scale")
    if scale:
        lines += ["## Scale", ""]
        if plot_name:
            lines += ["![wall time against region count and AMI count](%s)" % plot_name, ""]
        if scale.get("distribution"):
            g1 = growth(results, scale["distribution"], "first", "extra region", side_list=sd)
            g2 = growth(results, scale["distribution"], "rerun", "extra region", side_list=sd)
            lines += ["### B1 / B2 by number of regions", ""]
            lines += ["B1: %s" % g1[0].lower() + g1[1:], ""] if g1 else []
            lines += ["B2: %s" % g2[0].lower() + g2[1:], ""] if g2 else []
            lines += ["API calls on the re-runs (median): %s." % _rerun_calls(results), ""]
            lines += region_tables(results)
        if scale.get("audit"):
            rows = []
            for n, e in sorted(scale["audit"].items(), key=lambda kv: int(kv[0])):
                s = e["summary"]
                rows.append([n, fmt_s(s["ours"]["wall"]), fmt_s(s["anchor"]["wall"]), fmt_ratio(s["ratio"]),
                             fmt_n(s["ours"]["calls"]), fmt_n(s["anchor"]["calls"])])
            g3 = growth(results, scale["audit"], None, "100 extra AMIs", per=100)
            header = ["AMIs", "orgshare.aws", "anchor", "ratio", "orgshare.aws calls", "anchor calls"]
            lines += ["### B3 by number of AMIs (3 regions)", ""] + ([g3, ""] if g3 else []) + [_table(header, rows), ""]
    elif d:
        lines += ["## B1 / B2 by number of regions", "", "No scale runs in this run; the measurement at %d regions:" % d["regions"], ""]
        lines += region_tables(results)
    lines += retire_section(results)
    lines += fleet_compare_section(results)
    lines += fleet_section()
    f = failures(results)
    if meta.get("error"):
        f.append("the benchmark broke off: %s" % meta["error"].strip().splitlines()[-1])
    if f:
        lines += ["## Failures and wrong results", "", "A failed run has no wall time in the tables above.", ""]
        lines += ["- %s" % x.replace("\n", " ")[:600] for x in f]
        lines += [""]
    return "\n".join(lines)


def fleet_compare_section(results):
    """The fleet job at forks 1, ours against old (bench/fleet_forks.py --compare, run by bench/run.py)."""
    fleet = results.get("fleet")
    cfg = results["meta"]["config"]
    title = "## Fleet: forks 1 against %s" % ("commit %s" % old_commit(results) if old_commit(results) else "the old tree")
    if not fleet:
        why = ("no `--old-collection`" if not cfg.get("old_collection") else "`--no-fleet`" if not cfg.get("fleet")
               else "not in `--only`" if "fleet" not in (cfg.get("only") or []) else "the benchmark broke off before it")
        return [title, "", "Not measured in this run (%s)." % why, ""]
    if not fleet.get("rounds"):
        return [title, "", "Not measured in this run: %s." % (fleet.get("error") or fleet.get("skipped")), ""]
    lines = [title, "",
             "The fleet job of the section after this one (`orgshare.aws.distribute_fleet` through ansible-runner, one inventory",
             "host per image) at forks 1, for side 'ours' (the same tree as above) and side 'old', back to back on one emulator",
             "with a fresh state per job, the order alternating from one round to the next: `bench/fleet_forks.py --compare PATH",
             "--ours OURS --images %d --forks 1 --copy-pending %g --repeat %d`, run by `bench/run.py`." % (
                 fleet["images"], fleet["copy_pending_seconds"], len(fleet["rounds"])), ""]
    rows = []
    for i, rnd in enumerate(fleet["rounds"]):
        for side in rnd["order"]:
            r = rnd[side]
            name = "ours (%s)" % fleet.get("commit") if side == "ours" else "old (%s)" % (fleet.get("other_commit") or "?")
            hosts = r["hosts"] or 1
            procs = "%d (%g per host)" % (r["processes"]["modules"], round(r["processes"]["modules"] / hosts, 1))
            rows.append([i + 1, name, "%.1f s" % r["seconds"], "%.2f" % r["load_before"], procs, "%d" % r["processes"]["async_status"],
                         "%d" % r["calls"]["total"], "%d" % r["calls"]["writes"], "%d" % r["copy_image_calls"]])
    hosts = fleet["rounds"][0]["ours"]["hosts"]
    lines += ["%d images × %d regions (%d inventory hosts: one image is listed twice), copies pending %g s; %s, %d min." % (
        fleet["images"], fleet["regions_per_image"], hosts, fleet["copy_pending_seconds"], fleet.get("date") or "?",
        round((fleet.get("duration_seconds") or 0) / 60.0)), ""]
    lines += [_table(["round", "side", "wall time (forks 1)", "1-min load before", "module processes", "async_status polls", "API calls", "writes",
                      "CopyImage calls"], rows), ""]
    lines += ["Ours / old: **%.2f** (median over %d round(s): %s)." % (
        fleet["ratio_ours_other"], len(fleet["rounds"]), ", ".join("%.2f" % r["ratio_ours_other"] for r in fleet["rounds"])), ""]
    return lines


# ---- the retirement (bench/retire.py) ----------------------------------------------------------------------
RETIRE_SCENARIOS = {
    "unshare": "default retirement: ours unshares and disables, the anchor only unshares",
    "deregister": "deregistration: deregister and delete the snapshots",
}


def retire_console(results):
    r = results.get("retire")
    if not r or not r.get("summary"):
        return []
    lines = []
    for scenario, s in r["summary"].items():
        for phase, title in (("first", "first run"), ("rerun", "re-run")):
            p = s[phase]
            lines.append("retire %-10s %-9s ours %-16s anchor %-16s ours/anchor %s   calls (writes) ours %s anchor %s; module processes ours %s anchor %s" % (
                scenario, title, fmt_s(p["ours"]["wall"]), fmt_s(p["anchor"]["wall"]), fmt_ratio(p["ratio"]),
                _calls_writes(p["ours"]["calls"], p["ours"]["writes"]), _calls_writes(p["anchor"]["calls"], p["anchor"]["writes"]),
                fmt_n(p["ours"]["modules"]), fmt_n(p["anchor"]["modules"])))
    return lines


def _retire_actions(runs):
    """[API action, ours first, ours re-run, anchor first, anchor re-run] of the first measurement."""
    pair = runs[0]
    cols = [(side, phase) for side in ("ours", "anchor") for phase in ("first", "rerun")]
    names = sorted({a for side, phase in cols if pair[side][phase].get("calls") for a in pair[side][phase]["calls"]["by_action"]})
    rows = [[name] + [pair[side][phase]["calls"]["by_action"].get(name, "") if pair[side][phase].get("calls") else "" for side, phase in cols]
            for name in names]
    rows.append(["**total**"] + ["**%d**" % pair[side][phase]["calls"]["total"] if pair[side][phase].get("calls") else "–" for side, phase in cols])
    return ["API call", "orgshare.aws first", "orgshare.aws re-run", "anchor first", "anchor re-run"], rows


def _retire_modules(run):
    """'orgshare.aws.ami_retire 2, orgshare.aws.kms_org_grant 0' — module processes per module of one run."""
    acc = {}
    for _task, action, n in (run.get("processes") or {}).get("by_task") or []:
        acc[action] = acc.get(action, 0) + n
    return ", ".join("%s %d" % (_short(k), v) for k, v in sorted(acc.items())) or "none"


def retire_section(results):
    """The retirement section, between retire.BEGIN and retire.END (so that `--only retire` can replace it alone)."""
    import retire

    r = results.get("retire")
    title = "## Retirement: the old versions of a family of AMIs"
    if not r:
        cfg = results["meta"]["config"]
        why = "not in `--only`" if "retire" not in (cfg.get("only") or []) else "the benchmark broke off before it"
        return [retire.BEGIN, title, "", "Not measured in this run (%s)." % why, "", retire.END, ""]
    meta = results["meta"]
    m = meta["machine"]
    cfg = meta["config"]
    n_regions = len(r["regions"])
    old_per_region = max(r["versions"] - r["keep_newest"], 0)
    force = bool(r.get("force"))
    lines = [retire.BEGIN, title, ""]
    lines += ["%d versions of one family (`golden-base-001` …, one second apart) in each of %d regions (%s), each shared with an OU" % (
        r["versions"], n_regions, ", ".join(r["regions"])),
        "and an account, unencrypted; keep the newest %d per region, so %d old versions in all. %g ms per request." % (
        r["keep_newest"], old_per_region * n_regions, r["latency_ms"]), ""]
    lines += ["- **orgshare.aws**: `ansible-playbook orgshare.aws.retire` with `retire_family: {name_prefix: golden-base-}`,",
              "  `retire_keep_newest`, `retire_regions` and otherwise its defaults%s: the plan in check mode" % (
                  " but `retire_force=true` (`--retire-force`)" if force else ""),
              "  (`orgshare.aws.ami_retire`, which also reads %severy old version's deregistration protection), then the" % (
                  "" if force else "the references to every old version (`DescribeImageReferences`) and "),
              "  same module for real, then `orgshare.aws.kms_org_grant` per key to revoke (none here: the images are unencrypted).",
              "- **anchor** (`bench/anchor/retire.yml`, amazon.aws only): `amazon.aws.ec2_ami_info` per region with a name filter,",
              "  `sort(attribute='creation_date', reverse=true)`, all but the newest N, then `amazon.aws.ec2_ami` per old version.",
              "  amazon.aws has no module that disables an AMI or reads its references: the anchor does neither."]
    if force:
        lines += ["- `retire_force=true`: no `DescribeImageReferences`, which the anchor does not make either. With the default",
                  "  (`false`) ours failed at this scale when this run was made: `ami_retire` sends every old version of a region",
                  "  in one `DescribeImageReferences` call, which takes at most 10 `ImageIds` (botocore's EC2 model; the emulator",
                  "  refuses more, `InvalidParameterValue`), so a region with more than 10 old versions fails in the plan step."]
    lines += ["- **Scenarios**: *unshare* — ours with its defaults (remove every launch permission, then disable) against the",
              "  anchor's `ec2_ami` with `state: present` and `launch_permissions` of empty lists (which removes every one): the",
              "  anchor only unshares. *deregister* — ours with `retire_deregister=true` (its snapshots deleted by default) against",
              "  the anchor's `ec2_ami` with `state: absent, delete_snapshot: true`.",
              "- **Checked after every run** (the AWS state, read from the emulator): the kept versions available, shared with",
              "  the OU and the account as before, their snapshots kept; *unshare*: every old version still registered and without",
              "  a launch permission, and on our side disabled; *deregister*: every old version and its snapshots gone.",
              "- Per scenario, each side gets a fresh world in its own emulator; the first runs of both sides run back to back, then",
              "  the converged re-runs; the order of the sides alternates from one scenario to the next.",
              ""]
    only = retire_only_results(results)
    if cfg["profile"] != "full":
        lines += ["> **These numbers are from a `--%s` run (reduced sizes), not the full benchmark.**" % cfg["profile"], ""]
    lines += ["Reproduce this section alone: `.venv/bin/python bench/run.py --only retire%s` (it rewrites only the part of this" % (
        " --retire-force" if force else ""),
        "page between its begin/end comments; a whole `bench/run.py` run measures it too, with the playbook's defaults).", "",
        "The machine is shared: a wall time includes whatever else ran at the time (the 1-min load average before each run is",
        "in the table); the API calls and module processes do not depend on it.", ""]
    lines += ["Measured by `%s`%s; %s, %s, %s × %s, 1-min load before each run %s; %d measurement(s) per scenario." % (
        public_command(meta["command"]), " (this section only: the rest of the page is from another run)" if only else "",
        describe_tree((meta.get("sides") or {}).get("ours")) if (meta.get("sides") or {}).get("ours") else m.get("git_commit") or "?",
        m["date"], m["cpu_count"], m["cpu_model"], fmt_load([x.get("load_before") for runs in r["runs"].values() for p in runs
                                                             for side in ("ours", "anchor") for x in (p[side]["first"], p[side]["rerun"])
                                                             if x.get("load_before") is not None]), r["repeat"]), ""]
    s = r.get("summary") or {}
    rows = []
    # the load after each run (recorded since the first full run of this section)
    has_after = any(q[side][phase].get("load_after") is not None for runs in r["runs"].values() for q in runs
                    for side in ("ours", "anchor") for phase in ("first", "rerun"))
    for scenario in retire.SCENARIOS:
        if scenario not in s:
            continue
        for phase, what in (("first", "first run"), ("rerun", "converged re-run")):
            p = s[scenario][phase]
            for side in ("ours", "anchor"):
                x = p[side]
                wall = fmt_s(x["wall"]) if x["wall"] else ("failed" if x["failures"] else "not measured")
                runs = [q[side][phase] for q in r["runs"][scenario] if q[side][phase].get("ok")]
                load = fmt(_median(stats_of([q.get("load_before") for q in runs])), "%.1f")
                if has_after:
                    load += " / %s" % fmt(_median(stats_of([q.get("load_after") for q in runs])), "%.1f")
                rows.append(["%s, %s" % (scenario, what), SIDE_NAMES[side], wall, fmt_ratio(p["ratio"]) if side == "ours" else "",
                             fmt_n(x["calls"]), fmt_n(x["reads"]), fmt_n(x["writes"]), fmt_n(x["modules"]),
                             ", ".join(x["changed_tasks"]) or "none", "yes" if x["verified"] and not x["failures"] else "**no**", load])
    lines += [_table(["scenario", "side", "wall time", "ours / anchor", "API calls", "reads", "writes", "module processes", "tasks changed",
                      "AWS state checked", "1-min load before / after" if has_after else "1-min load before"], rows), ""]
    for scenario in retire.SCENARIOS:
        runs = r["runs"].get(scenario) or []
        if not runs:
            continue
        pair = runs[0]
        lines += ["### Retirement, %s (%s)" % (scenario, RETIRE_SCENARIOS[scenario]), ""]
        facts = []
        for side in ("ours", "anchor"):
            for phase in ("first", "rerun"):
                run = pair[side][phase]
                if run.get("skipped") or not run.get("ok"):
                    continue
                states = ", ".join("%d %s" % (v, k) for k, v in sorted((run.get("old_states") or {}).items())) or "–"
                facts.append("- %s %s: module processes %s; the old versions after it: %s." % (
                    SIDE_NAMES[side], "first run" if phase == "first" else "re-run", _retire_modules(run), states))
        lines += facts + [""]
        header, rows = _retire_actions(runs)
        lines += [_table(header, rows), ""]
        lines += _time_table([("%s, %s" % (SIDE_NAMES[side], "first run" if phase == "first" else "converged re-run"), pair[side][phase])
                              for side in ("ours", "anchor") for phase in ("first", "rerun") if pair[side][phase].get("tasks")])
    f = [x for x in failures({"meta": meta, "retire": r}) if x.startswith("retirement")]
    if f:
        lines += ["Failures and wrong results of the retirement:", ""] + ["- %s" % x.replace("\n", " ")[:600] for x in f] + [""]
    return lines + [retire.END, ""]


def stats_of(values):
    """{median} of the values that are there, or None."""
    values = sorted(v for v in values if v is not None)
    return {"median": statistics.median(values)} if values else None


def retire_only_results(results):
    return results["meta"]["config"].get("only") == ["retire"]


FLEET_RESULTS = os.path.join(BENCH, "results", "fleet-forks.json")


def fleet_section(path=FLEET_RESULTS):
    """The fleet measurement (bench/fleet_forks.py writes it; it is a separate run from the rest)."""
    import json

    lines = ["## Fleet: forks 1 vs 8", "",
             "The fleet playbook (`orgshare.aws.distribute_fleet`, one inventory host per image), run through "
             "ansible-runner as AWX runs it, once with each forks value on a fresh emulator state: "
             "`.venv/bin/python bench/fleet_forks.py --images 20 --forks 1 8 --copy-pending 3` "
             "(a separate command from `make bench`). More in [awx.md](awx.md#forks-1-vs-8).", ""]
    if not os.path.exists(path):
        return lines + ["Not measured yet.", ""]
    with open(path) as f:
        data = json.load(f)
    results = data["results"]
    base = results[0]
    rows = []
    for r in results:
        ratio = "" if r is base else "%.2f× faster (%s s / %s s)" % (base["seconds"] / r["seconds"], base["seconds"], r["seconds"])
        rows.append(["%d" % r["forks"], "%.1f s" % r["seconds"], ratio, "%d" % r["hosts"], "%d" % r["copy_image_calls"]])
    lines += [
        "%d images × %d regions (%d inventory hosts: one image is listed twice), copies pending %g s; Python %s, %s CPUs; "
        "commit %s, %s; one run per forks value." % (
            data["images"], data["regions_per_image"], results[0]["hosts"], data["copy_pending_seconds"], data["python"],
            data["cpus"], data.get("commit") or "?", data.get("date") or "?"),
        "",
        _table(["forks", "wall time", "vs forks %d" % base["forks"], "hosts", "CopyImage calls"], rows),
        "",
    ]
    for run in data.get("further_runs") or []:
        rs = run["results"]
        lines += ["Run again (commit %s, %s): %s." % (
            run.get("commit") or "?", run.get("date") or "?",
            ", ".join("forks %d %.1f s" % (r["forks"], r["seconds"]) for r in rs)
            + "".join(" (%.2f× faster)" % (rs[0]["seconds"] / r["seconds"]) for r in rs[1:])), ""]
    return lines


# ---- the plot -------------------------------------------------------------------------------------------
def ensure_matplotlib():
    try:
        import matplotlib  # noqa: F401

        return True
    except ImportError:
        pass
    req = os.path.join(ROOT, "requirements-bench.txt")
    log("installing %s into the virtual environment (once)" % os.path.relpath(req))
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r", req], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        log("could not install matplotlib (%s); no plot" % proc.stderr.strip()[-300:])
        return False
    import importlib

    importlib.invalidate_caches()
    return True


def _series(entries, side, phase):
    xs, med, lo, hi = [], [], [], []
    for n, e in sorted(entries.items(), key=lambda kv: int(kv[0])):
        cell = e["summary"][phase].get(side) if phase else e["summary"].get(side)
        s = cell["wall"] if cell and not cell.get("skipped") else None
        if s:
            xs.append(int(n))
            med.append(s["median"])
            lo.append(s["median"] - s["min"])
            hi.append(s["max"] - s["median"])
    return xs, med, [lo, hi]


def plot(results, path):
    scale = results.get("scale") or {}
    if not (scale.get("distribution") or scale.get("audit")):
        return False
    if not ensure_matplotlib():
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cfg = results["meta"]["config"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    styles = {"ours": dict(color="tab:blue", marker="o"), "old": dict(color="tab:green", marker="^"), "anchor": dict(color="tab:orange", marker="s")}
    panels = [
        (axes[0], scale.get("distribution") or {}, "first", sides(results), "regions copied to",
         "B1 first distribution (copies pending %g s, %g ms/request)" % (cfg["pending"], cfg["latency"])),
        (axes[1], scale.get("distribution") or {}, "rerun", sides(results), "regions copied to", "B2 converged re-run (%g ms/request)" % cfg["latency"]),
        (axes[2], scale.get("audit") or {}, None, ("ours", "anchor"), "AMIs (over 3 regions)", "B3 audit (%g ms/request)" % cfg["latency"]),
    ]
    for ax, entries, phase, side_list, xlabel, title in panels:
        ticks = set()
        for side in side_list:
            xs, med, err = _series(entries, side, phase)
            if xs:
                ax.errorbar(xs, med, yerr=err, capsize=3, label=side_name(results, side), **styles[side])
                ticks.update(xs)
        if ticks:
            ax.set_xticks(sorted(ticks))
        ax.set_xlabel(xlabel)
        ax.set_ylabel("wall time (s)")
        ax.set_title(title, fontsize=10)
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        if ax.has_data():
            ax.legend()
    fig.suptitle("orgshare.aws against the anchor playbooks%s (median, min–max)" % (" and an older orgshare.aws" if has_old(results) else ""), fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


__all__ = ["markdown", "plot", "console_summary", "GOALS", "GOAL_REGIONS", "BENCH"]
