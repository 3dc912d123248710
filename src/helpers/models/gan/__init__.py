"""Generative adversarial networks (chapter 10): the objective, the losses from logits, a DCGAN for the digits.

losses    the minimax value function V(D, G), discriminator_loss, generator_loss (minimax or non-saturating),
          value_function, normal_pdf and optimal_discriminator D* = p_data / (p_data + p_g); the module docstring
          derives D*, V(D*, G) = -log 4 + 2 JSD(p_data || p_g), and why the minimax generator loss saturates
dcgan     Generator (z -> 8x8 image in (-1, 1), transposed convolutions) and Discriminator (strided CNN -> logit),
          both conditional with n_classes > 0
training  train_gan (alternating D and G steps, snapshots from a fixed z) -> GANHistory, and class_histogram
          (a classifier's predicted classes on generated images: the measure of mode collapse)

    min_G max_D V(D, G) = E_{x ~ p_data}[log D(x)] + E_{z ~ p(z)}[log(1 - D(G(z)))]
"""

from helpers.models.gan.dcgan import Discriminator, Generator
from helpers.models.gan.losses import (
    discriminator_loss,
    generator_loss,
    normal_pdf,
    optimal_discriminator,
    softplus,
    value_function,
)
from helpers.models.gan.training import GANHistory, class_histogram, train_gan

__all__ = ["Discriminator", "GANHistory", "Generator", "class_histogram", "discriminator_loss", "generator_loss",
           "normal_pdf", "optimal_discriminator", "softplus", "train_gan", "value_function"]
