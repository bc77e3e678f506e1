"""The permissions report: each grant used, explained or unused; each denied call listed."""

from __future__ import annotations

import json

from emulator.patches.iam_policies import evaluate, parse_statements
from emulator.patches.permissions_report import Ledger, build_report

ROLE = "arn:aws:iam::123456789012:role/Shop-CheckoutRole"
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders"
SESSION = "arn:aws:sts::123456789012:assumed-role/Shop-CheckoutRole/Api"
STATEMENTS = parse_statements(
    json.dumps(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["dynamodb:PutItem", "dynamodb:GetItem"],
                    "Resource": TABLE,
                },
                {"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"},
            ]
        }
    ),
    "ApiPolicy",
)


def test_a_grant_is_used_when_a_call_matched_it_explained_by_the_table_else_unused() -> None:
    ledger = Ledger()
    decision = evaluate(STATEMENTS, "dynamodb:PutItem", TABLE)
    ledger.allowed(ROLE, decision.statements, "dynamodb:PutItem", TABLE)

    report = build_report({ROLE: STATEMENTS}, ledger)

    grants = {g["action"]: g for g in report["roles"][ROLE]["grants"]}
    assert grants["dynamodb:PutItem"]["status"] == "used"
    assert grants["dynamodb:PutItem"]["example"] == f"dynamodb:PutItem on {TABLE}"
    assert grants["xray:PutTraceSegments"]["status"] == "explained"
    assert "X-Ray" in grants["xray:PutTraceSegments"]["reason"]
    assert grants["dynamodb:GetItem"]["status"] == "unused"
    assert report["summary"] == {
        "roles": 1,
        "statements": 2,
        "grants": 3,
        "used": 1,
        "explained": 1,
        "unused": 1,
        "denied": 0,
        "resource_policy_denied": 0,
    }


def test_a_denied_call_is_listed_once_with_its_count_and_message() -> None:
    ledger = Ledger()
    for _ in range(2):
        ledger.denied(ROLE, SESSION, "dynamodb:DeleteItem", TABLE, "User: ... not authorized")

    report = build_report({ROLE: STATEMENTS}, ledger)

    assert report["roles"][ROLE]["denied"] == [
        {
            "caller": SESSION,
            "action": "dynamodb:DeleteItem",
            "resource": TABLE,
            "count": 2,
            "message": "User: ... not authorized",
        }
    ]
    assert report["summary"]["denied"] == 1
