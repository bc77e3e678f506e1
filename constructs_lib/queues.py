"""The one helper that creates queues for failed events: encrypted, TLS-only, retained.

Public: an app that needs a dead-letter queue of its own (an SNS subscription's, an SQS
queue's) gets the same queue the constructs create, with the same acknowledgments.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ._acknowledge import AWS_SOLUTIONS, SERVERLESS, acknowledge
from .defaults import FAILURE_QUEUE_RETENTION_DAYS


def failure_queue(scope: Construct, construct_id: str, *, holds: str) -> sqs.Queue:
    """Create the queue that keeps ``holds`` (e.g. "failed asynchronous invocations").

    SQS-managed server-side encryption, a TLS-only queue policy, 14 days' retention
    (:data:`constructs_lib.defaults.FAILURE_QUEUE_RETENTION_DAYS`), retained when the stack
    is deleted. The queue is the end of a failure path, so cdk-nag's "no dead-letter queue"
    findings (``AwsSolutions-SQS3``, ``Serverless-SQSRedrivePolicy``) are acknowledged on it,
    naming ``holds`` in the reason. Its logical id is ``construct_id`` under ``scope``.
    """
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(FAILURE_QUEUE_RETENTION_DAYS),
        removal_policy=RemovalPolicy.RETAIN,
    )
    # cdk-nag recognises a queue as a DLQ only when another queue's redrive policy or a
    # function's DeadLetterConfig names it, not when it is an on-failure destination.
    acknowledge(
        queue,
        AWS_SOLUTIONS,
        "AwsSolutions-SQS3",
        f"This queue is the dead-letter destination for {holds}; a dead-letter queue of "
        "its own would only move the same failed messages one hop further.",
    )
    acknowledge(
        queue,
        SERVERLESS,
        "Serverless-SQSRedrivePolicy",
        f"This queue is itself the dead-letter destination for {holds}; it is the end of the "
        "failure path, so there is no further queue to redrive to. Messages are kept for "
        f"{FAILURE_QUEUE_RETENTION_DAYS} days to be inspected and redriven by an operator.",
    )
    return queue
