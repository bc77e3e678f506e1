"""Test-wide settings: aws-cdk's built-in template validation is off unless a test asks for it;
the slowest modules are collected first, so that pytest-xdist's two workers (``make test``)
finish together; each module runs whole on one worker, and the modules that share an
emulator's session fixtures run on the same worker."""

import os
from typing import Any

import pytest

# Must be set before aws_cdk starts its jsii runtime; tests that need the built-in
# CloudFormation validation pass builtin_validation=True to tests.support.nag_app().
os.environ.setdefault("CDK_VALIDATION", "false")
# A call to a deprecated aws-cdk API fails the test that makes it.
os.environ.setdefault("JSII_DEPRECATED", "fail")


#: What runs longest (an emulator, deployments, waits for flows), in the order to start it:
#: the modules that share the deployed sample, then the two that start emulators of their
#: own, then the emulator's tests. With two workers no long module is left alone at the end.
_LONGEST_FIRST = (
    "tests/e2e/",
    "tests/e2e/test_cdk_cli_e2e.py",
    "tests/emulator/test_emulator_under_load.py",
    "tests/emulator/",
)
#: Folders whose modules share session fixtures (one emulator, one synthesis, one deployed
#: stack per worker process): they run on one worker, so that each is set up once.
_SHARED_SESSION = ("tests/e2e/", "tests/emulator/", "tests/sample/")
#: Modules of those folders that start an emulator of their own: free to run anywhere.
_OWN_EMULATOR = ("tests/e2e/test_cdk_cli_e2e.py", "tests/emulator/test_emulator_under_load.py")


def _worker_unit(module: str) -> str:
    """What one worker runs whole: the module, or the folder whose modules share session
    fixtures."""
    if module in _OWN_EMULATOR:
        return module
    return next((folder for folder in _SHARED_SESSION if module.startswith(folder)), module)


def _rank(module: str) -> int:
    """Position of the module's work unit in :data:`_LONGEST_FIRST` (others last)."""
    unit = _worker_unit(module)
    return _LONGEST_FIRST.index(unit) if unit in _LONGEST_FIRST else len(_LONGEST_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # stable: the order within a module is kept
    items.sort(key=lambda item: _rank(item.nodeid.split("::", 1)[0]))


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Hand out whole work units (:func:`_worker_unit`) in collection order."""
    from xdist.scheduler import LoadScopeScheduling

    class SharedSessionScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return _worker_unit(nodeid.split("::", 1)[0])

    config.option.loadscopereorder = False
    return SharedSessionScheduling(config, log)
