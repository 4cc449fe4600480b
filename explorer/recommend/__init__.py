"""Recommendations from the user's library: by genre, by sound and by the listener's taste (headless)."""

from explorer.recommend.rank import MODES, Recommendation, recommend, why_nothing

__all__ = ["MODES", "Recommendation", "recommend", "why_nothing"]
