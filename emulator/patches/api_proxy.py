"""What API Gateway's two front doors share: the request as received, route matching,
the Lambda proxy event's query and body, the target an integration URI names, and the
proxy response. ``http_api`` (v2) and ``rest_api`` (v1) both import it; neither imports
the other."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote

T = TypeVar("T")
_JSON = {"content-type": "application/json"}


@dataclass(frozen=True)
class Caller:
    """A principal whose SigV4 signature verified."""

    access_key: str
    account_id: str
    arn: str
    caller_id: str


@dataclass(frozen=True)
class Authorization:
    """What an authorizer passes on to the function (nothing for ``NONE`` routes)."""

    claims: dict[str, Any] = field(default_factory=dict)
    scopes: list[str] | None = None
    caller: Caller | None = None


class Refused(Exception):
    """The request is refused; ``response`` is API Gateway's answer."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(status, body)
        self.response = (
            status,
            {**_JSON, **(headers or {})},
            json.dumps(body, separators=(",", ":")).encode(),
        )


@dataclass(frozen=True)
class HttpRequest:
    """One request to an HTTP API, as the front door received it."""

    method: str
    path: str
    raw_query: str
    headers: dict[str, str]
    body: bytes
    source_ip: str
    #: The path and query exactly as sent (what a SigV4 signature covers).
    raw_uri: str = ""
    #: What the route's authorizer passes on to the function.
    authorization: Authorization = field(default_factory=Authorization)


def read_request(environ: dict[str, Any], path: str) -> HttpRequest:
    """The request as a WSGI server received it, with ``path`` relative to the API."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return HttpRequest(
        method=environ["REQUEST_METHOD"].upper(),
        path=path,
        raw_query=environ.get("QUERY_STRING", ""),
        headers=_headers(environ),
        body=environ["wsgi.input"].read(length) if length else b"",
        source_ip=environ.get("REMOTE_ADDR", "127.0.0.1"),
        raw_uri=environ.get("RAW_URI") or environ.get("REQUEST_URI") or "",
    )


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").lower(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["content-length"] = environ["CONTENT_LENGTH"]
    return headers


def best_match(
    candidates: Iterable[tuple[T, str, str]], method: str, path: str
) -> tuple[T, dict[str, str]] | None:
    """Among ``(item, method, path template)`` candidates, the one API Gateway would pick.

    Most specific wins: an exact path over one with ``{param}`` segments over a greedy
    ``{proxy+}``; longer literal paths first; a route for the method over ``ANY``.
    """
    best: tuple[tuple[int, int, int], T, dict[str, str]] | None = None
    for item, candidate_method, template in candidates:
        if candidate_method not in (method, "ANY"):
            continue
        parameters = _match_path(template, path)
        if parameters is None:
            continue
        greedy = any(name.endswith("+") for name in re.findall(r"{([^}]+)}", template))
        rank = (
            0 if greedy else 1,
            template.count("/") - template.count("{"),
            1 if candidate_method == method else 0,
        )
        if best is None or rank > best[0]:
            best = (rank, item, {k.rstrip("+"): v for k, v in parameters.items()})
    return None if best is None else (best[1], best[2])


def _match_path(template: str, path: str) -> dict[str, str] | None:
    pattern = ""
    for part in re.split(r"({[^}]+})", template):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            group = re.sub(r"\W", "_", name)
            pattern += f"(?P<{group}>.+)" if name.endswith("+") else f"(?P<{group}>[^/]+)"
        else:
            pattern += re.escape(part)
    found = re.fullmatch(pattern, path)
    if found is None:
        return None
    names = [part[1:-1] for part in re.findall(r"{[^}]+}", template)]
    return {name: unquote(found.group(re.sub(r"\W", "_", name))) for name in names}


def function_arn(integration_uri: str) -> str:
    """The Lambda function an integration URI names."""
    # The function ARN, or arn:aws:apigateway:<region>:lambda:path/.../functions/<arn>/invocations
    found = re.search(r"functions/(arn:[^/]+)/invocations", integration_uri)
    return found.group(1) if found else integration_uri


def query_parameters(raw_query: str) -> dict[str, list[str]]:
    """Every value of every query-string parameter, in order."""
    query: dict[str, list[str]] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        query.setdefault(key, []).append(value)
    return query


def request_body(request: HttpRequest) -> tuple[str | None, bool]:
    """The body as a proxy event carries it: text, or base64 when it is not UTF-8."""
    if not request.body:
        return None, False
    try:
        return request.body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(request.body).decode(), True


def proxy_response(payload: bytes) -> tuple[int, dict[str, str], bytes] | None:
    """Map a Lambda proxy result (``statusCode``, ``headers``, ``body``...) to HTTP; None if
    the result is not such a document."""
    try:
        result = json.loads(payload or b"null")
    except ValueError:
        return None
    if not (isinstance(result, dict) and "statusCode" in result):
        return None
    headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = ",".join(str(v) for v in values)
    if result.get("cookies"):
        headers["set-cookie"] = ", ".join(result["cookies"])
    body = result.get("body")
    if body is None:
        content = b""
    elif result.get("isBase64Encoded"):
        content = base64.b64decode(body)
    else:
        content = (body if isinstance(body, str) else json.dumps(body)).encode()
    headers.setdefault("content-type", "application/json")
    return int(result["statusCode"]), headers, content
