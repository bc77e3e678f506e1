"""The logical ids of OrdersSample's stateful resources, pinned.

CloudFormation replaces a resource whose logical id changes: a new table, bucket, queue, key
or user pool, and the old one retained, orphaned, with the data. A change to the library
that renames any of these ids would do that to every user's stack on their next deploy, so
each id is spelled out here and a change must be deliberate.
"""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template

from tests.sample import NOTIFY_EMAIL

STATEFUL_IDS = {
    "AWS::DynamoDB::Table": {"OrdersTable1F8332C7", "IdempotencyRecordsTable95CAB51D"},
    "AWS::Cognito::UserPool": {"Users0A0EEA89"},
    "AWS::KMS::Key": {"NotificationsKey74C0825E", "OperationsTopicKey50BA7F3B"},
    "AWS::SNS::Topic": {"Notifications87298708", "OperationsTopic6D6844EA"},
    "AWS::S3::Bucket": {"UploadsAccessLogsB2D59324", "UploadsBucketC4B27CC7"},
    "AWS::SQS::Queue": {
        "ApiFunctionDeadLetterQueue9C00907C",
        "IngestFunctionDeadLetterQueueF619A262",
        "UploadsDeadLetterQueueAC44B0B7",
        "ProcessOrderFunctionDeadLetterQueue1C2EB250",
        "ShipOrderFunctionDeadLetterQueue69601A54",
        "BackorderFunctionDeadLetterQueue4C8F1E14",
        "StreamFunctionDeadLetterQueueC3B9F9A3",
        "NewOrdersOnFailureQueue8892BA11",
    },
    "AWS::Logs::LogGroup": {
        "ApiFunctionLogGroupB51C7C52",
        "RestApiAccessLogs2CA480E4",
        "RestApiExecutionLogs868511AE",
        "HttpApiAccessLogsDED8C7A4",
        "IngestFunctionLogGroup8E264078",
        "ProcessOrderFunctionLogGroup3FCB943F",
        "ShipOrderFunctionLogGroup13BC206C",
        "BackorderFunctionLogGroup986271C5",
        "OrderWorkflowLogGroupCFF18403",
        "StreamFunctionLogGroup2257C2F6",
    },
}
#: The queue that exists only when notify_email is given.
EMAIL_DEAD_LETTER_QUEUE_ID = "UndeliverableNotifications2D03B506"
#: The queue that exists only when alarm_email is given.
ALARM_EMAIL_DEAD_LETTER_QUEUE_ID = "UndeliverableAlarms2C04853A"


@pytest.fixture(scope="module")
def templates(sample_template: Template, emailing_sample_template: Template) -> dict[str, Template]:
    return {"default": sample_template, "with_email": emailing_sample_template}


@pytest.mark.parametrize("resource_type", sorted(STATEFUL_IDS))
def test_stateful_logical_ids_never_change(
    templates: dict[str, Template], resource_type: str
) -> None:
    assert set(templates["default"].find_resources(resource_type)) == STATEFUL_IDS[resource_type]


def test_email_dead_letter_queues_keep_their_logical_ids(templates: dict[str, Template]) -> None:
    queues = set(templates["with_email"].find_resources("AWS::SQS::Queue"))
    assert queues == STATEFUL_IDS["AWS::SQS::Queue"] | {
        EMAIL_DEAD_LETTER_QUEUE_ID,
        ALARM_EMAIL_DEAD_LETTER_QUEUE_ID,
    }


@pytest.mark.parametrize("variant", ["default", "with_email"])
def test_stateful_resources_are_retained(templates: dict[str, Template], variant: str) -> None:
    for resource_type in STATEFUL_IDS.keys() - {"AWS::SNS::Topic"}:
        template = templates[variant]
        retained = template.find_resources(resource_type, {"DeletionPolicy": "Retain"})
        assert retained.keys() == template.find_resources(resource_type).keys(), resource_type


def test_email_subscription_only_when_asked(templates: dict[str, Template]) -> None:
    templates["with_email"].has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": NOTIFY_EMAIL}
    )
    templates["default"].resource_count_is("AWS::SNS::Subscription", 0)
