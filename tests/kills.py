"""Killing a writer with SIGKILL at a chosen point, as the kill tests do."""

import os
import signal


def killed_at(step: int, operations, action) -> bool:
    """Runs ``action`` in a forked child that SIGKILLs itself before operation ``step``; True if it was killed.

    ``operations`` are ``(module, name)`` of the functions that count as steps. The child
    must use only os-level calls (any TensorFlow writer closed before the fork).
    """
    pid = os.fork()
    if pid == 0:  # The child: count the steps, die at the chosen one.
        try:
            count = [0]
            for module, name in operations:
                real = getattr(module, name)

                def step_then(*args, real=real):
                    if count[0] == step:
                        os.kill(os.getpid(), signal.SIGKILL)
                    count[0] += 1
                    return real(*args)

                setattr(module, name, step_then)
            action()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
