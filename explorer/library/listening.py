"""What the listener heard of the song on screen.

The player reports every stretch it played (:meth:`explorer.audio.playback.Player.take_heard`);
the window adds those of the song on screen to a :class:`Listening`, and when the listener leaves
the song it hands :attr:`Listening.heard` to :meth:`explorer.library.store.Library.record_play`,
which counts the listen as a play, a partial listen or a skip.  What is heard is the *union* of
the stretches: looping one chorus ten times is not listening to the whole song.
"""

from __future__ import annotations

import bisect

from explorer.library.store import SKIP_FRACTION

#: A listen shorter than this (s) is not worth recording (a click that was stopped at once).
MIN_RECORDED = 1.0
#: Playback that starts this close to the beginning (s) plays the song "from the top".
TOP = 1.0


class Listening:
    """The stretches of one song that were played, merged.

    Parameters
    ----------
    path : str
        The song.
    duration : float
        Its length (s).
    """

    def __init__(self, path: str, duration: float):
        self.path = path
        self.duration = float(duration)
        self._starts: list[float] = []
        self._ends: list[float] = []
        #: Whether some stretch started at the beginning of the song.
        self.from_the_top = False

    def add(self, start: float, end: float) -> None:
        """``[start, end)`` seconds of the song were played."""
        a = min(max(float(start), 0.0), self.duration)
        b = min(max(float(end), 0.0), self.duration)
        if b <= a:
            return
        self.from_the_top = self.from_the_top or a <= TOP
        # merge [a, b) into the sorted, disjoint stretches
        i = bisect.bisect_left(self._ends, a)
        j = bisect.bisect_right(self._starts, b)
        if i < j:
            a = min(a, self._starts[i])
            b = max(b, self._ends[j - 1])
        self._starts[i:j] = [a]
        self._ends[i:j] = [b]

    @property
    def heard(self) -> float:
        """Seconds of the song heard, each moment counted once."""
        return float(sum(e - s for s, e in zip(self._starts, self._ends)))

    @property
    def fraction(self) -> float:
        return self.heard / self.duration if self.duration > 0 else 0.0

    def worth_recording(self) -> bool:
        """Whether this listen belongs in the history: at least :data:`MIN_RECORDED` seconds, and,
        when it is short enough to count as a skip, the song was started from the top.  Clicking a
        section or two of a song to hear them is exploring it, not giving up on it, and a skip
        counts against a song in the "For you" ranking."""
        if self.heard < MIN_RECORDED:
            return False
        return self.fraction >= SKIP_FRACTION or self.from_the_top
