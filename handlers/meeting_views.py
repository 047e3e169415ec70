"""Renderings for meetings: the attendee picker, a draft's summary, the report after saving."""

from __future__ import annotations

from datetime import date

from aiogram import html
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import MeetingKind
from bot.i18n import fmt_date, fmt_number
from bot.services import meetings
from bot.services.paging import page_of
from bot.texts import meeting_kind_label, stars
from handlers.callbacks import Att
from handlers.views import Button, clip, keyboard, named, names_list, pager

PAGE = 8


def attendee_keyboard(
    roster: list, chosen: set[int], page: int, query: str, has_rsvp: bool
) -> InlineKeyboardMarkup:
    shown = [e for e in roster if query in e.member.name] if query else roster
    visible = page_of(shown, page, PAGE)
    rows = []
    for entry in visible.items:
        mark = "✅" if entry.member.id in chosen else "⬜"
        status = entry.member.status
        note = " ⏸" if status == "on_leave" else " ✈" if status == "mobile" else ""
        rows.append(
            [
                Button(
                    text=f"{mark} {entry.member.name}{note}",
                    callback_data=Att(act="t", member=entry.member.id).pack(),
                )
            ]
        )
    rows.append(pager(visible, lambda p: Att(act="page", page=p)))
    counted = [e for e in roster if e.counted]
    present = sum(1 for e in counted if e.member.id in chosen)
    extra = [Button(text=_("Everyone present"), callback_data=Att(act="all").pack())]
    if has_rsvp:
        extra.append(Button(text=_("From RSVPs"), callback_data=Att(act="rsvp").pack()))
    rows.append(extra)
    rows.append(
        [
            Button(
                text=_("Done ({present}/{total}) ▶").format(present=present, total=len(counted)),
                callback_data=Att(act="done").pack(),
            )
        ]
    )
    return keyboard(rows)


async def draft_summary(session: AsyncSession, draft: dict) -> str:
    locale = get_i18n().current_locale
    roster = await meetings.attendance_roster(session, draft["org_id"], draft["kind"])
    chosen = set(draft["attendees"])
    names = [e.member.name for e in roster if e.member.id in chosen]
    counted = [e for e in roster if e.counted]
    present = sum(1 for e in counted if e.member.id in chosen)
    when = fmt_date(date.fromisoformat(draft["held_on"]), locale)
    if draft["time"]:
        when += f" {draft['time']}"
    lines = [
        _("<b>Please check the meeting record</b>"),
        _("Kind: {kind}").format(kind=meeting_kind_label(draft["kind"], _)),
        _("Date: {when}").format(when=when),
        _("Place: {place}").format(place=html.quote(draft["place"] or "—")),
        attendance_line(draft["kind"], present, len(counted)),
        _("Attendees: {names}").format(names=names_list(names) or "—"),
        _("Topic: {topic}").format(topic=html.quote(draft["topic"] or "—")),
        _("Notes: {notes}").format(notes=html.quote((draft["notes"] or "—")[:500])),
        _("Photos: {n}").format(n=len(draft["photos"])),
    ]
    return clip("\n".join(lines))


def attendance_line(kind: str, present: int, total: int) -> str:
    """Who counts, said before saving, with the numbers the saved report will show."""
    if kind == MeetingKind.committee.value:
        return _(
            "Attendance: {present} of {total} committee members (for a committee meeting only "
            "the branch committee counts)"
        ).format(present=present, total=total)
    return _("Attendance: {present} of {total} counted members").format(
        present=present, total=total
    )


def quorum_line(q) -> str:
    if q.share is None:
        return _("Attendance: {n} of {total} counted members.").format(
            n=q.attended_counted, total=q.expected
        )
    if q.met:
        return _(
            "✅ Quorum met: {n} of {total} counted members attended (at least {needed} needed)."
        ).format(n=q.attended_counted, total=q.expected, needed=q.needed)
    return _(
        "⚠️ Quorum not met: {n} of {total} counted members attended, at least {needed} "
        "were needed. The meeting is recorded but does not count."
    ).format(n=q.attended_counted, total=q.expected, needed=q.needed)


def save_report(saved, change, after) -> str:
    locale = get_i18n().current_locale
    lines = [
        _("💾 Meeting saved: {kind}, {when}.").format(
            kind=meeting_kind_label(saved.meeting.kind, _),
            when=fmt_date(saved.meeting.held_on, locale),
        ),
        quorum_line(saved.quorum),
    ]
    for entry in change.newly_done:
        lines.append(_("✅ Checklist: {item} is done.").format(item=html.quote(named(entry))))
    delta = change.score_delta
    lines.append(
        _("Score: {score} of {max} ({delta}).").format(
            score=fmt_number(after.score, locale),
            max=fmt_number(after.max_score, locale),
            delta=("+" if delta >= 0 else "") + fmt_number(delta, locale),
        )
    )
    if change.star_after != change.star_before:
        lines.append(
            _("Star level: {before} → {after}").format(
                before=stars(change.star_before), after=stars(change.star_after)
            )
        )
    else:
        lines.append(_("Star level: {stars}").format(stars=stars(change.star_after)))
    return "\n".join(lines)
