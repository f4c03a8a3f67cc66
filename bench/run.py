"""Benchmarks against localcloud: our handler side by side with the write-up's, in one run.

    python bench/run.py            # a table
    python bench/run.py --json     # the same figures as one JSON object
    python bench/run.py --load 500 --callers 8   # also the load run (default sizes shown)
    python bench/run.py --fresh [--baseline REF]  # also fresh clone to demo, make test, .ci/run (minutes)
    python bench/run.py --scale 1,5,20   # also bench/scale.py's consumer scaling (one process per size)

Ratios are measured in the same run; absolute times are context (they depend on the machine).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import fresh, scale  # noqa: E402
from bench.load import run_load  # noqa: E402
from localcloud_pulumi.synth import synth  # noqa: E402
from localcloud_pulumi.workspace import Workspace  # noqa: E402
from offline import stacks  # noqa: E402

BASELINE_NAME = "write-up-baseline"
REPORT_DURATION = re.compile(r"REPORT RequestId: \S+\tDuration: ([\d.]+) ms")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def handler_duration_ms(response: dict[str, Any]) -> float:
    """The handler's own time, measured inside the worker (Lambda's REPORT Duration)."""
    log = base64.b64decode(response["LogResult"]).decode()
    report = REPORT_DURATION.search(log)
    assert report is not None  # Lambda ends every LogResult with its REPORT line
    return float(report.group(1))


def deploy_baseline(workspace: Workspace) -> str:
    """The baseline function beside ours: same execution role, same environment, the write-up's code."""
    lam = workspace.cloud.client("lambda", "dev")
    ours = lam.get_function_configuration(FunctionName=workspace.output("dev", "functionName"))
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as zf:
        zf.write(ROOT / "bench" / "baseline" / "handler.py", "handler.py")
    lam.create_function(FunctionName=BASELINE_NAME, Runtime=ours["Runtime"], Role=ours["Role"],
                        Handler="handler.lambda_handler", Code={"ZipFile": code.getvalue()},
                        Timeout=ours["Timeout"], MemorySize=ours["MemorySize"], Environment=ours["Environment"])
    return BASELINE_NAME


def measure_function(workspace: Workspace, function: str, invocations: int) -> dict[str, Any]:
    """From cold: AssumeRole calls over `invocations` calls, and warm handler latencies."""
    lam = workspace.cloud.client("lambda", "dev")
    workspace.runtime.recycle()
    assert workspace.cloud.gate is not None  # a Workspace's cloud is started
    assumes_before = workspace.cloud.gate.calls["sts:AssumeRole"]
    durations = []
    for n in range(invocations):
        response = lam.invoke(FunctionName=function, LogType="Tail",
                              Payload=json.dumps({"key": f"bench/{uuid.uuid4()}", "body": f"bench {n}"}))
        result = json.loads(response["Payload"].read())
        if response.get("FunctionError") or result.get("statusCode") != 200:
            raise RuntimeError(f"{function} failed during the benchmark: {result}")
        if n:  # the first is the cold one
            durations.append(handler_duration_ms(response))
    return {"assume_calls": workspace.cloud.gate.calls["sts:AssumeRole"] - assumes_before,
            "p50": percentile(durations, 0.5), "p95": percentile(durations, 0.95)}


def import_ms(statement: str, cwd: Path, runs: int = 7) -> float:
    """Median time of `statement` in a fresh interpreter: what a cold start pays for it."""
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    samples = [float(subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                                    check=True).stdout) for _ in range(runs)]
    return statistics.median(samples) * 1000


def program_eval_s(stack: str, runs: int = 3) -> float:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        synth(stack, project_dir=stacks.PROJECT_DIR)
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def wall_s(command: list[str]) -> float:
    """Wall time of a whole command in this checkout, as a user starts it (it must succeed)."""
    return fresh.wall_s(command, ROOT)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--invocations", type=int, default=100, help="per function, for counts and latency")
    parser.add_argument("--load", type=int, default=500, help="invocations in the load run (0: skip)")
    parser.add_argument("--callers", type=int, default=8, help="concurrent callers in the load run")
    parser.add_argument("--no-commands", action="store_true",
                        help="skip timing `python -m offline demo` and the integration tests as whole commands")
    parser.add_argument("--fresh", action="store_true",
                        help="also time, as whole commands: a fresh clone with empty package caches to a verified "
                             "`make demo`, installed `make demo` and `make test`, and `.ci/run` on a clean clone")
    parser.add_argument("--baseline", metavar="REF",
                        help="with --fresh: time the same commands on this commit too, in the same run")
    parser.add_argument("--scale", type=scale.parse_sizes, metavar="N,N,...",
                        help="also run bench/scale.py for these consumer counts (its consumers_scale* figures)")
    args = parser.parse_args()
    if args.baseline and not args.fresh:
        parser.error("--baseline REF compares the --fresh figures: give --fresh too")

    results: dict[str, Any] = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
                               "machine": f"{platform.machine()}, {_cores()} cores, Python {platform.python_version()}"}
    with tempfile.TemporaryDirectory() as state_dir, stacks.start(Path(state_dir)) as workspace:
        workspace.deploy("prod")
        workspace.deploy("dev")
        began = time.perf_counter()
        workspace.cloud.client("lambda", "dev").invoke(FunctionName=workspace.output("dev", "functionName"),
                                                        Payload=b'{"body": "first"}')
        results["demo_phases_s"] = {"start": workspace.timings["start"], "deploy_prod": workspace.timings["deploy_prod"],
                                    "deploy_dev": workspace.timings["deploy_dev"],
                                    "first_invoke": time.perf_counter() - began}
        ours = measure_function(workspace, workspace.output("dev", "functionName"), args.invocations)
        baseline = measure_function(workspace, deploy_baseline(workspace), args.invocations)
        if args.load:
            results["load"] = run_load(workspace, args.load, args.callers).as_dict()
    results["assume_calls_per_100"] = {"ours": ours["assume_calls"] * 100 / args.invocations,
                                       "baseline": baseline["assume_calls"] * 100 / args.invocations}
    results["warm_latency_ms"] = {"ours": {"p50": ours["p50"], "p95": ours["p95"]},
                                  "baseline": {"p50": baseline["p50"], "p95": baseline["p95"]}}
    results["latency_ratio"] = ours["p50"] / baseline["p50"]
    results["import_ms"] = {"handler": import_ms("import lambda_handler.handler", ROOT),
                            "boto3": import_ms("import boto3", ROOT)}
    results["program_eval_s"] = {stack: program_eval_s(stack) for stack in ("prod", "dev")}
    if not args.no_commands:
        with tempfile.TemporaryDirectory() as state_dir:
            results["commands_s"] = {
                "demo": wall_s([sys.executable, "-m", "offline", "--state-dir", state_dir, "demo"]),
                "integration_tests": wall_s([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                             "tests/integration/test_end_to_end.py",
                                             "tests/integration/test_denials.py"]),
            }
    if args.fresh:
        results["fresh_commit"] = fresh.head_commit()
        results.update(fresh.measure_commit(results["fresh_commit"]))
        if args.baseline:
            results["baseline_fresh"] = {"commit": args.baseline, **fresh.measure_commit(args.baseline)}
    scale_failed = False
    if args.scale:
        runs = {n: scale.run_child(n, None) for n in args.scale}
        results.update({key: value for key, value in scale.summary(runs).items() if key.startswith("consumers_scale")})
        scale_failed = scale.failed(runs)
    print(json.dumps(results, indent=2) if args.json else table(results))
    return 1 if scale_failed else 0


def _cores() -> int:
    import os

    return os.cpu_count() or 0


def table(r: dict[str, Any]) -> str:
    a, w, i, d, p = (r["assume_calls_per_100"], r["warm_latency_ms"], r["import_ms"], r["demo_phases_s"],
                     r["program_eval_s"])
    rows = [
        ("AssumeRole calls per 100 invocations", f"{a['ours']:.0f}", f"{a['baseline']:.0f}", "ours 1, baseline 100"),
        ("warm handler latency p50 (ms)", f"{w['ours']['p50']:.2f}", f"{w['baseline']['p50']:.2f}", ""),
        ("warm handler latency p95 (ms)", f"{w['ours']['p95']:.2f}", f"{w['baseline']['p95']:.2f}", ""),
        ("latency ratio ours/baseline (p50)", f"{r['latency_ratio']:.2f}", "", "<= 0.5"),
        ("cold import (ms): handler | boto3", f"{i['handler']:.1f}", f"{i['boto3']:.1f}", "within 10 ms"),
        ("demo: cloud start (s)", f"{d['start']:.2f}", "", ""),
        ("demo: deploy prod (s)", f"{d['deploy_prod']:.2f}", "", ""),
        ("demo: deploy dev (s)", f"{d['deploy_dev']:.2f}", "", ""),
        ("demo: first invoke (s)", f"{d['first_invoke']:.2f}", "", ""),
        ("program evaluation, prod | dev (s)", f"{p['prod']:.2f}", f"{p['dev']:.2f}", ""),
    ]
    if "commands_s" in r:
        c = r["commands_s"]
        rows += [
            ("command: python -m offline demo, start to verified object (s)", f"{c['demo']:.2f}", "", "< 10"),
            ("command: end-to-end and denial tests (s)", f"{c['integration_tests']:.2f}", "", "< 20"),
        ]
    if "fresh_demo_s" in r:
        b = r.get("baseline_fresh", {})

        def base(key: str) -> str:
            return f"{b[key]:.1f}" if key in b else ""

        rows += [
            ("fresh clone, empty package caches, to verified make demo (s)", f"{r['fresh_demo_s']:.1f}",
             base("fresh_demo_s"), "<= 20"),
            ("make demo, installed (s)", f"{r['make_demo_s']:.2f}", base("make_demo_s"), "<= 3"),
            ("make test, installed (s)", f"{r['make_test_s']:.1f}", base("make_test_s"), "<= 45"),
            ("bash .ci/run, clean clone, empty package caches (s)", f"{r['ci_run_s']:.1f}", base("ci_run_s"),
             "<= 150"),
        ]
    if "load" in r:
        load = r["load"]
        rows += [
            (f"load: {load['invocations']} calls x {load['callers']} callers, failures", str(load["failures"]), "",
             "0"),
            ("load: objects with the right bytes | versions", f"{load['right_bytes']}/{load['objects']}",
             str(load["versions"]), str(load["invocations"])),
            ("load: AssumeRole calls | workers started", str(load["assume_calls"]), str(load["workers"]),
             "equal"),
            ("load: wall time (s)", f"{load['seconds']:.2f}", "", ""),
        ]
    if "consumers_scale" in r:
        totals, per = r["consumers_scale"], r["consumers_scale_per_added_s"]
        verified = r["consumers_scale_verified"].values()
        rows += [(f"consumers scale: {n} consumers, start to all verified (s)", f"{total:.2f}", "",
                  f"<= {scale.GOAL_N_TOTAL_S:.0f}" if int(n) == scale.GOAL_N else "")
                 for n, total in totals.items()]
        if "overall" in per:
            rows.append(("consumers scale: s per added consumer, overall", f"{per['overall']:.2f}", "",
                         f"<= {scale.PER_CONSUMER_GOAL_S:.0f}"))
        rows.append(("consumers scale: objects verified", f"{sum(v['verified'] for v in verified)}"
                     f"/{sum(v['of'] for v in verified)}", "", "all"))
    widths = [max(len(row[c]) for row in rows + [("", "ours", "baseline", "goal")]) for c in range(4)]
    header = ("", "ours", "baseline", "goal")
    lines = [f"cross-account-s3 bench, {r['date']}, {r['machine']}"]
    if "fresh_commit" in r:
        lines.append(f"fresh figures: ours at {r['fresh_commit'][:10]}"
                     + (f", baseline at {r['baseline_fresh']['commit'][:10]}" if "baseline_fresh" in r else ""))
    for row in [header] + rows:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
