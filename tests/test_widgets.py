import base64
import json
import re

import matplotlib.pyplot as plt
import pytest

from helpers.widgets import MAX_FRAMES, WIDGET_VIEW, Slider, explorer

calls = []


def render(a, b):
    calls.append((a, b))
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, a * b])
    ax.set_title(f"a={a} b={b}")
    return fig


def test_one_frame_per_combination_rendered_once():
    calls.clear()
    ex = explorer(render, "demo", a=Slider([1, 2, 3], 2, "a"), b=Slider(["x", "y"], label="b"))
    frames = ex.frames()
    assert sorted(frames) == [(i, j) for i in range(3) for j in range(2)]
    ex.frames()
    assert len(calls) == 6
    assert all(base64.b64decode(f).startswith(b"\x89PNG") for f in frames.values())
    assert plt.get_fignums() == []  # frames are closed, nothing leaks inline


def test_html_player_is_self_contained_and_starts_at_the_start_value():
    ex = explorer(lambda a: render(a, 1), "demo", a=Slider([1, 2, 3], 3, "value of a"))
    page = ex.to_html()
    assert "http" not in page
    assert re.search(r"type='range' min='0' max='2' step='1' value='2'", page)
    payload = json.loads(re.search(r"class='explorer-data'>(.*?)</script>", page).group(1))
    assert payload["labels"] == [["1", "2", "3"]]
    assert f"src='data:image/png;base64,{payload['frames']['2']}'" in page


def test_html_player_names_its_sliders_and_describes_its_frame():
    """Each slider is labelled (<label for>), announces its value rather than its position and has an
    <output for>; the frame's alt text names the figure and the setting shown (the browser test in
    tests/test_site.py checks that it follows the sliders)."""
    ex = explorer(render, "Lines", a=Slider([1, 2, 3], 2, "slope a"), b=Slider([0.5, 4.0], 4.0))
    page = ex.to_html()
    ids = re.findall(r"<input type='range'[^>]* id='([^']+)'", page)
    assert len(ids) == 2 and len(set(ids)) == 2
    for control, name, shown in zip(ids, ["slope a", "b"], ["2", "4"]):
        assert f"<label for='{control}' " in page and f">{name}</label>" in page
        assert f"<output for='{control}'>{shown}</output>" in page
    assert re.findall(r"aria-valuetext='([^']*)'", page) == ["2", "4"]
    assert "alt='Lines: slope a = 2, b = 4'" in page
    assert ex.alt_text((0, 0)) == "Lines: slope a = 1, b = 0.5"
    assert "alt='Explorer figure: a = 1'" in explorer(lambda a: render(a, 1), a=Slider([1, 2])).to_html()


def test_mime_bundle_has_widget_html_and_text():
    bundle = explorer(lambda a: render(a, 1), a=Slider([1, 2]))._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", WIDGET_VIEW}
    assert bundle[WIDGET_VIEW]["version_major"] == 2 and bundle[WIDGET_VIEW]["model_id"]


def test_live_widget_swaps_frames():
    ex = explorer(lambda a: render(a, 1), a=Slider([1, 2, 3], 1))
    box = ex.widget()
    slider, image = box.children[0], box.children[-1]
    first = image.value
    slider.value = 2
    assert image.value != first
    assert image.value == base64.b64decode(ex.frames()[(2,)])


def test_bad_declarations_are_explained():
    with pytest.raises(ValueError, match="not among"):
        Slider([1, 2], value=5)
    with pytest.raises(ValueError, match="at least one Slider"):
        explorer(render)
    with pytest.raises(ValueError, match="limit is"):
        explorer(render, a=Slider(range(MAX_FRAMES)), b=Slider([1, 2]))
    with pytest.raises(TypeError, match="Slider"):
        explorer(render, a=[1, 2])
    with pytest.raises(TypeError, match="matplotlib Figure"):
        explorer(lambda a: None, a=Slider([1])).frames()
