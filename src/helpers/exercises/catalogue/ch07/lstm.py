"""Chapter 7: the parameters of a (deep, bidirectional) nn.LSTM, and why the forget gate's bias starts high."""

from __future__ import annotations

from helpers.exercises.catalogue.ch07.shared import RECURRENT_MODULES
from helpers.exercises.catalogue.common import whole_number
from helpers.exercises.compare import choice
from helpers.exercises.spec import Case, Exercise


# ---------------------------------------------------------------- the parameters of nn.LSTM
def _count_cases() -> list[Case]:
    names = ("input_size", "hidden_size", "num_layers", "bidirectional", "bias")

    def case(*args, why="", hidden=False):
        return Case(", ".join(f"{name}={value}" for name, value in zip(names, args)), args, why, hidden)

    return [
        case(10, 20, why="One layer: four gates, each with an input weight (H x H_in), a hidden weight (H x H) and "
             "two bias vectors, b_ih and b_hh, of H each."),
        case(2, 5, 2, why="The second layer's input is the first layer's output, of size H: its input weights are "
             "4H x H, not 4H x H_in."),
        case(4, 6, 1, True, why="A bidirectional layer is two LSTMs, one reading forwards and one backwards, each "
             "with its own weights and biases."),
        case(3, 5, 2, True, why="With two directions each layer's output is both directions' states side by side, "
             "2H values: the second layer's input weights are 4H x 2H, in each direction."),
        case(4, 6, 1, False, False, why="bias=False leaves out both bias vectors, b_ih and b_hh."),
        case(1, 2, 3, why="Three layers: the first takes the input, the next two the previous layer's H outputs."),
        case(128, 256, 3, True, hidden=True),
        case(64, 32, 2, False, False, hidden=True),
        case(300, 100, 4, True, False, hidden=True),
        case(7, 9, hidden=True),
    ]


def _lstm_parameter_count(input_size: int, hidden_size: int, num_layers: int = 1, bidirectional: bool = False,
                          bias: bool = True) -> int:
    directions = 2 if bidirectional else 1
    h = hidden_size
    total = 0
    for layer in range(num_layers):
        inputs = input_size if layer == 0 else directions * h  # a deeper layer reads the one below, both directions
        total += directions * (4 * h * (inputs + h) + (8 * h if bias else 0))
    return total


def _count_with(gates=4, biases=2, deeper_input=None, directions_count=True, directions_input=True,
                use_bias_flag=True, layers=True):
    """The count with one of the known mistakes; deeper_input(input_size, h) is what layers > 0 read."""

    def answer(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
        h = hidden_size
        directions = 2 if bidirectional else 1
        total = 0
        for layer in range(num_layers if layers else 1):
            if layer == 0:
                inputs = input_size
            elif deeper_input is not None:
                inputs = deeper_input(input_size, h)
            else:
                inputs = (directions if directions_input else 1) * h
            with_bias = bias or not use_bias_flag
            total += (directions if directions_count else 1) * (gates * h * (inputs + h)
                                                                + (biases * gates * h if with_bias else 0))
        return total

    return answer


MODULE_COUNTING = (
    *RECURRENT_MODULES, "helpers.nn.recurrent.RNN", "helpers.nn.recurrent.GRU", "helpers.nn.recurrent.LSTM",
    "torch.nn.Linear", "torch.nn.Module.parameters", "torch.nn.Module.named_parameters",
    "torch.nn.Module.state_dict", "helpers.models.count_parameters",
)

LSTM_PARAMS = Exercise(
    id="07.lstm_params",
    title="The parameters of an LSTM",
    kind="implement",
    points=1,
    prompt=(
        "lstm_parameter_count(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True) returns, as an "
        "int, the number of parameters of nn.LSTM(input_size, hidden_size, num_layers, bias=bias, "
        "bidirectional=bidirectional), sum(p.numel() for p in lstm.parameters()). Work it out with arithmetic."
    ),
    reference=_lstm_parameter_count,
    cases=_count_cases,
    compare=whole_number("a number of parameters"),
    forbidden=MODULE_COUNTING,
    instead="This exercise asks for the arithmetic, not for the layer built and counted: per layer and direction, "
    "four gates, each with an input weight, a hidden weight and two biases.",
    hints=[
        "One layer, one direction: nn.LSTM stores weight_ih (4H, H_in), weight_hh (4H, H), bias_ih (4H,) and "
        "bias_hh (4H,): four gates, and two bias vectors where one would do.",
        "Layer l > 0 reads the outputs of layer l - 1: H values, or 2H when bidirectional (both directions side by "
        "side). A bidirectional layer has a second, independent set of the four tensors.",
        "Loop over the layers: inputs = input_size for the first, directions * H after; add directions * "
        "(4H (inputs + H) + 8H) (no 8H when bias=False); return the int.",
    ],
    wrong={
        "One bias vector per gate was counted: nn.LSTM has two, b_ih and b_hh (4H each), so the biases are 8H per "
        "layer and direction.": _count_with(biases=1),
        "Three gates: that is a GRU's count. An LSTM has four blocks of rows, the input, forget and output gates "
        "and the candidate, each with its own weights and biases.": _count_with(gates=3),
        "Every layer was given input_size inputs: a deeper layer reads the layer below, whose output has H values "
        "(2H when bidirectional).": _count_with(deeper_input=lambda input_size, h: input_size),
        "The deeper layers of a bidirectional LSTM read 2H values, both directions' states side by side, not H.": (
            _count_with(directions_input=False)
        ),
        "Only one direction was counted: a bidirectional layer is two LSTMs, one reading forwards and one "
        "backwards, each with its own four weight and bias tensors.": _count_with(directions_count=False),
        "bidirectional was ignored: it doubles every layer (a forward and a backward LSTM), and the deeper layers "
        "read both directions' states, 2H values.": _count_with(directions_count=False, directions_input=False),
        "bias=False was ignored: without biases a layer has only its two weight matrices.": (
            _count_with(use_bias_flag=False)
        ),
        "Only one layer was counted: num_layers stacks that many LSTM layers, each with its own parameters.": (
            _count_with(layers=False)
        ),
    },
)


# ---------------------------------------------------------------- why the forget gate's bias starts high
# Four claims of the same length and precision, each about what the forget gate's starting value does: the right one
# must not stand out by being the longest or the only specific one.
FORGET_OPTIONS = {
    "a": "So that the forget gate starts near 1: the cell state, and the gradient that flows back through it, then "
         "carry across many steps instead of being roughly halved at each one.",
    "b": "So that the LSTM wipes its old cell state quickly early in training: with little carried from one step to "
         "the next, the gradients through time cannot build up and explode.",
    "c": "Because the forget gate's gradient grows with its bias: a large bias makes sigma'(b) larger, so the forget "
         "gate learns what to drop faster than the input and output gates do.",
    "d": "So that the LSTM starts out behaving like a plain tanh RNN, the gates' effect switched off, whose simpler "
         "dynamics train more stably until the gates have learned what to do.",
}

FORGET_QUESTION = ("nn.LSTM initialises every bias uniformly near 0. Many implementations set the forget gate's bias "
                   "to 1 or more instead. Why?")

FORGET_BIAS = Exercise(
    id="07.forget_bias",
    title="Why the forget gate's bias starts high",
    kind="choice",
    points=1,
    prompt=f"{FORGET_QUESTION} Return the letter.",
    reference=lambda: "a",
    # shown after any wrong letter: it frames the question, and leaves the reasoning to the hints
    cases=lambda: [Case("the forget gate's bias at initialisation", (),
                        "The bias sets the forget gate's value at the start of training, f = sigmoid(bias): the "
                        "question is what that value does to the cell state over many steps.")],
    compare=choice(FORGET_OPTIONS),
    options=FORGET_OPTIONS,
    hints=[
        "Write the cell update, c_t = f_t * c_{t-1} + i_t * g_t. What is dc_t / dc_{t-1}?",
        "With every bias near 0 the forget gate is sigmoid(about 0). What is that, and what happens to something "
        "multiplied by it at each of 50 steps? What is sigmoid(3)?",
        "c_t = f_t c_{t-1} + i_t g_t, so dc_t / dc_{t-1} = f_t: the cell state and its gradient are multiplied by f "
        "at every step. A bias near 0 gives f = sigmoid(0) = 0.5, which halves them at each step (0.5^50 is about "
        "1e-15); a bias of 1 or 3 gives f = 0.73 or 0.95, which carries them across many steps. A forget gate near "
        "1 means REMEMBER.",
    ],
    wrong={
        "A bias of 1 or more pushes the forget gate towards 1 (sigmoid(1) = 0.73), not towards 0: the old cell, "
        "which c_t = f_t c_{t-1} + i_t g_t scales by f_t, is kept more, not wiped. (Exploding gradients are handled "
        "by clipping.)": lambda: "b",
        "The sigmoid's derivative, sigma (1 - sigma), is largest at 0 (0.25) and smaller at 3 (0.045): a high bias "
        "makes the forget gate's own gradient smaller, not larger.": lambda: "c",
        "No bias turns an LSTM into a plain RNN: its cell update c_t = f_t c_{t-1} + i_t g_t has no weight matrix "
        "and no tanh between c_{t-1} and c_t, whatever values the gates take.": lambda: "d",
    },
)

EXERCISES = [LSTM_PARAMS, FORGET_BIAS]
