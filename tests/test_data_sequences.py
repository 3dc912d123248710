"""helpers.data's sequence tasks and character corpus: shapes, dtypes, determinism, each task's rule checked
position by position, the closed-form baselines (1/6 for the adding problem, noise^2 and 2 noise^2 + 1 - cos(2 pi /
period) for the sine) estimated on large samples, the encode/decode round trip, and the error messages."""

import math

import pytest
import torch
import torch.nn.functional as F

from helpers import data


def test_noisy_sine_sequences_shapes_shift_and_determinism():
    x, y = data.noisy_sine_sequences(5, 30, seed=3)
    assert x.shape == y.shape == (5, 30, 1) and x.dtype == y.dtype == torch.float32
    assert torch.equal(x[:, 1:], y[:, :-1])  # the target at t is the input at t + 1
    again = data.noisy_sine_sequences(5, 30, seed=3)
    assert torch.equal(x, again[0]) and torch.equal(y, again[1])
    assert not torch.equal(x, data.noisy_sine_sequences(5, 30, seed=4)[0])
    assert data.noisy_sine_sequences(2, 4, dtype=torch.float64)[0].dtype == torch.float64


def test_noisy_sine_sequences_without_noise_is_a_sine_of_the_given_period():
    period = 12.5
    x, y = data.noisy_sine_sequences(4, 40, noise=0.0, period=period, seed=1)
    # a pure sine of angular step w = 2 pi / period obeys s_{t+1} + s_{t-1} = 2 cos(w) s_t
    w = 2 * math.pi / period
    s = torch.cat([x[:, :, 0], y[:, -1:, 0]], dim=1).double()
    assert torch.allclose(s[:, 2:] + s[:, :-2], 2 * math.cos(w) * s[:, 1:-1], atol=1e-5)
    assert s.abs().max() <= 1 + 1e-6


def test_noisy_sine_sequences_baselines_match_their_closed_forms():
    noise, period = 0.2, 20.0
    x, y = data.noisy_sine_sequences(4000, 50, noise=noise, period=period, seed=0, dtype=torch.float64)
    copy_last = F.mse_loss(x, y).item()  # predict s_{t+1} by s_t
    assert copy_last == pytest.approx(2 * noise**2 + 1 - math.cos(2 * math.pi / period), rel=0.02)
    clean = data.noisy_sine_sequences(4000, 50, noise=0.0, period=period, seed=0, dtype=torch.float64)[1]
    # same seed, same phases: the clean next value is the best prediction and its error is the noise alone
    assert F.mse_loss(clean, y).item() == pytest.approx(noise**2, rel=0.02)


def test_adding_problem_shapes_markers_and_targets():
    n, length = 500, 21
    x, y = data.adding_problem(n, length, seed=2)
    assert x.shape == (n, length, 2) and y.shape == (n,) and x.dtype == y.dtype == torch.float32
    numbers, marker = x[..., 0], x[..., 1]
    assert numbers.min() >= 0 and numbers.max() < 1
    assert set(marker.unique().tolist()) == {0.0, 1.0}
    half = length // 2
    assert (marker[:, :half].sum(1) == 1).all() and (marker[:, half:].sum(1) == 1).all()
    for i in range(n):
        a, b = marker[i].nonzero().flatten().tolist()
        assert a < half <= b
        assert y[i].item() == pytest.approx(numbers[i, a].item() + numbers[i, b].item(), abs=1e-6)
    # both halves are used in full: every position gets marked somewhere in 500 sequences
    assert (marker.sum(0) > 0).all()


def test_adding_problem_is_deterministic_and_draws_from_a_generator():
    a, b = data.adding_problem(8, 10, seed=5), data.adding_problem(8, 10, seed=5)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    g = torch.Generator().manual_seed(5)
    first, second = data.adding_problem(8, 10, generator=g), data.adding_problem(8, 10, generator=g)
    assert torch.equal(first[0], a[0])  # a generator seeded like seed= gives the same first batch
    assert not torch.equal(first[0], second[0])  # and fresh batches after it
    assert data.adding_problem(3, 2)[0][:, :, 1].sum().item() == 6  # the shortest: one position per half


def test_adding_problem_mean_predictor_scores_one_sixth():
    _, y = data.adding_problem(200_000, 10, seed=0, dtype=torch.float64)
    # u_a + u_b with independent u ~ Uniform(0, 1): mean 1, variance 2 * (1 / 12)
    assert y.mean().item() == pytest.approx(1.0, abs=0.005)
    assert F.mse_loss(torch.ones_like(y), y).item() == pytest.approx(1 / 6, rel=0.01)


@pytest.mark.parametrize("lag,symbols,alphabet", [(1, 1, 2), (5, 3, 4), (12, 5, 8), (7, 7, 3)])
def test_copy_task_recalls_each_symbol_exactly_lag_steps_later(lag, symbols, alphabet):
    x, y = data.copy_task(50, lag=lag, symbols=symbols, alphabet=alphabet, seed=1)
    length = lag + symbols
    assert x.shape == (50, length, alphabet + 2) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert (x.sum(2) == 1).all()  # one-hot
    tokens = x.argmax(2)
    delimiter = torch.zeros(length, dtype=torch.bool)
    delimiter[lag] = True
    for t in range(length):
        expected = tokens[:, t - lag] - 1 if t >= lag else torch.full((50,), -100)
        assert torch.equal(y[:, t], expected)  # the target at t is the symbol seen at t - lag
        if t < symbols:
            assert ((tokens[:, t] >= 1) & (tokens[:, t] <= alphabet)).all()
        else:
            assert (tokens[:, t] == (alphabet + 1 if delimiter[t] else 0)).all()
    assert ((y == -100) | ((y >= 0) & (y < alphabet))).all()
    # the -100s are what F.cross_entropy leaves out by default
    uniform = F.cross_entropy(torch.zeros(50 * length, alphabet), y.flatten())
    assert uniform.item() == pytest.approx(math.log(alphabet), rel=1e-5)


def test_copy_task_is_deterministic_and_uses_every_symbol():
    a, b = data.copy_task(200, lag=4, seed=9), data.copy_task(200, lag=4, seed=9)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert set(a[1][:, 4:].unique().tolist()) == {0, 1, 2, 3}


@pytest.mark.parametrize(
    "call,error,match",
    [
        (lambda: data.adding_problem(4, 1), ValueError, "length must be at least 2"),
        (lambda: data.adding_problem(0, 10), ValueError, "n must be at least 1"),
        (lambda: data.adding_problem(4, 10.0), TypeError, "length must be a whole number"),
        (lambda: data.adding_problem(4, 10, generator=3), TypeError, "torch.Generator"),
        (lambda: data.noisy_sine_sequences(4, 10, noise=-0.1), ValueError, "standard deviation"),
        (lambda: data.noisy_sine_sequences(4, 10, period=0), ValueError, "period"),
        (lambda: data.noisy_sine_sequences(4, True), TypeError, "length must be a whole number"),
        (lambda: data.copy_task(4, lag=2, symbols=3), ValueError, "lag must be at least symbols"),
        (lambda: data.copy_task(4, lag=5, alphabet=1), ValueError, "alphabet must be at least 2"),
    ],
)
def test_sequence_tasks_reject_bad_arguments_and_say_what_to_do(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_char_corpus_vocabulary_and_round_trip():
    corpus = data.char_corpus()
    assert corpus.text == "".join(line + "\n" for line in data.LINES)
    assert 300 <= len(corpus.text) <= 1000
    assert list(corpus.vocabulary) == sorted(set(corpus.text))  # every character once, in a fixed order
    assert corpus.vocabulary[corpus.end] == data.END == "\n"
    assert corpus.text.count(data.END) == len(data.LINES) and corpus.text.endswith(data.END)
    ids = corpus.encode(corpus.text)
    assert ids.dtype == torch.int64 and ids.shape == (len(corpus.text),)
    assert all(corpus.vocabulary[i] == c for i, c in zip(ids.tolist(), corpus.text))
    assert corpus.decode(ids) == corpus.text
    assert corpus.decode(ids.tolist()) == corpus.text
    assert corpus.decode(corpus.encode("the end.\n")) == "the end.\n"
    assert data.char_corpus().vocabulary == corpus.vocabulary


def test_char_corpus_errors():
    corpus = data.char_corpus()
    with pytest.raises(ValueError, match=r"\['Q'\] are not in the corpus"):
        corpus.encode("Quite")
    with pytest.raises(TypeError, match="string"):
        corpus.encode(["a"])
    with pytest.raises(ValueError, match="ids must lie in"):
        corpus.decode([0, len(corpus.vocabulary)])


@pytest.mark.parametrize("length,step", [(1, 1), (10, 1), (16, 5)])
def test_next_character_pairs_are_windows_shifted_by_one(length, step):
    corpus = data.char_corpus()
    ids = corpus.encode(corpus.text)
    x, y = data.next_character_pairs(ids, length, step)
    n = (len(ids) - length - 1) // step + 1
    assert x.shape == y.shape == (n, length) and x.dtype == torch.int64
    for k in (0, n // 2, n - 1):
        start = k * step
        assert corpus.decode(x[k]) == corpus.text[start : start + length]
        assert corpus.decode(y[k]) == corpus.text[start + 1 : start + length + 1]
    # a line's last character is followed by the end token
    assert ((y == corpus.end) == (x == corpus.vocabulary.index("."))).all()


def test_next_character_pairs_errors():
    ids = torch.arange(5)
    with pytest.raises(ValueError, match="only 5"):
        data.next_character_pairs(ids, 5)
    with pytest.raises(ValueError, match="length must be a positive int"):
        data.next_character_pairs(ids, 0)
    with pytest.raises(TypeError, match="1-D integer tensor"):
        data.next_character_pairs(ids.float(), 2)
    with pytest.raises(TypeError, match="1-D integer tensor"):
        data.next_character_pairs(ids[None], 2)
