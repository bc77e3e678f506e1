"""Order service functions for AWS Lambda.

Each entry point lives in its own module so a function imports only what it serves:

- ``orders.api.handler``: API Gateway REST (payload 1.0) and HTTP API (payload 2.0) requests.
- ``orders.ingest.handler``: EventBridge "Object Created" events for uploaded order files.
- ``orders.stream.handler``: DynamoDB Streams batches that start one workflow per new order.
- ``orders.workflow``: Step Functions tasks ``process_order``, ``ship_order``, ``backorder_item``.

What a cold start loads is kept to what a request uses: botocore clients (not boto3), created
with their botocore import on first use; order models checked in plain Python (no validation
library); no X-Ray SDK; the garbage collector paused until the first invocation ends
(:mod:`orders.coldstart`). The functions run with Lambda's active tracing, which records every
invocation (initialization and invocation times included); Powertools' Tracer would add
subsegments per AWS call at the price of loading the X-Ray SDK on every cold start.
"""

from orders import coldstart

coldstart.pause()
