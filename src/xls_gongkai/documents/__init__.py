"""Report documents in and out: ``items`` (a source as paragraphs and table rows), ``sections``
(headings named by the format), ``tables`` (the table rows as one grid, found by
:mod:`xls_gongkai.parsing.grid`), ``importer`` (the Result) and ``render`` (md/html/docx)."""
