"""Chapter 10 exercises: deep generative models (the VAE's KL term, the reparameterized sample, the negative ELBO and
what averaging its reconstruction term over the pixels does, the GAN's discriminator and non-saturating generator
losses from logits, the optimal discriminator at a point, and the gradient-reversal layer of domain-adversarial
training).

One module per group of exercises; ``EXERCISES`` lists them in the order the chapter asks them.
"""

from __future__ import annotations

from helpers.exercises.catalogue.ch10 import domain, elbo, gan, vae

EXERCISES = [*vae.EXERCISES, *elbo.EXERCISES, *gan.EXERCISES, *domain.EXERCISES]
