"""50 "fact" passages with distinctive answers, and one question about each.

Ten templates, five invented subjects each (seeded): a made-up name such as "Quorvane" makes the
passage easy to find and the answer (a name, a number, a colour…) easy to check in the reply.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

SEED = 20250105
_ONSETS = ("Qu", "Z", "Vr", "Th", "Kl", "Br", "Sn", "Gl", "Pr", "Dr", "Fl", "Sk", "Tw", "Wh")
_VOWELS = ("o", "a", "e", "i", "u", "ae", "ou", "y")
_CODAS = ("rv", "lb", "nd", "sk", "mm", "rth", "lk", "x", "nt", "zz", "rg", "ck")
_ENDS = ("ane", "ock", "ith", "ora", "ulm", "esk", "arn", "ive", "otte", "ax")
_COLOURS = ("crimson", "teal", "saffron", "violet", "olive", "ochre", "turquoise", "magenta")
_ANIMALS = ("badger", "heron", "otter", "lynx", "tortoise", "pelican", "ferret", "ibex")
_INGREDIENTS = ("smoked juniper", "pickled quince", "black cardamom", "roasted chestnut",
                "sea buckthorn", "fermented plum", "wild fennel", "burnt honey")  # fmt: skip
_FILLER = (
    "Visitors often ask about it at the information desk.",
    "Local historians have written several articles on the subject.",
    "The town council mentions it every year in its annual report.",
    "A small plaque nearby tells the story in three languages.",
    "Schoolchildren learn about it during their first local history lessons.",
    "The detail is also recorded in the regional almanac.",
)


@dataclass(frozen=True)
class Fact:
    text: str
    question: str
    answer: str  # what a correct reply contains (case-insensitive)


def _word(rng: random.Random, used: set[str]) -> str:
    while True:
        word = rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) + rng.choice(_ENDS)
        if word not in used:
            used.add(word)
            return word


def _fact(template: int, rng: random.Random, used: set[str]) -> tuple[str, str, str]:
    """(fact sentence, question, answer) for one template."""
    x = _word(rng, used)
    year = rng.randint(1850, 2020)
    n = rng.randint(12, 980)
    if template == 0:
        name = _word(rng, used)
        animal = rng.choice(_ANIMALS)
        article = "an" if animal[0] in "aeiou" else "a"
        return (f"The mascot of the {x} rowing club is {article} {animal} named {name}, adopted in "
                f"{year}.", f"What is the name of the {x} rowing club's mascot?", name)  # fmt: skip
    if template == 1:
        return (f"The {x} footbridge is exactly {n} metres long and opened to walkers in "
                f"{year}.", f"How long is the {x} footbridge?", f"{n} metres")  # fmt: skip
    if template == 2:
        ingredient = rng.choice(_INGREDIENTS)
        return (f"The secret ingredient of the {x} harvest festival soup is {ingredient}, "
                f"a recipe kept since {year}.",
                f"What is the secret ingredient of the {x} harvest festival soup?", ingredient)  # fmt: skip
    if template == 3:
        code = _word(rng, used)
        return (f"The codeword that opens the {x} archive vault is {code}, changed last in "
                f"{year}.", f"What is the codeword for the {x} archive vault?", code)  # fmt: skip
    if template == 4:
        founder = f"{_word(rng, used)} {_word(rng, used)}"
        return (f"The {x} observatory was founded by the astronomer {founder} in {year}.",
                f"Who founded the {x} observatory?", founder)  # fmt: skip
    if template == 5:
        return (f"The record catch at the {x} fishing derby was a pike weighing {n / 10:.1f} "
                f"kilograms, landed in {year}.",
                f"How heavy was the record pike at the {x} fishing derby?", f"{n / 10:.1f} kilograms")  # fmt: skip
    if template == 6:
        bell = _word(rng, used)
        return (f"The great bell of {x} cathedral is called {bell} and was cast in {year}.",
                f"What is the great bell of {x} cathedral called?", bell)  # fmt: skip
    if template == 7:
        colour = rng.choice(_COLOURS)
        return (f"Every tram on the {x} line is painted {colour} with a white roof since {year}.",
                f"What colour are the trams on the {x} line?", colour)  # fmt: skip
    if template == 8:
        number = f"{rng.randint(200, 999)}-{rng.randint(1000, 9999)}"
        return (f"The emergency hotline of the {x} mountain rescue team is {number}, staffed "
                f"day and night.",
                f"What is the emergency hotline of the {x} mountain rescue team?", number)  # fmt: skip
    motto = f"Per {_word(rng, used)} ad {_word(rng, used)}"
    return (f"The motto carved above the door of the {x} library reads {motto}, carved in "
            f"{year}.", f"What motto is carved above the door of the {x} library?", motto)  # fmt: skip


def make(count: int = 50, seed: int = SEED) -> list[Fact]:
    """`count` facts, templates in turn; each passage is its fact and three filler sentences."""
    rng = random.Random(seed)
    used: set[str] = set()
    facts: list[Fact] = []
    for i in range(count):
        sentence, question, answer = _fact(i % 10, rng, used)
        filler = " ".join(rng.sample(_FILLER, 3))
        facts.append(Fact(f"{sentence} {filler}", question, answer))
    return facts
