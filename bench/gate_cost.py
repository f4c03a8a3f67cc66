"""What the gate's work costs a warm invocation: this commit against another, side by side in one run.

    python bench/gate_cost.py --baseline 95efc2a          # a table
    python bench/gate_cost.py --baseline 95efc2a --json   # the same figures as one JSON object

Each commit runs in a clean clone of its own, with this checkout's interpreter (the locked packages are the
same); the two alternate for ``--rounds`` rounds, each round ``bench/run.py --json --load 0 --no-commands`` (a
fresh localcloud, both stacks deployed, ``--invocations`` warm invocations of the writer Lambda), so a slow
stretch of the machine falls on both. The figure is the median over rounds of the writer's warm p50 and p95:
the handler's own time inside the worker, which includes its AssumeRole-free PutObject through the gate.
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


def one_round(checkout: Path, invocations: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, "bench/run.py", "--json", "--load", "0", "--no-commands",
                           "--invocations", str(invocations)], cwd=checkout, capture_output=True, text=True)
    if done.returncode:
        raise fresh.CommandFailed(f"bench/run.py in {checkout} exited {done.returncode}:\n{done.stderr[-4000:]}")
    warm = json.loads(done.stdout)["warm_latency_ms"]["ours"]
    return {"p50": warm["p50"], "p95": warm["p95"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", metavar="REF", required=True, help="the commit to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--invocations", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    head = fresh.head_commit()
    samples: dict[str, list[dict[str, float]]] = {"ours": [], "baseline": []}
    with tempfile.TemporaryDirectory(prefix="bench-gate-") as scratch:
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
        "rounds": samples,
    }
    result["ratio_p50"] = result["warm_ms"]["ours"]["p50"] / result["warm_ms"]["baseline"]["p50"]
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    warm = result["warm_ms"]
    print(f"gate cost, {result['date']}, {result['machine']}: ours at {head[:10]}, baseline at {args.baseline[:10]}")
    print(f"  warm writer latency p50 (ms)  {warm['ours']['p50']:.2f}  {warm['baseline']['p50']:.2f}")
    print(f"  warm writer latency p95 (ms)  {warm['ours']['p95']:.2f}  {warm['baseline']['p95']:.2f}")
    print(f"  ratio ours/baseline (p50)     {result['ratio_p50']:.3f}  goal <= 1.10")
    return 0


if __name__ == "__main__":
    sys.exit(main())
