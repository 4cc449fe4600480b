"""Small helpers every layer may use: threads, child processes, files, terminal text (no Qt here)."""
