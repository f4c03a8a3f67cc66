"""This commit against another, side by side in one run: what a warm invocation costs (the gate's work) and what
the demo's phases cost (starting the cloud, deploying prod, deploying dev: the harness's work).

    python bench/compare.py --baseline 95efc2a          # a table
    python bench/compare.py --baseline 95efc2a --json   # the same figures as one JSON object

Each commit runs in a clean clone of its own, with this checkout's interpreter (the locked packages are the
same); the two alternate for ``--rounds`` rounds, each round ``bench/run.py --json --load 0 --no-commands`` (a
fresh localcloud, both stacks deployed, ``--invocations`` warm invocations of the writer Lambda), so a slow
stretch of the machine falls on both. The figure is the median over rounds of the writer's warm p50 and p95:
the handler's own time inside the worker, which includes its AssumeRole-free PutObject through the gate; and the
median over rounds of each demo phase, in seconds.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import fresh  # noqa: E402

PHASES = ("start", "deploy_prod", "deploy_dev")  # bench/run.py's demo_phases_s, the first invoke aside


def one_round(checkout: Path, invocations: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, "bench/run.py", "--json", "--load", "0", "--no-commands",
                           "--invocations", str(invocations)], cwd=checkout, capture_output=True, text=True)
    if done.returncode:
        raise fresh.CommandFailed(f"bench/run.py in {checkout} exited {done.returncode}:\n{done.stderr[-4000:]}")
    measured = json.loads(done.stdout)
    warm = measured["warm_latency_ms"]["ours"]
    phases = measured["demo_phases_s"]
    return {"p50": warm["p50"], "p95": warm["p95"], **{phase: phases[phase] for phase in PHASES}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", metavar="REF", required=True, help="the commit to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--invocations", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    head = fresh.head_commit()
    samples: dict[str, list[dict[str, float]]] = {"ours": [], "baseline": []}
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as scratch:
        checkouts = {"ours": fresh.clone(head, Path(scratch) / "ours"),
                     "baseline": fresh.clone(args.baseline, Path(scratch) / "baseline")}
        for _ in range(args.rounds):
            for name, checkout in checkouts.items():
                samples[name].append(one_round(checkout, args.invocations))
    result: dict[str, Any] = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "commits": {"ours": head, "baseline": args.baseline},
        "warm_ms": {name: {q: statistics.median(s[q] for s in runs) for q in ("p50", "p95")}
                    for name, runs in samples.items()},
        "deploy_phases_s": {name: {phase: statistics.median(s[phase] for s in runs) for phase in PHASES}
                            for name, runs in samples.items()},
        "rounds": samples,
    }
    result["ratio_p50"] = result["warm_ms"]["ours"]["p50"] / result["warm_ms"]["baseline"]["p50"]
    phases = result["deploy_phases_s"]
    result["ratio_deploy"] = {phase: phases["ours"][phase] / phases["baseline"][phase] for phase in PHASES}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    warm = result["warm_ms"]
    print(f"{result['date']}, {result['machine']}: ours at {head[:10]}, baseline at {args.baseline[:10]}, "
          f"medians of {args.rounds} rounds")
    print(f"  {'':32}{'ours':>8}{'baseline':>10}{'ratio':>8}  goal")
    print(f"  {'warm writer latency p50 (ms)':32}{warm['ours']['p50']:8.2f}{warm['baseline']['p50']:10.2f}"
          f"{result['ratio_p50']:8.3f}  <= 1.10")
    print(f"  {'warm writer latency p95 (ms)':32}{warm['ours']['p95']:8.2f}{warm['baseline']['p95']:10.2f}")
    for phase in PHASES:
        print(f"  {phase.replace('_', ' ') + ' (s)':32}{phases['ours'][phase]:8.3f}{phases['baseline'][phase]:10.3f}"
              f"{result['ratio_deploy'][phase]:8.3f}  <= 1.10")
    return 0


if __name__ == "__main__":
    sys.exit(main())
