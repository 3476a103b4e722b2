#!/usr/bin/env python3
"""Predicted against measured: reads `torus sim --csv` rows and `torus-bench --json` rows, prints a
Markdown table (measured medians out of place — the median of them where several runs measured a
size —, predicted times, their ratio) and writes an SVG of
time against size on log-log axes: a line per algorithm predicted, its measured points as dots.
Standard library only.

    plot-calibration.py PREDICTED.csv MEASURED.json [MEASURED.json ...] --svg OUT.svg [--title TEXT]
"""
import argparse
import csv
import json
import math
import os
import statistics
import sys

COLOURS = {"sixring": "#1f77b4", "ring": "#d62728", "recursive-doubling": "#2ca02c", "rabenseifner": "#9467bd", "swing": "#ff7f0e"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("predicted")
    ap.add_argument("measured", nargs="+")
    ap.add_argument("--svg", required=True)
    ap.add_argument("--title", default="")
    a = ap.parse_args()
    if os.path.exists(a.svg):
        sys.exit(f"plot-calibration: {a.svg} exists; give a new path (nothing is overwritten)")
    predicted = {}
    with open(a.predicted) as f:
        for r in csv.DictReader(f):
            predicted.setdefault(r["algorithm"], {})[int(r["bytes"])] = float(r["time_s"]) * 1e6
    measured = {}
    for path in a.measured:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                r = json.loads(line)
                if not r["in_place"] and r["algorithm"] in predicted:
                    measured.setdefault(r["algorithm"], {}).setdefault(r["bytes"], []).append(r["time_us"])
    # Several runs of a size: the median of their medians.
    measured = {a: {b: statistics.median(ts) for b, ts in d.items()} for a, d in measured.items()}
    if not measured:
        sys.exit("plot-calibration: no measured rows for the predicted algorithms")
    print("| algorithm | bytes | measured µs | predicted µs | predicted / measured |")
    print("|---|---|---|---|---|")
    worst = 0.0
    for alg in predicted:
        for b, t in sorted(measured.get(alg, {}).items()):
            if b in predicted[alg]:
                ratio = predicted[alg][b] / t
                worst = max(worst, abs(ratio - 1))
                print(f"| {alg} | {b} | {t:.1f} | {predicted[alg][b]:.1f} | {ratio:.2f} |")
    print(f"largest deviation: {worst * 100:.0f}%")
    write_svg(a.svg, a.title, predicted, measured)
    print(f"wrote {a.svg}")


def write_svg(path, title, predicted, measured):
    w, h, left, right, top, bottom = 760, 480, 80, 170, 40, 60
    xs = [b for d in predicted.values() for b in d] + [b for d in measured.values() for b in d]
    ys = [t for d in predicted.values() for t in d.values()] + [t for d in measured.values() for t in d.values()]
    x0, x1 = math.log10(min(xs)), math.log10(max(xs))
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    px = lambda b: left + (math.log10(b) - x0) / (x1 - x0) * (w - left - right)
    py = lambda t: h - bottom - (math.log10(t) - y0) / (y1 - y0) * (h - top - bottom)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>']
    for e in range(y0, y1 + 1):
        y = py(10 ** e)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{w - right}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{10 ** e:g} µs</text>')
    b = 1
    while b <= max(xs):
        if b >= min(xs):
            x = px(b)
            out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{h - bottom}" stroke="#eee"/>')
            out.append(f'<text x="{x:.1f}" y="{h - bottom + 16}" text-anchor="middle">{label(b)}</text>')
        b *= 4
    out.append(f'<text x="{(left + w - right) / 2}" y="{h - 15}" text-anchor="middle">bytes (log)</text>')
    for i, alg in enumerate(predicted):
        colour = COLOURS.get(alg, "#555")
        points = " ".join(f"{px(b):.1f},{py(t):.1f}" for b, t in sorted(predicted[alg].items()))
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for b, t in sorted(measured.get(alg, {}).items()):
            out.append(f'<circle cx="{px(b):.1f}" cy="{py(t):.1f}" r="4" fill="{colour}"/>')
        y = top + 20 + 20 * i
        out.append(f'<line x1="{w - right + 15}" y1="{y}" x2="{w - right + 40}" y2="{y}" stroke="{colour}" stroke-width="2"/>')
        out.append(f'<circle cx="{w - right + 27}" cy="{y}" r="4" fill="{colour}"/>')
        out.append(f'<text x="{w - right + 46}" y="{y + 4}">{escape(alg)}</text>')
    out.append(f'<text x="{w - right + 15}" y="{top + 20 + 20 * len(predicted) + 10}" font-size="10">lines: predicted</text>')
    out.append(f'<text x="{w - right + 15}" y="{top + 20 + 20 * len(predicted) + 24}" font-size="10">dots: measured</text>')
    out.append("</svg>")
    with open(path, "x") as f:
        f.write("\n".join(out) + "\n")


def label(b):
    for unit, size in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if b >= size:
            return f"{b // size}{unit}"
    return str(b)


def escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


if __name__ == "__main__":
    main()
