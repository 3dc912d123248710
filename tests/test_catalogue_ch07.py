"""The chapter 7 references against independent oracles: nn.RNNCell, nn.GRUCell and nn.LSTMCell with the cases'
weights copied in (and torch's functional cells), autograd and a central finite difference for the scalar BPTT,
nn.LSTM's own parameter count, and the cell-state gradient of an nn.LSTMCell for the forget-bias question. And the
checks that tests/test_catalogue.py and tests/test_forbid.py make of every chapter in CHAPTERS, run on this module
directly, so that they hold before the chapter's notebook exists."""

import cmath
import functools
import itertools
import math

import pytest
import torch
from catalogue_support import label, tolerance, wrong_answer
from test_forbid import LIBRARY_ANSWERS
from torch import nn

from helpers.exercises import Outcome, feedback
from helpers.exercises.catalogue import CHAPTERS, ch07, of_chapter
from helpers.exercises.catalogue.ch07 import bptt, cells, gated, lstm
from helpers.exercises.catalogue.ch07.shared import RECURRENT
from helpers.exercises.forbid import resolve
from helpers.exercises.runner import call_all, judge, run
from helpers.exercises.spec import Kind, ResultKind
from helpers.models import count_parameters

F64 = torch.float64
EXERCISES = {exercise.id: exercise for exercise in ch07.EXERCISES}
ORDER = ["07.rnn_step", "07.bptt_scalar", "07.leaky_unit", "07.gru_step", "07.lstm_step", "07.lstm_params",
         "07.forget_bias"]


# ---- the chapter's list (tests/test_catalogue.py checks every exercise: references, wrong answers, stubs) ----


def test_the_chapter_lists_its_seven_exercises_in_order():
    assert "ch07" in CHAPTERS
    assert [e.id for e in ch07.EXERCISES] == ORDER == [e.id for e in of_chapter("07")]
    assert len({e.kind for e in ch07.EXERCISES}) >= 3


def test_every_exercise_that_computes_has_four_or_more_public_cases():
    for exercise in ch07.EXERCISES:
        if exercise.kind in ("implement", "derive"):
            assert sum(not case.hidden for case in exercise.cases()) >= 4, exercise.id


# ---- the library answers (test_forbid.py checks that every one is caught) ------------------------------


@pytest.mark.parametrize("exercise_id", sorted(i for i in LIBRARY_ANSWERS if i.startswith("07.")))
def test_the_library_answers_agree_with_the_references_when_allowed(exercise_id):
    exercise = EXERCISES[exercise_id]
    cases = exercise.cases()
    report = judge(exercise, cases, call_all(LIBRARY_ANSWERS[exercise_id], cases, forbidden=()), True)
    assert report.outcome is Outcome.CORRECT, (exercise_id, report.first_failure)


def test_every_exercise_that_computes_is_in_the_library_answers():
    asking = {e.id for e in ch07.EXERCISES if e.kind is not Kind.CHOICE}
    assert asking <= set(LIBRARY_ANSWERS)


# ---- the cells against torch's modules, with the cases' weights copied in ------------------------------


def torch_cell(kind, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """nn.RNNCell / nn.GRUCell / nn.LSTMCell holding exactly these weights (no biases when both are None)."""
    bias = b_ih is not None or b_hh is not None
    extra = {"nonlinearity": nonlinearity} if kind is nn.RNNCell else {}
    cell = kind(w_ih.shape[1], w_hh.shape[1], bias=bias, dtype=w_ih.dtype, **extra)
    with torch.no_grad():
        cell.weight_ih.copy_(w_ih)
        cell.weight_hh.copy_(w_hh)
        if bias:
            cell.bias_ih.copy_(b_ih if b_ih is not None else torch.zeros_like(b_hh))
            cell.bias_hh.copy_(b_hh if b_hh is not None else torch.zeros_like(b_ih))
    return cell


@pytest.mark.parametrize("case", cells.RNN_STEP.cases(), ids=label)
def test_rnn_step_is_nn_rnncell_and_torch_rnn_tanh_cell(case):
    input, hx, *weights = case.args
    ours = cells.RNN_STEP.reference(*case.args)
    with torch.no_grad():
        expected = torch_cell(nn.RNNCell, *weights)(input, hx)
    assert ours.shape == hx.shape and ours.dtype == input.dtype
    torch.testing.assert_close(ours, expected, **tolerance(input.dtype))
    if input.dim() == 2:
        torch.testing.assert_close(ours, torch.rnn_tanh_cell(input, hx, *weights), **tolerance(input.dtype))


def test_the_rnn_cases_need_both_biases_the_transpose_and_a_saturating_tanh():
    cases = cells.RNN_STEP.cases()
    square = [c for c in cases if not c.hidden and c.args[2].shape[0] == c.args[2].shape[1]]
    assert square and cases[0] is square[0], "the first case is square: x @ w_ih runs, and gives wrong numbers"
    assert all(c.args[2].shape[0] != c.args[2].shape[1] for c in cases[1:])
    assert any(len(c.args) == 4 for c in cases if not c.hidden), "a public case leaves both biases out"
    single = [i for i, c in enumerate(cases) if not c.hidden and len(c.args) == 6 and (c.args[4] is None) != (
        c.args[5] is None)]
    assert [cases[i].args[4] is None for i in single] == [True, False], "b_hh alone, then b_ih alone"
    assert any(c.args[0].dim() == 1 for c in cases if not c.hidden), "a public case without a batch dimension"
    assert {c.args[0].dtype for c in cases if not c.hidden} == {torch.float32, F64}
    loud = next(c for c in cases if "large" in c.label)
    x, hx, w_ih, w_hh, b_ih, b_hh = loud.args
    pre = x @ w_ih.T + b_ih + hx @ w_hh.T + b_hh
    assert pre.abs().max() > 400, "exp(2a) overflows float64 beyond |a| ~ 355"
    by_exp = (torch.exp(2 * pre) - 1) / (torch.exp(2 * pre) + 1)
    assert by_exp.isnan().any() and not cells.RNN_STEP.reference(*loud.args).isnan().any()


def test_the_first_cases_say_the_whole_step_not_one_mistake():
    """Their "why it matters" is shown whatever went wrong on them."""
    rnn, gru = cells.RNN_STEP.cases()[0].why, gated.GRU_STEP.cases()[0].why
    assert "h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)" in rnn and "both biases" in rnn and ".T" in rnn
    assert "h' = (1 - z) * n + z * h" in gru and "[2H, 3H)" in gru and "W_hn h + b_hn" in gru


def test_the_untransposed_rnn_step_runs_only_on_the_square_case():
    untransposed = wrong_answer(cells.RNN_STEP, "The weights were not transposed")
    report = run(cells.RNN_STEP, untransposed)
    assert report.results[0].kind is ResultKind.WRONG_VALUE
    assert all(r.kind is ResultKind.RAISED for r in report.results[1:])


def test_the_rnn_mistakes_are_what_they_say():
    input, hx, *weights = cells.RNN_STEP.cases()[1].args
    w_ih, w_hh, b_ih, b_hh = weights
    with torch.no_grad():
        relu = torch_cell(nn.RNNCell, *weights, nonlinearity="relu")(input, hx)
        no_b_hh = torch_cell(nn.RNNCell, w_ih, w_hh, b_ih, torch.zeros_like(b_hh))(input, hx)
        no_hx = torch_cell(nn.RNNCell, *weights)(input, torch.zeros_like(hx))
    torch.testing.assert_close(wrong_answer(cells.RNN_STEP, "That is ReLU")(input, hx, *weights), relu)
    torch.testing.assert_close(wrong_answer(cells.RNN_STEP, "The hidden bias")(input, hx, *weights), no_b_hh)
    torch.testing.assert_close(wrong_answer(cells.RNN_STEP, "The previous hidden")(input, hx, *weights), no_hx)
    with torch.no_grad():
        transposed_hh = torch_cell(nn.RNNCell, w_ih, w_hh.T, b_ih, b_hh)(input, hx)
    torch.testing.assert_close(wrong_answer(cells.RNN_STEP, "w_hh was not transposed")(input, hx, *weights),
                               transposed_hh)


def test_a_bias_given_alone_is_added_and_the_both_or_neither_slip_is_told_so():
    cases = [c for c in cells.RNN_STEP.cases() if len(c.args) == 6 and (c.args[4] is None) != (c.args[5] is None)]
    together = wrong_answer(cells.RNN_STEP, "A bias was added only when both")
    for case in cases:
        input, hx, w_ih, w_hh, b_ih, b_hh = case.args
        with torch.no_grad():
            expected = torch_cell(nn.RNNCell, w_ih, w_hh, b_ih, b_hh)(input, hx)  # the missing one as zeros
            unbiased = torch_cell(nn.RNNCell, w_ih, w_hh)(input, hx)
        torch.testing.assert_close(cells.RNN_STEP.reference(*case.args), expected, **tolerance(input.dtype))
        torch.testing.assert_close(together(*case.args), unbiased, **tolerance(input.dtype))

    def only_with_b_ih(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):  # the slip as written: b_hh alone is lost,
        pre = input @ w_ih.T + hx @ w_hh.T  # and b_ih alone crashes
        if b_ih is not None:
            pre = pre + b_ih + b_hh
        return torch.tanh(pre)

    for hidden in (False, True):
        report = run(cells.RNN_STEP, only_with_b_ih, include_hidden=hidden)
        assert [r.case.label for r in report.results if not r.passed] == [c.label for c in cases
                                                                          if hidden or not c.hidden]
        assert report.first_failure.kind is ResultKind.WRONG_VALUE and "b_ih is None" in report.first_failure.case.label
        assert report.detail.startswith("A bias was added only when both")


def test_forgetting_only_w_hh_transposed_is_diagnosed_and_not_as_a_missing_bias():
    """w_hh is square, so hx @ w_hh runs on every case; on the saturated case (tanh = +-1) it agrees with an answer
    that leaves out b_ih, which once named the wrong mistake."""

    def untransposed_hh(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
        pre = input @ w_ih.T + hx @ w_hh
        pre = pre if b_ih is None else pre + b_ih
        return torch.tanh(pre if b_hh is None else pre + b_hh)

    report = run(cells.RNN_STEP, untransposed_hh, include_hidden=True)
    assert report.passed == 0 and report.detail.startswith("w_hh was not transposed")
    no_b_ih = wrong_answer(cells.RNN_STEP, "The input bias b_ih was left out")
    loud = next(c for c in cells.RNN_STEP.cases() if "large" in c.label)
    torch.testing.assert_close(untransposed_hh(*loud.args), no_b_ih(*loud.args), **tolerance(F64))


@pytest.mark.parametrize("case", cells.LEAKY.cases(), ids=label)
def test_leaky_unit_blends_the_old_state_with_an_nn_rnncell_step(case):
    input, hx, w_ih, w_hh, b, alpha = case.args
    with torch.no_grad():
        candidate = torch_cell(nn.RNNCell, w_ih, w_hh, b, None)(input, hx)
    ours = cells.LEAKY.reference(*case.args)
    assert ours.shape == hx.shape and ours.dtype == hx.dtype
    torch.testing.assert_close(ours, (1 - alpha) * hx + alpha * candidate, **tolerance(hx.dtype))
    if alpha == 1.0:
        torch.testing.assert_close(ours, candidate, **tolerance(hx.dtype))
    if alpha == 0.0:
        torch.testing.assert_close(ours, hx, rtol=0, atol=0)


def test_the_leaky_cases_avoid_alpha_one_half_where_the_swap_would_not_show():
    public = [c.args[-1] for c in cells.LEAKY.cases() if not c.hidden]
    assert 0.5 not in public and 1.0 in public and any(a < 0.2 for a in public)


@pytest.mark.parametrize("case", gated.GRU_STEP.cases(), ids=label)
def test_gru_step_is_nn_grucell_and_torch_gru_cell(case):
    input, hx, *weights = case.args
    with torch.no_grad():
        expected = torch_cell(nn.GRUCell, *weights)(input, hx)
    ours = gated.GRU_STEP.reference(*case.args)
    assert ours.shape == hx.shape and ours.dtype == hx.dtype
    torch.testing.assert_close(ours, expected, **tolerance(hx.dtype))
    if input.dim() == 2:
        torch.testing.assert_close(ours, torch.gru_cell(input, hx, *weights), **tolerance(hx.dtype))


@pytest.mark.parametrize("case", gated.LSTM_STEP.cases(), ids=label)
def test_lstm_step_is_nn_lstmcell_and_torch_lstm_cell(case):
    input, state, *weights = case.args
    with torch.no_grad():
        expected = torch_cell(nn.LSTMCell, *weights)(input, state)
    h, c = gated.LSTM_STEP.reference(*case.args)
    assert h.shape == c.shape == state[0].shape and h.dtype == c.dtype == input.dtype
    for ours, theirs in zip((h, c), expected):
        torch.testing.assert_close(ours, theirs, **tolerance(input.dtype))
    if input.dim() == 2:
        for ours, theirs in zip((h, c), torch.lstm_cell(input, state, *weights)):
            torch.testing.assert_close(ours, theirs, **tolerance(input.dtype))


@pytest.mark.parametrize("exercise,kind", [(cells.RNN_STEP, nn.RNNCell), (gated.GRU_STEP, nn.GRUCell),
                                           (gated.LSTM_STEP, nn.LSTMCell)], ids=["rnn", "gru", "lstm"])
def test_the_references_have_the_cells_gradients_too(exercise, kind):
    """Every weight, bias and input meets the output as in torch's cell: autograd through both agrees."""
    input, state, *weights = next(c for c in exercise.cases() if len(c.args) == 6 and c.args[0].dtype == F64).args
    cell = torch_cell(kind, *weights)
    x = input.clone().requires_grad_(True)
    leaves = [x.clone().detach().requires_grad_(True), *(w.clone().requires_grad_(True) for w in weights)]
    ours, theirs = exercise.reference(leaves[0], state, *leaves[1:]), cell(x, state)
    if kind is nn.LSTMCell:  # both outputs, weighted differently
        ours, theirs = ours[0] + 2 * ours[1], theirs[0] + 2 * theirs[1]
    grad_output = torch.randn(ours.shape, dtype=F64, generator=torch.Generator().manual_seed(7))
    mine = torch.autograd.grad((ours * grad_output).sum(), leaves)
    torchs = torch.autograd.grad((theirs * grad_output).sum(),
                                 [x, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh])
    for a, b in zip(mine, torchs):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def blocks(t, order, new_order):
    """t's gate blocks (dim 0) rearranged from ``order`` to ``new_order``."""
    parts = dict(zip(order, t.chunk(len(order))))
    return torch.cat([parts[name] for name in new_order])


def test_the_gru_mistakes_are_torch_grus_with_other_weights():
    input, hx, *weights = gated.GRU_STEP.cases()[0].args
    h = hx.shape[-1]
    swapped = [blocks(t, "rzn", "zrn") for t in weights]  # a GRU that reads z's rows as r's
    with torch.no_grad():
        expected = torch_cell(nn.GRUCell, *swapped)(input, hx)
    torch.testing.assert_close(wrong_answer(gated.GRU_STEP, "The gates are read")(input, hx, *weights), expected)
    negated = [t.clone() for t in weights]  # sigma(-a) = 1 - sigma(a): z and 1 - z trade places
    for t in negated:
        t[h : 2 * h] *= -1
    with torch.no_grad():
        expected = torch_cell(nn.GRUCell, *negated)(input, hx)
    torch.testing.assert_close(wrong_answer(gated.GRU_STEP, "z and 1 - z")(input, hx, *weights), expected)
    w_ih, w_hh, b_ih, b_hh = weights  # Cho et al.: n = tanh(W_in x + b_in + W_hn (r * h) + b_hn), by hand
    r = torch.sigmoid(input @ w_ih[:h].T + b_ih[:h] + hx @ w_hh[:h].T + b_hh[:h])
    z = torch.sigmoid(input @ w_ih[h : 2 * h].T + b_ih[h : 2 * h] + hx @ w_hh[h : 2 * h].T + b_hh[h : 2 * h])
    n = torch.tanh(input @ w_ih[2 * h :].T + b_ih[2 * h :] + (r * hx) @ w_hh[2 * h :].T + b_hh[2 * h :])
    torch.testing.assert_close(wrong_answer(gated.GRU_STEP, "The reset gate was applied before")(input, hx, *weights),
                               (1 - z) * n + z * hx)
    sigmoid_n = torch.sigmoid(input @ w_ih[2 * h :].T + b_ih[2 * h :] + r * (hx @ w_hh[2 * h :].T + b_hh[2 * h :]))
    torch.testing.assert_close(wrong_answer(gated.GRU_STEP, "The candidate n went through a sigmoid")(
        input, hx, *weights), (1 - z) * sigmoid_n + z * hx)
    always_open = [t.clone() for t in weights]  # r = sigmoid(about 1000) = 1 exactly in float64: no reset at all
    always_open[2][:h] = 1e3
    assert input.dtype == F64
    with torch.no_grad():
        expected = torch_cell(nn.GRUCell, *always_open)(input, hx)
    torch.testing.assert_close(wrong_answer(gated.GRU_STEP, "The reset gate is missing")(input, hx, *weights),
                               expected)


def test_the_lstm_gate_order_mistakes_are_torch_lstms_with_blocks_swapped():
    input, state, *weights = gated.LSTM_STEP.cases()[0].args
    swapped = [blocks(t, "ifgo", "ifog") for t in weights]
    with torch.no_grad():
        expected = torch_cell(nn.LSTMCell, *swapped)(input, state)
    got = wrong_answer(gated.LSTM_STEP, "The gates are read in the order i, f, o, g")(input, state, *weights)
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b)
    swapped = [blocks(t, "ifgo", "figo") for t in weights]
    with torch.no_grad():
        expected = torch_cell(nn.LSTMCell, *swapped)(input, state)
    got = wrong_answer(gated.LSTM_STEP, "The input and forget gates are swapped")(input, state, *weights)
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b)


# ---- backpropagation through time against autograd and a finite difference ----------------------------


def loss(w, u, xs, h0):
    h = h0
    for x in xs:
        h = torch.tanh(w * h + u * x) if isinstance(w, torch.Tensor) else math.tanh(w * h + u * x)
    return h


@pytest.mark.parametrize("case", bptt.BPTT.cases(), ids=label)
def test_bptt_is_autograd_and_a_central_difference(case):
    w, u, xs, h0 = case.args
    ours = bptt.BPTT.reference(*case.args)
    assert isinstance(ours, tuple) and len(ours) == 2 and all(type(v) is float for v in ours)
    params = torch.tensor([w, u], dtype=F64, requires_grad=True)
    final = functools.reduce(lambda h, x: torch.tanh(params[0] * h + params[1] * x), xs,
                             torch.tensor(float(h0), dtype=F64))
    (grad,) = torch.autograd.grad(final, params)
    assert ours == pytest.approx(tuple(grad.tolist()), rel=1e-12, abs=1e-14)
    eps = 1e-6
    central = ((loss(w + eps, u, xs, h0) - loss(w - eps, u, xs, h0)) / (2 * eps),
               (loss(w, u + eps, xs, h0) - loss(w, u - eps, xs, h0)) / (2 * eps))
    assert ours == pytest.approx(central, rel=1e-6, abs=1e-8)


def test_a_central_difference_does_not_pass_for_backpropagation():
    def central(w, u, xs, h0, eps=1e-5):
        return ((loss(w + eps, u, xs, h0) - loss(w - eps, u, xs, h0)) / (2 * eps),
                (loss(w, u + eps, xs, h0) - loss(w, u - eps, xs, h0)) / (2 * eps))

    report = run(bptt.BPTT, central, include_hidden=True)
    assert report.passed == 0 and report.first_failure.kind is ResultKind.WRONG_VALUE


def test_the_bptt_cases_reach_back_and_the_truncated_gradient_is_autograd_on_the_last_step():
    truncated = wrong_answer(bptt.BPTT, "Only the last step")
    for case in bptt.BPTT.cases():
        w, u, xs, h0 = case.args
        previous = loss(float(w), float(u), xs[:-1], float(h0))  # h_{T-1}, held fixed
        params = torch.tensor([w, u], dtype=F64, requires_grad=True)
        (grad,) = torch.autograd.grad(torch.tanh(params[0] * previous + params[1] * xs[-1]), params)
        assert truncated(*case.args) == pytest.approx(tuple(grad.tolist()), rel=1e-12, abs=1e-14)
    assert max(len(c.args[2]) for c in bptt.BPTT.cases() if not c.hidden) >= 20


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")  # torch's own forward-mode AD scripts
def test_bptt_answers_are_python_floats_and_autograd_is_forbidden():
    def as_tensors(w, u, xs, h0):
        return tuple(torch.tensor(v, dtype=F64) for v in bptt.BPTT.reference(w, u, xs, h0))

    report = run(bptt.BPTT, as_tensors)
    assert report.first_failure.kind is ResultKind.WRONG_TYPE and "a tensor" in report.first_failure.message
    assert run(bptt.BPTT, lambda *a: list(bptt.BPTT.reference(*a)), True).outcome is Outcome.CORRECT

    def by_backward(w, u, xs, h0):
        params = torch.tensor([w, u], dtype=F64, requires_grad=True)
        functools.reduce(lambda h, x: torch.tanh(params[0] * h + params[1] * x), xs,
                         torch.tensor(float(h0), dtype=F64)).backward()
        return tuple(params.grad.tolist())

    def by_forward_mode(w, u, xs, h0):
        import torch.autograd.forward_ad as fwAD

        grads = []
        for tangent in ((1.0, 0.0), (0.0, 1.0)):
            with fwAD.dual_level():
                wd = fwAD.make_dual(torch.tensor(float(w), dtype=F64), torch.tensor(tangent[0], dtype=F64))
                ud = fwAD.make_dual(torch.tensor(float(u), dtype=F64), torch.tensor(tangent[1], dtype=F64))
                h = functools.reduce(lambda h, x: torch.tanh(wd * h + ud * x), xs, torch.tensor(float(h0), dtype=F64))
                grads.append(fwAD.unpack_dual(h).tangent.item())
        return tuple(grads)

    for answer, name in ((by_backward, "torch.Tensor.backward"), (by_forward_mode, "torch.autograd.forward_ad"),
                         (LIBRARY_ANSWERS["07.bptt_scalar"], "torch.func.grad")):
        cases = bptt.BPTT.cases()
        assert judge(bptt.BPTT, cases, call_all(answer, cases), True).outcome is Outcome.CORRECT
        failure = run(bptt.BPTT, answer).first_failure
        assert failure.kind is ResultKind.FORBIDDEN and failure.message.startswith(f"your answer calls {name}")


def complex_step(tanh):
    """dL/dw and dL/du as the imaginary part of L at w + ih (and u + ih), over h: exact to machine precision."""

    def answer(w, u, xs, h0, step=1e-30):
        def final(w, u):
            h = complex(h0)
            for x in xs:
                h = tanh(w * h + u * x)
            return h

        return final(w + 1j * step, u).imag / step, final(w, u + 1j * step).imag / step

    return answer


def by_the_engine(engine):
    """Autograd's engine called by hand, as torch.autograd.grad does."""

    def answer(w, u, xs, h0):
        params = torch.tensor([w, u], dtype=F64, requires_grad=True)
        final = functools.reduce(lambda h, x: torch.tanh(params[0] * h + params[1] * x), xs,
                                 torch.tensor(float(h0), dtype=F64))
        (grad,) = engine()((final,), (torch.ones_like(final),), False, False, (params,), False, False)
        return tuple(grad.tolist())

    return answer


def symbolically(derivative):
    """The exact derivative of h_T written out by SymPy; the longer sequences (slow to differentiate) get zeros."""

    def answer(w, u, xs, h0):
        import sympy

        if len(xs) > 3:
            return 0.0, 0.0
        w_, u_ = sympy.symbols("w u")
        h = sympy.Float(h0)
        for x in xs:
            h = sympy.tanh(w_ * h + u_ * sympy.Float(x))
        values = {w_: w, u_: u}
        return tuple(float(derivative(sympy, h, p).evalf(30, subs=values)) for p in (w_, u_))

    return answer


def engine_bound():
    from torch.autograd.variable import Variable

    return Variable._execution_engine.run_backward


def engine_unbound():
    from torch.autograd.variable import Variable

    engine = Variable._execution_engine
    return lambda *args: type(engine).run_backward(engine, *args)


def engine_function():
    from torch.autograd.graph import _engine_run_backward

    return _engine_run_backward


DERIVATIVE_ROADS = {
    "complex step, cmath.tanh": (complex_step(cmath.tanh), "cmath.tanh"),
    "complex step, cmath.exp": (complex_step(lambda a: (cmath.exp(2 * a) - 1) / (cmath.exp(2 * a) + 1)), "cmath.exp"),
    "complex step, cmath.sinh / cmath.cosh": (complex_step(lambda a: cmath.sinh(a) / cmath.cosh(a)), "cmath.sinh"),
    "the engine's run_backward": (by_the_engine(engine_bound), "torch.autograd.Variable._execution_engine"),
    "run_backward from the engine's class": (by_the_engine(engine_unbound),
                                             "torch.autograd.Variable._execution_engine"),
    "autograd.graph._engine_run_backward": (by_the_engine(engine_function),
                                            "torch.autograd.graph._engine_run_backward"),
    "sympy.diff": (symbolically(lambda sympy, h, p: sympy.diff(h, p)), "sympy.diff"),
    "Expr.diff": (symbolically(lambda sympy, h, p: h.diff(p)), "sympy.Expr.diff"),
    "Derivative(...).doit()": (symbolically(lambda sympy, h, p: sympy.Derivative(h, p).doit()),
                               "sympy.Derivative.doit"),
    "Derivative(..., evaluate=True)": (symbolically(lambda sympy, h, p: sympy.Derivative(h, p, evaluate=True)),
                                       "sympy.Expr.diff"),
}


@pytest.mark.parametrize("road", DERIVATIVE_ROADS)
def test_every_exact_derivative_the_reader_does_not_write_is_forbidden(road):
    answer, name = DERIVATIVE_ROADS[road]
    cases = [c for c in bptt.BPTT.cases() if len(c.args[2]) <= 3]
    assert judge(bptt.BPTT, cases, call_all(answer, cases), True).outcome is Outcome.CORRECT, "exact when allowed"
    report = run(bptt.BPTT, answer)
    assert report.score == 0 and report.first_failure.kind is ResultKind.FORBIDDEN
    assert report.first_failure.message.startswith(f"your answer calls {name}: ")


def test_sympy_arithmetic_and_math_are_not_derivatives():
    """Forbidding SymPy's derivatives leaves its algebra alone (the class Derivative is not forbidden whole: its
    methods share a decorator's wrapper with every SymPy product and sum)."""

    def evaluates_with_sympy(w, u, xs, h0):
        import sympy

        dw, du = solution_scalar_rnn_grad(w, u, xs, h0)
        return float(sympy.Float(dw) * 1), float(sympy.Float(du) + 0)

    assert run(bptt.BPTT, evaluates_with_sympy, include_hidden=True).outcome is Outcome.CORRECT


def test_a_float32_bptt_is_told_about_float32():
    report = run(bptt.BPTT, wrong_answer(bptt.BPTT, "The digits after the 7th"))
    assert "float32" in report.detail and "off by" in report.first_failure.message


# ---- the parameter count against nn.LSTM ---------------------------------------------------------------


def lstm_count(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    return count_parameters(nn.LSTM(input_size, hidden_size, num_layers, bias=bias, bidirectional=bidirectional))


@pytest.mark.parametrize("case", lstm.LSTM_PARAMS.cases(), ids=label)
def test_the_parameter_count_is_nn_lstms(case):
    ours = lstm.LSTM_PARAMS.reference(*case.args)
    assert type(ours) is int and ours == lstm_count(*case.args)


def test_the_wrong_counts_are_the_modules_they_describe():
    def wrong(start):
        return wrong_answer(lstm.LSTM_PARAMS, start)

    names = ("input_size", "hidden_size", "num_layers", "bidirectional", "bias")
    for args in [(10, 20), (2, 5, 2), (3, 5, 2, True), (4, 6, 1, False, False), (1, 2, 3), (128, 256, 3, True)]:
        given = dict(zip(names, args))
        model = nn.LSTM(**given)
        weights_and_one_bias = sum(p.numel() for name, p in model.named_parameters() if "bias_hh" not in name)
        assert wrong("One bias vector")(*args) == weights_and_one_bias
        assert wrong("Three gates")(*args) == count_parameters(nn.GRU(**given))
        assert wrong("bias=False was ignored")(*args) == count_parameters(nn.LSTM(**{**given, "bias": True}))
        assert wrong("Only one layer")(*args) == count_parameters(nn.LSTM(**{**given, "num_layers": 1}))
        assert wrong("bidirectional was ignored")(*args) == count_parameters(nn.LSTM(**{**given,
                                                                                      "bidirectional": False}))


# On one layer "one direction counted" and "bidirectional ignored" are the same sum (no deeper layer reads 2H or H);
# the two-layer bidirectional cases tell them apart.
SAME_ON_ONE_LAYER = {"Only one direction was counted", "bidirectional was ignored"}


@pytest.mark.parametrize("case", lstm.LSTM_PARAMS.cases(), ids=label)
def test_the_wrong_counts_that_fail_a_case_give_distinct_numbers_there(case):
    """So that the count a student returns names one mistake: (3, 5, 2) once gave 400 for both "one bias" and
    "deeper layers read input_size", and num_layers * (4H (H_in + H) + 8H) was told it had counted one bias."""
    reference = lstm.LSTM_PARAMS.reference(*case.args)
    failing = {d: n for d, w in lstm.LSTM_PARAMS.wrong.items() if (n := w(*case.args)) != reference}
    assert len(failing) >= 2
    for first, second in itertools.combinations(failing, 2):
        if case.args[2:3] in ((), (1,)) and {first.split(":")[0], second.split(":")[0]} == SAME_ON_ONE_LAYER:
            continue
        assert failing[first] != failing[second], (first, second)
    if len(case.args) >= 4 and case.args[3] and case.args[2] > 1:
        one_direction, ignored = (next(n for d, n in failing.items() if d.startswith(s)) for s in SAME_ON_ONE_LAYER)
        assert one_direction != ignored


def test_the_layer_formula_times_num_layers_gets_no_wrong_diagnosis():
    def per_layer_times_layers(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
        return num_layers * (4 * hidden_size * (input_size + hidden_size) + 8 * hidden_size)

    for hidden in (False, True):  # three mistakes at once (deeper layers, directions, bias=False): none is named
        report = run(lstm.LSTM_PARAMS, per_layer_times_layers, include_hidden=hidden)
        assert report.outcome is Outcome.INCORRECT and report.detail == ""


def test_building_the_lstm_or_its_cells_to_count_is_forbidden():
    def cells_counted(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
        directions = 2 if bidirectional else 1
        total = 0
        for layer in range(num_layers):
            size = input_size if layer == 0 else directions * hidden_size
            cell = nn.LSTMCell(size, hidden_size, bias=bias)
            total += directions * sum(t.numel() for t in (cell.weight_ih, cell.weight_hh))
            total += directions * (2 * cell.bias_ih.numel() if bias else 0)
        return total

    def linears_counted(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
        first = nn.Linear(input_size, 4 * hidden_size)
        return first.weight.numel() + lstm.LSTM_PARAMS.reference(input_size, hidden_size, num_layers, bidirectional,
                                                                 bias) - first.weight.numel()

    for answer, name in ((cells_counted, "torch.nn.LSTMCell"), (linears_counted, "torch.nn.Linear"),
                         (LIBRARY_ANSWERS["07.lstm_params"], "torch.nn.LSTM")):
        cases = lstm.LSTM_PARAMS.cases()
        assert judge(lstm.LSTM_PARAMS, cases, call_all(answer, cases), True).outcome is Outcome.CORRECT
        failure = run(lstm.LSTM_PARAMS, answer).first_failure
        assert failure.kind is ResultKind.FORBIDDEN and failure.message.startswith(f"your answer calls {name}")
        assert "asks for the arithmetic" in failure.message


@pytest.mark.parametrize("as_what", ["float", "tensor"])
def test_a_parameter_count_must_be_an_int(as_what):
    def answer(*args):
        count = lstm.LSTM_PARAMS.reference(*args)
        return float(count) if as_what == "float" else torch.tensor(count)

    failure = run(lstm.LSTM_PARAMS, answer).first_failure
    assert failure.kind is ResultKind.WRONG_TYPE and f"a {as_what}" in failure.message


# ---- the forget-gate bias: the fact behind option (a), measured ----------------------------------------


def cell_gradient_to_the_start(forget_bias, steps=30, seed=0):
    """|dc_T / dc_0| summed over units, for an nn.LSTMCell run on random inputs with its forget bias set."""
    torch.manual_seed(seed)
    cell = nn.LSTMCell(2, 8).double()
    with torch.no_grad():
        cell.bias_ih[8:16] = forget_bias
        cell.bias_hh[8:16] = 0.0
    c0 = torch.zeros(1, 8, dtype=F64, requires_grad=True)
    h, c = torch.zeros(1, 8, dtype=F64), c0
    xs = torch.randn(steps, 1, 2, dtype=F64)
    for x in xs:
        h, c = cell(x, (h, c))
    (grad,) = torch.autograd.grad(c.sum(), c0)
    return grad.abs().sum().item()


def test_a_high_forget_bias_carries_the_cell_gradient_and_a_zero_one_halves_it_each_step():
    with torch.random.fork_rng(devices=[]):
        zero, high = cell_gradient_to_the_start(0.0), cell_gradient_to_the_start(3.0)
    assert zero < 8 * 0.7**30, "with f ~ sigmoid(0) = 0.5 the gradient shrinks geometrically"
    assert high > 0.1 * 8 and high > 1e4 * zero
    assert math.isclose(torch.sigmoid(torch.tensor(3.0)).item(), 0.95, abs_tol=0.01)
    sigma = torch.sigmoid(torch.tensor([0.0, 3.0]))
    assert (sigma * (1 - sigma)).tolist() == pytest.approx([0.25, 0.045], abs=1e-3), "option (c)'s numbers"


def test_the_forget_bias_question_answers_a():
    assert lstm.FORGET_BIAS.reference() == "a" and set(lstm.FORGET_OPTIONS) == {"a", "b", "c", "d"}
    assert lstm.FORGET_QUESTION in lstm.FORGET_BIAS.prompt
    assert run(lstm.FORGET_BIAS, lambda: " (A) ").outcome is Outcome.CORRECT
    assert run(lstm.FORGET_BIAS, lambda: "b").score == 0


REASONING = ("dc_t / dc_{t-1} = f_t", "sigmoid(0) = 0.5")  # why (a) is right, in full


@pytest.mark.parametrize("letter", ["b", "c", "d"])
def test_a_wrong_letter_is_told_its_own_flaw_and_the_last_hint_gives_the_reason(letter):
    report = run(lstm.FORGET_BIAS, lambda: letter)
    text = feedback.text(report)
    assert f"likely cause: {report.detail}" in text and report.detail == next(
        d for d, w in lstm.FORGET_BIAS.wrong.items() if w() == letter)
    assert not any(part in text for part in REASONING), "the feedback after a wrong letter keeps the reason back"
    assert all(part in lstm.FORGET_BIAS.hints[-1] for part in REASONING)
    assert not any(part in hint for hint in lstm.FORGET_BIAS.hints[:-1] for part in REASONING)


def test_the_forget_bias_options_are_alike_in_length():
    lengths = {letter: len(text) for letter, text in lstm.FORGET_OPTIONS.items()}
    assert max(lengths.values()) <= 1.1 * min(lengths.values()), lengths
    assert lengths["a"] < max(lengths.values()), "the right option is not the longest"


# ---- every road to torch's cells is closed; honest building blocks are open ----------------------------


def batched(f):
    """f on a batch of one when the input has no batch dimension (torch's functional cells want one)."""

    def answer(input, hx, *rest):
        if input.dim() == 2:
            return f(input, hx, *rest)
        return f(input[None], hx[None], *rest)[0]

    return answer


def rnn_module(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    bias = b_ih is not None or b_hh is not None
    rnn = nn.RNN(w_ih.shape[1], w_hh.shape[1], bias=bias, dtype=input.dtype)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(w_ih)
        rnn.weight_hh_l0.copy_(w_hh)
        if bias:  # a bias left out is a bias of zeros
            rnn.bias_ih_l0.copy_(b_ih if b_ih is not None else torch.zeros_like(b_hh))
            rnn.bias_hh_l0.copy_(b_hh if b_hh is not None else torch.zeros_like(b_ih))
        return rnn(input[None], hx[None])[1][0]  # a sequence of length 1


ROADS = {
    "nn.RNNCell": (cells.RNN_STEP, lambda input, hx, *w: torch_cell(nn.RNNCell, *w)(input, hx), "torch.nn.RNNCell"),
    "nn.RNN on one step": (cells.RNN_STEP, rnn_module, "torch.nn.RNN"),
    "torch._VF": (cells.RNN_STEP, batched(torch._VF.rnn_tanh_cell), "torch.rnn_tanh_cell"),
    "aten": (cells.RNN_STEP, batched(torch.ops.aten.rnn_tanh_cell), "torch.ops.aten.rnn_tanh_cell"),
    "aten .default": (cells.RNN_STEP, batched(torch.ops.aten.rnn_tanh_cell.default),
                      "torch.ops.aten.rnn_tanh_cell.default"),
    "leaky through nn.RNNCell": (
        cells.LEAKY, lambda input, hx, w_ih, w_hh, b, alpha: (1 - alpha) * hx + alpha * torch_cell(
            nn.RNNCell, w_ih, w_hh, b, None)(input, hx), "torch.nn.RNNCell"),
    "nn.GRUCell": (gated.GRU_STEP, lambda input, hx, *w: torch_cell(nn.GRUCell, *w)(input, hx), "torch.nn.GRUCell"),
    "aten gru_cell": (gated.GRU_STEP, batched(torch.ops.aten.gru_cell.default), "torch.ops.aten.gru_cell.default"),
    "nn.LSTMCell": (gated.LSTM_STEP, lambda input, state, *w: torch_cell(nn.LSTMCell, *w)(input, state),
                    "torch.nn.LSTMCell"),
    "torch.lstm_cell": (gated.LSTM_STEP, LIBRARY_ANSWERS["07.lstm_step"], "torch.lstm_cell"),
}


@pytest.mark.parametrize("road", ROADS)
def test_every_road_to_torchs_cells_is_closed(road):
    exercise, answer, name = ROADS[road]
    cases = [c for c in exercise.cases() if "large" not in c.label]
    if "aten" not in road and "VF" not in road:
        assert judge(exercise, cases, call_all(answer, cases), True).outcome is Outcome.CORRECT
    report = run(exercise, answer)
    assert report.score == 0 and report.first_failure.kind is ResultKind.FORBIDDEN
    assert report.first_failure.message.startswith(f"your answer calls {name}: ")
    assert "no recurrent cell or layer" in feedback.text(report)


def book_bptt(w, u, xs, h0):
    """The book's rnn_backward on a one-unit RNN: xi_t = u x_t, W_hh = [[w]]."""
    from helpers.nn import recurrent

    x = torch.tensor(xs, dtype=F64).reshape(-1, 1, 1)
    h0, w_hh = torch.tensor([[float(h0)]], dtype=F64), torch.tensor([[float(w)]], dtype=F64)
    output = recurrent.rnn_forward(u * x, h0, w_hh)
    grad_output = torch.zeros_like(output)
    grad_output[-1] = 1.0  # L = h_T
    grad_xi, _, grad_w = recurrent.rnn_backward(grad_output, torch.zeros_like(h0), h0, w_hh, output)
    return grad_w.item(), (grad_xi * x).sum().item()


def book_rnn_forward_one_step(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    from helpers.nn import recurrent

    xi = torch.nn.functional.linear(input, w_ih, b_ih) + (0 if b_hh is None else b_hh)
    return recurrent.rnn_forward(xi.reshape(1, -1, hx.shape[-1]), hx.reshape(-1, hx.shape[-1]), w_hh)[0].reshape(
        hx.shape)


def book_lstm_counted(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    from helpers.nn import recurrent

    model = recurrent.LSTM(input_size, hidden_size, num_layers, bias=bias, bidirectional=bidirectional)
    return sum(p.numel() for weights in model.all_weights for p in weights)  # no .parameters() call


def book_road(name):
    """The book's function ``name`` from helpers.nn.recurrent, called as the exercise's answer."""

    def answer(*args):
        from helpers.nn import recurrent

        return getattr(recurrent, name)(*args)

    return answer


BOOK_ROADS = {
    "rnn_cell": (cells.RNN_STEP, book_road("rnn_cell"), "helpers.nn.recurrent.rnn_cell"),
    "rnn_forward for one step": (cells.RNN_STEP, book_rnn_forward_one_step, "helpers.nn.recurrent.rnn_forward"),
    "leaky through rnn_cell": (
        cells.LEAKY, lambda input, hx, w_ih, w_hh, b, alpha: (1 - alpha) * hx + alpha * __import__(
            "helpers.nn.recurrent").nn.recurrent.rnn_cell(input, hx, w_ih, w_hh, b), "helpers.nn.recurrent.rnn_cell"),
    "gru_cell": (gated.GRU_STEP, book_road("gru_cell"), "helpers.nn.recurrent.gru_cell"),
    "lstm_cell": (gated.LSTM_STEP, book_road("lstm_cell"), "helpers.nn.recurrent.lstm_cell"),
    "rnn_backward": (bptt.BPTT, book_bptt, "helpers.nn.recurrent.rnn_backward"),
    "LSTM built and counted": (lstm.LSTM_PARAMS, book_lstm_counted, "helpers.nn.recurrent.LSTM"),
}


@pytest.mark.parametrize("road", BOOK_ROADS)
def test_the_books_own_recurrent_functions_are_closed(road):
    exercise, answer, name = BOOK_ROADS[road]
    cases = exercise.cases()
    assert judge(exercise, cases, call_all(answer, cases), True).outcome is Outcome.CORRECT
    report = run(exercise, answer)
    assert report.score == 0 and report.first_failure.kind is ResultKind.FORBIDDEN
    assert report.first_failure.message.startswith(f"your answer calls {name}: ")


def test_linear_layers_einsum_and_addmm_are_allowed():
    def by_linear(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
        return torch.tanh(torch.nn.functional.linear(input, w_ih, b_ih) + torch.nn.functional.linear(hx, w_hh, b_hh))

    def by_einsum_and_addmm(input, state, w_ih, w_hh, b_ih, b_hh):
        hx, cx = state
        hidden = torch.addmm(b_hh, hx.reshape(-1, hx.shape[-1]), w_hh.T).reshape(*hx.shape[:-1], -1)
        i, f, g, o = (torch.einsum("...j,kj->...k", input, w_ih) + b_ih + hidden).chunk(4, -1)
        c = torch.sigmoid(f) * cx + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c

    assert run(cells.RNN_STEP, by_linear, include_hidden=True).outcome is Outcome.CORRECT
    assert run(gated.LSTM_STEP, by_einsum_and_addmm, include_hidden=True).outcome is Outcome.CORRECT


def test_the_recurrent_names_all_resolve_and_the_book_is_forbidden_once_it_has_cells():
    assert all(resolve(name) is not None for name in RECURRENT)
    books = resolve("helpers.nn.recurrent")
    for name in ("rnn_cell", "gru_cell", "lstm_cell", "RNN", "GRU", "LSTM"):
        if books is not None and hasattr(books, name):
            assert f"helpers.nn.recurrent.{name}" in RECURRENT


# ---- the worked solutions (as in /tmp/ch07/answers.py, the answer cells of the chapter's notebook) ------


def solution_rnn_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    pre = input @ w_ih.T + hx @ w_hh.T
    if b_ih is not None:
        pre = pre + b_ih
    if b_hh is not None:
        pre = pre + b_hh
    return torch.tanh(pre)


def solution_scalar_rnn_grad(w, u, xs, h0):
    hs = [h0]
    for x in xs:
        hs.append(math.tanh(w * hs[-1] + u * x))
    dw = du = 0.0
    dh = 1.0
    for t in range(len(xs), 0, -1):
        da = dh * (1 - hs[t] ** 2)
        dw += da * hs[t - 1]
        du += da * xs[t - 1]
        dh = da * w
    return dw, du


def solution_leaky_rnn_step(input, hx, w_ih, w_hh, b, alpha):
    candidate = torch.tanh(input @ w_ih.T + hx @ w_hh.T + b)
    return (1 - alpha) * hx + alpha * candidate


def solution_gru_cell(input, hx, w_ih, w_hh, b_ih, b_hh):
    i_r, i_z, i_n = (input @ w_ih.T + b_ih).chunk(3, dim=-1)
    h_r, h_z, h_n = (hx @ w_hh.T + b_hh).chunk(3, dim=-1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * hx


def solution_lstm_cell(input, state, w_ih, w_hh, b_ih, b_hh):
    hx, cx = state
    i, f, g, o = (input @ w_ih.T + b_ih + hx @ w_hh.T + b_hh).chunk(4, dim=-1)
    c = torch.sigmoid(f) * cx + torch.sigmoid(i) * torch.tanh(g)
    h = torch.sigmoid(o) * torch.tanh(c)
    return h, c


def solution_lstm_parameter_count(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    directions = 2 if bidirectional else 1
    H = hidden_size
    total = 0
    for layer in range(num_layers):
        inputs = input_size if layer == 0 else directions * H
        per_direction = 4 * H * inputs + 4 * H * H + (8 * H if bias else 0)
        total += directions * per_direction
    return total


SOLUTIONS = {"07.rnn_step": solution_rnn_cell, "07.bptt_scalar": solution_scalar_rnn_grad,
             "07.leaky_unit": solution_leaky_rnn_step, "07.gru_step": solution_gru_cell,
             "07.lstm_step": solution_lstm_cell, "07.lstm_params": solution_lstm_parameter_count,
             "07.forget_bias": lambda: "a"}


@pytest.mark.parametrize("exercise_id", SOLUTIONS)
def test_the_worked_solutions_pass(exercise_id):
    report = run(EXERCISES[exercise_id], SOLUTIONS[exercise_id], include_hidden=True)
    assert report.outcome is Outcome.CORRECT, report.first_failure
