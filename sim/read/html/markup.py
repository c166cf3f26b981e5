"""HTML building blocks of the report pages: escaping, tables, the style sheet, the page
frame and the load check script."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
       color: #1d1d1f; margin: 0 auto; padding: 1.5em 2em 3em; max-width: 1180px; }
h1 { font-size: 1.6em; margin: 0 0 .2em; }
h2 { font-size: 1.2em; margin: 1.8em 0 .5em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
p.lead { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: .4em 0 1em; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f4f4f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.counts th, table.counts td { white-space: nowrap; }
td.evidence { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; white-space: pre-wrap; }
.held, .passed { color: #1b7f3b; font-weight: 600; }
.failed, .FAILED, .crashed, .invalid, .interrupted { color: #b3261e; font-weight: 600; }
.skipped, .not-checked { color: #8a6d00; font-weight: 600; }
.badge { display: inline-block; padding: .1em .6em; border-radius: .8em; color: #fff; }
.badge.passed { background: #1b7f3b; } .badge.failed { background: #b3261e; }
.badge.not-checked { background: #8a6d00; }
figure.chart { margin: 1em 0 2em; }
figure.chart svg { width: 100%; height: auto; display: block; }
figcaption { color: #555; font-size: 13px; margin-top: .3em; }
.columns { display: flex; gap: 2em; flex-wrap: wrap; align-items: flex-start; }
footer { margin-top: 3em; color: #888; font-size: 12px; }
"""

LOAD_CHECK = """
(function () {
  var errors = [];
  window.addEventListener("error", function (e) { errors.push(String(e.message || e)); });
  var consoleError = console.error;
  console.error = function () {
    errors.push(Array.prototype.join.call(arguments, " "));
    consoleError.apply(console, arguments);
  };
  window.addEventListener("load", function () {
    var want = Number(document.body.getAttribute("data-charts") || 0);
    var drawn = Array.prototype.filter.call(
      document.querySelectorAll("figure.chart > svg"),
      function (svg) { var r = svg.getBoundingClientRect(); return r.width > 0 && r.height > 0; }
    ).length;
    var ok = errors.length === 0 && drawn === want;
    document.title += ok ? " [report-ok]"
      : " [report-error: " + drawn + " of " + want + " charts drawn; " + errors.join("; ") + "]";
  });
})();
"""
"""Appends `[report-ok]` to the title once the page has loaded with every chart drawn
(non-empty) and no script error or `console.error`; `[report-error: ...]` says what went
wrong otherwise."""


def esc(value: object) -> str:
    """`value` as HTML text ('-' for None)."""
    return "-" if value is None else escape(str(value))


def cell(value: object, css: str = "") -> str:
    """One `<td>`, with a class when `css` is given; `value` is escaped."""
    return f'<td class="{css}">{esc(value)}</td>' if css else f"<td>{esc(value)}</td>"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], css: str = "") -> str:
    """A table of already-rendered `<td>` cells under escaped `headers`."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(f"<tr>{''.join(r)}</tr>" for r in rows)
    klass = f' class="{css}"' if css else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(title: str, body: str, *, charts: int = 0) -> str:
    """A whole HTML document: `body` (markup) with the style sheet and the load check;
    `charts` is how many chart figures the load check expects."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{STYLE}</style>"
        f"<script>{LOAD_CHECK}</script></head>"
        f'<body data-charts="{charts}">{body}'
        "<footer>Written by Bulwark (docs/report.md); opens without a network.</footer>"
        "</body></html>\n"
    )
