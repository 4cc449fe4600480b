"""Argument types that the subcommands share: each turns bad input into one line of argparse's usage error."""

from __future__ import annotations

import argparse


def count(text: str) -> int:
    """A positive count for argparse (``-k``, ``-n``): at most :data:`MAX_COUNT`, one line when not."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid count: {text!r}") from None
    if not 1 <= n <= MAX_COUNT:
        raise argparse.ArgumentTypeError(f"{text}: must be between 1 and {MAX_COUNT}")
    return n


def seconds(text: str) -> float:
    """A time in seconds for argparse: a finite number, not negative."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid time in seconds: {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text}: must be a number of seconds, 0 or more")
    return value


#: Largest count accepted (``-k``, ``-n``): far more than any library, small enough for SQLite's integers.
MAX_COUNT = 1_000_000
