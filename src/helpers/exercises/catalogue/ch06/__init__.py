"""Chapter 6 exercises: convolutional networks (the convolution of one channel, translation equivariance, a
convolution layer with channels, stride and padding, its output size, max pooling, the weight gradient of a
convolution, a VGG-style network's parameters, saliency maps, what to freeze when fine-tuning).

One module per group of exercises; ``EXERCISES`` lists them in the order the chapter asks them.
"""

from __future__ import annotations

from helpers.exercises.catalogue.ch06 import convolution, gradients, layers, networks

EXERCISES = [*convolution.EXERCISES, *layers.EXERCISES, *gradients.EXERCISES, *networks.EXERCISES]
