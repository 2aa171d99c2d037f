"""``python -m xls_gongkai`` runs the command line."""

from xls_gongkai.cli import main

main()
