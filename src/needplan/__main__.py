"""``python -m needplan`` runs the command line."""

from needplan.cli import main

main()
