"""Upload and parse the corpus into a dataset through the real HTTP API (reusable by benchmarks).

`build_dataset(base_url, api_key, name, embedding_model=None) -> dataset_id` creates the dataset
(default chunking: naive), uploads the pages that are not there yet, starts parsing those that
are not DONE and polls `GET .../documents` until every page is DONE or FAIL. A complete dataset
of the same name is reused as it is, so a server whose data dir is kept (`server(var_dir)`)
parses the corpus once. `python -m bench.real_docs.build [--model M] [--var-dir DIR]` does just
this step.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.real_docs import corpus
from bench.retrieval_quality.run import Api, Server, launched_server

MODELS = {
    "minilm": "sentence-transformers/all-MiniLM-L6-v2@Builtin",
    "use": "universal-sentence-encoder-multilingual-v3@Builtin",
}
DEFAULT_VAR_DIR = Path("/var/tmp/ragsite-real-docs")  # the postgres user must traverse it
PARSE_TIMEOUT = 3600.0
UPLOAD_BATCH = 10


def dataset_name(model: str | None) -> str:
    """One dataset per embedding model; the name says which."""
    if not model:
        return "real-docs-default"
    short = model.split("@")[0].split("/")[-1]
    return f"real-docs-{short}"


@contextlib.contextmanager
def server(var_dir: Path | None = None) -> Iterator[Server]:
    """RAGSITE_URL + RAGSITE_API_KEY when both are set, else a launched server (data in var_dir)."""
    url, key = os.environ.get("RAGSITE_URL"), os.environ.get("RAGSITE_API_KEY")
    if url and key:
        yield Server(url, key)
        return
    if var_dir is not None:
        var_dir.mkdir(parents=True, exist_ok=True)
        var_dir.chmod(0o755)
    with launched_server(var_dir) as launched:
        yield launched


def list_documents(api: Api, dataset_id: str) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    page = 1
    while True:
        data = api.call(
            "GET", f"/datasets/{dataset_id}/documents", params={"page": page, "page_size": 100}
        )
        docs += data["docs"]
        if len(data["docs"]) < 100:
            return docs
        page += 1


def _find(api: Api, name: str) -> dict[str, Any] | None:
    response = api.http.get(f"{api.base}/datasets", params={"name": name}, timeout=60)
    response.raise_for_status()
    body = response.json()
    if body.get("code") != 0 or not body.get("data"):
        return None  # RAGFlow answers an unknown name with a permission error
    return dict(body["data"][0])


def _same_model(wanted: str, actual: str) -> bool:
    return wanted.split("@")[0] == actual.split("@")[0]


def build_dataset(
    base_url: str,
    api_key: str,
    name: str,
    embedding_model: str | None = None,
    log: Any = print,
    rebuild: bool = False,
) -> str:
    """The id of a dataset holding every corpus page parsed (DONE); raises if any page FAILs.

    With `rebuild`, a dataset of that name is deleted first (e.g. after a change to parsing).
    """
    api = Api(Server(base_url, api_key))
    corpus.documents()  # installs the packages if needed
    uploads = corpus.files()
    existing = _find(api, name)
    if existing is not None and rebuild:
        api.call("DELETE", "/datasets", json={"ids": [existing["id"]]})
        log(f"deleted dataset {name!r}")
        existing = None
    if existing is None:
        body: dict[str, Any] = {"name": name, "chunk_method": "naive"}
        if embedding_model:
            body["embedding_model"] = embedding_model
        existing = api.call("POST", "/datasets", json=body)
        log(f"created dataset {name!r} ({existing['embedding_model']})")
    elif embedding_model and not _same_model(embedding_model, existing["embedding_model"]):
        raise RuntimeError(
            f"dataset {name!r} exists with {existing['embedding_model']}, not {embedding_model}"
        )
    dataset_id = str(existing["id"])

    present = {d["name"] for d in list_documents(api, dataset_id)}
    todo = [up for up in uploads if up not in present]
    for start in range(0, len(todo), UPLOAD_BATCH):
        batch = todo[start : start + UPLOAD_BATCH]
        files = [("file", (up, uploads[up].read_bytes(), "text/html")) for up in batch]
        api.call("POST", f"/datasets/{dataset_id}/documents", files=files)
    if todo:
        log(f"uploaded {len(todo)} pages")

    docs = [d for d in list_documents(api, dataset_id) if d["name"] in uploads]
    idle = [str(d["id"]) for d in docs if d["run"] not in ("DONE", "RUNNING")]
    if idle:
        api.call("POST", f"/datasets/{dataset_id}/chunks", json={"document_ids": idle})
        log(f"parsing {len(idle)} pages")
    started = time.monotonic()
    while True:
        docs = [d for d in list_documents(api, dataset_id) if d["name"] in uploads]
        states = [d["run"] for d in docs]
        if all(s in ("DONE", "FAIL", "CANCEL") for s in states):
            break
        if time.monotonic() - started > PARSE_TIMEOUT:
            raise RuntimeError(f"parsing not finished after {PARSE_TIMEOUT:.0f} s")
        log(f"   {states.count('DONE')}/{len(docs)} parsed, "
            f"{sum(d['chunk_count'] for d in docs)} chunks, "
            f"{time.monotonic() - started:.0f} s")  # fmt: skip
        time.sleep(10)
    failed = {d["name"]: d["progress_msg"][-300:] for d in docs if d["run"] != "DONE"}
    if failed:
        raise RuntimeError(f"pages not parsed in {name!r}: {failed}")
    log(f"dataset {name!r}: {len(docs)} pages, {sum(d['chunk_count'] for d in docs)} chunks")
    return dataset_id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", default="minilm", help=f"embedding model ({', '.join(MODELS)} or a full name)"
    )
    parser.add_argument("--var-dir", type=Path, default=None, help="keep the server's data here")
    parser.add_argument("--rebuild", action="store_true", help="delete the dataset and parse again")
    args = parser.parse_args()
    model = MODELS.get(args.model, args.model)
    started = time.monotonic()
    with server(args.var_dir) as srv:
        build_dataset(srv.url, srv.api_key, dataset_name(model), model, rebuild=args.rebuild)
    print(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
