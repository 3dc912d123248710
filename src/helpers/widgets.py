"""Explorers: a figure driven by sliders, live in a notebook and still interactive on the static website.

Declare one in one call::

    explorer(render, degree=Slider(range(13), value=3, label="polynomial degree"),
             noise=Slider([0.1, 0.3, 0.6], value=0.3, label="noise σ"))

``render(degree=..., noise=...)`` returns a matplotlib Figure. The explorer renders one frame per
combination of slider values (so keep the grid small: at most ``MAX_FRAMES``) and displays a single output
whose mime bundle holds

- ``application/vnd.jupyter.widget-view+json``: ipywidgets sliders swapping the frames, for a live kernel
  (JupyterLab, Notebook, Colab; ipywidgets 7 or 8);
- ``text/html``: a self-contained player, the same frames as data URIs and a few lines of JavaScript, which
  the website shows (``nb_mime_priority_overrides`` in ``_config.yml`` prefers it there) and which needs no
  kernel;
- ``text/plain``: a one-line description.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import os
from collections.abc import Callable, Iterable
from typing import Any

import matplotlib.pyplot as plt
from PIL import Image  # matplotlib's own dependency

MAX_FRAMES = 80
FRAME_DPI = 80
MEDIAN_CUT = 0  # Pillow's Image.Quantize.MEDIANCUT (that name from Pillow 9.1 on; the number works in every version)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
GRADING_ENV = "HELPERS_GRADING"


class Slider:
    """A slider over a finite list of values (numbers or strings)."""

    def __init__(self, values: Iterable[Any], value: Any = None, label: str = ""):
        self.values = list(values)
        if not self.values:
            raise ValueError("A Slider needs at least one value.")
        if value is None:
            value = self.values[0]
        if value not in self.values:
            raise ValueError(f"The start value {value!r} is not among the slider's values {self.values!r}.")
        self.value = value
        self.label = label

    def index(self) -> int:
        return self.values.index(self.value)


def _format(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def figure_png(fig: plt.Figure, dpi: int = FRAME_DPI) -> bytes:
    """The figure as a palette PNG (at most 256 colours); the figure is closed so it is not also shown inline.

    Every frame of every explorer is stored in its chapter's web page, so frames are kept small: a plot has few
    colours, and reducing it to a palette (median cut, no dithering) makes its PNG about 2.7 times smaller
    than matplotlib's RGBA one, with no visible change (measured on the book's explorers: a pixel's colour
    moves by 0.03 levels of 255 on average)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    image = Image.open(buffer).convert("RGB")  # the saved figure is opaque: its alpha is 255 everywhere
    palette = image.quantize(colors=256, method=MEDIAN_CUT)
    small = io.BytesIO()
    palette.save(small, format="png", optimize=True)
    return small.getvalue()


class Explorer:
    """A figure as a function of slider values; see the module docstring."""

    def __init__(self, render: Callable[..., plt.Figure], sliders: dict[str, Slider], title: str = ""):
        if not sliders:
            raise ValueError("An explorer needs at least one Slider, e.g. explorer(render, k=Slider([1, 2, 3])).")
        count = 1
        for slider in sliders.values():
            count *= len(slider.values)
        if count > MAX_FRAMES:
            raise ValueError(
                f"These sliders make {count} frames; the limit is {MAX_FRAMES}. Offer fewer values per slider."
            )
        self.render, self.sliders, self.title = render, sliders, title
        self._frames: dict[tuple[int, ...], str] | None = None

    def frames(self) -> dict[tuple[int, ...], str]:
        """Base64 PNG for every combination of slider positions, keyed by the positions."""
        if self._frames is None:
            names = list(self.sliders)
            self._frames = {}
            for positions in itertools.product(*(range(len(s.values)) for s in self.sliders.values())):
                values = {name: self.sliders[name].values[i] for name, i in zip(names, positions)}
                fig = self.render(**values)
                if not isinstance(fig, plt.Figure):
                    raise TypeError(f"render must return a matplotlib Figure, got {type(fig).__name__}.")
                self._frames[positions] = base64.b64encode(figure_png(fig)).decode("ascii")
        return self._frames

    def start(self) -> tuple[int, ...]:
        return tuple(s.index() for s in self.sliders.values())

    def _uid(self) -> str:
        digest = hashlib.sha1(json.dumps([self.title, list(self.sliders)]).encode())
        digest.update(self.frames()[self.start()][:2000].encode())
        return "explorer-" + digest.hexdigest()[:10]

    def _names(self) -> list[str]:
        """What each slider is called on the page: its label, or its keyword when it has none."""
        return [slider.label or name for name, slider in self.sliders.items()]

    def alt_text(self, positions: tuple[int, ...]) -> str:
        """The frame's text alternative: the figure (the title) and the setting it shows, e.g.
        "Polynomial fits: polynomial degree = 3, noise σ = 0.3". The player's script writes the same text
        when a slider moves, so a screen reader always describes the frame on screen."""
        shown = [_format(s.values[i]) for s, i in zip(self.sliders.values(), positions)]
        setting = ", ".join(f"{name} = {value}" for name, value in zip(self._names(), shown))
        return f"{self.title or 'Explorer figure'}: {setting}"

    def to_html(self) -> str:
        """The self-contained HTML player: sliders, the start frame as an <img>, every frame as JSON.

        Accessible without a mouse or a screen: each slider has a <label for> with its name, announces its
        value (aria-valuetext, not the position 0, 1, 2 ...) and has an <output for> showing it; the frame's
        alt text names the figure and the current setting; the whole player is a group named by its title."""
        uid, frames = self._uid(), self.frames()
        controls = []
        for k, (name, label) in enumerate(zip(self.sliders, self._names())):
            slider, control = self.sliders[name], f"{uid}-{k}"
            shown = html.escape(_format(slider.value))
            controls.append(
                f"<div class='helpers-explorer-control' style='margin:2px 0'>"
                f"<label for='{control}' style='display:inline-block;min-width:11em'>{html.escape(label)}</label> "
                f"<input type='range' min='0' max='{len(slider.values) - 1}' step='1' value='{slider.index()}' "
                f"id='{control}' data-name='{html.escape(name)}' aria-valuetext='{shown}' "
                f"style='vertical-align:middle;width:16em'> <output for='{control}'>{shown}</output></div>"
            )
        payload = {
            "title": self.title or "Explorer figure",
            "names": self._names(),
            "labels": [[_format(v) for v in s.values] for s in self.sliders.values()],
            "frames": {",".join(map(str, key)): value for key, value in frames.items()},
        }
        # On every move: the frame, its alt text (as alt_text() writes it), each value shown and announced.
        script = (
            "(function(){var root=document.getElementById('UID');"
            "var data=JSON.parse(root.querySelector('script.explorer-data').textContent);"
            "var inputs=root.querySelectorAll('input[type=range]');var img=root.querySelector('img');"
            "function show(){var key=[],setting=[];inputs.forEach(function(input,i){"
            "var shown=data.labels[i][+input.value];key.push(input.value);setting.push(data.names[i]+' = '+shown);"
            "input.setAttribute('aria-valuetext',shown);"
            "root.querySelector('output[for=\"'+input.id+'\"]').textContent=shown;});"
            "img.src='data:image/png;base64,'+data.frames[key.join(',')];"
            "img.alt=data.title+': '+setting.join(', ');}"
            "inputs.forEach(function(input){input.addEventListener('input',show);});})();"
        ).replace("UID", uid)
        data = json.dumps(payload).replace("</", "<\\/")  # a label holding "</script>" cannot end the script
        title = f"<div id='{uid}-title' style='font-weight:600'>{html.escape(self.title)}</div>" if self.title else ""
        group_name = f"aria-labelledby='{uid}-title'" if self.title else "aria-label='Explorer'"
        return (
            f"<div class='helpers-explorer' id='{uid}' role='group' {group_name} style='margin:0.5em 0'>{title}"
            f"<div class='helpers-explorer-controls'>{''.join(controls)}</div>"
            f"<img class='helpers-explorer-frame' alt='{html.escape(self.alt_text(self.start()))}' "
            f"style='max-width:100%' src='data:image/png;base64,{frames[self.start()]}'>"
            f"<script type='application/json' class='explorer-data'>{data}</script>"
            f"<script>{script}</script></div>"
        )

    def widget(self) -> Any:
        """The live ipywidgets version (sliders swapping an Image), or None without ipywidgets."""
        try:
            import ipywidgets as widgets
        except ImportError:  # pragma: no cover - ipywidgets is a dependency
            return None
        frames, names = self.frames(), list(self.sliders)
        image = widgets.Image(value=base64.b64decode(frames[self.start()]), format="png")
        controls = []
        for slider in self.sliders.values():
            options = [(_format(v), i) for i, v in enumerate(slider.values)]
            controls.append(
                widgets.SelectionSlider(
                    options=options,
                    value=slider.index(),
                    description=slider.label,
                    style={"description_width": "initial"},
                    layout=widgets.Layout(width="32em"),
                    continuous_update=True,
                )
            )

        def update(_change: Any = None) -> None:
            image.value = base64.b64decode(frames[tuple(c.value for c in controls)])

        for control in controls:
            control.observe(update, names="value")
        parts = ([widgets.HTML(f"<b>{html.escape(self.title)}</b>")] if self.title else []) + controls + [image]
        box = widgets.VBox(parts)
        box.explorer_names = names
        return box

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        if os.environ.get(GRADING_ENV) == "1":  # the grader needs answers, not figures: skip the frames
            return {"text/plain": f"Explorer({self.title or 'figure'}): not rendered while grading"}
        bundle: dict[str, Any] = {
            "text/plain": f"Explorer({self.title or 'figure'}: {', '.join(self.sliders)})",
            "text/html": self.to_html(),
        }
        box = self.widget()
        if box is not None:
            model_id = getattr(box, "model_id", None) or getattr(box, "_model_id", None)
            if model_id:
                bundle[WIDGET_VIEW] = {"version_major": 2, "version_minor": 0, "model_id": model_id}
        return bundle


def explorer(render: Callable[..., plt.Figure], title: str = "", **sliders: Slider) -> Explorer:
    """Declare an explorer: ``explorer(render, title, name=Slider(values, value, label), ...)``."""
    for name, slider in sliders.items():
        if not isinstance(slider, Slider):
            raise TypeError(f"Slider {name!r} must be a helpers.widgets.Slider, got {type(slider).__name__}.")
    return Explorer(render, dict(sliders), title)
