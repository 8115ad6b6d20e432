"""HTTP: a year's completeness (齐全完整), and an archivist's waiver of its gaps."""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations at
# definition time.

from typing import Annotated, Any

from fastapi import APIRouter, Body

from archive.adapters.http import BodyYear, Year, _answer
from archive.completeness import CompletenessService
from servicekit.auth import Caller


def completeness_router(completeness: CompletenessService) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["archive"])

    @router.get("/completeness")
    async def year_completeness(caller: Caller, fonds_code: str, fiscal_year: Year) -> Any:
        """What the year lacks, per month of its books: gaps in each 凭证字's numbering (DA/T 70
        2-6), the ledgers, the monthly report, each bank account's statement; the annual report
        once the year is over. Each gap has an id; those waived say by whom and why."""
        found = await _answer(completeness.report(fonds_code, fiscal_year, caller))

        def gaps(month: int | None) -> list[dict[str, Any]]:
            return [
                {
                    "id": g.id,
                    "missing": g.missing,
                    "basis": g.basis,
                    "waived": g.id in found.waived,
                    "reason": found.waived.get(g.id),
                }
                for g in found.gaps
                if g.month == month
            ]

        return {
            "fonds_code": fonds_code,
            "fiscal_year": fiscal_year,
            "complete": found.complete,
            "open_gaps": len(found.open_gaps),
            "year": gaps(None),
            "months": [{"month": m, "gaps": gaps(m)} for m in found.months],
        }

    @router.post("/completeness/waivers", status_code=201)
    async def waive_gaps(
        caller: Caller,
        fonds_code: Annotated[str, Body()],
        fiscal_year: BodyYear,
        gaps: Annotated[list[str], Body(min_length=1, max_length=500)],
        reason: Annotated[str, Body(min_length=1, max_length=1000)],
    ) -> list[dict[str, Any]]:
        """An archivist accepts the year without these gaps (ids as GET /v1/completeness names
        them), for a reason: each a GapWaived fact, listed in the year's 移交清册."""
        done = await _answer(completeness.waive(fonds_code, fiscal_year, gaps, reason, caller))
        return [w.model_dump(mode="json") for w in done]

    return router
