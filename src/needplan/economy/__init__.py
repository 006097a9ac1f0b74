"""The data model: the immutable :class:`Economy`, its schema, validation, and economy folders on disk."""

from needplan.economy.io import read_economy, write_economy
from needplan.economy.model import LABOUR, PRODUCT, RESOURCE, Economy, Technology
from needplan.economy.schema import FORMAT_VERSION, TABLES, schema_markdown
from needplan.economy.validate import build_economy

__all__ = ["FORMAT_VERSION", "LABOUR", "PRODUCT", "RESOURCE", "TABLES", "Economy", "Technology",
           "build_economy", "read_economy", "schema_markdown", "write_economy"]
