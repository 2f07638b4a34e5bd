"""Keras conventions: registered classes, get_config round trips, .keras save/load."""

import keras
import numpy as np
import pytest

from tfstylegan import DBasic, GMapping, GStyle, GSynthesis, layers

TINY_G = dict(num_channels=3, resolution=16, label_size=3, fmap_base=64, fmap_max=16, latent_size=8,
              dlatent_size=8, mapping_fmaps=8, mapping_layers=2)
TINY_D = dict(num_channels=3, resolution=16, label_size=3, fmap_base=64, fmap_max=16, mbstd_group_size=2)


@pytest.mark.parametrize(
    "layer",
    [
        layers.Dense(7, gain=1.0, lrmul=0.01, nonlinearity="lrelu", name="d"),
        layers.Conv2D(5, 3, resample="down", fused=True, use_bias=False, name="c"),
        layers.LabelEmbedding(4, name="l"),
        layers.SynthesisLayer(6, "up", dlatent_size=4, fused_scale=True, blur_filter=None, name="s"),
    ],
)
def test_layer_config_round_trip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    name = keras.saving.get_registered_name(type(layer))
    assert name.startswith("tfstylegan>")
    assert keras.saving.get_registered_object(name) is type(layer)


@pytest.mark.parametrize("cls, kwargs", [(GStyle, TINY_G), (DBasic, TINY_D),
                                          (GMapping, dict(latent_size=8, dlatent_size=8, mapping_layers=2)),
                                          (GSynthesis, dict(dlatent_size=8, resolution=8, fmap_base=32, fmap_max=8))])
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


def test_keras_file_round_trip_gives_identical_outputs(tmp_path):
    rng = np.random.RandomState(0)
    G, D = GStyle(**TINY_G), DBasic(**TINY_D)
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
