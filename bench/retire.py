"""The retirement benchmark of bench/run.py (``--only retire`` runs it alone): the old versions of a family of
AMIs in several regions, ``orgshare.aws.retire`` against what a user writes today with amazon.aws only
(bench/anchor/retire.yml), side by side in one run.

Two scenarios, each on a fresh world per side (every side has its own emulator process):

- ``unshare``, the default retirement: ours (the playbook's defaults: unshare and disable every old version, never
  one that is referenced or protected) against the anchor's amazon.aws.ec2_ami with emptied launch_permissions per
  old version. amazon.aws cannot disable an AMI: the anchor only unshares.
- ``deregister``: ours with retire_deregister=true against the anchor's amazon.aws.ec2_ami state absent,
  delete_snapshot true, per old version.

The world: ``versions`` versions of one family (``golden-base-001`` ... oldest first, each version one second
after the previous one, so that every side orders them alike by CreationDate) in each region, each shared with an
OU and an account (ModifyImageAttribute), unencrypted (so there is no key grant to revoke: the anchor has no such
step). Per scenario: the first runs of both sides back to back, then their converged re-runs; the order of the
sides alternates from one scenario (and measurement) to the next. After each run the AWS state is checked: what
both sides do (the old versions have no launch permissions; deregistered and their snapshots gone), what they must
leave (the newest versions still shared, their snapshots kept), and what only ours does (the old versions
disabled), recorded apart.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import harness
from collections_tree import link_collections
from harness import BENCH, SOURCE_REGION, TARGET_REGIONS, log

RETIRE_OURS = "orgshare.aws.retire"
RETIRE_ANCHOR = os.path.join(BENCH, "anchor", "retire.yml")
SIDES = ("ours", "anchor")
SCENARIOS = ("unshare", "deregister")
# the regions, in the order a smaller run takes them
REGIONS = [SOURCE_REGION] + TARGET_REGIONS
NAME_PREFIX = "golden-base-"
SHARE_ACCOUNT_ID = "111122223333"

# the begin/end comments around the section in docs/performance.md (``--only retire`` replaces only that part)
BEGIN = "<!-- begin retire: written by bench/run.py --only retire (or a whole run); do not edit by hand -->"
END = "<!-- end retire -->"


def regions_of(n):
    return REGIONS[:n]


# ---- the world ---------------------------------------------------------------------------------------------
def setup_worlds(emus, regions, versions):
    """The same world in every emulator of ``emus`` ({side: EmulatorProcess}): an organization with an OU, and in
    each region ``versions`` AMIs of the family, oldest first, each shared with the OU and SHARE_ACCOUNT_ID.

    Version i+1 is registered in a later second than version i (CreationDate has whole seconds), so that sorting
    by CreationDate gives the versions' order on every side. Returns {side: {organization, ou_arn, regions,
    images: {region: [{image_id, name, snapshot_ids}] oldest first}}}."""
    from orgshare_emulator.fixtures import make_image

    worlds, clients = {}, {}
    for side, emu in emus.items():
        org_client = emu.client("organizations")
        org = harness.create_organization(emu)
        root = org_client.list_roots()["Roots"][0]["Id"]
        ou = org_client.create_organizational_unit(ParentId=root, Name="apps")["OrganizationalUnit"]
        worlds[side] = {"organization": org, "ou_arn": ou["Arn"], "account_id": SHARE_ACCOUNT_ID, "regions": list(regions),
                        "images": {r: [] for r in regions}}
        for region in regions:  # boto3 clients are made in this thread (making them is not thread-safe)
            clients[side, region] = emu.client("ec2", region)
    cells = list(clients)

    def one(cell, name, version):
        side, region = cell
        ec2 = clients[cell]
        image_id = make_image(ec2, name, tags={"family": NAME_PREFIX.rstrip("-"), "version": str(version)})
        ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [
            {"OrganizationalUnitArn": worlds[side]["ou_arn"]}, {"UserId": SHARE_ACCOUNT_ID}]})
        return cell, image_id

    with ThreadPoolExecutor(len(cells)) as pool:
        for v in range(1, versions + 1):
            name = "%s%03d" % (NAME_PREFIX, v)
            for (side, region), image_id in pool.map(lambda c: one(c, name, v), cells):
                worlds[side]["images"][region].append({"image_id": image_id, "name": name})
            # the next version in a later second than every registration of this one
            time.sleep(max(0.0, int(time.time()) + 1.02 - time.time()))
    for (side, region), ec2 in clients.items():
        entries = worlds[side]["images"][region]
        found = {}
        ids = [e["image_id"] for e in entries]
        for i in range(0, len(ids), 100):
            for image in ec2.describe_images(ImageIds=ids[i:i + 100])["Images"]:
                found[image["ImageId"]] = image
        for e in entries:
            image = found[e["image_id"]]
            e["creation_date"] = image["CreationDate"]
            e["snapshot_ids"] = sorted(m["Ebs"]["SnapshotId"] for m in image.get("BlockDeviceMappings", []) if m.get("Ebs", {}).get("SnapshotId"))
        dates = [e["creation_date"] for e in entries]
        if any(a >= b for a, b in zip(dates, dates[1:])):
            raise RuntimeError("%s %s: the versions' CreationDates are not strictly increasing: %s" % (side, region, dates))
    return worlds


def expected_permissions(world):
    return {("OrganizationalUnitArn", world["ou_arn"]), ("UserId", world["account_id"])}


def _permissions(ec2, image_id):
    perms = ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission").get("LaunchPermissions", [])
    return {(k, v) for p in perms for k, v in p.items()}


def verify(emu, world, scenario, keep_newest, side):
    """The AWS state after a run: {problems (what both sides must have done, and left), ours_only (what only ours
    must have done, checked on ours), facts (the old versions' states per side)}."""
    problems, ours_only, states = [], [], {}
    wanted = expected_permissions(world)
    for region in world["regions"]:
        ec2 = emu.client("ec2", region)
        entries = world["images"][region]
        cut = max(len(entries) - keep_newest, 0)
        old, kept = entries[:cut], entries[cut:]
        images = {i["ImageId"]: i for i in ec2.describe_images(
            Owners=["self"], IncludeDisabled=True, Filters=[{"Name": "name", "Values": [NAME_PREFIX + "*"]}])["Images"]}
        snapshots = {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}
        for e in kept:
            image = images.get(e["image_id"])
            if not image:
                problems.append("%s: kept version %s (%s) is gone" % (region, e["name"], e["image_id"]))
                continue
            if image["State"] != "available":
                problems.append("%s: kept version %s is %s" % (region, e["name"], image["State"]))
            if _permissions(ec2, e["image_id"]) != wanted:
                problems.append("%s: kept version %s lost a launch permission" % (region, e["name"]))
            if set(e["snapshot_ids"]) - snapshots:
                problems.append("%s: a snapshot of kept version %s is gone" % (region, e["name"]))
        for e in old:
            image = images.get(e["image_id"])
            if scenario == "deregister":
                if image:
                    problems.append("%s: old version %s is still registered (%s)" % (region, e["name"], image["State"]))
                if set(e["snapshot_ids"]) & snapshots:
                    problems.append("%s: a snapshot of old version %s is left" % (region, e["name"]))
                states["deregistered"] = states.get("deregistered", 0) + (0 if image else 1)
                continue
            if not image:
                problems.append("%s: old version %s is gone (only unsharing was asked)" % (region, e["name"]))
                continue
            perms = _permissions(ec2, e["image_id"])
            if perms:
                problems.append("%s: old version %s still has launch permissions %s" % (region, e["name"], sorted(perms)))
            states[image["State"]] = states.get(image["State"], 0) + 1
            if side == "ours" and image["State"] != "disabled":
                ours_only.append("%s: old version %s is %s, not disabled" % (region, e["name"], image["State"]))
    return {"problems": problems, "ours_only": ours_only, "old_states": states}


# ---- the runs ----------------------------------------------------------------------------------------------
def run_vars(side, scenario, cfg, emu):
    regions = regions_of(cfg.retire_regions)
    if side == "ours":
        return {"retire_family": {"name_prefix": NAME_PREFIX}, "retire_keep_newest": cfg.retire_keep, "retire_regions": regions,
                "retire_deregister": scenario == "deregister", "retire_force": bool(cfg.retire_force), "retire_aws_endpoint_url": emu.endpoint_url}
    return {"bench_name_prefix": NAME_PREFIX, "bench_keep_newest": cfg.retire_keep, "bench_regions": regions,
            "bench_deregister": scenario == "deregister", "bench_endpoint_url": emu.endpoint_url}


def measure(cfg, workdir, trees, measured_run, not_measured):
    """Every scenario, cfg.retire_repeat times: {config, runs: {scenario: [{side: {first, rerun}, order}]}}."""
    regions = regions_of(cfg.retire_regions)
    emus, runners = {}, {}
    out = {"versions": cfg.retire_versions, "regions": regions, "keep_newest": cfg.retire_keep, "latency_ms": cfg.latency, "force": bool(cfg.retire_force),
           "repeat": cfg.retire_repeat, "runs": {s: [] for s in SCENARIOS}}
    try:
        for side in SIDES:
            sub = os.path.join(workdir, "retire-" + side)
            os.makedirs(sub)
            emus[side] = harness.EmulatorProcess(sub).start()
            runners[side] = harness.PlaybookRunner(emus[side], sub, collections=link_collections(os.path.join(sub, "collections"), trees[side]))
        count = 0
        for i in range(cfg.retire_repeat):
            for scenario in SCENARIOS:
                order = SIDES if count % 2 == 0 else tuple(reversed(SIDES))
                count += 1
                out["runs"][scenario].append(measure_scenario(cfg, scenario, order, emus, runners, measured_run, not_measured,
                                                              "[retire %s %d/%d]" % (scenario, i + 1, cfg.retire_repeat)))
    finally:
        for side in SIDES:
            if side in emus:
                emus[side].stop()
            if side in runners:
                runners[side].cleanup()
    return out


def measure_scenario(cfg, scenario, order, emus, runners, measured_run, not_measured, tag):
    regions = regions_of(cfg.retire_regions)
    t0 = time.time()
    for side in order:
        emus[side].reset()
    worlds = setup_worlds(emus, regions, cfg.retire_versions)
    log("  %s set-up: %d versions x %d regions per side, %.0f s; order %s" % (tag, cfg.retire_versions, len(regions), time.time() - t0, ", ".join(order)))
    result = {side: {} for side in order}
    result["order"] = list(order)
    for phase in ("first", "rerun"):
        for side in order:
            if phase == "rerun" and not result[side]["first"].get("ok"):
                result[side][phase] = not_measured("not run: the first run failed")
                continue
            emu = emus[side]
            playbook = RETIRE_OURS if side == "ours" else RETIRE_ANCHOR
            r = measured_run(emu, runners[side], "%s %s %s" % (tag, "first" if phase == "first" else "re-run", side), playbook,
                             run_vars(side, scenario, cfg, emu), cfg.latency)
            r["load_after"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None  # the machine is shared
            if r["ok"]:
                state = verify(emu, worlds[side], scenario, cfg.retire_keep, side)
                r["problems"] = state["problems"] + (state["ours_only"] if side == "ours" else [])
                r["old_states"] = state["old_states"]
            else:
                r["problems"] = ["the run failed"]
            r["verified"] = not r["problems"]
            if r["ok"] and r["problems"]:
                log("  %s %s: the AWS state is wrong: %s" % (side, phase, "; ".join(r["problems"][:5])))
            result[side][phase] = r
    return result


# ---- summaries ---------------------------------------------------------------------------------------------
def summarize(retire, stats):
    """Per scenario and phase: per side wall, calls, writes, module processes; the ratio ours / anchor per
    measurement."""
    out = {}
    for scenario, runs in (retire.get("runs") or {}).items():
        s = out[scenario] = {}
        for phase in ("first", "rerun"):
            p = s[phase] = {}
            ratios = []
            for r in runs:
                a, b = r["ours"][phase], r["anchor"][phase]
                if a.get("ok") and b.get("ok") and b["wall"]:
                    ratios.append(a["wall"] / b["wall"])
            p["ratio"] = stats(ratios)
            for side in SIDES:
                rs = [r[side][phase] for r in runs]
                ok = [x for x in rs if x.get("ok")]
                p[side] = {
                    "wall": stats([x["wall"] for x in ok]),
                    "calls": stats([x["calls"]["total"] for x in ok]),
                    "reads": stats([x["calls"]["reads"] for x in ok]),
                    "writes": stats([x["calls"]["writes"] for x in ok]),
                    "modules": stats([x["processes"]["modules"] for x in ok if x.get("processes")]),
                    "load_before": stats([x.get("load_before") for x in ok]),
                    "failures": [x["failure"] for x in rs if not x.get("ok") and not x.get("skipped")],
                    "verified": all(x.get("verified") for x in rs if not x.get("skipped")),
                    "changed_tasks": sorted({t for x in ok for t in x.get("changed_tasks") or []}),
                }
    return out


# ---- docs/performance.md: only this section ---------------------------------------------------------------
def replace_section(text, section):
    """``text`` (docs/performance.md) with the part between BEGIN and END replaced by ``section`` (which has
    both); without them, ``section`` goes before the fleet sections (or at the end)."""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        return head + section.strip("\n") + rest.split(END, 1)[1]
    for anchor in ("\n## Fleet: forks 1 against", "\n## Fleet: forks 1 vs 8", "\n## Failures and wrong results"):
        if anchor in text:
            head, tail = text.split(anchor, 1)
            return head.rstrip("\n") + "\n\n" + section.strip("\n") + "\n" + anchor + tail
    return text.rstrip("\n") + "\n\n" + section.strip("\n") + "\n"
