"""What SSE-KMS costs a warm invocation, next to SSE-S3, in one run: the writer's PutObject (S3 asks KMS for a data
key as the grant's role: a kms:GenerateDataKey authorized against the key policy and the role's policy) and the
reader's GetObject (kms:Decrypt), against the same calls on a bucket encrypted with SSE-S3.

    python bench/kms.py                   # a table
    python bench/kms.py --json            # the same figures as one JSON object (key "kms_latency")
    python bench/kms.py --rounds 5 --invocations 100

One localcloud, every committed stack deployed (prod with its committed encryption: kms). Each round measures
both modes: prod as committed (kms), then prod redeployed with encryption s3 (the kms keys dropped), then back;
the modes alternate, so a slow stretch of the machine falls on both. A measurement is `--invocations` invocations
of each function from cold, the first (cold) one left out: the handler's own time inside the worker (Lambda's
REPORT Duration), p50 and p95. The figure is the median over rounds of each, and the ratio kms / s3 of the p50s.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import handler_duration_ms, percentile  # noqa: E402
from localcloud_pulumi.program import stack_config  # noqa: E402
from localcloud_pulumi.workspace import Workspace  # noqa: E402
from offline import stacks  # noqa: E402

FUNCTIONS = {"writer": "dev", "reader": "analytics"}
KMS_KEYS = ("cross-account-s3:encryption", "cross-account-s3:kmsKeyArn", "cross-account-s3:kmsKeyDeletionWindowDays",
            "cross-account-s3:kmsKeyUsers")


def prod_config(mode: str) -> dict[str, str]:
    """prod's committed config with ``mode`` as its encryption (s3: without the kms keys that go with kms)."""
    config = {key: value for key, value in stack_config(stacks.DATA_STACK, stacks.PROJECT_DIR).items()
              if mode == "kms" or key not in KMS_KEYS}
    return config | {"cross-account-s3:encryption": mode}


def measure(workspace: Workspace, invocations: int) -> dict[str, dict[str, float]]:
    """Warm p50/p95 of the writer and the reader, from cold."""
    bucket = workspace.output(stacks.DATA_STACK, "bucketName")
    prefix = workspace.output(stacks.DATA_STACK, "grants")["analytics-reader"]["keyPrefix"]
    key = f"bench/{uuid.uuid4()}"
    workspace.cloud.client("s3", stacks.DATA_STACK).put_object(Bucket=bucket, Key=f"{prefix}{key}", Body=b"x" * 1024)
    workspace.runtime.recycle()
    figures = {}
    for role, stack in FUNCTIONS.items():
        lam = workspace.cloud.client("lambda", stack)
        function = workspace.output(stack, "functionName")
        durations = []
        for n in range(invocations):
            event = {"key": f"bench/{uuid.uuid4()}", "body": f"bench {n}"} if role == "writer" else {"key": key}
            response = lam.invoke(FunctionName=function, LogType="Tail", Payload=json.dumps(event))
            result = json.loads(response["Payload"].read())
            if response.get("FunctionError") or result.get("statusCode") != 200:
                raise RuntimeError(f"the {role} failed during the benchmark: {result}")
            if n:
                durations.append(handler_duration_ms(response))
        figures[role] = {"p50": percentile(durations, 0.5), "p95": percentile(durations, 0.95)}
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--invocations", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    samples: dict[str, list[dict[str, dict[str, float]]]] = {"kms": [], "s3": []}
    with tempfile.TemporaryDirectory() as state_dir, stacks.start(Path(state_dir)) as workspace:
        stacks.deploy_all(workspace)
        for _ in range(args.rounds):
            for mode in ("kms", "s3"):
                workspace.deploy(stacks.DATA_STACK, prod_config(mode))
                if workspace.output(stacks.DATA_STACK, "encryption") != mode:
                    raise RuntimeError(f"prod did not deploy with encryption {mode}")
                samples[mode].append(measure(workspace, args.invocations))
    result: dict[str, Any] = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "rounds": args.rounds, "invocations": args.invocations,
    }
    latency: dict[str, Any] = {}
    for role in FUNCTIONS:
        latency[role] = {mode: {stat: statistics.median(s[role][stat] for s in samples[mode])
                                for stat in ("p50", "p95")} for mode in samples}
        latency[role]["ratio_p50"] = latency[role]["kms"]["p50"] / latency[role]["s3"]["p50"]
    result["kms_latency"] = latency
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"SSE-KMS against SSE-S3, warm handler time, median of {args.rounds} rounds of {args.invocations} "
          f"invocations ({result['date']}, {result['machine']})")
    print(f"{'function':10} {'kms p50':>9} {'s3 p50':>9} {'ratio':>7} {'kms p95':>9} {'s3 p95':>9}")
    for role, figures in latency.items():
        print(f"{role:10} {figures['kms']['p50']:8.2f}ms {figures['s3']['p50']:8.2f}ms {figures['ratio_p50']:7.3f} "
              f"{figures['kms']['p95']:8.2f}ms {figures['s3']['p95']:8.2f}ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
