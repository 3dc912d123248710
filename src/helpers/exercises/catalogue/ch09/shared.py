"""What the chapter 9 exercises share: the library functions and the book's own helpers they forbid, under every name
an answer can reach them by, the comparison of a penalty (a 0-dim tensor in the inputs' dtype), and known-wrong
answers that draw from torch's global random numbers (``any_draw``, ``draws_allowed``)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from helpers.exercises.catalogue.common import zero_dim_tensor
from helpers.exercises.compare import as_mismatch, describe
from helpers.exercises.forbid import AUTOGRAD
from helpers.exercises.spec import Mismatch

# PCA: every estimator and function of sklearn.decomposition (randomized_svd is sklearn.utils.extmath's, the same
# object), torch's low-rank PCA and SVD, and the book's PCA (its methods included: the class stands for them all).
SKLEARN_DECOMPOSITION = tuple(f"sklearn.decomposition.{name}" for name in (
    "PCA", "IncrementalPCA", "KernelPCA", "SparsePCA", "MiniBatchSparsePCA", "TruncatedSVD", "FactorAnalysis",
    "FastICA", "NMF", "MiniBatchNMF", "DictionaryLearning", "MiniBatchDictionaryLearning", "SparseCoder",
    "LatentDirichletAllocation", "dict_learning", "dict_learning_online", "fastica", "non_negative_factorization",
    "randomized_svd", "sparse_encode",
))
PCA = (*SKLEARN_DECOMPOSITION, "torch.pca_lowrank", "torch.svd_lowrank", "helpers.decomposition.PCA",
       "helpers.decomposition.subspace_angles")

# The book's autoencoder (helpers.models.autoencoder, also exported as helpers.models.<name>: the same functions).
_AE = "helpers.models.autoencoder"
BOOKS_AUTOENCODER = (f"{_AE}.Autoencoder", f"{_AE}.reconstruction_error")
# The sparse penalty: the L1 loss, and the norms that take ord / p = 1 (the exercise is the sum of absolute values).
NORMS = ("torch.norm", "torch.Tensor.norm", "torch.linalg.norm", "torch.linalg.vector_norm")
SPARSE = (f"{_AE}.sparse_penalty", "torch.nn.functional.l1_loss", "torch._C._nn.l1_loss", "torch.ops.aten.l1_loss",
          "torch.ops.aten.l1_loss.default", "torch.nn.L1Loss", *NORMS, *BOOKS_AUTOENCODER)
# Masking noise: the book's corruption, and dropout under its names (a dropout rescaled by 1 - p is a masking).
MASKING = (
    f"{_AE}.corrupt", "torch.nn.functional.dropout", "torch.nn.Dropout", "torch.dropout", "torch.native_dropout",
    "torch.feature_dropout", "torch.nn.functional.dropout1d", "torch.nn.functional.dropout2d",
    "torch.nn.functional.dropout3d", "helpers.nn.dropout.dropout", "helpers.nn.dropout.Dropout",
    "helpers.nn.dropout.dropout_mask", *BOOKS_AUTOENCODER,
)
# The contractive penalty in closed form: no Jacobian by autograd (reverse or forward mode), nor the book's.
CONTRACTIVE = (*AUTOGRAD, "torch.func.jvp", "torch.func.linearize", "torch.autograd.functional.jvp",
               "torch.autograd.functional.vhp", "torch.autograd.functional.hessian",
               "torch.autograd.forward_ad.make_dual", f"{_AE}.contractive_penalty", f"{_AE}.jacobian_penalty",
               *BOOKS_AUTOENCODER)

# The book's self-organizing map (helpers.models.som).
SOM = tuple(f"helpers.models.som.{name}" for name in (
    "som_update", "best_matching_unit", "squared_distances", "gaussian_neighbourhood", "SelfOrganizingMap",
))

# RBMs: sklearn's BernoulliRBM (the class stands for its methods: _free_energy, _mean_hiddens, transform, ...) and
# the book's (helpers.models.rbm).
_RBM = "helpers.models.rbm"
BOOKS_RBM = tuple(f"{_RBM}.{name}" for name in (
    "BernoulliRBM", "energy", "free_energy", "log_probability", "exact_log_partition", "hidden_probabilities",
    "visible_probabilities", "gibbs_step", "contrastive_divergence_step",
))
RBM = ("sklearn.neural_network.BernoulliRBM", *BOOKS_RBM)

# a penalty: a 0-dim tensor in the inputs' dtype (added to the loss and backpropagated through), then close()
penalty_compare = zero_dim_tensor("the penalty", "so that it can be added to the loss and trained through",
                                  float64=(1e-10, 1e-12), float32=(1e-5, 1e-6))


# ---------------------------------------------------------------- known-wrong answers that ignore the generator
# A mistake such as torch.rand_like(x) (the global random numbers, not the case's generator) gives another result on
# every call, so no known-wrong answer can return what the student's returned. The known-wrong answer makes one such
# draw and marks it with what every draw of that mistake has in common; draws_allowed(compare) accepts, against a
# marked result, any answer that has it. The mark is only ever on a known-wrong answer's result, never on a
# reference's, so an answer is still checked against the reference as before.
_MARK = "any_draw_like_this"


def any_draw(result: torch.Tensor, alike: Callable[[torch.Tensor], bool]) -> torch.Tensor:
    """``result`` (one draw of a random mistake), marked as standing for every tensor ``alike`` accepts."""
    setattr(result, _MARK, alike)
    return result


def draws_allowed(compare):
    """``compare``, except where the expected result (or an item of it) was marked by ``any_draw``: there, a tensor
    that the mark accepts is a match, and any other value a mismatch."""

    def compare_marked(expected, got) -> Mismatch | None:
        if isinstance(expected, (tuple, list)) and any(hasattr(item, _MARK) for item in expected):
            if not isinstance(got, (tuple, list)) or len(got) != len(expected):
                return Mismatch(f"expected {len(expected)} values, got {describe(got)}")
            for i, (e, g) in enumerate(zip(expected, got)):
                if problem := compare_marked(e, g):
                    return Mismatch(problem.message, i, problem.kind)
            return None
        alike = getattr(expected, _MARK, None)
        if alike is None:
            return as_mismatch(compare(expected, got))
        return None if isinstance(got, torch.Tensor) and alike(got) else Mismatch("not a draw of this mistake")

    return compare_marked
