"""The equalized-lr Dense and Conv2D and the label embedding: the runtime coefficient by hand, the Keras contract."""

import numpy as np
import pytest
import tensorflow as tf

from tests.layers.harness import run_layer_test
from tfstylegan import layers


def test_equalized_lr_runtime_coefficient():
    init_std, coef = layers.runtime_coef([3, 3, 8, 16], gain=np.sqrt(2), use_wscale=True, lrmul=1.0)
    assert init_std == 1.0 and coef == pytest.approx(np.sqrt(2) / np.sqrt(72))
    init_std, coef = layers.runtime_coef([32, 32], gain=np.sqrt(2), use_wscale=True, lrmul=0.01)
    assert init_std == pytest.approx(100.0) and coef == pytest.approx(np.sqrt(2) / np.sqrt(32) * 0.01)
    init_std, coef = layers.runtime_coef([32, 32], gain=1.0, use_wscale=False, lrmul=0.5)
    assert init_std == pytest.approx(1 / np.sqrt(32) / 0.5) and coef == 0.5
    dense = layers.Dense(4, gain=1.0, lrmul=0.5)
    dense.build((None, 16))
    dense.weight.assign(np.ones([16, 4], np.float32))
    dense.bias.assign(np.full([4], 2.0, np.float32))
    y = dense(tf.ones([1, 16])).numpy()
    np.testing.assert_allclose(y, np.full([1, 4], 16 * (1 / 4) * 0.5 + 1.0), rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, input_shape, output_shape, num_weights",
    [
        (dict(fmaps=7, gain=1.0, lrmul=0.01, nonlinearity="lrelu", name="d"), (2, 5), (2, 7), 2),
        (dict(fmaps=3, use_bias=False, use_wscale=False), (2, 2, 2, 3), (2, 3), 1),  # flattens rank 4
    ],
    ids=["lrmul-lrelu", "flatten-no-bias"],
)
def test_dense_keras_contract(tmp_path, kwargs, input_shape, output_shape, num_weights):
    run_layer_test(
        layers.Dense, kwargs, input_shape, expected_output_shape=output_shape,
        expected_num_trainable_weights=num_weights, tmp_path=tmp_path,
    )


@pytest.mark.parametrize(
    "kwargs, input_shape, output_shape, num_weights",
    [
        (dict(fmaps=5, kernel=3, resample="down", fused=True, use_bias=False, name="c"), (2, 8, 8, 3), (2, 4, 4, 5), 1),
        (dict(fmaps=4, kernel=3, resample="up", nonlinearity="lrelu"), (2, 4, 4, 3), (2, 8, 8, 4), 2),
        (dict(fmaps=4, kernel=3, resample="up", fused=True), (2, 4, 4, 3), (2, 8, 8, 4), 2),
        (dict(fmaps=2, kernel=1, gain=1.0), (2, 4, 4, 3), (2, 4, 4, 2), 2),  # a toRGB
    ],
    ids=["down-fused", "up", "up-fused", "1x1"],
)
def test_conv2d_keras_contract(tmp_path, kwargs, input_shape, output_shape, num_weights):
    run_layer_test(
        layers.Conv2D, kwargs, input_shape, expected_output_shape=output_shape,
        expected_num_trainable_weights=num_weights, tmp_path=tmp_path,
    )


def test_label_embedding_keras_contract(tmp_path):
    run_layer_test(
        layers.LabelEmbedding, dict(latent_size=4, name="l"), (2, 3), expected_output_shape=(2, 4),
        expected_num_trainable_weights=1, tmp_path=tmp_path,
    )
