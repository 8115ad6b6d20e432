"""Who may bring vouchers in, and into which fonds (全宗): an accountant (会计人员) or the ERP
integration, each within the fonds their roles are held in (contracts.roles, Action.UPLOAD)."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.roles import ALL_FONDS


class OutOfScope(Exception):
    """A voucher of a fonds the uploader holds no uploading role in (403); nothing is kept."""


@dataclass(frozen=True)
class Uploader:
    name: str
    fonds: frozenset[str]  # where their roles allow uploading; "*": every fonds

    def require(self, fonds_code: str) -> None:
        if ALL_FONDS not in self.fonds and fonds_code not in self.fonds:
            raise OutOfScope(
                f"{self.name} may upload into fonds {', '.join(sorted(self.fonds))} only, "
                f"not {fonds_code}"
            )

    def sees(self, fonds_code: str | None) -> bool:
        """Whether what is of ``fonds_code`` may be named to them (None: of no known fonds)."""
        return fonds_code is not None and (ALL_FONDS in self.fonds or fonds_code in self.fonds)
