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
from helpers.models.blocks import DenseBlock, ResidualBlock, transition_block, vgg_block
from helpers.models.classic import VGG16, AlexNet, LeNet5
from helpers.models.cnn import SmallCNN
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

__all__ = [
    "MLP",
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
]
