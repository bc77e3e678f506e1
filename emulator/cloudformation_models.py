"""What every CloudFormation model of the glue keeps for one resource: its id and attributes."""

from __future__ import annotations

from typing import Any


class CreatedResource:
    """A resource the glue created for CloudFormation: its physical id (what ``Ref`` gives)
    and its ``GetAtt`` attributes.

    A mixin, listed before ``CloudFormationModel`` (moto finds models among the direct
    subclasses of that class): ``class ThingModel(CreatedResource, CloudFormationModel)``,
    which implements ``create`` from the resource's properties.
    """

    #: The property CloudFormation names the resource by; "" lets it generate the name.
    name_property = ""

    def __init__(self, physical_id: str, attributes: dict[str, str] | None = None) -> None:
        self._physical_id = physical_id
        self._attributes = attributes or {}

    @property
    def physical_resource_id(self) -> str:
        return self._physical_id

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self._attributes[attribute_name]

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.name_property

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CreatedResource:
        """moto's entry point: create the resource from its ``Properties``."""
        properties = dict(cloudformation_json.get("Properties") or {})
        return cls.create(properties, resource_name, account_id, region_name)

    @classmethod
    def create(
        cls, properties: dict[str, Any], resource_name: str, account_id: str, region_name: str
    ) -> CreatedResource:
        """Create the resource in moto's backend; return what CloudFormation keeps of it."""
        raise NotImplementedError(cls.__name__)
