"""Accept resource types moto cannot create, as named placeholders, and say which they were.

moto skips a resource type it has no CloudFormation model for; a ``Ref`` to it then
resolves to ``None`` (joined into strings as ``"None"``) and a ``GetAtt`` on it in
``Outputs`` makes CreateStack fail with an internal error. A CDK stack commonly holds a
few such types that a local run does not need to behave (CloudWatch alarms, API Gateway
account settings, queue policies). Types the glue models elsewhere (Cognito user pools and
app clients in ``cognito``, API authorizers in ``http_api``/``rest_api``) are real objects,
not placeholders. Instead, each becomes a placeholder: a physical id
(CloudFormation's generated name), ``GetAtt`` values derived from it, nothing behind
them. Every placeholder is recorded per stack, and ``deploy_stack`` reports them in
``DeployedStack.not_emulated``, so nobody mistakes a placeholder for a working resource.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

logger = logging.getLogger("emulator")


_lock = threading.Lock()
#: ``StackId -> {LogicalResourceId: ResourceType}`` of every placeholder created.
not_emulated: dict[str, dict[str, str]] = {}
#: Types that do nothing on AWS either (CDK's analytics metadata): placeholders, not listed.
NOTHING_TO_EMULATE = frozenset({"AWS::CDK::Metadata"})


def install() -> None:
    import moto.cloudformation.parsing as parsing
    from moto.core.common_models import CloudFormationModel

    class NotEmulatedResource(CloudFormationModel):  # type: ignore[misc]
        """A resource CloudFormation reports as created, with nothing behind it."""

        def __init__(self, physical_id: str, resource_type: str, region: str, account_id: str):
            self._physical_id = physical_id
            self._resource_type = resource_type
            self._region = region
            self._account_id = account_id

        @property
        def physical_resource_id(self) -> str:
            return self._physical_id

        @staticmethod
        def cloudformation_name_type() -> str:
            return ""

        @staticmethod
        def cloudformation_type() -> str:
            return "Emulator::NotEmulated"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return True

        def get_cfn_attribute(self, attribute_name: str) -> str:
            # IAM policies that name the resource need ARN-shaped values to validate.
            if attribute_name.endswith("Arn"):
                service = self._resource_type.split("::")[1].lower()
                suffix = "" if attribute_name == "Arn" else f"/{attribute_name[:-3]}"
                return (
                    f"arn:aws:{service}:{self._region}:{self._account_id}:"
                    f"{self._physical_id}{suffix}"
                )
            return f"{self._physical_id}-{attribute_name}"

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[override]
            cls,
            resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> NotEmulatedResource:
            resource_type = kwargs.get("ResourceType", "")
            # CloudFormation names most resources by their "<Type>Name" property, if set.
            name_property = resource_type.rsplit("::", 1)[-1] + "Name"
            physical_id = cloudformation_json.get("Properties", {}).get(name_property)
            if resource_type not in NOTHING_TO_EMULATE:
                with _lock:
                    not_emulated.setdefault(kwargs.get("StackId", ""), {})[
                        kwargs.get("LogicalId", resource_name)
                    ] = resource_type
                logger.warning(
                    "%s (%s) is not emulated: created as a placeholder",
                    kwargs.get("LogicalId"),
                    resource_type,
                )
            return cls(physical_id or resource_name, resource_type, region_name, account_id)

        @classmethod
        def delete_from_cloudformation_json(  # type: ignore[override]
            cls,
            resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
        ) -> None:
            return None

    original = parsing.resource_class_from_type

    def resource_class_from_type(resource_type: str) -> Any:
        if resource_type == "AWS::CloudFormation::CustomResource":
            return original("Custom::Resource")  # the same custom resource, by its other name
        if resource_type in parsing.NULL_MODELS or resource_type.startswith("Custom::"):
            return original(resource_type)
        if resource_type not in parsing.get_model_map():
            return NotEmulatedResource
        return original(resource_type)

    parsing.resource_class_from_type = resource_class_from_type
