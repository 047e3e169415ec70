"""Announcements by the superior's staff to part of their subtree, through the outbox.

Refusals (`ServiceError` codes): `access.denied` (not staff over that organisation),
`broadcast.role_unknown(role)`, `broadcast.text_empty`, `broadcast.too_long(max)`,
`broadcast.file_kind(kind)`, `broadcast.nobody`, `broadcast.not_found`.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Broadcast,
    Member,
    MemberStatus,
    Organisation,
    Outbox,
    OutboxStatus,
    Role,
    UserPref,
)
from bot.services import outbox
from bot.services.errors import ServiceError
from bot.services.members import Principal
from bot.services.orgs import require_org

ROLES = (Role.secretary.value, Role.organiser.value, Role.member.value)
MAX_TEXT = 3500  # leaves room for the heading within Telegram's 4,096
MAX_CAPTION = 900  # a caption may hold 1,024
FILE_KINDS = ("photo", "document")


def clean_roles(roles: Iterable[str]) -> tuple[str, ...]:
    """Roles in a fixed order; none named means everyone."""
    chosen = set(roles)
    for role in chosen:
        if role not in ROLES:
            raise ServiceError("broadcast.role_unknown", role=role)
    return tuple(r for r in ROLES if r in chosen)


def clean_text(text: str | None, with_file: bool) -> str:
    text = (text or "").strip()
    if not text and not with_file:
        raise ServiceError("broadcast.text_empty")
    limit = MAX_CAPTION if with_file else MAX_TEXT
    if len(text) > limit:
        raise ServiceError("broadcast.too_long", max=limit)
    return text


async def target(session: AsyncSession, principal: Principal, org_id: int) -> Organisation:
    org = await require_org(session, org_id)
    if not principal.can_manage(org):
        raise ServiceError("access.denied")
    return org


def _audience_stmt(org: Organisation, roles: tuple[str, ...]):
    stmt = (
        select(Member.telegram_id, func.coalesce(Member.locale, UserPref.locale))
        .join(Organisation, Organisation.id == Member.org_id)
        .outerjoin(UserPref, UserPref.telegram_id == Member.telegram_id)
        .where(
            Organisation.path.startswith(org.path),
            Member.telegram_id.is_not(None),
            Member.status != MemberStatus.left.value,
        )
    )
    if roles:
        stmt = stmt.where(Member.role.in_(roles))
    return stmt


async def audience_size(
    session: AsyncSession, principal: Principal, org_id: int, roles: Iterable[str]
) -> int:
    org = await target(session, principal, org_id)
    sub = _audience_stmt(org, clean_roles(roles)).subquery()
    return (await session.execute(select(func.count()).select_from(sub))).scalar_one()


async def create(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    *,
    org_id: int,
    roles: Iterable[str],
    text: str,
    headings: Mapping[str, str],
    default_locale: str,
    not_before: datetime | None = None,
    file_id: str | None = None,
    file_kind: str | None = None,
) -> Broadcast:
    """Queue the announcement for every linked member under `org_id` with one of `roles`.

    `headings` maps a language to the line put above the text (who it is from), so each
    person reads it in their own language; the text itself is the staff's own words.
    """
    org = await target(session, principal, org_id)
    chosen = clean_roles(roles)
    if file_kind is not None and file_kind not in FILE_KINDS:
        raise ServiceError("broadcast.file_kind", kind=file_kind)
    body = clean_text(text, with_file=file_id is not None)
    people = (await session.execute(_audience_stmt(org, chosen))).all()
    if not people:
        raise ServiceError("broadcast.nobody")
    cast = Broadcast(
        org_id=org.id,
        roles=",".join(chosen),
        text=body,
        file_id=file_id,
        file_kind=file_kind if file_id else None,
        recipients=len(people),
        created_by=principal.telegram_id,
        created_at=now,
    )
    session.add(cast)
    await session.flush()
    escaped = html.escape(body)
    texts = {loc: f"{head}\n\n{escaped}".strip() for loc, head in headings.items()}
    fallback = texts.get(default_locale) or next(iter(texts.values()))
    await outbox.enqueue(
        session,
        now,
        (
            outbox.Envelope(
                chat_id=tg,
                text=texts.get(locale or default_locale, fallback),
                key=f"broadcast:{cast.id}:{tg}",
                kind="broadcast",
                file_id=cast.file_id,
                file_kind=cast.file_kind,
                not_before=not_before,
                broadcast_id=cast.id,
            )
            for tg, locale in people
        ),
    )
    return cast


@dataclass(frozen=True)
class Progress:
    broadcast: Broadcast
    sent: int
    unreachable: int
    failed: int
    waiting: int  # pending or being sent

    @property
    def done(self) -> bool:
        return self.waiting == 0


async def progress(session: AsyncSession, principal: Principal | None, cast_id: int) -> Progress:
    cast = await session.get(Broadcast, cast_id)
    if cast is None:
        raise ServiceError("broadcast.not_found")
    if principal is not None:
        await target(session, principal, cast.org_id)
    return (await _progress_of(session, [cast]))[0]


async def _progress_of(session: AsyncSession, casts: list[Broadcast]) -> list[Progress]:
    ids = [c.id for c in casts]
    rows = await session.execute(
        select(Outbox.broadcast_id, Outbox.status, func.count())
        .where(Outbox.broadcast_id.in_(ids))
        .group_by(Outbox.broadcast_id, Outbox.status)
    )
    counts: dict[int, dict[str, int]] = {i: {} for i in ids}
    for cast_id, status, n in rows.all():
        counts[cast_id][status] = n
    out = []
    for cast in casts:
        c = counts[cast.id]
        out.append(
            Progress(
                cast,
                c.get(OutboxStatus.sent.value, 0),
                c.get(OutboxStatus.unreachable.value, 0),
                c.get(OutboxStatus.failed.value, 0),
                c.get(OutboxStatus.pending.value, 0) + c.get(OutboxStatus.sending.value, 0),
            )
        )
    return out


async def finished_since(session: AsyncSession, since: datetime) -> list[Progress]:
    """Broadcasts created after `since` with nothing left to send (one query each way)."""
    casts = list(
        (
            await session.execute(
                select(Broadcast).where(
                    and_(Broadcast.created_at >= since, Broadcast.created_by.is_not(None))
                )
            )
        ).scalars()
    )
    if not casts:
        return []
    return [p for p in await _progress_of(session, casts) if p.done]


RECENT = timedelta(days=7)
