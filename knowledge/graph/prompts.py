"""The prompts a knowledge-graph build sends, in the record format RAGFlow's GraphRAG reads.

Extraction answers one record per entity or relation, records separated by `##` and the list
ended by `<|COMPLETE|>`; a record's fields are separated by `<|>`:

    ("entity"<|>NAME<|>TYPE<|>DESCRIPTION)
    ("relationship"<|>SOURCE<|>TARGET<|>DESCRIPTION<|>KEYWORDS<|>STRENGTH)   (light)
    ("relationship"<|>SOURCE<|>TARGET<|>DESCRIPTION<|>STRENGTH)              (general)

"light" is LightRAG's flavour (relations carry keywords, and the text's key words come as a
`content_keywords` record); "general" is Microsoft GraphRAG's. Each prompt starts with a
heading line that names its task (`-Knowledge graph extraction-` …), so logs and a test
service can tell the prompts apart.
"""

from __future__ import annotations

from collections.abc import Sequence

TUPLE_DELIMITER = "<|>"
RECORD_DELIMITER = "##"
COMPLETION_DELIMITER = "<|COMPLETE|>"

EXTRACTION_HEADING = "-Knowledge graph extraction-"
RESOLUTION_HEADING = "-Entity resolution-"
COMMUNITY_HEADING = "-Community report-"
# Marks where the text to read starts and ends in the extraction prompt.
TEXT_START = "-Text-"
TEXT_END = "-End of text-"

_LIGHT = """{heading}
Method: light
Given a text and a list of entity types, identify every entity of those types in the text and
every relationship between the entities you identified. Answer in {language}.

1. For each entity: its name (as written in the text; capitalise English names), its type (one
of: {entity_types}) and a description of it based only on the text.
Format: ("entity"{t}<name>{t}<type>{t}<description>)

2. For each pair of entities that are clearly related: the source entity, the target entity,
why they are related, a few keywords that summarise the relationship, and its strength (a
number from 1 to 10).
Format: ("relationship"{t}<source>{t}<target>{t}<description>{t}<keywords>{t}<strength>)

3. The key words of the whole text.
Format: ("content_keywords"{t}<keywords>)

Return all records as one list separated by {r}, then {c}.

Example:
Text: Ada Lovelace worked with Charles Babbage on the Analytical Engine.
Output:
("entity"{t}ADA LOVELACE{t}person{t}Ada Lovelace worked on the Analytical Engine.){r}
("entity"{t}CHARLES BABBAGE{t}person{t}Charles Babbage worked on the Analytical Engine.){r}
("relationship"{t}ADA LOVELACE{t}CHARLES BABBAGE{t}Ada Lovelace worked with Charles Babbage.\
{t}collaboration{t}8){r}
("content_keywords"{t}computing history){c}

Entity types: {entity_types}
{start}
{text}
{end}
Output:"""

_GENERAL = """{heading}
Method: general
Given a text and a list of entity types, identify all entities of those types in the text and
all relationships among them. Answer in {language}.

1. Identify every entity: its name (capitalised), its type (one of: {entity_types}) and a
comprehensive description of its attributes and activities, using only the text.
Format each entity as ("entity"{t}<name>{t}<type>{t}<description>)

2. Among those entities, identify each pair (source, target) that is clearly related: explain
the relationship and give its strength as a number from 1 to 10.
Format each relationship as ("relationship"{t}<source>{t}<target>{t}<description>{t}<strength>)

3. Return the records as one list separated by {r}. When finished, output {c}.

Entity types: {entity_types}
{start}
{text}
{end}
Output:"""

_RESOLUTION = """{heading}
Entity type: {entity_type}
Decide for each question whether the two names denote the same {entity_type}. Look at what
matters (the name itself, abbreviations, plurals, spelling) and ignore noise.

{questions}

Answer every question on its own line, exactly as:
For Question <i>, <|><i><|>, &&yes&& or &&no&&, because <reason>
"""

_COMMUNITY = """{heading}
You write a report on one community of a knowledge graph: the entities below and the
relationships between them. Answer in {language}.

Return one JSON object, nothing else:
{{"title": "<a short name for the community naming its key entities>",
  "summary": "<what the community is about and how its entities relate>",
  "rating": <impact from 0 to 10>,
  "rating_explanation": "<one sentence>",
  "findings": [{{"summary": "<one insight>", "explanation": "<its grounds, from the data>"}}]}}

-Entities-
id,entity,description
{entities}

-Relationships-
id,source,target,description
{relations}
"""


def extraction_prompt(
    text: str, *, method: str, entity_types: Sequence[str], language: str = "English"
) -> str:
    """The prompt that asks for `text`'s entities and relations."""
    template = _GENERAL if method == "general" else _LIGHT
    return template.format(
        heading=EXTRACTION_HEADING,
        language=language or "English",
        entity_types=", ".join(entity_types),
        t=TUPLE_DELIMITER,
        r=RECORD_DELIMITER,
        c=COMPLETION_DELIMITER,
        start=TEXT_START,
        end=TEXT_END,
        text=text,
    )


def resolution_prompt(entity_type: str, pairs: Sequence[tuple[str, str]]) -> str:
    """The prompt that asks which of `pairs` (names of one type) are the same entity."""
    questions = "\n".join(
        f"Question {i}: {entity_type} A is {a}; {entity_type} B is {b}"
        for i, (a, b) in enumerate(pairs, start=1)
    )
    return _RESOLUTION.format(
        heading=RESOLUTION_HEADING, entity_type=entity_type, questions=questions
    )


def _csv_field(value: str) -> str:
    value = " ".join(value.split())
    return '"' + value.replace('"', '""') + '"' if ("," in value or '"' in value) else value


def community_prompt(
    entities: Sequence[tuple[str, str]],
    relations: Sequence[tuple[str, str, str]],
    *,
    language: str = "English",
) -> str:
    """The prompt for one community's report: (name, description) entities and
    (source, target, description) relations."""
    entity_rows = "\n".join(
        f"{i},{_csv_field(name)},{_csv_field(desc)}" for i, (name, desc) in enumerate(entities)
    )
    relation_rows = "\n".join(
        f"{i},{_csv_field(s)},{_csv_field(t)},{_csv_field(d)}"
        for i, (s, t, d) in enumerate(relations)
    )
    return _COMMUNITY.format(
        heading=COMMUNITY_HEADING,
        language=language or "English",
        entities=entity_rows,
        relations=relation_rows,
    )
