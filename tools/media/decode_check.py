"""Trust decoding, not the container: how much of a file really decodes.

A truncated MP4 keeps its index, so ffprobe reports the full length; asking ffmpeg for footage
past the real end makes it wait for frames that never come (and, in a filter graph with padding,
grow without bound). The probe decodes the first and the last seconds of the main stream and,
when the end does not decode, sweeps seek points across the film in one ffprobe run (a few
packets after each) and decodes from the last point that gave frames to the real end: four
short ffprobe runs even for a two-hour film.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from tools.core.child_processes import run_child
from tools.core.types import ToolError

# Seek points tried at once (one ffprobe run) when the end does not decode; packets read after each.
SWEEP_POINTS = 24
SEEK_PACKETS = 12


@dataclass(frozen=True)
class Decodable:
    start: float  # time of the first decoded frame
    end: float  # end of the last decoded frame (in the same clock as the container)
    truncated: bool  # the container claims more than decodes

    @property
    def duration(self) -> float:
        return max(0.0, self.end - self.start)


def frame_times(ffprobe: str, path: Path, stream: str, interval: str, timeout_s: float) -> list[float]:
    """Timestamps of the frames of `stream` ("v" or "a") that decode within `interval`
    (an ffprobe -read_intervals spec, e.g. "%+#48" or "12.5%")."""
    args = [ffprobe, "-v", "error", "-select_streams", f"{stream}:0", "-read_intervals", interval,
            "-show_entries", "frame=pts_time,best_effort_timestamp_time", "-of", "csv=p=0", "--", str(path)]
    proc = run_child(args, what=f"decode probe of {path.name}", timeout_s=timeout_s, check=False)
    times: list[float] = []
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        for field in line.split(","):
            try:
                value = float(field)
            except ValueError:
                continue
            if value == value and abs(value) != float("inf"):
                times.append(value)
                break
    return sorted(times)


def _step(times: list[float], fallback: float) -> float:
    diffs = [b - a for a, b in zip(times, times[1:]) if b > a]
    return statistics.median(diffs) if diffs else fallback


def check_decoding(path: Path, *, ffprobe: str, stream: str, claimed: float, rate: float | None,
                   probe_s: float = 2.0, timeout_s: float = 60.0) -> Decodable:
    """Decode the first and last `probe_s` seconds of `stream`; sweep for the real end when the
    last seconds do not decode. Raises ToolError when not even the first frame decodes."""
    step_guess = 1.0 / rate if rate else 0.02
    first_packets = max(4, int(probe_s / step_guess) + 1)
    head = frame_times(ffprobe, path, stream, f"%+#{first_packets}", timeout_s)
    if not head:
        kind = "video" if stream == "v" else "audio"
        raise ToolError(f"{path.name}: no {kind} frame decodes (the file is damaged or not really a "
                        f"{kind} file)", "check that the file plays, or re-export it")
    start, step = head[0], _step(head, step_guess)
    claimed_end = start + claimed
    tail_from = max(start, claimed_end - probe_s)
    tail = frame_times(ffprobe, path, stream, f"{tail_from:.3f}%", timeout_s)
    if not tail:  # the last seconds do not decode: find the last point that does in one sweep
        points = [start + (tail_from - start) * k / SWEEP_POINTS for k in range(SWEEP_POINTS)]
        spec = ",".join(f"{p:.3f}%+#{SEEK_PACKETS}" for p in points)
        seen = frame_times(ffprobe, path, stream, spec, timeout_s)
        last_good = max(seen) if seen else start
        tail = frame_times(ffprobe, path, stream, f"{last_good:.3f}%", timeout_s) or seen or head
    end = tail[-1] + step
    if claimed > 0:
        end = min(end, claimed_end)
    # Streams of one file often end a little apart; a second or more missing is a damaged file.
    return Decodable(start=start, end=end, truncated=claimed > 0 and end < claimed_end - max(1.0, 4 * step))
