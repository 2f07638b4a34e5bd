"""G_synthesis: disentangled latents W -> images, with lod-based progressive growing."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfstylegan import layers, ops
from tfstylegan.networks.base import Network, lod_cond
from tfstylegan.noise import DEFAULT_RANDOM

# The original G_synthesis keyword arguments and their defaults.
SYNTHESIS_KWARGS = dict(
    dlatent_size=512,  # Width of each per-layer w.
    num_channels=3,  # Channels of the output images.
    resolution=1024,  # Side of the output images, a power of two >= 4.
    fmap_base=8192,  # Feature maps of stage s: min(fmap_base / 2**(s * fmap_decay), fmap_max).
    fmap_decay=1.0,  # (see fmap_base)
    fmap_max=512,  # (see fmap_base)
    use_styles=True,  # Modulate every layer with its own w (else one w, no modulation).
    const_input_layer=True,  # Start from a learned 4x4 constant; False = a dense layer of w.
    use_noise=True,  # Add per-pixel noise, scaled per channel, in every layer.
    randomize_noise=True,  # Draw new noise on each call; False = use the stored noise images.
    nonlinearity="lrelu",  # Activation: 'lrelu' or 'relu'.
    use_wscale=True,  # Scale weights at run time by He's constant (equalized lr).
    use_pixel_norm=False,  # Normalise each pixel's feature vector (a ProGAN feature, off in StyleGAN).
    use_instance_norm=True,  # Normalise each channel of each sample before the style.
    fused_scale="auto",  # Use the transposed-conv upsampling; 'auto' = for outputs of 128x128 and up.
    blur_filter=[1, 2, 1],  # Separable low-pass taps after each upsampling; None = none.
    structure="auto",  # How lod is applied: 'fixed', 'linear' or 'recursive' (= 'auto').
)


@keras.saving.register_keras_serializable(package="tfstylegan")
class GSynthesis(Network):
    """The synthesis network of the StyleGAN paper (the original ``G_synthesis``).

    Call: ``synthesis(dlatents, randomize_noise=None, rng=None)`` with dlatents
    ``[N, num_layers, dlatent_size]`` returns NHWC images ``[N, R, R, num_channels]``
    (range about [-1, 1], not clipped).

    Progressive growing is driven by the float32 ``lod`` variable (0 = full
    resolution). ``structure='recursive'`` (the default) computes only what the
    current lod needs, with ``tf.cond``; ``'linear'`` computes everything and
    blends with clipping; ``'fixed'`` ignores lod. Both growing structures give the
    same images for ``0 <= lod <= log2(R) - 2``.

    Randomness (noise when ``randomize_noise``) comes from ``rng``: any object with the
    ``tf.random.Generator`` methods ``normal(shape, dtype=...)``; ``None`` uses
    TensorFlow's global stateful ops.
    """

    original_kwargs = SYNTHESIS_KWARGS
    original_name = "G_synthesis"

    def __init__(self, name: str = "G_synthesis", **kwargs):
        super().__init__(name=name, **kwargs)
        c = self.cfg
        self._setup_growth()
        self.num_layers = self.resolution_log2 * 2 - 2
        self.num_styles = self.num_layers if c.use_styles else 1

        common = dict(
            dlatent_size=c.dlatent_size,
            use_noise=c.use_noise,
            use_pixel_norm=c.use_pixel_norm,
            use_instance_norm=c.use_instance_norm,
            use_styles=c.use_styles,
            nonlinearity=c.nonlinearity,
            use_wscale=c.use_wscale,
            dtype=self.dtype_policy,
        )
        first = "const" if c.const_input_layer else "dense"
        # self.blocks[res] holds the layers of resolution 2**res; res 2 is the 4x4 block.
        self.layer_list = [
            layers.SynthesisLayer(self.nf(1), first, name=f"4x4_{first.title()}", **common),
            layers.SynthesisLayer(self.nf(1), "conv", name="4x4_Conv", **common),
        ]
        for res in range(3, self.resolution_log2 + 1):
            size = 2**res
            self.layer_list += [
                layers.SynthesisLayer(
                    self.nf(res - 1),
                    "up",
                    fused_scale=layers.resolve_fused_scale(c.fused_scale, size),
                    blur_filter=c.blur_filter,
                    name=f"{size}x{size}_Conv0_up",
                    **common,
                ),
                layers.SynthesisLayer(self.nf(res - 1), "conv", name=f"{size}x{size}_Conv1", **common),
            ]
        self.torgb = [
            layers.Conv2D(
                c.num_channels,
                1,
                gain=1.0,
                use_wscale=c.use_wscale,
                name=f"ToRGB_lod{self.resolution_log2 - res}",
                dtype=self.dtype_policy,
            )
            for res in range(2, self.resolution_log2 + 1)
        ]
        self._build_now()

    def build_all(self):
        self.lod = self._add_lod()
        self.noise_inputs = []
        if self.cfg.use_noise:
            for layer_idx in range(self.num_layers):
                size = 2 ** (layer_idx // 2 + 2)
                self.noise_inputs.append(
                    self.add_weight(
                        name=f"noise{layer_idx}",
                        shape=(1, size, size, 1),
                        initializer=keras.initializers.RandomNormal(0.0, 1.0),
                        trainable=False,
                    )
                )
        channels = None
        for layer_idx, layer in enumerate(self.layer_list):
            size = 2 ** (layer_idx // 2 + 2)
            in_size = size // 2 if layer.mode == "up" else size
            layer.build((None, in_size, in_size, channels))
            channels = layer.fmaps
        for res, torgb in zip(range(2, self.resolution_log2 + 1), self.torgb):
            torgb.build((None, 2**res, 2**res, self.nf(res - 1)))

    def resolution_layers(self) -> dict[int, list]:
        """The layers of each resolution by its log2 (2 = 4x4): two synthesis layers and a ToRGB.

        Mixed-precision training may give the layers of some resolutions their own dtype policy.
        """
        return {
            res: [self.layer_list[2 * res - 4], self.layer_list[2 * res - 3], self.torgb[res - 2]]
            for res in range(2, self.resolution_log2 + 1)
        }

    def original_variables(self):
        """``[(local_name, variable)]`` in the original's creation order."""
        out = [("lod", self.lod)]
        out += [(f"noise{i}", v) for i, v in enumerate(self.noise_inputs)]
        scopes = {0: "4x4/" + ("Const" if self.cfg.const_input_layer else "Dense"), 1: "4x4/Conv"}
        for res in range(3, self.resolution_log2 + 1):
            scopes[2 * res - 4] = f"{2**res}x{2**res}/Conv0_up"
            scopes[2 * res - 3] = f"{2**res}x{2**res}/Conv1"
        for layer_idx, layer in enumerate(self.layer_list):
            out += [(f"{scopes[layer_idx]}/{n}", v) for n, v in layer.original_variables()]
            if layer_idx % 2 == 1:  # each resolution's ToRGB follows its block
                res = layer_idx // 2 + 2
                torgb = self.torgb[res - 2]
                out += [(f"{torgb.name}/weight", torgb.weight), (f"{torgb.name}/bias", torgb.bias)]
        return out

    # ------------------------------------------------------------------ call

    def call(self, dlatents, randomize_noise=None, rng=None, lod_range=None):
        """Synthesize images.

        Args:
            dlatents: ``[N, num_styles, dlatent_size]``.
            randomize_noise: ``True`` draws fresh noise, ``False`` uses the stored noise;
                ``None`` uses the configured ``randomize_noise``.
            rng: Source of randomness (``tf.random.Generator``-like); ``None`` = global.
            lod_range: Optional static bounds ``(lo, hi)`` with ``lo <= lod < hi``
                that prune the recursive structure at trace time (see ``lod_cond``).

        Returns:
            NHWC images ``[N, resolution, resolution, num_channels]``.
        """
        c = self.cfg
        dlatents = tf.cast(dlatents, self.compute_dtype)
        randomize_noise = c.randomize_noise if randomize_noise is None else randomize_noise
        rng = rng or DEFAULT_RANDOM
        lod_in = tf.cast(self.lod, self.compute_dtype)

        def layer(idx, x):
            noise = None
            if c.use_noise:
                if randomize_noise:
                    size = 2 ** (idx // 2 + 2)
                    noise = rng.normal([tf.shape(dlatents)[0], size, size, 1], dtype=dlatents.dtype)
                else:
                    noise = self.noise_inputs[idx]
            style = dlatents[:, idx] if c.use_styles else dlatents[:, 0]
            return self.layer_list[idx](x, style, noise)

        def block(res, x):  # res = 3..resolution_log2
            x = layer(2 * res - 4, x)
            return layer(2 * res - 3, x)

        def torgb(res, x):  # res = 2..resolution_log2; images in this network's dtype
            return tf.cast(self.torgb[res - 2](x), self.compute_dtype)

        x = layer(0, dlatents)
        x = layer(1, x)
        log2 = self.resolution_log2

        if self.structure == "fixed":
            for res in range(3, log2 + 1):
                x = block(res, x)
            return torgb(log2, x)

        if self.structure == "linear":
            images = torgb(2, x)
            for res in range(3, log2 + 1):
                lod = log2 - res
                x = block(res, x)
                images = ops.lerp_clip(torgb(res, x), ops.upscale2d(images), lod_in - lod)
            return images

        # Recursive: descend while lod_in < lod, output the blend at the first level
        # whose lod is <= lod_in. Block res is computed only when lod_in < lod + 1.
        def grow(x, res, lod):
            y = block(res, x)

            def exact():
                return ops.upscale2d(torgb(res, y), 2**lod)

            def fade():
                blend = ops.lerp(torgb(res, y), ops.upscale2d(torgb(res - 1, x)), lod_in - lod)
                return ops.upscale2d(blend, 2**lod)

            def here():
                return lod_cond(lod_in, ">", lod, lod_range, fade, exact)

            if lod > 0:
                return lod_cond(lod_in, "<", lod, lod_range, lambda: grow(y, res + 1, lod - 1), here)
            return here()

        if log2 == 2:  # 4x4 output: nothing to grow
            return torgb(2, x)
        return grow(x, 3, log2 - 3)
