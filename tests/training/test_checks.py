"""The one check of a training configuration: the minibatch rules."""

import pytest

from tfstylegan.training.checks import check_config
from tfstylegan.training.config import ConfigError, DatasetInfo, TrainConfig


def test_check_config_minibatch_rules():
    info = DatasetInfo("x", 32, 3, 0, 100)
    ok = TrainConfig(sched_args=dict(minibatch_base=8, lod_initial_resolution=4))
    assert check_config(ok, info, 2).loss_args["D"]["r1_gamma"] == 10.0
    # 10 images over 2 replicas: 5 per replica, not a multiple of the stddev group (4).
    with pytest.raises(ConfigError, match="each replica gets 5 images"):
        check_config(ok.replace(sched_args=dict(minibatch_base=10)), info, 2)
    with pytest.raises(ConfigError, match="not a positive multiple of the 2 replica"):
        check_config(ok.replace(sched_args=dict(minibatch_base=8, minibatch_dict={16: 1})), info, 2)
    # A resolution the run never reaches is not checked (growing from 16).
    fine = ok.replace(sched_args=dict(minibatch_base=8, minibatch_dict={8: 3}, lod_initial_resolution=16))
    check_config(fine, info, 1)
    with pytest.raises(ConfigError, match="rmsprop takes"):
        check_config(ok.replace(optimizer="rmsprop", D_opt_args={"beta_1": 0.5}), info, 1)
