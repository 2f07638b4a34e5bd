"""SynthesisLayer in each of its input modes: the Keras contract."""

import pytest

from tests.layers.harness import run_layer_test
from tfstylegan import layers


@pytest.mark.parametrize(
    "kwargs, input_shape, output_shape, num_weights",
    [
        # [x, dlatent, noise] -> images; weight, Noise/weight, bias, StyleMod/weight, StyleMod/bias.
        (dict(fmaps=6, mode="up", dlatent_size=4, fused_scale=True, blur_filter=None, name="s"),
         [(2, 4, 4, 3), (2, 4), (2, 8, 8, 1)], (2, 8, 8, 6), 5),
        (dict(fmaps=6, mode="up", dlatent_size=4), [(2, 4, 4, 3), (2, 4), (1, 8, 8, 1)], (2, 8, 8, 6), 5),
        (dict(fmaps=5, mode="const", dlatent_size=4), [(2, 1), (2, 4), (2, 4, 4, 1)], (2, 4, 4, 5), 5),
        (dict(fmaps=5, mode="dense", dlatent_size=4, use_noise=False, use_pixel_norm=True),
         [(2, 1), (2, 4)], (2, 4, 4, 5), 4),
        (dict(fmaps=3, mode="conv", dlatent_size=4, use_styles=False, use_instance_norm=False, nonlinearity="relu"),
         [(2, 4, 4, 2), (2, 4), (2, 4, 4, 1)], (2, 4, 4, 3), 3),
    ],
    ids=["up-fused-no-blur", "up-shared-noise", "const", "dense", "conv"],
)
def test_synthesis_layer_keras_contract(tmp_path, kwargs, input_shape, output_shape, num_weights):
    run_layer_test(
        layers.SynthesisLayer, kwargs, input_shape, expected_output_shape=output_shape,
        expected_num_trainable_weights=num_weights, tmp_path=tmp_path,
    )
