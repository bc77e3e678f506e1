"""Every default this library sets, as data, with the reason beside it.

Constructs read these values; a prop given by the user always wins. Plain Python
values only, so reading this module costs no aws_cdk service import.
"""

from __future__ import annotations

from typing import Final

#: How long a log group keeps events (an aws_logs.RetentionDays member name). Never infinite:
#: retention is a cost and a privacy decision; one month covers most incident reviews.
LOG_RETENTION: Final = "ONE_MONTH"

# --- LambdaFunction ---------------------------------------------------------------
#: 256 MB rather than Lambda's 128 MB: Python handlers with Powertools start faster with
#: the extra CPU that comes with memory, and cdk-nag's Serverless pack flags the 128 default.
FUNCTION_MEMORY_MB: Final = 256
#: 10 s rather than Lambda's 3 s default (flagged by the Serverless pack); API Gateway's
#: integration limit is 29 s, so a request-serving function should answer well before that.
FUNCTION_TIMEOUT_SECONDS: Final = 10
FUNCTION_MEMORY_RANGE_MB: Final = (128, 10240)
FUNCTION_TIMEOUT_RANGE_SECONDS: Final = (1, 900)
#: Powertools for AWS Lambda (Python) v3 public layer, published by AWS in account
#: 017000801446 in every commercial region. Pinned so that a deploy is repeatable.
POWERTOOLS_LAYER_ACCOUNT: Final = "017000801446"
POWERTOOLS_LAYER_VERSION: Final = 36

# --- Queues used as failure destinations ----------------------------------------------
#: SQS's maximum, to leave the most time to inspect and redrive failed events.
FAILURE_QUEUE_RETENTION_DAYS: Final = 14

# --- StreamMapping ------------------------------------------------------------------
STREAM_BATCH_SIZE: Final = 10
STREAM_BATCH_SIZE_RANGE: Final = (1, 10000)
#: Bounded retries: with bisection, 3 retries isolate a poison record in a batch of 10
#: without blocking the shard for long (Solutions Constructs' default retries 500 times).
STREAM_RETRY_ATTEMPTS: Final = 3
STREAM_RETRY_ATTEMPTS_RANGE: Final = (0, 10000)
#: Records older than this go to the on-failure queue instead of being retried.
STREAM_MAX_RECORD_AGE_SECONDS: Final = 3600
STREAM_MAX_RECORD_AGE_RANGE_SECONDS: Final = (60, 604800)
STREAM_MAX_BATCHING_WINDOW_RANGE_SECONDS: Final = (0, 300)
STREAM_PARALLELIZATION_RANGE: Final = (1, 10)

# --- S3Trigger ----------------------------------------------------------------------
#: EventBridge retries delivery to the function this many times, over at most this age,
#: before the event goes to the trigger's dead-letter queue.
TRIGGER_RETRY_ATTEMPTS: Final = 8
TRIGGER_RETRY_ATTEMPTS_RANGE: Final = (0, 185)
TRIGGER_MAX_EVENT_AGE_SECONDS: Final = 3600
TRIGGER_MAX_EVENT_AGE_RANGE_SECONDS: Final = (60, 86400)

# --- RestApiEndpoint / HttpApiEndpoint ------------------------------------------------
#: Stage-wide throttling: steady requests per second, and burst.
API_THROTTLING_RATE_LIMIT: Final = 100
API_THROTTLING_BURST_LIMIT: Final = 50
API_METHODS: Final = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")
#: Throttling limits allowed on a stage: API Gateway's default
#: account quota per region, 10,000 requests per second with bursts of 5,000. A stage limit
#: above the account's quota never applies, so a larger value is refused as a likely typo.
API_THROTTLING_RATE_LIMIT_RANGE: Final = (1, 10_000)
API_THROTTLING_BURST_LIMIT_RANGE: Final = (1, 5_000)

#: Default stage name: the stage is part of every URL and of
#: every execute-api ARN, so it is a prop with a plain default rather than API Gateway's none.
REST_API_STAGE_NAME: Final = "prod"

#: Headers a browser may send on a CORS request: the ones a
#: SigV4-signed or token-bearing request needs, as aws_apigateway.Cors.DEFAULT_HEADERS.
CORS_ALLOWED_HEADERS: Final = (
    "Content-Type",
    "X-Amz-Date",
    "Authorization",
    "X-Api-Key",
    "X-Amz-Security-Token",
    "X-Amz-User-Agent",
)


# --- Workflow -----------------------------------------------------------------------
#: A standard workflow that runs longer than this is stopped and fails visibly.
WORKFLOW_TIMEOUT_SECONDS: Final = 900
WORKFLOW_TIMEOUT_RANGE_SECONDS: Final = (1, 365 * 86400)
EXPRESS_WORKFLOW_TIMEOUT_RANGE_SECONDS: Final = (1, 300)
#: What a publisher needs on the customer-managed key of an encrypted SNS topic: SNS calls
#: GenerateDataKey to encrypt the message and Decrypt to check the data key, both with the
#: publisher's permissions (SNS developer guide, key management). The guide writes the
#: first as ``kms:GenerateDataKey*``; GenerateDataKey is the one member SNS calls.
SNS_PUBLISH_KMS_ACTIONS: Final = ("kms:GenerateDataKey", "kms:Decrypt")

# --- S3Trigger buckets ----------------------------------------------------------------
#: Server access logs are kept this long in the trigger's log bucket, then expire.
ACCESS_LOG_EXPIRATION_DAYS: Final = 365
