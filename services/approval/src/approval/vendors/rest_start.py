"""Starting the approval in an on-premise OA (泛微 e-cology, 致远 A8, 蓝凌 EKP) by a REST call the
customer configures: where to post, with which headers, a JSON body with placeholders, and where
the OA's answer holds the new instance's id. A customer connects a new OA by configuration.

Placeholders, each a whole ``{name}`` inside a string of the body: ``request_id``, ``title``,
``applicant`` (the platform principal), ``applicant_oa`` (their OA user id), ``reason``,
``days``, ``mode`` (查阅 or 复制), ``records`` (档号 and 摘要, one per line), ``fonds``. The
values are put in once and never read again as a template: a reason that reads ``{title}``
stays that text.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from approval.vendors.connection import FormField
from approval.vendors.starters import OaStartFailed, StartForm

PLACEHOLDER = re.compile(
    r"\{(request_id|title|applicant|applicant_oa|reason|days|mode|records|fonds)\}"
)
IDENTITY_FORM: dict[FormField, str] = {
    "reason": "reason",
    "days": "days",
    "mode": "mode",
    "records": "records",
    "fonds": "fonds",
}


class RestStart(BaseModel):
    """``AAP_APPROVAL_OA_REST_STARTS``, by connection name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(pattern=r"^https?://", description="Where the OA creates an approval")
    method: Literal["POST", "PUT"] = "POST"
    headers: dict[str, SecretStr] = Field(
        default_factory=dict, description="e.g. the OA's token for this integration (secrets)"
    )
    body: dict[str, Any] = Field(description="The JSON body, with {placeholders} in its strings")
    instance_id: str = Field(
        min_length=1, description="Dotted path in the OA's JSON answer to the new instance's id"
    )
    users: dict[str, str] = Field(
        default_factory=dict,
        description="The OA's user id → the platform principal, where the OA's ids differ",
    )
    form: dict[FormField, str] = Field(
        default_factory=lambda: dict(IDENTITY_FORM),
        description="The placeholder each part of the request fills (as named by default)",
    )

    def oa_user_of(self, principal: str) -> str | None:
        if not self.users:
            return principal  # the OA's logins are the platform's
        return next((oa for oa, p in self.users.items() if p == principal), None)

    def process_for(self, flow: str) -> str:
        return flow


class RestStarter:
    def __init__(self, config: RestStart, http: httpx.AsyncClient) -> None:
        self._config, self._http = config, http

    async def start(self, form: StartForm) -> str:
        values = dict(form.fields) | {
            "request_id": str(form.request_id),
            "title": form.title,
            "applicant_oa": form.originator,
            "applicant": form.applicant,
        }
        body = _filled(self._config.body, values)
        headers = {k: v.get_secret_value() for k, v in self._config.headers.items()}
        try:
            r = await self._http.request(
                self._config.method, self._config.url, json=body, headers=headers
            )
        except httpx.HTTPError as error:
            raise OaStartFailed(
                f"{self._config.url}: {type(error).__name__}", transient=True
            ) from error
        if r.status_code >= 500 or r.status_code == 429:
            raise OaStartFailed(f"the OA answered HTTP {r.status_code}", transient=True)
        if r.status_code >= 400:
            raise OaStartFailed(
                f"the OA refused: HTTP {r.status_code} {r.text[:200]}", transient=False
            )
        try:
            found = _at(r.json(), self._config.instance_id)
        except ValueError as error:
            raise OaStartFailed(
                f"the OA's answer has no {self._config.instance_id} ({error}): {r.text[:200]}",
                transient=False,
            ) from error
        return str(found)

    async def cancel(self, form: StartForm, instance: str, reason: str) -> bool:
        return False  # no withdrawal call is configured: the OA's applicant withdraws


def _filled(template: Any, values: dict[str, str]) -> Any:
    if isinstance(template, str):
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), template)
    if isinstance(template, dict):
        return {k: _filled(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [_filled(v, values) for v in template]
    return template


def _at(answer: object, path: str) -> object:
    """The value at a dotted path (``data.requestid``); a ValueError naming the part missing."""
    here = answer
    for part in path.split("."):
        if not isinstance(here, dict) or part not in here or here[part] in (None, ""):
            raise ValueError(f"no {part!r}")
        here = here[part]
    return here
