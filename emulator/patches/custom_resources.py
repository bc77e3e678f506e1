"""Run CloudFormation custom resources the way CloudFormation does, and fail fast when they fail.

moto creates a custom resource by invoking its ``ServiceToken`` function with a Create
request and waiting for the function to PUT ``SUCCESS`` to the response URL. Three gaps
are closed here, by replacing ``CustomModel.create_from_cloudformation_json`` (the moto
original, with these changes) and wrapping the response handler:

- CloudFormation converts every scalar property to a string before it invokes the
  provider (``true`` arrives as ``"true"``, ``10`` as ``"10"``); moto passed the template's
  JSON types. Handlers written for CloudFormation compare against strings (aws-cdk-lib's
  S3 bucket-notifications handler calls ``props["Managed"].lower()``).
- A ``FAILED`` response was ignored, leaving the stack ``CREATE_IN_PROGRESS`` for ever;
  now the resource is ``CREATE_FAILED`` with the handler's reason and the stack rolls
  back (``stack_events.fail_creation``); a ``SUCCESS`` response is the resource's
  ``CREATE_COMPLETE`` event, and the ``PhysicalResourceId`` it gives is the resource's.
- A handler that fails without responding at all (it raised, timed out, or cannot run
  here, like the Node.js handlers aws-cdk-lib bundles for ``autoDeleteObjects``) fails
  the resource with the function's error at once, where CloudFormation would wait an hour.
- moto never sends ``Update`` or ``Delete``: ``send_request`` does, for a stack update
  (``stack_updates``) or deletion (``stack_deletion``), and waits for the answer.
- A response that arrives while CreateStack is still creating the other resources made
  moto's readiness check create them too, from the response's thread: every resource not
  created yet was created twice (two HTTP APIs, two tables...). The check now only looks
  at resources already created and counts the others as not ready, and CreateStack checks
  once more when it has created everything, in case the response came first.

Not emulated: SNS-backed custom resources, Lambda's asynchronous retries of the provider.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any


def stringify_scalars(value: Any) -> Any:
    """Return ``value`` with every number and boolean turned into CloudFormation's string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return {key: stringify_scalars(item) for key, item in value.items()}
    if isinstance(value, list):
        return [stringify_scalars(item) for item in value]
    return value


def install() -> None:
    from moto.cloudformation.custom_model import CustomModel

    def create_from_cloudformation_json(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        from moto.awslambda.utils import get_backend
        from moto.cloudformation.models import cloudformation_backends

        properties = stringify_scalars(cloudformation_json["Properties"])
        function = get_backend(account_id, region_name).get_function(properties["ServiceToken"])
        stack = cloudformation_backends[account_id][region_name].get_stack(kwargs["StackId"])
        request_id = str(uuid.uuid4())
        resource = CustomModel(region_name, request_id, kwargs["LogicalId"], resource_name)  # type: ignore[abstract]
        stack.add_custom_resource(resource)
        event = {
            **_request(stack.stack_id, region_name, "Create", request_id, properties),
            "LogicalResourceId": kwargs["LogicalId"],
            "ResourceType": kwargs["ResourceType"],
        }
        threading.Thread(
            target=_invoke_provider, args=(function, event, stack, resource), daemon=True
        ).start()
        return resource

    CustomModel.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[method-assign,assignment,arg-type]
    _answer_responses()
    _check_readiness_without_creating()


def _check_readiness_without_creating() -> None:
    from moto.cloudformation import parsing
    from moto.cloudformation.models import Stack

    def creation_complete(self: Any) -> bool:
        for logical_id, resource_json in list(self._resource_json_map.items()):
            condition = resource_json.get("Condition")
            if condition and not self.lazy_condition_map[condition]:
                continue  # never created
            if parsing.resource_class_from_type(resource_json.get("Type", "")) is None:
                continue  # a type moto creates nothing for (a wait condition)
            instance = self._parsed_resources.get(logical_id)
            if instance is None or not instance.is_created():
                return False  # CreateStack has not reached it yet, or it is pending
        return True

    parsing.ResourceMap.creation_complete = creation_complete  # type: ignore[method-assign]

    create_resources = Stack.create_resources

    def create_resources_then_check(self: Any) -> None:
        create_resources(self)
        if self.status == "CREATE_IN_PROGRESS":
            self.verify_readiness()

    Stack.create_resources = create_resources_then_check  # type: ignore[method-assign]


def _invoke_provider(function: Any, event: dict[str, Any], stack: Any, resource: Any) -> None:
    from emulator.patches.lambda_runtime import invoke_in_server

    payload, function_error = invoke_in_server(function, event)
    if function_error and not resource.is_created():
        _fail_creation(
            stack,
            resource,
            event["LogicalResourceId"],
            event["ResourceType"],
            f"the provider function failed without responding: {_error_of(payload)}",
        )


def _error_of(payload: bytes) -> str:
    try:
        error = json.loads(payload)
        return f"{error.get('errorType')}: {error.get('errorMessage')}"
    except (ValueError, AttributeError):
        return payload.decode(errors="replace")


def _fail_creation(
    stack: Any, resource: Any, logical_id: str, resource_type: str, reason: str
) -> None:
    """The resource failed to create: its event, and the reason the stack's creation or
    update (``stack_creation``, ``stack_updates``, waiting for it) rolls back on."""
    from emulator.patches.stack_events import record

    if getattr(resource, "failure_reason", None):
        return  # reported already (the provider answered FAILED, then returned an error)
    resource.failure_reason = reason
    record(stack, logical_id, resource_type, "CREATE_FAILED", reason)


class CustomResourceFailed(Exception):
    """The provider answered ``FAILED``, or failed without answering."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


#: ``RequestId -> the provider's response`` of the Update and Delete requests in flight.
_responses: dict[str, dict[str, Any] | None] = {}
_responses_lock = threading.Lock()


def send_request(
    resource_map: Any,
    resource: Any,
    request_type: str,
    properties: dict[str, Any],
    old_properties: dict[str, Any] | None = None,
) -> None:
    """Send an ``Update`` or ``Delete`` request to a custom resource's provider and wait for
    its answer; on ``SUCCESS`` keep the new ``Data``.

    Raises
    ------
    CustomResourceFailed
        When the provider answers ``FAILED`` or fails without answering.
    """
    from moto.awslambda.utils import get_backend

    from emulator.patches.lambda_runtime import invoke_in_server

    properties = stringify_scalars(properties)
    region = resource_map._region_name
    function = get_backend(resource_map._account_id, region).get_function(
        properties["ServiceToken"]
    )
    request_id = str(uuid.uuid4())
    event = {
        **_request(resource_map.stack_id, region, request_type, request_id, properties),
        "LogicalResourceId": resource.logical_id,
        "PhysicalResourceId": resource.physical_resource_id,
        # Set at creation; a removed resource is no longer in the stack's template.
        "ResourceType": getattr(
            resource, "cf_resource_type", "AWS::CloudFormation::CustomResource"
        ),
    }
    if old_properties is not None:
        event["OldResourceProperties"] = stringify_scalars(old_properties)
    with _responses_lock:
        _responses[request_id] = None
    try:
        payload, function_error = invoke_in_server(function, event)
    finally:
        with _responses_lock:
            response = _responses.pop(request_id, None)
    if response is None:
        detail = _error_of(payload) if function_error else "it returned without responding"
        raise CustomResourceFailed(f"the provider function failed: {detail}")
    if response["Status"] != "SUCCESS":
        raise CustomResourceFailed(
            "Received response status [FAILED] from custom resource. Message returned: "
            f"{response.get('Reason')}"
        )
    resource.data = response.get("Data") or {}


def _request(
    stack_id: str, region: str, request_type: str, request_id: str, properties: dict[str, Any]
) -> dict[str, Any]:
    """What every request to a provider carries, whichever resource it is about."""
    from moto import settings

    host = f"{settings.moto_server_host()}:{settings.moto_server_port()}"
    return {
        "RequestType": request_type,
        "ServiceToken": properties["ServiceToken"],
        "ResponseURL": f"{host}/cloudformation_{region}/cfnresponse?stack={stack_id}",
        "StackId": stack_id,
        "RequestId": request_id,
        "ResourceProperties": properties,
    }


def _answer_responses() -> None:
    from moto.cloudformation.models import Stack
    from moto.cloudformation.responses import CloudFormationResponse

    original = CloudFormationResponse.process_cfn_response

    def process_cfn_response(self: Any) -> Any:
        request_id = self._get_param("RequestId")
        with _responses_lock:
            if request_id in _responses:
                _responses[request_id] = {
                    "Status": self._get_param("Status"),
                    "Reason": self._get_param("Reason"),
                    "Data": self._get_param("Data"),
                }
                return 200, {"status": 200}, json.dumps("{}")
        stack = self.cloudformation_backend.get_stack(self._get_param("StackId"))
        logical_id = self._get_param("LogicalResourceId")
        resource = stack.custom_resources.get(logical_id)
        if resource is None or resource.is_created():
            return 200, {"status": 200}, json.dumps("{}")
        resource_type = stack.resource_map._resource_json_map.get(logical_id, {}).get("Type", "")
        if self._get_param("Status") != "SUCCESS":
            _fail_creation(stack, resource, logical_id, resource_type, self._get_param("Reason"))
            return 200, {"status": 200}, json.dumps("{}")
        from emulator.patches.stack_events import resource_ready

        resource.resource_name = self._get_param("PhysicalResourceId") or resource.resource_name
        resource_ready(stack, logical_id, resource_type, resource)
        return original(self)  # keeps the Data; the stack is complete if nothing else waits

    CloudFormationResponse.process_cfn_response = process_cfn_response  # type: ignore[method-assign]
    verify_readiness = Stack.verify_readiness

    def verify_readiness_while_creating(self: Any) -> None:
        # A custom resource added by an update answers while the stack is UPDATE_IN_PROGRESS.
        if self.status == "CREATE_IN_PROGRESS":
            verify_readiness(self)

    Stack.verify_readiness = verify_readiness_while_creating  # type: ignore[method-assign]
