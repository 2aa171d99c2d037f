"""Fuzz at scale: damaged workbooks and documents must end in a result or one of our errors.

Each case is one mutation (made from its number and the seed alone, so any case can be made
again) of a real filled workbook — byte flips, truncations, XML mutations of its sheets, shared
strings and workbook parts, zip-structure mutations — or of a real published report as .txt,
.html and .docx. Cases run in a pool of worker processes with a time limit each; a case passes
when its entry point returns a result or raises an :class:`~xls_gongkai.errors.XlsGongkaiError`.
Anything else fails: another exception (a traceback for the user), a hang past the limit, or a
crash of the process that reads it. Workers run in two modes, alternately:

* ``process`` — an ordinary process (a library caller's): every safety check is on, so a crash
  there is a failure;
* ``confined`` — a batch worker bounded by :func:`~xls_gongkai.reading.safety.confine`: there a
  parser that aborts costs that worker only and the batch reports the file, so a crash is
  counted as ``contained-crash`` (a pass).

Entry points: workbooks go to ``xls_gongkai.reading.reader.read_workbook`` and documents to
``xls_gongkai.documents.importer.import_document``. ``--target safety`` (automatic while the
reader does not import) reads a workbook the way the reader will, layer by layer:
``inspect_file``, ``special_cells``, then python-calamine on every sheet, with
``explain_failure`` when calamine fails; documents are skipped when the importer does not import.

Run::

    .venv/bin/python scripts/fuzz.py --n 10000 --jobs 2           # the big run
    .venv/bin/python scripts/fuzz.py --case 1234 --seed 1          # one case, in this process
"""

from __future__ import annotations

import argparse
import collections
import io
import multiprocessing as mp
import os
import random
import sys
import tempfile
import time
import traceback
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
REPORTS = ("2019_shanghaishi_zhengfu_bangongting.txt", "2020_potouzhen.txt", "2024_huaianshi_zhengfu.txt")
#: What a case may end in: a result, one of our errors, a crash a confined batch worker contains,
#: or nothing (documents while the importer does not import).
PASSING = ("result", "error:", "contained-crash", "skipped")

# --------------------------------------------------------------------------- the seeds


def workbook_seeds(cache: Path) -> dict[str, bytes]:
    """The real files mutated: filled templates (fresh if the writer imports), and .xls/.ods if LibreOffice is here."""
    out = {"xlsx": (DATA / "filled-2023.xlsx").read_bytes()}
    try:
        from xls_gongkai.report import Unit
        from xls_gongkai.sample import random_report
        from xls_gongkai.spec import get_format
        from xls_gongkai.workbook.writer import write_workbook

        fmt = get_format(2019)
        report = random_report(fmt, Unit("002", "东城街道"), 2020, random.Random(3), {"s1": "总体情况"})
        out["xlsx-2019"] = write_workbook(cache / "fresh-2019.xlsx", report).read_bytes()
    except Exception as exc:  # the writer is being ported: the stored template serves alone
        print(f"（模板写入程序不可用，只用 tests/data 的模板：{type(exc).__name__}）", file=sys.stderr)
    for kind in ("xls", "ods"):
        converted = cache / f"filled-2023.{kind}"
        if not converted.exists():
            _convert(DATA / "filled-2023.xlsx", kind, cache)
        if converted.exists():
            out[kind] = converted.read_bytes()
    return out


def _convert(src: Path, kind: str, folder: Path) -> None:
    import shutil
    import subprocess

    soffice = shutil.which("soffice")
    if soffice is None:
        return
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", kind,
             "--outdir", str(folder), str(src)],
            capture_output=True, timeout=120, check=False,
        )  # fmt: skip


def document_seeds() -> dict[str, bytes]:
    """The three real published reports as .txt, and each as .html and .docx made from it."""
    out: dict[str, bytes] = {}
    for name in REPORTS:
        text = (DATA / name).read_text(encoding="utf-8")
        stem = name.removesuffix(".txt")
        out[f"{stem}.txt"] = text.encode("utf-8")
        out[f"{stem}.html"] = _html(text).encode("utf-8")
        out[f"{stem}.docx"] = _docx(text)
    return out


def _cells(line: str) -> list[str]:
    return [c for c in line.replace("\u3000", " ").split() if c]


def _html(text: str) -> str:
    body: list[str] = []
    for line in text.splitlines():
        cells = _cells(line)
        if len(cells) >= 3:
            body.append("<table><tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr></table>")
        elif line.strip():
            body.append(f"<p>{line.strip()}</p>")
    return "<html><body>" + "\n".join(body) + "</body></html>"


def _docx(text: str) -> bytes:
    import docx

    document = docx.Document()
    for line in text.splitlines():
        cells = _cells(line)
        if len(cells) >= 3:
            table = document.add_table(rows=1, cols=len(cells))
            for cell, value in zip(table.rows[0].cells, cells, strict=True):
                cell.text = value
        elif line.strip():
            document.add_paragraph(line.strip())
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- mutations


def mutate_bytes(data: bytes, rnd: random.Random) -> bytes:
    """Flips, overwrites, truncations, insertions or zeroed runs at random places."""
    buf = bytearray(data)
    for _ in range(rnd.randint(1, 4)):
        if not buf:
            break
        i = rnd.randrange(len(buf))
        op = rnd.choice(("flip", "overwrite", "truncate", "insert", "zero"))
        junk = rnd.randbytes(rnd.randint(1, 16))
        if op == "flip":
            buf[i] ^= 1 << rnd.randrange(8)
        elif op == "overwrite":
            buf[i : i + len(junk)] = junk
        elif op == "truncate":
            del buf[i:]
        elif op == "insert":
            buf[i:i] = junk
        else:
            buf[i : i + len(junk)] = bytes(len(junk[: len(buf) - i]))
    return bytes(buf)


HOSTILE = (
    b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    b'<c r="XFD1048576"><v>1</v></c>',
    b'<row r="900000"><c><v>2</v></c></row>',
    b'<c r="A1" t="e"><v>#REF!</v></c>',
    b"<c r=\"B2\"><f>cmd|'/c calc'!A0</f><v>0</v></c>",
    b'<c r="C3"><f t="shared" si="99"/></c>',
    b'<c r="D4"><f t="array" ref="D4:XFD1048576">1</f></c>',
    b'<c r="E5" t="s"><v>99999999</v></c>',
    b'<x:c r="F6"><x:v>1</x:v></x:c>',
    b"\x00\x1b[2J\xe2\x80\xae",
    b"<" * 64,
    b"&#0;&#xD800;&lol;",
)


def mutate_xml(data: bytes, rnd: random.Random) -> bytes:
    """Elements deleted, duplicated or moved; attribute values changed; hostile snippets inserted."""
    tags = [i for i in range(len(data)) if data[i] == 0x3C][:20000]
    if not tags:
        return mutate_bytes(data, rnd)
    op = rnd.choice(("delete", "duplicate", "attribute", "insert", "bytes", "swap"))
    a = rnd.choice(tags)
    b = data.find(b">", a) + 1 or len(data)
    if op == "delete":
        return data[:a] + data[b:]
    if op == "duplicate":
        return data[:b] + data[a:b] * rnd.choice((2, 10, 1000)) + data[b:]
    if op == "attribute":
        value = rnd.choice((b"99999999", b"-1", b"", b"XFD1048576", b"A0", b"e", b"\xff\xfe", b"1" * 40))
        quote = data.find(b'"', a, b)
        end = data.find(b'"', quote + 1, b) if quote >= 0 else -1
        return data[: quote + 1] + value + data[end:] if 0 <= quote < end else data
    if op == "insert":
        return data[:a] + rnd.choice(HOSTILE) + data[a:]
    if op == "swap":
        c = rnd.choice(tags)
        lo, hi = sorted((a, c))
        return data[:lo] + data[hi:] + data[lo:hi] if lo < hi else data
    return mutate_bytes(data, rnd)


def zip_entries(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def repack(items: list[tuple[str, bytes]], rnd: random.Random) -> bytes:
    import warnings

    out = io.BytesIO()
    method = zipfile.ZIP_STORED if rnd.random() < 0.1 else zipfile.ZIP_DEFLATED
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(out, "w", method) as zf:
            for name, body in items:
                info = zipfile.ZipInfo(name)
                info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else method
                zf.writestr(info, body)
    return out.getvalue()


ODD_NAMES = ("../x", "/abs", "a\\b", "C:/x", "xl/\x1bx", "xl/worksheets/sheet1.xml", "XL/WORKBOOK.XML")
EXTRA_PARTS = (
    ("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0"),
    ("xl/embeddings/oleObject1.bin", b"x"),
    (
        "xl/externalLinks/externalLink1.xml",
        b'<externalLink><ddeLink ddeService="cmd" ddeTopic="/c calc"/></externalLink>',
    ),
)


def mutate_zip(data: bytes, rnd: random.Random, xml_parts: tuple[str, ...]) -> bytes:
    """A part's XML mutated, or parts dropped, doubled, renamed, reordered or added, then re-packed."""
    items = zip_entries(data)
    op = rnd.choice(("xml", "xml", "xml", "drop", "double", "rename", "reorder", "add", "directory"))
    names = [n for n, _ in items]
    if op == "xml":
        wanted = [n for n in names if n.endswith(xml_parts)] or names
        pick = rnd.choice(wanted)
        items = [(n, mutate_xml(b, rnd) if n == pick else b) for n, b in items]
    elif op == "drop":
        del items[rnd.randrange(len(items))]
    elif op == "double":
        items.append(rnd.choice(items))
    elif op == "rename":
        i = rnd.randrange(len(items))
        items[i] = (rnd.choice(ODD_NAMES), items[i][1])
    elif op == "reorder":
        rnd.shuffle(items)
    elif op == "add":
        items.append(rnd.choice(EXTRA_PARTS))
    else:  # the central directory and the end record: sizes, offsets, methods, flags
        packed = repack(items, rnd)
        return packed[:-400] + mutate_bytes(packed[-400:], rnd)
    return repack(items, rnd)


TEXT_SNIPPETS = (
    "一、总体情况",
    "七、其他",
    "（一）（一）（一）",
    "１２３４５",
    "-99999999999999999999",
    "\x1b[31m",
    "\u202e",
    "\x00",
    "<table>" * 500,
    "<div>" * 5000,
    '<td rowspan="999999" colspan="999999">1</td>',
    "&#0;&lol;",
    "总计 " * 2000,
)


def mutate_text(data: bytes, rnd: random.Random) -> bytes:
    """Lines deleted, doubled, swapped; numbers and headings changed; odd text inserted; re-encoded."""
    text = data.decode("utf-8", "replace")
    lines = text.splitlines()
    op = rnd.choice(("delete", "double", "swap", "insert", "numbers", "encode", "bytes"))
    if op == "bytes" or not lines:
        return mutate_bytes(data, rnd)
    i = rnd.randrange(len(lines))
    if op == "delete":
        del lines[i : i + rnd.randint(1, 20)]
    elif op == "double":
        lines[i:i] = lines[i : i + rnd.randint(1, 20)] * rnd.choice((2, 50))
    elif op == "swap":
        j = rnd.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == "insert":
        lines.insert(i, rnd.choice(TEXT_SNIPPETS))
    elif op == "numbers":
        lines = [_renumber(line, rnd) if rnd.random() < 0.2 else line for line in lines]
    else:
        return "\n".join(lines).encode(rnd.choice(("gb18030", "utf-16", "utf-8-sig")), "replace")
    return "\n".join(lines).encode("utf-8")


def _renumber(line: str, rnd: random.Random) -> str:
    out = [ch if not ch.isdigit() else rnd.choice("0123456789９") for ch in line]
    return "".join(out).replace("一、", rnd.choice(("一、", "七、", "（一）", "1.")))


def mutate_docx(data: bytes, rnd: random.Random) -> bytes:
    if rnd.random() < 0.3:
        return mutate_bytes(data, rnd)
    return mutate_zip(data, rnd, ("document.xml",))


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    number: int
    family: str
    seed_name: str
    suffix: str
    mode: str  # "process" or "confined"


FAMILIES = ("workbook-bytes", "workbook-xml", "workbook-zip", "document-text", "document-html", "document-docx")


def make_case(number: int, seed: int, seeds: dict[str, bytes], docs: dict[str, bytes]) -> tuple[Case, bytes]:
    """Case ``number``: its description and the mutated file's bytes."""
    rnd = random.Random(f"{seed}:{number}")
    family, mode = FAMILIES[number % len(FAMILIES)], _mode(number)
    if family.startswith("workbook"):
        kinds = sorted(seeds) if family == "workbook-bytes" else [k for k in sorted(seeds) if k.startswith("xlsx")]
        name = rnd.choice(kinds)
        data = seeds[name]
        suffix = "." + name.split("-")[0]
        if family == "workbook-bytes":
            return Case(number, family, name, suffix, mode), mutate_bytes(data, rnd)
        parts = ("sheet1.xml", "sheet2.xml", "sheet3.xml", "sharedStrings.xml", "workbook.xml", ".rels", "].xml")
        return Case(number, family, name, suffix, mode), mutate_zip(data, rnd, parts)
    suffix = {"document-text": ".txt", "document-html": ".html", "document-docx": ".docx"}[family]
    name = rnd.choice([n for n in sorted(docs) if n.endswith(suffix)])
    mutate: Callable[[bytes, random.Random], bytes] = mutate_docx if suffix == ".docx" else mutate_text
    return Case(number, family, name, suffix, mode), mutate(docs[name], rnd)


# --------------------------------------------------------------------------- entry points


def entry_points(target: str) -> tuple[Callable[[Path], object], Callable[[Path], object] | None, str]:
    """The workbook and document entry points, and what the workbook one is."""
    documents: Callable[[Path], object] | None
    try:
        from xls_gongkai.documents.importer import import_document

        documents = import_document
    except ImportError:
        documents = None
    if target in ("auto", "reader"):
        try:
            from xls_gongkai.reading.reader import read_workbook

            return read_workbook, documents, "reader"
        except ImportError:
            if target == "reader":
                raise
    return read_by_layers, documents, "safety"


def read_by_layers(path: Path) -> object:
    """What the reader does with a workbook before its own logic: inspect, scan, parse every sheet."""
    import python_calamine

    from xls_gongkai.errors import UnreadableWorkbookError
    from xls_gongkai.reading.cells import special_cells
    from xls_gongkai.reading.safety import explain_failure, inspect_file

    container = inspect_file(path, scan_xml=False)
    notes = special_cells(container)
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        grids = [book.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in book.sheet_names]
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        explain_failure(path)
        raise UnreadableWorkbookError(f"{path.name}：文件已损坏，无法作为电子表格读取。请重新获取原文件") from exc
    return container, notes, grids


def run_case(case: Case, data: bytes, folder: Path, target: str) -> str:
    """Read one case's file; its outcome: "result", an error class name, or "traceback:…"."""
    from xls_gongkai.errors import XlsGongkaiError

    workbooks, documents, _what = entry_points(target)
    path = folder / f"case{case.number}{case.suffix}"
    path.write_bytes(data)
    read = workbooks if case.family.startswith("workbook") else documents
    if read is None:
        return "skipped"
    try:
        read(path)
    except XlsGongkaiError as exc:
        message = str(exc)
        if not message or "\n" in message.strip() or "\x1b" in message:
            return f"bad-message:{type(exc).__name__}"
        return f"error:{type(exc).__name__}"
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        return f"traceback:{type(exc).__name__}:{str(exc)[:80]}"
    finally:
        path.unlink(missing_ok=True)
    return "result"


# --------------------------------------------------------------------------- the pool


def _worker(
    conn: Connection, mode: str, seed: int, target: str, files: tuple[dict[str, bytes], dict[str, bytes]]
) -> None:
    import faulthandler

    if mode == "confined":
        from xls_gongkai.reading.safety import confine

        confine()
    # A parser that aborts prints its panic; the parent reports the case instead.
    faulthandler.disable()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    seeds, docs = files
    with tempfile.TemporaryDirectory() as tmp:
        while True:
            number = conn.recv()
            if number is None:
                return
            case, data = make_case(number, seed, seeds, docs)
            conn.send(run_case(case, data, Path(tmp), target))


@dataclass
class _Slot:
    mode: str
    process: mp.process.BaseProcess
    conn: Connection
    case: int | None = None
    started: float = 0.0


def run_pool(
    numbers: list[int],
    seed: int,
    jobs: int,
    timeout: float,
    target: str,
    files: tuple[dict[str, bytes], dict[str, bytes]],
) -> dict[int, str]:
    """Every case's outcome; a worker that hangs or dies is replaced and its case so reported."""
    ctx = mp.get_context("fork" if hasattr(os, "fork") else "spawn")
    todo = {m: [n for n in numbers if _mode(n) == m] for m in ("process", "confined")}
    outcomes: dict[int, str] = {}
    retried: set[int] = set()
    slots: list[_Slot] = []

    def start(mode: str) -> _Slot:
        parent, child = ctx.Pipe()
        p = ctx.Process(target=_worker, args=(child, mode, seed, target, files), daemon=True)
        p.start()
        return _Slot(mode, p, parent)

    for i in range(jobs):
        mode = ("process", "confined")[i % 2] if jobs > 1 else "process"
        slots.append(start(mode))
    while any(todo.values()) or any(s.case is not None for s in slots):
        for i, slot in enumerate(slots):
            queue = todo[slot.mode] or todo["confined" if slot.mode == "process" else "process"]
            if slot.case is None and queue:
                if queue is not todo[slot.mode]:  # this mode is done: the worker takes the other's cases
                    slot.process.kill()
                    slot = slots[i] = start("confined" if slot.mode == "process" else "process")
                slot.case, slot.started = queue.pop(0), time.monotonic()
                slot.conn.send(slot.case)
            if slot.case is None:
                continue
            outcome = _collect(slot, timeout)
            if outcome is None:
                continue
            if outcome == "contained-crash" and slot.case not in retried:
                # As the batch does (parallel.map_files): the files of a crashed worker are
                # read again one process each, so that a worker worn by earlier files does not
                # blame the file it happened to hold.
                retried.add(slot.case)
                todo[slot.mode].insert(0, slot.case)
            else:
                outcomes[slot.case] = outcome
            slot.case = None
            if outcome in ("hang", "crash", "contained-crash"):
                slot.process.kill()
                slots[i] = start(slot.mode)
        time.sleep(0.001)
    for slot in slots:
        if slot.process.is_alive():
            slot.conn.send(None)
        slot.process.join(2)
        slot.process.kill()
    return outcomes


def _mode(number: int) -> str:
    return "confined" if (number // len(FAMILIES)) % 2 else "process"


def _collect(slot: _Slot, timeout: float) -> str | None:
    """The slot's outcome once there is one (None: still reading)."""
    try:
        if slot.conn.poll():
            outcome: str = slot.conn.recv()
            return outcome
    except (EOFError, OSError):
        pass
    if not slot.process.is_alive():
        return "contained-crash" if slot.mode == "confined" else "crash"
    if time.monotonic() - slot.started > timeout:
        return "hang"
    return None


# --------------------------------------------------------------------------- main


def report(outcomes: dict[int, str], seed: int, elapsed: float, what: str) -> int:
    """Print counts by outcome and every failing case with its reproducer; the number of failures."""
    counts = collections.Counter(
        o.split(":")[1] if o.startswith("error:") else o.split(":")[0] for o in outcomes.values()
    )
    by_family = collections.Counter(FAMILIES[n % len(FAMILIES)] for n in outcomes)
    print(f"模糊测试：{len(outcomes)} 个用例，用时 {elapsed:.0f} s，工作簿入口：{what}")
    print("按用例类别：" + "，".join(f"{k} {v}" for k, v in sorted(by_family.items())))
    for outcome, n in counts.most_common():
        print(f"  {outcome:28s} {n}")
    contained = [n for n, o in sorted(outcomes.items()) if o == "contained-crash"]
    if contained:
        print("在受限的工作进程中崩溃（整批照常，该文件记为无法读取）的用例：" + "、".join(map(str, contained[:50])))
    failures = {n: o for n, o in sorted(outcomes.items()) if not o.startswith(PASSING)}
    for n, o in sorted(failures.items()):
        print(f"失败：用例 {n}（{FAMILIES[n % len(FAMILIES)]}，{_mode(n)}）：{o}")
        print(f"  重现：python scripts/fuzz.py --seed {seed} --case {n}")
    print(f"失败 {len(failures)} 个" if failures else "没有失败的用例")
    return len(failures)


def reproduce(number: int, seed: int, target: str) -> None:
    """One case in this process, with the full traceback; the file is kept to look at."""
    cache = Path(tempfile.gettempdir()) / "xls-gongkai-fuzz"
    cache.mkdir(exist_ok=True)
    case, data = make_case(number, seed, workbook_seeds(cache), document_seeds())
    path = cache / f"case{number}{case.suffix}"
    path.write_bytes(data)
    print(f"{case}  →  {path}")
    workbooks, documents, _what = entry_points(target)
    read = workbooks if case.family.startswith("workbook") else documents
    if read is None:
        print("文档导入程序在此分支上不可用")
        return
    try:
        print(f"结果：{repr(read(path))[:300]}")
    except Exception:
        traceback.print_exc()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Fuzz workbooks and documents at scale.")
    ap.add_argument("--n", type=int, default=10_000, help="number of cases")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds a case may take")
    ap.add_argument("--target", choices=("auto", "reader", "safety"), default="auto")
    ap.add_argument("--case", type=int, help="run this one case in this process (a reproducer)")
    args = ap.parse_args(argv)
    if args.case is not None:
        reproduce(args.case, args.seed, args.target)
        return 0
    cache = Path(tempfile.gettempdir()) / "xls-gongkai-fuzz"
    cache.mkdir(exist_ok=True)
    files = (workbook_seeds(cache), document_seeds())  # made once here, handed to every worker
    what = entry_points(args.target)[2]
    started = time.monotonic()
    outcomes = run_pool(list(range(args.n)), args.seed, max(1, args.jobs), args.timeout, args.target, files)
    return 1 if report(outcomes, args.seed, time.monotonic() - started, what) else 0


if __name__ == "__main__":
    sys.exit(main())
