"""Charts of reports: a PNG drawn headless with matplotlib, and a self-contained HTML page
(the PNG inline as base64, the table beside it; nothing is fetched from the network).

Labels are zh-CN when a CJK font is installed; without one the PNG falls back to English so
it never shows empty boxes (the HTML page, drawn by the browser, keeps the locale).
"""

from __future__ import annotations

import base64
import html
import io
import warnings
from collections import defaultdict
from functools import lru_cache
from typing import Any

import matplotlib
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from shequn.analytics.report import Report, cell, label

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
)
MAX_SERIES = 8


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def _num(value: Any) -> float:
    return float(value) if value is not None else 0.0


def _series(report: Report) -> dict[str, list[dict[str, Any]]]:
    chart = report.chart
    assert chart is not None
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in report.rows:
        key = str(row.get(chart.series)) if chart.series else ""
        groups[key].append(row)
    return dict(list(groups.items())[:MAX_SERIES])


def _draw(ax: Axes, report: Report, locale: str) -> None:
    chart = report.chart
    assert chart is not None

    def say(key: Any) -> str:
        return label(str(key), locale)

    if chart.kind == "heatmap":
        cohorts = sorted({row[chart.series or ""] for row in report.rows})
        columns = max((int(row[chart.x]) for row in report.rows), default=0) + 1
        grid = [[float("nan")] * columns for _ in cohorts]
        for row in report.rows:
            value = row[chart.y[0]]
            grid[cohorts.index(row[chart.series or ""])][int(row[chart.x])] = _num(value)
        image = ax.imshow(grid, aspect="auto", cmap="Blues", vmin=0, vmax=1)
        ax.set_yticks(range(len(cohorts)), [str(c) for c in cohorts])
        ax.set_xticks(range(columns))
        ax.set_xlabel(say(chart.x))
        for i, line in enumerate(grid):
            for j, value in enumerate(line):
                if value == value:  # not NaN
                    shade = "white" if value > 0.6 else "black"
                    ax.text(
                        j,
                        i,
                        f"{value * 100:.0f}%",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color=shade,
                    )
        ax.figure.colorbar(image, ax=ax)
        return
    if chart.kind == "stacked":
        xs = sorted({row[chart.x] for row in report.rows})
        bottom = [0.0] * len(xs)
        for name, rows in _series(report).items():
            values = {row[chart.x]: _num(row[chart.y[0]]) for row in rows}
            heights = [values.get(x, 0.0) for x in xs]
            ax.bar([str(x) for x in xs], heights, bottom=bottom, label=say(name))
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        ax.legend(fontsize=7)
        return
    if chart.kind == "line":
        for name, rows in _series(report).items():
            for y in chart.y[:1] if chart.series else chart.y:
                xs = [str(row[chart.x]) for row in rows]
                ax.plot(xs, [_num(row[y]) for row in rows], label=name or say(y))
        ax.legend(fontsize=7)
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
        return
    if chart.y == ("rows",):  # how many rows per x
        counts: dict[str, int] = defaultdict(int)
        for row in report.rows:
            counts[say(row[chart.x])] += 1
        ax.bar(list(counts), list(counts.values()))
        return
    series = _series(report)
    width = 0.8 / max(1, len(series) * len(chart.y))
    index = 0
    labels: list[str] = []
    for name, rows in series.items():
        labels = [say(row[chart.x]) for row in rows]
        for y in chart.y:
            xs = [i + index * width for i in range(len(rows))]
            ax.bar(xs, [_num(row[y]) for row in rows], width, label=f"{say(name)} {say(y)}".strip())
            index += 1
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=7)
    if index > 1:
        ax.legend(fontsize=7)


def png(report: Report, locale: str = "zh-CN") -> bytes:
    """The report's chart as PNG bytes."""
    font = cjk_font()
    if font is None:
        locale = "en"
    families = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    style: Any = {
        "font.family": "sans-serif",
        "font.sans-serif": families,
        "axes.unicode_minus": False,
    }
    with warnings.catch_warnings(), matplotlib.rc_context(style):
        # Member names may hold glyphs no installed font has: a box is better than a failure.
        warnings.filterwarnings("ignore", message=r".*[Gg]lyph.*missing.*")
        fig = Figure(figsize=(10, 5.5), dpi=100)
        ax = fig.subplots()
        ax.set_title(f"{report.title(locale)}  {report.period.since} – {report.period.until}")
        if report.chart is not None and report.rows:
            _draw(ax, report, locale)
        else:
            ax.text(0.5, 0.5, label("(none)", locale), ha="center", va="center")
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
    return buffer.getvalue()


def page(report: Report, locale: str = "zh-CN") -> str:
    """A self-contained HTML page: title, range, the chart and the table."""
    image = base64.b64encode(png(report, locale)).decode()
    title = html.escape(report.title(locale))
    head = "".join(f"<th>{html.escape(label(c.key, locale))}</th>" for c in report.columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(cell(row.get(c.key), c.fmt, locale))}</td>" for c in report.columns
        )
        + "</tr>"
        for row in report.rows
    )
    meta = "".join(
        f"<li>{html.escape(label(k, locale))}: {html.escape(str(v))}</li>"
        for k, v in report.meta.items()
        if v is not None
    )
    notes = "".join(f"<p>{html.escape(n)}</p>" for n in report.note_texts(locale))
    lang = "en" if locale == "en" else "zh-CN"
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:2em}}
table{{border-collapse:collapse;font-size:14px}}td,th{{border:1px solid #ddd;padding:4px 8px}}
th{{background:#f4f4f4}}img{{max-width:100%}}</style></head>
<body><h1>{title}</h1>
<p>{report.period.since} – {report.period.until} ({html.escape(report.period.tz.key)})</p>
<ul>{meta}</ul>
{notes}
<img alt="{title}" src="data:image/png;base64,{image}">
<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
</body></html>
"""
