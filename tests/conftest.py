"""Test-wide settings: aws-cdk's built-in template validation is off unless a test asks for it;
the slowest modules are collected first, so that pytest-xdist's two workers (``make test``,
one module per worker at a time) finish together."""

import os

import pytest

# Must be set before aws_cdk starts its jsii runtime; tests that need the built-in
# CloudFormation validation pass builtin_validation=True to tests.support.nag_app().
os.environ.setdefault("CDK_VALIDATION", "false")
# A call to a deprecated aws-cdk API fails the test that makes it.
os.environ.setdefault("JSII_DEPRECATED", "fail")


#: Test folders whose modules run longest (an emulator, deployments, waits for flows): run
#: first, so that with two workers no long module is left alone at the end.
_LONGEST_FIRST = ("tests/e2e/", "tests/emulator/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next(
            (i for i, prefix in enumerate(_LONGEST_FIRST) if item.nodeid.startswith(prefix)),
            len(_LONGEST_FIRST),
        )

    items.sort(key=rank)  # stable: the order within a module is kept
