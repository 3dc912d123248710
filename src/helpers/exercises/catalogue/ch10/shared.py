"""What the chapter 10 exercises share: the library functions and the book's own helpers they forbid, under every name
an answer can reach them by, and the comparison of a result that is trained through (its value, then whether it
still has a graph, then its gradient with respect to each input that requires grad)."""

from __future__ import annotations

import sys

import torch

from helpers.exercises.catalogue.common import close_by_dtype, graph_leaves, zero_dim_tensor
from helpers.exercises.compare import as_mismatch
from helpers.exercises.runner import run
from helpers.exercises.spec import Compare, Mismatch

# ---------------------------------------------------------------- forbidden names
# The book's VAE (helpers.models.vae; its class stands for its methods: forward reparameterizes, and so on).
_VAE = "helpers.models.vae"
BOOKS_VAE = tuple(f"{_VAE}.{name}" for name in ("gaussian_kl", "reparameterize", "negative_elbo", "VAE", "train_vae"))
# torch's KL divergences: the dispatcher (torch.distributions.kl_divergence is torch.distributions.kl.kl_divergence),
# the registered Normal-to-Normal routes it dispatches to, and the pointwise KL of discrete distributions under its
# names (F.kl_div, torch.kl_div, nn.KLDivLoss).
KL = (
    "torch.distributions.kl_divergence", "torch.distributions.kl.kl_divergence",
    "torch.distributions.kl._kl_normal_normal", "torch.distributions.kl._kl_independent_independent",
    "torch.distributions.kl._kl_multivariatenormal_multivariatenormal",
    "torch.nn.functional.kl_div", "torch.kl_div", "torch.nn.KLDivLoss",
)
GAUSSIAN_KL = (*KL, *BOOKS_VAE)
# Drawing noise (eps is given) or a library's sample of N(mu, sigma^2): torch's draws, Normal's sample and rsample,
# the affine transform that computes loc + scale * x.
DRAWS = ("torch.normal", "torch.randn", "torch.randn_like", "torch.Tensor.normal_", "torch.nn.init.normal_")
REPARAMETERIZE = (
    *DRAWS, "torch.distributions.Normal.rsample", "torch.distributions.Normal.sample",
    "torch.distributions.MultivariateNormal.rsample", "torch.distributions.transforms.AffineTransform",
    *BOOKS_VAE,
)
# The negative ELBO: F.binary_cross_entropy is allowed (the lesson is the reduction); the KL is the reader's own.
NEGATIVE_ELBO = GAUSSIAN_KL

# The book's GAN (helpers.models.gan, a package: helpers.models.gan.losses.<name> is the same function).
_GAN = "helpers.models.gan"
BOOKS_GAN_LOSSES = tuple(f"{_GAN}.{name}" for name in ("discriminator_loss", "generator_loss", "value_function"))
# The binary cross-entropy under every name: with logits and on probabilities, functional, module, torch.* and
# aten's, and the book's own (chapter 2's). F.softplus and F.logsigmoid stay allowed: they are the stable pieces.
BCE = (
    "torch.nn.functional.binary_cross_entropy_with_logits", "torch.binary_cross_entropy_with_logits",
    "torch.nn.functional.binary_cross_entropy", "torch._C._nn.binary_cross_entropy",
    "torch.nn.BCEWithLogitsLoss", "torch.nn.BCELoss", "torch.distributions.Bernoulli.log_prob",
    "helpers.nn.losses.binary_cross_entropy_with_logits",
)
GAN_LOSSES = (*BCE, *BOOKS_GAN_LOSSES)
# Gaussian densities: SciPy's (norm.pdf stands for every continuous distribution's pdf), the standard library's,
# torch's log-density, and the book's.
DENSITIES = (
    "scipy.stats.norm.pdf", "scipy.stats.norm.logpdf", "scipy.stats.multivariate_normal.pdf",
    "scipy.stats.multivariate_normal.logpdf", "statistics.NormalDist.pdf", "torch.distributions.Normal.log_prob",
    "torch.distributions.MultivariateNormal.log_prob", f"{_GAN}.normal_pdf", f"{_GAN}.optimal_discriminator",
)
# The book's gradient-reversal layer (helpers.nn.gradient_reversal): the Function's two methods by name (the profiler
# matches them by their code), the class, the functional form and the module.
_GRL = "helpers.nn.gradient_reversal"
GRADIENT_REVERSAL = (f"{_GRL}.GradientReversal", f"{_GRL}.GradientReversal.forward",
                     f"{_GRL}.GradientReversal.backward", f"{_GRL}.grad_reverse", f"{_GRL}.GradientReversalLayer")

# the book's modules whose names the lists above hold (written alongside this chapter)
BOOKS_MODULES = (_VAE, _GAN, _GRL)


# ---------------------------------------------------------------- comparing a result that is trained through
TOLERANCE = close_by_dtype(float64=(1e-10, 1e-12), float32=(1e-5, 1e-6))
loss_compare = zero_dim_tensor("the loss", "so that it can be minimised by backpropagating through it",
                               float64=(1e-10, 1e-12), float32=(1e-5, 1e-6))


def trainable(tensor: torch.Tensor, argument: str) -> torch.Tensor:
    """``tensor`` as a leaf that requires grad (a network's output being trained), named for the feedback."""
    tensor.requires_grad_(True)
    tensor.argument = argument  # deep copies keep it: the runner's copies of the case are named too
    return tensor


def _gradients(result: torch.Tensor) -> dict[str, torch.Tensor]:
    """{argument name: d(sum of result)/d argument} for the named leaves the result reaches."""
    leaves = [leaf for leaf in graph_leaves(result) if hasattr(leaf, "argument")]
    if not leaves:
        return {}
    grads = torch.autograd.grad(result, leaves, torch.ones_like(result), retain_graph=True, allow_unused=True)
    return {leaf.argument: grad for leaf, grad in zip(leaves, grads) if grad is not None}


def _judged_live() -> bool:
    """True when the result being compared comes straight from the answer's call: ``runner.run`` is on the stack
    (``check`` and ``assess`` in the notebook, and the tests). False when the grader judges a recorded result: its
    probe saves values alone, detached (``grading.probe.plain``), while the reference it compares them with still
    has its graph, so there a result without one says nothing about the answer."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is run.__code__:
            return True
        frame = frame.f_back
    return False


NO_GRAPH = ("your result carries no gradient: it was cut from its inputs (.detach(), torch.no_grad(), a number taken "
            "out with .item() or .numpy() and put back with torch.tensor(...)), so the network could not learn through "
            "it. Keep every step in torch, on the tensors passed in.")


def with_gradients(compare: Compare) -> Compare:
    """``compare`` on the values; then, where the reference's result has a graph (the case's inputs require grad),
    the answer's must have one too (checked where the answer's result is judged live, not on the grader's detached
    record of it); and where it has one, the gradient of the result's sum with respect to each input."""

    def compare_graph(expected, got) -> Mismatch | None:
        if problem := as_mismatch(compare(expected, got)):
            return problem
        if not (isinstance(expected, torch.Tensor) and isinstance(got, torch.Tensor) and expected.requires_grad):
            return None
        if not got.requires_grad:
            return Mismatch(NO_GRAPH) if _judged_live() else None
        theirs = _gradients(got)
        tight = expected.dtype == torch.float64
        wrong = [argument for argument, want in _gradients(expected).items()
                 if not torch.allclose(theirs.get(argument, torch.zeros_like(want)), want,
                                       rtol=1e-9 if tight else 1e-5, atol=1e-12 if tight else 1e-6)]
        if wrong:
            return Mismatch(f"the value is right, but its gradient with respect to {' and '.join(sorted(wrong))} is "
                            "not: part of the computation was detached (.detach(), torch.no_grad(), a number taken "
                            "out with .item(), a new torch.tensor(...)), so training through it would follow another "
                            "gradient. Keep every step in torch, on the tensors passed in.")
        return None

    return compare_graph
