"""Drive the project's pinned CDK CLI (``npx cdk``, see package.json) against the emulator.

What a user runs against AWS runs here unchanged: ``cdk bootstrap``, ``cdk deploy`` (the
default change-set method; the CLI prints each resource's events), ``cdk diff`` and
``cdk destroy``, with ``AWS_ENDPOINT_URL`` pointing at the emulator and test credentials.
A synthesized cloud assembly is deployed with ``--app <dir>``: the CLI skips synthesis.

``python -m emulator.cdk_cli [CLOUD_ASSEMBLY] [--stack NAME]`` (``make deploy-local``)
starts an emulator, bootstraps it, deploys the stack with the CLI and keeps the emulator
running, printing the environment under which further ``cdk`` commands reach it, until
interrupted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from emulator.deploy import DeployedStack, DeployError, describe_stack
from emulator.server import Emulator, start_emulator

#: The project root: package.json pins the CLI there, ``node_modules/.bin`` holds it.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Seconds one CLI command may take before it is stopped.
CLI_TIMEOUT_SECONDS = 180.0


@dataclass(frozen=True)
class CliResult:
    """One CLI command: its arguments, exit code and output (stdout and stderr together)."""

    args: tuple[str, ...]
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def cli_environment(emulator: Emulator) -> dict[str, str]:
    """The environment under which the CDK CLI (and any AWS SDK) talks to ``emulator``."""
    node_bin = str(PROJECT_ROOT / "node_modules" / ".bin")
    return {
        **emulator.client_environment(),
        "CDK_DEFAULT_ACCOUNT": emulator.account_id,
        "CDK_DEFAULT_REGION": emulator.region,
        "PATH": os.pathsep.join([node_bin, os.environ.get("PATH", "")]),
        # No notices or version checks over the network; nothing to report.
        "CDK_DISABLE_VERSION_CHECK": "1",
        # Node keeps the CLI's compiled code between runs (~0.3 s of each start, measured).
        "NODE_COMPILE_CACHE": str(Path(tempfile.gettempdir()) / "cdk-cli-node-compile-cache"),
    }


def run_cdk(emulator: Emulator, *args: str, cwd: str | Path | None = None) -> CliResult:
    """Run ``cdk <args>`` against the emulator and return its result (never raises on a
    non-zero exit: a failing deploy is an outcome to read)."""
    cdk = shutil.which("cdk", path=str(PROJECT_ROOT / "node_modules" / ".bin"))
    if cdk is None:
        raise DeployError("the CDK CLI is not installed: run `make install` (npm ci)")
    env = {k: v for k, v in os.environ.items() if k != "AWS_PROFILE"}
    env.update(cli_environment(emulator))
    command = [cdk, *args, "--no-notices", "--ci"]
    with tempfile.TemporaryDirectory(prefix="cdk-cli-") as scratch:
        completed = subprocess.run(
            command,
            cwd=str(cwd or scratch),  # no cdk.json there: --app decides what is deployed
            env=env,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_SECONDS,
            check=False,
        )
    return CliResult(tuple(args), completed.returncode, completed.stdout + completed.stderr)


def bootstrap(emulator: Emulator) -> CliResult:
    """``cdk bootstrap aws://<account>/<region>``: the CDKToolkit stack (asset bucket,
    publishing and deployment roles, version parameter)."""
    result = run_cdk(emulator, "bootstrap", f"aws://{emulator.account_id}/{emulator.region}")
    _raise_unless_ok(result, "cdk bootstrap")
    return result


def cdk_deploy(
    emulator: Emulator, cloud_assembly_dir: str | Path, stack_name: str
) -> tuple[DeployedStack, CliResult]:
    """``cdk deploy --app <assembly> <stack>`` (change-set method, no approval prompt);
    return the deployed stack and the CLI's output.

    Raises
    ------
    DeployError
        When the CLI fails; the message carries its output (the failing resources and
        their reasons) and the server log's tail.
    """
    result = deploy_result(emulator, cloud_assembly_dir, stack_name)
    _raise_unless_ok(result, f"cdk deploy {stack_name}", emulator)
    return describe_stack(emulator, stack_name), result


def deploy_result(emulator: Emulator, cloud_assembly_dir: str | Path, stack_name: str) -> CliResult:
    """``cdk deploy`` as ``cdk_deploy`` runs it, returning the outcome even when it fails."""
    assembly = str(Path(cloud_assembly_dir).resolve())
    return run_cdk(emulator, "deploy", "--app", assembly, "--require-approval", "never", stack_name)


def _raise_unless_ok(result: CliResult, what: str, emulator: Emulator | None = None) -> None:
    if result.ok:
        return
    log = f"\nServer log tail:\n{emulator.read_log()[-3000:]}" if emulator else ""
    raise DeployError(f"{what} failed (exit {result.returncode}):\n{result.output[-4000:]}{log}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("cloud_assembly", nargs="?", default="cdk.out")
    parser.add_argument("--stack", default="OrdersSample")
    args = parser.parse_args(argv)
    if not (Path(args.cloud_assembly) / "manifest.json").exists():
        print(f"No cloud assembly in {args.cloud_assembly}: run `make synth` first.")
        return 2
    with start_emulator(log_path=Path(args.cloud_assembly) / "emulator-cli.log") as emulator:
        print(f"Emulator up on {emulator.endpoint_url}; cdk bootstrap...", flush=True)
        print(bootstrap(emulator).output.strip().splitlines()[-1], flush=True)
        result = deploy_result(emulator, args.cloud_assembly, args.stack)
        print(result.output, flush=True)
        if not result.ok:
            return 1
        print("The emulator keeps running. In another shell, for more cdk commands:")
        for name, value in cli_environment(emulator).items():
            if name != "PATH":
                print(f"  export {name}={value}")
        print(
            f"  npx cdk diff|deploy|destroy --app {args.cloud_assembly} {args.stack}"
            "   (Ctrl-C here stops the emulator)"
        )
        try:
            while emulator.running:
                time.sleep(1)
        except KeyboardInterrupt:
            print("\nStopping the emulator.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
