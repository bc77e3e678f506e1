"""Keep what file ingest rejects, for a person to inspect, fix and upload again.

Under ``QUARANTINE_PREFIX`` in the uploads bucket (encrypted as the bucket is):

- ``<prefix><key>/<etag>/rejected-elements.json``: the elements of a file that could not
  be stored, ``{"source": {...}, "rejected": [{"index", "reason", "element"}]}``, each
  element as its JSON text (what the uploader wrote, when the file did not decode whole);
- ``<prefix><key>/<etag>/file``: a copy of a file rejected whole, the reason in its
  ``rejected-reason`` metadata.

Names derive from the source object, so a retried attempt overwrites its own record. The
prefix must lie outside what the trigger matches, or a quarantined file would be ingested.
"""

from __future__ import annotations

import json
from typing import Any

from orders import aws, config

_MAX_METADATA_CHARS = 1024


def _object_key(prefix: str, source: dict[str, Any], name: str) -> str:
    return f"{prefix}{source['key']}/{source['etag'] or 'unknown'}/{name}"


def keep_rejected_elements(source: dict[str, Any], rejected: list[dict[str, Any]]) -> str | None:
    """Write the rejected elements of one file; the object's key, or ``None`` if off or none.

    Parameters
    ----------
    source : dict
        ``bucket``, ``key``, ``version_id``, ``etag`` of the file.
    rejected : list of dict
        ``{"index", "reason", "element"}`` for every rejected element.
    """
    prefix = config.quarantine_prefix()
    if prefix is None or not rejected:
        return None
    key = _object_key(prefix, source, "rejected-elements.json")
    body = json.dumps({"source": source, "rejected": rejected}, ensure_ascii=False)
    aws.client("s3").put_object(
        Bucket=source["bucket"],
        Key=key,
        Body=body.encode("utf-8"),
        ContentType="application/json",
    )
    return key


def keep_rejected_file(source: dict[str, Any], reason: str) -> str | None:
    """Copy a file rejected whole into the quarantine; the copy's key, or ``None`` if off."""
    prefix = config.quarantine_prefix()
    if prefix is None:
        return None
    key = _object_key(prefix, source, "file")
    copy_source = {"Bucket": source["bucket"], "Key": source["key"]}
    if source.get("version_id"):
        copy_source["VersionId"] = source["version_id"]
    aws.client("s3").copy_object(
        Bucket=source["bucket"],
        Key=key,
        CopySource=copy_source,
        MetadataDirective="REPLACE",
        # S3 metadata is ASCII: keep the reason readable, whatever it quotes.
        Metadata={
            "rejected-reason": reason.encode("ascii", "replace").decode()[:_MAX_METADATA_CHARS]
        },
    )
    return key
