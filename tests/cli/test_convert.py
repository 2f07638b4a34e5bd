"""The convert tool, .keras bundles and load_networks: lossless round trips to original-style pickles."""

import os
import pickle
import shutil

import keras
import numpy as np
import pytest

import tfstylegan
from tfstylegan import DBasic, GStyle, export
from tfstylegan.cli import convert as convert_cli
from tfstylegan.loading import NetworkSourceError, load_networks, locate_network_file


def run_convert(capsys, *args):
    code = convert_cli.main(["tfstylegan-convert", *[str(a) for a in args]])
    out, err = capsys.readouterr()
    return code, out, err


class RawState:
    """The state of an original Network, as stored (no normalisation)."""

    def __setstate__(self, state):
        self.state = state


class RawLoader(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ("dnnlib.tflib.network", "Network"):
            return RawState
        return super().find_class(module, name)


def raw_states(path):
    with open(path, "rb") as f:
        return RawLoader(f).load()


def assert_same_layout(a, b, values):
    """Field-by-field comparison of two raw network states (and their components)."""
    sa, sb = a.state, b.state
    assert list(sa) == list(sb)  # state keys, in order
    for key in ("version", "name", "build_func_name"):
        assert sa[key] == sb[key], key
    assert list(sa["static_kwargs"].items()) == list(sb["static_kwargs"].items())  # names, order, values
    assert list(sa["components"]) == list(sb["components"])
    for key in sa["components"]:
        assert_same_layout(sa["components"][key], sb["components"][key], values)
    assert [n for n, _ in sa["variables"]] == [n for n, _ in sb["variables"]], sa["name"]
    for (name, va), (_, vb) in zip(sa["variables"], sb["variables"]):
        assert type(va) is type(vb), name  # ndarray, or numpy scalar for lod
        assert va.dtype == vb.dtype and np.shape(va) == np.shape(vb), name
        if values:
            np.testing.assert_array_equal(va, vb, err_msg=name)


def assert_same_networks(nets_a, nets_b):
    for a, b in zip(nets_a, nets_b):
        assert type(a) is type(b) and a.name == b.name and a.static_kwargs == b.static_kwargs
        assert [v.path for v in a.weights] == [v.path for v in b.weights]
        for va, vb in zip(a.weights, b.weights):
            np.testing.assert_array_equal(va.numpy(), vb.numpy(), err_msg=va.path)


def assert_same_outputs(nets_a, nets_b, seed=0):
    (Ga, Da, Gsa), (Gb, Db, Gsb) = nets_a, nets_b
    rng = np.random.RandomState(seed)
    cfg = Gsa.cfg
    latents = rng.randn(4, cfg.latent_size).astype(np.float32)
    labels = np.eye(cfg.label_size, dtype=np.float32)[rng.randint(0, cfg.label_size, 4)] if cfg.label_size else None
    for a, b in ((Ga, Gb), (Gsa, Gsb)):
        np.testing.assert_array_equal(
            a.generate(latents, labels, randomize_noise=False).numpy(),
            b.generate(latents, labels, randomize_noise=False).numpy(),
        )
    images = rng.uniform(-1, 1, [4, cfg.resolution, cfg.resolution, cfg.num_channels]).astype(np.float32)
    np.testing.assert_array_equal(Da(images, labels).numpy(), Db(images, labels).numpy())


def test_pickle_keras_pickle_round_trip(tmp_path, capsys, data_dir):
    src = tmp_path / "network.pkl"
    shutil.copy(data_dir / "cond" / "network.pkl", src)  # lod 0.6, labels
    code, out, _ = run_convert(capsys, f"--network={src}", f"--out={tmp_path / 'nets.keras'}")
    assert code == 0 and "bundle of G, D and Gs" in out
    assert isinstance(keras.saving.load_model(tmp_path / "nets.keras"), export.NetworkBundle)
    assert run_convert(capsys, f"--network={tmp_path / 'nets.keras'}", f"--out={tmp_path / 'back.pkl'}")[0] == 0
    assert run_convert(capsys, f"--network={src}", f"--out={tmp_path / 'direct.pkl'}")[0] == 0
    assert (tmp_path / "back.pkl").read_bytes() == (tmp_path / "direct.pkl").read_bytes()

    original = tfstylegan.load_network_pkl(src)
    back = tfstylegan.load_network_pkl(tmp_path / "back.pkl")
    assert float(back[2].lod.numpy()) == pytest.approx(0.6)
    assert_same_networks(original, back)
    assert_same_outputs(original, back)
    assert_same_networks(original, load_networks(tmp_path / "nets.keras"))
    for a, b in zip(raw_states(src), raw_states(tmp_path / "back.pkl")):
        assert_same_layout(a, b, values=True)


def test_exported_trained_like_networks_match_the_original_layout(tmp_path, capsys, data_dir):
    """A fresh G/D/Gs with every value distinct -> .keras bundle -> pickle, laid out like the fixture's."""
    fixture = tfstylegan.load_network_pkl(data_dir / "small" / "network.pkl")
    nets = [type(n)(name=n.name, **n.static_kwargs) for n in fixture]
    # Distinct values by construction: a random permutation of k * 2**-20 (exact in float32).
    total = sum(int(np.prod(v.shape)) for net in nets for v in net.weights)
    pool = (np.random.RandomState(123).permutation(total) - total // 2).astype(np.float32) * 2.0**-20
    start = 0
    for net in nets:
        for v in net.weights:
            size = int(np.prod(v.shape))
            v.assign(pool[start : start + size].reshape(v.shape))
            start += size
        net.lod.assign(0.25)  # mid-fade, as a snapshot taken during training
    G, D, Gs = nets
    values = np.concatenate([v.numpy().ravel() for net in nets for v in net.weights if "lod" not in v.path])
    assert np.unique(values).size == values.size  # a swapped or mis-transposed variable cannot go unseen

    export.save_keras(tmp_path / "trained.keras", Gs, G, D)
    code, out, _ = run_convert(capsys, f"--network={tmp_path / 'trained.keras'}", f"--out={tmp_path / 'trained.pkl'}")
    assert code == 0 and "original-style pickle" in out
    reloaded = tfstylegan.load_network_pkl(tmp_path / "trained.pkl")
    assert_same_networks(nets, reloaded)
    assert_same_outputs(nets, reloaded, seed=1)
    for a, b in zip(raw_states(data_dir / "small" / "network.pkl"), raw_states(tmp_path / "trained.pkl")):
        assert_same_layout(a, b, values=False)


def test_gs_only_keras(tmp_path, capsys, data_dir):
    src = data_dir / "small" / "network.pkl"
    G, D, Gs = tfstylegan.load_network_pkl(src)
    gs_file = tmp_path / "gs.keras"
    assert run_convert(capsys, f"--network={src}", f"--out={gs_file}", "--format=keras_gs")[0] == 0
    loaded = keras.saving.load_model(gs_file)
    assert isinstance(loaded, GStyle)
    nets = load_networks(gs_file)
    assert nets.G is None and nets.D is None
    assert_same_networks([Gs], [nets.Gs])

    code, _, err = run_convert(capsys, f"--network={gs_file}", f"--out={tmp_path / 'x.pkl'}")
    assert code == 1 and "--G" in err and "only Gs" in err and "Traceback" not in err
    assert not (tmp_path / "x.pkl").exists()

    G.save(tmp_path / "g.keras")
    D.save(tmp_path / "d.keras")
    code, _, err = run_convert(capsys, f"--network={gs_file}", f"--G={tmp_path / 'g.keras'}",
                               f"--D={tmp_path / 'd.keras'}", f"--out={tmp_path / 'x.pkl'}")
    assert code == 0, err
    assert_same_networks((G, D, Gs), tfstylegan.load_network_pkl(tmp_path / "x.pkl"))
    code, _, err = run_convert(capsys, f"--network={gs_file}", f"--G={tmp_path / 'd.keras'}",
                               f"--D={tmp_path / 'd.keras'}", f"--out={tmp_path / 'y.pkl'}")
    assert code == 1 and "--G" in err and "DBasic" in err


def test_convert_usage_errors(tmp_path, capsys, data_dir):
    src = data_dir / "small" / "network.pkl"
    (tmp_path / "exists.pkl").write_bytes(b"x")
    for args, flag in (
        ([f"--network={src}", f"--out={tmp_path / 'exists.pkl'}"], "--out"),
        ([f"--network={src}", f"--out={tmp_path / 'a.bin'}", "--format=keras"], "--out"),
        ([f"--network={tmp_path / 'missing.pkl'}", f"--out={tmp_path / 'b.pkl'}"], "--network"),
        ([f"--network={tmp_path / 'exists.pkl'}", f"--out={tmp_path / 'b.pkl'}"], "--network"),  # not a pickle
        ([f"--network={src}"], "--out"),
        ([f"--network={src}", f"--out={tmp_path / 'c.pkl'}", "--format=onnx"], "--format"),
    ):
        code, _, err = run_convert(capsys, *args)
        assert code == 1 and flag in err and "Traceback" not in err, (args, err)
    assert (tmp_path / "exists.pkl").read_bytes() == b"x"
    assert sorted(os.listdir(tmp_path)) == ["exists.pkl"]
    code, _, _ = run_convert(capsys, f"--network={src}", f"--out={tmp_path / 'exists.pkl'}", "--overwrite")
    assert code == 0 and len(tfstylegan.load_network_pkl(tmp_path / "exists.pkl")) == 3


def test_load_networks_from_a_run_directory(tmp_path, data_dir):
    run = tmp_path / "00003-sgan-test"
    run.mkdir()
    with pytest.raises(NetworkSourceError, match="network-final.pkl"):
        locate_network_file(run)
    shutil.copy(data_dir / "cond" / "network.pkl", run / "network-snapshot-000900.pkl")
    shutil.copy(data_dir / "small" / "network.pkl", run / "network-snapshot-001000.pkl")
    (run / "network-snapshot-latest.pkl").write_bytes(b"not a snapshot name")
    assert locate_network_file(run) == str(run / "network-snapshot-001000.pkl")
    assert load_networks(run).Gs.cfg.resolution == 32
    shutil.copy(data_dir / "cond" / "network.pkl", run / "network-final.pkl")
    assert locate_network_file(run) == str(run / "network-final.pkl")
    G, D, Gs = load_networks(run)
    assert isinstance(D, DBasic) and Gs.cfg.resolution == 16
    with pytest.raises(NetworkSourceError, match="does not exist"):
        load_networks(tmp_path / "nothing.pkl")
    (tmp_path / "sm").mkdir()
    (tmp_path / "sm" / "saved_model.pb").write_bytes(b"")
    with pytest.raises(NetworkSourceError, match="SavedModel"):
        load_networks(tmp_path / "sm")


def test_refused_pickles_are_one_line_errors(tmp_path, capsys, data_dir):
    """A memory bomb, swapped networks and absurd static_kwargs: exit 1, one line, nothing written."""
    import struct

    from tfstylegan.legacy import load_pickle_states, save_pickle_states

    G, D, Gs = load_pickle_states(data_dir / "small" / "network.pkl")
    bad = {
        "bomb.pkl": b"\x80\x04Nr" + struct.pack("<I", 2**28) + b".",
        "swapped.pkl": (D, G, Gs),
        "huge.pkl": (G.__class__(**{**G.__dict__, "static_kwargs": {**G.static_kwargs, "resolution": 2**14}}), D, Gs),
    }
    for name, content in bad.items():
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            save_pickle_states(path, content)
        code, _, err = run_convert(capsys, f"--network={path}", f"--out={tmp_path / 'out.pkl'}")
        lines = err.strip().splitlines()
        assert code == 1 and lines[0].startswith(f"tfstylegan-convert: error: --network: {path}: "), err
        assert len(lines) == 2 and lines[1] == "Run 'tfstylegan-convert --help' for the flags."
        assert not (tmp_path / "out.pkl").exists()
