"""output/demo/report.html: the marts as charts, in one self-contained file.

The numbers are read from the dbt marts (schema `analytics`) and embedded as JSON; a small inline
script draws them as SVG when the page loads. Nothing is fetched: no CDN, no font, no image, and a
Content-Security-Policy that forbids the page any connection, so it opens the same offline.
Each chart element carries its numbers in data-* attributes (data-value, data-label), which the
browser test compares with the marts.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from demo import warehouse

# Lead time buckets: (label, upper bound in hours, exclusive); the last is open-ended.
LEAD_TIME_BUCKETS: tuple[tuple[str, float | None], ...] = (
    ("< 1 day", 24),
    ("1-3 days", 72),
    ("3-7 days", 168),
    ("1-2 weeks", 336),
    ("2-4 weeks", 672),
    ("1-3 months", 2160),
    ("> 3 months", None),
)

QUERIES = {
    "bookings_per_week": """
        select cast(start_week as varchar) as week, event_type_name as series, sum(bookings) as value
        from analytics.weekly_event_type_metrics
        group by start_week, event_type_name
        order by start_week, event_type_name""",
    "host_rates": """
        select
            host_name as label,
            sum(bookings) as bookings,
            sum(canceled) * 1.0 / sum(bookings) as cancellation_rate,
            sum(held_no_shows) * 1.0 / nullif(sum(held_bookings), 0) as no_show_rate
        from analytics.weekly_host_metrics
        group by host_user_uri, host_name
        order by host_name, host_user_uri""",
    "lead_times": """
        select lead_time_hours from analytics.bookings where lead_time_hours is not null""",
    "routing": """
        select routing_form_name as label, submissions, became_booking, converted, canceled,
            rescheduled, conversion_rate
        from analytics.routing_form_conversion
        order by routing_form_name, routing_form_uri""",
    "totals": """
        select
            count(*) as bookings,
            count(*) filter (where fate = 'canceled') as canceled,
            count(*) filter (where fate = 'no_show') as no_shows,
            count(*) filter (where fate = 'rescheduled') as rescheduled
        from analytics.bookings""",
}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    columns = [d[0] for d in cursor.description or []]
    return [{c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in cursor.fetchall()]


def lead_time_histogram(hours: list[float]) -> list[dict[str, Any]]:
    counts = dict.fromkeys((label for label, _ in LEAD_TIME_BUCKETS), 0)
    for value in hours:
        for label, upper in LEAD_TIME_BUCKETS:
            if upper is None or value < upper:
                counts[label] += 1
                break
    return [{"label": label, "value": count} for label, count in counts.items()]


def collect(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Every number the report shows, read from the marts."""
    lead_hours = [float(r["lead_time_hours"]) for r in _rows(con, QUERIES["lead_times"])]
    return {
        "as_of": warehouse.data_as_of(con),
        "totals": _rows(con, QUERIES["totals"])[0],
        "bookings_per_week": _rows(con, QUERIES["bookings_per_week"]),
        "host_rates": _rows(con, QUERIES["host_rates"]),
        "lead_times": lead_time_histogram(lead_hours),
        "routing": _rows(con, QUERIES["routing"]),
    }


def render(data: dict[str, Any], generated_at: str) -> str:
    # "</" cannot end the script element early: JSON escapes it.
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return (
        _TEMPLATE.replace("__DATA__", payload)
        .replace("__SCRIPT__", _SCRIPT)
        .replace("__AS_OF__", html.escape(data["as_of"]))
        .replace("__GENERATED__", html.escape(generated_at))
    )


def write(database: Path, path: Path) -> dict[str, Any]:
    """Read the marts from the DuckDB warehouse, write the report; return its numbers."""
    with duckdb.connect(str(database), read_only=True) as con:
        data = collect(con)
    generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(data, generated), encoding="utf-8")
    return data


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
      content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Calendly bookings report</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 24px; color: #1f2933; background: #fff; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  h2 { font-size: 16px; margin: 28px 0 8px; }
  p.note { color: #52606d; font-size: 13px; margin: 4px 0; }
  .tiles { display: flex; gap: 12px; margin: 16px 0; }
  .tile { border: 1px solid #d9e2ec; border-radius: 6px; padding: 10px 16px; min-width: 120px; }
  .tile .value { font-size: 24px; font-weight: 600; }
  .tile .label { font-size: 12px; color: #52606d; }
  .chart svg { display: block; max-width: 100%; }
  .legend { font-size: 12px; display: flex; flex-wrap: wrap; gap: 10px; margin: 6px 0; }
  .legend span::before { content: ""; display: inline-block; width: 10px; height: 10px;
    margin-right: 4px; background: var(--swatch); }
  svg text { font-size: 11px; fill: #323f4b; }
</style>
</head>
<body>
<h1>Calendly bookings</h1>
<p class="note" id="as-of">Data as of __AS_OF__.</p>
<p class="note">From the dbt marts (bookings, weekly_event_type_metrics, weekly_host_metrics,
routing_form_conversion). Weeks are UTC weeks of the meeting's start. Generated __GENERATED__.</p>
<div class="tiles" id="totals"></div>

<h2>Bookings per week by event type</h2>
<div class="chart" data-chart="bookings-per-week"></div>

<h2>Cancellation and no-show rates by host</h2>
<p class="note">Cancellation rate: canceled (not rescheduled) / bookings. No-show rate: no-shows /
bookings that took place (kept, and the meeting ended before the data's as-of time).</p>
<div class="chart" data-chart="host-rates"></div>

<h2>Lead time: from booking to meeting</h2>
<div class="chart" data-chart="lead-times"></div>

<h2>Routing form conversion</h2>
<p class="note">Submissions, and those whose booking is still alive (a rescheduled booking counts
by the booking it moved to); canceled and rescheduled beside.</p>
<div class="chart" data-chart="routing-conversion"></div>

<script type="application/json" id="report-data">__DATA__</script>
<script>
__SCRIPT__
</script>
</body>
</html>
"""

_SCRIPT = r"""
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const NS = "http://www.w3.org/2000/svg";
  const COLORS = ["#2f80ed", "#f2994a", "#27ae60", "#eb5757", "#9b51e0", "#56ccf2",
                  "#f2c94c", "#219653", "#bb6bd9", "#828282", "#6fcf97", "#2d9cdb",
                  "#b7791f", "#4c51bf", "#c53030", "#2c7a7b"];

  function el(name, attrs, text) {
    const node = document.createElementNS(NS, name);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function svg(width, height) {
    return el("svg", {width: width, height: height, viewBox: `0 0 ${width} ${height}`,
                      role: "img"});
  }
  function pct(x) { return x === null ? "n/a" : (100 * x).toFixed(1) + "%"; }
  function legend(container, names) {
    const box = document.createElement("div");
    box.className = "legend";
    names.forEach((name, i) => {
      const item = document.createElement("span");
      item.style.setProperty("--swatch", COLORS[i % COLORS.length]);
      item.textContent = name;
      box.appendChild(item);
    });
    container.appendChild(box);
  }
  function emptyNote(container) {
    const note = document.createElement("p");
    note.className = "note";
    note.textContent = "No rows in the mart.";
    container.appendChild(note);
  }

  function totals() {
    const box = document.getElementById("totals");
    const t = data.totals;
    [["bookings", "bookings"], ["canceled", "canceled"], ["no_shows", "no-shows"],
     ["rescheduled", "rescheduled"]].forEach(([key, label]) => {
      const tile = document.createElement("div");
      tile.className = "tile";
      tile.dataset.total = key;
      tile.dataset.value = t[key];
      tile.innerHTML = `<div class="value"></div><div class="label"></div>`;
      tile.querySelector(".value").textContent = t[key];
      tile.querySelector(".label").textContent = label;
      box.appendChild(tile);
    });
  }

  function bookingsPerWeek(container) {
    const rows = data.bookings_per_week;
    if (!rows.length) return emptyNote(container);
    const weeks = [...new Set(rows.map(r => r.week))].sort();
    const series = [...new Set(rows.map(r => r.series))].sort();
    const stack = {};
    rows.forEach(r => { stack[r.week] = (stack[r.week] || 0) + r.value; });
    const max = Math.max(...Object.values(stack));
    const left = 36, bottom = 60, top = 10, height = 260;
    const step = Math.max(8, Math.min(28, Math.floor(900 / weeks.length)));
    const width = left + step * weeks.length + 10;
    const chart = svg(width, top + height + bottom);
    chart.appendChild(el("line", {x1: left, y1: top + height, x2: width, y2: top + height,
                                  stroke: "#9aa5b1"}));
    chart.appendChild(el("text", {x: 2, y: top + 10}, String(max)));
    chart.appendChild(el("text", {x: 2, y: top + height}, "0"));
    weeks.forEach((week, w) => {
      let y = top + height;
      series.forEach((name, s) => {
        const row = rows.find(r => r.week === week && r.series === name);
        if (!row || !row.value) return;
        const h = height * row.value / max;
        y -= h;
        const rect = el("rect", {x: left + w * step + 1, y: y, width: step - 2, height: h,
                                 fill: COLORS[s % COLORS.length], "data-week": week,
                                 "data-series": name, "data-value": row.value});
        rect.appendChild(el("title", {}, `${week} ${name}: ${row.value}`));
        chart.appendChild(rect);
      });
      if (w % Math.ceil(weeks.length / 12) === 0) {
        const x = left + w * step + step / 2, yLabel = top + height + 12;
        chart.appendChild(el("text", {x: x, y: yLabel, "text-anchor": "end",
                                      transform: `rotate(-45 ${x} ${yLabel})`}, week));
      }
    });
    container.appendChild(chart);
    legend(container, series);
  }

  function hostRates(container) {
    const rows = data.host_rates;
    if (!rows.length) return emptyNote(container);
    const left = 190, barH = 10, gap = 10, width = 760;
    const rowH = 2 * barH + gap;
    const chart = svg(width, rows.length * rowH + 20);
    const max = Math.max(0.05, ...rows.map(r => Math.max(r.cancellation_rate || 0,
                                                         r.no_show_rate || 0)));
    const scale = (width - left - 70) / max;
    rows.forEach((r, i) => {
      const y = 10 + i * rowH;
      chart.appendChild(el("text", {x: left - 6, y: y + barH + 4, "text-anchor": "end"},
                           `${r.label} (${r.bookings})`));
      [["cancellation_rate", 0], ["no_show_rate", 1]].forEach(([key, k]) => {
        const value = r[key];
        const w = (value || 0) * scale;
        const rect = el("rect", {x: left, y: y + k * barH, width: Math.max(w, 0.5), height: barH - 1,
                                 fill: COLORS[k === 0 ? 3 : 4], "data-host": r.label,
                                 "data-measure": key, "data-value": value === null ? "" : value});
        rect.appendChild(el("title", {}, `${r.label} ${key}: ${pct(value)}`));
        chart.appendChild(rect);
        chart.appendChild(el("text", {x: left + w + 4, y: y + k * barH + barH - 2}, pct(value)));
      });
    });
    container.appendChild(chart);
    legend(container, ["cancellation rate", "no-show rate"].map((n, i) => n));
    container.querySelectorAll(".legend span").forEach((s, i) =>
      s.style.setProperty("--swatch", COLORS[i === 0 ? 3 : 4]));
  }

  function columns(container, rows, options) {
    if (!rows.length) return emptyNote(container);
    const left = 36, top = 16, height = 200, bottom = 40, step = options.step;
    const width = left + step * rows.length + 10;
    const chart = svg(width, top + height + bottom);
    const max = Math.max(1, ...rows.map(r => r.value));
    chart.appendChild(el("line", {x1: left, y1: top + height, x2: width, y2: top + height,
                                  stroke: "#9aa5b1"}));
    rows.forEach((r, i) => {
      const h = height * r.value / max;
      const x = left + i * step;
      const rect = el("rect", {x: x + 6, y: top + height - h, width: step - 12, height: h,
                               fill: options.color, "data-label": r.label, "data-value": r.value});
      rect.appendChild(el("title", {}, `${r.label}: ${r.value}`));
      chart.appendChild(rect);
      chart.appendChild(el("text", {x: x + step / 2, y: top + height - h - 4,
                                    "text-anchor": "middle"}, String(r.value)));
      chart.appendChild(el("text", {x: x + step / 2, y: top + height + 14,
                                    "text-anchor": "middle"}, r.label));
    });
    container.appendChild(chart);
  }

  function routing(container) {
    const rows = data.routing;
    if (!rows.length) return emptyNote(container);
    const left = 160, barH = 14, width = 760, rowH = 2 * barH + 14;
    const chart = svg(width, rows.length * rowH + 20);
    const max = Math.max(1, ...rows.map(r => r.submissions));
    const scale = (width - left - 320) / max;
    rows.forEach((r, i) => {
      const y = 10 + i * rowH;
      chart.appendChild(el("text", {x: left - 6, y: y + barH + 4, "text-anchor": "end"},
                           r.label || "(unnamed form)"));
      [["submissions", 0], ["converted", 1]].forEach(([key, k]) => {
        const rect = el("rect", {x: left, y: y + k * barH, width: Math.max(r[key] * scale, 0.5),
                                 height: barH - 2, fill: COLORS[k === 0 ? 0 : 2],
                                 "data-form": r.label, "data-measure": key, "data-value": r[key]});
        rect.appendChild(el("title", {}, `${r.label} ${key}: ${r[key]}`));
        chart.appendChild(rect);
      });
      chart.appendChild(el("text", {x: left + r.submissions * scale + 6, y: y + barH + 4,
                                    "data-form": r.label, "data-measure": "conversion_rate",
                                    "data-value": r.conversion_rate},
                           `${r.converted}/${r.submissions} still booked (${pct(r.conversion_rate)}), ` +
                           `${r.canceled} canceled, ${r.rescheduled} rescheduled`));
    });
    container.appendChild(chart);
    legend(container, ["submissions", "booking still alive"]);
    container.querySelectorAll(".legend span").forEach((s, i) =>
      s.style.setProperty("--swatch", COLORS[i === 0 ? 0 : 2]));
  }

  const charts = {
    "bookings-per-week": bookingsPerWeek,
    "host-rates": hostRates,
    "lead-times": c => columns(c, data.lead_times, {step: 90, color: COLORS[0]}),
    "routing-conversion": routing,
  };
  totals();
  let rendered = 0;
  document.querySelectorAll("[data-chart]").forEach(container => {
    charts[container.dataset.chart](container);
    if (container.querySelector("svg")) rendered += 1;
  });
  document.body.dataset.chartsRendered = String(rendered);
})();
"""
