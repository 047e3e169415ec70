"""The month's education content: videos, model micro lessons and the practice prompt.

A committee's staff add content for their subtree and the domains it is for (none
named: every domain). A branch sees the content of every committee above it.

Refusals (`ServiceError` codes and params): `access.denied`;
`content.org_not_committee`; `content.month_malformed(value)`;
`content.kind_unknown(value)`; `content.title_empty`; `content.too_long(field, max)`
(title, url, file_id); `content.url_invalid(value)` (http or https with a host);
`content.source_required` (neither a link nor a file); `content.domain_unknown(value)`;
`content.not_found`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ContentKind, Domain, EducationContent, Organisation, OrgKind
from bot.services import audit
from bot.services.errors import ServiceError
from bot.services.members import Principal
from bot.services.orgs import ancestor_ids
from scoring.periods import parse_month

MAX_TITLE = 200
MAX_URL = 500
MAX_FILE_ID = 255
FIELDS = ("org_id", "month", "kind", "title", "url", "file_id", "domains")


def _domains(value: str) -> set[str]:
    return {d for d in value.split(",") if d}


def is_offered_to(content: EducationContent, branch: Organisation) -> bool:
    """Content reaches the branches under its committee, in the domains it names."""
    if content.org_id not in ancestor_ids(branch):
        return False
    domains = _domains(content.domains)
    return not domains or branch.domain in domains


_OFFERED = (
    select(EducationContent)
    .where(
        EducationContent.month == bindparam("month"),
        EducationContent.org_id.in_(bindparam("orgs", expanding=True)),
        or_(
            EducationContent.domains == "",
            # Comma-separated names; bracketing both sides matches whole names only.
            ("," + EducationContent.domains + ",").contains(bindparam("domain")),
        ),
    )
    .order_by(EducationContent.kind, EducationContent.id)
)  # built once: every /month reads it


async def content_for(
    session: AsyncSession, branch: Organisation, month: str
) -> list[EducationContent]:
    """What the branch's committees offer it for `month` (one query), by kind."""
    params = {"month": month, "orgs": ancestor_ids(branch), "domain": f",{branch.domain or ''},"}
    rows = await session.execute(_OFFERED, params)
    return list(rows.scalars())


def clean_url(value: str | None) -> str | None:
    """An http(s) link, or None for an empty one; raises for anything else."""
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > MAX_URL:
        raise ServiceError("content.too_long", field="url", max=MAX_URL)
    try:
        parts = urlsplit(value)
    except ValueError:
        raise ServiceError("content.url_invalid", value=value) from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() for c in value)
    ):
        raise ServiceError("content.url_invalid", value=value)
    return value


def clean_title(value: str | None) -> str:
    title = " ".join((value or "").split())
    if not title:
        raise ServiceError("content.title_empty")
    if len(title) > MAX_TITLE:
        raise ServiceError("content.too_long", field="title", max=MAX_TITLE)
    return title


def _domain_list(domains: Iterable[str]) -> str:
    chosen = set()
    for d in domains:
        d = d.strip()
        if not d:
            continue
        try:
            chosen.add(Domain(d).value)
        except ValueError:
            raise ServiceError("content.domain_unknown", value=d) from None
    # Every domain named is the same as none named: store the short form.
    return "" if len(chosen) == len(Domain) else ",".join(sorted(chosen))


async def add_content(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    org_id: int,
    month: str,
    kind: str,
    title: str,
    url: str | None = None,
    file_id: str | None = None,
    domains: Iterable[str] = (),
) -> EducationContent:
    org = await session.get(Organisation, org_id)
    if org is None or not principal.can_manage(org):
        raise ServiceError("access.denied")
    if org.kind != OrgKind.committee.value:
        raise ServiceError("content.org_not_committee")
    try:
        parse_month(month)
    except ValueError:
        raise ServiceError("content.month_malformed", value=str(month)) from None
    try:
        kind = ContentKind(kind).value
    except ValueError:
        raise ServiceError("content.kind_unknown", value=str(kind)) from None
    title = clean_title(title)
    url = clean_url(url)
    file_id = (file_id or "").strip() or None
    if file_id is not None and len(file_id) > MAX_FILE_ID:
        raise ServiceError("content.too_long", field="file_id", max=MAX_FILE_ID)
    if url is None and file_id is None:
        raise ServiceError("content.source_required")
    item = EducationContent(
        org_id=org_id,
        month=month,
        kind=kind,
        title=title,
        url=url,
        file_id=file_id,
        domains=_domain_list(domains),
        created_by=principal.telegram_id,
        created_at=now,
    )
    session.add(item)
    await session.flush()
    await audit.record(
        session,
        principal.actor,
        now,
        "content",
        item.id,
        "create",
        {k: [None, v] for k, v in audit.snapshot(item, FIELDS).items() if v not in (None, "")},
    )
    return item
