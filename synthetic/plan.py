"""Lookup tables the generator draws from, computed once from the reference data.

Owns the translation of :class:`governance.reference.Reference` (codes, mixes, rates)
into numpy arrays indexed by position: staff group, WRES group (0 White, 1 Ethnic
minority, 2 Not stated), ethnic code and band. Also owns the ESR display strings for
those values, date formatting (``DD/MM/YYYY``) and the identifier schemes (employee,
applicant and NI numbers), which are permutations so identifiers never repeat.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from string import ascii_uppercase
from typing import TypeVar

import numpy as np

from governance.reference import (
    MEDICAL_AND_DENTAL,
    Reference,
    WresGroup,
    load_reference,
)
from synthetic.names import ORIGINS, origin_weights

K = TypeVar("K")

WHITE, MINORITY, NOT_STATED = 0, 1, 2
WRES_GROUPS: tuple[WresGroup, ...] = ("White", "Ethnic minority", "Not stated")

#: Identifier blocks: each body gets its own block of 7 million numbers, shuffled by
#: an affine permutation modulo a prime (so numbers never repeat, with no memory).
ID_BASE = 10_000_000
ID_BLOCK = 7_000_000
ID_PRIME = 6_999_997  # largest prime below ID_BLOCK
MAX_PEOPLE_PER_BODY = ID_PRIME

#: National Insurance prefixes HMRC allocates: first letter not D F I Q U V, second
#: not D F I O Q U V, and not BG GB KN NK NT TN ZZ. (QQ, the documented example
#: prefix, fails these rules, so validating ingest would refuse it.)
NI_PREFIXES: tuple[str, ...] = tuple(
    first + second
    for first in ascii_uppercase
    if first not in "DFIQUV"
    for second in ascii_uppercase
    if second not in "DFIOQUV"
    and first + second not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}
)
NI_PRIME = 372_999_953  # largest prime below len(NI_PREFIXES) * 1_000_000


def stream_seed(seed: int, *labels: str) -> np.random.SeedSequence:
    """A seed sequence for one named stream (e.g. body ``7A1``, ``staff``)."""
    return np.random.SeedSequence(
        [seed, *(zlib.crc32(label.encode()) for label in labels)]
    )


def normalised(weights: Mapping[K, float], keys: Sequence[K]) -> np.ndarray:
    """Weights for ``keys`` (zero when absent), scaled to sum to 1."""
    vector = np.array([float(weights.get(key, 0.0)) for key in keys])
    result: np.ndarray = vector / vector.sum()
    return result


def randomised_round(rng: np.random.Generator, expected: float) -> int:
    """Round to an integer whose mean is ``expected`` (keeps small bodies unbiased)."""
    whole = int(expected)
    return whole + int(rng.random() < expected - whole)


class DateText:
    """Format day ordinals as ``DD/MM/YYYY`` through a precomputed table."""

    def __init__(self, first: date, last: date) -> None:
        self.base = first.toordinal()
        days = (last - first).days + 1
        self._text = [
            (first + timedelta(days=offset)).strftime("%d/%m/%Y")
            for offset in range(days)
        ]

    def format(self, ordinals: np.ndarray) -> list[str]:
        text = self._text
        return [text[i] for i in (ordinals - self.base).tolist()]

    def one(self, ordinal: int) -> str:
        return self._text[ordinal - self.base]


@dataclass(frozen=True)
class AgeTable:
    mean: np.ndarray
    sd: np.ndarray
    low: np.ndarray
    high: np.ndarray


@functools.lru_cache(maxsize=4)
def plan_for(period: int) -> Plan:
    """The plan for the shipped reference data and a period (cached; read-only)."""
    return Plan(load_reference(), period)


class Plan:
    """Everything drawn per person, as arrays; build once per generation run."""

    def __init__(self, reference: Reference, period: int) -> None:
        self.reference = reference
        syn = reference.synthetic
        self.period = period
        self.snapshot = date(period, 3, 31)
        self.year_start = date(period - 1, 4, 1)
        self.dates = DateText(date(period - 120, 1, 1), date(period + 2, 12, 31))

        cats = reference.ethnic_categories
        self.ethnic_codes = tuple(c.code for c in cats)
        self.ethnic_display = [c.esr_display for c in cats]
        index = {code: i for i, code in enumerate(self.ethnic_codes)}
        self.ethnic_index = index
        self.origin_cdf = np.cumsum(
            [origin_weights(c.code, c.broad_group) for c in cats], axis=1
        )
        self.origin_count = len(ORIGINS)

        # Ethnic code distributions for each WRES group (flat over codes).
        code_mix = syn.ethnic_code_mix.value
        white = normalised(code_mix["White"], self.ethnic_codes)
        minority = np.zeros(len(cats))
        shares = syn.within_minority_mix.value
        total = sum(shares.values())
        for broad, share in shares.items():
            minority += normalised(code_mix[broad], self.ethnic_codes) * share / total
        not_stated = normalised(syn.not_stated_code_mix.value, self.ethnic_codes)
        self.ethnic_p = (white, minority, not_stated)

        # Staff groups drawn anywhere, in reference order.
        mixes = [syn.staff_group_mix.value, *syn.staff_group_mix_by_body.value.values()]
        drawn = {code for mix in mixes for code in mix}
        groups = [g for g in reference.staff_groups if g.code in drawn]
        self.groups = tuple(g.code for g in groups)
        self.group_label = [g.esr_label for g in groups]
        self.medical = self.groups.index(MEDICAL_AND_DENTAL)
        self.group_p = {
            body.code: normalised(syn.staff_group_mix_for(body.code), self.groups)
            for body in reference.bodies
        }
        self.minority_share = np.array(
            [syn.minority_share_by_staff_group.value[g] for g in self.groups]
        )
        self.female_share = np.array(
            [syn.female_share_by_staff_group.value[g] for g in self.groups]
        )

        # Bands: AfC bands and VSM, then medical grades; display as ESR shows them.
        grades = reference.medical_grades
        self.bands = (*reference.pay_bands, *(g.name for g in grades))
        self.band_display = [
            f"Band {b}" if b in reference.afc_bands else b for b in reference.pay_bands
        ] + [g.name for g in grades]
        subgroup = {g.name: g.wres_subgroup for g in grades}
        self.band_subgroup = [subgroup.get(b, "") for b in self.bands]
        self.trainee = np.array([s == "Trainee grades" for s in self.band_subgroup])
        self.band_p = self._band_distributions()
        self.ages = self._age_table()

        self.contracts = tuple(syn.contract_type_mix.value)
        self.contract_p = normalised(syn.contract_type_mix.value, self.contracts)
        self.trainee_contract_p = normalised(
            syn.contract_type_mix_trainee.value, self.contracts
        )
        self.second_contract_p = normalised(
            syn.second_assignment_contract_mix.value, self.contracts
        )
        self.roles = []
        for group in self.groups:
            roles = syn.job_roles.value[group]
            weights = np.array([r.weight for r in roles])
            self.roles.append(
                (
                    [r.role for r in roles],
                    [r.occupation_code for r in roles],
                    weights / weights.sum(),
                )
            )

    def _band_distributions(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Band probabilities per staff group, for White, minority, not stated."""
        syn = self.reference.synthetic
        tilt = np.array(
            [
                syn.minority_band_tilt.value.get(b, 1.0)
                * syn.minority_medical_subgroup_tilt.value.get(s, 1.0)  # type: ignore[call-overload]  # "" is no subgroup
                for b, s in zip(self.bands, self.band_subgroup, strict=True)
            ]
        )
        result = []
        for group in self.groups:
            if group == MEDICAL_AND_DENTAL:
                base = normalised(syn.medical_grade_mix.value, self.bands)
            else:
                base = normalised(syn.band_mix_by_staff_group.value[group], self.bands)
            tilted = base * tilt
            result.append((base, tilted / tilted.sum(), base))
        return result

    def _age_table(self) -> AgeTable:
        age = self.reference.synthetic.age.value
        shape = (len(self.groups), len(self.bands))
        mean, sd, low, high = (np.zeros(shape) for _ in range(4))
        for g, group in enumerate(self.groups):
            for b, subgroup in enumerate(self.band_subgroup):
                profile = age.by_medical_subgroup.get(subgroup)  # type: ignore[call-overload]  # "" is no subgroup
                if profile is None:
                    profile = age.by_staff_group.get(group, age.default)
                mean[g, b], sd[g, b] = profile.mean, profile.sd
                low[g, b], high[g, b] = profile.min, profile.max
        return AgeTable(mean, sd, low, high)

    def body_block(self, code: str) -> int:
        """Index of the body's identifier block (its position in the reference)."""
        return [b.code for b in self.reference.bodies].index(code)


@dataclass(frozen=True)
class IdScheme:
    """Unique, shuffled identifiers for one body: employee, applicant and NI numbers."""

    block: int
    multiplier: int
    offset: int
    ni_multiplier: int
    ni_offset: int

    @classmethod
    def for_body(cls, seed: int, block: int, purpose: str = "employees") -> IdScheme:
        rng = np.random.default_rng(stream_seed(seed, "identifiers", purpose))
        a, c, na, nc = rng.integers(
            1, [ID_PRIME, ID_PRIME, NI_PRIME, NI_PRIME]
        ).tolist()
        return cls(block, a, c, na, nc)

    def numbers(self, first: int, count: int) -> np.ndarray:
        """Numbers for people ``first .. first + count - 1`` of this body (8 digits)."""
        k = np.arange(first, first + count, dtype=np.int64)
        return (
            ID_BASE
            + self.block * ID_BLOCK
            + (self.multiplier * k + self.offset) % ID_PRIME
        )

    def ni_numbers(self, first: int, count: int, suffix: np.ndarray) -> list[str]:
        """NI numbers (valid prefixes, unique across Wales) for the same people."""
        person = self.block * ID_BLOCK + np.arange(first, first + count, dtype=np.int64)
        slot = (self.ni_multiplier * person + self.ni_offset) % NI_PRIME
        prefixes = NI_PREFIXES
        return [
            f"{prefixes[s // 1_000_000]}{s % 1_000_000:06d}{'ABCD'[x]}"
            for s, x in zip(slot.tolist(), suffix.tolist(), strict=True)
        ]
