"""Charts as PNG bytes, drawn with matplotlib's Agg backend (no display, no pyplot state).

Chinese text uses the Noto Sans CJK SC subset shipped in `bot/assets/fonts` (SIL OFL,
see OFL.txt there): a fresh machine needs no system font. Callers pass every word
already translated; this module only draws. Pictures are 1080 × 1350 px, portrait, with
large type, so they read well on a phone.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

FONT = Path(__file__).parent / "assets" / "fonts" / "NotoSansSC-Regular-subset.otf"
WIDTH, HEIGHT, DPI = 1080, 1350, 150
STAR_COLOURS = {5: "#c62828", 4: "#ef6c00", 3: "#f9a825", 2: "#78909c", 1: "#455a64"}
_ready = threading.Lock()
_done = False


def _setup() -> None:
    """Register the shipped font once per process and make it the first choice."""
    global _done
    with _ready:
        if _done:
            return
        import matplotlib
        from matplotlib import font_manager

        font_manager.fontManager.addfont(str(FONT))
        name = font_manager.FontProperties(fname=str(FONT)).get_name()
        matplotlib.rcParams["font.family"] = [name, "DejaVu Sans"]
        matplotlib.rcParams["axes.unicode_minus"] = False
        _done = True


def _figure():
    _setup()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _style(ax, title: str) -> None:
    ax.set_title(title, fontsize=13)
    ax.tick_params(labelsize=11)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _monthly(ax, title: str, months: Sequence[str], values: Sequence[float], colour, label):
    """A line of values by month ("26-07"), each point labelled."""
    ax.plot([m[2:] for m in months], values, marker="o", color=colour, linewidth=2.5)
    for x, v in enumerate(values):
        ax.annotate(
            label(v), (x, v), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=10
        )
    ax.grid(axis="y", alpha=0.3)
    _style(ax, title)


@dataclass(frozen=True)
class BranchChart:
    title: str
    basics_title: str
    history_title: str
    earned_label: str
    possible_label: str
    basics: Sequence[tuple[str, float, float]]  # (name, earned, possible)
    history: Sequence[tuple[str, float, float]]  # (month, score, max), oldest first


def branch_chart(data: BranchChart) -> bytes:
    """The six basics, earned against possible, and the last months' scores."""
    fig = _figure()
    fig.suptitle(data.title, fontsize=15)
    top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 2]})
    names = [n for n, _, _ in data.basics][::-1]
    earned = [e for _, e, _ in data.basics][::-1]
    possible = [p for _, _, p in data.basics][::-1]
    top.barh(names, possible, color="#e0e0e0", label=data.possible_label)
    top.barh(names, earned, color="#c62828", height=0.5, label=data.earned_label)
    for y, (e, p) in enumerate(zip(earned, possible, strict=True)):
        top.text(p, y, f" {e:g}/{p:g}", va="center", fontsize=11)
    _style(top, data.basics_title)
    top.set_xlim(0, max(possible or [1]) * 1.25)
    top.legend(fontsize=10, loc="lower right")
    scores = [s for _, s, _ in data.history]
    months = [m for m, _, _ in data.history]
    _monthly(bottom, data.history_title, months, scores, "#c62828", lambda v: f"{v:g}")
    bottom.set_ylim(0, max([m for _, _, m in data.history] or [100]) * 1.1)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return _png(fig)


@dataclass(frozen=True)
class CommitteeChart:
    title: str
    stars_title: str
    trend_title: str
    stars: dict[int, int]  # {level: branches}
    trend: Sequence[tuple[str, float]]  # (month, compliance rate 0..1), oldest first


def committee_chart(data: CommitteeChart) -> bytes:
    """Branches per star level, and the compliance rate by month."""
    fig = _figure()
    fig.suptitle(data.title, fontsize=15)
    top, bottom = fig.subplots(2, 1)
    levels = [5, 4, 3, 2, 1]
    counts = [data.stars.get(n, 0) for n in levels]
    bars = top.bar(["★" * n for n in levels], counts, color=[STAR_COLOURS[n] for n in levels])
    top.bar_label(bars, fontsize=11, padding=2)
    _style(top, data.stars_title)
    top.set_ylim(0, max(counts or [1]) * 1.2 + 1)
    rates = [r * 100 for _, r in data.trend]
    months = [m for m, _ in data.trend]
    _monthly(bottom, data.trend_title, months, rates, "#1565c0", lambda v: f"{v:.1f}%")
    bottom.set_ylim(max(0, min(rates or [100]) - 10), 102)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return _png(fig)
