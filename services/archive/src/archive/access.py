"""Who sees a record: out of the caller's scope a record answers exactly as if it did not exist
(404, the same words), so that ids cannot be probed; within it, an action the caller's roles and
grants do not allow is refused (403) with the permission service's reason."""

from __future__ import annotations

import uuid

from archive.domain.lifecycle import NotFound
from archive.ports import AccessDenied, Permissions
from servicekit.auth import Person


async def require_record(
    permissions: Permissions, user: Person, action: str, record_id: object, missing: str
) -> uuid.UUID | None:
    """The grant the action is allowed under (None: a role); ``missing``: what the answer
    says when the record does not exist."""
    try:
        return await permissions.require(user, action, record_id)
    except AccessDenied:
        if action != "read":
            try:
                await permissions.require(user, "read", record_id)
            except AccessDenied:
                raise NotFound(missing) from None
            raise  # sees it, may not do this to it
        raise NotFound(missing) from None
