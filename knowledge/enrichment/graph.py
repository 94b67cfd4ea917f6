"""The knowledge-graph job kind of the enrichment jobs (`jobs.RUNNERS["graphrag"]`)."""

from __future__ import annotations

from typing import Any

from knowledge.enrichment.session import EnrichmentError
from knowledge.models import Dataset
from knowledge.services.graph import GraphBuildError, GraphBuildStopped, graph_build, graph_wipe


def run_graph_job(run: Any) -> None:
    """Build the dataset's graph through the job's chat-model session (`run`, a JobRun): a
    cancelled job stops between two batches (JobRun.check raises), a failure names its chunk or
    step and the provider's message."""

    def should_stop() -> bool:
        run.check()
        return False

    try:
        summary = graph_build(
            dataset=run.dataset,
            asker=run.llm,
            report=lambda fraction, message: run.report(fraction, message),
            should_stop=should_stop,
        )
    except GraphBuildError as exc:
        raise EnrichmentError(exc.message) from exc
    except GraphBuildStopped:
        run.check()
        raise EnrichmentError("The knowledge-graph build stopped.") from None
    run.checkpoint = {
        "chunks": summary.chunks,
        "entities": summary.entities,
        "relations": summary.relations,
        "merged": summary.merged,
        "communities": summary.communities,
    }


def wipe_graph(dataset: Dataset) -> None:
    """What DELETE …/index?type=graph (with wipe) removes."""
    graph_wipe(dataset=dataset)
