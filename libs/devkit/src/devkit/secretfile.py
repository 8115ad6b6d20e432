"""Secrets of the local stack: made at random once per checkout, kept in ``.local/secrets/``.

Nothing of the local stack has a working default: each checkout makes its own, and the scripts
that start the servers and the tools that talk to them read them from here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]


def local_dir() -> Path:
    return Path(os.environ.get("AAP_LOCAL_DIR", ROOT / ".local"))


def kept(name: str, make: Callable[[], dict[str, str]]) -> dict[str, str]:
    """The secrets ``.local/secrets/<name>.json`` holds; made by ``make`` the first time, and
    written readable by their owner only (mode 0600). A secret ``make`` names that the file
    lacks (a principal added since) is made and added; the others are kept."""
    path = local_dir() / "secrets" / f"{name}.json"
    found: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    made = make()
    if made.keys() <= found.keys():
        return found
    found = made | found
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps(found, indent=2))
    return found
