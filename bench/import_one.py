"""Import modules in this (fresh) process and print what it cost as one JSON line.

Run by ``bench/run.py``, once per measurement.

Usage: ``python bench/import_one.py [--pre MODULE]... TARGET [TARGET ...]``

A TARGET is ``package.module`` (imported) or ``package:Name,Other`` (``from package
import Name, Other``: for ``constructs_lib``, that is what loads each construct's module).
``--pre`` modules are imported before the clock starts (e.g. ``aws_cdk``, whose import
starts the jsii runtime and is the same for every variant).
"""

from __future__ import annotations

import importlib
import json
import resource
import sys
import time


def load(target: str) -> None:
    module_name, _, names = target.partition(":")
    module = importlib.import_module(module_name)
    for name in filter(None, names.split(",")):
        getattr(module, name)


def main() -> None:
    args = sys.argv[1:]
    pre: list[str] = []
    while args[:1] == ["--pre"]:
        pre.append(args[1])
        args = args[2:]
    started = time.perf_counter()
    for target in pre:
        load(target)
    before = set(sys.modules)
    timed = time.perf_counter()
    for target in args:
        load(target)
    finished = time.perf_counter()
    loaded = sorted(set(sys.modules) - before)
    print(
        json.dumps(
            {
                "pre_s": timed - started,
                "import_s": finished - timed,
                "modules_loaded": len(loaded),
                # Service modules only: aws_cdk.aws_x, not its _private or interfaces parts.
                "aws_cdk_service_modules": [
                    name
                    for name in loaded
                    if name.count(".") == 1 and name.startswith("aws_cdk.aws_")
                ],
                "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
