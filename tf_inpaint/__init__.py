"""Semantic image inpainting with a DCGAN prior (Yeh et al., CVPR 2017)."""
__version__ = "0.1.0"
