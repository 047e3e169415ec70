"""`branchbot org …`: build, see and fix the organisation tree; staff of committees.

Every change is audited under the command-line actor. A path names an organisation
from the top: 某某市委/某某镇党委/某某村党支部. Exit codes: bot/cli/common.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from bot.cli.common import (
    EXIT_USAGE,
    console,
    fail,
    run_in_session,
    run_plain,
    settings_or_exit,
)
from bot.cli.table import display_width, pad
from bot.db.enums import Domain

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.clock import Clock
    from bot.config import Settings
    from bot.db.plain import PlainDb

org_app = typer.Typer(
    help="Organisations and their staff: add, list, rename, move, remove.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

PATH_HELP = "Path of the organisation, e.g. '某某市委/某某镇党委', or its name alone if unique."


def _gettext(settings: Settings):
    from bot.i18n import gettext_for

    return gettext_for(settings.default_locale)


@org_app.command("add")
def org_add(
    name: str = typer.Argument(..., help="Name of the new committee or branch."),
    parent: str = typer.Option(
        None, help="Path of the superior, e.g. '某某市委/某某镇党委', or its name alone if unique."
    ),
    branch: bool = typer.Option(False, "--branch", help="Create a branch (default: committee)."),
    domain_word: str = typer.Option(
        None,
        "--domain",
        help="For a branch: its domain, in the roster's words (village, 农村, 社区, 机关, 两新 …).",
    ),
) -> None:
    """Create a committee (or, with --branch, a branch) under PARENT, or the top committee."""
    from bot.services import vocabulary
    from bot.texts import domain_choices

    settings = settings_or_exit()
    _ = _gettext(settings)
    if domain_word is not None and not branch:
        raise fail(_("--domain: only a branch has a domain; add --branch, or leave --domain out"))
    if branch and domain_word is None:
        raise fail(
            _("--domain: a branch needs its domain, one of: {choices}").format(
                choices=domain_choices(_)
            )
        )
    # The same words the roster and tree imports accept (docs/roster.md), not only the
    # stored values: an official types 社区 here as in the spreadsheet.
    domain = None
    if domain_word is not None:
        value = vocabulary.meaning("domain", domain_word)
        if value is None:
            raise fail(
                _("--domain: unknown domain “{value}”; one of: {choices}").format(
                    value=domain_word, choices=domain_choices(_)
                )
            )
        domain = Domain(value)

    async def work(db: PlainDb, clock: Clock):
        return await add_org(db, clock.now(), name, parent, branch, domain, _)

    result = run_plain(work, settings)
    if isinstance(result, str):
        raise fail(result, code=EXIT_USAGE)
    console.print(_("Created {path}").format(path=result[1]))


async def add_org(
    db: PlainDb,
    now: datetime,
    name: str,
    parent: str | None,
    branch: bool,
    domain: Domain | None,
    _: Callable[[str], str],
) -> str | tuple[int, str]:
    """`org add`'s work in its transaction: (the new unit's id, its path), or the line
    refusing a second top organisation.

    Without SQLAlchemy (bot/db/plain.py: scripts call this a thousand times); the rules,
    refusals and audit row are those of `orgs.create_org` (bot/services/org_rules.py).
    """
    from bot.services import org_rules, orgs_plain
    from bot.services.audit import Actor

    rows = await orgs_plain.tree_rows(db)
    parent_row = org_rules.locate(rows, parent) if parent else None
    if parent_row is None:
        top = next((r.name for r in rows if r.parent_id is None), None)
        if top is not None:
            return _(
                "--parent: the tree already has its top organisation ({top}); "
                "say where {name} belongs with --parent PATH"
            ).format(top=top, name=name)
    org = await orgs_plain.create_org(
        db,
        Actor.cli(),
        now,
        name=name,
        kind="branch" if branch else "committee",
        parent=parent_row,
        domain=domain,
    )
    return org.id, org_rules.display_path([*rows, org], org.path)


@org_app.command("list")
def org_list(
    path: str = typer.Argument(None, help="Show only this organisation's subtree."),
    depth: int = typer.Option(None, "--depth", min=0, help="How many levels below to show."),
) -> None:
    """The tree, with the branches and members (not left) under each organisation."""
    settings = settings_or_exit()
    _ = _gettext(settings)

    async def work(session: AsyncSession, _clock: Clock, _settings: Settings):
        from bot.services import tree

        root = await tree.require_path(session, path) if path else None
        return await tree.tree_with_counts(session, root, depth)

    nodes = run_in_session(work, settings)
    if not nodes:
        console.print(_("The tree is empty: start with `branchbot import orgs FILE`."))
        return
    console.print("\n".join(render_tree(nodes, _)))


def render_tree(nodes, _) -> list[str]:
    """Names indented by level, then kind/domain and counts in columns aligned by display
    width (a Chinese character takes two columns)."""
    from bot.texts import domain_label, kind_label

    names = ["  " * n.depth + n.name for n in nodes]
    kinds = [
        kind_label(n.kind, _) + (f" · {domain_label(n.domain, _)}" if n.domain else "")
        for n in nodes
    ]
    heads = (_("Organisation"), _("Kind"), _("Branches"), _("Members"))
    name_w = max(display_width(t) for t in [heads[0], *names])
    kind_w = max(display_width(t) for t in [heads[1], *kinds])
    num_w = [max(display_width(heads[2]), 6), max(display_width(heads[3]), 7)]
    lines = [
        f"{pad(heads[0], name_w)}  {pad(heads[1], kind_w)}  "
        f"{pad(heads[2], num_w[0], right=True)}  {pad(heads[3], num_w[1], right=True)}"
    ]
    for n, name, kind in zip(nodes, names, kinds, strict=True):
        lines.append(
            f"{pad(name, name_w)}  {pad(kind, kind_w)}  "
            f"{pad(str(n.branches), num_w[0], right=True)}  "
            f"{pad(str(n.members), num_w[1], right=True)}"
        )
    return lines


@org_app.command("rename")
def org_rename(
    path: str = typer.Argument(..., help=PATH_HELP),
    new_name: str = typer.Argument(..., help="The new name (a name, not a path)."),
) -> None:
    """Rename an organisation (to fix a typo); its members and history stay with it."""
    settings = settings_or_exit()
    _ = _gettext(settings)

    async def work(session: AsyncSession, clock: Clock, _settings: Settings):
        from bot.services import orgs, tree
        from bot.services.audit import Actor

        org = await tree.require_path(session, path)
        await tree.rename_org(session, Actor.cli(), clock.now(), org, new_name)
        return await orgs.display_path(session, org)

    console.print(_("Renamed: now {path}").format(path=run_in_session(work, settings)))


@org_app.command("move")
def org_move(
    path: str = typer.Argument(..., help=PATH_HELP),
    new_parent: str = typer.Argument(..., help="Path of the committee to put it under."),
) -> None:
    """Move an organisation, with everything under it, to another superior committee."""
    settings = settings_or_exit()
    _ = _gettext(settings)

    async def work(session: AsyncSession, clock: Clock, _settings: Settings):
        from bot.services import orgs, tree
        from bot.services.audit import Actor

        org = await tree.require_path(session, path)
        parent = await tree.require_path(session, new_parent)
        await tree.move_org(session, Actor.cli(), clock.now(), org, parent)
        return await orgs.display_path(session, org)

    console.print(_("Moved: now {path}").format(path=run_in_session(work, settings)))


@org_app.command("remove")
def org_remove(path: str = typer.Argument(..., help=PATH_HELP)) -> None:
    """Remove an organisation created by mistake, with the empty ones under it.

    Refused, with the reason, while it or anything under it has members or history.
    """
    settings = settings_or_exit()
    _ = _gettext(settings)

    async def work(session: AsyncSession, clock: Clock, _settings: Settings):
        from bot.services import tree
        from bot.services.audit import Actor

        org = await tree.require_path(session, path)
        return await tree.remove_org(session, Actor.cli(), clock.now(), org)

    count = run_in_session(work, settings)
    console.print(
        _("Removed {path}; organisations removed: {count}").format(path=path, count=count)
    )


@org_app.command("staff")
def org_staff(
    path: str = typer.Argument(..., help="Path of the committee, e.g. '某某市委/某某镇党委'."),
    telegram_id: int = typer.Argument(..., help="The staff member's Telegram user id."),
    name: str = typer.Argument(None, help="The staff member's name (to add them)."),
    remove: bool = typer.Option(False, "--remove", help="Remove this person from the staff."),
) -> None:
    """Make a Telegram user staff of a committee (they act over its whole subtree), or,
    with --remove, no longer."""
    settings = settings_or_exit()
    _ = _gettext(settings)
    if not remove and not name:
        raise fail(_("NAME: give the staff member's name (or --remove to remove them)"))

    async def work(session: AsyncSession, clock: Clock, _settings: Settings):
        from bot.services import orgs, tree
        from bot.services.audit import Actor
        from bot.services.errors import ServiceError

        org = await tree.require_path(session, path)
        if remove:
            await tree.remove_staff(session, Actor.cli(), clock.now(), org, telegram_id)
        else:
            if org.kind != "committee":
                raise ServiceError("org.staff_needs_committee", path=path)
            await tree.add_staff(session, Actor.cli(), clock.now(), org, telegram_id, name)
        return await orgs.display_path(session, org)

    where = run_in_session(work, settings)
    if remove:
        console.print(_("{id} is no longer staff of {path}").format(id=telegram_id, path=where))
    else:
        console.print(_("{name} is staff of {path}").format(name=name, path=where))
