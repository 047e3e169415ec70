"""The tree from a file, and the administrator's tools to see and fix it (issue 12).

Service level on SQLite and PostgreSQL; the command line end to end (a subprocess per
command, as an administrator runs it) on both as well.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.db.models import AuditLog, Organisation, Staff
from bot.services import org_import, orgs, roster, tree
from bot.services.audit import Actor
from bot.services.errors import ServiceError
from tests.conftest import PG_URL

NOW = datetime(2026, 7, 1, tzinfo=UTC)
ACTOR = Actor.cli("test")
ROOT = Path(__file__).resolve().parents[2]

TREE = (
    "路径,类型,领域,时区\n"
    "某某市委,党委,,\n"
    "某某市委/某某镇党委,党工委,,\n"
    "某某市委/某某镇党委/某某村党支部,党支部,农村,\n"
    "某某市委/某某镇党委/某某社区党支部,支部,城市社区,Asia/Shanghai\n"
    "某某市委/某某局党组,党组,,\n"
    "某某市委/某某局党组/机关一支部,党支部,机关,\n"
    "某某市委/某某非公企业党委,党委,,\n"
    "某某市委/某某非公企业党委/某某公司党支部,党支部,非公企业,\n"
)


def write(tmp_path: Path, text: str, name: str = "tree.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


async def import_tree(session, path: Path) -> org_import.OrgPlan:
    plan = await org_import.plan_org_import(session, org_import.read_org_file(path))
    if not plan.errors:
        await org_import.apply_org_plan(session, plan, actor=ACTOR, now=NOW)
        await session.commit()
    return plan


async def test_tree_file_creates_everything_in_one_go_and_again_changes_nothing(session, tmp_path):
    path = write(tmp_path, TREE, encoding="gbk")
    assert (await import_tree(session, path)).counts == (8, 0, 0)
    town = await orgs.find_by_path(session, "某某市委/某某镇党委")
    assert town is not None and town.kind == "committee" and town.domain is None
    company = await orgs.find_by_path(session, "某某市委/某某非公企业党委/某某公司党支部")
    assert company.kind == "branch" and company.domain == "two_new"
    community = await orgs.find_by_path(session, "某某市委/某某镇党委/某某社区党支部")
    assert community.timezone == "Asia/Shanghai" and community.domain == "community"
    audited = await session.scalar(select(func.count(AuditLog.id)))
    assert (await import_tree(session, path)).counts == (0, 0, 8)
    assert await session.scalar(select(func.count(AuditLog.id))) == audited


async def test_tree_file_by_parent_and_name_updates_a_domain(session, tmp_path):
    await import_tree(session, write(tmp_path, TREE))
    text = "上级党组织,名称,类型,领域\n某某市委/某某镇党委,某某村党支部,党支部,城市社区\n"
    assert (await import_tree(session, write(tmp_path, text, "two.csv"))).counts == (0, 1, 0)
    village = await orgs.find_by_path(session, "某某市委/某某镇党委/某某村党支部")
    assert village.domain == "community"


async def test_tree_file_reports_every_problem_and_writes_nothing(session, tmp_path):
    await import_tree(session, write(tmp_path, TREE))
    bad = (
        "路径,类型,领域,时区\n"
        "某某市委/某某真党委/新村党支部,党支部,农村,\n"  # 2: misspelt superior
        "某某市委/新党委,委员会会,,\n"  # 3: unknown kind
        "某某市委/另一党委,党委,农村,\n"  # 4: domain on a committee
        "某某市委/某某镇党委/新支部,党支部,,\n"  # 5: new branch without a domain
        "某某市委/某某镇党委/某某村党支部,党委,,\n"  # 6: a branch cannot become a committee
        "某某市委/某某镇党委/某某村党支部/小组,党支部,农村,\n"  # 7: under a branch
        "某市委,党委,,\n"  # 8: a second top organisation
        "某某市委/某某镇党委/乙支部,党支部,农村,Mars/Base\n"  # 9: time zone
        "某某市委/某某镇党委/某某社区党支部,党支部,社区,\n"  # 10: fine (unchanged)
        "某某市委/某某镇党委/某某社区党支部,党支部,社区,\n"  # 11: twice
    )
    before = await session.scalar(select(func.count(Organisation.id)))
    plan = await import_tree(session, write(tmp_path, bad, "bad.csv"))
    found = {(e.row, e.code) for e in plan.errors}
    assert found == {
        (2, "parent_unknown"),
        (3, "kind_unknown"),
        (4, "domain_on_committee"),
        (5, "domain_required"),
        (6, "kind_mismatch"),
        (7, "branch_under_branch"),
        (8, "root_unknown"),
        (9, "timezone_unknown"),
        (11, "org_duplicate"),
    }
    suggestions = {e.code: e.suggestion for e in plan.errors}
    assert suggestions["parent_unknown"] == "某某镇党委"
    assert suggestions["root_unknown"] == "某某市委"
    assert suggestions["kind_unknown"] == "委员会"
    assert await session.scalar(select(func.count(Organisation.id))) == before
    with pytest.raises(ServiceError):
        await org_import.apply_org_plan(session, plan, actor=ACTOR, now=NOW)


async def test_every_problem_of_a_row_is_reported_not_only_the_first(session, tmp_path):
    await import_tree(session, write(tmp_path, TREE))
    bad = (
        "路径,类型,领域,时区\n"
        "某某市委/某某真党委/新村党支部,委员会会,农材,Mars/Base\n"  # 2: four cells wrong
        "某某市委/另一党委,党委,农村,Mars/Base\n"  # 3: a committee's domain, a time zone
        "某某市委/某某镇党委/某某村党支部/小组,党支部,,Mars/Base\n"  # 4: three
        "某某市委/某某镇党委/某某村党支部,,农材,\n"  # 5: the domain only, kind not guessed
    )
    plan = await import_tree(session, write(tmp_path, bad, "bad.csv"))
    by_row: dict[int, set[tuple[str, str]]] = {}
    for e in plan.errors:
        by_row.setdefault(e.row, set()).add((e.column, e.code))
    assert by_row == {
        2: {
            ("路径", "parent_unknown"),
            ("类型", "kind_unknown"),
            ("领域", "domain_unknown"),
            ("时区", "timezone_unknown"),
        },
        3: {("领域", "domain_on_committee"), ("时区", "timezone_unknown")},
        4: {
            ("路径", "branch_under_branch"),
            ("领域", "domain_required"),
            ("时区", "timezone_unknown"),
        },
        5: {("领域", "domain_unknown")},
    }
    assert not plan.creates and not plan.updates


async def test_tree_counts_rename_move_remove(session, tmp_path):
    await import_tree(session, write(tmp_path, TREE))
    members = "姓名,所在党组织,人员类别,状态\n" + "".join(
        f"人{i},某某市委/某某镇党委/某某村党支部,农村和社区党员,\n" for i in range(5)
    ) + "走了,某某市委/某某镇党委/某某村党支部,农村党员,已转出\n"  # fmt: skip
    plan = await roster.plan_import(session, roster.read_roster(write(tmp_path, members, "r.csv")))
    assert not plan.errors
    await roster.apply_plan(session, plan, actor=ACTOR, now=NOW)
    await session.commit()

    nodes = await tree.tree_with_counts(session)
    by_name = {n.name: n for n in nodes}
    assert [n.name for n in nodes][:2] == ["某某市委", "某某局党组"]  # committees first
    assert (by_name["某某市委"].branches, by_name["某某市委"].members) == (4, 5)
    assert (by_name["某某镇党委"].branches, by_name["某某镇党委"].members) == (2, 5)
    assert by_name["某某村党支部"].depth == 2
    town = await tree.require_path(session, "某某市委/某某镇党委")
    assert [n.name for n in await tree.tree_with_counts(session, town, depth=0)] == ["某某镇党委"]

    # A typo fixed: the branch keeps its members.
    village = await tree.require_path(session, "某某市委/某某镇党委/某某村党支部")
    await tree.rename_org(session, ACTOR, NOW, village, "某某新村党支部")
    moved = await tree.require_path(session, "某某市委/某某镇党委/某某新村党支部")
    assert moved.id == village.id

    # Moved with its whole subtree: every path below is rewritten.
    bureau = await tree.require_path(session, "某某市委/某某局党组")
    await tree.move_org(session, ACTOR, NOW, town, bureau)
    await session.commit()
    branch = await tree.require_path(session, "某某市委/某某局党组/某某镇党委/某某新村党支部")
    assert branch.path == f"{bureau.path}{town.id}/{branch.id}/"
    with pytest.raises(ServiceError) as err:
        await tree.move_org(session, ACTOR, NOW, bureau, branch)
    assert err.value.code == "org.parent_is_branch"
    city = await tree.require_path(session, "某某市委")
    with pytest.raises(ServiceError) as err:
        await tree.move_org(session, ACTOR, NOW, city, town)
    assert err.value.code == "org.move_into_itself"

    # Removal: refused while anything below has members, with what is in the way.
    with pytest.raises(ServiceError) as err:
        await tree.remove_org(session, ACTOR, NOW, town)
    assert err.value.code == "org.remove_in_use" and "member: 6" in err.value.params["what"]
    from bot.i18n import gettext_for
    from bot.texts import error_text

    assert "党员 6 名" in error_text(err.value, gettext_for("zh_Hans"))
    assert "(members: 6)" in error_text(err.value, gettext_for("en"))
    company = await tree.require_path(session, "某某市委/某某非公企业党委")
    assert await tree.remove_org(session, ACTOR, NOW, company) == 2
    await session.commit()
    assert await orgs.find_by_path(session, "某某市委/某某非公企业党委") is None
    deleted = await session.scalar(
        select(func.count(AuditLog.id)).where(AuditLog.action == "delete")
    )
    assert deleted == 2


async def test_misspelt_paths_are_refused_with_the_nearest(session, tmp_path):
    await import_tree(session, write(tmp_path, TREE))
    for typo, near in (
        ("某某市/某某镇党委", "某某市委/某某镇党委"),
        ("某某市委/某某真党委/某某村党支部", "某某市委/某某镇党委/某某村党支部"),
        ("某某树党支部", "某某市委/某某镇党委/某某村党支部"),
    ):
        with pytest.raises(ServiceError) as err:
            await tree.require_path(session, typo)
        assert err.value.code == "org.path_unknown_near" and err.value.params["near"] == near
    with pytest.raises(ServiceError) as err:
        await tree.require_path(session, "完全不同/的路径")
    assert err.value.code == "org.path_unknown"


async def test_staff_added_and_removed_audited(session, tmp_path):
    await import_tree(session, write(tmp_path, TREE))
    city = await tree.require_path(session, "某某市委")
    await tree.add_staff(session, ACTOR, NOW, city, 42, "周组织")
    await tree.add_staff(session, ACTOR, NOW, city, 42, "周组织")  # again: nothing new
    assert await session.scalar(select(func.count(Staff.id))) == 1
    await tree.remove_staff(session, ACTOR, NOW, city, 42)
    assert await session.scalar(select(func.count(Staff.id))) == 0
    with pytest.raises(ServiceError) as err:
        await tree.remove_staff(session, ACTOR, NOW, city, 42)
    assert err.value.code == "org.staff_unknown"
    actions = await session.execute(select(AuditLog.action).where(AuditLog.entity == "staff"))
    assert sorted(actions.scalars()) == ["create", "delete"]


async def test_roster_words_of_the_cities_and_grouped_problems(session, tmp_path):
    await import_tree(session, write(tmp_path, TREE))
    words = ("农村和社区党员", "农村党员", "社区党员", "机关党员", "企事业单位党员",
             "两新组织党员", "非公企业党员", "社会组织党员", "流动党员")  # fmt: skip
    text = "姓名,所在党组织,人员类别\n" + "".join(
        f"人{i},某某市委/某某镇党委/某某村党支部,{w}\n" for i, w in enumerate(words)
    )
    plan = await roster.plan_import(session, roster.read_roster(write(tmp_path, text, "r.csv")))
    assert not plan.errors and len(plan.creates) == len(words)
    bad = "姓名,所在党组织,人员类别\n" + "".join(
        f"甲{i},某某市委/某某镇党委/某某树党支部,宇航员\n" for i in range(30)
    )
    plan = await roster.plan_import(session, roster.read_roster(write(tmp_path, bad, "b.csv")))
    # Every problem of every row: the unknown category and the misspelt branch, 30 each.
    codes = sorted({e.code for e in plan.errors})
    assert codes == ["category_unknown", "domain_required"]
    assert len(plan.errors) == 60
    assert {e.suggestion for e in plan.errors if e.code == "domain_required"} == {"某某村党支部"}


# --------------------------------------------------------------------------- CLI


LAUNCH = "import sys; sys.argv[0] = 'branchbot'; from bot.cli import main; main()"


async def cli(cwd: Path, url: str, *args: str, lang: str = "zh_Hans") -> tuple[int, str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(cwd),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": url,
        "DEFAULT_LOCALE": lang,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LAUNCH, *args, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


@pytest.fixture
def db_url(engine, tmp_path) -> str:
    """The test database as a URL the command line can open (the engine fixture made it)."""
    if engine.dialect.name == "postgresql":
        return PG_URL  # type: ignore[return-value]
    return engine.url.render_as_string(hide_password=False)


async def test_a_city_in_two_commands_then_see_and_fix_it(db_url, tmp_path):
    """From the two files a city has to a working city, in both languages of messages."""
    write(tmp_path, TREE, "tree.csv", encoding="gbk")
    people = "姓名,所在党组织,人员类别,手机号码\n" + "".join(
        f"人{i},某某市委/某某镇党委/某某村党支部,农村和社区党员,1370000{i:04d}\n" for i in range(3)
    ) + "王五,某某市委/某某局党组/机关一支部,机关党员,\n"  # fmt: skip
    book = tmp_path / "roster.xlsx"
    from openpyxl import Workbook

    wb = Workbook()
    for line in people.splitlines():
        wb.active.append(line.split(","))
    wb.save(book)

    code, out, err = await cli(tmp_path, db_url, "import", "orgs", "tree.csv")
    assert code == 0 and "已导入" in out and "8" in out, (out, err)
    code, out, err = await cli(tmp_path, db_url, "import", "roster", "roster.xlsx")
    assert code == 0 and "新增 4" in out, (out, err)
    code, out, err = await cli(tmp_path, db_url, "import", "roster", "roster.xlsx", lang="en")
    assert code == 0 and "unchanged: 4" in out, (out, err)

    code, out, _ = await cli(tmp_path, db_url, "org", "list")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[0] == "党组织"
    city = next(line for line in lines if line.startswith("某某市委"))
    assert city.split()[-2:] == ["4", "4"]  # 4 branches, 4 members under the city
    # Aligned by display width: every count column ends at the same terminal column.
    from bot.cli.table import display_width

    assert len({display_width(line) for line in lines}) == 1

    code, out, _ = await cli(
        tmp_path, db_url, "org", "rename", "某某市委/某某局党组", "某某市直机关工委"
    )
    assert code == 0 and "某某市委/某某市直机关工委" in out
    code, out, err = await cli(tmp_path, db_url, "org", "remove", "某某市委/某某市直机关工委")
    assert code == 1 and "党员 1 名" in err and "Traceback" not in err

    marked = tmp_path / "marked.xlsx"
    write(
        tmp_path, "姓名,所在党组织,人员类别\n甲,某某市委/某某镇党委/某某村党支部,宇航员\n", "b.csv"
    )
    code, out, err = await cli(
        tmp_path, db_url, "import", "roster", "b.csv", "--errors", str(marked), lang="en"
    )
    assert code == 1 and "row 2, 人员类别: unknown category “宇航员”" in err, err
    cell = load_workbook(marked).active["C2"]
    assert cell.comment is not None and "unknown category" in cell.comment.text
    assert cell.fill.fill_type == "solid"

    template = tmp_path / "template.xlsx"
    code, out, _ = await cli(tmp_path, db_url, "export", "roster", "--template", str(template))
    assert code == 0 and template.exists()
    code, out, err = await cli(tmp_path, db_url, "import", "roster", str(template), "--dry-run")
    assert code == 1 and "只填了模板中的示例行" in err, (out, err)
    assert await asyncio.to_thread(lambda: len(load_workbook(template).sheetnames)) == 2


@pytest.mark.parametrize(
    ("lang", "skipped", "created"),
    [
        ("zh_Hans", "第 2 行：模板中的示例，已跳过", "党员新增 2 名"),
        ("en", "Row 2: the template's example, skipped", "members created: 2"),
    ],
)
async def test_the_templates_example_row_left_in_is_skipped(db_url, tmp_path, lang, skipped,
                                                           created):  # fmt: skip
    """A secretary fills in the template under its example row and leaves it there: the
    example is skipped and the import says so, whatever the city is called."""
    from openpyxl import load_workbook

    code, out, err = await cli(tmp_path, db_url, "org", "add", "青山市委")
    assert code == 0, err
    code, out, err = await cli(
        tmp_path, db_url, "org", "add", "东风村党支部", "--parent", "青山市委", "--branch",
        "--domain", "village",
    )  # fmt: skip
    assert code == 0, err
    template = tmp_path / "template.xlsx"
    code, out, err = await cli(
        tmp_path, db_url, "export", "roster", "--template", str(template), lang=lang
    )
    assert code == 0, err

    def fill() -> list[str]:
        book = load_workbook(template)
        sheet = book.worksheets[0]
        assert sheet["B2"].font.italic  # the example looks like one
        category = sheet["E2"].value
        sheet.append(["", "李强", "东风村党支部", "", category, "", "", "13900000001"])
        sheet.append(["", "王芳", "东风村党支部", "", category])
        book.save(template)
        return [row[2] for row in book.worksheets[1].iter_rows(values_only=True)]

    notes = await asyncio.to_thread(fill)
    assert any("skips" in n or "跳过" in n for n in notes)
    code, out, err = await cli(tmp_path, db_url, "import", "roster", str(template), lang=lang)
    assert code == 0 and skipped in out and created in out, (out, err)


def test_every_kind_of_history_is_said_in_words() -> None:
    """Whatever table points at an organisation (read from the schema, as remove_org
    does), a refused removal names it in words, not by the table's name."""
    from bot.db.models import Organisation, load_all
    from bot.i18n import gettext_for
    from bot.texts import history_words

    tables = {
        table.name
        for table in load_all().sorted_tables
        for fk in table.foreign_keys
        if fk.column.table is Organisation.__table__
    }
    zh = gettext_for("zh_Hans")
    for name in tables:
        words = history_words({name: 2}, zh)
        assert name not in words and "2" in words, words
    assert history_words({"member": 2, "meeting": 3}, zh) == "党员 2 名、会议 3 次"
