"""The agent runtime: validates RAGFlow agent DSLs and runs them (contract §8.7).

One module per component family (begin, retrieval, llm, message, categorize, switch); `canvas`
walks the graph and `variables` fills `{...}` references.
"""

from agents.runtime.canvas import run_agent
from agents.runtime.dsl import DslError, begin_inputs, prologue_of, validate_dsl
from agents.runtime.state import RunEvent

__all__ = ["DslError", "RunEvent", "begin_inputs", "prologue_of", "run_agent", "validate_dsl"]
