"""Audit's own database: the hashes of the Merkle tree's complete subtrees, so that appending
and proving need not read the whole log. Verify never trusts them: it recomputes from leaves."""

from __future__ import annotations

from collections.abc import Iterable

from contracts.merkle import Hash, Node
from servicekit.database import Pool


class TreeNodes:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def keep(self, nodes: Iterable[tuple[int, int, Hash]], rebuilding: bool = False) -> None:
        """Kept already (a retried append, a rebuild): the same hashes, left as they are."""
        rows = list(nodes)
        if not rows:
            return
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO tree_nodes (level, index, hash) "
                "SELECT * FROM unnest(%s::integer[], %s::bigint[], %s::bytea[]) "
                "ON CONFLICT DO NOTHING",
                ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]),
            )

    async def hashes(self, nodes: Iterable[Node]) -> dict[Node, Hash]:
        """A proof's few dozen nodes, in one query by primary key."""
        wanted = list(nodes)
        if not wanted:
            return {}
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT n.level, n.index, n.hash FROM tree_nodes n "
                "JOIN unnest(%s::integer[], %s::bigint[]) AS w(level, index) "
                "USING (level, index)",
                ([n[0] for n in wanted], [n[1] for n in wanted]),
            )
            return {(r["level"], r["index"]): bytes(r["hash"]) for r in await found.fetchall()}
