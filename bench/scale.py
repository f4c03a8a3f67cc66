"""How the offline harness scales with consumers: prod with N write grants and N writer consumer stacks, in one run.

    python bench/scale.py                       # N = 1, 5, 20: a table
    python bench/scale.py --consumers 1,5,20    # other sizes
    python bench/scale.py --json                # the same figures as one JSON object
    python bench/scale.py --rounds 3            # each size 3 times (sizes alternating): medians
    python bench/scale.py --profile DIR         # also cProfile the deploy of each run's last consumer (DIR/N.prof)

Each N runs in a subprocess of its own (one localcloud per process), on a generated copy of the project: the
program (__main__.py, components/, lambda_handler/) copied as it is now, Pulumi.prod.yaml with grants c01..cNN
(account 4000000000NN, prefix cNN/, write access, role cross-account-s3-cNN-writer) and one consumer stack cNN
per grant, a writer with its own execution role, function and group (no users). The other keys of the stack files
come from this checkout's Pulumi.prod.yaml and Pulumi.dev.yaml. A run starts one localcloud with prod's and the N
consumers' accounts, deploys prod, deploys every consumer, invokes each writer once as its account's deployer (as
many at a time as the machine has cores: the consumers' functions are independent) and reads the object back from
prod's bucket as prod's deployer: it must hold the same bytes.

Exits 1 if any object did not verify (or a run failed); a missed speed goal is printed as missed, never an error.
Absolute times depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import shutil
import statistics
import subprocess
from concurrent.futures import ThreadPoolExecutor
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "cross-account-s3"
PROGRAM = ("__main__.py", "Pulumi.yaml", "components", "lambda_handler")
PHASES = ("start", "deploy_prod", "deploy_consumers", "invoke_verify")
PHASE_LABELS = {"start": "cloud start", "deploy_prod": "deploy prod", "deploy_consumers": "deploy consumers",
                "invoke_verify": "invoke+verify"}
# The goals, printed beside the figures: growth linear in N (successive slopes within LINEAR_TOLERANCE of each
# other), at most PER_CONSUMER_GOAL_S per added consumer, and the GOAL_N-consumer run within GOAL_N_TOTAL_S.
PER_CONSUMER_GOAL_S = 1.0
GOAL_N, GOAL_N_TOTAL_S = 20, 30.0
LINEAR_TOLERANCE = 1.5
CHILD_TIMEOUT_S = 900


def consumer_names(n: int) -> list[str]:
    width = max(2, len(str(n)))
    return [f"c{i:0{width}d}" for i in range(1, n + 1)]


def consumer_account(index: int) -> str:
    return f"{400000000000 + index:012d}"


def _stack_file(name: str) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / f"Pulumi.{name}.yaml").read_text()) or {}
    return dict(data.get("config") or {})


def generate_project(project_dir: Path, n: int) -> list[str]:
    """A copy of the program with prod granting N writer consumers, and their stacks; returns the consumers."""
    project_dir.mkdir(parents=True, exist_ok=True)
    for name in PROGRAM:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, project_dir / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, project_dir / name)
    ns = f"{PROJECT}:"
    consumers = consumer_names(n)
    prod = _stack_file("prod")
    prod[f"{ns}grants"] = [
        {"name": name, "accountId": consumer_account(index), "roleNames": [f"{PROJECT}-{name}-writer"],
         "keyPrefix": f"{name}/", "access": "write"}
        for index, name in enumerate(consumers, start=1)]
    _write_stack(project_dir, "prod", prod)
    template = _stack_file("dev")
    for index, name in enumerate(consumers, start=1):
        consumer = {key: value for key, value in template.items()}
        consumer.update({
            "aws:allowedAccountIds": [consumer_account(index)],
            f"{ns}prodStack": f"organization/{PROJECT}/prod",
            f"{ns}grant": name,
            f"{ns}workload": "writer",
            f"{ns}executionRoleName": f"{PROJECT}-{name}-writer",
            f"{ns}functionName": f"{PROJECT}-{name}-writer",
            f"{ns}groupName": f"{PROJECT}-{name}-prod-writers",
            f"{ns}groupUsers": [],
        })
        _write_stack(project_dir, name, consumer)
    return consumers


def _write_stack(project_dir: Path, stack: str, config: dict[str, Any]) -> None:
    (project_dir / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}, sort_keys=False))


def run_one(n: int, profile: Path | None = None) -> dict[str, Any]:
    """One run of N consumers, in this process: its phases in seconds and what verified."""
    from localcloud_pulumi.workspace import Workspace  # here: the parent process needs none of the harness

    result: dict[str, Any] = {"consumers": n, "verified": 0, "failures": []}
    with tempfile.TemporaryDirectory(prefix=f"bench-scale-{n}-") as scratch:
        project_dir = Path(scratch) / "project"
        consumers = generate_project(project_dir, n)
        began = time.perf_counter()
        with Workspace.start(Path(scratch) / "state", project_dir=project_dir, stacks=("prod", *consumers)) as ws:
            result["start"] = ws.timings["start"]
            ws.deploy("prod")
            result["deploy_prod"] = ws.timings["deploy_prod"]
            for stack in consumers:
                if profile is not None and stack == consumers[-1]:
                    profiler = cProfile.Profile()
                    profiler.runcall(ws.deploy, stack)
                    profiler.dump_stats(profile)
                else:
                    ws.deploy(stack)
            result["deploy_each"] = {stack: ws.timings[f"deploy_{stack}"] for stack in consumers}
            result["deploy_consumers"] = sum(result["deploy_each"].values())
            verify_began = time.perf_counter()
            # The consumers' functions are independent (other accounts, other workers): invoked as many at a time
            # as the machine has cores, as they would run side by side in their own accounts.
            with ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="invoke") as pool:
                outcomes = list(pool.map(lambda stack: _timed(invoke_and_verify, ws, stack), consumers))
            result["invoke_each"] = {stack: seconds for stack, (_, seconds) in zip(consumers, outcomes)}
            for stack, (failure, _) in zip(consumers, outcomes):
                if failure:
                    result["failures"].append(f"{stack}: {failure}")
                else:
                    result["verified"] += 1
            result["invoke_verify"] = time.perf_counter() - verify_began
            result["total"] = time.perf_counter() - began
            stop_began = time.perf_counter()
        result["stop"] = time.perf_counter() - stop_began
    return result


def _timed(function: Any, *args: Any) -> tuple[Any, float]:
    began = time.perf_counter()
    return function(*args), time.perf_counter() - began


def invoke_and_verify(ws: Any, stack: str) -> str | None:
    """Invoke the stack's writer as its deployer and read the object back as prod's: None, or what went wrong."""
    grant = ws.output("prod", "grants")[ws.output(stack, "grant")]
    bucket = ws.output("prod", "bucketName")
    body = f"written by {stack}, {uuid.uuid4()}"
    event = {"key": f"scale/{uuid.uuid4()}.txt", "body": body, "content_type": "text/plain"}
    response = ws.cloud.client("lambda", stack).invoke(FunctionName=ws.output(stack, "functionName"),
                                                       Payload=json.dumps(event).encode())
    answer = json.loads(response["Payload"].read())
    if response.get("FunctionError") or answer.get("statusCode") != 200:
        return f"the writer answered {answer}"
    written = json.loads(answer["body"])
    if written.get("bucket") != bucket or written.get("key") != f"{grant['keyPrefix']}{event['key']}":
        return f"the writer wrote {written}, not {grant['keyPrefix']}{event['key']} in {bucket}"
    stored = ws.cloud.client("s3", "prod").get_object(Bucket=bucket, Key=written["key"])["Body"].read()
    if stored != body.encode():
        return f"{bucket}/{written['key']} holds {stored[:80]!r}, not what the writer was given"
    return None


def run_child(n: int, profile: Path | None) -> dict[str, Any]:
    """run_one in a fresh interpreter (one localcloud per process); its stderr is kept for when it fails."""
    with tempfile.TemporaryDirectory(prefix="bench-scale-result-") as scratch:
        out = Path(scratch) / "result.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--one", str(n), "--result", str(out)]
        if profile is not None:
            command += ["--profile", str(profile)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        began = time.perf_counter()
        try:
            done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                                  timeout=CHILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return {"consumers": n, "verified": 0, "failures": [f"the run took over {CHILD_TIMEOUT_S} s"]}
        wall = time.perf_counter() - began
        if done.returncode or not out.exists():
            return {"consumers": n, "verified": 0, "process": wall,
                    "failures": [f"the run exited {done.returncode}: {done.stderr[-3000:]}"]}
        return {**json.loads(out.read_text()), "process": wall}


def merge(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Rounds of one size as one: the median of each phase (and per-stack time), every object and failure."""
    merged: dict[str, Any] = {"consumers": samples[0]["consumers"], "rounds": len(samples),
                              "verified": sum(s["verified"] for s in samples),
                              "failures": [f for s in samples for f in s["failures"]]}
    for key in (*PHASES, "total", "process", "stop"):
        values = [s[key] for s in samples if key in s]
        if len(values) == len(samples):  # a phase only when every round reached it
            merged[key] = statistics.median(values)
    for key in ("deploy_each", "invoke_each"):
        if all(key in s for s in samples):
            merged[key] = {stack: statistics.median(s[key][stack] for s in samples) for stack in samples[0][key]}
    return merged


def slopes(totals: dict[int, float]) -> dict[str, float]:
    """Seconds per added consumer between successive N, and from the smallest N to the largest ("overall")."""
    ns = sorted(totals)
    found = {f"{a}-{b}": (totals[b] - totals[a]) / (b - a) for a, b in zip(ns, ns[1:])}
    if len(ns) > 1:
        found["overall"] = (totals[ns[-1]] - totals[ns[0]]) / (ns[-1] - ns[0])
    return found


def goals(runs: dict[int, dict[str, Any]], per: dict[str, float]) -> list[tuple[str, str, bool | None]]:
    """(goal, measured, met); met None when this run cannot tell."""
    steps = [v for k, v in per.items() if k != "overall"]
    found: list[tuple[str, str, bool | None]] = []
    if len(steps) >= 2:
        low, high = min(steps), max(steps)
        linear = low > 0 and high <= LINEAR_TOLERANCE * low
        found.append((f"growth linear in N (successive slopes within {LINEAR_TOLERANCE}x of each other)",
                      f"slopes {', '.join(f'{s:.2f}' for s in steps)} s", linear))
    else:
        found.append(("growth linear in N", "needs three sizes", None))
    if "overall" in per:
        found.append((f"<= {PER_CONSUMER_GOAL_S:.0f} s per added consumer, overall",
                       f"{per['overall']:.2f} s", per["overall"] <= PER_CONSUMER_GOAL_S))
    if GOAL_N in runs and "total" in runs[GOAL_N]:
        total = runs[GOAL_N]["total"]
        found.append((f"{GOAL_N}-consumer run <= {GOAL_N_TOTAL_S:.0f} s", f"{total:.2f} s", total <= GOAL_N_TOTAL_S))
    return found


def summary(runs: dict[int, dict[str, Any]]) -> dict[str, Any]:
    totals = {n: r["total"] for n, r in runs.items() if "total" in r}
    per = slopes(totals)
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count() or 0} cores, Python {platform.python_version()}",
        "consumers_scale": {str(n): t for n, t in totals.items()},
        "consumers_scale_phases_s": {str(n): {**{p: r[p] for p in PHASES if p in r},
                                              "process": r.get("process"), "stop": r.get("stop"),
                                              "deploy_each": r.get("deploy_each", {}),
                                              "invoke_each": r.get("invoke_each", {})}
                                     for n, r in runs.items()},
        "consumers_scale_per_added_s": per,
        "consumers_scale_rounds": max((r.get("rounds", 1) for r in runs.values()), default=1),
        "consumers_scale_verified": {str(n): {"verified": r["verified"], "of": n * r.get("rounds", 1),
                                              "failures": r["failures"]}
                                     for n, r in runs.items()},
        "consumers_scale_goals": [{"goal": g, "measured": m, "met": met} for g, m, met in goals(runs, per)],
    }


def table(s: dict[str, Any]) -> str:
    phases, verified = s["consumers_scale_phases_s"], s["consumers_scale_verified"]
    ns = sorted(phases, key=int)
    per = s["consumers_scale_per_added_s"]
    header = ("N", *PHASE_LABELS.values(), "total", "s/added consumer", "verified")
    rows = []
    for i, n in enumerate(ns):
        p = phases[n]
        step = f"{per[f'{ns[i - 1]}-{n}']:.2f}" if i and f"{ns[i - 1]}-{n}" in per else ""
        rows.append((n, *(f"{p[k]:.2f}" if k in p else "-" for k in PHASES),
                     f"{s['consumers_scale'][n]:.2f}" if n in s["consumers_scale"] else "-", step,
                     f"{verified[n]['verified']}/{verified[n]['of']}"))
    widths = [max(len(row[c]) for row in [header, *rows]) for c in range(len(header))]
    rounds = s["consumers_scale_rounds"]
    lines = [f"cross-account-s3 consumer scale bench, {s['date']}, {s['machine']} (seconds"
             + (f", medians of {rounds} rounds)" if rounds > 1 else ")")]
    for row in [header, *rows]:
        lines.append("  ".join(cell.rjust(width) if c else cell.ljust(width)
                               for c, (cell, width) in enumerate(zip(row, widths))).rstrip())
    if "overall" in per:
        lines.append(f"per added consumer, overall ({ns[0]} to {ns[-1]}): {per['overall']:.2f} s")
    lines.append("goals:")
    for goal in s["consumers_scale_goals"]:
        verdict = {True: "met", False: "MISSED", None: "n/a"}[goal["met"]]
        lines.append(f"  {goal['goal']}: {goal['measured']}, {verdict}")
    for n in ns:
        for failure in verified[n]["failures"]:
            lines.append(f"FAILED (N={n}): {failure}")
    return "\n".join(lines)


def parse_sizes(text: str) -> list[int]:
    sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError(f"expected comma-separated consumer counts of at least 1, got {text!r}")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--consumers", type=parse_sizes, default=[1, 5, 20], metavar="N,N,...",
                        help="consumer counts to run, each in its own process (default 1,5,20)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--rounds", type=int, default=1,
                        help="runs of each size, the sizes alternating; the figures are medians (default 1)")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="cProfile the deploy of each run's last consumer into DIR/N.prof (that deploy "
                             "then runs slower)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child: one run, in this process
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one is not None:
        result = run_one(args.one, args.profile)
        args.result.write_text(json.dumps(result))
        return 0
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    samples: dict[int, list[dict[str, Any]]] = {n: [] for n in args.consumers}
    for _ in range(args.rounds):  # alternating, so a slow stretch of the machine falls on every size
        for n in args.consumers:
            samples[n].append(run_child(n, args.profile / f"{n}.prof" if args.profile else None))
    runs = {n: merge(found) for n, found in samples.items()}
    s = summary(runs)
    print(json.dumps(s, indent=2) if args.json else table(s))
    return 1 if failed(runs) else 0


def failed(runs: dict[int, dict[str, Any]]) -> bool:
    """Whether any run failed or left an object unverified (a missed speed goal is not a failure)."""
    return any(r["verified"] != n * r.get("rounds", 1) or r["failures"] for n, r in runs.items())


if __name__ == "__main__":
    sys.exit(main())
