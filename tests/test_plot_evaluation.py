"""Chapter 11's evaluation figures: what they draw, against sklearn and numpy, and their errors.

The confusion heatmap's cells are sklearn.metrics.confusion_matrix (normalised by sklearn too); the precision-recall
line is sklearn's precision_recall_curve; the threshold frame's counts and title come from sklearn's confusion_matrix,
precision_score and recall_score on the flags score >= threshold; each cell of the folds diagram is checked against
sklearn's KFold / StratifiedKFold / ShuffleSplit indices; cv_scores' means and spreads are statistics.mean / stdev.
"""

import statistics

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from figures import legend, renders  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from sklearn.metrics import confusion_matrix, precision_recall_curve, precision_score, recall_score  # noqa: E402
from sklearn.model_selection import KFold, ShuffleSplit, StratifiedKFold  # noqa: E402

from helpers.plot import PALETTE  # noqa: E402
from helpers.plot import evaluation as ev  # noqa: E402


def _labels(n=200, k=4, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    pred = np.where(rng.random(n) < 0.7, y, rng.integers(0, k, n))
    return y, pred


def _cells(ax):
    """{(row, column): text} of the texts drawn in the heatmap's cells."""
    return {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}


def test_confusion_matrix_plot_writes_each_count_in_its_cell():
    y, pred = _labels()
    cm = confusion_matrix(y, pred)
    fig = ev.confusion_matrix_plot(torch.as_tensor(cm), labels=["a", "b", "c", "d"], title="four classes")
    ax = fig.axes[0]
    assert _cells(ax) == {(i, j): str(cm[i, j]) for i in range(4) for j in range(4)}
    np.testing.assert_array_equal(ax.images[0].get_array(), cm)
    assert ax.get_xlabel() == "predicted label" and ax.get_ylabel() == "true label"
    assert ax.get_title() == "four classes"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c", "d"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c", "d"]
    assert fig.axes[1].get_ylabel() == "count"  # the colour bar
    assert renders(fig)


@pytest.mark.parametrize(("normalize", "how"), [(True, "true"), ("true", "true"), ("pred", "pred"), ("all", "all")])
def test_confusion_matrix_plot_normalises_like_sklearn(normalize, how):
    y, pred = _labels(seed=1)
    expected = confusion_matrix(y, pred, normalize=how)
    ax = ev.confusion_matrix_plot(confusion_matrix(y, pred), normalize=normalize).axes[0]
    np.testing.assert_allclose(ax.images[0].get_array(), expected, rtol=1e-12)
    assert _cells(ax) == {(i, j): f"{expected[i, j]:.2f}" for i in range(4) for j in range(4)}
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3"]


def test_confusion_matrix_plot_draws_on_a_given_axes_and_writes_fractions_with_decimals():
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2)
    assert ev.confusion_matrix_plot([[0.5, 0.25], [0.0, 1.0]], ax=b) is fig
    assert _cells(b) == {(0, 0): "0.50", (0, 1): "0.25", (1, 0): "0.00", (1, 1): "1.00"}
    assert not a.texts


def test_confusion_matrix_plot_errors():
    with pytest.raises(ValueError, match="square"):
        ev.confusion_matrix_plot(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="3 labels for a 2 x 2"):
        ev.confusion_matrix_plot(np.eye(2), labels=["a", "b", "c"])
    with pytest.raises(ValueError, match="normalize must be"):
        ev.confusion_matrix_plot(np.eye(2), normalize="rows")


def _scores(n=300, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return np.clip(rng.normal(0.35 + 0.3 * y, 0.15), 0, 1), y


def test_pr_curve_is_sklearns_curve_with_the_marked_points():
    s, y = _scores()
    precision, recall, thresholds = precision_recall_curve(y, s)
    k = int(np.searchsorted(thresholds, 0.5))
    fig = ev.pr_curve(torch.as_tensor(precision), torch.as_tensor(recall),
                      marks={"threshold 0.5": (precision[k], recall[k])}, title="PR", prevalence=y.mean())
    ax = fig.axes[0]
    line = ax.lines[0]
    np.testing.assert_array_equal(line.get_xdata(), recall)
    np.testing.assert_array_equal(line.get_ydata(), precision)
    assert line.get_drawstyle() == "steps-post"
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), [[recall[k], precision[k]]])
    assert legend(ax) == ["precision-recall curve",
                          f"threshold 0.5: precision {precision[k]:.3f}, recall {recall[k]:.3f}",
                          f"flagging at random: precision {y.mean():.3f}"]
    assert ax.lines[1].get_ydata()[0] == pytest.approx(y.mean())
    assert ax.get_xlabel().startswith("recall") and ax.get_ylabel().startswith("precision")
    assert ax.get_title() == "PR"
    with pytest.raises(ValueError, match="vectors of one length"):
        ev.pr_curve(precision, recall[:-1])


@pytest.mark.parametrize("threshold", [0.2, 0.5, 0.71])
def test_threshold_frame_counts_and_prints_sklearns_precision_and_recall(threshold):
    s, y = _scores(seed=2)
    flags = (s >= threshold).astype(int)
    (tn, fp), (fn, tp) = confusion_matrix(y, flags, labels=[0, 1])
    fig = ev.threshold_frame(torch.as_tensor(s), torch.as_tensor(y), threshold)
    left, right = fig.axes
    assert _cells(right) == {(0, 0): f"TN {tn}", (0, 1): f"FP {fp}", (1, 0): f"FN {fn}", (1, 1): f"TP {tp}"}
    np.testing.assert_array_equal(right.images[0].get_array(), [[tn, fp], [fn, tp]])
    assert right.images[0].get_clim() == (0, len(s))  # one colour scale in every frame
    assert fig.get_suptitle() == (f"threshold {threshold:g}: precision {precision_score(y, flags):.3f}, "
                                  f"recall {recall_score(y, flags):.3f}")
    edges = np.linspace(s.min(), s.max(), 31)
    bars = left.patches
    heights = np.concatenate([np.histogram(s[y == c], bins=edges)[0] for c in (0, 1)])
    np.testing.assert_array_equal([b.get_height() for b in bars], heights)
    (line,) = [line for line in left.lines if line.get_linestyle() == "--"]
    assert line.get_xdata()[0] == threshold
    assert legend(left) == [f"negatives (y = 0): {int((y == 0).sum())}", f"positives (y = 1): {int((y == 1).sum())}",
                            f"threshold {threshold:g}: flag score ≥ {threshold:g}"]
    assert left.get_xlabel() == "score" and left.get_ylabel() == "number of examples (symlog)"
    assert left.get_yscale() == "symlog"
    assert right.get_xlabel() == "predicted label" and right.get_ylabel() == "true label"
    assert fig.get_layout_engine() is None
    assert renders(fig)


def test_threshold_frame_says_when_precision_is_undefined():
    s, y = _scores(seed=3)
    fig = ev.threshold_frame(s, y, 2.0)  # nothing is flagged: TP + FP = 0
    assert fig.get_suptitle() == "threshold 2: precision undefined (0/0), recall 0.000"
    with pytest.raises(ValueError, match="labels in"):
        ev.threshold_frame(s, y + 1, 0.5)


def _rgb(name):
    return np.array(to_rgb(name))


@pytest.mark.parametrize("splitter", [KFold(5), KFold(4, shuffle=True, random_state=0), StratifiedKFold(3)])
def test_folds_diagram_colours_each_example_by_its_role_in_each_split(splitter):
    y = np.r_[np.zeros(23, int), np.ones(12, int), np.full(6, 2)]
    splits = list(splitter.split(np.zeros((len(y), 1)), y))
    fig = ev.folds_diagram(iter(splits), y=torch.as_tensor(y), title="folds")
    ax = fig.axes[0]
    image = np.asarray(ax.images[0].get_array())
    assert image.shape == (len(splits) + 1, len(y), 3)
    for k, (train, test) in enumerate(splits):
        for i in range(len(y)):
            expected = PALETTE[1] if i in set(test) else PALETTE[0]
            assert i in set(test) or i in set(train)
            np.testing.assert_allclose(image[k, i], _rgb(expected))
    dark2 = matplotlib.colormaps["Dark2"]
    np.testing.assert_allclose(image[-1], [dark2(c)[:3] for c in y])
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"split {k + 1}" for k in range(len(splits))] + ["class"]
    assert legend(ax) == ["test", "train", "class 0", "class 1", "class 2"]
    assert ax.get_xlabel() == "example index" and ax.get_title() == "folds"
    assert renders(fig)


def test_folds_diagram_greys_the_examples_a_split_leaves_out():
    splits = list(ShuffleSplit(3, train_size=0.5, test_size=0.25, random_state=0).split(np.zeros((20, 1))))
    ax = ev.folds_diagram(splits).axes[0]
    image = np.asarray(ax.images[0].get_array())
    assert image.shape[:2] == (3, max(max(tr.max(), te.max()) for tr, te in splits) + 1)
    for k, (train, test) in enumerate(splits):
        for i in range(image.shape[1]):
            role = PALETTE[1] if i in set(test) else PALETTE[0] if i in set(train) else "#e5e5e5"
            np.testing.assert_allclose(image[k, i], _rgb(role))
    assert legend(ax) == ["test", "train", "not used"]


def test_folds_diagram_errors():
    with pytest.raises(ValueError, match="no splits"):
        ev.folds_diagram([])
    with pytest.raises(ValueError, match="both its training and test"):
        ev.folds_diagram([([0, 1, 2], [2, 3])])
    with pytest.raises(ValueError, match="y has 3 labels"):
        ev.folds_diagram([([0, 1, 2], [3, 4])], y=[0, 1, 0])


def test_cv_scores_draws_the_folds_and_mean_plus_minus_the_sample_std():
    table = {"width 16": [0.85, 0.9, 0.88, 0.86, 0.91], "width 64": torch.tensor([0.93, 0.9, 0.95, 0.92, 0.94]),
             "width 256": np.array([0.9, 0.89, 0.93, 0.92, 0.9])}
    fig = ev.cv_scores(table, "cross-validation")
    ax = fig.axes[0]
    dots = [c for c in ax.collections if isinstance(c, matplotlib.collections.PathCollection)]
    assert len(dots) == len(table)
    for i, (dot, values) in enumerate(zip(dots, table.values())):
        np.testing.assert_allclose(dot.get_offsets()[:, 1], np.asarray(values, dtype=float))
        assert np.all(np.abs(dot.get_offsets()[:, 0] - i) < 0.5)
    means = [statistics.mean(np.asarray(v, dtype=float).tolist()) for v in table.values()]
    stds = [statistics.stdev(np.asarray(v, dtype=float).tolist()) for v in table.values()]
    centres = [line for line in ax.lines if line.get_marker() == "s"]
    np.testing.assert_allclose([line.get_ydata()[0] for line in centres], means, rtol=1e-12)
    assert [t.get_text() for t in ax.texts] == [f"{m:.3f} ± {s:.3f}" for m, s in zip(means, stds)]
    for container, m, s in zip(ax.containers, means, stds):
        (bar,) = container.lines[2]
        np.testing.assert_allclose(bar.get_segments()[0][:, 1], [m - s, m + s], rtol=1e-12)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["width 16", "width 64 ★", "width 256"]
    assert ax.get_ylabel() == "accuracy (per fold)" and ax.get_title() == "cross-validation"
    assert legend(ax) == ["fold scores", "mean ± sample std"]
    with pytest.raises(ValueError, match="at least 2 folds"):
        ev.cv_scores({"a": [0.9]})
    with pytest.raises(ValueError, match="dict setting"):
        ev.cv_scores({})


def test_the_module_lists_its_figures():
    # helpers.plot re-exports the names in __all__ (the lead adds the import to helpers/plot/__init__.py)
    assert sorted(ev.__all__) == ["confusion_matrix_plot", "cv_scores", "folds_diagram", "pr_curve", "threshold_frame"]
