"""The reports page's charts, drawn by matplotlib as SVG.

Pure functions from figures to SVG bytes, knowing nothing of the database: each takes
plain numbers (seconds, shares, counts) and a language, "id" (default) or "en". Text
stays text in the SVG (`svg.fonttype` "none"): the browser draws it with its own
fonts and nothing is fetched. A chart with nothing to show says so ("Tidak ada
data") instead of failing. Rendering holds a lock: matplotlib's settings are global.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable, Sequence

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402  (after choosing the backend)
from matplotlib import rc_context  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from dispatch.reports.plot_labels import WEEKDAYS, label, number, period_label  # noqa: E402

ON_TIME, LATE, NEUTRAL = "#2e7d32", "#c62828", "#1565c0"
TARGET_COLOUR, P90_COLOUR, GRID = "#b71c1c", "#0d47a1", "#e0e0e0"
STYLE = {
    "svg.fonttype": "none", "svg.hashsalt": "dispatch112", "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial"], "font.size": 9,
    "axes.spines.top": False, "axes.spines.right": False, "axes.titlesize": 11,
    "axes.titleweight": "bold", "axes.titlelocation": "left", "axes.grid": True,
    "grid.color": GRID, "axes.axisbelow": True, "legend.frameon": False,
    "legend.fontsize": 8, "text.usetex": False, "text.parse_math": False,
}
WIDTH = 7.2  # inches: one chart across half a landscape page, or an A4 column
_LOCK = threading.Lock()
MAX_HISTOGRAM_MIN = 60
MAX_BARS = 40


def plain(text: str, limit: int = 40) -> str:
    """A name as a label: control characters (not allowed in SVG) dropped, cut to
    `limit` characters. (Dollars stay dollars: STYLE turns mathematics off.)"""
    text = "".join(char for char in text if char >= " " and char != "\x7f")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _render(draw: Callable[[Figure], None], height: float) -> bytes:
    """A figure drawn by `draw`, as SVG bytes (no date in its metadata)."""
    with _LOCK, rc_context(STYLE):
        figure = Figure(figsize=(WIDTH, height), layout="constrained")
        draw(figure)
        out = io.BytesIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def empty_svg(title: str, lang: str) -> bytes:
    """A chart frame with its title and "Tidak ada data" (or "No data")."""
    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        axes.set_title(plain(title, 80))
        axes.set_axis_off()
        axes.text(0.5, 0.45, label("no_data", lang), ha="center", va="center",
                  fontsize=14, color="#757575", transform=axes.transAxes)
    return _render(draw, 2.4)


def _decimal_axis(axes: Axes, lang: str, which: str = "y", digits: int = 0,
                  suffix: str = "") -> None:
    """Tick labels in the language's numbers (a decimal comma in Indonesian)."""
    formatter = FuncFormatter(lambda value, _: number(value, lang, digits) + suffix)
    (axes.yaxis if which == "y" else axes.xaxis).set_major_formatter(formatter)


def _target_label(target_s: float, lang: str) -> str:
    return label("target", lang, n=number(target_s / 60, lang, 1))


def histogram_svg(seconds: Sequence[float], *, target_s: float, p90_s: float | None,
                  lang: str = "id") -> bytes:
    """How many responses took each whole minute (the bar from M - 1 to M: over M - 1,
    at most M minutes): green up to the target and red past it, a line at the target
    and one at the P90. Responses past an hour are counted in the last bar."""
    title = label("histogram.title", lang)
    if not seconds:
        return empty_svg(title, lang)
    # Minute M holds the responses over M - 1 and at most M minutes, as the fractile
    # table counts them; those past `top` are counted in the last bar.
    minutes = np.asarray(seconds, dtype=float) / 60
    top = int(min(MAX_HISTOGRAM_MIN, max(20, math.ceil(minutes.max()))))
    buckets = np.clip(np.ceil(minutes), 1, top).astype(int)
    counts = np.bincount(buckets, minlength=top + 1)[1:]
    starts = np.arange(top)
    colours = [ON_TIME if start + 1 <= target_s / 60 else LATE for start in starts]

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        axes.bar(starts, counts, width=1, align="edge", color=colours, edgecolor="white",
                 linewidth=0.5)
        axes.axvline(target_s / 60, color=TARGET_COLOUR, linestyle="--", linewidth=1.5,
                     label=_target_label(target_s, lang))
        if p90_s is not None:
            axes.axvline(p90_s / 60, color=P90_COLOUR, linewidth=1.5,
                         label=label("p90_line", lang, n=number(p90_s / 60, lang, 1)))
        axes.set_title(title)
        axes.set_xlabel(label("axis.response_min", lang))
        axes.set_ylabel(label("axis.incidents", lang))
        axes.set_xlim(0, top)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        if minutes.max() > top:
            axes.text(0.99, 0.97, label("histogram.clipped", lang, n=top), ha="right",
                      va="top", fontsize=7, color="#616161", transform=axes.transAxes)
        axes.legend(loc="upper right", bbox_to_anchor=(1, 0.9))
    return _render(draw, 3.2)


def fractile_svg(items: Sequence[dict], *, target_s: float, lang: str = "id") -> bytes:
    """The cumulative fractile curve: for M = 1..30 minutes the share of responses
    within M (`items` as the fractile table: minutes, share), with the 90 % line and
    the target."""
    title = label("fractile.title", lang)
    points = [(item["minutes"], item["share"]) for item in items if item["share"] is not None]
    if not points:
        return empty_svg(title, lang)
    xs, ys = zip(*points, strict=True)

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        axes.step([0, *xs], [0, *(100 * y for y in ys)], where="post", color=NEUTRAL,
                  linewidth=2, label=label("fractile.curve", lang))
        axes.axhline(90, color=P90_COLOUR, linestyle=":", linewidth=1.5, label="90 %")
        axes.axvline(target_s / 60, color=TARGET_COLOUR, linestyle="--", linewidth=1.5,
                     label=_target_label(target_s, lang))
        axes.set_title(title)
        axes.set_xlabel(label("axis.minutes_since_call", lang))
        axes.set_ylabel(label("axis.share_within", lang))
        axes.set_xlim(0, max(xs))
        axes.set_ylim(0, 102)
        _decimal_axis(axes, lang, suffix=" %")
        axes.legend(loc="lower right")
    return _render(draw, 3.2)


CURVE_COLOURS = (NEUTRAL, "#ef6c00", "#6a1b9a", "#00838f")


def fractile_curves_svg(curves: Sequence[tuple[str, Sequence[dict]]], *, target_s: float,
                        lang: str = "id") -> bytes:
    """Several fractile curves on one chart (the planner's scenarios side by side):
    `curves` of (name, items as fractile_svg's), with the 90 % line and the target."""
    title = label("fractile.title", lang)
    drawn = [(name, [(i["minutes"], i["share"]) for i in items if i["share"] is not None])
             for name, items in curves]
    drawn = [(name, points) for name, points in drawn if points]
    if not drawn:
        return empty_svg(title, lang)
    last = max(points[-1][0] for _, points in drawn)

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        for n, (name, points) in enumerate(drawn):
            xs, ys = zip(*points, strict=True)
            axes.step([0, *xs], [0, *(100 * y for y in ys)], where="post",
                      color=CURVE_COLOURS[n % len(CURVE_COLOURS)], linewidth=2,
                      label=plain(name))
        axes.axhline(90, color=P90_COLOUR, linestyle=":", linewidth=1.5, label="90 %")
        axes.axvline(target_s / 60, color=TARGET_COLOUR, linestyle="--", linewidth=1.5,
                     label=_target_label(target_s, lang))
        axes.set_title(title)
        axes.set_xlabel(label("axis.minutes_since_call", lang))
        axes.set_ylabel(label("axis.share_within", lang))
        axes.set_xlim(0, last)
        axes.set_ylim(0, 102)
        _decimal_axis(axes, lang, suffix=" %")
        axes.legend(loc="lower right")
    return _render(draw, 3.2)


def _thin_ticks(axes: Axes, keys: Sequence[str], lang: str, most: int = 14) -> None:
    step = max(1, math.ceil(len(keys) / most))
    positions = range(0, len(keys), step)
    axes.set_xticks(list(positions), [period_label(keys[i], lang) for i in positions],
                    rotation=45 if len(keys) > 6 else 0, ha="right" if len(keys) > 6 else "center")


def trend_svg(rows: Sequence[tuple[str, float | None, float | None]], *, target_s: float,
              title: str, lang: str = "id") -> bytes:
    """Week by week (or month by month): `rows` of (key "2025-W07" or "2025-02", P90
    response seconds, share within target 0-1), drawn as the P90 above (with the target)
    and the share within target below (with the 90 % line)."""
    rows = [row for row in rows if row[1] is not None]
    if not rows:
        return empty_svg(title, lang)
    keys = [row[0] for row in rows]
    xs = np.arange(len(rows))
    p90 = [row[1] / 60 for row in rows]
    share = [100 * (row[2] or 0) for row in rows]

    def draw(figure: Figure) -> None:
        top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 2])
        top.plot(xs, p90, marker="o", color=P90_COLOUR, label=label("p90_response", lang))
        top.axhline(target_s / 60, color=TARGET_COLOUR, linestyle="--",
                    label=_target_label(target_s, lang))
        top.set_ylim(0, max(max(p90), target_s / 60) * 1.15)
        top.set_ylabel(label("axis.p90_min", lang))
        _decimal_axis(top, lang)
        top.set_title(plain(title, 80))
        top.legend(loc="lower right", bbox_to_anchor=(1, 1), ncols=2, borderaxespad=0.2)
        bottom.bar(xs, share, color=[ON_TIME if s >= 90 else LATE for s in share], width=0.7)
        bottom.axhline(90, color=P90_COLOUR, linestyle=":", label="90 %")
        bottom.set_ylim(0, 105)
        bottom.set_ylabel(label("axis.share_target", lang))
        _decimal_axis(bottom, lang, suffix=" %")
        _thin_ticks(bottom, keys, lang)
        bottom.set_xlim(-0.6, len(rows) - 0.4)
    return _render(draw, 4.2)


def bars_svg(rows: Sequence[tuple[str, int, float | None]], *, target_s: float, title: str,
             lang: str = "id") -> bytes:
    """P90 response by group, longest at the top: `rows` of (name, incidents reached,
    P90 seconds); bars red past the target, a line at the target. Groups without a
    reached incident are left out; at most MAX_BARS groups, the slowest."""
    rows = sorted((row for row in rows if row[2] is not None), key=lambda row: row[2],
                  reverse=True)[:MAX_BARS]
    if not rows:
        return empty_svg(title, lang)
    names = [f"{plain(name or label('unknown', lang), 28)} (n={n})" for name, n, _ in rows]
    values = [row[2] / 60 for row in rows]

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        ys = np.arange(len(rows))[::-1]
        colours = [LATE if v > target_s / 60 else ON_TIME for v in values]
        axes.barh(ys, values, color=colours, height=0.65)
        axes.set_yticks(ys, names)
        axes.grid(axis="y", visible=False)
        axes.axvline(target_s / 60, color=TARGET_COLOUR, linestyle="--", zorder=3,
                     label=_target_label(target_s, lang))
        for y, value in zip(ys, values, strict=True):
            axes.text(value, y, " " + number(value, lang, 1), va="center", fontsize=8)
        axes.set_xlim(0, max(max(values), target_s / 60) * 1.18)
        axes.set_xlabel(label("axis.p90_min", lang))
        _decimal_axis(axes, lang, which="x")
        axes.set_title(plain(title, 80))
        axes.legend(loc="lower right", bbox_to_anchor=(1, 1), borderaxespad=0.2)
    return _render(draw, min(9.0, 1.2 + 0.32 * len(rows)))


def heatmap_svg(cells: Sequence[dict], *, title: str, lang: str = "id",
                count_label: str | None = None) -> bytes:
    """Counts by weekday (rows, 1 Monday .. 7 Sunday, named in the language) and hour
    (columns 0-23): `cells` of {"weekday", "hour", "count"}, missing cells count 0.
    Data-agnostic: calls, incidents, anything counted by local weekday and hour."""
    grid = np.zeros((7, 24), dtype=int)
    for cell in cells:
        weekday, hour = int(cell["weekday"]), int(cell["hour"])
        if 1 <= weekday <= 7 and 0 <= hour <= 23:
            grid[weekday - 1, hour] += int(cell["count"])
    if not grid.any():
        return empty_svg(title, lang)

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        image = axes.pcolormesh(np.arange(25) - 0.5, np.arange(8) - 0.5, grid, cmap="YlOrRd",
                                vmin=0, edgecolors="white", linewidth=0.5)
        axes.grid(False)
        axes.invert_yaxis()
        axes.set_yticks(range(7), WEEKDAYS[lang])
        axes.set_xticks(range(24), [f"{h:02d}" for h in range(24)], fontsize=7)
        axes.set_xlabel(label("axis.local_hour", lang))
        axes.set_title(plain(title, 80))
        high = grid.max()
        for (row, column), value in np.ndenumerate(grid):
            if value:
                axes.text(column, row, str(value), ha="center", va="center", fontsize=6,
                          color="white" if value > high * 0.6 else "#212121")
        bar = figure.colorbar(image, ax=axes, fraction=0.03, pad=0.01)
        bar.set_label(count_label or label("axis.count", lang))
        bar.locator = MaxNLocator(integer=True)
        bar.update_ticks()
    return _render(draw, 3.0)
