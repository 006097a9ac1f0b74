"""needplan: plan an economy for the best satisfaction of human needs, and simulate plans executed by people.

The names below load on first use (PEP 562): ``import needplan`` alone, and the command line's help, import no
numpy, pandas or scipy.
"""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from needplan.errors import EconomyError, NeedplanError

if TYPE_CHECKING:
    from needplan.data.pymrio_bridge import from_pymrio, to_pymrio
    from needplan.economy import Economy, build_economy, read_economy, write_economy

__version__ = "0.1.0"

__all__ = ["Economy", "EconomyError", "NeedplanError", "build_economy", "from_pymrio", "read_economy", "to_pymrio",
           "write_economy"]

_LAZY = {"Economy": "needplan.economy", "build_economy": "needplan.economy", "read_economy": "needplan.economy",
         "write_economy": "needplan.economy", "from_pymrio": "needplan.data.pymrio_bridge",
         "to_pymrio": "needplan.data.pymrio_bridge"}
"""Each public name that loads on first use, and the module it comes from."""

if not TYPE_CHECKING:  # hidden from mypy, which sees the imports above (and so still flags a misspelt name)
    def __getattr__(name: str) -> Any:
        if name in _LAZY:
            value = getattr(import_module(_LAZY[name]), name)
        elif not name.startswith("_") and find_spec(f"{__name__}.{name}") is not None:
            # A submodule (needplan.economy, needplan.analysis ...): ``import needplan`` imported several of them
            # before, so code that used them without importing them goes on working.
            value = import_module(f"{__name__}.{name}")
        else:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        globals()[name] = value  # once: later look-ups find it here
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
