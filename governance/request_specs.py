"""How a request names its tables: a specification file, or a named pack.

A specification file is a YAML or JSON list of table specifications
(``governance.tablespec.TableSpec``: name, source, measure, dimensions, filters);
unknown keys are refused and every error is one line naming the file and the table.
A pack is a named list of tables from the indicator catalogue
(``governance/data/indicators.yaml``): either the tables of one measure (one linked
set for the disclosure engine), or the national pack, ``wres-national``, whose tables
span every population and are protected together as one pack
(``governance.sdc.pack``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import yaml
from pydantic import TypeAdapter, ValidationError

from governance.errors import TableError
from governance.indicators import load_catalogue
from governance.tablespec import Measure, TableSpec

_SPECS: Final = TypeAdapter(list[TableSpec])

#: pack name -> the catalogue measure whose tables it holds.
PACKS: Final[dict[str, Measure]] = {
    "wres-representation": "headcount",
    "wres-shortlisted": "applicants_shortlisted",
    "wres-appointed": "applicants_appointed",
    "wres-disciplinary": "people_entering_disciplinary",
    "wres-capability": "people_entering_capability",
    "wres-training": "people_accessing_training",
    "wres-board-voting": "board_voting",
    "wres-board-executive": "board_executive",
}


#: The national pack: every indicator table of the catalogue. The band table
#: (``staff_band_ethnicity``) joins the staff population through its clinical margins
#: (``governance.release_pack``), and the default policy treats its zeros as small
#: counts: with zeros published, a body type's or Wales's senior-band cell that adds
#: up several bodies' counts of 1 to 9 could not be protected whatever else is hidden
#: (docs/indicators.md, "The national pack").
NATIONAL_PACK: Final = "wres-national"
NATIONAL_TABLES: Final[tuple[str, ...]] = (
    "staff_ethnicity",
    "staff_band_ethnicity",
    "staff_group_ethnicity",
    "staff_medical_ethnicity",
    "recruitment_shortlisted",
    "recruitment_appointed",
    "disciplinary_entered",
    "capability_entered",
    "training_accessed",
    "board_voting",
    "board_executive",
)


def read_table_specs(path: Path) -> list[TableSpec]:
    """Read a list of table specifications from a YAML or JSON file.

    Raises:
        TableError: unreadable, not a list, or a specification that does not validate.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        raise TableError(f"{path.name}: not a readable YAML or JSON file") from None
    if not isinstance(data, list) or not data:
        raise TableError(
            f"{path.name}: expected a non-empty list of table specifications"
        )
    try:
        return _SPECS.validate_python(data)
    except ValidationError as exc:
        first = exc.errors(include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise TableError(f"{path.name}: {where}: {first['msg']}") from None


def pack_specs(name: str) -> list[TableSpec]:
    """The tables of a named pack.

    Raises:
        TableError: no such pack.
    """
    catalogue = load_catalogue()
    if name == NATIONAL_PACK:
        return [catalogue.table(table) for table in NATIONAL_TABLES]
    measure = PACKS.get(name)
    if measure is None:
        names = ", ".join(sorted([*PACKS, NATIONAL_PACK]))
        raise TableError(f"no pack {name!r}; packs: {names}")
    return [spec for spec in catalogue.tables if spec.measure == measure]
