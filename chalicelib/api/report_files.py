"""A report's rows as a CSV download: RFC 4180, safe to open in a spreadsheet.

A text cell that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, carriage
return first) is prefixed with `'` (OWASP's CSV injection advice); numbers are written as
numbers, so a negative amount stays a number a spreadsheet can sum.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """Header row of `columns`, then one line per row, CRLF line ends, quotes where needed."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(column)) for column in columns])
    return out.getvalue()
