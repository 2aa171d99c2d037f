"""The collection portal (``xls-gongkai portal``): a small Django app for one office PC.

Clerks open a private link, upload, see the library's verdict, write 说明 and submit; the
officer reviews, files 代传 workbooks and downloads the county summary. It judges nothing
itself: it calls the library's public functions (``read_one``, ``check_batch``, ``merge_batch``,
``write_summary``, ``annotate``…), and :mod:`xls_gongkai.portal.library` says how an upload
gets the library's verdict and how that verdict moves a unit's report; the CLI never imports Django
(:mod:`xls_gongkai.cli.portal` imports this package's Django modules only inside its commands).
"""
