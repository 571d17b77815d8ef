"""Name pools for synthetic staff: drawn once from seeded Faker instances, then sampled.

Owns the name "origins" (British, Welsh, Irish, Polish, South Asian, African, Filipino,
Chinese), which Faker locale feeds each, and the list of common Welsh names: Faker has
no Welsh (``cy_GB``) locale, so Welsh forenames and surnames come from the lists below
(common Welsh surnames and popular Welsh given names, compiled for this project; they
are ordinary public names, not data about anyone).

Faker is seeded per instance (``seed_instance``), never globally; each pool is drawn
once, so a whole-Wales extract costs a few thousand Faker calls, not a million.
Every name written is fictitious: a pool name paired at random with a surname.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from faker import Faker

#: Name origins, in a fixed order (indices are used in numpy arrays).
ORIGINS: tuple[str, ...] = (
    "british",
    "welsh",
    "irish",
    "polish",
    "south_asian",
    "african",
    "filipino",
    "chinese",
)

#: Faker locales feeding each origin (Welsh is a hand list: there is no cy_GB locale).
_LOCALES: dict[str, tuple[str, ...]] = {
    "british": ("en_GB",),
    "irish": ("en_IE",),
    "polish": ("pl_PL",),
    "south_asian": ("en_IN", "en_PK"),
    "african": ("en_NG", "en_KE"),
    "filipino": ("en_PH",),
    "chinese": ("zh_CN",),
}

WELSH_SURNAMES: tuple[str, ...] = (
    "Jones", "Davies", "Williams", "Evans", "Thomas", "Roberts", "Hughes", "Lewis",
    "Morgan", "Griffiths", "Rees", "Owen", "Jenkins", "Price", "Powell", "Pritchard",
    "Llewellyn", "Vaughan", "Bowen", "Parry", "Howells", "Lloyd", "Pugh", "Watkins",
    "Morris", "Phillips", "James", "Edwards", "Richards", "Harries", "Meredith",
    "Gwynne", "Protheroe", "Prosser", "Probert", "Bevan", "Beddoes", "Cadwaladr",
    "Gittins", "Humphreys", "Jarman", "Maddocks", "Mostyn", "Nicholas", "Rowlands",
    "Tudor", "Walters", "Wynne", "Ellis", "Jenkin", "Griffith", "Gruffydd", "Rhys",
)  # fmt: skip
WELSH_FORENAMES_FEMALE: tuple[str, ...] = (
    "Ffion", "Cerys", "Carys", "Siân", "Seren", "Eleri", "Nia", "Mali", "Alaw", "Lowri",
    "Catrin", "Angharad", "Bethan", "Rhiannon", "Gwen", "Gwenllian", "Elin", "Megan",
    "Manon", "Non", "Heledd", "Mererid", "Llinos", "Efa", "Lleucu", "Nerys", "Sioned",
    "Tegan", "Meinir", "Eirlys", "Dilys", "Glenys", "Mair", "Anwen", "Hafwen",
)  # fmt: skip
WELSH_FORENAMES_MALE: tuple[str, ...] = (
    "Rhys", "Gethin", "Dafydd", "Iwan", "Emyr", "Gareth", "Dylan", "Osian", "Cai",
    "Ioan", "Llŷr", "Owain", "Gruffudd", "Huw", "Aled", "Rhodri", "Steffan", "Tomos",
    "Aneurin", "Idris", "Geraint", "Gwilym", "Hywel", "Meirion", "Tudur", "Bryn",
    "Dewi", "Elis", "Macsen", "Morgan", "Siôn", "Trefor", "Wyn", "Gwion", "Ifan",
)  # fmt: skip


@dataclass(frozen=True)
class NamePools:
    """Every pool flattened into three arrays, indexed by origin and offset.

    ``female[female_start[o] + i]`` for ``0 <= i < female_size[o]`` is the i-th
    female forename of origin ``o``; likewise ``male`` and ``surname``.
    """

    female: list[str]
    female_start: np.ndarray
    female_size: np.ndarray
    male: list[str]
    male_start: np.ndarray
    male_size: np.ndarray
    surname: list[str]
    surname_start: np.ndarray
    surname_size: np.ndarray

    def pick(self, which: str, origin: np.ndarray, u: np.ndarray) -> list[str]:
        """Names for people of the given origins, using uniforms ``u`` in [0, 1)."""
        names: list[str] = getattr(self, which)
        start: np.ndarray = getattr(self, f"{which}_start")
        size: np.ndarray = getattr(self, f"{which}_size")
        index = start[origin] + (u * size[origin]).astype(np.int64)
        return [names[i] for i in index.tolist()]


def _unique(names: list[str]) -> list[str]:
    # Keep first appearances in draw order: sorted() would also be deterministic,
    # but draw order keeps Faker's frequency weighting visible in the pool.
    return list(dict.fromkeys(names))


def _draw(fakers: list[Faker], method: str, size: int) -> list[str]:
    names: list[str] = []
    for fake in fakers:
        call: Callable[[], str] = getattr(fake, method)
        names.extend(call() for _ in range(size))
    return _unique(names)


def _flatten(pools: list[list[str]]) -> tuple[list[str], np.ndarray, np.ndarray]:
    flat = [name for pool in pools for name in pool]
    size = np.array([len(pool) for pool in pools], dtype=np.int64)
    start = np.concatenate(([0], np.cumsum(size)[:-1])).astype(np.int64)
    return flat, start, size


@functools.lru_cache(maxsize=8)
def build_name_pools(seed: int, draws: int = 300) -> NamePools:
    """Draw every pool once from Faker instances seeded from ``seed`` (cached).

    The pools are shared between callers with the same seed: treat them as read-only.
    """
    female: list[list[str]] = []
    male: list[list[str]] = []
    surname: list[list[str]] = []
    for number, origin in enumerate(ORIGINS):
        if origin == "welsh":
            female.append(list(WELSH_FORENAMES_FEMALE))
            male.append(list(WELSH_FORENAMES_MALE))
            surname.append(list(WELSH_SURNAMES))
            continue
        fakers = []
        for offset, locale in enumerate(_LOCALES[origin]):
            fake = Faker(locale)
            fake.seed_instance(seed * 1_000 + number * 10 + offset)
            fakers.append(fake)
        if origin == "chinese":  # romanised, as an ESR record would hold them
            first = _draw(fakers, "first_romanized_name", draws)
            female.append(first)
            male.append(first)
            surname.append(_draw(fakers, "last_romanized_name", draws))
            continue
        female.append(_draw(fakers, "first_name_female", draws))
        male.append(_draw(fakers, "first_name_male", draws))
        surname.append(_draw(fakers, "last_name", draws))
    f, f_start, f_size = _flatten(female)
    m, m_start, m_size = _flatten(male)
    s, s_start, s_size = _flatten(surname)
    return NamePools(f, f_start, f_size, m, m_start, m_size, s, s_start, s_size)


#: Which name origins people recording each ethnic code draw from (weights).
#: An assumption for realism only: names are dropped at ingest and never analysed.
ORIGIN_BY_ETHNIC_CODE: dict[str, dict[str, float]] = {
    "A": {"british": 0.6, "welsh": 0.4},
    "CC": {"welsh": 0.75, "british": 0.25},
    "CA": {"british": 0.9, "welsh": 0.1},
    "CB": {"british": 1.0},
    "C2": {"irish": 0.5, "british": 0.5},
    "B": {"irish": 1.0},
    "C": {"british": 0.5, "polish": 0.3, "irish": 0.2},
    "CP": {"polish": 1.0},
    "CY": {"polish": 0.5, "british": 0.5},
    "R": {"chinese": 1.0},
    "SC": {"filipino": 1.0},
    "SA": {"chinese": 0.5, "filipino": 0.5},
    "S": {"south_asian": 0.4, "filipino": 0.3, "african": 0.3},
    "D": {"british": 0.6, "african": 0.4},
    "E": {"british": 0.5, "african": 0.5},
    "F": {"british": 0.6, "south_asian": 0.4},
    "G": {"british": 0.7, "african": 0.15, "south_asian": 0.15},
    "GF": {"british": 0.7, "african": 0.15, "south_asian": 0.15},
    "Z": {"british": 0.5, "welsh": 0.3, "south_asian": 0.1, "african": 0.1},
    "99": {"british": 0.5, "welsh": 0.3, "south_asian": 0.1, "african": 0.1},
    "X": {"british": 0.5, "welsh": 0.3, "south_asian": 0.1, "african": 0.1},
}
#: Origins by broad group, for codes not listed above.
ORIGIN_BY_BROAD_GROUP: dict[str, dict[str, float]] = {
    "White": {"british": 0.6, "welsh": 0.3, "irish": 0.1},
    "Asian": {"south_asian": 1.0},
    "Black": {"african": 1.0},
    "Mixed": {"british": 0.7, "african": 0.15, "south_asian": 0.15},
    "Other": {"south_asian": 0.4, "filipino": 0.3, "african": 0.3},
    "Not stated": {"british": 0.5, "welsh": 0.3, "south_asian": 0.1, "african": 0.1},
}


def origin_weights(code: str, broad_group: str) -> np.ndarray:
    """Probabilities over :data:`ORIGINS` for a person recording this ethnic code."""
    weights = ORIGIN_BY_ETHNIC_CODE.get(code) or ORIGIN_BY_BROAD_GROUP[broad_group]
    vector = np.array([weights.get(origin, 0.0) for origin in ORIGINS])
    result: np.ndarray = vector / vector.sum()
    return result
