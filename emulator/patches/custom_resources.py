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
  now the stack becomes ``CREATE_FAILED`` with the handler's reason on the resource.
- A handler that fails without responding at all (it raised, timed out, or cannot run
  here, like the Node.js handlers aws-cdk-lib bundles for ``autoDeleteObjects``) fails
  the stack with the function's error at once, where CloudFormation would wait an hour.
- A response that arrives while CreateStack is still creating the other resources made
  moto's readiness check create them too, from the response's thread: every resource not
  created yet was created twice (two HTTP APIs, two tables...). The check now only looks
  at resources already created and counts the others as not ready, and CreateStack checks
  once more when it has created everything, in case the response came first.

Not emulated: Update and Delete requests (stacks are only created), SNS-backed custom
resources, Lambda's asynchronous retries of the provider.
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
        from moto import settings
        from moto.awslambda.utils import get_backend
        from moto.cloudformation.models import cloudformation_backends

        properties = stringify_scalars(cloudformation_json["Properties"])
        function = get_backend(account_id, region_name).get_function(properties["ServiceToken"])
        stack = cloudformation_backends[account_id][region_name].get_stack(kwargs["StackId"])
        request_id = str(uuid.uuid4())
        resource = CustomModel(region_name, request_id, kwargs["LogicalId"], resource_name)  # type: ignore[abstract]
        stack.add_custom_resource(resource)
        host = f"{settings.moto_server_host()}:{settings.moto_server_port()}"
        response_url = f"{host}/cloudformation_{region_name}/cfnresponse?stack={stack.stack_id}"
        event = {
            "RequestType": "Create",
            "ServiceToken": properties["ServiceToken"],
            "ResponseURL": response_url,
            "StackId": stack.stack_id,
            "RequestId": request_id,
            "LogicalResourceId": kwargs["LogicalId"],
            "ResourceType": kwargs["ResourceType"],
            "ResourceProperties": properties,
        }
        threading.Thread(
            target=_invoke_provider, args=(function, event, stack, resource), daemon=True
        ).start()
        return resource

    CustomModel.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[method-assign,assignment,arg-type]
    _fail_stack_on_failed_response()
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
    if function_error and not resource.is_created() and stack.status == "CREATE_IN_PROGRESS":
        try:
            error = json.loads(payload)
            reason = f"{error.get('errorType')}: {error.get('errorMessage')}"
        except (ValueError, AttributeError):
            reason = payload.decode(errors="replace")
        _fail(
            stack,
            event["LogicalResourceId"],
            event["ResourceType"],
            f"the provider function failed without responding: {reason}",
        )


def _fail(stack: Any, logical_id: str, resource_type: str, reason: str | None) -> None:
    from moto.cloudformation.models import Event

    stack.events.append(
        Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=logical_id,
            physical_resource_id="",
            resource_type=resource_type,
            resource_status="CREATE_FAILED",
            resource_status_reason=reason,
            resource_properties=None,
        )
    )
    stack.status = "CREATE_FAILED"


def _fail_stack_on_failed_response() -> None:
    from moto.cloudformation.responses import CloudFormationResponse

    original = CloudFormationResponse.process_cfn_response

    def process_cfn_response(self: Any) -> Any:
        if self._get_param("Status") == "FAILED":
            stack = self.cloudformation_backend.get_stack(self._get_param("StackId"))
            _fail(
                stack,
                self._get_param("LogicalResourceId"),
                "AWS::CloudFormation::CustomResource",
                self._get_param("Reason"),
            )
        return original(self)

    CloudFormationResponse.process_cfn_response = process_cfn_response  # type: ignore[method-assign]
