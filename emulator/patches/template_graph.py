"""The order CloudFormation works through a template's resources in: dependencies first.

A resource depends on every resource it names in ``DependsOn``, ``Ref``, ``Fn::GetAtt`` or a
``${Name}`` / ``${Name.Attribute}`` of ``Fn::Sub``. CloudFormation creates and updates a
resource only after everything it depends on, and deletes in the opposite order. moto 5.2.5
orders by ``DependsOn`` alone when it executes a change set, which is why a REST API's
deployment was created before the methods it depends on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_SUB_REFERENCE = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[^}]*)?\}")


def references(value: Any) -> set[str]:
    """Every logical id (or parameter, or pseudo parameter) ``value`` names."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            found |= _references_of(key, item)
    return found


def _references_of(key: str, item: Any) -> set[str]:
    if key == "Ref" and isinstance(item, str):
        return {item}
    if key == "Fn::GetAtt":
        target = item.split(".", 1)[0] if isinstance(item, str) else item[0]
        return {target} | references(item if isinstance(item, list) else [])
    if key == "Fn::Sub":
        text, variables = (item, {}) if isinstance(item, str) else (item[0], item[1])
        return (set(_SUB_REFERENCE.findall(text)) - set(variables)) | references(variables)
    return references(item)


def dependencies(resource_json: Mapping[str, Any], logical_ids: Iterable[str]) -> set[str]:
    """The resources among ``logical_ids`` that ``resource_json`` depends on."""
    depends_on = resource_json.get("DependsOn") or []
    named = {depends_on} if isinstance(depends_on, str) else set(depends_on)
    named |= references({k: v for k, v in resource_json.items() if k != "DependsOn"})
    return named & set(logical_ids)


def dependency_order(resources: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The logical ids of ``resources``, each after everything it depends on; otherwise in
    template order. A cycle (which CloudFormation refuses) is broken at the cycle's start."""
    ordered: list[str] = []
    placed: set[str] = set()
    visiting: set[str] = set()

    def place(logical_id: str) -> None:
        if logical_id in placed or logical_id in visiting:
            return
        visiting.add(logical_id)
        needed = dependencies(resources[logical_id], resources)
        for dependency in [other for other in resources if other in needed]:
            place(dependency)
        visiting.discard(logical_id)
        placed.add(logical_id)
        ordered.append(logical_id)

    for logical_id in resources:
        place(logical_id)
    return ordered


def dependents(resources: Mapping[str, Mapping[str, Any]], changed: set[str]) -> set[str]:
    """Every resource that depends, directly or through others, on one in ``changed``."""
    found: set[str] = set()
    frontier = set(changed)
    while frontier:
        frontier = {
            logical_id
            for logical_id, resource_json in resources.items()
            if logical_id not in found and dependencies(resource_json, frontier)
        }
        found |= frontier
    return found
