"""The frozen Inception graph behind the published FIDs (``inception-2015-12-05``), in TF2.

Every published FID (TTUR's reference code, the StyleGAN papers) reads the 2048-d
``pool_3:0`` activations of the graph ``classify_image_graph_def.pb`` from Google's
``inception-2015-12-05.tgz``, feeding float images in [0, 255] NHWC at ``ExpandDims:0``.
The graph itself resizes them to 299 x 299 (``ResizeBilinear``, the TF1 sampling without
half-pixel centres) and maps them to [-1, 1]. This module imports that graph natively:

1. ``ExpandDims`` (the end of the JPEG-decoding head, shaped ``[1, ?, ?, 3]``) is replaced
   by a float placeholder of shape ``[?, ?, ?, 3]``, so any batch size runs. The reference
   code gets there by patching the batch dimension of the imported tensors' static shapes
   from 1 to None; a new input node says the same in the GraphDef itself.
2. Everything ``pool_3`` does not depend on (the JPEG head, the softmax) is dropped, and the
   recorded ``_output_shapes`` attributes (which carry the batch of 1) are removed, so shape
   inference starts from the new input.
3. Each ``BatchNormWithGlobalNormalization`` node (a TF1 op that TF2 functions no longer
   run) becomes the same arithmetic in current ops under the node's name:
   ``(t - mean) * (rsqrt(var + epsilon) * gamma) + beta`` (without ``* gamma`` when
   ``scale_after_normalization`` is false), as the op's kernel computes it.
4. The graph is imported inside ``tf.compat.v1.wrap_function`` with ``ExpandDims:0`` mapped
   to the function's argument, returning ``pool_3:0``.
"""

from __future__ import annotations

import tensorflow as tf

INPUT_NODE = "ExpandDims"
"""The graph's image input: float32 NHWC in [0, 255] (fed at ``ExpandDims:0``)."""

OUTPUT_NODE = "pool_3"
"""The average-pooled features ``[N, 1, 1, 2048]`` (read at ``pool_3:0``)."""

GRAPH_FILENAME = "classify_image_graph_def.pb"
"""The frozen graph inside the tarball."""

GRAPH_TARBALL = "inception-2015-12-05.tgz"
"""Google's tarball holding it; TTUR's reference FID code reads it from there."""


class GraphDefError(ValueError):
    """A file is not a frozen GraphDef with the Inception input and output nodes."""


def parse_graph_def(data: bytes) -> tf.compat.v1.GraphDef:
    """Parses serialized GraphDef bytes and checks for ``ExpandDims`` and ``pool_3``.

    Raises:
        GraphDefError: not a GraphDef, or one without those nodes.
    """
    graph_def = tf.compat.v1.GraphDef()
    try:
        graph_def.ParseFromString(data)
    except Exception as e:  # google.protobuf.message.DecodeError and friends
        raise GraphDefError(f"not a serialized GraphDef ({type(e).__name__}: {e})") from None
    names = {node.name for node in graph_def.node}
    missing = [n for n in (INPUT_NODE, OUTPUT_NODE) if n not in names]
    if missing:
        raise GraphDefError(
            f"a GraphDef of {len(graph_def.node)} nodes without the node(s) {missing} that the Inception "
            f"graph feeds and reads ({INPUT_NODE}:0 -> {OUTPUT_NODE}:0)"
        )
    return graph_def


def _with_batch_input(graph_def: tf.compat.v1.GraphDef) -> tf.compat.v1.GraphDef:
    """``graph_def`` with ``ExpandDims`` as a ``[?, ?, ?, 3]`` float placeholder, pruned to pool_3."""
    edited = tf.compat.v1.GraphDef()
    edited.versions.CopyFrom(graph_def.versions)
    edited.library.CopyFrom(graph_def.library)
    for node in graph_def.node:
        if node.op == "BatchNormWithGlobalNormalization":
            edited.node.extend(_batch_norm_nodes(node))
            continue
        new = edited.node.add()
        if node.name == INPUT_NODE:
            new.name, new.op = INPUT_NODE, "Placeholder"
            new.attr["dtype"].type = tf.float32.as_datatype_enum
            new.attr["shape"].shape.CopyFrom(tf.TensorShape([None, None, None, 3]).as_proto())
            if node.device:
                new.device = node.device
            continue
        new.CopyFrom(node)
        new.attr.pop("_output_shapes", None)  # recorded for a batch of 1
    return tf.compat.v1.graph_util.extract_sub_graph(edited, [OUTPUT_NODE])


def _batch_norm_nodes(node) -> list:
    """``BatchNormWithGlobalNormalization`` as Sub/Mul/Add/Rsqrt nodes; the last keeps its name."""
    t, mean, var, beta, gamma = node.input
    dtype = node.attr["T"]
    with tf.Graph().as_default() as g:
        tf.constant(node.attr["variance_epsilon"].f, tf.as_dtype(dtype.type), name="epsilon")
    epsilon = g.as_graph_def().node[0]
    epsilon.name = f"{node.name}/tfsg_epsilon"
    nodes = [epsilon]

    def add(suffix, op, inputs):
        new = tf.compat.v1.NodeDef(name=f"{node.name}/tfsg_{suffix}" if suffix else node.name, op=op)
        new.input.extend(inputs)
        new.attr["T"].CopyFrom(dtype)
        if node.device:
            new.device = node.device
        nodes.append(new)
        return new.name

    scale = add("rsqrt", "Rsqrt", [add("var_eps", "AddV2", [var, epsilon.name])])
    if node.attr["scale_after_normalization"].b:
        scale = add("scale", "Mul", [scale, gamma])
    add("", "AddV2", [add("scaled", "Mul", [add("centred", "Sub", [t, mean]), scale]), beta])
    return nodes


def load_feature_function(graph_def: tf.compat.v1.GraphDef):
    """A concrete function ``images [N, H, W, 3] float32 in [0, 255] -> pool_3 [N, 1, 1, D]``.

    Args:
        graph_def: the parsed frozen graph (:func:`parse_graph_def`).

    Returns:
        A callable TF function, traced once for every input shape ``[?, ?, ?, 3]``.
    """
    edited = _with_batch_input(graph_def)

    def import_graph(images):
        (pool,) = tf.compat.v1.import_graph_def(
            edited, input_map={f"{INPUT_NODE}:0": images}, return_elements=[f"{OUTPUT_NODE}:0"], name=""
        )
        return pool

    return tf.compat.v1.wrap_function(import_graph, [tf.TensorSpec([None, None, None, 3], tf.float32)])


__all__ = [
    "GRAPH_FILENAME",
    "GRAPH_TARBALL",
    "INPUT_NODE",
    "OUTPUT_NODE",
    "GraphDefError",
    "load_feature_function",
    "parse_graph_def",
]
