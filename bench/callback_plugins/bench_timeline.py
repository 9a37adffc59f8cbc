# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Callback for the benchmarks (not part of the collection): writes one JSON line per task start
and per task result to the file named by BENCH_TIMELINE_FILE, so that bench/run.py can attribute
each API call in the emulator's call record to the task (and module) that made it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
name: bench_timeline
type: aggregate
short_description: record task start times and results for the benchmarks
description:
  - Writes JSON lines (task start, task result) to the file named by the environment variable E(BENCH_TIMELINE_FILE).
requirements:
  - enabled in the configuration (it is only used by bench/run.py)
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


def _count_images(result):
    if not isinstance(result, dict):
        return 0
    n = len(result.get("images") or []) if isinstance(result.get("images"), list) else 0
    for item in result.get("results") or []:
        n += _count_images(item)
    return n


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timeline"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._path = os.environ.get("BENCH_TIMELINE_FILE")

    def _write(self, record):
        if not self._path:
            return
        record["time"] = time.time()
        with open(self._path, "a") as f:
            f.write(json.dumps(record, default=str) + "\n")

    def v2_playbook_on_task_start(self, task, is_conditional):
        action = getattr(task, "resolved_action", None) or task.action
        self._write({"event": "task_start", "name": task.get_name(), "action": action})

    def _result(self, result, status):
        r = result._result
        self._write(
            {
                "event": "task_result",
                "name": result._task.get_name(),
                "status": status,
                "changed": bool(r.get("changed")) or any(bool(i.get("changed")) for i in r.get("results") or [] if isinstance(i, dict)),
                "images": _count_images(r),
                # module invocations: one per loop item that ran, else one
                "items": len([i for i in r.get("results") or [] if isinstance(i, dict) and not i.get("skipped")]) if "results" in r else 1,
                "msg": str(r.get("msg", ""))[:2000] if status != "ok" else "",
            }
        )

    def v2_runner_item_on_failed(self, result):
        self._write({"event": "item_failed", "name": result._task.get_name(), "msg": str(result._result.get("msg", ""))[:2000]})

    def v2_runner_on_ok(self, result):
        self._result(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._write({"event": "task_result", "name": result._task.get_name(), "status": "skipped", "changed": False, "images": 0, "items": 0, "msg": ""})

    def v2_runner_on_unreachable(self, result):
        self._result(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        self._write({"event": "end"})
