"""D_basic: the discriminator of the StyleGAN paper (ProGAN's, with blur)."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfstylegan import layers, ops
from tfstylegan.networks.base import Network, lod_cond

# The original D_basic keyword arguments and their defaults.
D_KWARGS = dict(
    num_channels=1,  # Channels of the input images (training takes it from the dataset).
    resolution=32,  # Side of the input images (training takes it from the dataset).
    label_size=0,  # Width of the conditioning labels; 0 = unconditional.
    fmap_base=8192,  # Feature maps of stage s: min(fmap_base / 2**(s * fmap_decay), fmap_max).
    fmap_decay=1.0,  # (see fmap_base)
    fmap_max=512,  # (see fmap_base)
    nonlinearity="lrelu",  # Activation: 'lrelu' or 'relu'.
    use_wscale=True,  # Scale weights at run time by He's constant (equalized lr).
    mbstd_group_size=4,  # Samples per minibatch-stddev group; 0 or 1 turns the layer off.
    mbstd_num_features=1,  # Channels the minibatch-stddev layer appends.
    fused_scale="auto",  # Accepted for the original's API; both settings compute the same function.
    blur_filter=[1, 2, 1],  # Separable low-pass taps before each downsampling; None = none.
    structure="auto",  # How lod is applied: 'fixed', 'linear' or 'recursive' (= 'auto').
)


@keras.saving.register_keras_serializable(package="tfstylegan")
class DBasic(Network):
    """The discriminator of the StyleGAN paper (the original ``D_basic``).

    Call: ``D(images, labels=None)`` with NHWC images ``[N, R, R, num_channels]`` in
    [-1, 1] returns scores ``[N, 1]``. With labels, the network has ``label_size``
    outputs and the score is their dot product with the labels (the original's
    ``LabelSwitch``).

    The ``lod`` variable drives progressive growing exactly as in G_synthesis.
    """

    original_kwargs = D_KWARGS
    original_name = "D"

    def __init__(self, name: str = "D", **kwargs):
        super().__init__(name=name, **kwargs)
        c = self.cfg
        self._setup_growth()
        log2 = self.resolution_log2
        act = dict(nonlinearity=c.nonlinearity, use_wscale=c.use_wscale, dtype=self.dtype_policy)
        # self.fromrgb[res - 2] reads images at resolution 2**res.
        self.fromrgb = [
            layers.Conv2D(self.nf(res - 1), 1, name=f"FromRGB_lod{log2 - res}", **act) for res in range(2, log2 + 1)
        ]
        # self.blocks[res - 3] = (Conv0, Conv1_down) of resolution 2**res.
        self.blocks = []
        for res in range(3, log2 + 1):
            size = 2**res
            self.blocks.append(
                (
                    layers.Conv2D(self.nf(res - 1), 3, name=f"{size}x{size}_Conv0", **act),
                    layers.Conv2D(
                        self.nf(res - 2),
                        3,
                        resample="down",
                        fused=layers.resolve_fused_scale(c.fused_scale, size),
                        name=f"{size}x{size}_Conv1_down",
                        **act,
                    ),
                )
            )
        self.conv4 = layers.Conv2D(self.nf(1), 3, name="4x4_Conv", **act)
        self.dense0 = layers.Dense(self.nf(0), name="4x4_Dense0", **act)
        self.dense1 = layers.Dense(
            max(c.label_size, 1), gain=1.0, use_wscale=c.use_wscale, name="4x4_Dense1", dtype=self.dtype_policy
        )
        self._build_now()

    def build_all(self):
        c = self.cfg
        self.lod = self._add_lod()
        for res, layer in zip(range(2, self.resolution_log2 + 1), self.fromrgb):
            layer.build((None, 2**res, 2**res, c.num_channels))
        for res, (conv0, conv1) in zip(range(3, self.resolution_log2 + 1), self.blocks):
            size = 2**res
            conv0.build((None, size, size, self.nf(res - 1)))
            conv1.build((None, size, size, self.nf(res - 1)))
        mbstd = c.mbstd_num_features if c.mbstd_group_size > 1 else 0
        self.conv4.build((None, 4, 4, self.nf(1) + mbstd))
        self.dense0.build((None, self.nf(1) * 16))
        self.dense1.build((None, self.nf(0)))

    def resolution_layers(self) -> dict[int, list]:
        """The layers of each resolution by its log2: FromRGB and the block (at 4x4: conv and dense layers).

        Mixed-precision training may give the layers of some resolutions their own dtype policy.
        """
        out = {2: [self.fromrgb[0], self.conv4, self.dense0, self.dense1]}
        for res in range(3, self.resolution_log2 + 1):
            out[res] = [self.fromrgb[res - 2], *self.blocks[res - 3]]
        return out

    def original_variables(self):
        """``[(local_name, variable)]`` in the original's creation order (linear template)."""
        def wb(name, layer):
            return [(f"{name}/weight", layer.weight), (f"{name}/bias", layer.bias)]

        log2 = self.resolution_log2
        out = [("lod", self.lod)] + wb(self.fromrgb[-1].name, self.fromrgb[-1])
        for res in range(log2, 2, -1):
            conv0, conv1 = self.blocks[res - 3]
            out += wb(f"{2**res}x{2**res}/Conv0", conv0) + wb(f"{2**res}x{2**res}/Conv1_down", conv1)
            out += wb(self.fromrgb[res - 3].name, self.fromrgb[res - 3])
        out += wb("4x4/Conv", self.conv4) + wb("4x4/Dense0", self.dense0) + wb("4x4/Dense1", self.dense1)
        return out

    def call(self, images, labels=None, lod_range=None):
        """Scores ``[N, 1]``; ``lod_range``: optional static ``(lo, hi)``, ``lo <= lod < hi`` (see ``lod_cond``)."""
        c = self.cfg
        images = tf.cast(images, self.compute_dtype)
        lod_in = tf.cast(self.lod, self.compute_dtype)
        log2 = self.resolution_log2

        # With a per-resolution precision (see resolution_layers) neighbouring resolutions
        # compute in different dtypes: activations are cast once, to the dtype of the
        # resolution they go to (casting to this network's dtype in between would take
        # float16 activations to float32 and back at every resolution).
        dtype = {res: group[0].compute_dtype for res, group in self.resolution_layers().items()}

        def fromrgb(x, res):  # res = 2..log2
            return tf.cast(self.fromrgb[res - 2](x), dtype[res])

        def block(x, res):  # res = 3..log2; the output goes on at resolution res - 1
            conv0, conv1 = self.blocks[res - 3]
            x = conv0(x)
            if c.blur_filter:
                x = ops.blur2d(x, c.blur_filter)
            return tf.cast(conv1(x), dtype[res - 1])

        def fade_in(x, y, lod):  # x + (y - x) * (lod_in - lod), in the dtype of x and y
            return ops.lerp(x, y, tf.cast(lod_in - lod, x.dtype))

        if self.structure == "fixed":
            x = fromrgb(images, log2)
            for res in range(log2, 2, -1):
                x = block(x, res)
        elif self.structure == "linear":
            img = images
            x = fromrgb(img, log2)
            for res in range(log2, 2, -1):
                lod = log2 - res
                x = block(x, res)
                img = ops.downscale2d(img)
                x = ops.lerp_clip(x, fromrgb(img, res - 1), tf.cast(lod_in - lod, x.dtype))
        else:
            # Recursive: the mirror image of G. Blocks finer than the current lod are
            # never computed; the input is box-downscaled straight to the needed level.
            def grow(res, lod):
                def start_here():
                    return fromrgb(ops.downscale2d(images, 2**lod), res)

                if lod > 0:
                    x = lod_cond(lod_in, "<", lod, lod_range, lambda: grow(res + 1, lod - 1), start_here)
                else:
                    x = start_here()
                if res == 2:
                    return x
                x = block(x, res)

                def fade():
                    return fade_in(x, fromrgb(ops.downscale2d(images, 2 ** (lod + 1)), res - 1), lod)

                return lod_cond(lod_in, ">", lod, lod_range, fade, lambda: x)

            x = grow(2, log2 - 2)
        scores = self._block4(x)
        if c.label_size:
            labels = self.check_labels(labels, scores)
            scores = tf.reduce_sum(scores * labels, axis=1, keepdims=True)  # [N, 1]
        return scores

    def _block4(self, x):
        c = self.cfg
        if c.mbstd_group_size > 1:
            x = ops.minibatch_stddev(x, c.mbstd_group_size, c.mbstd_num_features)
        x = self.conv4(x)
        x = tf.transpose(x, [0, 3, 1, 2])  # [N, C, 4, 4]: the original flattens in C, H, W order
        x = self.dense0(x)
        return self.dense1(x)
