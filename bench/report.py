"""Turn the raw results of bench/run.py into docs/performance.md, a plot, and a console summary."""

from __future__ import annotations

import os
import subprocess
import sys

from harness import BENCH, ROOT, log

SIDE_NAMES = {"ours": "orgshare.aws", "anchor": "anchor"}


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


def _wall(summary, side):
    return "not measured" if summary[side].get("skipped") else fmt_s(summary[side]["wall"])


def _yes(ok):
    return "yes" if ok else "**no**"


def goals(results):
    """[(benchmark, goal text, met or None when not measured)]"""
    out = []
    cfg = results["meta"]["config"]
    d = results.get("distribution")
    if d:
        s = d["summary"]["first"]
        limit = cfg["pending"] + 30
        ours = s["ours"]["wall"]
        out.append(("B1", "orgshare.aws within %g s (copy pending %g s + 30 s)" % (limit, cfg["pending"]),
                    bool(ours) and ours["max"] <= limit and not s["ours"]["failures"]))
        out.append(("B1", "orgshare.aws at most 1/4 of the anchor's wall time", bool(s["ratio"]) and s["ratio"]["max"] <= 0.25))
        out.append(("B1", "both sides' results verified (copies, keys, launch permissions)", s["ours"]["verified"] and s["anchor"]["verified"]))
        r = d["summary"]["rerun"]
        out.append(("B2", "orgshare.aws makes no write call on the re-run",
                    not r["ours"]["failures"] and bool(r["ours"]["writes"]) and r["ours"]["writes"]["max"] == 0))
    a = results.get("audit")
    if a:
        s = a["summary"]
        out.append(("B3", "orgshare.aws at most 1/4 of the anchor's wall time", bool(s["ratio"]) and s["ratio"]["max"] <= 0.25))
        out.append(("B3", "both sides report every AMI", s["ours"]["verified"] and s["anchor"]["verified"]))
    return out


def console_summary(results):
    lines = ["", "=== orgshare.aws benchmarks (%s)" % results["meta"]["config"]["profile"]]
    d = results.get("distribution")
    if d:
        for phase, title in (("first", "B1 first distribution"), ("rerun", "B2 re-run")):
            s = d["summary"][phase]
            lines.append("%-24s ours %-22s anchor %-22s ratio %s   writes ours %s, anchor %s" % (
                title, _wall(s, "ours"), _wall(s, "anchor"), fmt_ratio(s["ratio"]),
                fmt_n(s["ours"]["writes"]), "–" if s["anchor"].get("skipped") else fmt_n(s["anchor"]["writes"])))
    a = results.get("audit")
    if a:
        s = a["summary"]
        lines.append("%-24s ours %-22s anchor %-22s ratio %s" % ("B3 audit", fmt_s(s["ours"]["wall"]), fmt_s(s["anchor"]["wall"]), fmt_ratio(s["ratio"])))
    for bench, text, met in goals(results):
        lines.append("goal %s: %s: %s" % (bench, text, "met" if met else "NOT MET"))
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
    if d:
        for i, r in enumerate(d["runs"]):
            for side in ("ours", "anchor"):
                for phase in ("first", "rerun"):
                    add("B1/B2 run %d, %s, %s" % (i + 1, SIDE_NAMES[side], phase), r[side][phase])
    a = results.get("audit")
    if a:
        for i, r in enumerate(a["runs"]):
            for side in ("ours", "anchor"):
                add("B3 run %d, %s" % (i + 1, SIDE_NAMES[side]), r[side])
    for n, entry in sorted((results.get("scale") or {}).get("distribution", {}).items(), key=lambda kv: int(kv[0])):
        if d and entry["runs"] is d["runs"]:
            continue
        for i, r in enumerate(entry["runs"]):
            for side in ("ours", "anchor"):
                for phase in ("first", "rerun"):
                    add("scale B1 %s regions run %d, %s, %s" % (n, i + 1, SIDE_NAMES[side], phase), r[side][phase])
    for n, entry in sorted((results.get("scale") or {}).get("audit", {}).items(), key=lambda kv: int(kv[0])):
        for i, r in enumerate(entry["runs"]):
            for side in ("ours", "anchor"):
                add("scale B3 %s AMIs run %d, %s" % (n, i + 1, SIDE_NAMES[side]), r[side])
    return sorted(set(out), key=out.index)


# ---- Markdown ---------------------------------------------------------------------------------------
_PATH_OPTIONS = ("--results-dir", "--json", "--doc", "--plot", "--collection", "--from-json")


def public_command(command):
    """The command line without options that name local paths (they say nothing about the run)."""
    out, skip = [], False
    for token in command.split():
        if skip:
            skip = False
            continue
        if token in _PATH_OPTIONS:
            skip = True
            continue
        if token.split("=", 1)[0] in _PATH_OPTIONS:
            continue
        out.append(token)
    return " ".join(out)


def _loads(results):
    """Every measured run's 1-minute load average before it started."""
    out = {}

    def walk(node):
        if isinstance(node, dict):
            if node.get("load_before") is not None:
                out[node.get("t0")] = node["load_before"]  # the scale runs reuse the main runs
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk({k: v for k, v in results.items() if k != "meta"})
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


def _actions_table(pair):
    names = sorted({a for side in ("ours", "anchor") for phase in ("first", "rerun") for a in pair[side][phase]["calls"]["by_action"]})
    rows = []
    for name in names:
        row = [name]
        for side in ("ours", "anchor"):
            for phase in ("first", "rerun"):
                row.append(pair[side][phase]["calls"]["by_action"].get(name, "") or "")
        rows.append(row)
    rows.append(["**total**"] + ["**%d**" % pair[side][phase]["calls"]["total"] for side in ("ours", "anchor") for phase in ("first", "rerun")])
    return ["API call", "orgshare.aws first", "orgshare.aws re-run", "anchor first", "anchor re-run"], rows


def growth(entries, phase, unit, per=1):
    """A sentence on how wall time and calls grow between the smallest and the largest size."""
    sizes = sorted(entries, key=int)
    if len(sizes) < 2:
        return None
    lo, hi = entries[sizes[0]]["summary"], entries[sizes[-1]]["summary"]
    span = (int(sizes[-1]) - int(sizes[0])) / float(per)
    parts = []
    for side in ("ours", "anchor"):
        a, b = (lo[phase][side], hi[phase][side]) if phase else (lo[side], hi[side])
        if not (a["wall"] and b["wall"] and a["calls"] and b["calls"]):
            parts.append("%s: not measured at both ends" % SIDE_NAMES[side])
            continue
        dt = (b["wall"]["median"] - a["wall"]["median"]) / span
        dn = (b["calls"]["median"] - a["calls"]["median"]) / span
        parts.append("%s %+.1f s and %+.0f API calls" % (SIDE_NAMES[side], dt, dn))
    return "From %s to %s, per %s: %s." % (sizes[0], sizes[-1], unit, "; ".join(parts))


def markdown(results, plot_name=None):
    meta = results["meta"]
    cfg = meta["config"]
    m = meta["machine"]
    full = cfg["profile"] == "full"
    lines = [
        "# Performance",
        "",
        "orgshare.aws against the way users do the same job today (amazon.aws / community.aws modules in a",
        "playbook), measured side by side on the AWS emulator (`emulator/orgshare_emulator`, moto plus the",
        "AWS behaviour the collection relies on) with a fixed latency per API request and copies that stay",
        "pending for a fixed time, as they do on AWS. Generated by `bench/run.py`; do not edit by hand.",
        "",
    ]
    if not full:
        lines += ["> **These numbers are from a `--%s` run (reduced sizes), not the full benchmark.**" % cfg["profile"], ""]
    lines += [
        "## Reproduce",
        "",
        "```",
        "make bench            # = .venv/bin/python bench/run.py (about an hour; writes this page and performance.png)",
        "make bench-smoke      # = .venv/bin/python bench/run.py --smoke (a minute or two; part of the test command)",
        ".venv/bin/python bench/run.py --quick     # reduced sizes, for development",
        "```",
        "",
        "Raw results (every run, every API call count) go to `bench/results/` (not committed; only the fleet run's "
        "`fleet-forks.json` is, for the section at the end).",
        "",
    ] + ([
        "The orgshare.aws measured here is not the working tree of this commit but another copy of the collection",
        "(`--collection`).",
        "",
    ] if cfg.get("collection", "working tree") != "working tree" else []) + [
        "This run: `%s`; %d run(s) per figure (scale runs: %d), copies pending %g s, %g ms per request." % (
            public_command(meta["command"]), cfg["repeat"], cfg["scale_repeat"], cfg["pending"], cfg["latency"]),
        "Figures are the median of the runs, with (min–max); the ratio orgshare.aws / anchor is computed for",
        "each pair of runs measured back to back, then summarised the same way.",
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
            ["1-min load average before each run", fmt_load(_loads(results))],
            ["commit", m.get("git_commit") or "–"],
            ["date", m["date"]],
            ["duration of the run", "%.0f min" % (meta.get("duration_seconds", 0) / 60.0)],
        ]),
        "",
        "The machine is shared (2 cores); wall times include ansible-playbook's own start-up, which both sides pay.",
        "",
        "## Summary",
        "",
    ]
    rows = []
    d = results.get("distribution")
    if d:
        for phase, title in (("first", "B1 first distribution: 1 encrypted AMI to %d regions" % d["regions"]),
                             ("rerun", "B2 converged re-run of B1")):
            s = d["summary"][phase]
            rows.append([title, _wall(s, "ours"), _wall(s, "anchor"), fmt_ratio(s["ratio"])])
        s = d["summary"]["rerun"]
        rows.append(["B2 write calls on the re-run", fmt_n(s["ours"]["writes"]), fmt_n(s["anchor"]["writes"]), ""])
    a = results.get("audit")
    if a:
        s = a["summary"]
        rows.append(["B3 audit: %d AMIs over %d regions" % (a["images"], a["regions"]), fmt_s(s["ours"]["wall"]), fmt_s(s["anchor"]["wall"]),
                     fmt_ratio(s["ratio"])])
    lines += [_table(["benchmark", "orgshare.aws", "anchor", "orgshare.aws / anchor"], rows), ""]
    g = goals(results)
    if g:
        lines += [_table(["", "goal", "met"], [[b, t, _yes(met)] for b, t, met in g]), ""]

    lines += [
        "## What is compared",
        "",
        "- **B1 / B2** (`bench/anchor/distribute.yml` against `ansible-playbook orgshare.aws.distribute`): a source AMI in",
        "  %s with two EBS volumes encrypted under a customer managed key; a customer managed key in every target" % "us-east-1",
        "  region; share the source and every copy with the organization and let the organization use every key.",
        "  The anchor loops `community.aws.ec2_ami_copy` (`wait: true`, `encrypted`, `kms_key_id`, `tag_equality` so that a",
        "  re-run finds the copy) over the regions, then `amazon.aws.kms_key` with the key policy merged by hand (the default",
        "  statement plus the organization's) per region, then `amazon.aws.ec2_ami` with `launch_permissions.org_arns` per",
        "  AMI. orgshare.aws starts every copy before waiting for any, then grants and shares. After each first run the",
        "  result is checked through boto3 (one available copy per region under that region's key, every AMI shared with",
        "  the organization, every key policy naming it). B2 runs the same playbook again on the converged state.",
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
        for side in ("ours", "anchor"):
            s1, s2 = d["summary"]["first"][side], d["summary"]["rerun"][side]
            changed = sorted({t for r in d["runs"] for t in r[side]["rerun"]["changed_tasks"]})
            rows.append([SIDE_NAMES[side], fmt_s(s1["wall"]), fmt_n(s1["calls"]), fmt_n(s1["writes"]), _wall(d["summary"]["rerun"], side), fmt_n(s2["calls"]),
                         fmt_n(s2["writes"]), ", ".join(changed) or "none"])
        lines += [_table(["", "first run", "calls", "writes", "re-run", "calls", "writes", "tasks changed on the re-run"], rows), ""]
        lines += ["## B4 API calls per module and region", "",
                  "From the first of the B1 runs (%d regions). Each cell: reads/writes on the first run → on the re-run." % d["regions"], ""]
        for side in ("ours", "anchor"):
            header, rows = _calls_by_module_region(pair[side]["first"], pair[side]["rerun"])
            lines += ["### %s" % SIDE_NAMES[side], "", _table(header, rows), ""]
        header, rows = _actions_table(pair)
        lines += ["### Per API action", "", _table(header, rows), ""]
        lines += ["### Where the time goes (first run)", "",
                  "Each task's time, from its start to the next task's start, summed per module; an invocation is one",
                  "loop item (one module process).", ""]
        lines += _time_table([("%s, first run" % SIDE_NAMES[side], pair[side]["first"]) for side in ("ours", "anchor") if pair[side]["first"].get("tasks")])
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
            rows = []
            for n, e in sorted(scale["distribution"].items(), key=lambda kv: int(kv[0])):
                s1, s2 = e["summary"]["first"], e["summary"]["rerun"]
                rows.append([n, fmt_s(s1["ours"]["wall"]), fmt_s(s1["anchor"]["wall"]), fmt_ratio(s1["ratio"]),
                             "%s (%s)" % (fmt_n(s1["ours"]["calls"]), fmt_n(s1["ours"]["writes"])),
                             "%s (%s)" % (fmt_n(s1["anchor"]["calls"]), fmt_n(s1["anchor"]["writes"])),
                             fmt_s(s2["ours"]["wall"]), fmt_s(s2["anchor"]["wall"]),
                             "%s (%s)" % (fmt_n(s2["ours"]["calls"]), fmt_n(s2["ours"]["writes"])),
                             "%s (%s)" % (fmt_n(s2["anchor"]["calls"]), fmt_n(s2["anchor"]["writes"]))])
            g1 = growth(scale["distribution"], "first", "extra region")
            header = ["regions", "orgshare.aws", "anchor", "ratio", "orgshare.aws calls (writes)", "anchor calls (writes)",
                      "re-run orgshare.aws", "re-run anchor", "re-run orgshare.aws calls (writes)", "re-run anchor calls (writes)"]
            lines += ["### B1 / B2 by number of regions", ""] + ([g1, ""] if g1 else []) + [_table(header, rows), ""]
        if scale.get("audit"):
            rows = []
            for n, e in sorted(scale["audit"].items(), key=lambda kv: int(kv[0])):
                s = e["summary"]
                rows.append([n, fmt_s(s["ours"]["wall"]), fmt_s(s["anchor"]["wall"]), fmt_ratio(s["ratio"]),
                             fmt_n(s["ours"]["calls"]), fmt_n(s["anchor"]["calls"])])
            g3 = growth(scale["audit"], None, "100 extra AMIs", per=100)
            header = ["AMIs", "orgshare.aws", "anchor", "ratio", "orgshare.aws calls", "anchor calls"]
            lines += ["### B3 by number of AMIs (3 regions)", ""] + ([g3, ""] if g3 else []) + [_table(header, rows), ""]
    lines += fleet_section()
    f = failures(results)
    if meta.get("error"):
        f.append("the benchmark broke off: %s" % meta["error"].strip().splitlines()[-1])
    if f:
        lines += ["## Failures and wrong results", "", "A failed run has no wall time in the tables above.", ""]
        lines += ["- %s" % x.replace("\n", " ")[:600] for x in f]
        lines += [""]
    return "\n".join(lines)


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
        s = e["summary"][phase][side]["wall"] if phase else e["summary"][side]["wall"]
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
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = {"ours": dict(color="tab:blue", marker="o", label="orgshare.aws"), "anchor": dict(color="tab:orange", marker="s", label="anchor")}
    panels = [
        (axes[0], scale.get("distribution") or {}, "first", "regions copied to",
         "B1 first distribution (copies pending %g s, %g ms/request)" % (cfg["pending"], cfg["latency"])),
        (axes[1], scale.get("audit") or {}, None, "AMIs (over 3 regions)", "B3 audit (%g ms/request)" % cfg["latency"]),
    ]
    for ax, entries, phase, xlabel, title in panels:
        for side in ("ours", "anchor"):
            xs, med, err = _series(entries, side, phase)
            if xs:
                ax.errorbar(xs, med, yerr=err, capsize=3, **styles[side])
        ax.set_xlabel(xlabel)
        ax.set_ylabel("wall time (s)")
        ax.set_title(title, fontsize=10)
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle("orgshare.aws against the anchor playbooks (median, min–max)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


__all__ = ["markdown", "plot", "console_summary", "BENCH"]
