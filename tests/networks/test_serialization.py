"""Keras conventions of the networks: the layer test harness, static_kwargs as config, .keras save/load."""

import keras
import numpy as np
import pytest

from tests.layers.harness import run_layer_test
from tests.tiny_networks import D_16, G_16, GS_8
from tfstylegan import DBasic, GMapping, GStyle, GSynthesis

# The mapping and synthesis networks of the 8x8 Gs, on their own.
MAPPING_8 = {k: GS_8[k] for k in ("latent_size", "dlatent_size", "mapping_layers")}
SYNTHESIS_8 = {k: GS_8[k] for k in ("dlatent_size", "resolution", "fmap_base", "fmap_max")}


@pytest.mark.parametrize(
    "cls, kwargs, input_shape, call_kwargs, output_shape, num_weights",
    [
        (GMapping, MAPPING_8, (2, 8), {}, (2, 8), (4, 0)),
        # 4 layers of 5 weights, 2 toRGB of 2; lod and the 4 stored noise inputs.
        (GSynthesis, SYNTHESIS_8, (2, 4, 8), dict(randomize_noise=False), (2, 8, 8, 3), (24, 5)),
        # mapping 2 dense + label embedding, synthesis 6 x 5 + 3 toRGB x 2; dlatent_avg, lod, 6 noises.
        (GStyle, G_16, [(2, 8), (2, 3)], dict(randomize_noise=False), (2, 16, 16, 3), (41, 8)),
        # 3 fromRGB, 2 x 2 convs at 16 and 8, the 4x4 conv and 2 dense, 2 weights each; lod.
        (DBasic, D_16, [(2, 16, 16, 3), (2, 3)], {}, (2, 1), (20, 1)),
    ],
    ids=["GMapping", "GSynthesis", "GStyle", "DBasic"],
)
def test_network_keras_contract(tmp_path, cls, kwargs, input_shape, call_kwargs, output_shape, num_weights):
    run_layer_test(
        cls, kwargs, input_shape, call_kwargs=call_kwargs, expected_output_shape=output_shape,
        expected_num_trainable_weights=num_weights[0], expected_num_non_trainable_weights=num_weights[1],
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize(
    "cls, kwargs", [(GStyle, G_16), (DBasic, D_16), (GMapping, MAPPING_8), (GSynthesis, SYNTHESIS_8)]
)
def test_network_config_is_the_static_kwargs(cls, kwargs):
    net = cls(**kwargs)
    config = net.get_config()
    assert {k: config[k] for k in kwargs} == kwargs
    assert net.static_kwargs == kwargs
    clone = cls.from_config(config)
    assert clone.get_config() == config
    assert [v.shape for v in clone.weights] == [v.shape for v in net.weights]
    assert [v.path for v in clone.weights] == [v.path for v in net.weights]


def test_unknown_kwarg_is_named():
    with pytest.raises(TypeError, match="bogus_arg"):
        GStyle(resolution=16, bogus_arg=1)
    with pytest.raises(ValueError, match="power of two"):
        DBasic(resolution=24)
    with pytest.raises(ValueError, match="structure"):
        GSynthesis(resolution=8, structure="spiral")


def test_keras_file_round_trip_gives_identical_outputs(tmp_path, tiny_G_D):
    rng = np.random.RandomState(0)
    G, D = tiny_G_D()
    G.dlatent_avg.assign(rng.randn(8).astype(np.float32))
    G.lod.assign(0.5)
    D.lod.assign(0.25)
    latents = rng.randn(4, 8).astype(np.float32)
    labels = np.eye(3, dtype=np.float32)[[0, 1, 2, 0]]
    for net, inputs in ((G, (latents, labels)), (D, (rng.randn(4, 16, 16, 3).astype(np.float32), labels))):
        path = tmp_path / f"{net.name}.keras"
        net.save(path)
        loaded = keras.saving.load_model(path)
        assert type(loaded) is type(net) and loaded.get_config() == net.get_config()
        for a, b in zip(loaded.weights, net.weights):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
        kwargs = dict(randomize_noise=False) if net is G else {}
        np.testing.assert_array_equal(loaded(*inputs, **kwargs).numpy(), net(*inputs, **kwargs).numpy())
    assert float(loaded.lod.numpy()) == 0.25
