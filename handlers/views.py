"""Renderings shared by several handlers: text and inline keyboards, built per request."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from html import unescape

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.db.models import Member, Organisation
from bot.services.errors import ServiceError
from bot.services.members import Principal
from bot.services.paging import Page
from bot.texts import category_label, domain_label, kind_label, role_label, status_label
from handlers.callbacks import Noop

Button = InlineKeyboardButton


def pager(page: Page, make: Callable[[int], CallbackData]) -> list[Button]:
    """◀ 2/5 ▶ — present only when there is more than one page."""
    if page.pages <= 1:
        return []
    row = []
    if page.has_prev:
        row.append(Button(text="◀", callback_data=make(page.page - 1).pack()))
    row.append(Button(text=f"{page.page + 1}/{page.pages}", callback_data=Noop().pack()))
    if page.has_next:
        row.append(Button(text="▶", callback_data=make(page.page + 1).pack()))
    return row


def step_nav(press: type[CallbackData], back: bool = True, skip: bool = False) -> list[Button]:
    """The Back / Skip / Cancel row under a conversation's step; `press` is the flow's
    callback class (with an `act` field), so each flow answers its own row."""
    row = []
    if back:
        row.append(Button(text=_("◀ Back"), callback_data=press(act="back").pack()))
    if skip:
        row.append(Button(text=_("Skip ▶"), callback_data=press(act="skip").pack()))
    row.append(Button(text=_("✖ Cancel"), callback_data=press(act="cancel").pack()))
    return row


def keyboard(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[list(r) for r in rows if r])


async def redraw(
    query: CallbackQuery,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    note: str | None = None,
    *,
    alert: bool = False,
) -> None:
    """Answer a press (with `note` as its toast, or an alert) and show `text` in place of
    the message the button sits on: the last step of every handler that redraws a page,
    a card or a draft. What the handler wrote is committed before this speaks."""
    await query.answer(note, show_alert=alert)
    await query.message.edit_text(text, reply_markup=markup)


def mask_phone(phone: str | None) -> str:
    if not phone:
        return "—"
    return phone[:3] + "****" + phone[-4:]


def member_line(m: Member) -> str:
    marks = ""
    if m.role != "member":
        marks += " ★" if m.role == "secretary" else " ☆"
    if m.status in ("on_leave", "mobile"):
        marks += " ⏸" if m.status == "on_leave" else " ✈"
    if m.telegram_id:
        marks += " ✓"
    return f"{m.name}{marks}"


def member_record(m: Member, branch_path: str) -> str:
    lines = [
        f"<b>{html.quote(m.name)}</b>",
        _("Branch: {path}").format(path=html.quote(branch_path)),
        _("Role: {role}").format(role=role_label(m.role, _)),
        _("Category: {category}").format(category=category_label(m.category, _)),
        _("Status: {status}").format(status=status_label(m.status, _)),
        _("Phone: {phone}").format(phone=mask_phone(m.phone)),
    ]
    if m.roster_no:
        lines.append(_("Roster no.: {no}").format(no=html.quote(m.roster_no)))
    lines.append(_("Telegram: linked") if m.telegram_id else _("Telegram: not linked yet"))
    return "\n".join(lines)


def org_title(org: Organisation) -> str:
    """The first line of an organisation's card (/orgs)."""
    return f"<b>{html.quote(org.name)}</b> · {kind_label(org.kind, _)}"


def org_heading(org: Organisation, path: str, members: int) -> str:
    lines = [org_title(org)]
    if org.domain:
        lines.append(_("Domain: {domain}").format(domain=domain_label(org.domain, _)))
    superior = path.rpartition("/")[0]  # names hold no "/": the path less the unit itself
    if org.parent_id is not None and superior:
        lines.append(_("Superior: {path}").format(path=html.quote(superior)))
    else:
        lines.append(_("Superior: none, this is the top organisation"))
    lines.append(_("Members: {n}").format(n=members))
    return "\n".join(lines)


def whoami(principal: Principal, branch_path: str | None, staff_paths: list[str]) -> str:
    parts = []
    if principal.member is not None and branch_path is not None:
        parts.append(member_record(principal.member, branch_path))
    if staff_paths:
        parts.append(
            _("You act for the superior organisation over:")
            + "\n"
            + "\n".join(f"• {html.quote(p)}" for p in staff_paths)
        )
    if principal.is_superuser:
        parts.append(_("You are a superuser: you can act for every organisation."))
    return "\n\n".join(parts)


def named(thing: object) -> str:
    """A rubric object's name in the current language."""
    from aiogram.utils.i18n import get_i18n

    zh = get_i18n().current_locale == "zh_Hans"
    return getattr(thing, "name_zh" if zh else "name_en")


MESSAGE_LIMIT = 4000  # Telegram allows 4,096 characters; a margin for what follows


def tg_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units). Measured on the HTML source,
    which is never shorter than the text left after entity parsing."""
    return len(text.encode("utf-16-le")) // 2


def split_html(blocks: Sequence[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Messages made of whole blocks (lines that are complete HTML: a tag is never cut),
    each under `limit`. A single block too long for one message is sent as plain text."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for block in blocks:
        if tg_length(block) > limit:
            if current:
                chunks.append("\n".join(current))
                current, size = [], 0
            # Tags dropped, so no cut falls inside one; half the limit leaves room for
            # astral characters (two UTF-16 units each).
            plain = html.quote(unescape(re.sub(r"<[^>]*>", "", block)))
            step = limit // 2
            chunks.extend(
                _unsplit_entities([plain[i : i + step] for i in range(0, len(plain), step)])
            )
            continue
        extra = tg_length(block) + (1 if current else 0)
        if current and size + extra > limit:
            chunks.append("\n".join(current))
            current, size = [], 0
            extra = tg_length(block)
        current.append(block)
        size += extra
    if current:
        chunks.append("\n".join(current))
    return chunks


def _unsplit_entities(parts: list[str]) -> list[str]:
    """Move a trailing, cut "&…" of each part to the start of the next one."""
    out = []
    carry = ""
    for part in parts:
        part = carry + part
        amp = part.rfind("&")
        carry = ""
        if amp != -1 and ";" not in part[amp:]:
            part, carry = part[:amp], part[amp:]
        out.append(part)
    if carry:
        out.append(carry)
    return [p for p in out if p]


def clip(text: str, limit: int = 3800) -> str:
    """Keep a message under Telegram's 4,096 characters, marking the cut. The cut falls
    between lines, which are whole HTML, never inside a tag or an entity."""
    if tg_length(text) <= limit:
        return text
    return split_html(text.split("\n"), limit - 2)[0] + "\n…"


def list_sep() -> str:
    """The separator of a list in the reply's language: 、 in Chinese, a comma in English."""
    from aiogram.utils.i18n import get_i18n

    try:
        locale = get_i18n().current_locale
    except LookupError:  # outside an update (a unit test): the default language's
        return "、"
    return "、" if locale.startswith("zh") else ", "


def names_list(names: Sequence[str], budget: int = 1500, sep: str | None = None) -> str:
    """Escaped names joined by `sep` (the language's list separator), as many as fit in
    `budget`, then "… (+N)"."""
    sep = list_sep() if sep is None else sep
    shown: list[str] = []
    size = 0
    for name in names:
        piece = html.quote(name)
        if shown and size + len(piece) + len(sep) > budget:
            return sep.join(shown) + f" … (+{len(names) - len(shown)})"
        shown.append(piece)
        size += len(piece) + len(sep)
    return sep.join(shown)


TIME_PLACE = re.compile(r"^\s*([0-9]{1,2})[:：]([0-9]{2})\s*(.*)$")


def typed(text: str) -> str:
    """What a person typed, with full-width forms made plain ("１８／２０" → "18/20"),
    so that patterns need only ASCII digits and punctuation."""
    return unicodedata.normalize("NFKC", text).strip()


def typed_count(text: str, digits: int = 6) -> int | None:
    """A whole number typed in decimal digits of any script ("12", "１２", "١٢"), or None.

    Superscripts and circled numbers ("²", "①") are digits to `str.isdigit` but not
    numbers to `int`: they are refused rather than guessed."""
    text = text.strip()
    if not 0 < len(text) <= digits or not all(unicodedata.category(c) == "Nd" for c in text):
        return None
    return int(text)


# Words people type instead of pressing "Skip ▶" at an optional step; stored as the
# place or the notes they would say "跳过" in the meeting record (the walk found it).
SKIP_WORDS = frozenset(
    {"跳过", "略过", "跳過", "略過", "无", "無", "没有", "沒有", "skip", "none", "n/a", "na", "-"}
)


def typed_skip(text: str) -> bool:
    """Whether the text typed at an optional step means "skip" ("跳过", "Skip", "无")."""
    return typed(text).casefold().rstrip("。.!！ ") in SKIP_WORDS


MAX_PLACE = 200


def parse_time_place(text: str) -> tuple[str | None, str | None]:
    """ "19:30 村部会议室" → ("19:30", "村部会议室"); the time is optional, the place too."""
    text = text.strip()
    time, place = None, text
    match = TIME_PLACE.match(typed(text))
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour > 23 or minute > 59:
            raise ServiceError("meeting.time_malformed")
        time, place = f"{hour:02d}:{minute:02d}", match.group(3).strip()
    if len(place) > MAX_PLACE:
        raise ServiceError("meeting.too_long", max=MAX_PLACE)
    return time, place or None


# What a heading may hold in a place `reads_as` reads as any value (a month, a count).
ANY = "\x00"


def checklist_heading(name: str, period: str) -> str:
    """The first line of a branch's checklist, of one item of it and of /tasks."""
    return _("📋 <b>{branch}</b> · {month}").format(branch=html.quote(name), month=period)


def star_heading(name: str, period: str) -> str:
    """The first line of a branch's star answer (/rating, the dashboard's branch)."""
    return _("⭐ <b>{branch}</b> · {month}").format(branch=html.quote(name), month=period)


def meetings_heading(name: str, period: str, n: int | str) -> str:
    """The first line of a branch's meeting list."""
    return _("Meetings of {branch} in {month}: {n}.").format(
        branch=html.quote(name), month=period, n=n
    )


def reads_as(message, *drawn: str) -> bool:
    """Whether the first line of `message` is one of the headings `drawn` (HTML, as the
    bot writes them; `ANY` in one matches any value there). A press redraws the message
    it sits on, whose data the client writes: this tells the message its button was
    drawn on from any other. Telegram keeps a message's text without its tags."""
    first = (getattr(message, "text", None) or "").split("\n", 1)[0]
    for heading in drawn:
        plain = unescape(re.sub(r"<[^>]*>", "", heading))
        pattern = "[^\n]+".join(re.escape(part) for part in plain.split(ANY))
        if re.fullmatch(pattern, first):
            return True
    return False
