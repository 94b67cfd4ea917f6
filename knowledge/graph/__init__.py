"""Knowledge graphs (RAGFlow's GraphRAG "light" and "general"), the parts without the ORM.

- `prompts`: what the chat model is asked (extraction, entity resolution, community reports);
- `extraction`: its tuple-delimited records parsed into entities and relations, merged;
- `resolution`: candidate pairs of entities that may be one, the model's answers, merging;
- `communities`: Louvain communities of the graph and their reports;
- `context`: the one knowledge-graph chunk retrieval puts first.

The ORM side (models in `knowledge/models_graph.py`, the build job and retrieval) is in
`knowledge/services/graph.py`; entity vector search in `knowledge/retrieval.py`.
"""
