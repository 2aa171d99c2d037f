"""The three real published reports in tests/data/ and their values, typed from the files cell
by cell (None: the cell is blank in the published report)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from xls_gongkai.spec import get_format

DATA = Path(__file__).parent / "data"
SHANGHAI = DATA / "2019_shanghaishi_zhengfu_bangongting.txt"
POTOUZHEN = DATA / "2020_potouzhen.txt"
HUAIAN = DATA / "2024_huaianshi_zhengfu.txt"

T3_COLUMNS = ("natural", "commercial", "research", "public_interest", "legal_service", "other", "total")
T4_COLUMNS = tuple(c.id for c in get_format(2021).table("t4").leaf_columns)
_ = None  # a blank cell

SHANGHAI_T2 = {
    ("t2_1", "regulations"): {"new_made": 13, "new_published": 13, "total_published": 524},
    ("t2_1", "normative_docs"): {"new_made": 60, "new_published": 60, "total_published": 368},
    ("t2_5", "licensing"): {"prev_items": 0, "change": 0, "decisions": 0},
    ("t2_5", "other_services"): {"prev_items": 0, "change": 0, "decisions": 0},
    ("t2_6", "penalty"): {"prev_items": 0, "change": 0, "decisions": 0},
    ("t2_6", "coercion"): {"prev_items": 0, "change": 0, "decisions": 0},
    ("t2_8", "fees"): {"prev_items": 0, "change": 0},
    ("t2_9", "procurement"): {"items": 6, "amount": Decimal("25.1")},  # printed "251000元"
}
SHANGHAI_T3 = {
    "new": (821, 35, _, _, 2, 1, 859),
    "carried_over": (18, _, _, _, _, _, 18),
    "disclosed": (258, 12, _, _, 1, 1, _),
    "partial": (3, _, _, _, _, _, _),
    "withheld_secret": (14, _, _, _, _, _, _),
    "withheld_law": (_, _, _, _, _, _, _),
    "withheld_safety": (_, _, _, _, _, _, _),
    "withheld_third_party": (_, _, _, _, _, _, _),
    "withheld_internal": (5, _, _, _, _, _, _),
    "withheld_process": (3, 1, _, _, _, _, _),
    "withheld_enforcement": (_, _, _, _, _, _, _),
    "withheld_query": (10, 2, _, _, _, _, _),
    "unavailable_not_held": (252, 12, _, _, 1, _, _),
    "unavailable_needs_creation": (44, 3, _, _, _, _, _),
    "unavailable_unclear": (25, _, _, _, _, _, _),
    "np_petition": (148, 1, _, _, _, _, _),
    "np_repeat": (5, 4, _, _, _, _, _),
    "np_publication": (_, _, _, _, _, _, _),
    "np_mass": (_, _, _, _, _, _, _),
    "np_confirm": (_, _, _, _, _, _, _),
    "other_handling": (_, _, _, _, _, _, _),
    "results_total": (767, 35, _, _, 2, 1, 805),
    "carry_next": (72, _, _, _, _, _, 72),
}
SHANGHAI_T4 = (5, _, _, 2, 7, 8, _, _, 1, 9, _, _, _, _, _)

HUAIAN_T2 = {
    ("t2_1", "regulations"): {"issued": 1, "repealed": 0, "in_force": 11},
    ("t2_1", "normative_docs"): {"issued": 8, "repealed": 26, "in_force": 66},
    ("t2_5", "licensing"): {"decisions": 447228},
    ("t2_6", "penalty"): {"decisions": 3985758},
    ("t2_6", "coercion"): {"decisions": 88283},
    ("t2_8", "fees"): {"fee_amount": Decimal("96171.6")},
}
HUAIAN_T3 = {
    "new": (3001, 53, 0, 0, 61, 4, 3119),
    "carried_over": (34, 0, 0, 0, 0, 0, 34),
    "disclosed": (1288, 21, 0, 0, 50, 3, 1362),
    "partial": (447, 7, 0, 0, 0, 0, 454),
    "withheld_secret": (2, 0, 0, 0, 0, 0, 2),
    "withheld_law": (30, 1, 0, 0, 0, 0, 31),
    "withheld_safety": (5, 0, 0, 0, 0, 0, 5),
    "withheld_third_party": (6, 0, 0, 0, 0, 0, 6),
    "withheld_internal": (7, 1, 0, 0, 0, 0, 8),
    "withheld_process": (12, 0, 0, 0, 0, 0, 12),
    "withheld_enforcement": (9, 0, 0, 0, 0, 0, 9),
    "withheld_query": (105, 0, 0, 0, 0, 0, 105),
    "unavailable_not_held": (746, 12, 0, 0, 10, 1, 769),
    "unavailable_needs_creation": (11, 0, 0, 0, 0, 0, 11),
    "unavailable_unclear": (1, 0, 0, 0, 0, 0, 1),
    "np_petition": (56, 6, 0, 0, 0, 0, 62),
    "np_repeat": (25, 0, 0, 0, 0, 0, 25),
    "np_publication": (0, 0, 0, 0, 0, 0, 0),
    "np_mass": (0, 0, 0, 0, 0, 0, 0),
    "np_confirm": (1, 0, 0, 0, 0, 0, 1),
    "oh_no_correction": (67, 3, 0, 0, 1, 0, 71),
    "oh_no_fee": (6, 0, 0, 0, 0, 0, 6),
    "oh_other": (108, 2, 0, 0, 0, 0, 110),
    "results_total": (2932, 53, 0, 0, 61, 4, 3050),
    "carry_next": (103, 0, 0, 0, 0, 0, 103),
}
HUAIAN_T4 = (72, 64, 178, 37, 351, 13, 4, 8, 1, 26, 12, 1, 1, 6, 20)


def expected_values(t2: dict, t3: dict, t4: tuple) -> dict:  # type: ignore[type-arg]
    out = {}
    for (table, row), cells in t2.items():
        for col, v in cells.items():
            out[(table, row, col)] = v
    for row, values in t3.items():
        for col, v in zip(T3_COLUMNS, values, strict=True):
            if v is not None:
                out[("t3", row, col)] = v
    for col, v in zip(T4_COLUMNS, t4, strict=True):
        if v is not None:
            out[("t4", "cases", col)] = v
    return out
