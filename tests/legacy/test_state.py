"""Original pickles <-> Keras networks: import errors, export structure, round trips."""

import dataclasses
import re

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


def test_trained_network_export_reloads_to_identical_weights_and_outputs(tmp_path, tiny_G_D):
    G, D = tiny_G_D(label_size=2)
    Gs = tfstylegan.GStyle.from_config({**G.get_config(), "name": "Gs"})
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


# ----------------------------------------------------------------------------------------
# static_kwargs bounds, roles and matching networks, all before anything is built.


@pytest.fixture
def nothing_is_built(monkeypatch):
    """Makes building any network fail loudly, so a ConversionError proves the refusal came first."""
    from tfstylegan.networks.base import Network

    def refuse(self, *args, **kwargs):
        raise AssertionError("a network was built")

    monkeypatch.setattr(Network, "__init__", refuse)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"resolution": 2**14}, "static_kwargs['resolution'] is 16384; expected a power of two in [4, 8192]"),
        ({"resolution": 48}, "static_kwargs['resolution'] is 48"),
        ({"resolution": float("inf")}, "static_kwargs['resolution'] is inf"),
        ({"resolution": 10**5000}, "static_kwargs['resolution'] is <an int of 16610 bits>"),
        ({"latent_size": 10**9}, "static_kwargs['latent_size'] is 1000000000; expected an integer in [1, 4096]"),
        ({"mapping_layers": 10**6}, "static_kwargs['mapping_layers'] is 1000000; expected an integer in [1, 64]"),
        ({"fmap_base": 2**16, "fmap_max": 2**16}, "static_kwargs['fmap_max'] is 65536"),
        ({"fmap_base": 2**16, "fmap_max": 4096}, "at least 1056975520 values, but the pickle stores only 181854"),
        ({"truncation_psi": float("nan")}, "static_kwargs['truncation_psi'] is nan"),
        ({"use_noise": "yes"}, "static_kwargs['use_noise'] is 'yes'; expected one of True, False"),
        ({"use_noise": 1}, "static_kwargs['use_noise'] is 1; expected one of True, False"),
        ({"structure": "spiral"}, "static_kwargs['structure'] is 'spiral'"),
        ({"fused_scale": "yes"}, "static_kwargs['fused_scale'] is 'yes'; expected one of 'auto', True, False"),
        ({"blur_filter": [1, float("inf"), 1]}, "static_kwargs['blur_filter'] is [1, inf, 1]"),
        ({"mapping_nonlinearity": "tanh"}, "static_kwargs['mapping_nonlinearity'] is 'tanh'"),
    ],
)
def test_out_of_bounds_static_kwargs_are_refused_before_building(tmp_path, small_states, nothing_is_built, changes, message):
    states = _edit(small_states, 0, static_kwargs={**small_states[0].static_kwargs, **changes})
    path = _load_edited(tmp_path, states)
    with pytest.raises(ConversionError) as info:
        tfstylegan.load_network_pkl(path)
    assert str(info.value).startswith(f"{path}: network 'G': ")
    assert message in str(info.value)


def test_networks_that_do_not_belong_together_are_refused(tmp_path, small_states, nothing_is_built):
    G, D, Gs = small_states
    cases = [
        ((D, G, Gs), "found G: 'D' ('D_basic'), D: 'G' ('G_style'), Gs: 'Gs' ('G_style')"),
        ((G, G, Gs), "not in the order (G, D, Gs) = (G_style, D_basic, G_style)"),
        ((D, D, D), "not in the order (G, D, Gs)"),
        ((Gs, D, G), "G and Gs are swapped: the first network is named 'Gs' and the third 'G'"),
        (_edit(small_states, 2, static_kwargs={**Gs.static_kwargs, "fmap_max": 32}), "G and Gs have different architectures (fmap_max=64 vs 32)"),
        (_edit(small_states, 1, static_kwargs={**D.static_kwargs, "resolution": 16}), "D does not take G's images (D vs G: resolution=16 vs 32)"),
        (_edit(small_states, 1, static_kwargs={**D.static_kwargs, "label_size": 3}), "label_size=3 vs 0"),
    ]
    for states, message in cases:
        with pytest.raises(ConversionError, match=re.escape(message)):
            tfstylegan.load_network_pkl(_load_edited(tmp_path, states))


def test_run_time_arguments_of_gs_may_differ(tmp_path, small_states):
    G, D, Gs = small_states
    Gs = dataclasses.replace(Gs, static_kwargs={**Gs.static_kwargs, "truncation_psi": 0.5, "randomize_noise": False})
    _, _, Gs_net = tfstylegan.load_network_pkl(_load_edited(tmp_path, (G, D, Gs)))
    assert Gs_net.cfg.truncation_psi == 0.5 and Gs_net.cfg.randomize_noise is False


def test_the_bounds_table_covers_every_argument_and_its_default():
    from tfstylegan.legacy.static_kwargs import KWARG_BOUNDS, check_static_kwargs
    from tfstylegan.networks import D_KWARGS, G_KWARGS, MAPPING_KWARGS

    every = {**G_KWARGS, **D_KWARGS, **MAPPING_KWARGS}
    assert set(KWARG_BOUNDS) == set(every) | {"dtype", "trainable"}
    check_static_kwargs(every)  # The original's defaults are within bounds.
    check_static_kwargs({**D_KWARGS, "resolution": 1024, "num_channels": 3})


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(resolution=32, fmap_base=256, fmap_max=64, latent_size=32, dlatent_size=32, mapping_fmaps=32),
        dict(resolution=16, label_size=5, fmap_base=128, fmap_max=32, latent_size=16, dlatent_size=16, mapping_layers=1),
        dict(resolution=8, fmap_base=64, fmap_decay=0.5, fmap_max=48, use_noise=False, mapping_layers=3, latent_size=8, dlatent_size=4, mapping_fmaps=6),
    ],
)
def test_min_num_values_never_exceeds_the_stored_values(kwargs):
    """The lower bound that refuses oversized static_kwargs holds for real networks (and is close to them)."""
    from tfstylegan.legacy.static_kwargs import min_num_values

    G = tfstylegan.GStyle(**kwargs)
    D_kwargs = {k: v for k, v in kwargs.items() if k in ("resolution", "label_size", "fmap_base", "fmap_decay", "fmap_max")}
    D = tfstylegan.DBasic(**D_kwargs)
    for net, func in ((G, "G_style"), (D, "D_basic")):
        actual = sum(int(np.prod(w.shape)) for w in net.weights)
        bound = min_num_values(func, {**net.original_kwargs, **net.static_kwargs})
        assert 0.5 * actual < bound <= actual


def test_misshapen_and_non_float32_variables_are_named_not_cast(tmp_path, small_states):
    from tfstylegan.legacy.state import network_from_state

    syn = small_states[0].components["synthesis"]
    flat = [(n, np.zeros([64], np.float32) if n == "4x4/Const/const" else v) for n, v in syn.variables]
    with pytest.raises(ConversionError, match=re.escape("'4x4/Const/const' has shape [64] in the pickle, expected [1, 64, 4, 4]")):
        network_from_state(_edit(small_states, 0, component="synthesis", variables=flat)[0])
    ints = [(n, v.astype(np.int32) if n == "4x4/Dense1/bias" else v) for n, v in small_states[1].variables]
    with pytest.raises(ConversionError, match=re.escape("'4x4/Dense1/bias' has dtype int32, expected float32")):
        network_from_state(_edit(small_states, 1, variables=ints)[1])
