"""Chapter 9: the rank-k PCA reconstruction, and what a linear autoencoder learns compared with PCA."""

from __future__ import annotations

import torch

from helpers.exercises.catalogue.ch09.shared import PCA
from helpers.exercises.catalogue.common import F64, close_by_dtype, gen
from helpers.exercises.compare import choice
from helpers.exercises.spec import Case, Exercise

F32 = torch.float32
# float64 is exact to rounding; float32's SVD (or eigh of the covariance, whose rounding is the square's) is not
PCA_TOLERANCE = close_by_dtype(float64=(1e-9, 1e-10), float32=(1e-3, 2e-4))


# ---------------------------------------------------------------- the rank-k reconstruction
def _data(g: torch.Generator, n: int, p: int, dtype=F64, decay: float = 0.5) -> torch.Tensor:
    """n samples of p features: a rotated cloud whose principal variances fall geometrically (ratio decay^2 from one
    direction to the next, so every principal subspace is well defined) around a mean far from 0."""
    rotation, _ = torch.linalg.qr(torch.randn(p, p, generator=g, dtype=F64))
    spread = 3.0 * decay ** torch.arange(p, dtype=F64)
    mean = 4.0 + 2.0 * torch.randn(p, generator=g, dtype=F64)
    return ((torch.randn(n, p, generator=g, dtype=F64) * spread) @ rotation.T + mean).to(dtype)


def _pca_cases() -> list[Case]:
    g = gen(91)
    return [
        Case("X (8, 4) float64, k = 2", (_data(g, 8, 4), 2),
             "Centre the columns, project every centred row on the k directions of largest variance (orthogonal "
             "projection), and move back by the mean: the result has X's shape, a point of an affine k-plane."),
        Case("fewer samples than features: X (6, 10) float64, k = 2", (_data(g, 6, 10), 2),
             "With n < p the centred data has rank at most n - 1: most directions of R^p carry no variance at all, "
             "and the k of largest variance are still well defined."),
        Case("X (20, 5) float32, k = 3", (_data(g, 20, 5, F32), 3),
             "Any dtype: the reconstruction keeps X's (float32 rounding is about 1e-7 of the values)."),
        Case("k = 1: X (10, 3) float64", (_data(g, 10, 3), 1),
             "One direction: every point is projected on the line through the mean along the first principal axis."),
        Case("k = p, every direction kept: X (7, 3) float64", (_data(g, 7, 3), 3),
             "Keeping all p directions loses nothing: the reconstruction is X itself (up to rounding)."),
        Case("X (100, 20) float64, k = 5", (_data(g, 100, 20, decay=0.7), 5), hidden=True),
        Case("X (50, 8) float32, k = 2", (_data(g, 50, 8, F32), 2), hidden=True),
        Case("X (5, 12) float64, k = 3", (_data(g, 5, 12), 3), hidden=True),
        Case("X (9, 4) float64, k = 4", (_data(g, 9, 4), 4), hidden=True),
    ]


def _pca_reconstruct(X: torch.Tensor, k: int) -> torch.Tensor:
    mean = X.mean(dim=0)  # (p,), one mean per feature (column)
    _, _, Vh = torch.linalg.svd(X - mean, full_matrices=False)  # rows of Vh: the principal axes, by variance
    W = Vh[:k]  # (k, p), orthonormal rows
    return (X - mean) @ W.T @ W + mean


def _reconstruct_with(centre="columns", add_back=True, axes="top", k_shift=0, scaled=True, standardise=False,
                      codes=False, svd_of="centred", eigenvalues=False):
    """The reconstruction with one of the known mistakes. centre: "columns" (right), "rows" or "none"; axes: "top"
    (Vh[:k], right), "columns" (Vh[:, :k] of the full SVD), "bottom" (the last k rows of the thin Vh), "eigh" (eigh of
    the covariance, its first k eigenvectors); svd_of: "centred" (right) or "uncentred" (the directions from the SVD
    of X itself, the centred data projected on them); eigenvalues: the codes multiplied by the covariance's
    eigenvalues S^2 / (n - 1) before they are decoded."""

    def answer(X, k):
        mean = {"columns": X.mean(dim=0), "rows": X.mean(dim=1, keepdim=True), "none": torch.zeros_like(X[0])}[centre]
        Xc = X - mean
        scale = Xc.std(dim=0) if standardise else torch.ones_like(X[0])
        Xc = Xc / scale
        k = k + k_shift
        if axes == "eigh":
            _, vectors = torch.linalg.eigh(Xc.T @ Xc / (len(X) - 1))  # ascending eigenvalues
            W = vectors[:, :k].T
        else:
            U, S, Vh = torch.linalg.svd(Xc if svd_of == "centred" else X, full_matrices=axes == "columns")
            W = {"top": Vh[:k], "columns": Vh[:, :k].T, "bottom": Vh[len(S) - k:]}[axes]
            if not scaled:  # U_k V_k^T: the singular values left out
                return U[:, :k] @ W + mean
        if codes:
            return Xc @ W.T
        if eigenvalues:
            return (Xc @ W.T * S[:k] ** 2 / (len(X) - 1)) @ W + mean
        return (Xc @ W.T @ W) * scale + (mean if add_back else 0)

    return answer


PCA_RECONSTRUCTION = Exercise(
    id="09.pca_reconstruction",
    title="The rank-k PCA reconstruction",
    kind="implement",
    points=2,
    prompt=(
        "pca_reconstruct(X, k) returns the rank-k PCA reconstruction of the data X (n samples, p features): centre X "
        "by its column means, project each centred row orthogonally on the span of the top k principal directions "
        "(those of largest variance), and add the mean back. X (n, p) -> (n, p) in X's dtype, 1 <= k <= min(n, p); "
        "sklearn's PCA(k).fit(X) followed by inverse_transform(transform(X)). Use torch.linalg.svd or "
        "torch.linalg.eigh: no PCA of a library's or the book's."
    ),
    reference=_pca_reconstruct,
    cases=_pca_cases,
    compare=PCA_TOLERANCE,
    forbidden=PCA,
    instead="Centre X yourself and take torch.linalg.svd of the centred data (or torch.linalg.eigh of its "
    "covariance): no PCA or low-rank SVD of sklearn's, torch's or the book's.",
    hints=[
        "Three steps: mean = X.mean(dim=0), one per feature; the principal directions of X - mean; then project and "
        "move back. The directions are the right singular vectors of the CENTRED data.",
        "torch.linalg.svd(Xc, full_matrices=False) returns U, S, Vh with the singular values in descending order: "
        "the ROWS of Vh are the directions, so the top k are W = Vh[:k], (k, p), orthonormal rows. (eigh of the "
        "covariance gives them too, but in ascending order: the last k columns.)",
        "mean = X.mean(dim=0); Vh = torch.linalg.svd(X - mean, full_matrices=False).Vh; W = Vh[:k]; "
        "return (X - mean) @ W.T @ W + mean.",
    ],
    wrong={
        "X was not centred: PCA's directions are those of largest variance AROUND THE MEAN. The SVD of X itself "
        "finds the direction of the mean first, and the projection misses the offset.": _reconstruct_with(
            centre="none"),
        "The mean was not added back: the projection of the centred data lies around 0; the reconstruction of X is "
        "that projection plus the mean, (X - mean) W^T W + mean.": _reconstruct_with(add_back=False),
        "Each ROW was centred (mean over dim=1): PCA centres each feature, the mean of each column over the "
        "samples, X.mean(dim=0).": _reconstruct_with(centre="rows"),
        "The columns of Vh were taken as the directions: torch.linalg.svd returns V TRANSPOSED, so the principal "
        "directions are the ROWS of Vh, Vh[:k] (or the columns of Vh.T, Vh.mT[:, :k]).": _reconstruct_with(
            axes="columns"),
        "The last k directions were kept: torch.linalg.svd sorts the singular values in DESCENDING order, so the "
        "directions of largest variance are the first rows of Vh, Vh[:k].": _reconstruct_with(axes="bottom"),
        "torch.linalg.eigh returns the eigenvalues in ASCENDING order: its first k eigenvectors are the directions of "
        "LEAST variance. Take the last k columns (vectors[:, -k:]), or flip them first.": _reconstruct_with(
            axes="eigh"),
        "One direction too many was kept (k + 1): the reconstruction uses exactly the top k.": _reconstruct_with(
            k_shift=1),
        "One direction too few was kept (k - 1): Vh[:k] has k rows, rows 0 to k - 1.": _reconstruct_with(
            k_shift=-1),
        "The singular values were left out (U_k V_k^T): the centred data is U S V^T, so its rank-k approximation is "
        "U_k diag(S_k) V_k^T = (X - mean) W^T W.": _reconstruct_with(scaled=False),
        "The columns were divided by their standard deviations first: that is PCA of the correlation matrix, whose "
        "directions differ from the covariance's whenever the features have different spreads. PCA here only "
        "centres.": _reconstruct_with(standardise=True),
        "The codes were returned, (X - mean) W^T, k numbers per sample: the reconstruction maps them back to the "
        "p features, codes @ W + mean.": _reconstruct_with(codes=True),
        "The codes were multiplied by the eigenvalues (the notes' \"eigenvector x eigenvalue\"): the codes (X - "
        "mean) W^T are already the coordinates along the directions, so X_hat = codes W + mean; the eigenvalues "
        "(variances) do not enter.": _reconstruct_with(eigenvalues=True),
        "The directions came from the SVD of X itself, not of the centred X - mean: the data was centred for the "
        "projection, but the directions must come from the SVD of the CENTRED data (those of X bend towards the "
        "mean).": _reconstruct_with(svd_of="uncentred"),
    },
)


# ---------------------------------------------------------------- the linear autoencoder and PCA
LINEAR_AE_OPTIONS = {
    "a": "PCA's own two axes: its decoder's two columns are the top two principal components, orthonormal, as PCA's.",
    "b": "PCA's 2-D subspace and the same error; its decoder's columns are a basis of it, in general not orthonormal.",
    "c": "Another 2-D subspace, with a lower error: gradient descent is not limited to orthogonal projections.",
    "d": "The plane of the two pixels of largest variance, since the squared error weighs each pixel by its spread.",
}

LINEAR_AE_QUESTION = (
    "A linear autoencoder 64 -> 2 -> 64 (two nn.Linear layers with biases, no activation) is trained with the mean "
    "squared error until it converges, on the 8 x 8 digits (1797 images of 64 pixels, scaled to [0, 1]). Compare it "
    "with a 2-component PCA of the same images. What has the autoencoder learned?"
)

LINEAR_AE = Exercise(
    id="09.linear_ae",
    title="What a linear autoencoder learns",
    kind="choice",
    points=1,
    prompt=f"{LINEAR_AE_QUESTION} Return the letter.",
    reference=lambda: "b",
    cases=lambda: [Case("a linear 64 -> 2 -> 64 autoencoder against 2-component PCA", (),
                        "A linear encoder and decoder make x_hat = W_d (W_e x + b_e) + b_d, an affine map of rank at "
                        "most 2: its reconstructions lie in a 2-D affine plane, like PCA's.")],
    compare=choice(LINEAR_AE_OPTIONS),
    options=LINEAR_AE_OPTIONS,
    hints=[
        "Whatever the weights, the reconstructions W_d (W_e x + b_e) + b_d lie in a 2-D plane. Which 2-D plane "
        "reconstructs the centred data best in squared error (the Eckart-Young theorem)?",
        "So the best the autoencoder can do is PCA's error, reached by PCA's plane. Now replace W_d by W_d A and W_e "
        "by A^-1 W_e for any invertible 2 x 2 matrix A: what happens to the reconstructions, and to the columns?",
        "The loss cannot tell apart bases of the same plane, so nothing pushes the decoder's columns to be "
        "orthonormal or to be the principal axes.",
    ],
    wrong={
        "The loss depends only on the plane the reconstructions lie in: W_d A and A^-1 W_e give the same "
        "reconstructions for any invertible A, so the decoder's columns are some basis of PCA's plane (measured on "
        "the digits: W_d^T W_d is far from the identity), not the orthonormal principal axes.": lambda: "a",
        "No 2-D plane reconstructs better than PCA's (Eckart-Young: U_2 S_2 V_2^T is the best rank-2 approximation "
        "of the centred data), and a linear autoencoder's reconstructions lie in a 2-D plane: its error is at best "
        "PCA's, which it reaches on the digits.": lambda: "c",
        "The best plane is spanned by the directions of largest variance, which mix many pixels: the two pixels of "
        "largest variance on their own leave far more of the data unexplained, and the autoencoder matches PCA's "
        "error, not theirs.": lambda: "d",
    },
)

EXERCISES = [PCA_RECONSTRUCTION, LINEAR_AE]
