"""Measure what constructs_lib costs against a hand-written baseline; write bench/results.json.

Run with ``make bench`` (or ``.venv/bin/python bench/run.py``); ``--quick`` for fewer
repetitions, ``--skip-tests`` to leave out the ``make test`` figure. bench/README.md says
what every figure means.

Every measurement runs in a fresh process. The machine is small and shared, so figures are
ratios of variants measured side by side in the same run: each repetition runs every
variant once, and the order is reversed on every other repetition (A B, B A, A B, ...).
One unrecorded warm-up run per variant comes first, so that no recorded run pays for
compiling bytecode.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import logging
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
RESULTS = BENCH / "results.json"
PYTHON = sys.executable

#: The constructs OrdersSample uses, for the library import figure.
SAMPLE_CONSTRUCTS = (
    "DynamoTable",
    "HttpApiEndpoint",
    "LambdaFunction",
    "RestApiEndpoint",
    "S3Trigger",
    "StreamMapping",
    "Workflow",
)
HANDLER_MODULES = ("orders.api", "orders.ingest", "orders.stream", "orders.workflow")
NAIVE_MODULE = "naive_handler"
#: The first request each handler answers in the init + first request figure (the naive
#: handler answers the same one); the events are built by bench/first_request.py.
FIRST_REQUESTS = {
    "orders.api": "post_order",
    "orders.ingest": "object_created",
    "orders.stream": "stream_insert",
    "orders.workflow": "workflow_task",
}
#: The entry point each module answers its first request with.
ENTRY_POINTS = {"orders.workflow": "process_order"}
#: Orders in the file the ingest handler's first request reads.
UPLOADED_ORDERS = 5

#: What --only can select; the Lambda asset comes with the synthesis.
FIGURES = ("synth", "handlers", "library", "tests")

#: Targets the figures are reported against.
TARGET_SYNTH_RATIO = 1.10
TARGET_HANDLER_IMPORT_RATIO = 0.5
TARGET_FIRST_REQUEST_RATIO = 0.6
TARGET_MAKE_TEST_S = 120.0

Variant = tuple[str, list[str], dict[str, str]]


# --- running and measuring one fresh process --------------------------------------------


def base_env() -> dict[str, str]:
    """This environment, with the pinned Node first on PATH (jsii runs the first ``node``)."""
    env = dict(os.environ)
    node_bin = REPO / "node_modules" / ".bin"
    if node_bin.is_dir():
        env["PATH"] = f"{node_bin}{os.pathsep}{env.get('PATH', '')}"
    env["JSII_DEPRECATED"] = "quiet"
    env.pop("PYTHONPATH", None)
    return env


def measure(command: Sequence[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``command``; return wall time, the kernel's peak RSS, and its last JSON line.

    ``max_process_rss_kib`` is ``ru_maxrss`` from ``wait4`` on the child: the high-water
    mark of the largest single process among the child and the descendants it waited for
    (jsii waits for its Node runtime at exit, so Node is covered). It is a maximum over
    processes, not a sum.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    if process.returncode != 0:
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}:\n{tail}")
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    result: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    result["wall_s"] = wall
    # User + system CPU of the process and every descendant it waited for (the jsii Node
    # runtime included): what the work costs, less sensitive than wall time to a busy machine.
    result["cpu_s"] = usage.ru_utime + usage.ru_stime
    result["max_process_rss_kib"] = usage.ru_maxrss
    return result


def run_alternating(
    variants: Sequence[Variant], repetitions: int
) -> dict[str, list[dict[str, Any]]]:
    """Run every variant once per repetition, reversing the order every other repetition."""
    for name, command, env in variants:  # warm-up: bytecode, page cache
        measure(command, env)
        print(f"    warmed up {name}", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in variants}
    for repetition in range(repetitions):
        order = variants if repetition % 2 == 0 else list(reversed(variants))
        for name, command, env in order:
            runs[name].append(measure(command, env))
        print(f"    repetition {repetition + 1}/{repetitions} done", flush=True)
    return runs


def stats(values: Sequence[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "n": len(values)}


def ratio(numerator: dict[str, float], denominator: dict[str, float]) -> dict[str, float]:
    return {
        "median": numerator["median"] / denominator["median"],
        "min": numerator["min"] / denominator["min"],
    }


def paired_ratio(a: Sequence[float], b: Sequence[float]) -> float:
    """Median of the per-repetition ratios: each pair ran back to back under the same load."""
    return statistics.median(x / y for x, y in zip(a, b, strict=True))


def compared(
    field: str,
    figure: dict[str, Any],
    reference: dict[str, Any],
    runs: Sequence[dict[str, Any]],
    reference_runs: Sequence[dict[str, Any]],
) -> dict[str, float]:
    """``field`` of one variant over a reference: median and min ratios, and the paired one."""
    return {
        **ratio(figure[field], reference[field]),
        "paired_median": paired_ratio([r[field] for r in runs], [r[field] for r in reference_runs]),
    }


# --- 1. synthesis -------------------------------------------------------------------------

SYNTH_FIELDS = ("wall_s", "cpu_s", "import_aws_cdk_s", "import_stack_s", "construct_s", "synth_s")


def bench_synth(repetitions: int, with_nag: bool, keep_outdir: Path) -> dict[str, Any]:
    """OrdersSample vs BaselineOrders, built-in validation on and off (and cdk-nag)."""
    modes = [("off", False), ("on", False)] + ([("off", True)] if with_nag else [])
    variants: list[Variant] = []
    outdirs: list[Path] = []
    for validation, nag in modes:
        for stack in ("sample", "baseline"):
            outdir = Path(tempfile.mkdtemp(prefix=f"bench-{stack}-"))
            outdirs.append(outdir)
            env = base_env()
            env["CDK_VALIDATION"] = "true" if validation == "on" else "false"
            command = [PYTHON, str(BENCH / "synth_one.py"), stack, validation, str(outdir)]
            if nag:
                command.append("--nag")
            variants.append((_synth_name(stack, validation, nag), command, env))
    try:
        runs = run_alternating(variants, repetitions)
        # The sample's assembly (validation off, no nag) is kept for the asset figure.
        shutil.rmtree(keep_outdir, ignore_errors=True)
        shutil.copytree(outdirs[0], keep_outdir)
    finally:
        for outdir in outdirs:
            shutil.rmtree(outdir, ignore_errors=True)

    figures: dict[str, Any] = {"variants": {}, "comparisons": {}}
    for name, results in runs.items():
        figure: dict[str, Any] = {
            field: stats([r[field] for r in results]) for field in SYNTH_FIELDS
        }
        figure["peak_rss_mib"] = stats(
            [(r["python_peak_rss_kib"] + r["node_peak_rss_kib"]) / 1024 for r in results]
        )
        figure["python_peak_rss_mib"] = stats([r["python_peak_rss_kib"] / 1024 for r in results])
        figure["node_peak_rss_mib"] = stats([r["node_peak_rss_kib"] / 1024 for r in results])
        figure["max_process_rss_mib"] = stats([r["max_process_rss_kib"] / 1024 for r in results])
        figure["resources"] = results[0]["resources"]
        figure["nag_failed"] = any(r["nag_failed"] for r in results)
        figures["variants"][name] = figure
    for validation, nag in modes:
        sample = _synth_name("sample", validation, nag)
        baseline = _synth_name("baseline", validation, nag)
        s, b = figures["variants"][sample], figures["variants"][baseline]
        figures["comparisons"][_synth_name("ratio", validation, nag)] = {
            "wall_s": compared("wall_s", s, b, runs[sample], runs[baseline]),
            "cpu_s": compared("cpu_s", s, b, runs[sample], runs[baseline]),
            "peak_rss_mib": ratio(s["peak_rss_mib"], b["peak_rss_mib"]),
            "import_stack_s": ratio(s["import_stack_s"], b["import_stack_s"]),
            "construct_plus_synth_s": {
                "median": (s["construct_s"]["median"] + s["synth_s"]["median"])
                / (b["construct_s"]["median"] + b["synth_s"]["median"]),
            },
        }
    return figures


def _synth_name(stack: str, validation: str, nag: bool) -> str:
    return f"{stack}/validation-{validation}" + ("/nag" if nag else "")


# --- 2. handler cold imports ---------------------------------------------------------------


def handler_env() -> dict[str, str]:
    """What Lambda sets, and what the sample gives the functions.

    LAMBDA_TASK_ROOT makes Powertools' Tracer behave as on Lambda (enabled, patching
    botocore); no X-Ray daemon is needed to import. Credentials are in environment
    variables, as on Lambda, so creating a boto3 client never probes instance metadata.
    """
    env = base_env()
    env.update(
        PYTHONPATH=os.pathsep.join([str(REPO / "lambda_src"), str(BENCH)]),
        LAMBDA_TASK_ROOT=str(REPO / "lambda_src"),
        AWS_LAMBDA_FUNCTION_NAME="bench",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256",
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="AKIDBENCHMARK",
        AWS_SECRET_ACCESS_KEY="benchmark",
        AWS_SESSION_TOKEN="benchmark",
        POWERTOOLS_SERVICE_NAME="orders",
        POWERTOOLS_METRICS_NAMESPACE="OrdersSample",
        TABLE_NAME="orders",
        STATE_MACHINE_ARN="arn:aws:states:us-east-1:111122223333:stateMachine:orders",
        # What the sample gives its functions besides (orders_sample/stack.py).
        IDEMPOTENCY_TABLE_NAME="orders-idempotency",
        PROGRESS_TABLE_NAME="orders-idempotency",
        QUARANTINE_PREFIX="quarantine/",
    )
    # PYTHONDONTWRITEBYTECODE (this machine sets it) would leave the warm-up runs without
    # effect and make every measured run compile whatever modules have no bytecode yet.
    for name in (
        "POWERTOOLS_TRACE_DISABLED",
        "AWS_SAM_LOCAL",
        "AWS_CHALICE_CLI_MODE",
        "PYTHONDONTWRITEBYTECODE",
    ):
        env.pop(name, None)
    return env


def bench_handlers(repetitions: int) -> dict[str, Any]:
    env = handler_env()
    script = str(BENCH / "import_one.py")
    variants: list[Variant] = [
        (module, [PYTHON, script, module], env) for module in (*HANDLER_MODULES, NAIVE_MODULE)
    ]
    runs = run_alternating(variants, repetitions)
    figures: dict[str, Any] = {"variants": {}, "ratios_to_naive": {}}
    for name, results in runs.items():
        figures["variants"][name] = {
            "import_s": stats([r["import_s"] for r in results]),
            "process_wall_s": stats([r["wall_s"] for r in results]),
            "modules_loaded": results[0]["modules_loaded"],
            "peak_rss_mib": stats([r["peak_rss_kib"] / 1024 for r in results]),
        }
    naive = figures["variants"][NAIVE_MODULE]
    for module in HANDLER_MODULES:
        figures["ratios_to_naive"][module] = compared(
            "import_s", figures["variants"][module], naive, runs[module], runs[NAIVE_MODULE]
        )
    return figures


#: Where the order files of the ingest first requests are, by number.
UPLOAD_KEY = "uploads/orders-{:04d}.json"


def order_file(number: int) -> bytes:
    """Order file ``number``: :data:`UPLOADED_ORDERS` orders no other file holds (so every
    ingest stores new orders, as the naive handler does), all files of the same length."""
    return json.dumps(
        [
            {
                "customer_id": f"bench-{number:04d}-{n}",
                "email": f"bench-{n}@example.com",
                "items": [{"sku": "BOOK-1", "quantity": 1 + n}],
            }
            for n in range(UPLOADED_ORDERS)
        ]
    ).encode()


@contextlib.contextmanager
def first_request_backend(files: int = 64) -> Iterator[dict[str, str]]:
    """A moto server on 127.0.0.1 holding what the first requests use; yields the environment
    that points the handlers at it.

    The server runs in this process (idle while a measured process runs), so every AWS call
    of a first request is a real HTTP round trip that boto3 signs, sends and parses: client
    creation and the call are in the figure, as on Lambda, without a network's latency.
    It holds the orders table, the progress and idempotency table the sample gives the
    functions, the state machine, and ``files`` order files: each ingest first request claims
    one no earlier run read (``bench/first_request.py``).
    """
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    with contextlib.ExitStack() as stack:
        stack.callback(server.stop)
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        env = handler_env()
        session = boto3.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name=env["AWS_REGION"],
        )
        dynamodb = session.client("dynamodb", endpoint_url=endpoint)
        for table, key in ((env["TABLE_NAME"], "order_id"), (env["PROGRESS_TABLE_NAME"], "id")):
            dynamodb.create_table(
                TableName=table,
                KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        state_machine = session.client("stepfunctions", endpoint_url=endpoint)
        arn = state_machine.create_state_machine(
            name="orders",
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
            roleArn="arn:aws:iam::111122223333:role/orders-workflow",
        )["stateMachineArn"]
        s3 = session.client("s3", endpoint_url=endpoint)
        s3.create_bucket(Bucket="uploads")
        sizes = set()
        for number in range(files):
            body = order_file(number)
            sizes.add(len(body))
            s3.put_object(Bucket="uploads", Key=UPLOAD_KEY.format(number), Body=body)
        (size,) = sizes  # the event carries one size: every file has the same length
        claims = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-claims-"))
        yield {
            "AWS_ENDPOINT_URL": endpoint,
            "STATE_MACHINE_ARN": arn,
            "BENCH_BUCKET": "uploads",
            "BENCH_KEY_FORMAT": UPLOAD_KEY,
            "BENCH_FILES": str(files),
            "BENCH_CLAIMS": claims,
            "BENCH_SIZE": str(size),
            # What Lambda sets per invocation when active tracing is on; the Tracer sends
            # its segments over UDP to the (absent) daemon, as it would on Lambda.
            "_X_AMZN_TRACE_ID": "Root=1-67a1b2c3-0123456789abcdef01234567;"
            "Parent=0123456789abcdef;Sampled=1",
        }


def bench_first_requests(repetitions: int) -> dict[str, Any]:
    """Init + first request of each handler against the naive handler answering the same event.

    Each variant is a fresh process (bench/first_request.py) that imports the module and
    answers one event against the moto server of :func:`first_request_backend`.
    """
    script = str(BENCH / "first_request.py")
    # Each ingest run and each naive run of its event (warm-ups included) reads its own file.
    with first_request_backend(files=2 * (repetitions + 1)) as backend:
        env = {**handler_env(), **backend}
        variants: list[Variant] = []
        for module, event in FIRST_REQUESTS.items():
            entry = f"{module}:{ENTRY_POINTS.get(module, 'handler')}"
            variants.append((module, [PYTHON, script, entry, event], env))
            variants.append(
                (f"{NAIVE_MODULE}/{event}", [PYTHON, script, f"{NAIVE_MODULE}:handler", event], env)
            )
        runs = run_alternating(variants, repetitions)
    figures: dict[str, Any] = {
        "events": dict(FIRST_REQUESTS),
        "variants": {},
        "ratios_to_naive": {},
    }
    for name, results in runs.items():
        figures["variants"][name] = {
            key: stats([r[key] for r in results])
            for key in (
                "init_and_first_request_s",
                "init_and_first_request_cpu_s",
                "import_s",
                "first_request_s",
            )
        }
        figures["variants"][name]["modules_loaded"] = results[0]["modules_loaded"]
    for module, event in FIRST_REQUESTS.items():
        naive = f"{NAIVE_MODULE}/{event}"
        total, cpu = "init_and_first_request_s", "init_and_first_request_cpu_s"
        figures["ratios_to_naive"][module] = {
            **compared(
                total,
                figures["variants"][module],
                figures["variants"][naive],
                runs[module],
                runs[naive],
            ),
            "cpu_median": figures["variants"][module][cpu]["median"]
            / figures["variants"][naive][cpu]["median"],
        }
    return figures


# --- library import cost -----------------------------------------------------------------


def bench_library_import(repetitions: int) -> dict[str, Any]:
    """``from constructs_lib import <the sample's constructs>`` vs the aws_cdk modules alone.

    A first, unrecorded run lists the aws_cdk service modules that importing the constructs
    loads; the direct variant imports exactly those. ``import aws_cdk`` (the jsii start) is
    done before the clock starts in every variant.
    """
    env = base_env()
    env["PYTHONPATH"] = str(REPO)
    script = str(BENCH / "import_one.py")
    library_target = "constructs_lib:" + ",".join(SAMPLE_CONSTRUCTS)
    probe = measure([PYTHON, script, "--pre", "aws_cdk", library_target], env)
    service_modules = probe["aws_cdk_service_modules"]
    variants: list[Variant] = [
        (
            "constructs_lib (package only)",
            [PYTHON, script, "--pre", "aws_cdk", "constructs_lib"],
            env,
        ),
        ("constructs_lib constructs", [PYTHON, script, "--pre", "aws_cdk", library_target], env),
        ("aws_cdk modules directly", [PYTHON, script, "--pre", "aws_cdk", *service_modules], env),
    ]
    runs = run_alternating(variants, repetitions)
    figures: dict[str, Any] = {"service_modules": service_modules, "variants": {}}
    for name, results in runs.items():
        figures["variants"][name] = {
            "import_s": stats([r["import_s"] for r in results]),
            "import_aws_cdk_s": stats([r["pre_s"] for r in results]),
            "aws_cdk_service_modules_loaded": len(results[0]["aws_cdk_service_modules"]),
        }
    variants_figures = figures["variants"]
    figures["ratio_constructs_to_direct"] = ratio(
        variants_figures["constructs_lib constructs"]["import_s"],
        variants_figures["aws_cdk modules directly"]["import_s"],
    )
    return figures


# --- 3. the Lambda asset -----------------------------------------------------------------


def bench_asset(assembly: Path) -> dict[str, Any]:
    """Size and file count of the sample's Lambda code asset, as staged in cdk.out.

    Zipped here with deflate (zlib's default level); the CDK CLI zips the same directory
    when it publishes the asset, so sizes agree closely, not to the byte.
    """
    manifest = json.loads((assembly / "OrdersSample.assets.json").read_text())
    directories = [
        assembly / entry["source"]["path"]
        for entry in manifest.get("files", {}).values()
        if entry["source"].get("packaging") == "zip"
    ]
    assets = []
    for directory in directories:
        files = sorted(path for path in directory.rglob("*") if path.is_file())
        with tempfile.TemporaryDirectory() as scratch:
            archive = Path(scratch) / "asset.zip"
            with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
                for path in files:
                    zipped.write(path, path.relative_to(directory))
            zipped_bytes = archive.stat().st_size
        assets.append(
            {
                "directory": directory.name,
                "files": len(files),
                "bytes": sum(path.stat().st_size for path in files),
                "zipped_bytes": zipped_bytes,
                "bytecode_files": sum(1 for path in files if path.suffix == ".pyc"),
                "paths": [str(path.relative_to(directory)) for path in files],
            }
        )
    return {"assets": assets}


# --- 4. make test ---------------------------------------------------------------------------

DURATION_LINE = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s+(call|setup|teardown)\s+(\S.*)$")


def bench_make_test() -> dict[str, Any]:
    """Wall time of one ``make test`` (lint, then pytest) and its ten slowest test phases.

    ``--durations=10`` reaches pytest through PYTEST_ADDOPTS, so the timed run is the one
    that reports the durations; it adds no work.
    """
    env = base_env()
    env["PYTEST_ADDOPTS"] = (env.get("PYTEST_ADDOPTS", "") + " --durations=10").strip()
    started = time.perf_counter()
    completed = subprocess.run(
        ["make", "test"], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    output = completed.stdout + completed.stderr
    slowest = [
        {"seconds": float(m[1]), "phase": m[2], "test": m[3].strip()}
        for m in map(DURATION_LINE.match, output.splitlines())
        if m
    ]
    summary = next(
        (
            line.strip("= ")
            for line in reversed(output.splitlines())
            if re.search(r"\d+ (passed|failed)", line)
        ),
        None,
    )
    return {
        "wall_s": wall,
        "returncode": completed.returncode,
        "summary": summary,
        "slowest": slowest[:10],
        "output_tail": output.strip().splitlines()[-5:] if completed.returncode else [],
    }


# --- environment, targets, table -------------------------------------------------------------


def environment() -> dict[str, Any]:
    def version(distribution: str) -> str | None:
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            return None

    node = shutil.which("node", path=base_env()["PATH"])
    node_version = (
        subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
        if node
        else None
    )
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "node": node_version,
        "node_path": node,
        "aws-cdk-lib": version("aws-cdk-lib"),
        "constructs": version("constructs"),
        "jsii": version("jsii"),
        "cdk-nag": version("cdk-nag"),
        "aws-lambda-powertools": version("aws-lambda-powertools"),
        "boto3": version("boto3"),
        "load_average_at_start": os.getloadavg(),
    }


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = []
    comparisons = results.get("synth", {}).get("comparisons", {})
    for validation in ("on", "off"):
        figure = comparisons.get(_synth_name("ratio", validation, False))
        if figure:
            value = figure["wall_s"]["median"]
            checks.append(
                {
                    "target": f"synth time constructs/baseline, validation {validation}",
                    "limit": f"<= {TARGET_SYNTH_RATIO}",
                    "value": round(value, 3),
                    "met": value <= TARGET_SYNTH_RATIO,
                }
            )
    for module, figure in results.get("handler_import", {}).get("ratios_to_naive", {}).items():
        checks.append(
            {
                "target": f"cold import {module} / naive",
                "limit": f"<= {TARGET_HANDLER_IMPORT_RATIO}",
                "value": round(figure["median"], 3),
                "met": figure["median"] <= TARGET_HANDLER_IMPORT_RATIO,
            }
        )
    first = results.get("handler_first_request", {}).get("ratios_to_naive", {})
    for module, figure in first.items():
        checks.append(
            {
                "target": f"init + first request {module} / naive",
                "limit": f"<= {TARGET_FIRST_REQUEST_RATIO}",
                "value": round(figure["median"], 3),
                "met": figure["median"] <= TARGET_FIRST_REQUEST_RATIO,
            }
        )
    make_test = results.get("make_test")
    if make_test:
        checks.append(
            {
                "target": "make test wall time (s)",
                "limit": f"< {TARGET_MAKE_TEST_S:.0f}",
                "value": round(make_test["wall_s"], 1),
                "met": make_test["wall_s"] < TARGET_MAKE_TEST_S and make_test["returncode"] == 0,
            }
        )
    return checks


def _ratio_cells(figure: dict[str, float] | None, keys: Sequence[str]) -> str:
    """Columns of ratios to the naive handler, or dashes for the naive handler itself."""
    return "".join(f" {figure[key]:10.3f}" if figure else f" {'-':>10}" for key in keys)


def table(results: dict[str, Any]) -> str:
    lines: list[str] = []
    env = results["environment"]
    lines.append(
        f"CPUs {env['cpu_count']}, Python {env['python']}, aws-cdk-lib {env['aws-cdk-lib']}, "
        f"Node {env['node']}; repetitions: {results['settings']['repetitions']}; "
        f"load average {env['load_average_at_start'][0]:.1f} at start, "
        f"{env['load_average_at_end'][0]:.1f} at end"
    )

    synth = results.get("synth")
    if synth:
        lines += ["", "1. Synthesis, fresh process each (wall s; peak RSS MiB = Python + Node)"]
        lines.append(
            f"{'variant':34} {'wall med':>8} {'wall min':>8} {'RSS med':>8} {'RSS min':>8} "
            f"{'res':>4}"
        )
        for name, figure in synth["variants"].items():
            lines.append(
                f"{name:34} {figure['wall_s']['median']:8.2f} {figure['wall_s']['min']:8.2f} "
                f"{figure['peak_rss_mib']['median']:8.0f} {figure['peak_rss_mib']['min']:8.0f} "
                f"{figure['resources']:4d}"
            )
        lines.append(
            f"{'constructs/baseline':34} {'med':>8} {'min':>8} {'paired':>8} {'RSS med':>8} "
            f"{'cpu med':>8} {'cpu pair':>8}"
        )
        for name, figure in synth["comparisons"].items():
            lines.append(
                f"{name.replace('ratio/', ''):34} {figure['wall_s']['median']:8.3f} "
                f"{figure['wall_s']['min']:8.3f} {figure['wall_s']['paired_median']:8.3f} "
                f"{figure['peak_rss_mib']['median']:8.3f} {figure['cpu_s']['median']:8.3f} "
                f"{figure['cpu_s']['paired_median']:8.3f}"
            )

    handlers = results.get("handler_import")
    if handlers:
        lines += ["", "2. Handler cold import, fresh process each (import s, in process)"]
        lines.append(
            f"{'module':18} {'med':>7} {'min':>7} {'/naive med':>10} {'/naive min':>10} "
            f"{'modules':>7}"
        )
        for name, figure in handlers["variants"].items():
            r = handlers["ratios_to_naive"].get(name)
            lines.append(
                f"{name:18} {figure['import_s']['median']:7.3f} {figure['import_s']['min']:7.3f}"
                + _ratio_cells(r, ("median", "min"))
                + f" {figure['modules_loaded']:7d}"
            )

    first = results.get("handler_first_request")
    if first:
        lines += ["", "Handler init + first request, fresh process each (s, in process)"]
        lines.append(
            f"{'variant':28} {'total med':>9} {'total min':>9} {'import':>7} {'request':>7} "
            f"{'cpu med':>7} {'/naive med':>10} {'/naive min':>10} {'/naive cpu':>10}"
        )
        for name, figure in first["variants"].items():
            r = first["ratios_to_naive"].get(name)
            lines.append(
                f"{name:28} {figure['init_and_first_request_s']['median']:9.3f} "
                f"{figure['init_and_first_request_s']['min']:9.3f} "
                f"{figure['import_s']['median']:7.3f} {figure['first_request_s']['median']:7.3f} "
                f"{figure['init_and_first_request_cpu_s']['median']:7.3f}"
                + _ratio_cells(r, ("median", "min", "cpu_median"))
            )

    library = results.get("library_import")
    if library:
        lines += ["", "Library import (after import aws_cdk; s)"]
        for name, figure in library["variants"].items():
            lines.append(
                f"{name:34} med {figure['import_s']['median']:6.2f}  "
                f"min {figure['import_s']['min']:6.2f}  "
                f"service modules {figure['aws_cdk_service_modules_loaded']}"
            )
        r = library["ratio_constructs_to_direct"]
        lines.append(f"{'constructs/direct':34} med {r['median']:6.3f}  min {r['min']:6.3f}")

    asset = results.get("lambda_asset")
    if asset:
        lines += ["", "3. Lambda asset"]
        for entry in asset["assets"]:
            lines.append(
                f"{entry['directory'][:24]}: {entry['files']} files, {entry['bytes'] / 1024:.1f} "
                f"KiB, zipped {entry['zipped_bytes'] / 1024:.1f} KiB, "
                f"{entry['bytecode_files']} .pyc"
            )

    make_test = results.get("make_test")
    if make_test:
        lines += [
            "",
            f"4. make test: {make_test['wall_s']:.1f} s, exit {make_test['returncode']} "
            f"({make_test['summary']})",
        ]
        for entry in make_test["slowest"]:
            lines.append(f"   {entry['seconds']:7.2f}s {entry['phase']:8} {entry['test']}")

    lines += ["", "Targets"]
    for check in results["targets"]:
        lines.append(
            f"{'met ' if check['met'] else 'MISSED'} {check['target']}: {check['value']} "
            f"(target {check['limit']})"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, to try it out")
    parser.add_argument("--skip-tests", action="store_true", help="leave out the make test figure")
    parser.add_argument("--no-nag", action="store_true", help="leave out the cdk-nag synth pair")
    parser.add_argument("--repetitions", type=int, help="synth repetitions (default 7, quick 2)")
    parser.add_argument(
        "--only",
        type=lambda text: set(text.split(",")),
        default=set(FIGURES),
        help="comma-separated subset of: " + ", ".join(FIGURES),
    )
    args = parser.parse_args(argv)
    unknown = args.only - set(FIGURES)
    if unknown:
        parser.error(f"unknown figures {sorted(unknown)}; choose from {', '.join(FIGURES)}")
    synth_reps = args.repetitions or (2 if args.quick else 7)
    import_reps = 3 if args.quick else 10

    results: dict[str, Any] = {
        "environment": environment(),
        "settings": {
            "repetitions": {"synth": synth_reps, "imports": import_reps},
            "quick": args.quick,
            "nag": not args.no_nag,
            "figures": sorted(args.only),
        },
    }
    started = time.perf_counter()
    if "synth" in args.only:
        with tempfile.TemporaryDirectory() as scratch:
            assembly = Path(scratch) / "sample.out"
            print("1. synthesis", flush=True)
            results["synth"] = bench_synth(synth_reps, not args.no_nag, assembly)
            print("3. Lambda asset", flush=True)
            results["lambda_asset"] = bench_asset(assembly)
    if "handlers" in args.only:
        print("2. handler cold imports", flush=True)
        results["handler_import"] = bench_handlers(import_reps)
        print("2b. handler init + first request", flush=True)
        results["handler_first_request"] = bench_first_requests(import_reps)
    if "library" in args.only:
        print("library import", flush=True)
        results["library_import"] = bench_library_import(synth_reps)
    if "tests" in args.only and not args.skip_tests:
        print("4. make test", flush=True)
        results["make_test"] = bench_make_test()
    results["environment"]["load_average_at_end"] = os.getloadavg()
    results["environment"]["bench_wall_s"] = time.perf_counter() - started
    results["targets"] = targets(results)

    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(table(results))
    print(f"\nWritten to {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
