"""The small models the chapters train, one idea per module.

polynomial   least-squares polynomial regression (chapter 1)
mlp          the multilayer perceptron, its weight-space symmetries, count_parameters (chapter 3)
cnn          SmallCNN, a two-layer convolutional network for the 8x8 digits (chapter 6)
blocks       vgg_block, ResidualBlock, DenseBlock, transition_block (chapter 6)
classic      LeNet5, and AlexNet and VGG16 in torchvision's layouts (chapter 6)
sequence     SequenceRegressor (seq -> vector), SequenceTagger (seq -> seq),
             gradient_norms_through_time, cell_gradient_norms (chapter 7)
seq2seq      EncoderDecoder: a GRU encoder-decoder, with or without attention (chapter 8)
transformer  TransformerBlock (nn.TransformerEncoderLayer's names, pre-norm by default), TinyTransformer (chapter 8)
autoencoder  Autoencoder (linear: PCA's subspace), sparse_penalty, corrupt, contractive_penalty, jacobian_penalty,
             reconstruction_error, train_autoencoder (chapter 9)
som          SelfOrganizingMap, best_matching_unit, som_update, gaussian_neighbourhood, grid_coordinates (chapter 9)
rbm          BernoulliRBM (sklearn's, PCD); in the module: energy, free_energy, Gibbs sampling, CD-k, the exact
             log partition function by enumeration (chapter 9)
rbm_training exact_gradient (by enumeration), log_likelihood_curve: a tiny RBM trained by the exact gradient, CD-k
             or PCD, with its exact log-likelihood along the way (chapter 9)
vae          gaussian_kl, reparameterize, negative_elbo (BCE summed over pixels; "mean" is the posterior-collapse
             bug), VAE, train_vae (chapter 10)
domain_adversarial  DANN (features, label predictor, domain classifier behind a gradient-reversal layer), train_dann,
             DANNHistory, ganin_lambda; accuracy in the module (chapter 10)
cyclegan     cycle_consistency_loss, cyclegan_losses (log or least-squares adversarial terms + lambda * cycle),
             ConvTranslator, MLPTranslator, DomainDiscriminator, unpaired_digits (invert / thicken), train_cyclegan
             (chapter 10)
autoregressive  chain_rule_log_prob, FVSBN, MADE (made_masks), train_autoregressive (chapter 10)
gan          discriminator_loss, generator_loss (minimax or non-saturating), value_function, normal_pdf,
             optimal_discriminator; Generator, Discriminator (DCGAN for 8x8 digits, conditional with n_classes),
             train_gan -> GANHistory, class_histogram (a package: losses, dcgan, training; chapter 10)
classifier   MLPClassifier: sklearn's estimator interface around a small torch MLP (full-batch Adam, L2 alpha)
             (chapter 11)
"""

from helpers.models.autoencoder import (
    Autoencoder,
    contractive_penalty,
    corrupt,
    jacobian_penalty,
    reconstruction_error,
    sparse_penalty,
    train_autoencoder,
)
from helpers.models.autoregressive import FVSBN, MADE, chain_rule_log_prob, made_masks, train_autoregressive
from helpers.models.blocks import DenseBlock, ResidualBlock, transition_block, vgg_block
from helpers.models.classic import VGG16, AlexNet, LeNet5
from helpers.models.classifier import MLPClassifier
from helpers.models.cnn import SmallCNN
from helpers.models.cyclegan import (
    ConvTranslator,
    DomainDiscriminator,
    MLPTranslator,
    cycle_consistency_loss,
    cyclegan_losses,
    train_cyclegan,
    unpaired_digits,
)
from helpers.models.domain_adversarial import DANN, DANNHistory, ganin_lambda, train_dann
from helpers.models.gan import (
    Discriminator,
    GANHistory,
    Generator,
    class_histogram,
    discriminator_loss,
    generator_loss,
    normal_pdf,
    optimal_discriminator,
    train_gan,
    value_function,
)
from helpers.models.mlp import MLP, count_parameters, weight_space_symmetries
from helpers.models.polynomial import PolynomialRegression, mse, polynomial_features, select_polynomial_degree
from helpers.models.rbm import BernoulliRBM
from helpers.models.seq2seq import EncoderDecoder
from helpers.models.sequence import (
    SequenceRegressor,
    SequenceTagger,
    cell_gradient_norms,
    gradient_norms_through_time,
    recurrent_layer,
)
from helpers.models.som import (
    SelfOrganizingMap,
    best_matching_unit,
    gaussian_neighbourhood,
    grid_coordinates,
    som_update,
)
from helpers.models.transformer import TinyTransformer, TransformerBlock
from helpers.models.vae import VAE, gaussian_kl, negative_elbo, reparameterize, train_vae

__all__ = [
    "MLP",
    "MLPClassifier",
    "Autoencoder",
    "BernoulliRBM",
    "SelfOrganizingMap",
    "best_matching_unit",
    "contractive_penalty",
    "corrupt",
    "gaussian_neighbourhood",
    "grid_coordinates",
    "jacobian_penalty",
    "reconstruction_error",
    "som_update",
    "sparse_penalty",
    "train_autoencoder",
    "VGG16",
    "AlexNet",
    "DenseBlock",
    "EncoderDecoder",
    "LeNet5",
    "PolynomialRegression",
    "ResidualBlock",
    "SequenceRegressor",
    "SequenceTagger",
    "SmallCNN",
    "TinyTransformer",
    "TransformerBlock",
    "count_parameters",
    "cell_gradient_norms",
    "gradient_norms_through_time",
    "mse",
    "polynomial_features",
    "recurrent_layer",
    "select_polynomial_degree",
    "transition_block",
    "vgg_block",
    "weight_space_symmetries",
    "VAE",
    "gaussian_kl",
    "negative_elbo",
    "reparameterize",
    "train_vae",
    "DANN",
    "DANNHistory",
    "ganin_lambda",
    "train_dann",
    "FVSBN",
    "MADE",
    "chain_rule_log_prob",
    "made_masks",
    "train_autoregressive",
    "ConvTranslator",
    "DomainDiscriminator",
    "MLPTranslator",
    "cycle_consistency_loss",
    "cyclegan_losses",
    "train_cyclegan",
    "unpaired_digits",
    "Discriminator",
    "GANHistory",
    "Generator",
    "class_histogram",
    "discriminator_loss",
    "generator_loss",
    "normal_pdf",
    "optimal_discriminator",
    "train_gan",
    "value_function",
]
