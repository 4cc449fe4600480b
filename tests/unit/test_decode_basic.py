import numpy as np
import pytest
from conftest import tone

from explorer.audio.decode import decode
from explorer.errors import EmptyAudio, FileMissing


def test_wav_is_sample_exact(make_audio):
    y = tone(1.0, 44100, channels=2)
    path = make_audio("a.wav", y, 44100, "-c:a", "pcm_s16le")
    b = decode(path)
    assert (b.sr, b.channels, b.n_frames) == (44100, 2, 44100)
    expected = np.round(y * 32767) / 32768  # what 16-bit storage keeps
    assert np.allclose(b.samples, np.clip(np.round(y * 32768), -32768, 32767) / 32768, atol=1.5 / 32768)
    assert not b.samples.flags.writeable
    assert expected.shape == b.samples.shape


def test_missing_and_empty(tmp_path):
    with pytest.raises(FileMissing, match="not found"):
        decode(tmp_path / "nope.mp3")
    empty = tmp_path / "e.mp3"
    empty.write_bytes(b"")
    with pytest.raises(EmptyAudio, match="empty"):
        decode(empty)
