"""Videos from a generator: latent interpolation, style mixing, stochastic variation, projection.

Modes (each writes one ``.mp4`` or ``.gif``, see :mod:`tfstylegan.video_writer`):

- :func:`interpolation_video`: a closed loop through seeds, ``seconds_per_seed`` from
  each to the next (the last returns to the first). ``space='z'`` follows great circles
  between the latents (slerp), ``space='w'`` interpolates the mapped dlatents linearly.
- :func:`style_mix_video`: one seed's image whose styles in some layers (e.g. the coarse
  layers 0-3) come from a loop through other seeds, the paper's figure 3 in motion.
- :func:`noise_video`: one seed's dlatents fixed and the noise inputs animated, the
  paper's stochastic variation (figure 4): each animated map moves along the circle
  ``a cos(theta) + b sin(theta)`` between the stored map ``a`` and a fresh N(0, 1) map
  ``b``, which keeps every pixel N(0, 1) and closes the loop (frame 0 uses the stored noise).
- :func:`projection_video`: a projection as it runs, the target beside the projection
  (:func:`projection_frames` for several targets at once); :func:`progress_video`: a
  projection's saved progress (``progress.npz``) afterwards.

Frames are rendered in compiled batches (:class:`~tfstylegan.rendering.Renderer`) and
streamed to the file, so memory stays flat. Seeds mean
``np.random.RandomState(seed).randn(latent_size)``; truncation (``truncation_psi``,
``truncation_cutoff``; None = the network's configured values) is applied to the dlatents
of every frame. Except in the noise mode, every frame uses the stored noise inputs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence

import keras
import numpy as np

from tfstylegan import generation
from tfstylegan.progress import Progress, progress_callback
from tfstylegan.rendering import Renderer
from tfstylegan.video_writer import VideoWriter

SPACES = ("z", "w")


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation of rows ``[N, D]`` at ``t`` ``[N]``.

    Directions move along the great circle, norms linearly (the mapping network
    pixel-normalises its input, so there only the direction matters). Nearly parallel
    rows fall back to a lerp of the directions.
    """
    t = np.asarray(t, np.float64)[:, np.newaxis]  # [N, 1]
    norm_a, norm_b = np.linalg.norm(a, axis=-1, keepdims=True), np.linalg.norm(b, axis=-1, keepdims=True)
    a, b = a / norm_a, b / norm_b
    omega = np.arccos(np.clip(np.sum(a * b, axis=-1, keepdims=True), -1.0, 1.0))  # [N, 1]
    sin = np.sin(omega)
    safe = np.where(sin > 1e-6, sin, 1.0)
    out = np.where(
        sin > 1e-6, (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / safe, (1 - t) * a + t * b
    )
    return out / np.linalg.norm(out, axis=-1, keepdims=True) * ((1 - t) * norm_a + t * norm_b)


def _frames_per_seed(fps: float, seconds_per_seed: float) -> int:
    frames = int(round(fps * seconds_per_seed))
    if frames < 1:
        raise ValueError(
            f"fps * seconds_per_seed must give at least one frame, got {fps} * {seconds_per_seed}"
        )
    return frames


def _loop_position(frames: np.ndarray, frames_per_seed: int, num_seeds: int):
    """``(from, to, t)`` of each frame index: seed indices and the fraction between them."""
    seg = frames // frames_per_seed
    return seg % num_seeds, (seg + 1) % num_seeds, (frames % frames_per_seed) / frames_per_seed


def _seed_dlatents(renderer: Renderer, latents: np.ndarray, label) -> np.ndarray:
    """Untruncated dlatents ``[n, L, D]`` of latents ``[n, latent_size]``, in the renderer's batches."""
    return renderer.map(latents, generation.tile_label(renderer.Gs, label, len(latents)))


class _Loop:
    """Dlatents ``[b, L, D]`` of frame indices on a closed loop through seeds (untruncated)."""

    def __init__(self, renderer: Renderer, seeds: Sequence[int], frames_per_seed: int, space: str, label):
        if space not in SPACES:
            raise ValueError(f"space must be one of {', '.join(SPACES)}, got {space!r}")
        if len(seeds) < 2:
            raise ValueError(f"a loop needs at least two seeds, got {list(seeds)}")
        self.renderer, self.space, self.frames_per_seed, self.label = renderer, space, frames_per_seed, label
        self.latents = generation.seed_latents(seeds, renderer.Gs.cfg.latent_size)  # [K, latent_size]
        self.keys = _seed_dlatents(renderer, self.latents, label)  # [K, L, D]

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        i, j, t = _loop_position(frames, self.frames_per_seed, len(self.keys))
        if self.space == "z":
            return _seed_dlatents(
                self.renderer, slerp(self.latents[i], self.latents[j], t).astype(np.float32), self.label
            )
        t = t.astype(np.float32)[:, np.newaxis, np.newaxis]  # [b, 1, 1]
        return self.keys[i] + (self.keys[j] - self.keys[i]) * t


def render_video(
    Gs: keras.Model,
    path: str,
    num_frames: int,
    dlatents_of: Callable[[np.ndarray], np.ndarray],
    noise_of: Callable[[np.ndarray], list] | None = None,
    *,
    fps: float = 30.0,
    truncation_psi: float | None = None,
    truncation_cutoff: int | None = None,
    batch_size: int = 8,
    progress: bool | Progress | None = True,
    renderer: Renderer | None = None,
    beside: np.ndarray | None = None,
) -> int:
    """Render ``num_frames`` frames in compiled batches and stream them to ``path``.

    Args:
        dlatents_of: Frame indices ``[b]`` -> untruncated dlatents ``[b, L, D]``.
        noise_of: Frame indices ``[b]`` -> one ``[b, H, W, 1]`` map per layer; None = stored noise.
        renderer: A renderer to reuse (else one of ``batch_size`` is built).
        beside: uint8 ``[R, W, C]`` put left of every frame (a projection's target).

    Returns:
        The number of frames written.
    """
    renderer = renderer or Renderer(Gs, batch_size)
    report = progress_callback(progress)
    with VideoWriter(path, fps) as writer:
        for start in range(0, num_frames, renderer.batch_size):
            frames = np.arange(start, min(start + renderer.batch_size, num_frames))
            dlatents = dlatents_of(frames)
            dlatents = generation.truncate(Gs, dlatents, truncation_psi, truncation_cutoff).numpy()
            for image in renderer.images(dlatents, None if noise_of is None else noise_of(frames)):
                writer.append(image if beside is None else _beside(beside, image))
            report(int(frames[-1]) + 1, num_frames)
    return num_frames


def interpolation_video(
    Gs: keras.Model,
    path: str,
    seeds: Sequence[int],
    *,
    space: str = "z",
    fps: float = 30.0,
    seconds_per_seed: float = 2.0,
    label=None,
    **kwargs,
) -> int:
    """A closed loop through ``seeds``: ``len(seeds) * round(fps * seconds_per_seed)`` frames.

    Frame ``k * frames_per_seed`` is seed ``k``'s image; ``space`` is ``'z'`` (slerp) or
    ``'w'`` (lerp). ``kwargs``: ``truncation_psi``, ``truncation_cutoff``, ``batch_size``,
    ``progress`` of :func:`render_video`. Returns the number of frames.
    """
    per_seed = _frames_per_seed(fps, seconds_per_seed)
    renderer = Renderer(Gs, kwargs.pop("batch_size", 8))
    loop = _Loop(renderer, seeds, per_seed, space, label)
    return render_video(Gs, path, len(seeds) * per_seed, loop, fps=fps, renderer=renderer, **kwargs)


def style_mix_video(
    Gs: keras.Model,
    path: str,
    seed: int,
    seeds: Sequence[int],
    layers: Iterable[int],
    *,
    fps: float = 30.0,
    seconds_per_seed: float = 2.0,
    label=None,
    **kwargs,
) -> int:
    """Seed ``seed``'s image with the styles of ``layers`` taken from a W loop through ``seeds``.

    ``layers``: layer indices, e.g. ``range(0, 4)`` (coarse), ``range(4, 8)`` (middle),
    ``range(8, num_layers)`` (fine). ``kwargs`` as :func:`interpolation_video`.
    """
    layers = list(layers)
    if not layers or not all(0 <= i < Gs.num_layers for i in layers):
        raise ValueError(f"layers must be a non-empty set of indices in 0-{Gs.num_layers - 1}, got {layers}")
    per_seed = _frames_per_seed(fps, seconds_per_seed)
    renderer = Renderer(Gs, kwargs.pop("batch_size", 8))
    loop = _Loop(renderer, seeds, per_seed, "w", label)
    base = _seed_dlatents(renderer, generation.seed_latents([seed], Gs.cfg.latent_size), label)  # [1, L, D]
    mixed = np.isin(np.arange(Gs.num_layers), layers)[:, np.newaxis]  # [L, 1]

    def dlatents_of(frames):
        return np.where(mixed, loop(frames), base)

    return render_video(Gs, path, len(seeds) * per_seed, dlatents_of, fps=fps, renderer=renderer, **kwargs)


def noise_video(
    Gs: keras.Model,
    path: str,
    seed: int,
    *,
    noise_layers: Iterable[int] | None = None,
    noise_seed: int = 0,
    fps: float = 30.0,
    seconds: float = 4.0,
    label=None,
    **kwargs,
) -> int:
    """Seed ``seed``'s dlatents with the noise of ``noise_layers`` (None = all) moving in a loop.

    The other layers keep the stored noise. The fresh maps come from
    ``RandomState(noise_seed)``. ``kwargs`` as :func:`interpolation_video`.
    """
    stored = [v.numpy().astype(np.float32) for v in Gs.synthesis.noise_inputs]
    if not stored:
        raise ValueError("the network has no noise inputs (use_noise=False)")
    animated = set(range(len(stored)) if noise_layers is None else noise_layers)
    if not animated or not animated <= set(range(len(stored))):
        raise ValueError(
            f"noise_layers must be a non-empty set of indices in 0-{len(stored) - 1}, got {sorted(animated)}"
        )
    rnd = np.random.RandomState(noise_seed)
    fresh = [rnd.randn(*a.shape).astype(np.float32) for a in stored]  # one per layer, drawn for all
    num_frames = _frames_per_seed(fps, seconds)
    renderer = Renderer(Gs, kwargs.pop("batch_size", 8))
    keys = _seed_dlatents(renderer, generation.seed_latents([seed], Gs.cfg.latent_size), label)  # [1, L, D]

    def noise_of(frames):
        theta = (2 * np.pi * frames / num_frames).astype(np.float32).reshape(-1, 1, 1, 1)  # [b, 1, 1, 1]
        return [
            np.cos(theta) * a + np.sin(theta) * b
            if k in animated
            else np.broadcast_to(a, [len(frames), *a.shape[1:]])
            for k, (a, b) in enumerate(zip(stored, fresh))
        ]

    return render_video(
        Gs,
        path,
        num_frames,
        lambda frames: np.repeat(keys, len(frames), 0),
        noise_of,
        fps=fps,
        renderer=renderer,
        **kwargs,
    )


def progress_video(
    Gs: keras.Model,
    path: str,
    dlatents: np.ndarray,
    noise: Sequence[np.ndarray] | None = None,
    target: np.ndarray | None = None,
    **kwargs,
) -> int:
    """A projection's saved progress as a video: frame k renders the dlatents of snapshot k.

    Args:
        dlatents: ``[K, num_layers, dlatent_size]``, e.g. of
            :func:`~tfstylegan.projection_files.load_progress`; used as they are (no truncation).
        noise: One ``[1, H, W, 1]`` map per layer for every frame (the projection's own,
            which are its final maps: they are not kept per snapshot); None = the stored noise.
        target: uint8 ``[R, R, C]`` put left of every frame.
        kwargs: ``fps``, ``batch_size``, ``progress`` of :func:`render_video`.

    Returns:
        The number of frames written.
    """
    dlatents = np.asarray(dlatents, np.float32)

    def noise_of(frames):
        return [np.broadcast_to(np.asarray(m, np.float32), [len(frames), *np.shape(m)[1:]]) for m in noise]

    return render_video(
        Gs,
        path,
        len(dlatents),
        lambda frames: dlatents[frames],
        None if noise is None else noise_of,
        truncation_psi=1.0,
        beside=target,
        **kwargs,
    )


def _beside(target: np.ndarray, image: np.ndarray) -> np.ndarray:
    return np.concatenate([target, image], axis=1)  # [R, 2R, C]


@contextlib.contextmanager
def projection_frames(paths: Sequence[str], targets: np.ndarray, fps: float = 30.0, with_target: bool = True):
    """An ``on_frame(step, images)`` for :meth:`~tfstylegan.projection.Projector.run` that streams videos.

    Target ``i``'s frames (itself beside its projection, or the projection alone) go to
    ``paths[i]``; every file appears when the ``with`` block ends without an error.
    """
    with contextlib.ExitStack() as stack:
        writers = [stack.enter_context(VideoWriter(p, fps)) for p in paths]

        def on_frame(step, images):
            for writer, target, image in zip(writers, targets, images):
                writer.append(_beside(target, image) if with_target else image)

        yield on_frame


def projection_video(
    projector,
    target: np.ndarray,
    path: str,
    *,
    steps: int = 1000,
    frame_every: int = 5,
    fps: float = 30.0,
    with_target: bool = True,
    progress: bool | Progress | None = True,
    **run_kwargs,
):
    """A video of one target's projection: a frame before the first step and every ``frame_every`` steps.

    Args:
        projector: A :class:`~tfstylegan.projection.Projector`.
        target: uint8 ``[R, R, C]``.
        with_target: Put the target left of the projection in every frame.
        run_kwargs: ``seed``, ``noise_init`` of :meth:`Projector.run`.

    Returns:
        The :class:`~tfstylegan.projection.ProjectionResult`.
    """
    report = progress_callback(progress)
    total = steps // frame_every + 1 + (steps % frame_every > 0)
    done = []
    with projection_frames([path], target[np.newaxis], fps, with_target) as frames:

        def on_frame(step, images):
            frames(step, images)
            done.append(step)
            report(len(done), total)

        return projector.run(
            target[np.newaxis], steps, on_frame=on_frame, frame_every=frame_every, **run_kwargs
        )
