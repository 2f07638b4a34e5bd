"""Original pickles <-> Keras networks: import errors, export structure, round trips."""

import dataclasses

import numpy as np
import pytest

import tfstylegan
from tfstylegan.legacy import load_pickle_states, save_pickle_states
from tfstylegan.legacy.state import ConversionError


def _edit(states, net_index, component=None, **changes):
    """A copy of the (G, D, Gs) states with one network (or one of its components) changed."""
    states = list(states)
    target = states[net_index]
    if component is None:
        states[net_index] = dataclasses.replace(target, **changes)
    else:
        comps = dict(target.components)
        comps[component] = dataclasses.replace(comps[component], **changes)
        states[net_index] = dataclasses.replace(target, components=comps)
    return states


@pytest.fixture(scope="module")
def small_states(data_dir):
    return load_pickle_states(data_dir / "small" / "network.pkl")


def _load_edited(tmp_path, states):
    path = tmp_path / "edited.pkl"
    save_pickle_states(path, states)
    return path


def test_unknown_static_kwarg_is_named(tmp_path, small_states):
    states = _edit(small_states, 0, static_kwargs={**small_states[0].static_kwargs, "bogus_arg": 3})
    path = _load_edited(tmp_path, states)
    with pytest.raises(ConversionError, match="bogus_arg") as e:
        tfstylegan.load_network_pkl(path)
    assert str(path) in str(e.value)


def test_missing_extra_and_misshapen_variables_are_named(tmp_path, small_states):
    variables = list(small_states[1].variables)
    dropped = _edit(small_states, 1, variables=variables[:-1])
    with pytest.raises(ConversionError, match="missing: \\['4x4/Dense1/bias'\\]"):
        tfstylegan.load_network_pkl(_load_edited(tmp_path, dropped))
    extra = _edit(small_states, 1, variables=variables + [("Extra/weight", np.zeros([2], np.float32))])
    with pytest.raises(ConversionError, match="unexpected: \\['Extra/weight'\\]"):
        tfstylegan.load_network_pkl(_load_edited(tmp_path, extra))
    syn = small_states[0].components["synthesis"]
    bad = [(n, np.zeros([1, 3, 4, 4], np.float32) if n == "4x4/Const/const" else v) for n, v in syn.variables]
    misshapen = _edit(small_states, 0, component="synthesis", variables=bad)
    with pytest.raises(ConversionError, match="'4x4/Const/const' has shape \\[1, 3, 4, 4\\].*expected \\[1, 64, 4, 4\\]"):
        tfstylegan.load_network_pkl(_load_edited(tmp_path, misshapen))


def test_unsupported_build_function_is_named(tmp_path, small_states):
    states = _edit(small_states, 1, build_func_name="D_paper")
    with pytest.raises(ConversionError, match="D_paper"):
        tfstylegan.load_network_pkl(_load_edited(tmp_path, states))


def _assert_same_structure(a, b, path):
    assert (a.name, a.build_func_name, a.version) == (b.name, b.build_func_name, b.version), path
    assert list(a.static_kwargs.items()) == list(b.static_kwargs.items()), path
    assert list(a.components) == list(b.components), path
    assert [n for n, _ in a.variables] == [n for n, _ in b.variables], path
    for (name, u), (_, v) in zip(a.variables, b.variables):
        assert type(u) is type(v) and u.dtype == v.dtype and np.shape(u) == np.shape(v), (path, name)
    for key in a.components:
        _assert_same_structure(a.components[key], b.components[key], f"{path}/{key}")


@pytest.mark.parametrize("config", ["small", "cond"])
def test_export_matches_the_fixture_field_by_field(tmp_path, data_dir, config):
    original = load_pickle_states(data_dir / config / "network.pkl")
    G, D, Gs = tfstylegan.load_network_pkl(data_dir / config / "network.pkl")
    out = tmp_path / "exported.pkl"
    tfstylegan.save_network_pkl(out, G, D, Gs)
    exported = load_pickle_states(out)
    for a, b in zip(original, exported):
        _assert_same_structure(a, b, a.name)
        for (name, u), (_, v) in zip(a.full_variables().items(), b.full_variables().items()):
            np.testing.assert_array_equal(u, v, err_msg=name)


def test_trained_network_export_reloads_to_identical_weights_and_outputs(tmp_path):
    kwargs = dict(num_channels=3, resolution=16, label_size=2, fmap_base=64, fmap_max=16, latent_size=8,
                  dlatent_size=8, mapping_fmaps=8, mapping_layers=2)
    G = tfstylegan.GStyle(**kwargs)
    Gs = tfstylegan.GStyle(name="Gs", **kwargs)
    D = tfstylegan.DBasic(num_channels=3, resolution=16, label_size=2, fmap_base=64, fmap_max=16)
    rng = np.random.RandomState(3)
    for net in (G, D, Gs):  # stand-in for training: every weight gets a distinct value
        for v in net.weights:
            v.assign(np.asarray(rng.randn(*v.shape), np.float32))
    path = tmp_path / "network-snapshot-000001.pkl"
    tfstylegan.save_network_pkl(path, G, D, Gs)
    G2, D2, Gs2 = tfstylegan.load_network_pkl(path)
    for a, b in zip((G, D, Gs), (G2, D2, Gs2)):
        assert a.name == b.name and a.get_config() == b.get_config()
        for u, v in zip(a.weights, b.weights):
            np.testing.assert_array_equal(u.numpy(), v.numpy(), err_msg=u.path)
    latents = rng.randn(2, 8).astype(np.float32)
    labels = np.eye(2, dtype=np.float32)
    np.testing.assert_array_equal(
        Gs2(latents, labels, randomize_noise=False).numpy(), Gs(latents, labels, randomize_noise=False).numpy()
    )
    # No temporary file is left next to the snapshot.
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_bad_files_give_errors_that_name_the_file(tmp_path):
    empty = tmp_path / "empty.pkl"
    empty.write_bytes(b"")
    with pytest.raises(tfstylegan.legacy.LegacyPickleError, match="empty.pkl.*empty"):
        tfstylegan.load_network_pkl(empty)
    with pytest.raises(tfstylegan.legacy.LegacyPickleError, match="missing.pkl"):
        tfstylegan.load_network_pkl(tmp_path / "missing.pkl")
