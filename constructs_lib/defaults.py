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
#: The newest Python runtime aws-cdk-lib knows (an aws_lambda.Runtime attribute name):
#: cdk-nag's L1 and LatestVersion rules want it, and it has the longest support ahead.
FUNCTION_RUNTIME: Final = "PYTHON_3_14"
#: Graviton (an aws_lambda.Architecture attribute name): about 20 % cheaper per GB-second
#: than x86_64, and Python handlers run unchanged on it.
FUNCTION_ARCHITECTURE: Final = "ARM_64"
#: X-Ray active tracing: a request can be followed across functions, queues and workflows.
FUNCTION_TRACING: Final = True
#: 256 MB rather than Lambda's 128 MB: Python handlers with Powertools start faster with
#: the extra CPU that comes with memory, and cdk-nag's Serverless pack flags the 128 default.
FUNCTION_MEMORY_MB: Final = 256
#: 10 s rather than Lambda's 3 s default (flagged by the Serverless pack); API Gateway's
#: integration limit is 29 s, so a request-serving function should answer well before that.
FUNCTION_TIMEOUT_SECONDS: Final = 10
FUNCTION_MEMORY_RANGE_MB: Final = (128, 10240)
FUNCTION_TIMEOUT_RANGE_SECONDS: Final = (1, 900)
#: Recursive loop detection (an aws_lambda.RecursiveLoop member name). TERMINATE is what
#: Lambda does when the setting is absent: after about 16 invocations of one request chain
#: through SQS, SNS or S3, Lambda stops the chain rather than bill a runaway loop. Written
#: into the template all the same, so that a reader of the function sees it and a stack
#: cannot drift to ALLOW unnoticed; ALLOW is for functions that recurse on purpose.
FUNCTION_RECURSIVE_LOOP: Final = "TERMINATE"
#: SnapStart off. For Python (3.12 and later) it is billed: a charge for caching each
#: published version's snapshot (by memory size, for as long as the version is active, at
#: least 3 hours) and a charge per restore. Worth it for a latency-sensitive function with
#: a slow initialization; a function whose import is already fast (this library's handlers
#: import lazily) pays for little gain. It works on published versions only.
FUNCTION_SNAP_START: Final = False
#: Powertools for AWS Lambda (Python) v3 public layer version in the commercial regions and
#: China. Pinned so that a deploy is repeatable; Powertools publishes each version number in
#: all of those regions at once.
POWERTOOLS_LAYER_VERSION: Final = 36
#: The layer version pinned in AWS GovCloud (US), where Powertools publishes later and fewer
#: versions: the newest its documentation (installation page, "AWS GovCloud regions") lists
#: there, for every supported Python version and both architectures.
POWERTOOLS_GOVCLOUD_LAYER_VERSION: Final = 27
#: The account that publishes the Powertools layer, per region, as Powertools'
#: documentation lists them (Lambda layers page): one account for the commercial regions,
#: another in China (cn-north-1 only), one per region in AWS GovCloud (US). A region missing
#: here is refused: the library does not spell out a layer ARN it cannot vouch for.
POWERTOOLS_LAYER_COMMERCIAL_ACCOUNT: Final = "017000801446"
POWERTOOLS_LAYER_PUBLISHERS: Final = {
    **{
        region: POWERTOOLS_LAYER_COMMERCIAL_ACCOUNT
        for region in (
            "af-south-1",
            "ap-east-1",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
            "ap-southeast-5",
            "ap-southeast-7",
            "ca-central-1",
            "ca-west-1",
            "eu-central-1",
            "eu-central-2",
            "eu-north-1",
            "eu-south-1",
            "eu-south-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "il-central-1",
            "me-central-1",
            "me-south-1",
            "mx-central-1",
            "sa-east-1",
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
        )
    },
    "cn-north-1": "498634801083",
    "us-gov-east-1": "165087284144",
    "us-gov-west-1": "165093116878",
}
#: The layer version pinned in each region of :data:`POWERTOOLS_LAYER_PUBLISHERS`.
POWERTOOLS_LAYER_VERSIONS: Final = {
    region: POWERTOOLS_GOVCLOUD_LAYER_VERSION
    if region.startswith("us-gov-")
    else POWERTOOLS_LAYER_VERSION
    for region in POWERTOOLS_LAYER_PUBLISHERS
}

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
#: One batch per shard at a time keeps the records of each key in order.
STREAM_PARALLELIZATION_FACTOR: Final = 1
#: Read the stream from its oldest record (an aws_lambda.StartingPosition member name), so
#: that no record written before the mapping is enabled is skipped.
STREAM_STARTING_POSITION: Final = "TRIM_HORIZON"
#: Split a failing batch in two until the failing record is isolated.
STREAM_BISECT_BATCH_ON_ERROR: Final = True

# --- DynamoTable --------------------------------------------------------------------
#: Continuous backups for the last 35 days: a bad write can be undone to the second.
TABLE_POINT_IN_TIME_RECOVERY: Final = True

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
#: X-Ray tracing of every execution, like the functions it calls.
WORKFLOW_TRACING: Final = True
#: A standard workflow that runs longer than this is stopped and fails visibly.
WORKFLOW_TIMEOUT_SECONDS: Final = 900
WORKFLOW_TIMEOUT_RANGE_SECONDS: Final = (1, 365 * 86400)
#: An express workflow runs for at most 5 minutes (a Step Functions limit): its default is
#: that limit, so that default props are valid for both workflow types.
EXPRESS_WORKFLOW_TIMEOUT_SECONDS: Final = 300
EXPRESS_WORKFLOW_TIMEOUT_RANGE_SECONDS: Final = (1, 300)
#: What a publisher needs on the customer-managed key of an encrypted SNS topic: SNS calls
#: GenerateDataKey to encrypt the message and Decrypt to check the data key, both with the
#: publisher's permissions (SNS developer guide, key management). The guide writes the
#: first as ``kms:GenerateDataKey*``; GenerateDataKey is the one member SNS calls.
SNS_PUBLISH_KMS_ACTIONS: Final = ("kms:GenerateDataKey", "kms:Decrypt")

# --- S3Trigger buckets ----------------------------------------------------------------
#: Server access logs are kept this long in the trigger's log bucket, then expire.
ACCESS_LOG_EXPIRATION_DAYS: Final = 365


# --- Alarms (every construct's ``alarms`` prop) ------------------------------------------
#: Alarms watch one-minute periods: the finest period the AWS/Lambda, AWS/ApiGateway,
#: AWS/DynamoDB, AWS/States, AWS/Events and AWS/SQS metrics are published at.
ALARM_PERIOD_SECONDS: Final = 60
#: A *sustained* condition (an error rate, throttling, slow responses, an old stream
#: iterator) alarms when 3 of the last 5 periods breach: one slow cold start, one throttled
#: burst or one failed request in a quiet minute is a blip that pages nobody, while a real
#: problem still alarms within 3 to 5 minutes. 3-of-5 rather than 3-of-3 so that a problem
#: that flickers (breach, recover, breach) is not hidden.
SUSTAINED_EVALUATION_PERIODS: Final = 5
SUSTAINED_DATAPOINTS_TO_ALARM: Final = 3
#: *Lost work* (a message in a dead-letter queue, an event EventBridge gave up on, a failed
#: workflow execution, an event Lambda could not even dead-letter) alarms on the first
#: period: each one is a unit of work that no retry will redo, so waiting only delays the
#: redrive. It is not a blip: the retries that absorb blips have already run out.
LOST_WORK_EVALUATION_PERIODS: Final = 1
LOST_WORK_DATAPOINTS_TO_ALARM: Final = 1
#: Missing data never raises an alarm: Lambda, API Gateway and SQS publish nothing while a
#: system is quiet (and SQS stops after six idle hours), and a quiet system is healthy.
ALARM_TREAT_MISSING_DATA: Final = "NOT_BREACHING"

#: LambdaFunction: percent of invocations that fail (Errors / Invocations, metric math).
FUNCTION_ERROR_RATE_PERCENT: Final = 5
#: LambdaFunction: throttled invocations per minute.
FUNCTION_THROTTLES: Final = 1
#: LambdaFunction: p99 duration at this percent of the function's timeout, the point where
#: the slowest requests are about to be cut off.
FUNCTION_DURATION_PERCENT_OF_TIMEOUT: Final = 90
#: StreamMapping: the age of the oldest record read, as a percent of the mapping's maximum
#: record age: past half of it, records are at risk of being sent to the on-failure queue
#: unprocessed, and there is still time to act.
STREAM_ITERATOR_AGE_PERCENT_OF_MAX_RECORD_AGE: Final = 50
#: RestApiEndpoint / HttpApiEndpoint: percent of requests answered with a 5xx.
API_SERVER_ERROR_RATE_PERCENT: Final = 5
#: RestApiEndpoint / HttpApiEndpoint: p99 latency in milliseconds. The endpoints have no
#: timeout of their own to derive it from; 3 s is a tenth of API Gateway's 29 s integration
#: limit and well past what a person waits for.
API_LATENCY_P99_MS: Final = 3000
#: DynamoTable: throttled requests / system errors per minute, summed over these
#: operations. A CloudWatch alarm reads at most 10 metrics, so the sum covers the ten item
#: and query operations; PartiQL statements and stream reads (GetRecords) are left out.
TABLE_THROTTLED_REQUESTS: Final = 1
TABLE_SYSTEM_ERRORS: Final = 1
TABLE_ALARM_OPERATIONS: Final = (
    "GetItem",
    "BatchGetItem",
    "Query",
    "Scan",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
)
#: Workflow: throttled state transitions per minute (sustained, 3 of 5).
WORKFLOW_EXECUTIONS_THROTTLED: Final = 1

# --- Canary and linear releases (LambdaFunction ``deployment``) ---------------------------
#: The traffic shift a release uses unless told otherwise: 10 % of requests for 5 minutes,
#: long enough for the 3-of-5 alarms to judge the new version, then all of them.
DEPLOYMENT_TRAFFIC_SHIFT: Final = "CANARY_10_PERCENT_5_MINUTES"
DEPLOYMENT_TRAFFIC_SHIFTS: Final = (
    "CANARY_10_PERCENT_5_MINUTES",
    "CANARY_10_PERCENT_10_MINUTES",
    "CANARY_10_PERCENT_15_MINUTES",
    "CANARY_10_PERCENT_30_MINUTES",
    "LINEAR_10_PERCENT_EVERY_1_MINUTE",
    "LINEAR_10_PERCENT_EVERY_2_MINUTES",
    "LINEAR_10_PERCENT_EVERY_3_MINUTES",
    "LINEAR_10_PERCENT_EVERY_10_MINUTES",
    "ALL_AT_ONCE",
)
