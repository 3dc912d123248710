"""Chapter 9 exercises: autoencoders and energy-based models (the rank-k PCA reconstruction, what a linear
autoencoder learns compared with PCA, the sparse penalty, masking noise for a denoising autoencoder, the contractive
penalty of a sigmoid encoder, a self-organizing map's update step and the lecture notes' worked example, an RBM's
free energy and the conditionals of a Gibbs step).

One module per group of exercises (the contractive penalty in its own module, listed by regularizers);
``EXERCISES`` lists them in the order the chapter asks them.
"""

from __future__ import annotations

from helpers.exercises.catalogue.ch09 import pca, rbm, regularizers, som

EXERCISES = [*pca.EXERCISES, *regularizers.EXERCISES, *som.EXERCISES, *rbm.EXERCISES]
