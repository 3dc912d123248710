"""Chapter 9: the self-organizing map's winner-only update step, and the lecture notes' four-sample worked example
recomputed step by step."""

from __future__ import annotations

import re

import torch

from helpers.exercises.catalogue.ch09.shared import SOM
from helpers.exercises.catalogue.common import F64, close_by_dtype, gen
from helpers.exercises.compare import as_mismatch, describe
from helpers.exercises.spec import Case, Exercise, Mismatch, ResultKind

F32 = torch.float32


# ---------------------------------------------------------------- one update step
def _som_cases() -> list[Case]:
    g = gen(96)

    def case(label, n_units, n_features, lr, dtype=F64, why="", hidden=False):
        weights = torch.rand(n_units, n_features, generator=g, dtype=dtype)
        x = torch.rand(n_features, generator=g, dtype=dtype)
        return Case(label, (weights, x, lr), why, hidden)

    tie = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]], dtype=F64), torch.zeros(2, dtype=F64), 0.5
    on_a_unit = torch.rand(6, 3, generator=g, dtype=F64)
    return [
        case("weights (4, 3), x (3,), learning_rate = 0.5, float64", 4, 3, 0.5,
             why="The winner is the unit whose weight vector is nearest to x (smallest ||x - w_j||^2); it moves a "
                 "fraction learning_rate of the way towards x, and every other unit stays where it is."),
        case("weights (6, 2), x (2,), learning_rate = 0.1, float32", 6, 2, 0.1, F32,
             why="Any dtype: the new weights keep the inputs' (float32 here)."),
        Case("a tie: weights [[1, 0], [0, 1], [2, 2]], x = [0, 0], learning_rate = 0.5, float64", tie,
             "Units 0 and 1 are both at squared distance 1 from x: a tie goes to the lowest index, as torch.argmin "
             "returns the first minimum."),
        case("one unit: weights (1, 3), x (3,), learning_rate = 0.3, float64", 1, 3, 0.3,
             why="With one unit, it is the winner whatever x is."),
        case("learning_rate = 1: weights (5, 4), x (4,), float64", 5, 4, 1.0,
             why="w + 1 (x - w) = x: with a learning rate of 1 the winner jumps onto x."),
        case("weights (25, 64), x (64,), learning_rate = 0.3, float64", 25, 64, 0.3, hidden=True),
        case("weights (10, 4), x (4,), learning_rate = 0.05, float32", 10, 4, 0.05, F32, hidden=True),
        Case("x equal to unit 2's weights: weights (6, 3), learning_rate = 0.7, float64",
             (on_a_unit, on_a_unit[2].clone(), 0.7), hidden=True),
    ]


def _som_update(weights: torch.Tensor, x: torch.Tensor, learning_rate: float) -> torch.Tensor:
    winner = ((x - weights) ** 2).sum(dim=1).argmin()  # the first of the nearest units
    new = weights.clone()  # the caller's weights stay as they were
    new[winner] = weights[winner] + learning_rate * (x - weights[winner])
    return new


_UPDATE_TOLERANCE = close_by_dtype(float64=(1e-12, 1e-14), float32=(1e-6, 1e-7))


def _update_compare(expected: torch.Tensor, got) -> Mismatch | None:
    """close() in the case's dtype, with the place of the first difference said as the map's unit and entry ("unit
    3 (row 3), entry 1") rather than a flat index."""
    mismatch = as_mismatch(_UPDATE_TOLERANCE(expected, got))
    if mismatch is None or expected.ndim != 2:
        return mismatch

    def unit_and_entry(found: re.Match) -> str:
        unit, entry = divmod(int(found.group(1)), expected.shape[1])
        return f"unit {unit} (row {unit}), entry {entry}:"

    mismatch.message = re.sub(r"at flat index (\d+)", unit_and_entry, mismatch.message)
    return mismatch


def _update_with(pick=lambda w, x: ((x - w) ** 2).sum(dim=1).argmin(), step=lambda w, x, lr: w + lr * (x - w),
                 every=False, row_only=False):
    """The update with one of the known mistakes: how the winner is picked, the step, every unit moved, or the
    winner's new row returned alone."""

    def answer(weights, x, learning_rate):
        if every:
            return step(weights, x, learning_rate)
        new, winner = weights.clone(), pick(weights, x)
        new[winner] = step(weights[winner], x, learning_rate)
        return new[winner] if row_only else new

    return answer


SOM_UPDATE = Exercise(
    id="09.som_update",
    title="A self-organizing map's update step",
    kind="implement",
    points=1,
    prompt=(
        "som_update(weights, x, learning_rate) returns the weights after one winner-only (competitive) update: the "
        "winner is the unit j whose weight vector is nearest to x in squared Euclidean distance ||x - w_j||^2 (a tie "
        "goes to the lowest index), and only it moves: w_j <- w_j + learning_rate (x - w_j). weights (n_units, "
        "n_features), x (n_features,) -> the NEW weights (n_units, n_features), in the inputs' dtype; the weights "
        "passed in must not change."
    ),
    reference=_som_update,
    cases=_som_cases,
    compare=_update_compare,
    forbidden=SOM,
    instead="Compute the distances with subtraction, ** 2 and sum (or torch.cdist), pick the winner with argmin, and "
    "update a copy (weights.clone()): none of the book's SOM functions.",
    hints=[
        "Two steps: the winner j = argmin_j ||x - w_j||^2 (x - weights broadcasts to (n_units, n_features); sum "
        "over dim=1), then the update of that one row.",
        "Work on a copy, new = weights.clone(), and change only row j: new[j] = weights[j] + learning_rate * (x - "
        "weights[j]). Assigning into weights itself would change the caller's map.",
        "j = ((x - weights) ** 2).sum(dim=1).argmin(); new = weights.clone(); new[j] += learning_rate * (x - "
        "weights[j]); return new.",
    ],
    wrong={
        "The step has the wrong sign, w - learning_rate (x - w) (the lecture notes' slip at their second sample): "
        "it moves the winner AWAY from x. The rule is w + learning_rate (x - w).": _update_with(
            step=lambda w, x, lr: w - lr * (x - w)),
        "Every unit was moved: in winner-only (competitive) learning only the nearest unit moves; the others stay "
        "where they are (moving them too is a neighbourhood as wide as the map).": _update_with(every=True),
        "The farthest unit was moved: the winner is the NEAREST unit, the smallest squared distance (argmin).": (
            _update_with(pick=lambda w, x: ((x - w) ** 2).sum(dim=1).argmax())
        ),
        "The winner was moved by learning_rate x: the step is a fraction of the way from w TO x, learning_rate "
        "(x - w), so that the winner ends between w and x.": _update_with(step=lambda w, x, lr: w + lr * x),
        "The winner was picked by the L1 distance sum_i |x_i - w_i|: the map's distance is the squared Euclidean "
        "one, ||x - w_j||^2 = sum_i (x_i - w_i)^2, and the two can disagree on which unit is nearest.": _update_with(
            pick=lambda w, x: (x - w).abs().sum(dim=1).argmin()),
        "The winner was picked by the largest dot product w . x: that is the nearest unit only when all the weight "
        "vectors have the same length. Pick the smallest squared distance ||x - w_j||^2.": _update_with(
            pick=lambda w, x: (w @ x).argmax()),
        "Only the winner's new weight vector was returned: return the whole map, (n_units, n_features), with the "
        "winner's row updated and the others as they were.": _update_with(row_only=True),
    },
)


# ---------------------------------------------------------------- the lecture notes' worked example
NOTES_WEIGHTS = ((0.3, 0.5, 0.7, 0.2), (0.6, 0.7, 0.4, 0.3))
NOTES_SAMPLES = ((1, 0, 1, 0), (1, 0, 0, 0), (1, 1, 1, 1), (0, 1, 1, 0))
NOTES_ETA = 0.6
# what the notes wrote for unit 1 after x2: w - eta (x - w), with w's 0.08 copied as 0.8 (which gives 0.552, 0.32,
# 1.408, 1.28), and the first entry, 0.72 - 0.168, written as -0.96
NOTES_SLIP = (-0.96, 0.32, 1.408, 1.28)


def _walk(step=lambda w, x, eta: w + eta * (x - w), pick=lambda d2: d2.argmin(), every=False, slip=False,
          record="after") -> torch.Tensor:
    """The map's weights along the four samples, in float64, with the known mistakes as options: the step, which unit
    moves (pick from the squared distances), every unit moved, the notes' slip at sample 2 carried on, and which
    snapshots are returned ("after" each sample, "before" each sample, "final" only, "aliased": the same tensor
    appended at every step and updated in place, so that every entry ends as the final weights)."""
    w = torch.tensor(NOTES_WEIGHTS, dtype=F64)
    before, after = [], []
    for s, x in enumerate(torch.tensor(NOTES_SAMPLES, dtype=F64)):
        before.append(w.clone())
        j = pick(((x - w) ** 2).sum(dim=1))
        w = w.clone()
        if every:
            w = step(w, x, NOTES_ETA)
        else:
            w[j] = torch.tensor(NOTES_SLIP, dtype=F64) if slip and s == 1 else step(w[j], x, NOTES_ETA)
        after.append(w.clone())
    return {"after": torch.stack(after), "before": torch.stack(before), "final": w,
            "aliased": torch.stack([w] * len(NOTES_SAMPLES))}[record]


def _winner(before: torch.Tensor, s: int) -> int:
    """The unit (0 or 1) nearest to sample s + 1 for the weights ``before`` it, (2, 4)."""
    x = torch.tensor(NOTES_SAMPLES[s], dtype=before.dtype)
    return int(((x - before) ** 2).sum(dim=1).argmin())


def _example_compare(expected: torch.Tensor, got) -> Mismatch | None:
    """A floating (4, 2, 4) tensor (float64 or float32), then the first sample and unit whose weights differ: which
    entries, what came back there, and which unit the right weights make the winner at that sample. The expected
    weights are shown after sample 1 only (the prompt and hint 2 give them): printed after the later samples, they
    would let an answer be filled in row by row from the feedback."""
    if not isinstance(got, torch.Tensor) or not got.is_floating_point():
        return Mismatch(f"returned {describe(got)} where a floating-point tensor of shape (4, 2, 4) was expected",
                        kind=ResultKind.WRONG_TYPE)
    if got.shape != expected.shape:
        return Mismatch(f"expected shape (4, 2, 4), the two units' weights after each of the 4 samples, got shape "
                        f"{tuple(got.shape)}")
    wrong = ~torch.isclose(got.detach().cpu().double(), expected, rtol=1e-6, atol=1e-6)
    if not wrong.any():
        return None
    s, unit = (int(i) for i in wrong.any(dim=2).nonzero()[0])
    entries = [int(i) for i in wrong[s, unit].nonzero()[:, 0]]
    came_back = [round(float(got[s, unit, i]), 6) for i in entries]
    where = f"after sample {s + 1} ({list(NOTES_SAMPLES[s])}), unit {unit + 1}'s weights differ"
    if s == 0:
        return Mismatch(f"{where}: they should be {[round(v, 6) for v in expected[0, unit].tolist()]}, got "
                        f"{[round(v, 6) for v in got[0, unit].tolist()]}")
    before = expected[s - 1]
    winner = _winner(before, s)
    moved = "it is the winner there, and moves" if winner == unit else (
        f"unit {winner + 1} is the winner there, so unit {unit + 1} keeps its weights from sample {s}")
    return Mismatch(f"{where} in entries {[i + 1 for i in entries]}, where you have {came_back}. With the right "
                    f"weights after sample {s}, unit {winner + 1} is the nearer to x{s + 1}: {moved}")


SOM_EXAMPLE = Exercise(
    id="09.som_example",
    title="The lecture notes' SOM example, step by step",
    kind="number",
    points=2,
    prompt=(
        "som_worked_example() returns the weights of the lecture notes' two-unit map after each of its four samples: "
        "initial weights unit 1 = (0.3, 0.5, 0.7, 0.2), unit 2 = (0.6, 0.7, 0.4, 0.3); learning rate eta = 0.6, "
        "constant; the samples x1 = (1, 0, 1, 0), x2 = (1, 0, 0, 0), x3 = (1, 1, 1, 1), x4 = (0, 1, 1, 0), presented "
        "once each, in that order; winner-only updates as in 09.som_update (the nearest unit by squared distance "
        "moves, w <- w + eta (x - w)). Return a (4, 2, 4) tensor: [s] holds both units' weights (unit 1 first) "
        "after sample s + 1."
    ),
    reference=_walk,
    cases=lambda: [Case("the notes' map: 2 units of 4 weights, eta = 0.6, samples x1, x2, x3, x4", (),
                        "Each sample moves only its winner, and the next sample's distances are computed from the "
                        "weights as they are AFTER that move: an error at one step carries into every later one.")],
    compare=_example_compare,
    forbidden=SOM,
    instead="Use your own som_update from 09.som_update (or write the four steps out): none of the book's SOM "
    "functions.",
    hints=[
        "Start from the initial weights (float64 is best), and for each sample in turn: the squared distances to "
        "both units, the winner, the winner's update. Keep a copy of the weights after each step.",
        "Check the first step by hand: d^2 = 0.87 to unit 1 and 1.1 to unit 2, so unit 1 wins and becomes (0.3, "
        "0.5, 0.7, 0.2) + 0.6 ((1, 0, 1, 0) - (0.3, 0.5, 0.7, 0.2)) = (0.72, 0.2, 0.88, 0.08). The square root "
        "would not change any winner.",
        "w = torch.tensor([[0.3, 0.5, 0.7, 0.2], [0.6, 0.7, 0.4, 0.3]], dtype=torch.float64); steps = []; for x in "
        "samples: w = som_update(w, x, 0.6); steps.append(w); return torch.stack(steps).",
    ],
    wrong={
        "That is the lecture notes' second step: they update unit 1 with w - eta (x - w), the wrong sign, with its "
        "0.08 copied as 0.8 (and 0.72 - 0.168 = 0.552 written as -0.96), giving (-0.96, 0.32, 1.408, 1.28). The "
        "rule is w + eta (x - w), which moves unit 1 a fraction eta of the way towards x2, from the weights as "
        "they are after x1.": lambda: _walk(slip=True),
        "Every step moved the winner away from x, w - eta (x - w): the rule is w + eta (x - w), a fraction eta of "
        "the way TOWARDS the sample. From the first step on, the weights (and later the winners) differ.": (
            lambda: _walk(step=lambda w, x, eta: w - eta * (x - w))
        ),
        "Both units were updated at every sample: in this winner-only (competitive) map only the nearest unit moves; "
        "the other keeps its weights.": lambda: _walk(every=True),
        "The farther unit was updated: the winner is the unit NEAREST to the sample, the smaller squared distance "
        "(at x1: 0.87 for unit 1 against 1.1 for unit 2).": lambda: _walk(pick=lambda d2: d2.argmax()),
        "The weights BEFORE each sample were returned, starting with the initial ones: [s] holds the weights after "
        "sample s + 1 has been presented.": lambda: _walk(record="before"),
        "Only the final weights were returned: the exercise asks for the weights after each of the four samples, "
        "stacked into (4, 2, 4), so that each step can be checked.": lambda: _walk(record="final"),
        "All four entries are the final weights: the same tensor was appended after every sample and then updated "
        "in place (w[j] += ...), so every entry of the list is that one tensor. Append a copy, w.clone(), or update "
        "a new tensor each time (w = som_update(w, x, eta)).": lambda: _walk(record="aliased"),
    },
)

EXERCISES = [SOM_UPDATE, SOM_EXAMPLE]
