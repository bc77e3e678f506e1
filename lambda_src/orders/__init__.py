"""Order service functions for AWS Lambda.

Each entry point lives in its own module so a function imports only what it serves:

- ``orders.api.handler``: API Gateway REST (payload 1.0) and HTTP API (payload 2.0) requests.
- ``orders.ingest.handler``: EventBridge "Object Created" events for uploaded order files.
- ``orders.stream.handler``: DynamoDB Streams batches that start one workflow per new order.
- ``orders.workflow``: Step Functions tasks ``process_order``, ``ship_order``, ``backorder_item``.
"""
