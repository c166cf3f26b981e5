"""The report's charts: the data read from the event database (`data`), one module per
chart drawing a matplotlib figure from it, and the output as inline SVG or PNG (`style`).

`CHARTS` lists every chart once, in page order; the HTML report and `run.py plot` both
draw from it, so the page and the PNG files always show the same charts.
"""
