"""Lambda versions and aliases from CloudFormation, and permissions granted on them.

moto 5.2.5 publishes a version for ``AWS::Lambda::Version`` but gives it neither a ``Ref``
nor a ``Version`` attribute, has no model for ``AWS::Lambda::Alias``, and files a
permission whose ``FunctionName`` is an alias ARN as one on the unqualified function.
This module closes those gaps with CloudFormation's return values:

- ``AWS::Lambda::Version``: ``Ref`` and ``GetAtt FunctionArn`` give the version's
  qualified ARN (``<function arn>:<n>``), ``GetAtt Version`` its number.
- ``AWS::Lambda::Alias``: a real alias in moto's Lambda backend (so ``GetAlias``,
  ``Invoke`` with ``Qualifier=<alias>`` or ``FunctionName=<name>:<alias>`` and an
  integration URI naming the alias ARN reach it); ``Ref`` and ``GetAtt AliasArn`` give
  the alias ARN.
- ``AWS::Lambda::Permission`` on a qualified ``FunctionName`` (``<arn>:<alias>``,
  ``<name>:<alias>``): the statement's ``Resource`` is the qualified ARN, as AWS keeps a
  policy per alias and version, so it covers invocations through that qualifier only.
- ``Invoke`` honours its ``Qualifier`` query parameter (moto reads a lowercase
  ``qualifier`` that no SDK sends, and runs ``$LATEST``).

A version is published by moto from the function as it is when the version is created
(after a stack update that changes the code, the new version runs the new code).
``RoutingConfig`` (weighted aliases) and ``ProvisionedConcurrencyConfig`` are kept by
moto and otherwise ignored: an alias always runs its ``FunctionVersion``.
"""

from __future__ import annotations

import json
from typing import Any

from emulator.patches.cloudformation_models import CreatedResource


def install() -> None:
    """Register the version and alias models and file qualified permissions under their ARN."""
    from moto.cloudformation.parsing import get_model_list, get_model_map

    _define_models()
    _file_permissions_under_their_qualifier()
    _read_the_invoke_qualifier()
    get_model_list.cache_clear()
    get_model_map.cache_clear()


def _backend(account_id: str, region: str) -> Any:
    from moto.awslambda.utils import get_backend

    return get_backend(account_id, region)


def unqualified_arn(function: Any) -> str:
    """The ARN of ``function`` without its version (moto's version objects carry one)."""
    arn = str(function.function_arn)
    return arn.rsplit(":", 1)[0] if arn.count(":") == 7 else arn


def _define_models() -> None:
    from moto.core.common_models import CloudFormationModel

    class LambdaVersionModel(CreatedResource, CloudFormationModel):  # type: ignore[misc]
        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Lambda::Version"

        @classmethod
        def create(
            cls, properties: dict[str, Any], resource_name: str, account_id: str, region_name: str
        ) -> LambdaVersionModel:
            backend = _backend(account_id, region_name)
            version = backend.publish_version(
                properties["FunctionName"], properties.get("Description", "")
            )
            arn = f"{unqualified_arn(version)}:{version.version}"
            return cls(arn, {"FunctionArn": arn, "Version": str(version.version)})

    class LambdaAliasModel(CreatedResource, CloudFormationModel):  # type: ignore[misc]
        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Lambda::Alias"

        @classmethod
        def create(
            cls, properties: dict[str, Any], resource_name: str, account_id: str, region_name: str
        ) -> LambdaAliasModel:
            alias = _backend(account_id, region_name).create_alias(
                name=properties["Name"],
                function_name=properties["FunctionName"],
                function_version=str(properties["FunctionVersion"]),
                description=properties.get("Description", ""),
                routing_config=properties.get("RoutingConfig"),
            )
            return cls(alias.arn, {"AliasArn": alias.arn})


def _file_permissions_under_their_qualifier() -> None:
    from moto.awslambda.models import Permission

    def create_from_cloudformation_json(
        cls: type[Permission],
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Permission:
        properties = dict(cloudformation_json["Properties"])
        target = properties["FunctionName"]
        function = _backend(account_id, region_name).get_function(target)
        qualifier = _qualifier(target)
        if qualifier:
            properties["Resource"] = f"{unqualified_arn(function)}:{qualifier}"
        function.policy.add_statement(raw=json.dumps(properties))
        return Permission(region=region_name)  # type: ignore[abstract]

    Permission.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[method-assign, assignment, arg-type]


def _qualifier(name_or_arn: str) -> str | None:
    """The version or alias a ``FunctionName`` names, if any (``$LATEST`` counts as none)."""
    parts = name_or_arn.split(":")
    qualifier = parts[7] if name_or_arn.startswith("arn:") and len(parts) == 8 else None
    if not name_or_arn.startswith("arn:") and len(parts) == 2:
        qualifier = parts[1]
    return None if qualifier in (None, "$LATEST") else qualifier


def _read_the_invoke_qualifier() -> None:
    from moto.awslambda.responses import LambdaResponse

    original = LambdaResponse.invoke

    def invoke(self: LambdaResponse) -> Any:
        if "Qualifier" in self.querystring:
            self.querystring.setdefault("qualifier", self.querystring["Qualifier"])
        return original(self)

    LambdaResponse.invoke = invoke  # type: ignore[method-assign]
