"""Import aliases for the original StyleGAN ``dnnlib`` package: data-only stand-ins.

The original ``network.pkl`` files refer to ``dnnlib.tflib.network.Network``. With this
package on the path, a plain ``pickle.load`` of such a file gives
:class:`dnnlib.tflib.network.Network` stubs that hold the pickled state and never run the
network source stored in it. A plain ``pickle.load`` still trusts the file in every other
respect; for files from elsewhere use :func:`tfstylegan.legacy.load_pickle_states`, which
refuses anything an original file would not contain.
"""
