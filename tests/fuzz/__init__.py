"""The fuzz suite: hostile pickles, corrupt datasets and odd image folders (see harness.py)."""
