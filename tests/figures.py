"""What the figure tests share: render a figure, read its legend."""

import io

import matplotlib.pyplot as plt


def renders(fig: plt.Figure) -> bool:
    """The figure draws to PNG without an error (True, so a test can write ``assert renders(fig)``)."""
    fig.savefig(io.BytesIO(), format="png", dpi=40)
    return True


def legend(ax: plt.Axes) -> list[str]:
    """The texts of an axes' legend, in order."""
    return [t.get_text() for t in ax.get_legend().get_texts()]
