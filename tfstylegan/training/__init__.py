"""Training: compiled steps, the host loop, presets, checkpoints."""
