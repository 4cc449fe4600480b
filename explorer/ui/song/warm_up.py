"""Warming up the analysis stack while the user looks at the new window."""

from __future__ import annotations

from explorer.services import analysis_helper as analysis_process
from explorer.ui.tasks import Task


class WarmUpJob(Task):
    """Start the analysis helper process (it imports the analysis stack: librosa, scipy, the genre
    model …) and import what this process needs for the first song and the first scan: decoding,
    the cache (its key names the analysis and model versions), playback and tag reading, while the
    user looks at the new window.
    Finishes with the module names.

    The analysis stack itself is not imported here: only the helper and the scanner's workers
    run it, and importing it in a thread of this process would hold the GIL for seconds (every
    module also passes PySide's import hook), stalling the GUI thread just as the user starts.
    """

    MODULES = (
        "explorer.audio.decode",
        "explorer.library.cache",
        "explorer.audio.playback",
        "simpleaudio",
        "explorer.services.scan",
        "mutagen.mp3",
        "mutagen.flac",
        "mutagen.oggvorbis",
        "mutagen.mp4",
        "numpy.ma",
    )  # numpy.ma: pyqtgraph's image levels

    def work(self) -> tuple[str, ...]:
        import importlib

        analysis_process.start()
        for name in self.MODULES:
            self.check()
            importlib.import_module(name)
        from explorer.library.cache import analysis_version

        analysis_version()
        return self.MODULES
