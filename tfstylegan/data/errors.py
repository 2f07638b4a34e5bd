"""The error of every dataset reader, writer and builder."""


class DatasetError(ValueError):
    """A dataset or one of its inputs is missing, malformed or inconsistent.

    The message names the offending path and says what was expected; command-line tools
    print it without a traceback.
    """
