"""Chat completion latency at 10k chunks: `python -m bench.chat_latency` (`make bench-chat`).

Starts ragsite with its launcher in a temp dir, bulk-loads 10k passages with real MiniLM vectors
(50 of them "fact" passages) into one dataset, and creates two chats on it: one with the
built-in extractive model, one with a local OpenAI-protocol model the benchmark serves itself
(fixed per-token delay). For 50 questions about the facts it measures time to the first
streamed token and to the end of the stream, plus 10 non-streamed completions; then times
POST /api/v1/retrieval alone and, in-process, the steps of `answer_stream` (breakdown.py) to
show where the time goes. Prints tables and writes results-latest.json.
"""
