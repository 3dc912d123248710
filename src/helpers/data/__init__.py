"""Offline data, as tensors. Nothing here downloads.

datasets    digits() (scikit-learn's 8x8 handwritten digits, split train/val/test), loaders(), noisy_sine(),
            blobs(): the data sets of chapters 1-6
sequences   noisy_sine_sequences(), adding_problem(), copy_task(): synthetic sequence tasks (chapter 7),
            reversal_task() (chapter 8)
text        char_corpus(), next_character_pairs(): a tiny character corpus written for the book (chapter 7)
corpus      royal_corpus(), build_vocabulary(), tokenize(), remove_stop_words(): a small word corpus written for
            the book (chapter 8)
moons       two_moons() (make_moons' geometry, torch-seeded noise), rotate(): source and target domains (chapter 10)
"""

from helpers.data.corpus import Vocabulary, build_vocabulary, remove_stop_words, royal_corpus, tokenize
from helpers.data.datasets import (
    DIGITS_SPLIT,
    Split,
    blobs,
    digits,
    loaders,
    noisy_sine,
    sine,
    split_indices,
)
from helpers.data.datasets import (
    _digits_arrays as _digits_arrays,  # tests read the file directly
)
from helpers.data.moons import rotate, two_moons
from helpers.data.sequences import IGNORE_INDEX, adding_problem, copy_task, noisy_sine_sequences, reversal_task
from helpers.data.text import END, LINES, CharCorpus, char_corpus, next_character_pairs

__all__ = [
    "DIGITS_SPLIT",
    "END",
    "IGNORE_INDEX",
    "LINES",
    "CharCorpus",
    "Vocabulary",
    "Split",
    "adding_problem",
    "blobs",
    "build_vocabulary",
    "char_corpus",
    "copy_task",
    "digits",
    "loaders",
    "next_character_pairs",
    "noisy_sine",
    "noisy_sine_sequences",
    "remove_stop_words",
    "reversal_task",
    "rotate",
    "royal_corpus",
    "sine",
    "split_indices",
    "tokenize",
    "two_moons",
]
