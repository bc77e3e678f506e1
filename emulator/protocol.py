"""The emulator's own HTTP paths, shared by the client (``emulator``) and the server
(``emulator.patches``): the one module both sides import, so neither imports the other."""

from __future__ import annotations

#: Path prefix under which the emulator serves APIs: ``/_emulator/execute-api/<api-id>/...``.
#: (A leading underscore cannot start a bucket name, so no S3 path-style request is taken.)
API_PATH_PREFIX = "/_emulator/execute-api/"
#: Read-only: the placeholders of each stack, ``{StackId: {LogicalId: ResourceType}}``.
NOT_EMULATED_PATH = "/_emulator/not-emulated"
#: Read-only: the permissions report (``emulator.patches.permissions_report``).
PERMISSIONS_PATH = "/_emulator/permissions"
#: POST ``{"offset_seconds": N}``: Cognito tokens are issued N seconds in the past.
COGNITO_CLOCK_PATH = "/_emulator/cognito/issue-clock"
#: What the permissions report says of each granted action.
GRANT_STATUSES = ("used", "explained", "unused")
