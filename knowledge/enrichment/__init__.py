"""LLM enrichment: auto keywords and questions, RAPTOR summaries, and the job machinery they
and the knowledge graph share.

- `llm`: one chat-completion call to an OpenAI-compatible service (no Django state);
- `chat_model`: which chat model a dataset uses, or a sentence saying what to configure;
- `session`: calls under a cost limit, with answers kept per dataset so a re-run is free;
- `jobs`: dataset jobs as Celery work (queue, progress, cancel, resume, recovery);
- `keywords`: keywords and questions for a document's chunks, during parsing;
- `clustering` and `raptor`: the RAPTOR tree.
"""
