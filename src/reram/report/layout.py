"""Layout checks of a matplotlib figure at save time: no two text boxes intersect, no text runs into another
panel, a legend or an error bar. The report records what it finds per figure; the tests require none."""

from __future__ import annotations

from matplotlib.container import ErrorbarContainer
from matplotlib.legend import Legend
from matplotlib.text import Text
from matplotlib.transforms import Bbox

MIN_AREA = 2.0  # square pixels: edges that merely touch are not an overlap


def _area(a: Bbox, b: Bbox) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w * h if w > 0 and h > 0 else 0.0


def _texts(artist) -> list[Text]:
    return [t for t in artist.findobj(Text) if t.get_visible() and t.get_text().strip()]


def _undrawn_tick_labels(fig) -> set[int]:
    """Tick labels of ticks outside their axis' view: they exist as artists but are not drawn."""
    out: set[int] = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            eps = 1e-9 * max(1.0, abs(hi - lo))
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
                loc = tick.get_loc()
                if loc is None or not (lo - eps <= loc <= hi + eps):
                    out.update((id(tick.label1), id(tick.label2)))
    return out


def layout_problems(fig, drawn: bool = False) -> list[str]:
    """Descriptions of the overlaps in ``fig`` (drawn as it will be saved; ``drawn``: it was just saved at the
    figure's own resolution, so the layout is final and is not drawn again)."""
    if not drawn:
        fig.canvas.draw()
    r = fig.canvas.get_renderer()
    legends = [leg for ax in fig.axes if (leg := ax.get_legend()) is not None] + list(fig.legends)
    in_legend = {id(t) for leg in legends for t in _texts(leg)} | _undrawn_tick_labels(fig)
    texts: list[tuple[Text, object]] = []
    seen: set[int] = set()
    for ax in fig.axes:
        for t in _texts(ax):
            if id(t) not in in_legend and id(t) not in seen:
                seen.add(id(t))
                texts.append((t, ax))
    for t in _texts(fig):
        if id(t) not in in_legend and id(t) not in seen:
            seen.add(id(t))
            texts.append((t, None))
    boxes = [(t.get_text(), t.get_window_extent(r), owner) for t, owner in texts]
    out = []
    for i, (ta, ba, _) in enumerate(boxes):
        for tb, bb, _ in boxes[i + 1 :]:
            if _area(ba, bb) > MIN_AREA:
                out.append(f"text {ta!r} overlaps text {tb!r}")
    for ta, ba, owner in boxes:
        for ax in fig.axes:
            if ax is not owner and owner is not None and ax.get_visible() and ax.axison and \
                    _area(ba, ax.get_window_extent(r)) > MIN_AREA:
                out.append(f"text {ta!r} runs into another panel ({ax.get_title() or 'untitled'})")
        for leg in legends:
            if _area(ba, leg.get_window_extent(r)) > MIN_AREA:
                out.append(f"text {ta!r} is under a legend")
    for ax in fig.axes:
        for c in ax.containers:
            if not isinstance(c, ErrorbarContainer):
                continue
            for coll in c.lines[2]:
                for path in coll.get_paths():
                    seg = Bbox(coll.get_transform().transform(path.vertices)).padded(1)
                    for ta, ba, owner in boxes:
                        if owner is ax and _area(ba, seg) > MIN_AREA:
                            out.append(f"an error bar runs over text {ta!r}")
    assert all(isinstance(leg, Legend) for leg in legends)
    return out
