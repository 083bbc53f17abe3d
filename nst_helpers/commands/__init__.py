"""Subcommands of the `nst` command, one module each (see nst_helpers.cli)."""
