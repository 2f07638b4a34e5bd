"""The graph audit: FLOPs and dtypes read from traced graphs, the float16 criteria, traces and host syncs of the loop."""

import operator
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests import ROOT
from tfstylegan.training import distribute
from tfstylegan.training.config import TrainConfig
from tfstylegan.training.graph_audit import audit_graph
from tfstylegan.training.loop_audit import HostSyncCounter, audit_training_loop
from tfstylegan.training.trainer import Trainer

sys.path.insert(0, str(ROOT / "bench"))

from bench_generate import build_generate  # noqa: E402
from train_timing import build_train_step  # noqa: E402

TINY = dict(fmap_max=16, latent_size=16, dlatent_size=16, mapping_fmaps=16, mapping_layers=2)


def test_flops_dtypes_and_casts_of_a_hand_built_graph():
    @tf.function
    def fn(x, w, a, b, flag):
        with tf.GradientTape() as tape:
            tape.watch([x, w])
            y = tf.nn.conv2d(x, w, 1, "SAME")  # [2, 8, 8, 5]
            down = tf.nn.conv2d(y, tf.ones([3, 3, 5, 4]), 2, "SAME")  # [2, 4, 4, 4]
            loss = tf.reduce_sum(y) + tf.reduce_sum(down)
        dx, dw = tape.gradient(loss, [x, w])
        blurred = tf.nn.depthwise_conv2d(x, tf.ones([3, 3, 3, 1]), [1, 1, 1, 1], "SAME")  # [2, 8, 8, 3]
        product = tf.cond(flag, lambda: tf.matmul(a, b), lambda: 2.0 * tf.matmul(a, b, transpose_a=False))
        return dx, dw, blurred, product, tf.cast(x, tf.float16)

    specs = [tf.TensorSpec(s) for s in ([2, 8, 8, 3], [3, 3, 3, 5], [4, 6], [6, 7])]
    audit = audit_graph(fn.get_concrete_function(*specs, tf.TensorSpec([], tf.bool)))
    flops = {}
    for n in audit.nodes:
        flops.setdefault((n.op, n.resolution), []).append(n.flops)
    conv = 2 * (2 * 8 * 8 * 5) * (3 * 3 * 3)  # 2 x outputs x taps of the 3x3x3 filter
    strided = 2 * (2 * 4 * 4 * 4) * (3 * 3 * 5)
    # Each of a conv's two gradients does the forward conv's multiply-adds (the graph holds
    # the filter gradient of the constant filter too: TensorFlow prunes it before running).
    # The strided conv reads 8x8 activations: resolution 8.
    for op in ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter"):
        assert sorted(flops[(op, 8)]) == sorted([conv, strided]), op
    assert flops[("DepthwiseConv2dNative", 8)] == [2 * (2 * 8 * 8 * 3) * 9]
    # One MatMul in each branch of the cond, found in the function library.
    matmuls = [n for n in audit.nodes if n.op == "MatMul"]
    assert [n.flops for n in matmuls] == [2 * 4 * 6 * 7] * 2 and all(n.function and n.calls == 1 for n in matmuls)
    assert all(n.dtype == "float32" for n in audit.nodes)
    assert audit.share("float16") == 0.0 and audit.share("float32") == 1.0
    assert audit.cast_counts(floats_only=True) == {("float32", "float16"): 1}
    assert audit.cast_elements(floats_only=True) == {("float32", "float16"): 2 * 8 * 8 * 3}


def _step_audits(resolution, precision, num_fp16_res=None, D_loss="D_logistic_simplegp"):
    setup = build_train_step(
        distribute.make_strategy("default"), resolution, 4, 64, precision, num_fp16_res, D_loss=D_loss, **TINY
    )
    d = audit_graph(setup.train.d_step.get_concrete_function(*setup.inputs))
    g = audit_graph(setup.train.g_step.get_concrete_function(setup.batch, 0))
    return {"D": d, "G": g}


def test_mixed_float16_computes_every_convolution_in_float16():
    audits = _step_audits(16, "mixed_float16")
    generate, latents = build_generate(16, 2, "mixed_float16", fmap_base=64, **TINY)
    audits["Gs"] = audit_graph(generate.get_concrete_function(latents))
    for name, audit in audits.items():
        # Convolutions include the blur's depthwise conv (and their gradients, R1's included).
        assert audit.select(("depthwise",), "float16"), name
        assert audit.share("float16") >= 0.99, (name, audit.flops_by_dtype())
        assert [n.name for n in audit.select(dtype="float32")] == [], name
        assert audit.dtypes_by_resolution() == {4: {"float16"}, 8: {"float16"}, 16: {"float16"}}, name
        assert audit.share("float16", ("matmul",)) == 1.0, name


def test_num_fp16_res_4_computes_exactly_the_top_four_resolutions_in_float16():
    # Without R1, which only makes the graph longer to trace (the test above has it).
    for name, audit in _step_audits(64, "mixed_float16", num_fp16_res=4, D_loss="D_logistic").items():
        by_res = audit.dtypes_by_resolution(("conv", "depthwise", "matmul"))
        assert by_res == {4: {"float32"}, 8: {"float16"}, 16: {"float16"}, 32: {"float16"}, 64: {"float16"}}, name
        # The mapping network's dense layers (no resolution) stay in float32.
        mapping = [n for n in audit.select(("matmul",)) if n.resolution is None and "G_mapping" in n.name]
        assert mapping and {n.dtype for n in mapping} == {"float32"}, name


def test_num_fp16_res_casts_activations_once_at_the_float32_boundary():
    """D's activations go from one float16 resolution to the next without a float32 round trip."""
    setup = build_train_step(distribute.make_strategy("default"), 64, 4, 64, "mixed_float16", 4, **TINY)
    forward = tf.function(lambda x: setup.D(x, lod_range=(0, 1)))
    audit = audit_graph(forward.get_concrete_function(tf.TensorSpec([4, 64, 64, 3])))
    to_float32 = [c for c in audit.casts if (c.src, c.dst) == ("float16", "float32") and len(c.shape or ()) == 4]
    # Only into the float32 4x4 block: one activation and the 4x4 FromRGB of the fade.
    assert to_float32 and all(c.shape[1] == 4 for c in to_float32), [(c.name, c.shape) for c in to_float32]


def test_host_sync_counter_counts_every_kind_of_pull():
    x, i, flag, v = tf.constant(1.5), tf.constant(2), tf.constant(True), tf.Variable(3.0)
    with HostSyncCounter() as counter:
        x.numpy()
        float(x)
        int(i)
        bool(flag)
        operator.index(i)
        f"{x}"
        np.asarray(x)  # The buffer protocol: no Python call to see (see HostSyncCounter).
        counter.marker = 7
        str(x)
        v.numpy()
        float(v)
        _ = x * 2.0 + v  # Ops without a pull.
        tf.data.Dataset.range(4).batch(2)  # TensorFlow reads its own constants: not a sync.
    assert [m for m, _ in counter.events] == [0] * 6 + [7] * 3
    assert all(site.startswith("test_graph_audit.py:") for _, site in counter.events)
    assert counter.constant_reads
    float(x)
    assert len(counter.events) == 9  # Off outside the block.


@pytest.mark.slow
def test_training_loop_traces_once_per_resolution_and_syncs_once_per_group(data_dir, tmp_path):
    cfg = TrainConfig(
        data_dir=str(data_dir / "small" / "dataset" / "rgb32"),
        resolution=8,
        G_args=dict(fmap_base=32, fmap_max=16, latent_size=8, dlatent_size=8, mapping_fmaps=8, mapping_layers=1),
        D_args=dict(fmap_base=32, fmap_max=16),
        D_loss="D_logistic",  # R1 only slows tracing; the loop is the same.
        D_loss_args={},
        total_kimg=0.064,
        sched_args=dict(
            lod_initial_resolution=4,  # 4x4, fade to 8x8, then two groups at 8x8 (the fade reuses 8x8's trace).
            lod_training_kimg=0.016,  # One minibatch group (4 x 4 images) per phase.
            lod_transition_kimg=0.016,
            minibatch_base=4,
            minibatch_dict={},
            tick_kimg_base=1.0,  # One tick, at the end.
            tick_kimg_dict={},
        ),
        image_snapshot_ticks=100,
        network_snapshot_ticks=100,
        grid_size="2x2",
        result_dir=str(tmp_path),
        config="audit",
        seed=1,
    )
    trainer = Trainer(cfg)
    audit = audit_training_loop(trainer)
    assert audit.traces == {(phase, res): 1 for phase in "DG" for res in (4, 8)}
    assert sum(audit.traces.values()) == sum(trainer.steps.traces.values())  # TrainSteps' own count agrees.
    assert len(audit.groups) == 4 and audit.tick_groups == {3}
    assert max(audit.syncs_outside_ticks()) <= 1, audit.sites_outside_ticks()
    assert len(audit.groups[3]) > 10  # The tick reads losses and saves weights: the counter is live.
