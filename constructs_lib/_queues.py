"""The one helper that creates queues for failed events: encrypted, TLS-only, retained."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ._acknowledge import SERVERLESS, acknowledge
from .defaults import FAILURE_QUEUE_RETENTION_DAYS


def failure_queue(scope: Construct, construct_id: str, *, holds: str) -> sqs.Queue:
    """Create the queue that keeps ``holds`` (e.g. "failed asynchronous invocations").

    SQS-managed server-side encryption, a TLS-only queue policy, 14 days' retention,
    retained when the stack is deleted.
    """
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(FAILURE_QUEUE_RETENTION_DAYS),
        removal_policy=RemovalPolicy.RETAIN,
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
