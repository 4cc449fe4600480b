"""Fuzz: a few hundred damaged copies of small valid wav/flac/mp3/ogg files (fixed seed).

Each must end, within a time budget, in either an :class:`ExplorerError` (one sentence naming the file) or a
valid AudioBuffer that the analysis pipeline turns into a valid Analysis — never another exception, a hang or a
crash of the test process.
"""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import numpy as np
import pytest
from badfiles import SEED, valid_seeds
from timing import budget

from explorer.analysis.pipeline import analyze
from explorer.audio import decode as decode_module
from explorer.errors import ExplorerError

CASES_PER_FORMAT = 50
#: Seconds one case may take (decoding a 1.5 s file takes ~0.2 s; generous for a loaded machine).
CASE_BUDGET = budget(20.0)
KINDS = ("header", "flip", "truncate", "splice", "size-field")


def mutate(data: bytes, kind: str, rng: random.Random) -> bytes:
    """One damaged copy of ``data``."""
    b = bytearray(data)
    if kind == "header":  # a few random bytes among the first 128
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(min(len(b), 128))] = rng.randrange(256)
    elif kind == "flip":  # random bit flips anywhere
        for _ in range(rng.randint(1, 32)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif kind == "truncate":
        del b[rng.randrange(len(b)) :]
    elif kind == "splice":  # a chunk removed, or repeated
        i = rng.randrange(len(b))
        j = min(len(b), i + rng.randint(1, 2048))
        b[i:j] = b"" if rng.random() < 0.5 else b[i:j] * 2
    elif kind == "size-field":  # a 32-bit field set to an extreme: 0, huge, or random
        i = rng.randrange(0, max(1, min(len(b), 256) - 4))
        b[i : i + 4] = rng.choice([b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\xff\xff\xff\x7f", rng.randbytes(4)])
    else:
        raise ValueError(kind)
    return bytes(b)


def check(path) -> str:
    """Decode and analyse ``path``; return "error" or "ok", raise AssertionError on anything else."""
    try:
        buffer = decode_module.decode(path)
    except ExplorerError as e:
        assert e.message.startswith(f"{path}: ") and "\n" not in e.message, e.message
        return "error"
    s = buffer.samples
    assert s.ndim == 2 and s.shape[0] > 0 and 1 <= s.shape[1] <= decode_module.MAX_CHANNELS and s.dtype == np.float32
    assert 1 <= buffer.sr <= decode_module.MAX_SAMPLE_RATE and np.isfinite(s).all()
    result = analyze(buffer)
    assert result.duration == pytest.approx(buffer.duration)
    assert all(0 <= sec.start < sec.end <= result.duration + 1e-6 for sec in result.sections)
    return "ok"


def test_fuzz_decode_and_analyse(tmp_path, monkeypatch):
    # ffmpeg's own watchdog, shortened: a stuck ffmpeg becomes an error well inside the case budget
    monkeypatch.setattr(decode_module, "DECODE_TIMEOUT_BASE", CASE_BUDGET / 2)
    seeds = valid_seeds(tmp_path / "seeds")
    rng = random.Random(SEED)
    cases = []
    for fmt, seed in seeds.items():
        data = seed.read_bytes()
        for i in range(CASES_PER_FORMAT):
            kind = KINDS[i % len(KINDS)]
            path = tmp_path / f"{fmt}-{i:03d}-{kind}.{fmt}"
            path.write_bytes(mutate(data, kind, rng))
            cases.append(path)
    outcomes: dict[str, int] = {"ok": 0, "error": 0}
    problems = []
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:  # ffmpeg runs in its own processes: two at a time
        futures = [(path, pool.submit(check, path)) for path in cases]
        for path, fut in futures:  # waited for in order: each gets its budget once the one before it is done
            try:
                outcomes[fut.result(timeout=CASE_BUDGET)] += 1
            except FutureTimeout:
                problems.append(f"{path.name}: no answer within {CASE_BUDGET:.0f} s")
            except Exception as e:  # noqa: BLE001 - collected and reported with the case's name
                problems.append(f"{path.name}: {type(e).__name__}: {e}")
    elapsed = time.monotonic() - t0
    print(f"fuzz: {len(cases)} cases in {elapsed:.1f} s: {outcomes}")
    assert not problems, "\n".join(problems)
    assert outcomes["ok"] > 0 and outcomes["error"] > 0  # the mutations reach both sides
