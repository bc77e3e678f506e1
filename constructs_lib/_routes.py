"""The one route-key parser, and the prop checks both API endpoints share.

A route key is ``"METHOD /path"``: ``"POST /orders"``, ``"GET /orders/{order_id}"``.
Both :class:`~constructs_lib.rest_api.RestApiEndpoint` and
:class:`~constructs_lib.http_api.HttpApiEndpoint` read their ``routes`` prop here, so a key
that one accepts the other accepts too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from aws_cdk import Token
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from . import defaults
from ._interfaces import library_construct
from ._validation import check_int_range, fail

if TYPE_CHECKING:
    from .function import LambdaFunction

_LITERAL_SEGMENT = re.compile(r"[A-Za-z0-9._~-]+")
_PARAMETER_SEGMENT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}")
_ALLOWED_PATH = (
    "a path starting with '/', with no empty segment, whose segments are literals "
    "(letters, digits, '.', '_', '~', '-') or path parameters '{name}', and at most one "
    "greedy parameter '{name+}' as the last segment, e.g. 'GET /orders/{order_id}'"
)


@dataclass(frozen=True)
class Route:
    """One parsed route: an HTTP method, a resource path and the function that serves it."""

    method: str
    path: str
    target: lambda_.IFunction

    @property
    def key(self) -> str:
        """The normalised route key, ``"GET /orders/{order_id}"``."""
        return f"{self.method} {self.path}"

    @property
    def parameters(self) -> list[str]:
        """Path parameter names in order: ``["order_id"]``; ``["proxy"]`` for ``{proxy+}``."""
        names = []
        for segment in self.path.split("/"):
            match = _PARAMETER_SEGMENT.fullmatch(segment)
            if match:
                names.append(match.group(1))
        return names

    @property
    def arn_method(self) -> str:
        """The method as it appears in an execute-api ARN: ``ANY`` matches every method."""
        return "*" if self.method == "ANY" else self.method

    @property
    def arn_path(self) -> str:
        """The path as it appears in an execute-api ARN: each parameter matches any value."""
        return "/".join(
            "*" if _PARAMETER_SEGMENT.fullmatch(segment) else segment
            for segment in self.path.split("/")
        )


def parse_routes(
    scope: Construct, prop_name: str, routes: Mapping[str, lambda_.IFunction | LambdaFunction]
) -> list[Route]:
    """Parse ``{"METHOD /path": function}`` into routes, or raise ConstructPropsError.

    Refused, each with the key named: an empty mapping, a key that is not ``METHOD /path``,
    a method outside :data:`constructs_lib.defaults.API_METHODS` (uppercase), a malformed
    path, the same method and path twice (also when written with different spacing), two
    different parameter names at the same place of sibling paths (API Gateway cannot route
    ``/orders/{id}`` beside ``/orders/{order_id}``), and a target that is not an
    ``aws_lambda.IFunction`` (a Function, a Version, an Alias or an imported function) or a
    :class:`LambdaFunction` (which stands for its ``invoke_target``).
    """
    if not isinstance(routes, Mapping) or not routes:
        raise fail(
            scope,
            prop_name,
            routes,
            "allowed: a non-empty dict of 'METHOD /path' to aws_lambda.IFunction, "
            "e.g. {'POST /orders': function}",
        )
    parsed: list[Route] = []
    seen: dict[tuple[str, str], str] = {}
    for key, target in routes.items():
        method, path = _split_key(scope, prop_name, key)
        _check_path(scope, prop_name, key, path)
        function = _target(scope, prop_name, key, target)
        earlier = seen.get((method, path))
        if earlier is not None:
            raise fail(
                scope,
                prop_name,
                key,
                f"duplicate route: {earlier!r} already routes {method} {path}; "
                "allowed: each method and path once",
            )
        seen[(method, path)] = key
        parsed.append(Route(method, path, function))
    _check_parameter_names_agree(scope, prop_name, parsed)
    return parsed


def check_access(
    scope: Construct, *, authorizer: object | None, public: bool, public_reason: str | None
) -> None:
    """Raise unless the access props describe exactly one way in.

    ``public=True`` needs a non-empty ``public_reason`` and no ``authorizer``; a
    ``public_reason`` without ``public=True`` is refused too, as it would suggest a public
    API that is not one.
    """
    if public and authorizer is not None:
        raise fail(
            scope,
            "public",
            True,
            "allowed only without an authorizer: a public API lets anonymous callers in, "
            "an authorizer keeps them out; choose one",
        )
    has_reason = isinstance(public_reason, str) and bool(public_reason.strip())
    if public and not has_reason:
        raise fail(
            scope,
            "public_reason",
            public_reason,
            "allowed: a non-empty explanation of why anonymous access is intended; it is "
            "recorded as the acknowledgment of the unauthenticated-API findings",
        )
    if not public and public_reason is not None:
        raise fail(
            scope,
            "public_reason",
            public_reason,
            "allowed only together with public=True",
        )


def check_authorization_scopes(
    scope: Construct, scopes: Sequence[str] | None, authorizer: object | None
) -> None:
    """Raise unless ``scopes`` is None, or a non-empty list of scopes given with an authorizer."""
    if scopes is None:
        return
    if authorizer is None:
        raise fail(
            scope,
            "authorization_scopes",
            scopes,
            "allowed only together with an authorizer that checks OAuth scopes (a Cognito "
            "user pool or JWT authorizer)",
        )
    if (
        isinstance(scopes, str)
        or not isinstance(scopes, Sequence)
        or not scopes
        or any(not isinstance(s, str) or not s.strip() for s in scopes)
    ):
        raise fail(
            scope,
            "authorization_scopes",
            scopes,
            "allowed: a non-empty list of scope names, e.g. ['orders/read']",
        )


def check_no_options_route(scope: Construct, routes: Sequence[Route]) -> None:
    """Raise if a route is ``OPTIONS``: with CORS on, preflight requests are answered for it."""
    for route in routes:
        if route.method == "OPTIONS":
            raise fail(
                scope,
                "routes",
                route.key,
                "allowed: no OPTIONS route together with cors_allowed_origins, which answers "
                "OPTIONS (the CORS preflight) on every route's path",
            )


def check_throttling(scope: Construct, rate_limit: int, burst_limit: int) -> None:
    """Raise unless both stage throttling limits are within API Gateway's account quota."""
    check_int_range(
        scope,
        "throttling_rate_limit",
        rate_limit,
        *defaults.API_THROTTLING_RATE_LIMIT_RANGE,
        "requests per second",
    )
    check_int_range(
        scope,
        "throttling_burst_limit",
        burst_limit,
        *defaults.API_THROTTLING_BURST_LIMIT_RANGE,
        "requests",
    )


def check_cors_origins(scope: Construct, origins: Sequence[str] | None) -> None:
    """Raise unless ``origins`` is None or a non-empty list of origins (``"*"`` alone)."""
    if origins is None:
        return
    allowed = (
        "allowed: a non-empty list of origins such as 'https://app.example.com', or ['*'] alone"
    )
    if isinstance(origins, str) or not isinstance(origins, Sequence) or not origins:
        raise fail(scope, "cors_allowed_origins", origins, allowed)
    for origin in origins:
        if Token.is_unresolved(origin):
            continue
        if not isinstance(origin, str) or not origin.strip():
            raise fail(scope, "cors_allowed_origins", origin, allowed)
    if "*" in origins and len(origins) > 1:
        raise fail(scope, "cors_allowed_origins", list(origins), allowed)


def _split_key(scope: Construct, prop_name: str, key: object) -> tuple[str, str]:
    if not isinstance(key, str):
        raise fail(scope, prop_name, key, "allowed: route keys 'METHOD /path'")
    parts = key.split()
    if len(parts) != 2:
        raise fail(
            scope,
            prop_name,
            key,
            "allowed: 'METHOD /path' (a method, one space, a path), e.g. 'POST /orders'",
        )
    method, path = parts
    if method not in defaults.API_METHODS:
        raise fail(
            scope,
            prop_name,
            key,
            f"unknown method {method!r}; allowed (uppercase): " + ", ".join(defaults.API_METHODS),
        )
    return method, path


def _check_path(scope: Construct, prop_name: str, key: str, path: str) -> None:
    if path == "/":
        return
    if not path.startswith("/"):
        raise fail(scope, prop_name, key, f"path {path!r} is invalid; allowed: {_ALLOWED_PATH}")
    segments = path[1:].split("/")
    names: set[str] = set()
    for position, segment in enumerate(segments):
        if _LITERAL_SEGMENT.fullmatch(segment):
            continue
        match = _PARAMETER_SEGMENT.fullmatch(segment)
        is_last = position == len(segments) - 1
        if match is None or (match.group(2) and not is_last) or match.group(1) in names:
            raise fail(scope, prop_name, key, f"path {path!r} is invalid; allowed: {_ALLOWED_PATH}")
        names.add(match.group(1))


def _target(scope: Construct, prop_name: str, key: str, target: object) -> lambda_.IFunction:
    wrapper = library_construct(target, "function", "LambdaFunction")
    if wrapper is not None:
        return cast(lambda_.IFunction, wrapper.invoke_target)
    # Function, Version, Alias and imported functions all derive from FunctionBase; an
    # IFunction implemented in Python declares the interface through jsii instead.
    if isinstance(target, lambda_.FunctionBase) or lambda_.IFunction in getattr(
        type(target), "__jsii_ifaces__", ()
    ):
        return cast(lambda_.IFunction, target)
    raise fail(
        scope,
        prop_name,
        f"{key}: {type(target).__name__}",
        "allowed: an aws_lambda.IFunction as the target of each route (a Function, a "
        "Version, an Alias or Function.from_function_attributes(...)) or a LambdaFunction",
    )


def _check_parameter_names_agree(scope: Construct, prop_name: str, routes: list[Route]) -> None:
    # API Gateway keeps one resource per path prefix: '/orders/{id}' and '/orders/{order_id}'
    # would be two variables at the same place, which it refuses at deploy time.
    variable_at: dict[str, tuple[str, str]] = {}
    for route in routes:
        prefix = ""
        for segment in route.path.strip("/").split("/"):
            if _PARAMETER_SEGMENT.fullmatch(segment):
                other = variable_at.setdefault(prefix, (segment, route.key))
                if other[0] != segment:
                    raise fail(
                        scope,
                        prop_name,
                        route.key,
                        f"path parameter {segment} conflicts with {other[0]} of {other[1]!r} "
                        "at the same place; allowed: one parameter name per path position",
                    )
            prefix = f"{prefix}/{segment}"
