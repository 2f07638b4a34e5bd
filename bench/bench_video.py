"""Video rendering speed and memory for the FFHQ architecture at 256x256.

Renders a seed-interpolation video (W lerp, truncation 0.7 / cutoff 8, stored noise) with a
randomly initialised Gs of the original FFHQ configuration, once short (``--warmup``
frames: traces and allocator warm-up) and once long (``--frames``), for each format
(GIF always, MP4 when imageio-ffmpeg is installed). Prints frames/s and the process's
resident memory (RSS) during the long video: if the writer streams, the RSS at the end is
the RSS near the start, and the peak does not grow with the number of frames.

Timings on a shared CPU vary with background load.

Usage: python bench/bench_video.py [--resolution 256] [--frames 600] [--batch 8] [--formats gif,mp4]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

from tfstylegan import video  # noqa: E402
from tfstylegan.networks import GStyle  # noqa: E402
from tfstylegan.video_writer import mp4_available  # noqa: E402


def rss_mib() -> float:
    """The current resident set size of this process."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def render(Gs, path: str, frames: int, batch: int, samples: list | None = None) -> float:
    """Seconds to render ``frames`` frames; ``samples`` collects ``(frame, RSS MiB, time)`` per batch."""
    seeds = list(range(10))
    per_seed = max(frames // len(seeds), 1)

    def progress(done, total):
        if samples is not None:
            samples.append((done, rss_mib(), time.perf_counter()))

    t0 = time.perf_counter()
    video.interpolation_video(
        Gs, path, seeds, space="w", fps=per_seed, seconds_per_seed=1.0, batch_size=batch, progress=progress
    )
    return time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--warmup", type=int, default=60)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--formats", default="gif,mp4")
    args = parser.parse_args()
    print(f"tensorflow {tf.__version__}, cpu threads {os.cpu_count()}, mp4 available {mp4_available()}")
    Gs = GStyle(num_channels=3, resolution=args.resolution, label_size=0, name="Gs")
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats.split(","):
            if fmt == "mp4" and not mp4_available():
                print("mp4: skipped (pip install imageio imageio-ffmpeg)")
                continue
            path = os.path.join(tmp, f"bench.{fmt}")
            warm = render(Gs, path, args.warmup, args.batch)
            peak_before = peak_rss_mib()
            samples = []
            seconds = render(Gs, path, args.frames, args.batch, samples)
            size = os.path.getsize(path) / 2**20
            marks = [samples[0], samples[len(samples) // 2], samples[-1]]
            steady = (samples[-1][0] - samples[0][0]) / (
                samples[-1][2] - samples[0][2]
            )  # after the first batch
            print(
                f"{fmt}: {args.resolution}x{args.resolution}, {samples[-1][0]} frames in {seconds:.1f} s "
                f"(with the trace); {steady:.2f} frames/s after the first batch; file {size:.1f} MiB "
                f"(warm-up: {args.warmup} frames in {warm:.1f} s)"
            )
            print(
                "  RSS " + ", ".join(f"{mib:.0f} MiB at frame {frame}" for frame, mib, _ in marks)
                + f"; peak {peak_before:.0f} MiB after the warm-up, {peak_rss_mib():.0f} MiB after the long video"
            )  # fmt: skip


if __name__ == "__main__":
    main()
