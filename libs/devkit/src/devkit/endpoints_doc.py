"""Writes docs/endpoints.md from the endpoint table (``contracts.endpoints``); a test compares.

python -m devkit.endpoints_doc docs/endpoints.md        (make docs)
"""

from __future__ import annotations

import sys
from pathlib import Path

from contracts.endpoints import ENDPOINTS

ACCESS = {
    "token": "token",
    "open": "none",
    "signed": "the caller's signature",
}

INTRO = """\
# Endpoints: who may call what

*Generated from `libs/contracts/src/contracts/endpoints.py` by `make docs`; a test fails when this
file and the table differ, and another when a service has a route the table lacks.*

"token" means `Authorization: Bearer <access token>` of the platform's identity provider
(README, "Identity"): without one, or with one that fails validation, the answer is 401. Who
may then do what is the permission service's roles (`services/permission/.../domain/access.py`)
and grants, never the token's claims.

| service | method | path | authentication | who | scope |
|---|---|---|---|---|---|
"""


def render() -> str:
    rows = [
        f"| {e.service} | {e.method} | `{e.path}` | {ACCESS[e.access]} | {e.who} | {e.scope} |\n"
        for e in ENDPOINTS
    ]
    return INTRO + "".join(rows)


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/endpoints.md")
    path.write_text(render(), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
