"""bot.services.xlsx: what it writes reads back in openpyxl as the ledgers need it."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import load_workbook

from bot.services.xlsx import Inert, Workbook, cell


def test_values_styles_and_layout_read_back() -> None:
    out = io.BytesIO()
    book = Workbook(out)
    first = book.sheet("支部 2026-06", ["名称", "Score", "Flag"], [30, 9])
    first.append([cell("=SUM(A1)"), Decimal("92.50"), True])
    first.append(['a & b <c> "d"', 3, None, 1.25])
    first.append(["  spaced  ", Decimal("7"), False])
    first.append(["bell\x07 and form feed\x0c gone", -2])
    book.sheet("Items: [2026/06]?", ["Only"], [])  # characters Excel forbids in a title
    book.save()

    read = load_workbook(io.BytesIO(out.getvalue()))
    sheet, items = read.worksheets
    assert sheet.title == "支部 2026-06" and items.title == "Items   2026 06  "
    assert sheet.freeze_panes == "A2" and items.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width == 30 and sheet.column_dimensions["B"].width == 9
    assert all(c.font.b for c in sheet[1][:3]) and not sheet["A2"].font.b
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("名称", "Score", "Flag", None)
    assert rows[1] == ("=SUM(A1)", 92.5, True, None)
    assert rows[2] == ('a & b <c> "d"', 3, None, 1.25)
    assert rows[3] == ("  spaced  ", 7, False, None)
    assert rows[4] == ("bell and form feed gone", -2, None, None)
    formula = sheet["A2"]
    assert formula.data_type == "s" and formula.quotePrefix  # text, shown as typed
    assert not sheet["A3"].quotePrefix and isinstance(sheet["B3"].value, int)


def test_only_formula_like_text_is_flagged() -> None:
    assert isinstance(cell("=1+1"), Inert) and isinstance(cell("@x"), Inert)
    assert type(cell("红旗村")) is str and cell(5) == 5 and cell(None) is None
