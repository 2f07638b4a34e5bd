"""Graph-optimizer settings that the training steps need.

TensorFlow's graph optimizer (Grappler) has a memory pass that, when its static estimate
of a graph's peak memory exceeds 80% of the device's, rewrites each ``AddN`` of more than
two inputs into a ``TemporaryVariable`` that ``AssignAdd`` s accumulate into. The
variable's name is the node's name in its function, so when the same function body runs
twice at once in one step, as the second-order gradient of D's ``tf.cond`` s does for R1,
both create the same per-step variable and the step fails with ``AlreadyExistsError:
Resource __per_step_0/.../AddN_2/tmp_var``. Whether it triggers depends on the network's
size and on the machine's memory: the FFHQ architecture at 32x32 does on a machine with a
few GiB of RAM, the tiny preset does not.

:func:`disable_addn_rewrite` keeps Grappler's other memory heuristics (swapping to host
memory) and turns off that one rewrite, for every function called afterwards in the
process. It costs nothing: summing in place only saves memory, and the estimate that
triggers it counts every tensor as alive at once.
"""

from __future__ import annotations

from absl import logging

# Grappler's memory level without the AddN scheduling pass (RewriterConfig.SWAPPING_HEURISTICS).
MEMORY_OPTIMIZATION = "SWAPPING_HEURISTICS"


def disable_addn_rewrite() -> bool:
    """Turn off the AddN-to-temporary-variable rewrite for the functions called from now on.

    Uses the eager context's configuration, which TensorFlow attaches to every function
    call (there is no public switch for Grappler's memory level in TensorFlow 2). Returns
    False, after a warning, if this TensorFlow does not have the internals it relies on.
    """
    try:
        from tensorflow.core.protobuf import config_pb2, rewriter_config_pb2
        from tensorflow.python.eager import context

        ctx = context.context()
        config = config_pb2.ConfigProto()
        if ctx._config is not None:
            config.CopyFrom(ctx._config)
        level = rewriter_config_pb2.RewriterConfig.MemOptType.Value(MEMORY_OPTIMIZATION)
        config.graph_options.rewrite_options.memory_optimization = level
        ctx._config = config
        ctx._thread_local_data.function_call_options = None  # Rebuilt from the config on the next call.
    except (ImportError, AttributeError) as e:
        logging.warning("could not turn off Grappler's AddN rewrite (%s); a large D may fail with AlreadyExistsError", e)
        return False
    return True


def memory_optimization_level() -> str:
    """Grappler's memory level in the configuration that function calls get now (for tests and logs)."""
    from tensorflow.core.protobuf import config_pb2, rewriter_config_pb2
    from tensorflow.python.eager import context

    config = config_pb2.ConfigProto.FromString(context.context().function_call_options.config_proto_serialized)
    level = config.graph_options.rewrite_options.memory_optimization
    return rewriter_config_pb2.RewriterConfig.MemOptType.Name(level)
