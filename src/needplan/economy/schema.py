"""The economy folder format as data: one row per column of every table.

Validation (``economy.io``) and the format documentation (``docs/format.md``, checked by a test against
:func:`schema_markdown`) are both generated from the tables below, so adding a column is one edit here.
This module must not read files or do arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FORMAT_VERSION = 1
"""The one folder format version this release reads and writes."""

GOOD_KINDS = ("product", "labour", "resource")
PRIMARY_KINDS = ("labour", "resource")

ColumnType = Literal["id", "good", "technique", "kind", "text", "number", "bool"]
Check = Literal["", "nonnegative", "positive", "nonnegative_or_empty"]


@dataclass(frozen=True)
class Column:
    """One column of a table: its name, type, whether it must be present, its default and its meaning."""

    name: str
    type: ColumnType
    required: bool
    default: float | str | bool | None
    check: Check
    unit: str
    description: str


@dataclass(frozen=True)
class Table:
    """One table of the folder, stored as ``<name>.csv`` or ``<name>.parquet``."""

    name: str
    required: bool
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


TABLES: tuple[Table, ...] = (
    Table(
        "goods",
        True,
        ("good",),
        (
            Column("good", "id", True, None, "", "", "unique id of the good"),
            Column("kind", "kind", True, None, "", "", "`product`, `labour` (a kind of labour) or `resource`"),
            Column("unit", "text", True, None, "", "", "unit of one amount of the good, e.g. `t`, `hours`"),
            Column("name", "text", False, "", "", "", "readable name"),
        ),
        "every good, kind of labour and primary resource of the economy",
    ),
    Table(
        "techniques",
        True,
        ("technique",),
        (
            Column("technique", "id", True, None, "", "", "unique id of the technique"),
            Column("good", "good", True, None, "", "", "the product it makes (must be of kind `product`)"),
            Column("output", "number", False, 1.0, "positive", "good per activity",
                   "amount of the product made per unit of activity"),
            Column("capacity", "number", False, None, "nonnegative_or_empty", "activity per period",
                   "largest activity per period; empty means unlimited"),
            Column("quality", "number", False, 1.0, "positive", "relative to standard",
                   "quality of its output relative to the standard product"),
        ),
        "ways of making products; a product may have several (alternatives), the first listed is its default",
    ),
    Table(
        "inputs",
        True,
        ("technique", "good"),
        (
            Column("technique", "technique", True, None, "", "", "the technique"),
            Column("good", "good", True, None, "", "", "a good it uses (products, labour and resources)"),
            Column("amount", "number", True, None, "nonnegative", "good per activity",
                   "amount used per unit of activity"),
        ),
        "inputs of each technique per unit of activity",
    ),
    Table(
        "outputs",
        False,
        ("technique", "good"),
        (
            Column("technique", "technique", True, None, "", "", "the technique"),
            Column("good", "good", True, None, "", "", "a joint product (kind `product`, not its main product)"),
            Column("amount", "number", True, None, "nonnegative", "good per activity",
                   "amount of the joint product per unit of activity"),
        ),
        "further joint products of a technique (optional file)",
    ),
    Table(
        "resources",
        True,
        ("good",),
        (
            Column("good", "good", True, None, "", "", "a labour or resource good"),
            Column("available", "number", True, None, "nonnegative", "good per period",
                   "amount available per period"),
        ),
        "what is available of each kind of labour and resource; a primary good not listed is unlimited",
    ),
    Table(
        "needs",
        True,
        ("good",),
        (
            Column("good", "good", True, None, "", "", "a product"),
            Column("target", "number", True, None, "nonnegative", "good per period", "final use wanted per period"),
            Column("weight", "number", False, 1.0, "nonnegative", "", "relative importance of the need"),
            Column("quality_weighted", "bool", False, True, "", "",
                   "count the need in quality-adjusted units, the best units made going to final use (`true`/`false`;"
                   " also `1`/`0`, `yes`/`no`, `y`/`n`, `t`/`f`, in any case)"),
        ),
        "final use wanted per period; products not listed have no target",
    ),
)

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}


def schema_markdown() -> str:
    """The tables of the format as Markdown, one section per table; ``docs/format.md`` embeds this text."""
    lines: list[str] = []
    for table in TABLES:
        need = "required" if table.required else "optional"
        lines.append(f"### `{table.name}.csv` / `{table.name}.parquet` ({need})")
        lines.append("")
        lines.append(table.description[0].upper() + table.description[1:] + ".")
        lines.append(f"One row per {' and '.join(f'`{k}`' for k in table.key)}.")
        lines.append("")
        lines.append("| column | required | default | check | unit | meaning |")
        lines.append("|---|---|---|---|---|---|")
        for c in table.columns:
            default = "" if c.default is None else str(c.default).lower()
            lines.append(
                f"| `{c.name}` | {'yes' if c.required else 'no'} | {default} | {c.check.replace('_', ' ')} "
                f"| {c.unit} | {c.description} |"
            )
        lines.append("")
    return "\n".join(lines)
