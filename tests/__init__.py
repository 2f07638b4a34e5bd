"""The test suite: one folder per subpackage of tfstylegan, helpers beside this file.

``DATA`` is the folder of reference fixtures written by the original code; ``ROOT`` the
repository (the working directory of the tests that run ``train.py``).
"""

import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
