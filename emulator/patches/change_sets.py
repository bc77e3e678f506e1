"""Change sets as the CDK CLI uses them: ``cdk deploy``'s default method, and ``cdk diff``.

The CLI creates a change set (``CREATE`` for a new stack, ``UPDATE`` for a deployed one),
waits until it is ready, executes it, and follows the stack's events until it is complete
or rolled back. moto 5.2.5 fails that path in five places, fixed here:

- a ``TemplateURL`` in path style on an IP address (``http://127.0.0.1:PORT/bucket/key``, as
  the CLI builds it from ``AWS_ENDPOINT_URL``) was read as bucket ``127``;
- ``DescribeChangeSet`` of an unknown change set answered ``ValidationError``, where
  CloudFormation answers ``ChangeSetNotFound``, and ``DeleteChangeSet`` of one crashed,
  where CloudFormation succeeds (the CLI deletes a stale ``cdk-deploy-change-set`` before
  creating one);
- ``UsePreviousValue`` of a parameter that took its default (the CLI passes it for every
  parameter it does not set) failed: the previous value is now the one the stack was given,
  or none (the default applies again);
- executing a change set created its resources out of dependency order, with no rollback:
  a ``CREATE`` change set now creates the stack as ``CreateStack`` does (``stack_creation``:
  dependency order, resource events, rollback) and an ``UPDATE`` one updates it
  (``stack_updates``);
- the stack's outputs and exports were those of the previous template (the CLI then
  warned ``BootstrapVersionNotFound``); they are rebuilt from the executed template.

When a deployment fails, the CLI also asks CloudTrail (``LookupEvents``) who called what;
moto has no such action (its internal error made the CLI retry for ~25 s): the emulator
records no trail, and answers with no events.
"""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import urlparse


def template_location(template_url: str) -> tuple[str, str] | None:
    """``(bucket, key)`` of a path-style URL on an IP address or ``localhost``, else None."""
    parts = urlparse(template_url)
    host = parts.hostname or ""
    if host != "localhost" and not host.replace(".", "").isdigit():
        return None
    bucket, _, key = parts.path.lstrip("/").partition("/")
    return bucket, key


def install() -> None:
    from moto.cloudformation import models, responses

    _read_path_style_template_urls(models, responses)
    _answer_missing_change_sets(models.CloudFormationBackend)
    _keep_parameters_as_given(models.CloudFormationBackend, models.Stack)
    models.CloudFormationBackend.execute_change_set = _execute_change_set  # type: ignore[method-assign]
    _answer_trail_lookups()


def _answer_trail_lookups() -> None:
    import json

    from moto.cloudtrail.responses import CloudTrailResponse

    CloudTrailResponse.lookup_events = lambda self: json.dumps({"Events": []})  # type: ignore[attr-defined]


def _read_path_style_template_urls(models: Any, responses: Any) -> None:
    from moto.cloudformation import utils

    original = utils.get_stack_from_s3_url

    def get_stack_from_s3_url(template_url: str, account_id: str, partition: str) -> str:
        location = template_location(template_url)
        if location is None:
            return str(original(template_url, account_id, partition))
        from moto.s3.models import s3_backends

        key = s3_backends[account_id][partition].get_object(*location)
        return str(key.value.decode("utf-8")) if key is not None else ""

    models.get_stack_from_s3_url = get_stack_from_s3_url
    responses.get_stack_from_s3_url = get_stack_from_s3_url


def _answer_missing_change_sets(backend_class: Any) -> None:
    from moto.cloudformation.exceptions import CloudFormationError

    class ChangeSetNotFoundError(CloudFormationError):  # type: ignore[misc]
        code = "ChangeSetNotFound"

        def __init__(self, name: str) -> None:
            super().__init__(f"ChangeSet [{name}] does not exist")

    def find(self: Any, change_set_name: str) -> Any:
        change_set = self.change_sets.get(change_set_name) or next(
            (c for c in self.change_sets.values() if c.change_set_name == change_set_name), None
        )
        if change_set is None:
            raise ChangeSetNotFoundError(change_set_name)
        return change_set

    def delete_change_set(self: Any, change_set_name: str) -> None:
        # Deleting a change set that is not there succeeds (the CLI counts on it).
        with contextlib.suppress(ChangeSetNotFoundError):
            del self.change_sets[find(self, change_set_name).change_set_id]

    backend_class.describe_change_set = find
    backend_class.delete_change_set = delete_change_set


class _TemplateDefault(str):
    """The previous value of a parameter the stack was not given: its default applies."""


_TEMPLATE_DEFAULT = _TemplateDefault("")


class _PreviousValues(dict[str, Any]):
    """The values a stack was given, for ``UsePreviousValue``; a parameter it was not
    given has the previous value ``_TEMPLATE_DEFAULT``. (The resolved values would turn
    an SSM parameter's name into its value, read again as a name.)"""

    def __missing__(self, key: str) -> str:
        return _TEMPLATE_DEFAULT

    def __contains__(self, key: object) -> bool:
        return True


def _keep_parameters_as_given(backend_class: Any, stack_class: Any) -> None:
    stack_class.stack_parameters = property(lambda self: _PreviousValues(self.parameters))
    create_change_set = backend_class.create_change_set

    def create_change_set_with_defaults(self: Any, *args: Any, **kwargs: Any) -> Any:
        given = kwargs["parameters"]
        kwargs["parameters"] = {k: v for k, v in given.items() if v is not _TEMPLATE_DEFAULT}
        return create_change_set(self, *args, **kwargs)

    backend_class.create_change_set = create_change_set_with_defaults


def _execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
    from emulator.patches import stack_updates
    from emulator.patches.stack_events import set_status

    change_set = self.describe_change_set(change_set_name)
    stack = self.stacks[change_set.stack_id]
    change_set.execution_status = "EXECUTE_IN_PROGRESS"
    if change_set.change_set_type == "CREATE":
        stack.template = change_set.template
        stack._parse_template()
        stack.parameters = change_set.parameters
        stack.description = stack.template_dict.get("Description")
        stack.resource_map = stack._create_resource_map()
        stack.output_map = stack._create_output_map()
        self._validate_export_uniqueness(stack)
        set_status(stack, "CREATE_IN_PROGRESS", "User Initiated")
        stack.create_resources()
    else:
        stack_updates.update_stack(stack, change_set.template, change_set.parameters)
    _rebuild_exports(self, stack)
    change_set.execution_status = "EXECUTE_COMPLETE"
    # CloudFormation removes a stack's change sets once one of them is executed.
    for change_set_id in [i for i, c in self.change_sets.items() if c.stack_id == stack.stack_id]:
        del self.change_sets[change_set_id]


def _rebuild_exports(backend: Any, stack: Any) -> None:
    """The stack's exports are those of the template it now runs (none after a rollback of
    its creation)."""
    for name in [n for n, e in backend.exports.items() if e.exporting_stack_id == stack.stack_id]:
        del backend.exports[name]
    if not stack.status.startswith("ROLLBACK"):
        for export in stack.exports:
            backend.exports[export.name] = export
