"""Errors that name where bad data entered: the file (or table), the row and the problem."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem in the input: ``where`` is e.g. ``"inputs.csv line 7"`` or ``"economy.toml"``."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class NeedplanError(Exception):
    """Base class of the errors needplan raises for bad input; the CLI prints them without a traceback."""


class EconomyError(NeedplanError, ValueError):
    """An economy folder or table that cannot be loaded; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem] | Problem, source: str = "") -> None:
        self.problems: tuple[Problem, ...] = tuple(problems) if isinstance(problems, list) else (problems,)
        self.source = source
        head = f"{source}: " if source else ""
        body = "\n".join(str(p) for p in self.problems)
        n = len(self.problems)
        super().__init__(f"{head}{n} problem{'s' if n != 1 else ''}\n{body}" if n > 1 else f"{head}{body}")

    def lines(self) -> list[str]:
        """One line per problem, each naming the file (with the folder) and the row."""
        out = []
        for p in self.problems:
            where = f"{self.source.rstrip('/')}/{p.where}" if self.source and p.where else (p.where or self.source)
            out.append(f"{where}: {p.message}" if where else p.message)
        return out


class OutputError(NeedplanError, ValueError):
    """An output path that cannot be written as asked (no name of its own, the current folder, an input)."""
