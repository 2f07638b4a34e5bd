"""The one test of the Keras contract that every layer and network test runs.

:func:`run_layer_test` builds ``cls(**init_kwargs)`` on seeded random inputs and checks,
in this order: the config round trip (``get_config``/``from_config`` and Keras'
serialize/deserialize, through JSON), the registered name, the weight counts, the
output shape and dtype, eager against ``tf.function`` outputs, the symbolic (Keras
functional) output shape, a ``.keras`` save/load with identical outputs, and each
precision policy (output dtype, finite values, weight and sub-layer policies).

Inputs are ``input_shape`` for a layer of one input or a list of shapes, one per
positional argument. Keep the shapes tiny: every check runs the layer again.
"""

from __future__ import annotations

import json

import keras
import numpy as np
import tensorflow as tf

# Graph rewrites (fused conv + bias + activation) round differently from eager ops: through
# the tiny G, 5e-6 at most on outputs of size ~1.
FUNCTION_RTOL, FUNCTION_ATOL = 1e-5, 2e-5


def _shapes(input_shape) -> list[tuple]:
    if all(isinstance(d, int) for d in input_shape):
        return [tuple(input_shape)]
    return [tuple(s) for s in input_shape]


def _inputs(shapes, seed: int) -> list[np.ndarray]:
    rng = np.random.RandomState(seed)
    return [rng.randn(*shape).astype(np.float32) for shape in shapes]


def _copy_weights(source, target) -> None:
    for a, b in zip(source.weights, target.weights, strict=True):
        b.assign(a)


def _check_config_round_trip(layer) -> None:
    cls = type(layer)
    name = keras.saving.get_registered_name(cls)
    assert name.startswith("tfstylegan>"), name
    assert keras.saving.get_registered_object(name) is cls
    config = layer.get_config()
    assert cls.from_config(json.loads(json.dumps(config))).get_config() == config
    serialized = json.loads(json.dumps(keras.saving.serialize_keras_object(layer)))
    revived = keras.saving.deserialize_keras_object(serialized)
    assert type(revived) is cls and revived.get_config() == config


def _check_weights(layer, trainable: int, non_trainable: int) -> None:
    assert layer.built
    assert len(layer.trainable_weights) == trainable, [w.path for w in layer.trainable_weights]
    assert len(layer.non_trainable_weights) == non_trainable, [w.path for w in layer.non_trainable_weights]


class _Wrapped:
    """A layer as a ``.keras``-savable model: itself if it is a model, else a functional model around it."""

    def __init__(self, layer, shapes, call_kwargs):
        self.is_layer = not isinstance(layer, keras.Model)
        self.call_kwargs = call_kwargs
        if self.is_layer:
            inputs = [keras.Input(batch_shape=(None, *shape[1:])) for shape in shapes]
            self.model = keras.Model(inputs if len(inputs) > 1 else inputs[0], layer(*inputs, **call_kwargs))
        else:
            self.model = layer

    def inner(self, model):
        """The tested layer inside ``model`` (a loaded copy of :attr:`model`)."""
        return model.layers[-1] if self.is_layer else model

    def __call__(self, model, inputs):
        if self.is_layer:
            return model(inputs if len(inputs) > 1 else inputs[0])
        return model(*inputs, **self.call_kwargs)


def _check_precision(cls, init_kwargs, inputs, call_kwargs, policy_name, expected_output_shape) -> None:
    policy = keras.DTypePolicy(policy_name)
    layer = cls(**init_kwargs, dtype=policy)
    output = layer(*inputs, **call_kwargs)
    assert output.dtype == policy.compute_dtype, (policy_name, output.dtype)
    assert tuple(output.shape) == tuple(expected_output_shape)
    assert np.isfinite(np.asarray(output, np.float32)).all(), policy_name
    for weight in layer.weights:
        assert weight.dtype == policy.variable_dtype, (policy_name, weight.path, weight.dtype)
    for sublayer in layer._flatten_layers():
        assert sublayer.dtype_policy.name == policy.name, (policy_name, sublayer.name)


def run_layer_test(
    cls,
    init_kwargs: dict,
    input_shape,
    *,
    expected_output_shape: tuple,
    expected_num_trainable_weights: int,
    expected_num_non_trainable_weights: int = 0,
    call_kwargs: dict | None = None,
    tmp_path=None,
    policies: tuple[str, ...] = ("float32", "mixed_float16"),
    seed: int = 0,
):
    """Runs every check of the module docstring on ``cls(**init_kwargs)``; returns the layer.

    Args:
        cls: A registered Keras layer or model class.
        init_kwargs: Constructor arguments (without ``dtype``: the policies set it).
        input_shape: Shape of the one input, or a list of shapes, one per positional input.
        expected_output_shape: Shape of the output on these inputs.
        expected_num_trainable_weights: ``len(layer.trainable_weights)`` once built.
        expected_num_non_trainable_weights: ``len(layer.non_trainable_weights)`` once built.
        call_kwargs: Keyword arguments of every call (must make the call deterministic).
        tmp_path: Folder for the ``.keras`` round trip; ``None`` skips it.
        policies: Dtype policies to build and run the layer under.
        seed: Seed of the random inputs.
    """
    call_kwargs = dict(call_kwargs or {})
    shapes = _shapes(input_shape)
    inputs = _inputs(shapes, seed)

    layer = cls(**init_kwargs)
    _check_config_round_trip(layer)
    output = layer(*inputs, **call_kwargs)
    _check_weights(layer, expected_num_trainable_weights, expected_num_non_trainable_weights)
    assert tuple(output.shape) == tuple(expected_output_shape), output.shape
    assert output.dtype == "float32"
    output = output.numpy()
    assert np.isfinite(output).all()
    _check_config_round_trip(layer)  # built, the config must be the same

    @tf.function
    def traced_call(*x):
        return layer(*x, **call_kwargs)

    traced = traced_call(*inputs).numpy()
    np.testing.assert_allclose(traced, output, rtol=FUNCTION_RTOL, atol=FUNCTION_ATOL)

    clone = cls.from_config(layer.get_config())
    wrapped = _Wrapped(clone, shapes, call_kwargs)
    _copy_weights(layer, clone)
    symbolic = wrapped(wrapped.model, [keras.KerasTensor((None, *s[1:])) for s in shapes])
    assert tuple(symbolic.shape) == (None, *expected_output_shape[1:]), symbolic.shape
    np.testing.assert_array_equal(wrapped(wrapped.model, inputs).numpy(), output)

    if tmp_path is not None:
        path = tmp_path / f"{layer.name}.keras"
        wrapped.model.save(path)
        loaded = keras.saving.load_model(path)
        revived = wrapped.inner(loaded)
        assert type(revived) is cls and revived.get_config() == layer.get_config()
        for a, b in zip(loaded.weights, wrapped.model.weights, strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
        np.testing.assert_array_equal(wrapped(loaded, inputs).numpy(), output)

    for policy in policies:
        _check_precision(cls, init_kwargs, inputs, call_kwargs, policy, expected_output_shape)
    return layer
