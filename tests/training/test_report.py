"""What a run reports: durations as the original formats them."""

from tfstylegan.training.report import format_time


def test_format_time():
    assert [format_time(s) for s in (5, 65, 3723, 90061)] == ["5s", "1m 05s", "1h 02m 03s", "1d 01h 01m"]
