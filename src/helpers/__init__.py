"""helpers: the shared package behind the interactive deep-learning book.

The package face is small on purpose::

    import helpers
    helpers.device()          # cuda > mps > cpu, or $HELPERS_DEVICE
    helpers.seed_everything(0)

Everything else lives in one module per idea: ``helpers.data``, ``helpers.plot``, ``helpers.train``,
``helpers.stats`` (estimators, likelihoods, metrics), ``helpers.models``, ``helpers.widgets`` and ``helpers.exercises``.
"""

from helpers.device import device, seed_everything, to_device

__version__ = "0.1.0"
__all__ = ["__version__", "device", "seed_everything", "to_device"]
