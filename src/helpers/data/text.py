"""A tiny character corpus written for the book (chapter 7), and next-character training pairs.

The corpus is eight short lines about recurrent networks, lowercase, with the line break as the end token:
a model trained to predict the next character also learns to predict the end of a line, and a generator that
samples from it stops when it samples the end token. That is how a sequence model decides when to stop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

import torch

END = "\n"  # the end token: every line of the corpus ends with it

LINES = (
    "a sequence is a list in which the order matters.",
    "a recurrent network reads it one step at a time.",
    "it keeps a hidden state, a short memory of what came before.",
    "the same weights are used again at every step.",
    "to learn, the error flows back through time.",
    "over many steps the gradient can fade away or explode.",
    "gates let the network choose what to keep and what to forget.",
    "at the end of a line, the network learns to stop.",
)


class CharCorpus(NamedTuple):
    """A text, its characters, and the maps between characters and integer ids.

    vocabulary[i] is the character with id i; ``encode(text)`` -> int64 tensor (len(text),) of ids;
    ``decode(ids)`` -> str (ids: any iterable of ints, or an integer tensor); ``end`` is the id of ``END``.
    """

    text: str
    vocabulary: tuple[str, ...]
    encode: Callable[[str], torch.Tensor]
    decode: Callable[[Iterable[int] | torch.Tensor], str]
    end: int


def char_corpus() -> CharCorpus:
    """The book's corpus: ``LINES``, each ended by the end token ``END``, with a vocabulary of its characters.

    The vocabulary is the sorted set of characters (END, the line break, sorts first and gets id 0), so the ids
    are the same on every run. ``decode(encode(s)) == s`` for any string of these characters.
    """
    text = "".join(line + END for line in LINES)
    vocabulary = tuple(sorted(set(text)))
    index = {c: i for i, c in enumerate(vocabulary)}

    def encode(s: str) -> torch.Tensor:
        if not isinstance(s, str):
            raise TypeError(f"encode takes a string, got {type(s).__name__}.")
        unknown = sorted(set(s) - index.keys())
        if unknown:
            raise ValueError(f"characters {unknown!r} are not in the corpus's vocabulary {''.join(vocabulary)!r}; "
                             f"the corpus is lowercase letters, space, ',' and '.' (use s.lower()).")
        return torch.tensor([index[c] for c in s], dtype=torch.int64)

    def decode(ids: Iterable[int] | torch.Tensor) -> str:
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
        bad = [i for i in ids if not 0 <= int(i) < len(vocabulary)]
        if bad:
            raise ValueError(f"ids must lie in 0..{len(vocabulary) - 1} (the vocabulary's size is {len(vocabulary)}), "
                             f"got {bad[:5]!r}.")
        return "".join(vocabulary[int(i)] for i in ids)

    return CharCorpus(text, vocabulary, encode, decode, index[END])


def next_character_pairs(ids: torch.Tensor, length: int, step: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Every window of ``length`` + 1 consecutive ids, ``step`` apart, cut into an input and its next characters.

        inputs[k] = ids[k s : k s + length],   targets[k] = ids[k s + 1 : k s + length + 1]     (s = step)

    so targets[k, t] is the character that follows inputs[k, t]. Where a line ends, the target is the end token:
    the model learns when to stop. ids: (M,) int64 -> inputs, targets: (n, length) with
    n = (M - length - 1) // step + 1.
    """
    if not isinstance(ids, torch.Tensor) or ids.ndim != 1 or ids.is_floating_point():
        raise TypeError("ids must be a 1-D integer tensor, as encode(text) returns; got "
                        f"{type(ids).__name__}{tuple(ids.shape) if isinstance(ids, torch.Tensor) else ''}.")
    for name, value in (("length", length), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}.")
    if len(ids) < length + 1:
        raise ValueError(f"a window needs length + 1 = {length + 1} ids (inputs and the next character), but ids has "
                         f"only {len(ids)}. Use a shorter length.")
    windows = ids.unfold(0, length + 1, step)
    return windows[:, :-1], windows[:, 1:]
