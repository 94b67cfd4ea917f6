"""A small multi-hop corpus: twelve made-up things, two of each of six kinds, four facts each.

Each fact opens a paragraph of its own (one chunk) that names the thing, followed by two
sentences of its kind's vocabulary. A question names one fact of a thing (the bridge) and asks
for another of the same thing, never naming the thing itself: the answer needs both chunks,
and the two things of a kind look alike to anything that ignores the bridge.
"""

from __future__ import annotations

from dataclasses import dataclass

# kind -> (two filler sentences with {name}), then per thing: name and four (noun, verb, value).
KINDS: dict[str, tuple[str, str]] = {
    "lighthouse": (
        "The {name} tower is painted white and its lantern turns slowly through the night.",
        "Ships passing the {name} reef take bearings from its beam in fog and storm.",
    ),
    "bakery": (
        "Bread from the {name} ovens is sold warm every morning before seven.",
        "The {name} bakers shape the dough by hand and bake it on stone.",
    ),
    "observatory": (
        "The {name} dome opens at dusk so the telescope can follow the stars.",
        "Astronomers at the {name} site log every clear night in a bound ledger.",
    ),
    "vineyard": (
        "The {name} vines grow on terraces above the river and are picked by hand.",
        "Wine from the {name} cellars rests in oak barrels for two winters.",
    ),
    "ferry": (
        "The {name} boats cross the strait several times a day carrying cars and walkers.",
        "Passengers of the {name} line buy tickets on the quay before boarding.",
    ),
    "library": (
        "Readers at the {name} reading room borrow books with a paper card.",
        "The {name} shelves hold maps, letters and old parish registers.",
    ),
}


@dataclass(frozen=True)
class Thing:
    kind: str
    name: str
    facts: tuple[tuple[str, str, str], ...]  # (noun, verb phrase, value)


THINGS: list[Thing] = [
    Thing(
        "lighthouse",
        "Varne Light",
        (
            ("year it was first lit", "was first lit in", "1867"),
            ("keeper", "was kept for thirty years by", "Ada Morrow"),
            ("lamp fuel", "burned", "colza oil"),
            ("foundation", "stands on", "a granite ledge"),
        ),
    ),
    Thing(
        "lighthouse",
        "Skerry Point Light",
        (
            ("year it was first lit", "was first lit in", "1902"),
            ("keeper", "was kept for twenty years by", "Tomas Vell"),
            ("lamp fuel", "burned", "paraffin"),
            ("foundation", "stands on", "a chalk stack"),
        ),
    ),
    Thing(
        "bakery",
        "Millbrook Bakery",
        (
            ("founder", "was founded by", "Greta Lind"),
            ("signature loaf", "is known for", "a rye loaf with caraway"),
            ("oven", "bakes in", "a wood-fired brick oven"),
            ("street", "sits on", "Tanner Street"),
        ),
    ),
    Thing(
        "bakery",
        "Oriel Bakehouse",
        (
            ("founder", "was founded by", "Piet Ansel"),
            ("signature loaf", "is known for", "a spelt loaf with honey"),
            ("oven", "bakes in", "a steam deck oven"),
            ("street", "sits on", "Cooper Lane"),
        ),
    ),
    Thing(
        "observatory",
        "Halvard Observatory",
        (
            ("telescope", "houses", "a 40-inch refractor"),
            ("discovery", "discovered", "the comet Halvard 3"),
            ("altitude", "sits at an altitude of", "2,140 metres"),
            ("first director", "was first directed by", "Ines Carvalho"),
        ),
    ),
    Thing(
        "observatory",
        "Corran Observatory",
        (
            ("telescope", "houses", "a 60-inch reflector"),
            ("discovery", "discovered", "the asteroid Corrania"),
            ("altitude", "sits at an altitude of", "890 metres"),
            ("first director", "was first directed by", "Malik Osei"),
        ),
    ),
    Thing(
        "vineyard",
        "Castel Rue vineyard",
        (
            ("grape", "grows mostly", "Nebbiolo grapes"),
            ("owner", "has been owned since 1950 by", "the Ferrand family"),
            ("soil", "is planted on", "blue marl soil"),
            ("harvest month", "harvests in", "late October"),
        ),
    ),
    Thing(
        "vineyard",
        "Domaine Seil vineyard",
        (
            ("grape", "grows mostly", "Riesling grapes"),
            ("owner", "has been owned since 1971 by", "the Albrecht cooperative"),
            ("soil", "is planted on", "slate soil"),
            ("harvest month", "harvests in", "mid September"),
        ),
    ),
    Thing(
        "ferry",
        "Kestrel ferry line",
        (
            ("route", "runs between", "Ardmore and Holm"),
            ("flagship", "sails the flagship", "MV Petrel"),
            ("crossing time", "makes the crossing in", "forty minutes"),
            ("founding year", "began service in", "1931"),
        ),
    ),
    Thing(
        "ferry",
        "Sound Link ferry line",
        (
            ("route", "runs between", "Brae and Westray"),
            ("flagship", "sails the flagship", "MV Fulmar"),
            ("crossing time", "makes the crossing in", "ninety minutes"),
            ("founding year", "began service in", "1964"),
        ),
    ),
    Thing(
        "library",
        "Marrow Street Library",
        (
            ("benefactor", "was paid for by", "the merchant Elias Marrow"),
            ("rare holding", "keeps", "a 1482 printed psalter"),
            ("architect", "was designed by", "Clara Voss"),
            ("opening year", "opened its doors in", "1889"),
        ),
    ),
    Thing(
        "library",
        "Quayside Library",
        (
            ("benefactor", "was paid for by", "the shipwright Owen Hale"),
            ("rare holding", "keeps", "a hand-drawn chart of the Hebrides"),
            ("architect", "was designed by", "Jonas Ekberg"),
            ("opening year", "opened its doors in", "1912"),
        ),
    ),
]


def paragraphs(thing: Thing) -> list[str]:
    first, second = KINDS[thing.kind]
    return [
        f"The {thing.name} {verb} {value}. {first.format(name=thing.name)} "
        f"{second.format(name=thing.name)}"
        for _noun, verb, value in thing.facts
    ]


def documents() -> dict[str, str]:
    """Three files, each with one thing of four different kinds (the twins live apart)."""
    files: dict[str, list[str]] = {"almanac-a.txt": [], "almanac-b.txt": [], "almanac-c.txt": []}
    names = list(files)
    for index, thing in enumerate(THINGS):
        files[names[(index // 2 + index % 2) % 3]].extend(paragraphs(thing))
    return {name: "\n".join(paras) for name, paras in files.items()}


@dataclass(frozen=True)
class Question:
    text: str
    facts: tuple[str, str]  # the bridge value and the answer value


def questions() -> list[Question]:
    """For each thing, each fact asked through the next one as the bridge (48 questions)."""
    found = []
    for thing in THINGS:
        for i, (_noun, verb, value) in enumerate(thing.facts):
            noun_j, _verb_j, value_j = thing.facts[(i + 1) % len(thing.facts)]
            found.append(
                Question(
                    f"What is the {noun_j} of the {thing.kind} that {verb} {value}?",
                    (value, value_j),
                )
            )
    return found
