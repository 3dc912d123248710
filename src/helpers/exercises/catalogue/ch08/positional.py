"""Chapter 8: the sinusoidal positional encoding, and why a transformer needs positions at all."""

from __future__ import annotations

import torch

from helpers.exercises.compare import choice, close
from helpers.exercises.spec import Case, Exercise, Mismatch, ResultKind

_CLOSE = close(rtol=1e-4, atol=1e-4)  # float32 angles of positions near 128 are good to a few 1e-6


# ---------------------------------------------------------------- the sinusoidal encoding
def _encoding(length: int, d_model: int, base: float = 10000.0, layout: str = "interleaved", start: int = 0,
              exponent=lambda two_i, d: two_i / d, swap: bool = False, multiply: bool = False) -> torch.Tensor:
    """The paper's encoding in float64, cast to the default dtype; the keyword arguments give the known mistakes.

    exponent(two_i, d): the exponent of base for the pair whose sine sits in column two_i (the paper: 2i / d);
    layout "interleaved" (the paper), "concatenated" (all sines, then all cosines), "per_column" (each column its
    own frequency, base^(-j/d) for column j).
    """
    pos = torch.arange(start, start + length, dtype=torch.float64)[:, None]  # (L, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)  # 0, 2, ..., d - 2
    rate = float(base) ** exponent(two_i, d_model)
    angle = pos * rate if multiply else pos / rate  # (L, d/2)
    first, second = (angle.cos(), angle.sin()) if swap else (angle.sin(), angle.cos())
    if layout == "concatenated":
        pe = torch.cat([first, second], dim=1)
    elif layout == "per_column":
        column = torch.arange(d_model, dtype=torch.float64)
        angles = pos / float(base) ** (column / d_model)  # (L, d)
        pe = torch.where(column % 2 == 0, angles.sin(), angles.cos())
    else:
        pe = torch.stack([first, second], dim=-1).reshape(length, d_model)  # sin, cos, sin, cos, ...
    return pe.to(torch.get_default_dtype())


def _sinusoidal_encoding(length: int, d_model: int) -> torch.Tensor:
    return _encoding(length, d_model)


def _encoding_compare(expected: torch.Tensor, got) -> Mismatch | None:
    """close(), with a word on the dtype: there is no input tensor whose dtype to keep, the default one is asked."""
    if isinstance(got, torch.Tensor) and got.is_floating_point() and got.dtype != expected.dtype:
        return Mismatch(f"returned {str(got.dtype).replace('torch.', '')} where torch's default dtype, "
                        f"{str(expected.dtype).replace('torch.', '')}, was expected: leave out dtype=torch.float64 "
                        "(or return pe.to(torch.get_default_dtype()))", kind=ResultKind.WRONG_TYPE)
    return _CLOSE(expected, got)


POSITIONAL = Exercise(
    id="08.positional",
    title="The sinusoidal positional encoding",
    kind="implement",
    points=1,
    prompt=(
        "sinusoidal_encoding(length, d_model) returns the positional encoding of Vaswani et al. (2017) for positions "
        "0, ..., length - 1, a (length, d_model) tensor in torch's default dtype (float32): PE[pos, 2i] = "
        "sin(pos / 10000^(2i / d_model)) and PE[pos, 2i + 1] = cos(pos / 10000^(2i / d_model)) for i = 0, ..., "
        "d_model / 2 - 1, the sine and cosine of each frequency side by side. d_model is even."
    ),
    reference=_sinusoidal_encoding,
    cases=lambda: [
        Case("length = 4, d_model = 8", (4, 8),
             "Column 2i holds the sine and column 2i + 1 the cosine of the SAME angle pos / 10000^(2i / d): each "
             "frequency is a pair, and the frequencies fall geometrically from 1 to nearly 1 / 10000."),
        Case("length = 1, d_model = 6", (1, 6),
             "Positions start at 0: the first row is sin(0) = 0 and cos(0) = 1, alternating, [0, 1, 0, 1, 0, 1]."),
        Case("length = 12, d_model = 4", (12, 4),
             "The first pair turns by one radian per position (wavelength 2 pi); the second by 1 / 100 here, "
             "10000^(-2/4): nearby positions differ in the fast pairs, distant ones in the slow pairs."),
        Case("length = 50, d_model = 16", (50, 16),
             "Every row has the same norm, sqrt(d / 2), since sin^2 + cos^2 = 1 for each pair, and a shift by k "
             "positions turns each pair by a fixed angle: attention can learn 'k positions back' with one linear map."),
        Case("length = 3, d_model = 2", (3, 2),
             "One pair, of frequency 1: [sin(pos), cos(pos)]."),
        Case("length = 100, d_model = 32", (100, 32), hidden=True),
        Case("length = 7, d_model = 10", (7, 10), hidden=True),
        Case("length = 128, d_model = 64", (128, 64), hidden=True),
    ],
    compare=_encoding_compare,
    forbidden=("helpers.nn.attention.sinusoidal_encoding", "helpers.nn.attention.PositionalEncoding"),
    instead="Build it from torch.arange, ** (or torch.exp and math.log), torch.sin and torch.cos.",
    hints=[
        "Make the positions a column, pos = torch.arange(length)[:, None], and the pair indices a row: the even "
        "columns 2i = torch.arange(0, d_model, 2). Broadcasting pos / 10000 ** (2i / d_model) gives every angle, "
        "(length, d_model / 2).",
        "The sine of each angle goes to the even columns and its cosine to the odd ones: with pe = "
        "torch.zeros(length, d_model), assign pe[:, 0::2] and pe[:, 1::2].",
        "two_i = torch.arange(0, d_model, 2); angle = torch.arange(length)[:, None] / 10000 ** (two_i / d_model); "
        "pe = torch.zeros(length, d_model); pe[:, 0::2] = torch.sin(angle); pe[:, 1::2] = torch.cos(angle).",
    ],
    wrong={
        "All the sines come first and then all the cosines (tensor2tensor's layout): the paper interleaves them, "
        "sin in column 2i and cos in column 2i + 1 for the same frequency.": (
            lambda length, d_model: _encoding(length, d_model, layout="concatenated")
        ),
        "The exponent is i / d_model with i counting the pairs (0, 1, 2, ...): the paper's is 2i / d_model, so that "
        "across the width the frequencies fall all the way to about 1 / 10000, not to 1 / 100.": (
            lambda length, d_model: _encoding(length, d_model, exponent=lambda two_i, d: two_i / 2 / d)
        ),
        "Each column got its own frequency, 10000^(-j / d_model) for column j: the sine and the cosine of a pair "
        "share ONE frequency, that of the pair's even column, 10000^(-2i / d_model).": (
            lambda length, d_model: _encoding(length, d_model, layout="per_column")
        ),
        "The exponent was doubled: when the loop variable j already steps over the even columns 0, 2, 4, ..., the "
        "exponent is j / d_model (the paper's 2i / d_model, for pair i = j / 2); 2j / d_model makes the frequencies "
        "fall twice as fast.": (
            lambda length, d_model: _encoding(length, d_model, exponent=lambda two_i, d: 2 * two_i / d)
        ),
        "Sine and cosine are swapped: the even columns hold the sines, PE[pos, 2i] = sin(...), and the odd ones the "
        "cosines.": lambda length, d_model: _encoding(length, d_model, swap=True),
        "The base is 10000, not 1000: it sets the longest wavelength, 2 pi 10000, far beyond any sequence the "
        "model sees.": lambda length, d_model: _encoding(length, d_model, base=1000.0),
        "The positions start at 1: the first token is at position 0, whose row is [0, 1, 0, 1, ...].": (
            lambda length, d_model: _encoding(length, d_model, start=1)
        ),
        "The positions were multiplied by 10000^(2i / d) instead of divided: the frequencies must FALL from 1 to "
        "1 / 10000, giving wavelengths from 2 pi up to 2 pi 10000, so that distant positions stay apart.": (
            lambda length, d_model: _encoding(length, d_model, multiply=True)
        ),
        "The encoding is transposed: one ROW per position, (length, d_model), so that it adds to the embeddings "
        "(N, length, d_model).": lambda length, d_model: _encoding(length, d_model).T.contiguous(),
    },
)


# ---------------------------------------------------------------- why positions
POSITION_OPTIONS = {
    "a": "Without positions the model has fewer features per token, too few to store a reversal.",
    "b": "Without positions, self-attention is permutation-equivariant, so the output at position i cannot depend on "
         "i itself, and position i cannot locate the token at position 7 - i.",
    "c": "Without positions the attention scores are all equal, so the softmax is uniform and the gradients vanish.",
    "d": "Without positions it needs more training: it learns the order from the order in which the tokens are fed "
         "in, which takes longer than 1500 steps.",
}

POSITION_QUESTION = (
    "A one-layer transformer (d = 32, 4 heads) learns to reverse sequences of 8 symbols from a vocabulary of 10. "
    "With sinusoidal positional encodings added to the token embeddings it reaches 100% token accuracy in 1500 "
    "steps; without any positional information it stalls near 31%, however long it trains. Why?"
)

POSITIONS = Exercise(
    id="08.positions",
    title="Why a transformer needs positions",
    kind="choice",
    points=1,
    prompt=f"{POSITION_QUESTION} Return the letter.",
    reference=lambda: "b",
    cases=lambda: [Case("a transformer reversing sequences, with and without positional encodings", (),
                        "Self-attention mixes the tokens by content alone: softmax(Q K^T) V is the same for any order "
                        "of the keys and values, and the feed-forward layers act on each position separately.")],
    compare=choice(POSITION_OPTIONS),
    options=POSITION_OPTIONS,
    hints=[
        "Shuffle the input tokens of a transformer without positions. What happens to its outputs?",
        "Every layer treats the positions alike: the same projections for every token, attention weights that depend "
        "only on the tokens' contents. So the output at position i changes only if the token at i or the set of "
        "tokens changes.",
        "Reversing needs 'the token 7 - i places from the start'. Can a model that cannot tell positions apart know "
        "which token that is?",
    ],
    wrong={
        "The positional encoding is ADDED to the token embeddings, not appended: the width is d = 32 either way. What "
        "is missing is information about order, not room.": lambda: "a",
        "The scores are not all equal: they depend on the tokens' contents, q_i . k_j, and the model trains (it "
        "reaches 31%, far above the 10% of guessing). What it cannot do is tell positions apart.": lambda: "c",
        "Nothing in the computation depends on the order in which the tokens are given: a layer without positions "
        "gives the same outputs, permuted, for any permutation of its input. More steps do not help (the measured "
        "ceiling holds however long it trains).": lambda: "d",
    },
)

EXERCISES = [POSITIONS, POSITIONAL]  # the chapter asks why positions matter first
