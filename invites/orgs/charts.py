"""The Overview's two charts as SVG geometry computed here, drawn by
``templates/orgs/_chart.html``: no chart library and no script in the browser.

Each :class:`Chart` carries its own text alternative (``title`` and ``desc``, which the
``<svg role="img">`` is labelled by); the page shows the same numbers in a table beside
it. Colours come from the classes (``bar-accepted``, ``way-link``...) in ``app.css``: no
style attribute, so the strict Content-Security-Policy holds.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from invites.orgs.models import JoinedVia
from invites.orgs.overview import Funnel, StaffOverview, Week


@dataclass
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str


@dataclass
class Label:
    x: float
    y: float
    text: str
    css: str = "chart-text"
    anchor: str = "start"


@dataclass
class Chart:
    id: str
    width: int
    height: int
    title: str
    desc: str
    rects: list[Rect] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)


def way_css(way: str | None) -> str:
    return f"way-{way or 'earlier'}"


def funnel_chart(funnel: Funnel) -> Chart:
    """Horizontal bars: Sent, then what became of them, each scaled to the largest."""
    rows = funnel.rows()
    label_width, bar_width, row_height = 80, 200, 22
    chart = Chart(
        id=f"funnel-{funnel.days}", width=label_width + bar_width + 40, height=row_height * len(rows),
        title=f"Invitations of the last {funnel.days} days",
        desc=f"{funnel.sent} sent; " + ", ".join(
            f"{count} {label.lower()}" for status, label, count in rows[1:]
        ) + ".",
    )
    largest = max(count for _, _, count in rows) or 1
    for index, (status, label, count) in enumerate(rows):
        top = index * row_height
        width = round(bar_width * count / largest, 1)
        chart.labels.append(Label(label_width - 6, top + 15, label, anchor="end"))
        chart.rects.append(Rect(label_width, top + 4, max(width, 1), row_height - 8, f"bar bar-{status}"))
        chart.labels.append(Label(label_width + width + 4, top + 15, str(count)))
    return chart


def weeks_chart(weeks: list[Week], ways: list[str | None]) -> Chart:
    """Stacked columns, one a week (oldest on the left), coloured by way in; the first
    week of each month is named under its column."""
    column, gap, plot_height, left = 20, 4, 120, 28
    top = 12
    total = sum(week.total for week in weeks)
    busiest = max(weeks, key=lambda week: week.total)
    chart = Chart(
        id="joins-per-week", width=left + len(weeks) * (column + gap), height=top + plot_height + 24,
        title=f"People who joined, per week, over the last {len(weeks)} weeks",
        desc=(f"{total} joined in all"
              + (f"; the most, {busiest.total}, in the week of {busiest.start:%-d %b}" if total else "")
              + (". By way in: " + ", ".join(
                  f"{JoinedVia.label(way).lower()} {sum(week.by_way.get(way, 0) for week in weeks)}"
                  for way in ways) if ways else "")
              + "."),
    )
    largest = max(busiest.total, 1)
    bottom = top + plot_height
    chart.labels.append(Label(left - 4, top + 4, str(largest), anchor="end"))
    chart.labels.append(Label(left - 4, bottom, "0", anchor="end"))
    chart.rects.append(Rect(left, bottom, len(weeks) * (column + gap), 1, "chart-axis"))
    previous_month, labelled = None, -3
    for index, week in enumerate(weeks):
        x = left + index * (column + gap) + gap / 2
        y: float = bottom
        for way in ways:
            count = week.by_way.get(way, 0)
            if count:
                height = round(plot_height * count / largest, 1)
                y -= height
                chart.rects.append(Rect(x, round(y, 1), column, height, f"bar {way_css(way)}"))
        if week.start.month != previous_month and index - labelled >= 3:  # room for "30 Nov"
            chart.labels.append(Label(x, bottom + 16, f"{week.start:%-d %b}", css="chart-text chart-small"))
            labelled = index
        previous_month = week.start.month
    return chart


@dataclass
class OverviewCharts:
    funnels: list[Chart]
    weeks: Chart


def overview_charts(overview: StaffOverview) -> OverviewCharts:
    """The Overview's charts: one funnel per window, and joins per week by way in."""
    return OverviewCharts(
        funnels=[funnel_chart(funnel) for funnel in overview.funnels],
        weeks=weeks_chart(overview.weeks, overview.ways_seen),
    )
