"""Parsing quality and speed on real PDFs (`make bench-parsing`, or `python -m bench.parsing.run`).

For each PDF of `corpus.SOURCES` (fetched on first use), parse it in-process with the naive
chunk method and default settings, as the worker does, and score the chunks against the
hand-checked `expectations.json`:

- table cells: expected cells found in one HTML table chunk (or the row pieces of one table)
  on the expected page;
- reading order: ordered pairs of passages found in that order in the chunks;
- running text: header/footer strings appearing no more often than allowed, and chunk lines
  that are nothing but a page number;
- positions: chunks that carry boxes;
- pages/min: pages over the best of three parse times (one core, the parse only: no embedding).

`--code DIR` puts another checkout's `knowledge` package first on the path, to score an older
parser on the same files. Results go to stdout and bench/results/parsing-latest.json (or --out).
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
EXPECTATIONS = HERE / "expectations.json"
RESULTS = ROOT / "bench" / "results" / "parsing-latest.json"
_CELL = re.compile(r"<t[dh]>(.*?)</t[dh]>", re.S)
_CAPTION = re.compile(r"<caption>(.*?)</caption>", re.S)


def _norm(text: str) -> str:
    return " ".join(text.split())


def _tables(chunks: list[Any], page: int) -> dict[str, list[str]]:
    """Cells of the HTML tables on `page`, the row pieces of one table joined by caption."""
    found: dict[str, list[str]] = {}
    for index, chunk in enumerate(chunks):
        if not chunk.content.startswith("<table") or page not in chunk.page_numbers:
            continue
        caption = _CAPTION.search(chunk.content)
        key = caption.group(1) if caption else f"#{index}"
        cells = [_norm(html.unescape(c)) for c in _CELL.findall(chunk.content)]
        found.setdefault(key, []).extend(cells)
    return found


def score(name: str, chunks: list[Any], expected: dict[str, Any]) -> dict[str, Any]:
    text = _norm("\n".join(chunk.content for chunk in chunks))
    table_hits = table_total = 0
    for table in expected["tables"]:
        wanted = table["cells"]
        best = 0
        for cells in _tables(chunks, table["page"]).values():
            pool = list(cells)
            hits = 0
            for cell in wanted:
                match = next((c for c in pool if c == cell or c.startswith(cell)), None)
                if match is not None:
                    pool.remove(match)
                    hits += 1
            best = max(best, hits)
        table_hits += best
        table_total += len(wanted)
    order_ok = 0
    for first, second in expected["order"]:
        a, b = text.find(first), text.find(second)
        order_ok += int(a >= 0 and b >= 0 and a < b)
    absent_ok = sum(int(text.count(a["text"]) <= a["max"]) for a in expected["absent"])
    number_lines = sum(
        1
        for chunk in chunks
        if not chunk.content.startswith("<table")
        for line in chunk.content.split("\n")
        if re.fullmatch(r"\s*\d{1,3}\s*", line)
    )
    return {
        "table_cells": [table_hits, table_total],
        "order_pairs": [order_ok, len(expected["order"])],
        "running_text_gone": [absent_ok, len(expected["absent"])],
        "page_number_lines": number_lines,
        "chunks": len(chunks),
        "chunks_with_positions": sum(1 for c in chunks if getattr(c, "positions", None)),
        "html_tables": sum(1 for c in chunks if c.content.startswith("<table")),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", help="a checkout whose knowledge package to benchmark")
    parser.add_argument("--label", default="this checkout")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.code:
        sys.path.insert(0, str(Path(args.code).resolve()))
    from bench.parsing.corpus import fetch, versions
    from knowledge.parsing import parse_document

    expectations = json.loads(EXPECTATIONS.read_text())
    paths = fetch()
    rows: list[dict[str, Any]] = []
    for name, path in paths.items():
        data = path.read_bytes()
        times = []
        for _ in range(3):
            started = time.perf_counter()
            result = parse_document(
                data=data, filename=name, chunk_method="naive", parser_config={}
            )
            times.append(time.perf_counter() - started)
        row: dict[str, Any] = {"file": name, "pages": result.pages, "seconds": min(times)}
        row |= score(name, result.chunks, expectations[name])
        rows.append(row)

    def total(key: str) -> list[int]:
        return [sum(r[key][0] for r in rows), sum(r[key][1] for r in rows)]

    pages = sum(r["pages"] for r in rows)
    seconds = sum(r["seconds"] for r in rows)
    summary: dict[str, Any] = {
        "label": args.label,
        "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load": os.getloadavg()[0],
        "packages": versions(),
        "pages": pages,
        "pages_per_min": round(pages / seconds * 60, 1),
        "table_cells": total("table_cells"),
        "order_pairs": total("order_pairs"),
        "running_text_gone": total("running_text_gone"),
        "page_number_lines": sum(r["page_number_lines"] for r in rows),
        "chunks_with_positions": [
            sum(r["chunks_with_positions"] for r in rows),
            sum(r["chunks"] for r in rows),
        ],
        "files": rows,
    }
    print(f"Parsing benchmark ({args.label}), {summary['when']}, load {summary['load']:.1f}")
    header = f"{'file':20} {'pages':>5} {'s':>6} {'cells':>7} {'order':>6} {'running':>8} {'pgnum':>5} {'pos':>9}"
    print(header)
    for r in rows:
        print(
            f"{r['file']:20} {r['pages']:5} {r['seconds']:6.2f} "
            f"{r['table_cells'][0]:>3}/{r['table_cells'][1]:<3} "
            f"{r['order_pairs'][0]:>2}/{r['order_pairs'][1]:<3} "
            f"{r['running_text_gone'][0]:>3}/{r['running_text_gone'][1]:<4} "
            f"{r['page_number_lines']:5} {r['chunks_with_positions']:>4}/{r['chunks']:<4}"
        )
    print(
        f"total: {pages} pages, {summary['pages_per_min']} pages/min; table cells "
        f"{summary['table_cells'][0]}/{summary['table_cells'][1]}; reading order "
        f"{summary['order_pairs'][0]}/{summary['order_pairs'][1]}; running text gone "
        f"{summary['running_text_gone'][0]}/{summary['running_text_gone'][1]}; "
        f"page-number lines {summary['page_number_lines']}; chunks with positions "
        f"{summary['chunks_with_positions'][0]}/{summary['chunks_with_positions'][1]}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
