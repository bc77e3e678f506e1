"""Answer an API request with the request context API Gateway built, for tests to read."""

import json


def handle(event, context):  # type: ignore[no-untyped-def]
    return {"statusCode": 200, "body": json.dumps(event["requestContext"])}
