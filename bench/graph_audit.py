"""What the training steps and Gs compute in which precision, read from their traced graphs,
and how often a training run retraces its steps and pulls values to the host.

    python bench/graph_audit.py                    # tiny networks at 64x64, then a short tiny run (a minute or two)
    python bench/graph_audit.py --ffhq --resolution=1024 --skip_loop   # the FFHQ architecture (tracing only)

Part 1 traces the D step (logistic loss + R1, and the Gs update), the G step and Gs
generation under each precision policy (float32, mixed_float16, mixed_bfloat16, and
mixed_float16 with only the top ``--num_fp16_res`` resolutions in float16) without
running them, and reports from each graph (see ``tfstylegan.training.graph_audit``):
the FLOPs of its convolutions (dense convolutions, the blur's depthwise convolution
and their gradients), the share computed in the policy's 16-bit type, the same share
for matrix products, the casts between float types (nodes and elements converted), the float32 convolutions left in a 16-bit graph and the
resolutions computed in 16 bits. FLOPs are counted over the whole graph (both branches
of a conditional, gradient nodes that TensorFlow prunes before running included).

Part 2 trains a tiny network through two lod transitions (4x4 -> 8x8 -> 16x16, built-in
shapes) and reports the traces per phase and resolution and the host syncs (values
pulled into Python) per minibatch group, apart from the groups that end with a tick.
"""

from __future__ import annotations

import argparse
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

TINY = dict(fmap_max=32, latent_size=16, dlatent_size=16, mapping_fmaps=16, mapping_layers=2)
SHORT = {"float32": "float32", "float16": "f16", "bfloat16": "bf16"}


def _policies(num_fp16_res: int) -> list[tuple[str, int | None]]:
    return [("float32", None), ("mixed_float16", None), ("mixed_bfloat16", None), ("mixed_float16", num_fp16_res)]


def audit_policy(strategy, args, precision: str, num_fp16_res: int | None) -> dict:
    """``{graph name: GraphAudit}`` of the D step, the G step and Gs generation under one policy."""
    from bench_generate import build_generate
    from train_timing import build_train_step

    from tfstylegan.training.graph_audit import audit_graph

    net_args = {} if args.ffhq else dict(TINY, fmap_base=args.fmap_base)
    fmap_base = net_args.pop("fmap_base", 8192)
    setup = build_train_step(strategy, args.resolution, args.minibatch, fmap_base, precision, num_fp16_res, **net_args)
    generate, latents = build_generate(args.resolution, args.minibatch, precision, num_fp16_res, fmap_base=fmap_base, **net_args)
    return {
        "D step": audit_graph(setup.train.d_step.get_concrete_function(*setup.inputs)),
        "G step": audit_graph(setup.train.g_step.get_concrete_function(setup.batch, 0)),
        "Gs": audit_graph(generate.get_concrete_function(latents)),
    }


def print_graphs(strategy, args) -> None:
    print(
        f"{'policy':<24} {'graph':<7} {'conv GFLOP':>10} {'16-bit':>7} {'matmul 16-bit':>13} {'casts':>6} "
        f"{'cast Melem':>10} {'f32 convs':>9}  resolutions in 16 bits"
    )
    for precision, num_fp16_res in _policies(args.num_fp16_res):
        low = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}.get(precision)
        name = precision if num_fp16_res is None else f"{precision}, top {num_fp16_res} res"
        for graph, audit in audit_policy(strategy, args, precision, num_fp16_res).items():
            flops = sum(audit.flops_by_dtype().values())
            share = f"{audit.share(low):.1%}" if low else "-"
            mm_share = f"{audit.share(low, ('matmul',)):.1%}" if low else "-"
            f32 = audit.select(dtype="float32")
            # Casts between float types (not the int/bool bookkeeping of counters and conditions).
            casts, elements = sum(audit.cast_counts(True).values()), sum(audit.cast_elements(True).values())
            by_res = audit.dtypes_by_resolution()
            low_res = ",".join(str(r) for r, dtypes in by_res.items() if low in dtypes) if low else "-"
            print(
                f"{name:<24} {graph:<7} {flops / 1e9:>10.3f} {share:>7} {mm_share:>13} {casts:>6} "
                f"{elements / 1e6:>10.3f} {len(f32) if low else '-':>9}  {low_res or 'none'}"
            )
            if low and num_fp16_res is None and f32:
                for node in f32[:10]:
                    print(f"    float32 {node.op} at {node.resolution}: {node.name}")


def print_loop(args) -> None:
    from tfstylegan.training.config import TrainConfig
    from tfstylegan.training.loop_audit import audit_training_loop
    from tfstylegan.training.trainer import Trainer

    with tempfile.TemporaryDirectory() as result_dir:
        cfg = TrainConfig(
            resolution=16,  # Of the built-in 32x32 shapes.
            synthetic_images=64,
            G_args=dict(fmap_base=32, fmap_max=16, latent_size=8, dlatent_size=8, mapping_fmaps=8, mapping_layers=1),
            D_args=dict(fmap_base=32, fmap_max=16),
            total_kimg=0.176,
            sched_args=dict(
                lod_initial_resolution=4, lod_training_kimg=0.032, lod_transition_kimg=0.032,
                minibatch_base=4, minibatch_dict={}, tick_kimg_base=0.064, tick_kimg_dict={},
            ),
            image_snapshot_ticks=100, network_snapshot_ticks=100, grid_size="2x2",
            result_dir=result_dir, config="audit", seed=1,
        )
        audit = audit_training_loop(Trainer(cfg))
    print("traces per phase and resolution: " + ", ".join(f"{p} {r}x{r}: {n}" for (p, r), n in sorted(audit.traces.items())))
    outside = audit.syncs_outside_ticks()
    print(
        f"minibatch groups: {len(audit.groups)}, ending with a tick: {sorted(audit.tick_groups)}; host syncs per group "
        f"outside ticks: {outside} (max {max(outside, default=0)})"
    )
    for site, count in audit.sites_outside_ticks().most_common():
        print(f"    {count:>4} x {site}")
    ticks = [len(audit.groups[i]) for i in sorted(audit.tick_groups)]
    print(f"host syncs of the groups ending with a tick: {ticks}; before the loop: {len(audit.before_loop)}; "
          f"TensorFlow's own constant reads (not syncs): {audit.constant_reads}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--minibatch", type=int, default=4)
    parser.add_argument("--fmap_base", type=int, default=64, help="feature-map base of the tiny networks")
    parser.add_argument("--ffhq", action="store_true", help="the FFHQ networks (fmap_base 8192, 512-d latents) instead")
    parser.add_argument("--num_fp16_res", type=int, default=4)
    parser.add_argument("--skip_loop", action="store_true", help="only the graphs (part 1)")
    args = parser.parse_args()
    import tensorflow as tf

    from tfstylegan.training import distribute

    print(f"tensorflow {tf.__version__}; graphs at {args.resolution}x{args.resolution}, minibatch {args.minibatch}")
    print_graphs(distribute.make_strategy("default"), args)
    if not args.skip_loop:
        print_loop(args)


if __name__ == "__main__":
    main()
