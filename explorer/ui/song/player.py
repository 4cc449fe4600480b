"""The window's side of playback: one :class:`~explorer.audio.playback.Player`, a playhead clock.

The player is created on the first request (so ``ALSA_CONFIG_PATH`` set by a test before then is
honoured and start-up does not load simpleaudio).  While sound plays, a ~30 fps timer reads
``Player.position()`` and emits :attr:`PlayerController.positionChanged`; when playback ends by
itself the controller says so with :attr:`stateChanged`.  When the sound device cannot be opened,
:attr:`PlayerController.failed` carries the sentence to show (in the GUI thread); the next request
tries the device again.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from explorer.audio.buffer import AudioBuffer

#: Frames per second of the playhead.
PLAYHEAD_FPS = 30


class PlayerController(QObject):
    positionChanged = Signal(object)  # seconds from the start of the file, or None when stopped
    stateChanged = Signal(str)  # "playing", "paused" or "stopped"
    regionChanged = Signal(object)  # (start, end) of what plays now, or None
    failed = Signal(str)  # why playback could not start: "No sound output: …" (emitted from the playback thread)

    def __init__(self, parent=None, *, player=None):
        super().__init__(parent)
        self._player = player
        self._timer = QTimer(self)
        self._timer.setInterval(round(1000 / PLAYHEAD_FPS))
        self._timer.timeout.connect(self._tick)
        self._state = "stopped"
        self._region = None
        self.loop = False

    @property
    def player(self):
        if self._player is None:
            from explorer.audio.playback import Player

            self._player = Player(on_error=self._on_error)
        return self._player

    def _on_error(self, error) -> None:  # in the playback thread
        try:
            self.failed.emit(error.message)
        except RuntimeError:  # the window is already gone
            pass

    @property
    def state(self) -> str:
        return self._state

    # -- requests ----------------------------------------------------------------------
    def prepare(self, buffer: AudioBuffer) -> None:
        """Convert the song for the sound device in the background, so the first click plays at once."""
        self.player.prepare(buffer)

    def play(self, buffer: AudioBuffer, start: float, end: float | None = None, *, loop: bool = False) -> None:
        end = buffer.duration if end is None else end
        self.play_sequence(buffer, [(start, end)], loop=loop)

    def play_sequence(self, buffer: AudioBuffer, regions, *, loop: bool = False) -> None:
        regions = [(float(a), float(b)) for a, b in regions if b > a]
        if not regions:
            self.stop()
            return
        self.loop = loop
        self.player.play_sequence(buffer, regions, loop=loop)
        self._timer.start()
        self._set_state("playing")
        self._tick()

    def toggle(self) -> bool:
        """Pause or resume; False when there was nothing to pause or resume."""
        if self._player is None:
            return False
        if self._player.is_playing():
            self._player.pause()
            self._set_state("paused")
            self._tick()
            return True
        if self._player.is_paused():
            self._player.resume()
            self._timer.start()
            self._set_state("playing")
            return True
        return False

    def stop(self) -> None:
        if self._player is not None:
            self._player.stop()
        self._timer.stop()
        self._set_state("stopped")
        self._set_region(None)
        self.positionChanged.emit(None)

    def position(self) -> float | None:
        return None if self._player is None else self._player.position()

    def take_heard(self) -> list[tuple[str | None, float, float]]:
        """What was played since the last call (see :meth:`explorer.audio.playback.Player.take_heard`)."""
        return [] if self._player is None else self._player.take_heard()

    def wait(self, timeout: float | None = None) -> bool:
        return True if self._player is None else self._player.wait(timeout)

    # -- clock -------------------------------------------------------------------------
    def _tick(self) -> None:
        p = self._player
        if p is None:
            return
        pos = p.position()
        self._set_region(p.current_region())
        self.positionChanged.emit(pos)
        if not p.is_playing() and not p.is_paused():
            self._timer.stop()
            self._set_state("stopped")
            self._set_region(None)
            self.positionChanged.emit(None)
        elif p.is_paused():
            self._timer.stop()

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.stateChanged.emit(state)

    def _set_region(self, region) -> None:
        if region != self._region:
            self._region = region
            self.regionChanged.emit(region)
