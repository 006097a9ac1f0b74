"""needplan: plan an economy for the best satisfaction of human needs, and simulate plans executed by people."""

from needplan.data.pymrio_bridge import from_pymrio, to_pymrio
from needplan.economy import Economy, build_economy, read_economy, write_economy
from needplan.errors import EconomyError, NeedplanError

__version__ = "0.1.0"

__all__ = ["Economy", "EconomyError", "NeedplanError", "build_economy", "from_pymrio", "read_economy", "to_pymrio",
           "write_economy"]
