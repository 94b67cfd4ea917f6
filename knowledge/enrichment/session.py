"""Chat-model calls for one job under its cost limits, with answers kept per dataset.

A job asks in batches: the answers already kept for the dataset (an earlier attempt of the same
job, or the same passage parsed before) come from the database and cost nothing; the rest go
to the service a few at a time, and each answer is kept as soon as the batch ends. Hence a job
whose worker died resumes without paying twice for what it had already asked.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings

from knowledge.enrichment.llm import ChatModelConfig, Completion, LLMError, complete
from knowledge.models import LLMAnswer


class EnrichmentError(Exception):
    """A job cannot go on; `message` is a sentence for the job's log (and the user)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BudgetExceeded(EnrichmentError):
    """The job reached its limit of calls or tokens."""


@dataclass(frozen=True)
class Ask:
    """One prompt; `label` names what it is about ("chunk 1a2b…") in error messages."""

    messages: list[dict[str, str]]
    label: str
    max_tokens: int = 512
    temperature: float = 0.2


def _key(model_id: str, ask: Ask) -> str:
    raw = json.dumps([model_id, ask.messages, ask.max_tokens, ask.temperature], ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class LLMSession:
    """Asks `config`'s model on behalf of one job on one dataset."""

    def __init__(
        self,
        config: ChatModelConfig,
        dataset_id: str,
        *,
        calls_used: int = 0,
        tokens_used: int = 0,
        max_calls: int | None = None,
        max_tokens: int | None = None,
        on_use: Callable[[int, int], None] | None = None,
    ) -> None:
        self.config = config
        self.dataset_id = dataset_id
        self.calls_used = calls_used
        self.tokens_used = tokens_used
        self.max_calls = settings.RAGSITE_ENRICHMENT_MAX_CALLS if max_calls is None else max_calls
        self.max_tokens = (
            settings.RAGSITE_ENRICHMENT_MAX_TOKENS if max_tokens is None else max_tokens
        )
        self.kept_answers = 0  # answers reused from the dataset's store
        self._on_use = on_use

    def _check_budget(self) -> None:
        if self.calls_used >= self.max_calls:
            raise BudgetExceeded(
                f"Stopped: this job reached its limit of {self.max_calls} chat-model calls "
                "(RAGSITE_ENRICHMENT_MAX_CALLS). Raise the limit and run the job again; the "
                "answers received so far are kept and not asked again."
            )
        if self.tokens_used >= self.max_tokens:
            raise BudgetExceeded(
                f"Stopped: this job reached its limit of {self.max_tokens} chat-model tokens "
                f"(RAGSITE_ENRICHMENT_MAX_TOKENS; {self.tokens_used} used). Raise the limit and "
                "run the job again; the answers received so far are kept and not asked again."
            )

    def ask_many(self, asks: Sequence[Ask]) -> list[str]:
        """The answers to `asks`, in order. Raises BudgetExceeded or EnrichmentError (naming the
        ask's label and the service's error) after keeping every answer that did arrive."""
        keys = [_key(self.config.model_id, a) for a in asks]
        kept = dict(
            LLMAnswer.objects.filter(dataset_id=self.dataset_id, key__in=set(keys)).values_list(
                "key", "answer"
            )
        )
        self.kept_answers += sum(1 for k in keys if k in kept)
        missing = [i for i, k in enumerate(keys) if k not in kept]
        answers: dict[int, Completion] = {}
        failure: EnrichmentError | None = None
        concurrency = max(1, settings.RAGSITE_ENRICHMENT_CONCURRENCY)
        while missing:
            try:
                self._check_budget()
            except BudgetExceeded as exc:
                failure = exc
                break
            room = self.max_calls - self.calls_used
            batch, missing = missing[: min(concurrency, room)], missing[min(concurrency, room) :]
            with ThreadPoolExecutor(max_workers=len(batch)) as pool:
                futures = [
                    (i, pool.submit(complete, self.config, asks[i].messages,
                                    max_tokens=asks[i].max_tokens,
                                    temperature=asks[i].temperature))
                    for i in batch
                ]  # fmt: skip
                for i, future in futures:
                    try:
                        answers[i] = future.result()
                    except LLMError as exc:
                        if failure is None:
                            failure = EnrichmentError(f"{asks[i].label}: {exc.message}")
            got = [i for i in batch if i in answers]
            self.calls_used += len(got)
            used = sum(answers[i].tokens for i in got)
            self.tokens_used += used
            LLMAnswer.objects.bulk_create(
                [
                    LLMAnswer(
                        dataset_id=self.dataset_id,
                        key=keys[i],
                        answer=answers[i].text,
                        tokens=answers[i].tokens,
                    )
                    for i in got
                ],
                ignore_conflicts=True,
            )
            if self._on_use is not None:
                self._on_use(len(got), used)
            if failure is not None:
                break
        if failure is not None:
            raise failure
        return [kept[k] if k in kept else answers[i].text for i, k in enumerate(keys)]

    def ask(self, ask: Ask) -> str:
        return self.ask_many([ask])[0]
