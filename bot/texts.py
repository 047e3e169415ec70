"""Words shared by chat handlers and the command line: refusals, enum labels.

Each function takes the translation function to use (`_`), so the same text serves a
chat user in their language and an operator at the terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from bot.services.errors import ServiceError

Gettext = Callable[[str], str]


def error_text(err: ServiceError, _: Gettext, *, html: bool = False) -> str:
    """The refusal in words; `html=True` escapes the values for an HTML chat message."""
    texts = {
        "access.denied": _("You are not allowed to do that."),
        "record.stale": _(
            "Someone else changed this in the meantime, so your decision was not applied. "
            "Here is how it stands now."
        ),
        "access.role_changed": _(
            "Your role has changed since this button was sent: you can no longer do this."
        ),
        "access.role_now": _(
            "Your role has changed, so you can no longer do this. /help shows what you can do now."
        ),
        "access.left": _(
            "Your role has changed: you are no longer on the roster of {branch}, so you can "
            "no longer do this. If that is a mistake, please ask your branch secretary."
        ),
        "org.not_found": _("That organisation no longer exists."),
        "org.name_empty": _("The name cannot be empty."),
        "org.name_too_long": _("The name is too long (at most {max} characters)."),
        "name.bidi": _(
            "The name contains characters that reverse the direction of text. "
            "Please type it plainly."
        ),
        "name.invisible": _(
            "The name is empty once invisible characters are removed. Please type it plainly."
        ),
        "name.formula": _(
            "A name cannot start with =, +, - or @ (spreadsheets would read it as a formula)."
        ),
        "org.name_has_slash": _("The name cannot contain “/”."),
        "org.name_taken": _("There is already an organisation called “{name}” here."),
        "org.domain_required": _("A branch needs a domain."),
        "org.parent_is_branch": _("“{parent}” is a branch; only a committee can have sub-units."),
        "org.branch_needs_parent": _("A branch must sit under a committee."),
        "org.path_empty": _("The organisation path is empty."),
        "org.path_unknown": _("No organisation at {path}"),
        "org.path_unknown_near": _("No organisation at {path}; did you mean {near}?"),
        "org.path_ambiguous": _(
            "Several organisations are called {path}: {candidates}. Write the path from the top."
        ),
        "org.staff_needs_committee": _("“{path}” is a branch: staff act for a committee."),
        "org.move_into_itself": _("“{name}” cannot be moved under itself or its own sub-units."),
        "org.remove_in_use": _(
            "“{name}” cannot be removed: it or its sub-units still have members or history "
            "({what}). Move the members or keep the organisation."
        ),
        "org.staff_unknown": _("The Telegram user {telegram_id} is not staff of this committee."),
        "orgs.invalid": _("The organisation file has problems ({count}); nothing was written."),
        "member.not_found": _("That member is not on the roster (any more)."),
        "member.phone_malformed": _(
            "“{value}” is not a mobile number (11 digits starting with 1)."
        ),
        "member.phone_taken": _("The phone number {value} belongs to another member."),
        "member.org_not_branch": _("Members belong to branches, not committees."),
        "member.already_linked": _("{name} is already linked to another Telegram account."),
        "member.account_in_use": _("This Telegram account is already linked to a member."),
        "member.has_left": _("This member has left the branch."),
        "member.field_unknown": _("Unknown field: {field}."),
        "member.category_unknown": _("Unknown member category: {value}."),
        "member.status_unknown": _("Unknown status: {value}."),
        "invite.unknown": _("This invite link is not valid. Ask your secretary for a new one."),
        "invite.revoked": _(
            "This invite link has been withdrawn. Ask your secretary for a new one."
        ),
        "invite.expired": _("This invite link has expired. Ask your secretary for a new one."),
        "invite.member_needs_branch": _("Member invites are for branches."),
        "invite.staff_needs_committee": _("Staff invites are for committees."),
        "join.already_member": _("You are already a member; /me shows your branch."),
        "join.no_invite": _(
            "To join, open the invite link your branch secretary gave you (again, "
            "if you opened it before)."
        ),
        "join.too_many": _(
            "You have sent {limit} requests to join today, the most allowed. "
            "Please try again tomorrow, or talk to your branch secretary."
        ),
        "join.contact_not_own": _("Please share your own contact with the button below."),
        "join.name_on_roster": _(
            "{name} is on this branch's roster and not yet linked: tap the name below to "
            "link it, rather than asking to join as someone new."
        ),
        "join.contact_mismatch": _(
            "That phone number does not match the roster. You can ask to be confirmed instead."
        ),
        "request.not_found": _("That request no longer exists."),
        "request.already_decided": _("This request has already been handled."),
        "request.withdrawn": _(
            "{name} has withdrawn this request or sent a new one since; nothing was changed."
        ),
        "request.requester_linked": _(
            "{name} is already linked on the bot, as {member}; nothing was changed."
        ),
        "request.member_gone": _(
            "The roster entry {name} asked for has left this branch or been removed; "
            "nothing was changed."
        ),
        "request.member_taken": _(
            "{name} is already linked to another Telegram account, so this request cannot be "
            "approved; nothing was changed. Reject it, or unlink the old account in the roster "
            "first."
        ),
        "locale.unknown": _("That language is not available."),
        "stale": _("This button has expired. Please start again."),
        "month.no_branch": _(
            "You have not joined a branch yet, so there is no checklist. "
            "To join, open the invite link your branch secretary gives you."
        ),
        "month.staff": _(
            "Staff see each branch's checklist in /orgs (open the branch, then 📋 Checklist); "
            "the overview is /dashboard."
        ),
        "meeting.kind_unknown": _("Unknown kind of meeting."),
        "meeting.future_date": _("The meeting date cannot be in the future."),
        "meeting.period_closed": _(
            "That month is closed. Only the superior organisation's staff can change it, "
            "with a reason."
        ),
        "meeting.reason_required": _("Changing a closed month needs a reason."),
        "meeting.topic_empty": _("The topic cannot be empty."),
        "meeting.too_long": _("That is too long (at most {max} characters)."),
        "meeting.time_malformed": _("The time should look like 19:30."),
        "meeting.attendee_foreign": _("Someone chosen is not a member of this branch."),
        "meeting.duplicate": _("This meeting has already been logged (same kind, date and topic)."),
        "meeting.not_found": _("That meeting no longer exists."),
        "content.not_found": _("That material is not available to this branch."),
        "content.domain_unknown": _("Unknown domain: {value}."),
        "content.kind_unknown": _("Unknown kind of material: {value}."),
        "content.month_malformed": _("The month should look like 2026-07."),
        "content.org_not_committee": _("Education material is added for a committee's subtree."),
        "content.source_required": _("Give a link or send a file."),
        "content.title_empty": _("The title cannot be empty."),
        "content.too_long": _("That is too long (at most {max} characters)."),
        "content.url_invalid": _("The link must start with http:// or https://."),
        "evidence.count_invalid": _("The number must be between {min} and {max}."),
        "evidence.count_not_number": _("Please send a number, e.g. 2."),
        "evidence.file_kind_unknown": _("Only photos and documents can be attached."),
        "evidence.future_month": _("Evidence cannot be recorded for a future month."),
        "evidence.item_unknown": _("That item is not on this branch's checklist."),
        "evidence.meeting_item": _("Meetings are recorded with “Log a meeting”."),
        "evidence.month_malformed": _("The month should look like 2026-07."),
        "evidence.period_closed": _("That month is closed; its record can no longer change."),
        "evidence.ratio_invalid": _("{count} out of {of} is not a valid share."),
        "evidence.ratio_needs_total": _("Give both numbers, e.g. “18/20”."),
        "evidence.too_long": _("That is too long (at most {max} characters)."),
        "evidence.not_counted": _("Only a count can be corrected this way."),
        "evidence.unchanged": _(
            "That is already the figure recorded this month ({count}). Type the right one, "
            "or /cancel."
        ),
        "evidence.grade_unknown": _("Unknown grade {grade}; choose one of: {choices}."),
        "group.not_a_group": _("Send this command in the branch's group chat."),
        "broadcast.file_kind": _("Only a photo or a document can go with an announcement."),
        "broadcast.not_found": _("That announcement no longer exists."),
        "broadcast.nobody": _("Nobody there can receive it: no linked members with those roles."),
        "broadcast.role_unknown": _("“{role}” is not a role (secretary, organiser, member)."),
        "broadcast.text_empty": _("The announcement is empty."),
        "broadcast.too_long": _("The announcement is too long (at most {max} characters)."),
        "notifications.topic_unknown": _("That kind of reminder cannot be muted."),
        "group.taken": _(
            "This group is already linked to {branch}, so it was not linked to your branch; "
            "nothing was changed. Each branch needs a group of its own."
        ),
        "group.unreachable": _("I cannot post in the branch group. Is the bot still a member?"),
        "notice.closed": _("This meeting has already taken place."),
        "notice.in_past": _("The meeting time is in the past."),
        "notice.no_group": _(
            "Link the branch's group first: add the bot to the group and send /linkgroup there."
        ),
        "notice.not_found": _("That meeting notice no longer exists."),
        "period.malformed": _("The month should look like 2026-07."),
        "period.not_found": _("That rating no longer exists."),
        "period.not_over": _("A month can be closed only after it has ended."),
        "period.reason_required": _("Changing a proposed or confirmed star level needs a reason."),
        "period.star_invalid": _("A star level is from 1 to 5."),
        "period.too_long": _("That is too long (at most {max} characters)."),
        "period.already_closed": _(
            "Already done: {period} is closed, so it was not closed twice. Here is how it "
            "stands now."
        ),
        "period.close_changed": _(
            "{period} changed since the warning: {n} branches are waiting to be closed now. "
            "Nothing was closed; please look again before closing."
        ),
        "period.nothing_to_confirm": _(
            "Already done: every proposed star level for {period} is confirmed, so nothing "
            "was confirmed twice."
        ),
        "period.confirm_changed": _(
            "The proposed star levels for {period} changed since you were asked ({n} waiting "
            "now), so none was confirmed. Please look at the list and confirm again."
        ),
        "rsvp.not_member": _("Only members of this branch can answer."),
        "rsvp.too_long": _("That is too long (at most {max} characters)."),
        "eval.not_found": _("That evaluation no longer exists."),
        "eval.exists": _("The evaluation for {period} has already been opened."),
        "eval.wrong_stage": _("The evaluation is no longer at that stage."),
        "eval.min_voters_invalid": _("The fewest ballots to show results must be 1 to 1,000."),
        "eval.objection_days_invalid": _("The objection window must be 1 to 60 days."),
        "eval.no_branch": _(
            "You have not joined a branch yet, so there is no evaluation. "
            "To join, open the invite link your branch secretary gives you."
        ),
        "eval.none_open": _("No democratic evaluation is open for your branch."),
        "eval.notice_running": _(
            "The public notice runs until {until}; objections may still come."
        ),
        "eval.objections_open": _("Answer every objection before sending for approval."),
        "eval.reason_required": _("Please give a reason."),
        "eval.vote_counted": _(
            "A vote that has been counted cannot be reopened: a second count would reveal "
            "the ballots in between."
        ),
        "eval.stage_over": _("This stage's deadline has passed."),
        "eval.answers_incomplete": _("Please answer every question first."),
        "eval.too_few_members": _("A vote needs at least two members."),
        "eval.deduction_unknown": _("That deduction is not in the rubric."),
        "eval.note_required": _("Please write something."),
        "eval.grade_unknown": _("Unknown grade."),
        "eval.override_reason_required": _("Changing a grade needs a written reason."),
        "eval.override_unknown_member": _("That member is not in this evaluation."),
        "eval.override_above_hard_rule": _(
            "A hard rule of the rubric caps this member's grade; it cannot be raised above it."
        ),
        "eval.override_over_cap": _("That would exceed the cap on excellent members."),
        "eval.objection_not_found": _("That objection no longer exists."),
        "eval.no_mentoring": _(
            "Paired mentoring is for basically qualified and unqualified members."
        ),
        "eval.mentor_mentored": _("A member who is being mentored cannot mentor someone else."),
        "eval.step_unknown": _("Unknown step."),
        "ballot.not_voter": _("You are not on this vote's list of voters."),
        "ballot.already_voted": _("You have already voted. Each member votes once."),
        "ballot.self": _("You do not vote on yourself."),
        "ballot.mark_invalid": _("That choice is not on this ballot."),
        "ballot.still_open": _("Results are shown only after the vote has closed."),
        "ballot.too_few_voters": _(
            "Fewer than {k} members voted: to keep the ballot secret, no results are shown."
        ),
    }
    template = texts.get(err.code)
    if err.code == "record.stale" and err.params.get("yours"):
        # The change since was this person's own: a second tap of the same button.
        template = _(
            "Already done: your earlier tap made this change, so it was not applied twice. "
            "Here is how it stands now."
        )
    if template is None:
        return _("That did not work. Nothing was saved; please try again.")
    params = err.params
    if err.code == "org.path_ambiguous" and isinstance(params.get("candidates"), list):
        params = {**params, "candidates": _(", ").join(params["candidates"])}
    if err.code == "org.remove_in_use" and "counts" in params:
        params = {**params, "what": history_words(params["counts"], _)}
    if html:
        params = {k: escape(str(v), quote=False) for k, v in params.items()}
    # A parameter the caller forgot shows as "…", never as its "{name}" (a test checks
    # that every raise gives what its message names).
    return template.format_map(_Filled(params))


def history_words(counts: dict[str, int], _: Gettext) -> str:
    """What keeps an organisation, by table, in words: "members: 6, meetings: 2"."""
    labels = {
        "member": _("members: {n}"),
        "staff": _("staff: {n}"),
        "meeting": _("meetings: {n}"),
        "meeting_notice": _("meeting notices: {n}"),
        "evidence": _("evidence items: {n}"),
        "period_snapshot": _("monthly results: {n}"),
        "branch_featured": _("featured items: {n}"),
        "education_content": _("education materials: {n}"),
        "eval_campaign": _("democratic evaluations: {n}"),
        "invite": _("invitations: {n}"),
        "join_request": _("requests to join: {n}"),
        "broadcast": _("announcements: {n}"),
        "organisation": _("organisations: {n}"),
    }
    parts = [labels.get(table, f"{table}: {{n}}").format(n=n) for table, n in counts.items()]
    text = parts[0] if parts else ""
    for part in parts[1:]:
        text = _("{first}, {second}").format(first=text, second=part)
    return text


class _Filled(dict):
    def __missing__(self, key: str) -> str:
        return "…"


def role_label(role: str, _: Gettext) -> str:
    return {
        "secretary": _("secretary"),
        "organiser": _("organising member"),
        "member": _("member"),
    }.get(role, role)


def status_label(status: str, _: Gettext) -> str:
    return {
        "active": _("active"),
        "on_leave": _("on leave"),
        "mobile": _("away (mobile)"),
        "left": _("left"),
    }.get(status, status)


def category_label(category: str, _: Gettext) -> str:
    return {
        "rural_community": _("rural & community member"),
        "agency": _("agency, enterprise or institution member"),
        "two_new": _("“two new” organisation member"),
        "mobile": _("mobile member"),
    }.get(category, category)


def grade_label(grade: str, _: Gettext) -> str:
    """A Vanguard grade (`scoring.Grade.key`) in words."""
    return {
        "excellent": _("excellent"),
        "qualified": _("qualified"),
        "basically_qualified": _("basically qualified"),
        "unqualified": _("unqualified"),
    }.get(grade, grade)


def domain_label(domain: str | None, _: Gettext) -> str:
    return {
        "village": _("village / rural community"),
        "community": _("urban community"),
        "agency": _("agency, enterprise or institution"),
        "two_new": _("“two new” organisation"),
    }.get(domain or "", "—")


def domain_choices(_: Gettext) -> str:
    """The domains to choose from, in words, each with the value to type: where a
    command line asks for one."""
    from bot.db.enums import Domain

    return _(", ").join(
        _("{code} ({label})").format(code=d.value, label=domain_label(d.value, _)) for d in Domain
    )


def kind_label(kind: str, _: Gettext) -> str:
    return {"committee": _("committee"), "branch": _("branch")}.get(kind, kind)


def meeting_kind_label(kind: str, _: Gettext) -> str:
    return {
        "committee": _("branch committee meeting"),
        "group": _("party group meeting"),
        "general": _("general member meeting"),
        "lesson": _("party lesson"),
        "theme_day": _("theme party day"),
        "org_life": _("organisational-life meeting"),
        "other": _("other meeting"),
    }.get(kind, kind)


def stars(level: int) -> str:
    return "★" * level + "☆" * max(0, 5 - level)
