"""The `warroom` command line (entry point: warroom.cli.main)."""
