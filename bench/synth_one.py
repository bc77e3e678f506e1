"""Synthesize one stack in this (fresh) process and print what it cost as one JSON line.

Run by ``bench/run.py``, once per measurement, so that every synthesis pays the full
price a user pays: interpreter start, ``import aws_cdk`` (which starts the jsii Node
runtime), the service-module imports, construction, and ``app.synth()``.

Usage: ``python bench/synth_one.py {sample,baseline} {on,off} OUTDIR [--nag]``

- ``on``/``off``: aws-cdk's built-in CloudFormation template validation
  (``App(builtin_cloud_formation_validation=...)``, and ``CDK_VALIDATION`` for the
  process, set by the caller).
- ``--nag``: apply cdk-nag's AwsSolutions and Serverless packs, as ``app.py`` does. The
  baseline has no acknowledgments, so its synthesis ends in ``ValidationFailed`` after
  the packs ran; that is caught and reported, the time is still comparable.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import atexit  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
ENV = {"account": "111122223333", "region": "us-east-1"}
RESULT: dict[str, object] = {}


def report() -> None:
    """Print the result once the jsii runtime has exited and been waited for.

    Registered before ``aws_cdk`` is imported, so it runs after jsii's own exit hook
    (atexit runs last-in first-out): by then the Node processes are reaped, and
    ``RUSAGE_CHILDREN`` holds the high-water mark of the largest of them.
    """
    if not RESULT:
        return
    RESULT["python_peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    RESULT["node_peak_rss_kib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps(RESULT), flush=True)


atexit.register(report)


def main() -> None:
    stack_kind, validation, outdir = sys.argv[1], sys.argv[2], sys.argv[3]
    with_nag = "--nag" in sys.argv[4:]
    sys.path.insert(0, str(REPO))

    import aws_cdk as cdk

    after_cdk = time.perf_counter()
    if stack_kind == "sample":
        from orders_sample.stack import OrdersSample as StackClass
    elif stack_kind == "baseline":
        from bench.baseline_stack import BaselineOrders as StackClass
    else:
        raise SystemExit(f"unknown stack {stack_kind!r}: sample or baseline")
    after_imports = time.perf_counter()

    app = cdk.App(outdir=outdir, builtin_cloud_formation_validation=validation == "on")
    if with_nag:
        from cdk_nag import AwsSolutionsChecks, ServerlessChecks

        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    stack_name = "OrdersSample" if stack_kind == "sample" else "BaselineOrders"
    StackClass(app, stack_name, env=cdk.Environment(**ENV))
    after_construct = time.perf_counter()
    nag_failed = False
    try:
        app.synth()
    except RuntimeError as error:  # jsii surfaces ValidationFailed as RuntimeError
        if not with_nag or "Validation failed" not in str(error):
            raise
        nag_failed = True
    after_synth = time.perf_counter()

    template = json.loads((Path(outdir) / f"{stack_name}.template.json").read_text())
    RESULT.update(
        stack=stack_kind,
        validation=validation,
        nag=with_nag,
        nag_failed=nag_failed,
        resources=len(template.get("Resources", {})),
        import_aws_cdk_s=after_cdk - STARTED,
        import_stack_s=after_imports - after_cdk,
        construct_s=after_construct - after_imports,
        synth_s=after_synth - after_construct,
        in_process_s=after_synth - STARTED,
    )


if __name__ == "__main__":
    main()
