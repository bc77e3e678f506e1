"""Read an uploaded order file element by element, so one bad element costs only itself.

A file is a JSON list. :func:`elements` finds where each top-level element starts and ends
with one regular expression over strings and brackets (no recursion, so no nesting depth is
too deep to scan) and decodes each element on its own: a number of thousands of digits, a
value nested too deeply for the JSON decoder or a syntax error inside one element rejects
that element, with its index and reason, and the others are read.

Only a file whose list itself is broken (not a list, an unterminated string or list, text
after the list) is rejected whole.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# A whole JSON string (escapes included), a lone quote (a string that never ends), or a
# character that opens, closes or separates values. Everything else (numbers, literals,
# white space) is skipped by the search.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|["\[\]{},]', re.DOTALL)
_REASON_LENGTH = 200


class FileRejectedError(Exception):
    """The file cannot yield any order (too large, not JSON, not a list, gone)."""


@dataclass(frozen=True)
class Element:
    """One top-level element of the list: its index, its value or why not, and its text
    when the file had to be scanned (see :attr:`source`)."""

    index: int
    text: str | None
    value: Any = None
    error: str | None = None

    @property
    def source(self) -> str:
        """The element as JSON text: as written in the file, or re-encoded when decoded whole."""
        return self.text if self.text is not None else json.dumps(self.value, ensure_ascii=False)


def elements(text: str) -> Iterator[Element]:
    """Yield each element of the JSON list in ``text``, decoded or with its decoding error.

    A file that decodes whole (the usual case) is read by the JSON decoder alone; only a
    file that does not is scanned.

    Raises
    ------
    FileRejectedError
        If ``text`` is not a JSON list whose elements can be told apart.
    """
    try:
        whole = json.loads(text)
    except (ValueError, RecursionError):
        yield from _scanned(text)
        return
    if not isinstance(whole, list):
        raise FileRejectedError("the file must hold a JSON list of orders")
    for index, value in enumerate(whole):
        yield Element(index, None, value)


def _scanned(text: str) -> Iterator[Element]:
    start = _list_start(text)
    depth, index, element_start = 1, 0, start
    for token in _TOKEN.finditer(text, start):
        mark = token.group()
        if mark == '"':
            raise FileRejectedError("the file is not valid JSON: a string never ends")
        if mark[0] == '"':
            continue
        if mark in "[{":
            depth += 1
        elif mark in "]}":
            depth -= 1
            if depth == 0:
                yield from _last(text, element_start, token.start(), index)
                if text[token.end() :].strip():
                    raise FileRejectedError("the file is not valid JSON: text after the list")
                return
        elif depth == 1:  # a comma between two elements
            yield _decoded(index, text[element_start : token.start()])
            index, element_start = index + 1, token.end()
    raise FileRejectedError("the file is not valid JSON: the list never ends")


def _list_start(text: str) -> int:
    stripped = text.lstrip()
    if not stripped:
        raise FileRejectedError("the file is not valid JSON: it is empty")
    if stripped[0] != "[":  # and it did not decode: not JSON at all
        raise FileRejectedError("the file is not valid JSON")
    return len(text) - len(stripped) + 1


def _last(text: str, start: int, end: int, index: int) -> Iterator[Element]:
    # "[]" has no element; "[1, ]" has an empty last one, which is an error of its own.
    if index > 0 or text[start:end].strip():
        yield _decoded(index, text[start:end])


def _decoded(index: int, text: str) -> Element:
    try:
        return Element(index, text, json.loads(text))
    except RecursionError:
        return Element(index, text, error="the element is nested too deeply to decode")
    except ValueError as error:  # syntax, or an integer over Python's digit limit
        reason = str(error).split("\n", 1)[0][:_REASON_LENGTH]
        return Element(index, text, error=f"the element is not valid JSON: {reason}")
