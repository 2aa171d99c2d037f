"""Sample figures as a county's units really report them, for the demo and the README's pictures.

The library's :mod:`xls_gongkai.sample` knows no table (it makes consistent random data from the
rules alone, for tests and benchmarks); this script's knowledge of the official tables makes the
pictures believable: a township receives a handful of applications, a department a few dozen,
mostly from natural persons, most of them 予以公开 or 无法提供; a county makes no 规章.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from xls_gongkai.report import Report, Unit
from xls_gongkai.sample import balanced, random_values
from xls_gongkai.spec import Format

#: How a county's applications usually end (2021 format's 表三 rows): 予以公开 and 无法提供
#: dominate; the rest are few. The weights only shape the demo's figures.
OUTCOMES = {
    "disclosed": 6,
    "partial": 2,
    "unavailable_not_held": 4,
    "unavailable_needs_creation": 1,
    "withheld_process": 1,
    "np_petition": 1,
}


def realistic(fmt: Format, unit: Unit, year: int, rnd: random.Random, texts: Mapping[str, str]) -> Report:
    """A unit's report as such figures look: a township receives a handful of applications, a
    department a few dozen, mostly from natural persons, most of them 予以公开 or 无法提供; a
    county makes no 规章; the normative documents in force outnumber those issued this year."""
    township = unit.name.endswith(("镇", "乡", "街道"))
    values = random_values(fmt, rnd, scale=6 if township else 16)
    received = rnd.randint(0, 12) if township else rnd.randint(8, 60)
    for key in list(values):
        table, row, _col = key
        if table == "t3":
            values[key] = 0
        elif table == "t4":
            values[key] = rnd.choice([0, 0, 0, 1]) if key[2].endswith(("upheld", "corrected")) else 0
        elif table == "t2_1":
            values[key] = 0
    issued = rnd.randint(0, 2 if township else 6)
    for column, n in (("issued", issued), ("in_force", issued + rnd.randint(3, 30))):  # 2021 format
        values[("t2_1", "normative_docs", column)] = n
    for column, n in (
        ("new_made", issued),
        ("new_published", issued),
        ("total_published", issued + rnd.randint(3, 30)),
    ):
        values[("t2_1", "normative_docs", column)] = n  # 2019 format
    values[("t3", "new", "natural")] = received
    values[("t3", "new", "commercial")] = rnd.choice([0, 0, 1])
    left = received
    for row, weight in OUTCOMES.items():
        share = min(left, round(received * weight / sum(OUTCOMES.values()) + rnd.uniform(-0.5, 0.5)))
        if fmt.has(("t3", row, "natural")):
            values[("t3", row, "natural")] = max(share, 0)
            left -= max(share, 0)
    return Report(unit, year, fmt, balanced(fmt, {k: v for k, v in values.items() if fmt.has(k)}), dict(texts))
