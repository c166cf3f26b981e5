"""The self-contained HTML report of a run (`run.py report`), its charts as PNG files
(`run.py plot`), and the index page of a directory run (`run.py DIR --report`).

A page needs no network: charts are inline SVG, the style sheet and the one small
script are inline, and links point only at pages beside it.
"""

REPORT_DIR = "runs/report"
"""Where a directory run's `--report` without a folder writes (light: run.py imports it)."""
