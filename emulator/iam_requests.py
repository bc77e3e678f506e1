"""Name the IAM action and the real resource ARN(s) of an AWS API request.

``describe_request`` reads what a signed request carries (the SigV4 credential scope
names the service, ``X-Amz-Target``, the ``Action`` form field or the REST path names the
operation, the parameters name the resource) and returns an ``ApiCall``: the protocol
(for the error shape), the operation and the ``(action, resource)`` pairs IAM checks.
Resource ARNs are spelled as the service authorization reference gives them: a DynamoDB
table (``.../index/<name>`` with ``IndexName``), an SNS topic, an SQS queue, an S3 object
(``arn:aws:s3:::bucket/key``) or bucket, a state machine or execution, a Lambda function
(``:<qualifier>`` when given), a KMS key, a CloudWatch Logs group or stream. Services
without resource-level permissions (X-Ray, CloudWatch metrics) are checked on ``*``.

A request the mapper cannot name (an unknown REST path) yields the action
``<service>:<unmapped>`` on ``*``: no policy grants it, so an unmapped call made by a role
fails loudly rather than passing unchecked.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

#: Signing names whose IAM action prefix differs.
_ACTION_PREFIX = {"monitoring": "cloudwatch", "email": "ses"}
#: Services whose actions have no resource-level permissions.
UNSCOPED_SERVICES = frozenset({"xray", "cloudwatch"})
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d+/([^/]+)/([^/]+)/")
#: X-Ray's REST paths (the only REST service besides S3 and Lambda mapped here).
_XRAY_PATHS = {
    "/TraceSegments": "PutTraceSegments",
    "/TelemetryRecords": "PutTelemetryRecords",
    "/GetSamplingRules": "GetSamplingRules",
    "/SamplingTargets": "GetSamplingTargets",
}
_RPC_V2_PATH = re.compile(r"^/service/[^/]+/operation/(?P<operation>\w+)$")
_LAMBDA_PATH = re.compile(r"^/[\d-]+/functions/(?P<name>[^/]+)(?P<rest>/.*)?$")


@dataclass(frozen=True)
class ApiCall:
    """One request, as IAM sees it.

    Attributes
    ----------
    service:
        The SigV4 signing name (``dynamodb``, ``sns``, ``s3``...).
    protocol:
        ``json``, ``query``, ``rest-json`` or ``rest-xml``: how a denial must be answered.
    operation:
        The API operation (``PutItem``).
    checks:
        ``(action, resource)`` pairs that must all be allowed.
    """

    service: str
    protocol: str
    operation: str
    checks: tuple[tuple[str, str], ...]


def access_key_and_scope(environ: dict[str, Any]) -> tuple[str, str, str] | None:
    """``(access key id, region, service)`` of a SigV4-signed request, or None if unsigned."""
    header = environ.get("HTTP_AUTHORIZATION", "")
    found = _CREDENTIAL.search(header)
    if found is None:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        credential = (query.get("X-Amz-Credential") or [""])[0]
        found = _CREDENTIAL.search("Credential=" + credential)
    if found is None:
        return None
    return found.group(1), found.group(2), found.group(3)


def describe_request(
    environ: dict[str, Any], body: bytes, service: str, account: str, region: str
) -> ApiCall:
    """Name the operation and the ``(action, resource)`` checks of one request."""
    prefix = _ACTION_PREFIX.get(service, service)
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    rpc_v2 = _RPC_V2_PATH.match(environ.get("PATH_INFO", ""))
    if target:
        operation = target.rsplit(".", 1)[-1]
        params = _json(body)
        protocol = "json"
    elif service == "s3":
        return _s3_call(environ)
    elif service == "lambda":
        return _lambda_call(environ, account, region)
    elif rpc_v2:
        # Smithy RPC v2 (CBOR), CloudWatch's default protocol: the path names the operation.
        operation, params, protocol = rpc_v2.group("operation"), {}, "json"
    elif service == "xray":
        operation = _XRAY_PATHS.get(environ.get("PATH_INFO", ""), "")
        params, protocol = {}, "rest-json"
    else:
        form = {k: v[-1] for k, v in parse_qs(body.decode(errors="replace")).items()}
        operation = form.get("Action", "")
        params = form
        protocol = "query" if operation else "rest-json"
    action = f"{prefix}:{operation or 'unmapped'}"
    resources = _resources(prefix, operation, params, account, region)
    return ApiCall(service, protocol, operation, tuple((action, r) for r in resources))


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _resources(
    prefix: str, operation: str, params: dict[str, Any], account: str, region: str
) -> list[str]:
    if prefix in UNSCOPED_SERVICES or not operation:
        return ["*"]
    arn = f"arn:aws:{prefix}:{region}:{account}"
    if prefix == "dynamodb":
        return _dynamodb_resources(arn, params)
    if prefix == "sns":
        named = params.get("TopicArn") or params.get("TargetArn") or params.get("ResourceArn")
        return [str(named)] if named else ["*"]
    if prefix == "sqs":
        return [_queue_arn(params, account, region)]
    if prefix == "states":
        named = params.get("stateMachineArn") or params.get("executionArn")
        return [str(named)] if named else ["*"]
    if prefix == "kms":
        key = params.get("KeyId") or _key_of_ciphertext(params.get("CiphertextBlob"))
        return [str(key)] if key else ["*"]
    if prefix == "logs":
        return [_log_resource(arn, params)]
    if prefix == "events":
        buses = [e.get("EventBusName") or "default" for e in params.get("Entries") or []]
        buses += [params["EventBusName"]] if params.get("EventBusName") else []
        return [
            bus if bus.startswith("arn:") else f"{arn}:event-bus/{bus}"
            for bus in dict.fromkeys(buses)
        ] or ["*"]
    if prefix == "ssm":
        names = params.get("Names") or ([params["Name"]] if params.get("Name") else [])
        return [f"{arn}:parameter/{n.lstrip('/')}" for n in names] or ["*"]
    if prefix == "sts" and params.get("RoleArn"):
        return [str(params["RoleArn"])]
    return ["*"]


def _dynamodb_resources(arn: str, params: dict[str, Any]) -> list[str]:
    if "StreamArn" in params:
        return [str(params["StreamArn"])]
    tables = list((params.get("RequestItems") or {}).keys())
    for item in params.get("TransactItems") or []:
        for request in item.values():
            tables.append(request.get("TableName", ""))
    if params.get("TableName"):
        tables.append(params["TableName"])
    resources = []
    for table in dict.fromkeys(tables):
        table_arn = table if table.startswith("arn:") else f"{arn}:table/{table}"
        index = params.get("IndexName")
        resources.append(f"{table_arn}/index/{index}" if index else table_arn)
    return resources or ["*"]


def _key_of_ciphertext(blob: Any) -> str | None:
    """The key id a ciphertext names (``Decrypt`` takes no ``KeyId``): moto's ciphertext
    blobs start with the 36-character key id."""
    if not isinstance(blob, str):
        return None
    try:
        key_id = base64.b64decode(blob)[:36].decode("ascii")
    except ValueError:
        return None
    return key_id if re.fullmatch(r"[0-9a-f-]{36}", key_id) else None


def _queue_arn(params: dict[str, Any], account: str, region: str) -> str:
    url = str(params.get("QueueUrl") or "")
    if url:
        owner, name = url.rstrip("/").split("/")[-2:]
        return f"arn:aws:sqs:{region}:{owner}:{name}"
    if params.get("QueueName"):
        owner = str(params.get("QueueOwnerAWSAccountId") or account)
        return f"arn:aws:sqs:{region}:{owner}:{params['QueueName']}"
    return "*"


def _log_resource(arn: str, params: dict[str, Any]) -> str:
    group = params.get("logGroupName")
    if not group:
        return "*"
    stream = params.get("logStreamName")
    return f"{arn}:log-group:{group}" + (f":log-stream:{stream}" if stream else "")


def _s3_call(environ: dict[str, Any]) -> ApiCall:
    method = environ.get("REQUEST_METHOD", "GET")
    path = unquote(environ.get("PATH_INFO", "/"))
    bucket, _, key = path.lstrip("/").partition("/")
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if not bucket:
        return ApiCall("s3", "rest-xml", "ListBuckets", (("s3:ListAllMyBuckets", "*"),))
    if not key:
        operation = _bucket_operation(method, query)
        return ApiCall(
            "s3", "rest-xml", operation, ((f"s3:{operation}", f"arn:aws:s3:::{bucket}"),)
        )
    versioned = "versionId" in query
    operation = {
        "GET": "GetObjectVersion" if versioned else "GetObject",
        "HEAD": "GetObjectVersion" if versioned else "GetObject",
        "PUT": "PutObject",
        "POST": "PutObject",
        "DELETE": "DeleteObjectVersion" if versioned else "DeleteObject",
    }.get(method, "unmapped")
    return ApiCall(
        "s3", "rest-xml", operation, ((f"s3:{operation}", f"arn:aws:s3:::{bucket}/{key}"),)
    )


#: Bucket sub-resources (query keys) and their IAM action suffix, e.g. ``?notification``
#: -> s3:GetBucketNotification / s3:PutBucketNotification.
_BUCKET_SUBRESOURCES = {
    "notification": "BucketNotification",
    "versioning": "BucketVersioning",
    "policy": "BucketPolicy",
    "acl": "BucketAcl",
    "cors": "BucketCORS",
    "tagging": "BucketTagging",
    "encryption": "EncryptionConfiguration",
    "lifecycle": "LifecycleConfiguration",
    "logging": "BucketLogging",
    "location": "BucketLocation",
}


def _bucket_operation(method: str, query: dict[str, list[str]]) -> str:
    for key, suffix in _BUCKET_SUBRESOURCES.items():
        if key in query:
            if method == "DELETE":
                return f"Delete{suffix}"
            return f"{'Get' if method in ('GET', 'HEAD') else 'Put'}{suffix}"
    if "uploads" in query:
        return "ListBucketMultipartUploads"
    if "versions" in query:
        return "ListBucketVersions"
    return {
        "GET": "ListBucket",
        "HEAD": "ListBucket",
        "PUT": "CreateBucket",
        "DELETE": "DeleteBucket",
        "POST": "DeleteObject",  # POST ?delete: multi-object delete, authorized per object
    }.get(method, "unmapped")


def _lambda_call(environ: dict[str, Any], account: str, region: str) -> ApiCall:
    found = _LAMBDA_PATH.match(environ.get("PATH_INFO", ""))
    if found is None:
        return ApiCall("lambda", "rest-json", "unmapped", (("lambda:unmapped", "*"),))
    name = unquote(found.group("name"))
    qualifier = (parse_qs(environ.get("QUERY_STRING", "")).get("Qualifier") or [""])[0]
    if not name.startswith("arn:"):
        name = f"arn:aws:lambda:{region}:{account}:function:{name}"
    resource = f"{name}:{qualifier}" if qualifier and name.count(":") == 6 else name
    rest, method = found.group("rest") or "", environ.get("REQUEST_METHOD", "GET")
    operation = {
        ("POST", "/invocations"): "InvokeFunction",
        ("GET", ""): "GetFunction",
        ("GET", "/configuration"): "GetFunctionConfiguration",
    }.get((method, rest), "unmapped")
    return ApiCall("lambda", "rest-json", operation, ((f"lambda:{operation}", resource),))
