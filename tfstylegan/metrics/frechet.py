"""The Frechet distance between two Gaussians, the math behind FID (Heusel et al. 2017).

    FID = |mu_r - mu_g|^2 + tr(S_r + S_g - 2 (S_r S_g)^(1/2))

:func:`feature_statistics` gives the mean and covariance of a feature set as the original
computes them (``np.cov``, unbiased); :func:`frechet_distance` the distance, by symmetric
eigendecompositions only (see its docstring for why this is safe with singular covariances).
"""

from __future__ import annotations

import numpy as np


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of a set of feature vectors.

    Args:
        features: ``[N, D]`` array, one feature vector per row, N >= 2.

    Returns:
        ``(mu, sigma)``: float64 ``[D]`` mean and ``[D, D]`` unbiased covariance
        (``np.cov(features, rowvar=False)``, normalised by N - 1, as the original).
    """
    features = np.asarray(features)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError(f"features must be [N, D] with N >= 2, got shape {features.shape}")
    mu = np.mean(features, axis=0, dtype=np.float64)
    sigma = np.cov(features, rowvar=False)
    return mu, np.atleast_2d(sigma)


def _numerical_zero(eigvals: np.ndarray) -> float:
    """Eigenvalues at or below this are round-off (the usual matrix-rank tolerance)."""
    return max(float(np.max(eigvals)), 0.0) * eigvals.shape[0] * np.finfo(np.float64).eps


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Frechet distance between two Gaussians N(mu1, sigma1) and N(mu2, sigma2).

    ``|mu1 - mu2|^2 + tr(sigma1) + tr(sigma2) - 2 tr((sigma1 sigma2)^(1/2))``, in float64.

    The original takes ``scipy.linalg.sqrtm`` of the product ``sigma1 @ sigma2``, which
    is not symmetric and can come back complex or inaccurate when the covariances are
    singular (fewer images than feature dimensions). Here only symmetric
    eigendecompositions are used:

    1. ``sigma1 = U diag(l) U^T`` (``eigh``), keeping the r eigenvalues above round-off
       (``l > max(l) * D * eps``), so ``R = U diag(sqrt(l)) U^T`` is its PSD square root.
    2. ``S1 S2`` has the spectrum of the symmetric PSD ``R S2 R``, whose nonzero part is
       that of the r x r matrix ``diag(sqrt(l)) U^T S2 U diag(sqrt(l))`` (U has
       orthonormal columns).
    3. ``tr((S1 S2)^(1/2))`` is the sum of the square roots of those eigenvalues
       (``eigvalsh``), again with round-off ones set to zero.

    Singular covariances need no regularising offset, and dropping the round-off
    eigenvalues keeps their square roots (~1e-8 each) out of the trace. Low-rank
    ``sigma1`` also makes step 2 cheap.

    Args:
        mu1: ``[D]`` mean of the first set.
        sigma1: ``[D, D]`` covariance of the first set (symmetric PSD).
        mu2: ``[D]`` mean of the second set.
        sigma2: ``[D, D]`` covariance of the second set (symmetric PSD).

    Returns:
        The distance as a Python float, >= 0 (a round-off negative result is returned
        as 0).

    Raises:
        ValueError: on mismatched shapes or non-finite values.
    """
    mu1 = np.atleast_1d(np.asarray(mu1, dtype=np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, dtype=np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, dtype=np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, dtype=np.float64))
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(
            f"shape mismatch: mu1 {mu1.shape}, sigma1 {sigma1.shape}, mu2 {mu2.shape}, sigma2 {sigma2.shape}"
        )
    for name, value in (("mu1", mu1), ("sigma1", sigma1), ("mu2", mu2), ("sigma2", sigma2)):
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{name} has non-finite values (NaN or inf features?)")
    sigma1 = 0.5 * (sigma1 + sigma1.T)
    sigma2 = 0.5 * (sigma2 + sigma2.T)

    eigvals, eigvecs = np.linalg.eigh(sigma1)
    keep = eigvals > _numerical_zero(eigvals)
    roots = np.sqrt(eigvals[keep])  # [r]
    basis = eigvecs[:, keep]  # [D, r], orthonormal columns
    middle = (basis.T @ sigma2 @ basis) * roots[:, None] * roots[None, :]  # [r, r]
    middle = 0.5 * (middle + middle.T)
    tr_covmean = 0.0
    if middle.size:
        middle_eigvals = np.linalg.eigvalsh(middle)
        middle_eigvals = middle_eigvals[middle_eigvals > _numerical_zero(middle_eigvals)]
        tr_covmean = float(np.sum(np.sqrt(middle_eigvals)))

    diff = mu1 - mu2
    dist = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * tr_covmean
    return float(max(dist, 0.0))


__all__ = ["feature_statistics", "frechet_distance"]
