"""SavedModel export of Gs: served in a fresh process without tfstylegan, equal to Gs.generate."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

import tfstylegan
from tfstylegan.cli import convert as convert_cli

# Runs in a fresh interpreter: plain TensorFlow only.
SERVE = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf

    export_dir, inputs, outputs = sys.argv[1:]
    model = tf.saved_model.load(export_dir)
    data = np.load(inputs)
    results = {}
    for name, (psi, cutoff) in json.loads(str(data["cases"])).items():
        args = dict(latents=tf.constant(data["latents"]), labels=tf.constant(data["labels"]),
                    truncation_psi=tf.constant(psi, tf.float32), truncation_cutoff=tf.constant(cutoff, tf.int32))
        results[name] = model.signatures["serving_default"](**args)["images"].numpy()
        seeds = tf.constant(data["noise_seeds"])
        results[name + "/random"] = model.signatures["random_noise"](**args, noise_seeds=seeds)["images"].numpy()
        results[name + "/random_again"] = model.signatures["random_noise"](**args, noise_seeds=seeds)["images"].numpy()
        results[name + "/random_row1"] = model.signatures["random_noise"](
            latents=args["latents"][1:2], labels=args["labels"][1:2], truncation_psi=args["truncation_psi"],
            truncation_cutoff=args["truncation_cutoff"], noise_seeds=seeds[1:2])["images"].numpy()
        typed = tf.constant(data["noise_seeds"].tolist())  # the int32 seeds tf.constant makes of typed numbers
        assert typed.dtype == tf.int32
        results[name + "/random_int32"] = model.signatures["random_noise_int32"](**args, noise_seeds=typed)["images"].numpy()
        results[name + "/function_int32"] = model.serve_random_noise(**args, noise_seeds=typed)["images"].numpy()
        results[name + "/function_int64"] = model.serve_random_noise(**args, noise_seeds=seeds)["images"].numpy()
    info = {k: v.numpy().item() for k, v in model.info().items()}
    np.savez(outputs, info=json.dumps(info), **results)
    print("tfstylegan imported:", any(m.split(".")[0] == "tfstylegan" for m in sys.modules))
    """
)

CASES = {"psi0.7_cut8": (0.7, 8), "psi1": (1.0, 8), "psi0.5_cut2": (0.5, 2), "cut0": (0.5, 0)}


def compiled_reference(Gs, latents, labels, psi, cutoff):
    """Gs.generate compiled with a free batch size, as a SavedModel runs it."""
    spec = [tf.TensorSpec([None, Gs.cfg.latent_size], tf.float32)]

    @tf.function(input_signature=spec)
    def run(z):
        images = Gs.generate(z, labels, psi, cutoff, randomize_noise=False)
        return tfstylegan.convert_images_to_uint8(images)

    return run(latents).numpy()


@pytest.mark.parametrize("net", ["small", "cond"])
def test_saved_model_serves_gs_in_a_fresh_process(tmp_path, capsys, data_dir, net):
    pkl = data_dir / net / "network.pkl"
    export_dir = tmp_path / "gs_saved_model"
    assert convert_cli.main(["convert", f"--network={pkl}", f"--out={export_dir}"]) == 0
    assert "SavedModel of Gs" in capsys.readouterr().out
    _, _, Gs = tfstylegan.load_network_pkl(pkl)
    cfg = Gs.cfg
    rng = np.random.RandomState(7)
    latents = rng.randn(5, cfg.latent_size).astype(np.float32)
    labels = np.zeros([5, cfg.label_size], np.float32)
    if cfg.label_size:
        labels = np.eye(cfg.label_size, dtype=np.float32)[rng.randint(0, cfg.label_size, 5)]
    np.savez(tmp_path / "in.npz", latents=latents, labels=labels, noise_seeds=np.array([3, 1, 4, 1, 5], np.int64),
             cases=json.dumps(CASES))
    proc = subprocess.run(
        [sys.executable, "-c", SERVE, str(export_dir), str(tmp_path / "in.npz"), str(tmp_path / "out.npz")],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "tfstylegan imported: False" in proc.stdout
    out = np.load(tmp_path / "out.npz")

    gen_labels = labels if cfg.label_size else None
    for name, (psi, cutoff) in CASES.items():
        served = out[name]
        assert served.dtype == np.uint8 and served.shape == (5, cfg.resolution, cfg.resolution, cfg.num_channels)
        # Bit-equal to Gs.generate run the way a SavedModel runs it (compiled, free batch size).
        np.testing.assert_array_equal(served, compiled_reference(Gs, latents, gen_labels, psi, cutoff))
        # Eager Gs.generate: TensorFlow's graph rewrites may move a value across a rounding boundary.
        eager = tfstylegan.convert_images_to_uint8(Gs.generate(latents, gen_labels, psi, cutoff, randomize_noise=False))
        diff = np.abs(served.astype(int) - eager.numpy())
        assert diff.max() <= 1 and np.mean(diff > 0) < 1e-3, name
        # Random noise: reproducible from the seeds, per row, and not the stored noise.
        np.testing.assert_array_equal(out[name + "/random"], out[name + "/random_again"])
        np.testing.assert_array_equal(out[name + "/random"][1:2], out[name + "/random_row1"])
        # int32 or int64 seeds: the same images, from the signatures and from the saved function.
        np.testing.assert_array_equal(out[name + "/random_int32"], out[name + "/random"])
        np.testing.assert_array_equal(out[name + "/function_int32"], out[name + "/function_int64"])
        # The saved function runs without the signatures' wrapper, which TensorFlow optimizes on its own.
        diff = np.abs(out[name + "/function_int64"].astype(int) - out[name + "/random"])
        assert diff.max() <= 1 and np.mean(diff > 0) < 1e-3, name
        assert np.any(out[name + "/random"] != served)
        assert np.any(out[name + "/random"][1] != out[name + "/random"][3])  # same seed, different latent
    np.testing.assert_array_equal(out["cut0"], out["psi1"])  # cutoff 0 disables truncation
    assert np.any(out["psi0.7_cut8"] != out["psi1"])
    assert json.loads(str(out["info"])) == {
        "latent_size": cfg.latent_size, "label_size": cfg.label_size, "resolution": cfg.resolution,
        "num_channels": cfg.num_channels, "num_layers": Gs.num_layers, "default_truncation_psi": pytest.approx(0.7),
        "default_truncation_cutoff": 8,
    }
