"""The one shape every analytic returns: titled columns and rows, a chart, and the range.

The API answers it as JSON, `shequn report` prints it as a table, and `charts` draws it; so
a new figure needs only its query and its columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, get_args

from shequn.analytics.source import Period

Format = Literal["int", "pct", "fen", "float", "text", "date"]

ReportName = Literal[
    "funnel",
    "retention",
    "health",
    "roi",
    "levels",
    "gravity",
    "cohorts",
    "persona",
    "kol",
    "moderation",
    "points",
]
"""The reports there are, in the order they are listed."""
REPORTS: tuple[ReportName, ...] = get_args(ReportName)
ChartKind = Literal["funnel", "bar", "line", "heatmap", "stacked"]

# Texts people read: zh-CN first. Labels are looked up by key; unknown keys show as is.
LABELS: dict[str, tuple[str, str]] = {
    # report titles
    "report.funnel": ("AARRR 漏斗", "AARRR funnel"),
    "report.retention": ("留存队列", "Retention cohorts"),
    "report.health": ("群健康度", "Group health"),
    "report.roi": ("渠道 ROI", "Source ROI"),
    "report.levels": ("成员轨道等级与流动", "Member orbit levels and movement"),
    "report.gravity": ("社群引力", "Community gravity"),
    "report.cohorts": ("预设人群", "Preset cohorts"),
    "report.persona": ("用户画像", "Persona"),
    "report.kol": ("KOL 榜单", "KOL board"),
    "report.moderation": ("风控数据", "Moderation figures"),
    "report.points": ("积分经济", "Points economy"),
    # funnel steps
    "joined": ("入群", "joined"),
    "activated": ("激活", "activated"),
    "retained": ("留存", "retained"),
    "revenue": ("付费", "revenue"),
    "referral": ("推荐", "referral"),
    # columns
    "breakdown": ("分组", "breakdown"),
    "step": ("步骤", "step"),
    "count": ("人数", "members"),
    "reached": ("做过的人数（不论顺序）", "did it (any order)"),
    "funnel.ordered": (
        "“人数”按顺序计：每一步须在入群后 {conversion_window_days} 天内、且在上一步之后完成"
        "（激活：入群 {activation_days} 天内发言；留存：入群满 {retained_after_days} 天后再发言）；"
        "“做过的人数”不论顺序，只要在这段时间里做过就算。",
        "“members” counts in order: each step within {conversion_window_days} days of joining "
        "and after the step before it (activated: spoke within {activation_days} days; "
        "retained: spoke again {retained_after_days} days or more after joining). “did it” "
        "counts anyone who did the step in that window, in any order.",
    ),
    "overall_rate": ("总转化率", "overall conversion"),
    "step_rate": ("步骤转化率", "step conversion"),
    "cohort": ("队列", "cohort"),
    "size": ("人数", "size"),
    "offset": ("期数", "period"),
    "retained_count": ("留存人数", "retained"),
    "rate": ("留存率", "rate"),
    "group": ("群", "group"),
    "day": ("日期", "day"),
    "members": ("成员数", "members"),
    "speakers": ("发言人数", "speakers"),
    "messages": ("消息数", "messages"),
    "silent_ratio": ("沉默率", "silent ratio"),
    "joins": ("入群", "joins"),
    "leaves": ("退群", "leaves"),
    "stage": ("阶段", "stage"),
    "source": ("来源渠道", "source"),
    "channel": ("聊天平台", "channel"),
    "cost_fen": ("成本", "cost"),
    "revenue_fen": ("收入", "revenue"),
    "paying": ("付费人数", "paying members"),
    "cost_per_member_fen": ("获客成本", "cost per member"),
    "revenue_per_member_fen": ("人均收入", "revenue per member"),
    "roi": ("ROI", "ROI"),
    "month": ("月份", "month"),
    "level": ("等级", "level"),
    "moved_up": ("升级", "moved up"),
    "moved_down": ("降级", "moved down"),
    "new": ("新进入", "new"),
    "left": ("离开", "left"),
    "same": ("不变", "unchanged"),
    "gravity": ("引力", "gravity"),
    "love": ("热度", "love"),
    "preset": ("人群", "cohort"),
    "member": ("成员", "member"),
    "nickname": ("昵称", "nickname"),
    "field": ("字段", "field"),
    "value": ("取值", "value"),
    "share": ("占比", "share"),
    "rank": ("排名", "rank"),
    "score": ("得分", "score"),
    "answers": ("回答他人", "answers"),
    "received": ("被回复/提及", "replies and mentions received"),
    "consistency": ("活跃天占比", "consistency"),
    "tenure_days": ("入群天数", "tenure (days)"),
    "rule": ("规则", "rule"),
    "violations": ("违规次数", "violations"),
    "reverted": ("已撤销", "reverted"),
    "reverted_share": ("撤销占比", "reverted share"),
    "kind": ("类型", "kind"),
    "issued": ("发放", "issued"),
    "spent": ("消耗", "spent"),
    "net": ("净增", "net"),
    "last_active": ("最近活跃", "last active"),
    "active_days": ("活跃天数", "active days"),
    # stages and levels
    "growing": ("成长期", "growing"),
    "active": ("活跃期", "active"),
    "declining": ("衰退期", "declining"),
    "dead": ("沉寂", "dead"),
    "orbit1": ("轨道1·大使", "Orbit 1 ambassadors"),
    "orbit2": ("轨道2·粉丝", "Orbit 2 fans"),
    "orbit3": ("轨道3·参与者", "Orbit 3 participants"),
    "orbit4": ("轨道4·观察者", "Orbit 4 observers"),
    "new_and_active": ("新进且活跃", "new and active"),
    "recently_inactive": ("近期沉默的核心成员", "recently inactive"),
    "all": ("全部", "all"),
    "(none)": ("（无）", "(none)"),
}


def label(key: str, locale: str = "zh-CN") -> str:
    pair = LABELS.get(key)
    if pair is None:
        return key
    return pair[1] if locale == "en" else pair[0]


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    fmt: Format = "int"


@dataclass(frozen=True, slots=True)
class Chart:
    kind: ChartKind
    x: str
    y: tuple[str, ...]
    series: str | None = None
    """A column whose values split the rows into lines or bars. `y == ("rows",)` counts rows."""


@dataclass(slots=True)
class Report:
    name: str
    period: Period
    columns: list[Column]
    rows: list[dict[str, Any]]
    chart: Chart | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    # What a reader needs to read the figures right: label keys, formatted with `meta`.
    notes: tuple[str, ...] = ()

    def note_texts(self, locale: str = "zh-CN") -> list[str]:
        return [label(key, locale).format(**self.meta) for key in self.notes]

    def title(self, locale: str = "zh-CN") -> str:
        return label(f"report.{self.name}", locale)

    def to_json(self, locale: str = "zh-CN") -> dict[str, Any]:
        return {
            "report": self.name,
            "period": self.period.as_dict(),
            "columns": [{"key": c.key, "format": c.fmt} for c in self.columns],
            "rows": [{k: plain(v) for k, v in row.items()} for row in self.rows],
            "meta": {k: plain(v) for k, v in self.meta.items()},
            "notes": self.note_texts(locale),
        }


def plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def cell(value: Any, fmt: Format, locale: str = "zh-CN") -> str:
    """A value as a person reads it in a table."""
    if value is None:
        return "—"
    if fmt == "pct":
        return f"{float(value) * 100:.1f}%"
    if fmt == "fen":
        return f"¥{int(value) / 100:,.2f}"
    if fmt == "float":
        return f"{float(value):,.2f}"
    if fmt == "int":
        return f"{int(value):,}"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return label(str(value), locale)


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None
