"""What a traced step computes in which precision, read from the graph TensorFlow stores.

:func:`audit_graph` walks the graph of a concrete function (``fn.get_concrete_function(...)``)
as TensorFlow stores it: the ``GraphDef`` of its body and every function of its library
that the body calls, directly or through calls (``If``/``StatelessIf`` branches, ``While``
bodies, nested ``tf.function`` s such as an XLA-compiled replica step, the gradient
functions of conditionals). A function called from several nodes counts once per caller.
For every convolution and matrix product it records the op, its dtype, its FLOPs
(2 x multiply-adds, from the shapes of the node's inputs) and the resolution it works at
(the largest spatial size of its activations). It also counts the ``Cast`` nodes and the
elements they convert.

The count is static: both branches of every conditional are in it, and so are gradient
nodes whose results nothing uses (TensorFlow prunes those before running the graph).
Shares of FLOPs by dtype are what the criterion is about, and they are the same either way.

The host syncs and traces of a training loop are :mod:`~tfstylegan.training.loop_audit`'s.
"""

from __future__ import annotations

import collections
import dataclasses
import re

import tensorflow as tf

# Op -> kind. "conv": dense 2-D convolutions and their two gradients; "depthwise": the
# blur and its gradients; "matmul": dense layers, style modulation, fused-kernel build.
COMPUTE_OPS = {
    "Conv2D": "conv",
    "Conv2DBackpropInput": "conv",
    "Conv2DBackpropFilter": "conv",
    "DepthwiseConv2dNative": "depthwise",
    "DepthwiseConv2dNativeBackpropInput": "depthwise",
    "DepthwiseConv2dNativeBackpropFilter": "depthwise",
    "MatMul": "matmul",
    "BatchMatMul": "matmul",
    "BatchMatMulV2": "matmul",
    "BatchMatMulV3": "matmul",
}
# Where each convolution op finds its activation x, the forward conv's output y and the
# filter w: an input index, or OUT for the node's own output.
OUT = "out"
_CONV_OPERANDS = {
    "Conv2D": (0, OUT, 1),
    "Conv2DBackpropInput": (OUT, 2, 1),
    "Conv2DBackpropFilter": (0, 2, OUT),
    "DepthwiseConv2dNative": (0, OUT, 1),
    "DepthwiseConv2dNativeBackpropInput": (OUT, 2, 1),
    "DepthwiseConv2dNativeBackpropFilter": (0, 2, OUT),
}
_NAMED_RESOLUTION = re.compile(r"(?:^|/)(\d+)x\1_")


@dataclasses.dataclass(frozen=True)
class ComputeNode:
    """One convolution or matrix product of a traced graph.

    Attributes:
        function: the library function that holds it ("" = the graph's body).
        name: the node name (it carries the layer's name scope, e.g. ``D/32x32_Conv0/Conv2D``).
        op: the op type (``Conv2D``, ``MatMul``, ...); ``kind`` is its entry in ``COMPUTE_OPS``.
        dtype: the dtype it computes in (``float32``, ``float16``, ``bfloat16``).
        flops: 2 x multiply-adds per call (None when a shape is unknown).
        resolution: the largest spatial size of its activations (convolutions), or the
            ``<R>x<R>_`` layer in its name (matrix products); None for neither.
        calls: how many call sites reach it.
    """

    function: str
    name: str
    op: str
    kind: str
    dtype: str
    flops: int | None
    resolution: int | None
    calls: int


@dataclasses.dataclass(frozen=True)
class CastNode:
    """One ``Cast`` of a traced graph: ``src`` -> ``dst`` dtype, its output ``shape`` (None = unknown)."""

    function: str
    name: str
    src: str
    dst: str
    shape: tuple | None
    calls: int

    @property
    def elements(self) -> int:
        """Elements converted per call (0 when the shape is unknown)."""
        return _prod(self.shape) if _known(self.shape) else 0


@dataclasses.dataclass
class GraphAudit:
    """The convolutions, matrix products and casts of one traced function."""

    nodes: list[ComputeNode]
    casts: list[CastNode]

    def cast_counts(self, floats_only: bool = False) -> collections.Counter:
        """``(src, dst) -> casts`` (per call site); ``floats_only``: between floating types only."""
        out = collections.Counter()
        for c in self.casts:
            if not floats_only or ("float" in c.src and "float" in c.dst):
                out[c.src, c.dst] += c.calls
        return out

    def cast_elements(self, floats_only: bool = False) -> collections.Counter:
        """``(src, dst) -> elements converted`` (per call site)."""
        out = collections.Counter()
        for c in self.casts:
            if not floats_only or ("float" in c.src and "float" in c.dst):
                out[c.src, c.dst] += c.elements * c.calls
        return out

    def select(self, kinds=("conv", "depthwise"), dtype: str | None = None) -> list[ComputeNode]:
        """The nodes of ``kinds`` (and of ``dtype``, if given)."""
        return [n for n in self.nodes if n.kind in kinds and (dtype is None or n.dtype == dtype)]

    def flops_by_dtype(self, kinds=("conv", "depthwise")) -> dict[str, int]:
        """FLOPs per dtype over the nodes of ``kinds`` (each node times its call sites)."""
        out = collections.Counter()
        for n in self.select(kinds):
            out[n.dtype] += (n.flops or 0) * n.calls
        return dict(out)

    def share(self, dtype: str, kinds=("conv", "depthwise")) -> float:
        """The fraction of the FLOPs of ``kinds`` computed in ``dtype`` (1.0 when there are none)."""
        flops = self.flops_by_dtype(kinds)
        total = sum(flops.values())
        return flops.get(dtype, 0) / total if total else 1.0

    def dtypes_by_resolution(self, kinds=("conv", "depthwise")) -> dict[int, set[str]]:
        """``{resolution: {dtypes}}`` of the nodes of ``kinds`` that have a resolution."""
        out = collections.defaultdict(set)
        for n in self.select(kinds):
            if n.resolution is not None:
                out[n.resolution].add(n.dtype)
        return dict(sorted(out.items()))

    def num_casts(self) -> int:
        """Cast nodes, counted per call site."""
        return sum(c.calls for c in self.casts)


def _dtype(attr_value) -> str:
    return tf.dtypes.as_dtype(attr_value.type).name


def _shapes(attr) -> list[list[int] | None]:
    """The shapes of an ``_output_shapes`` attribute in a node's (or an argument's) attrs (-1 = unknown size)."""
    if "_output_shapes" not in attr:
        return []
    return [None if s.unknown_rank else [d.size for d in s.dim] for s in attr["_output_shapes"].list.shape]


def _output_offsets(node, library: dict) -> dict[str, int]:
    """``{output arg name: first flat output index}`` of a node inside a function body."""
    from tensorflow.python.framework import op_def_registry  # The only registry of op signatures.

    op_def = op_def_registry.get(node.op)
    args = op_def.output_arg if op_def is not None else library[node.op].signature.output_arg
    offsets, index = {}, 0
    for arg in args:
        offsets[arg.name] = index
        if arg.number_attr:
            index += node.attr[arg.number_attr].i
        elif arg.type_list_attr:
            index += len(node.attr[arg.type_list_attr].list.type)
        else:
            index += 1
    return offsets


class _Body:
    """One function body (or the graph's body): its nodes and the shape of each input it names."""

    def __init__(self, nodes, library: dict, arg_shapes: dict | None = None, flat_refs: bool = True):
        self.nodes = list(nodes)
        self.by_name = {n.name: n for n in self.nodes}
        self.library = library
        self.arg_shapes = arg_shapes or {}
        self.flat_refs = flat_refs  # GraphDef "node:i" refs; function bodies use "node:arg:i".

    def input_shape(self, node, i: int) -> list[int] | None:
        ref = node.input[i]
        if ref in self.arg_shapes:
            return self.arg_shapes[ref]
        parts = ref.split(":")
        producer = self.by_name.get(parts[0])
        if producer is None:
            return None
        if self.flat_refs:
            index = int(parts[1]) if len(parts) > 1 else 0
        else:
            index = _output_offsets(producer, self.library).get(parts[1], 0) + int(parts[2])
        shapes = _shapes(producer.attr)
        return shapes[index] if index < len(shapes) else None


def _known(shape) -> bool:
    return shape is not None and all(d >= 0 for d in shape)


def _prod(values) -> int:
    out = 1
    for v in values:
        out *= int(v)
    return out


def _conv_flops(node, body: _Body) -> tuple[int | None, int | None]:
    """``(flops, resolution)`` of a (depthwise) convolution or one of its gradients.

    All three ops of a convolution do the multiply-adds of the forward one:
    ``prod(y) * kh * kw * C_in`` (``prod(y) * kh * kw`` for a depthwise conv).
    """
    own = (_shapes(node.attr) or [None])[0]
    x, y, w = (own if src == OUT else body.input_shape(node, src) for src in _CONV_OPERANDS[node.op])
    sizes = [s[1] for s in (x, y) if _known(s) and len(s) == 4]
    resolution = max(sizes) if sizes else None
    if not (_known(y) and _known(w)):
        return None, resolution
    taps = w[0] * w[1] if "Depthwise" in node.op else w[0] * w[1] * w[2]
    return 2 * _prod(y) * taps, resolution


def _matmul_flops(node, body: _Body) -> int | None:
    a, own = body.input_shape(node, 0), _shapes(node.attr)
    if not (_known(a) and own and _known(own[0])):
        return None
    transposed = node.attr["transpose_a"].b if "transpose_a" in node.attr else node.attr["adj_x"].b
    inner = a[-2] if transposed else a[-1]
    return 2 * _prod(own[0]) * inner


def _called_functions(node, library: dict) -> list[str]:
    """Names of the library functions a node calls (branches, loop bodies, ``f`` of a call op, direct calls)."""
    names = [node.op]
    for value in node.attr.values():
        kind = value.WhichOneof("value")
        if kind == "func":
            names.append(value.func.name)
        elif kind == "list":
            names += [f.name for f in value.list.func]
    return [name for name in names if name in library]


def _node_dtype(node) -> str:
    for key in ("T", "Ta"):
        if key in node.attr:
            return _dtype(node.attr[key])
    return "unknown"


def audit_graph(concrete_function) -> GraphAudit:
    """The convolutions, matrix products and casts of a concrete function and everything it calls."""
    graph_def = concrete_function.graph.as_graph_def(add_shapes=True)
    library = {f.signature.name: f for f in graph_def.library.function}
    calls = collections.Counter()

    def visit(name: str, count: int) -> None:
        calls[name] += count
        for node in library[name].node_def:
            for child in _called_functions(node, library):
                visit(child, count)

    for node in graph_def.node:
        for child in _called_functions(node, library):
            visit(child, 1)
    bodies = [("", _Body(graph_def.node, library), 1)]
    for name, count in calls.items():
        fdef = library[name]
        args = {
            arg.name: (_shapes(fdef.arg_attr[i].attr) or [None])[0] if i in fdef.arg_attr else None
            for i, arg in enumerate(fdef.signature.input_arg)
        }
        bodies.append((name, _Body(fdef.node_def, library, args, flat_refs=False), count))
    audit = GraphAudit([], [])
    for function, body, count in bodies:
        for node in body.nodes:
            if node.op == "Cast":
                shape = (_shapes(node.attr) or [None])[0]
                src, dst = _dtype(node.attr["SrcT"]), _dtype(node.attr["DstT"])
                audit.casts.append(CastNode(function, node.name, src, dst, None if shape is None else tuple(shape), count))
                continue
            kind = COMPUTE_OPS.get(node.op)
            if kind is None:
                continue
            if kind == "matmul":
                flops = _matmul_flops(node, body)
                match = _NAMED_RESOLUTION.search(node.name)
                resolution = int(match.group(1)) if match else None
            else:
                flops, resolution = _conv_flops(node, body)
            audit.nodes.append(
                ComputeNode(function, node.name, node.op, kind, _node_dtype(node), flops, resolution, count)
            )
    return audit


__all__ = ["COMPUTE_OPS", "CastNode", "ComputeNode", "GraphAudit", "audit_graph"]
