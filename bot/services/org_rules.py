"""The rules of the organisation tree, without a database: what a name may be, what may
sit under what, how a path is written and found, what the audit says of a new unit.

One source of truth for two ways of writing the tree: the ORM services (`orgs`, `tree`:
chat `/orgs`, imports, every other command) and the command line's lean `org add`
(`bot/cli/org_add.py`), which talks to the database without SQLAlchemy so that a
script of a thousand calls does not pay for the ORM a thousand times. Nothing here
imports SQLAlchemy; `tests/unit/test_cli_imports.py` keeps it so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from bot.db.enums import Domain, OrgKind
from bot.services import safetext
from bot.services.errors import ServiceError

MAX_NAME = 200
PATH_SEP = "/"


class Node(Protocol):
    """A row of the tree as both paths read it: an ORM object or a plain named row."""

    id: int
    parent_id: int | None
    name: str


def clean_name(name: str) -> str:
    """A person's or an organisation's name as stored; refused when it is invisible,
    turns text around (bidi overrides) or would be a spreadsheet formula — the rules of
    `safetext.name_problem`, the same for every name a person or an administrator types."""
    problem = safetext.name_problem(name or "")
    if problem == "empty":
        raise ServiceError("org.name_empty")
    if problem is not None:
        raise ServiceError(f"name.{problem}")
    value = safetext.clean_name_text(name)
    if len(value) > MAX_NAME:
        raise ServiceError("org.name_too_long", max=MAX_NAME)
    if PATH_SEP in value:
        raise ServiceError("org.name_has_slash")
    return value


def new_org(
    name: str, kind: OrgKind | str, domain: Domain | str | None
) -> tuple[str, OrgKind, Domain | None]:
    """A new unit's name, kind and domain as stored, before its superior is looked at."""
    name = clean_name(name)
    kind = OrgKind(kind)
    if kind is OrgKind.branch and domain is None:
        raise ServiceError("org.domain_required")
    return name, kind, Domain(domain) if domain is not None else None


def check_place(kind: OrgKind, parent_kind: str | None, parent_name: str | None) -> None:
    """Whether a unit of `kind` may sit under this superior (None: at the top)."""
    if parent_kind is not None:
        if parent_kind != OrgKind.committee:
            raise ServiceError("org.parent_is_branch", parent=parent_name)
    elif kind is OrgKind.branch:
        raise ServiceError("org.branch_needs_parent")


def name_taken(name: str) -> ServiceError:
    """The refusal when the superior already has a unit of that name."""
    return ServiceError("org.name_taken", name=name)


def child_path(parent_path: str | None, org_id: int) -> str:
    """The materialised path of a new unit: "/1/7/42/" (its ancestors' ids, then its own)."""
    return f"{parent_path or PATH_SEP}{org_id}{PATH_SEP}"


def ancestor_ids(path: str) -> list[int]:
    """Ids from the root down to (and including) the unit with this path."""
    return [int(p) for p in path.strip(PATH_SEP).split(PATH_SEP) if p]


def created_changes(
    name: str, kind: OrgKind | str, parent_id: int | None, domain: Domain | str | None
) -> dict[str, list[Any]]:
    """What the audit row of a new unit records."""
    return {
        "name": [None, name],
        "kind": [None, OrgKind(kind).value],
        "parent_id": [None, parent_id],
        "domain": [None, Domain(domain).value if domain is not None else None],
    }


def split_path(path: str) -> tuple[str, ...]:
    parts = tuple(" ".join(p.split()) for p in path.replace("／", PATH_SEP).split(PATH_SEP))
    parts = tuple(p for p in parts if p)
    if not parts:
        raise ServiceError("org.path_empty")
    return parts


def locate(rows: Sequence[Node], path: str) -> Node:
    """The unit at a name path among the tree's rows. The path starts at the top, or at
    a unit whose name is unique in the tree (a bare name, as the roster import takes a
    branch's); refused with the nearest existing path when a name on the way is
    misspelt, and with the candidates when a bare name is shared."""
    parts = split_path(path)
    children: dict[int | None, list[Node]] = {}
    for o in rows:
        children.setdefault(o.parent_id, []).append(o)
    start: Node | None = None
    if not any(o.name == parts[0] for o in children.get(None, [])):
        named = [o for o in rows if o.name == parts[0]]
        if len(named) > 1:
            raise ServiceError(
                "org.path_ambiguous",
                path=path,
                candidates=sorted(_full_of(rows, o) for o in named),
            )
        if named:
            start, parts = named[0], parts[1:]
    node = start
    for name in parts:
        here = {o.name: o for o in children.get(node.id if node else None, [])}
        node = here.get(name)
        if node is None:
            break
    else:
        assert node is not None
        return node
    # The nearest path is looked for from the top, through the unique unit named first.
    whole = (*split_path(_full_of(rows, start)), *parts) if start else split_path(path)
    raise _unknown(rows, children, whole, path)


def _unknown(
    rows: Sequence[Node],
    children: Mapping[int | None, list[Node]],
    parts: Iterable[str],
    path: str,
) -> ServiceError:
    from bot.services.vocabulary import did_you_mean

    parent: int | None = None
    found: list[str] = []
    for name in parts:
        here = {o.name: o for o in children.get(parent, [])}
        if name not in here:
            near = did_you_mean(name, list(here)) or _only_start(name, list(here))
            if near is None and parent is None:
                # A bare branch name, not a path from the top: look it up anywhere.
                near = did_you_mean(name, [o.name for o in rows])
                if near is not None:
                    return ServiceError("org.path_unknown_near", path=path, near=_full(rows, near))
            if near is None:
                break
            found.append(near)
            parent = here[near].id
        else:
            found.append(name)
            parent = here[name].id
    else:
        return ServiceError("org.path_unknown_near", path=path, near=PATH_SEP.join(found))
    return ServiceError("org.path_unknown", path=path)


def _only_start(name: str, names: list[str]) -> str | None:
    """The one name that `name` begins, when people leave off the kind: "城西" for
    "城西镇党委" (too short a part of it for `did_you_mean`)."""
    starting = [n for n in names if n.startswith(name)] if name else []
    return starting[0] if len(starting) == 1 else None


def _full(rows: Sequence[Node], name: str) -> str:
    return _full_of(rows, next(o for o in rows if o.name == name))


def _full_of(rows: Sequence[Node], node: Node) -> str:
    by_id = {o.id: o for o in rows}
    parts = [node.name]
    while node.parent_id is not None:
        node = by_id[node.parent_id]
        parts.append(node.name)
    return PATH_SEP.join(reversed(parts))


def display_path(rows: Sequence[Node], path: str) -> str:
    """'city/town/branch' for a materialised path, from the tree's rows."""
    name = {o.id: o.name for o in rows}
    return PATH_SEP.join(name[i] for i in ancestor_ids(path))
