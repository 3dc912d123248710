"""Figures of chapter 11's model evaluation: the confusion matrix as a heatmap, the precision-recall curve, the
threshold explorer's frame, the folds of a cross-validation, and cross-validated scores per setting.

A classifier that flags x as positive when its score s(x) >= t has, at threshold t, the counts TP, FP, FN, TN
(the 2 x 2 confusion matrix, true labels in rows, predictions in columns, as sklearn's), and

    precision = TP / (TP + FP)   (of the flagged, the fraction truly positive)
    recall    = TP / (TP + FN)   (of the positives, the fraction flagged)

Raising t flags fewer: precision tends to rise, recall falls (``threshold_frame``, ``pr_curve``). k-fold
cross-validation splits the n examples into k test folds; each example is tested once and trained on k - 1 times
(``folds_diagram``); the k fold scores of a setting scatter around their mean (``cv_scores``).

Every name in ``__all__`` is re-exported by ``helpers.plot``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.patches import Patch

from helpers.plot import PALETTE, _numpy, panels

__all__: list[str] = ["confusion_matrix_plot", "cv_scores", "folds_diagram", "pr_curve", "threshold_frame"]

TRAIN_COLOR, TEST_COLOR, UNUSED_COLOR = PALETTE[0], PALETTE[1], "#e5e5e5"
CLASS_CMAP = plt.get_cmap("Dark2")  # 8 colours, none the blue or red of train / test
NORMALIZE = {True: "true", "true": "true", "pred": "pred", "all": "all"}


def _matrix(name: str, cm) -> np.ndarray:
    m = np.asarray(_numpy(cm), dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] == 0:
        raise ValueError(f"{name}: expected a square (K, K) confusion matrix (true labels in rows), got shape "
                         f"{m.shape}.")
    return m


def _heatmap(ax: plt.Axes, values: np.ndarray, texts: list[list[str]], labels: Sequence, vmax: float,
             colorbar_label: str | None) -> None:
    """values (K, K) as a Blues heatmap from 0 to vmax, texts[i][j] written in cell (i, j), white on dark cells."""
    k = len(values)
    image = ax.imshow(values, cmap="Blues", vmin=0.0, vmax=vmax if vmax > 0 else 1.0, interpolation="nearest")
    for i in range(k):
        for j in range(k):
            dark = values[i, j] > 0.5 * vmax
            ax.text(j, i, texts[i][j], ha="center", va="center", fontsize=10 if k <= 10 else 7,
                    color="white" if dark else "black")
    names = [str(label) for label in labels]
    ax.set(xticks=range(k), yticks=range(k), xticklabels=names, yticklabels=names, xlabel="predicted label",
           ylabel="true label")
    ax.grid(False)
    if colorbar_label is not None:
        ax.figure.colorbar(image, ax=ax, label=colorbar_label)


def confusion_matrix_plot(cm, labels: Sequence | None = None, title: str = "", normalize: bool | str = False,
                          ax: plt.Axes | None = None) -> plt.Figure:
    """The confusion matrix ``cm`` (K, K), true labels in rows and predicted labels in columns (sklearn's and
    ``helpers.stats.confusion_matrix``'s convention), as a heatmap with each cell's value written in it.

    normalize: False draws cm as given (integer counts written as integers, other values with 2 decimals);
    True or "true" divides each row by its sum (each true class's fractions: the diagonal is the recall per class),
    "pred" each column (the diagonal is the precision per class), "all" the total; a zero row or column stays 0.
    labels: the K class names (default 0 .. K-1). Returns the figure of ``ax`` (a new one when None).
    """
    m = _matrix("confusion_matrix_plot", cm)
    k = len(m)
    labels = list(range(k)) if labels is None else list(labels)
    if len(labels) != k:
        raise ValueError(f"confusion_matrix_plot: {len(labels)} labels for a {k} x {k} matrix.")
    if normalize is not False and normalize not in NORMALIZE:
        raise ValueError(f"confusion_matrix_plot: normalize must be False, True, 'true', 'pred' or 'all', got "
                         f"{normalize!r}.")
    if normalize is False:
        values = m
        integer = np.all(m == np.round(m))
        texts = [[f"{v:.0f}" if integer else f"{v:.2f}" for v in row] for row in m]
        bar = "count" if integer else "value"
    else:
        how = NORMALIZE[normalize]
        sums = {"true": m.sum(axis=1, keepdims=True), "pred": m.sum(axis=0, keepdims=True), "all": m.sum()}[how]
        values = np.divide(m, sums, out=np.zeros_like(m), where=np.broadcast_to(sums, m.shape) != 0)
        texts = [[f"{v:.2f}" for v in row] for row in values]
        bar = {"true": "fraction of the true class", "pred": "fraction of the predicted class",
               "all": "fraction of all examples"}[how]
    if ax is None:
        _, ax = plt.subplots(figsize=(4.6 + 0.25 * max(k - 4, 0), 3.8 + 0.25 * max(k - 4, 0)))
    _heatmap(ax, values, texts, labels, float(values.max()), bar)
    ax.set_title(title)
    return ax.figure


def pr_curve(precision, recall, marks: dict | None = None, title: str = "", prevalence: float | None = None,
             ax: plt.Axes | None = None) -> plt.Figure:
    """The precision-recall curve: precision against recall as a step line (``precision_recall_curve``'s output,
    sklearn's drawing). marks: label -> (precision, recall) of single operating points (e.g. the thresholds 0.5
    and the one chosen), drawn as dots with their values in the legend. prevalence: the positive fraction, the
    precision of a classifier that flags at random, drawn as a dotted line."""
    p, r = (np.asarray(_numpy(v), dtype=np.float64) for v in (precision, recall))
    if p.ndim != 1 or p.shape != r.shape or len(p) == 0:
        raise ValueError(f"pr_curve: precision and recall must be vectors of one length, got shapes {p.shape} and "
                         f"{r.shape}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(5.4, 4.2))
    ax.plot(r, p, drawstyle="steps-post", color=PALETTE[0], label="precision-recall curve")
    for k, (label, (mp, mr)) in enumerate((marks or {}).items()):
        mp, mr = float(_numpy(mp)), float(_numpy(mr))
        ax.scatter([mr], [mp], s=60, zorder=3, color=PALETTE[(k + 1) % len(PALETTE)], edgecolors="black",
                   label=f"{label}: precision {mp:.3f}, recall {mr:.3f}")
    if prevalence is not None:
        ax.axhline(float(prevalence), color="grey", linestyle=":", linewidth=1.5,
                   label=f"flagging at random: precision {float(prevalence):.3f}")
    ax.set(xlabel="recall (fraction of the positives flagged)", ylabel="precision (fraction of the flagged positive)",
           xlim=(0, 1.02), ylim=(0, 1.02), title=title)
    ax.legend(loc="lower left", fontsize=8)
    return ax.figure


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "undefined (0/0)"


def threshold_frame(scores, y_true, threshold: float, bins: int = 30) -> plt.Figure:
    """The threshold explorer's frame, a fixed layout. Left: histograms of the scores of the negatives (y = 0) and
    the positives (y = 1) on the same bins, and the threshold; an example is flagged positive when its score is
    >= threshold. Right: the 2 x 2 confusion counts at that threshold (rows: true 0, 1; columns: predicted 0, 1;
    colours on one scale, 0 to the number of examples, in every frame), titled with precision and recall.

    scores: (n,) real scores (e.g. predicted probabilities of class 1); y_true: (n,) labels in {0, 1}.
    """
    s = np.asarray(_numpy(scores), dtype=np.float64).ravel()
    y = np.asarray(_numpy(y_true)).ravel()
    if len(s) == 0 or y.shape != s.shape or not np.all(np.isin(y, (0, 1))):
        raise ValueError(f"threshold_frame: scores (n,) and y_true (n,) labels in {{0, 1}}, got shapes "
                         f"{s.shape} and {y.shape}.")
    t = float(threshold)
    flagged = s >= t
    tp, fp = int(np.sum(flagged & (y == 1))), int(np.sum(flagged & (y == 0)))
    fn, tn = int(np.sum(~flagged & (y == 1))), int(np.sum(~flagged & (y == 0)))
    fig, (left, right) = panels(2, figsize=(9.0, 3.6))
    fig.subplots_adjust(left=0.07, right=0.97, bottom=0.15, top=0.8, wspace=0.35)
    edges = np.linspace(s.min(), s.max() if s.max() > s.min() else s.min() + 1, bins + 1)
    left.hist(s[y == 0], bins=edges, color=PALETTE[0], alpha=0.6, label=f"negatives (y = 0): {int(np.sum(y == 0))}")
    left.hist(s[y == 1], bins=edges, color=PALETTE[1], alpha=0.6, label=f"positives (y = 1): {int(np.sum(y == 1))}")
    left.axvline(t, color="black", linestyle="--", linewidth=1.5, label=f"threshold {t:g}: flag score ≥ {t:g}")
    top = max(np.histogram(s[y == c], bins=edges)[0].max(initial=0) for c in (0, 1))
    left.set_yscale("symlog", linthresh=1)  # counts of 1-3 stay visible beside bars of hundreds
    left.set(xlabel="score", ylabel="number of examples (symlog)", title="scores by true class",
             ylim=(0, 12 * top + 1))
    left.legend(loc="upper left", fontsize=8, ncols=2, framealpha=1)  # above the bars: the headroom keeps it off them
    counts = np.array([[tn, fp], [fn, tp]], dtype=np.float64)
    texts = [[f"TN {tn}", f"FP {fp}"], [f"FN {fn}", f"TP {tp}"]]
    _heatmap(right, counts, texts, [0, 1], float(len(s)), None)
    right.set_title("confusion counts")
    fig.suptitle(f"threshold {t:g}: precision {_ratio(tp, tp + fp)}, recall {_ratio(tp, tp + fn)}", fontsize=12)
    return fig


def folds_diagram(splits: Iterable, y=None, title: str = "") -> plt.Figure:
    """The folds of a cross-validation, one row per split, like sklearn's cross-validation gallery: each column an
    example (by index), its cell coloured test (red) or train (blue) in that split, grey when it is in neither.
    splits: (train_index, test_index) pairs, e.g. ``list(KFold(5).split(X))``; y: (n,) class labels, drawn as a
    last row in Dark2 class colours (where a stratified split keeps the class proportions per fold)."""
    pairs = [(np.asarray(_numpy(tr), dtype=np.int64).ravel(), np.asarray(_numpy(te), dtype=np.int64).ravel())
             for tr, te in splits]
    if not pairs:
        raise ValueError("folds_diagram: no splits; pass e.g. list(KFold(5).split(X)).")
    labels = None if y is None else np.asarray(_numpy(y)).ravel()
    n = max(int(max(tr.max(initial=-1), te.max(initial=-1))) for tr, te in pairs) + 1
    if labels is not None:
        if len(labels) < n:
            raise ValueError(f"folds_diagram: y has {len(labels)} labels, the splits index {n} examples.")
        n = len(labels)
    rows = len(pairs) + (labels is not None)
    image = np.empty((rows, n, 3))
    image[:] = to_rgb(UNUSED_COLOR)
    used = np.zeros((len(pairs), n), dtype=bool)
    for k, (tr, te) in enumerate(pairs):
        if np.intersect1d(tr, te).size:
            raise ValueError(f"folds_diagram: split {k} has examples in both its training and test indices.")
        image[k, tr] = to_rgb(TRAIN_COLOR)
        image[k, te] = to_rgb(TEST_COLOR)
        used[k, tr] = used[k, te] = True
    handles = [Patch(color=TEST_COLOR, label="test"), Patch(color=TRAIN_COLOR, label="train")]
    if not used.all():
        handles.append(Patch(color=UNUSED_COLOR, label="not used"))
    names = [f"split {k + 1}" for k in range(len(pairs))]
    if labels is not None:
        classes = np.unique(labels)
        codes = np.searchsorted(classes, labels)
        image[-1] = CLASS_CMAP(codes % 8)[:, :3]
        handles += [Patch(color=CLASS_CMAP(i % 8), label=f"class {c}") for i, c in enumerate(classes)]
        names.append("class")
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * rows + 1.4))
    ax.imshow(image, aspect="auto", interpolation="nearest", extent=(-0.5, n - 0.5, rows - 0.5, -0.5))
    ax.set(yticks=range(rows), yticklabels=names, xlabel="example index", title=title)
    ax.grid(False)
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return fig


def cv_scores(scores_by_setting: dict, title: str = "", ylabel: str = "accuracy") -> plt.Figure:
    """Cross-validated scores per setting (``scores_by_setting``: setting -> (k,) fold scores, e.g. from
    ``cross_val_score``): one dot per fold, and the mean with an error bar of +- one sample standard deviation
    (divisor k - 1), written above it; the setting with the highest mean is starred in its tick label."""
    if not isinstance(scores_by_setting, dict) or not scores_by_setting:
        raise ValueError("cv_scores: pass a dict setting -> fold scores, e.g. {'width 16': cross_val_score(...)}.")
    scores = {str(name): np.asarray(_numpy(v), dtype=np.float64).ravel() for name, v in scores_by_setting.items()}
    for name, v in scores.items():
        if len(v) < 2:
            raise ValueError(f"cv_scores: {name!r} has {len(v)} score(s); a spread needs at least 2 folds.")
    means = {name: v.mean() for name, v in scores.items()}
    best = max(means, key=means.get)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(scores) + 2.0), 4.0))
    for i, v in enumerate(scores.values()):
        std = v.std(ddof=1)
        ax.scatter(np.full(len(v), i - 0.12), v, s=18, color=PALETTE[0], alpha=0.7,
                   label="fold scores" if i == 0 else "_nolegend_")
        ax.errorbar([i + 0.12], [v.mean()], yerr=[std], fmt="s", color="black", capsize=4,
                    label="mean ± sample std" if i == 0 else "_nolegend_")
        ax.annotate(f"{v.mean():.3f} ± {std:.3f}", (i + 0.12, v.mean() + std), textcoords="offset points",
                    xytext=(0, 4), ha="center", fontsize=8)
    ax.set_xticks(range(len(scores)), [f"{name} ★" if name == best else name for name in scores])
    ax.set(xlabel="setting", ylabel=f"{ylabel} (per fold)", title=title, xlim=(-0.6, len(scores) - 0.4))
    ax.legend(loc="best", fontsize=8)
    return fig
