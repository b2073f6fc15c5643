"""Picture quality metrics on float images in [0, 1]."""

from __future__ import annotations

import numpy as np


def psnr(image: np.ndarray, reference: np.ndarray) -> float:
    mse = float(np.mean((np.asarray(image, np.float64) - np.asarray(reference, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(1.0 / mse)


def ssim(image: np.ndarray, reference: np.ndarray) -> float:
    """Mean SSIM over colour channels (Gaussian window, as Wang et al. 2004)."""
    from skimage.metrics import structural_similarity

    return float(
        structural_similarity(
            image, reference, channel_axis=-1 if image.ndim == 3 else None, data_range=1.0, gaussian_weights=True
        )
    )
