"""The headless front doors: the ``music-explorer`` subcommands (no Qt here)."""
