"""The collection portal (``xls-gongkai portal``): a small Django app for one office PC.

Clerks open a private link, upload, see the library's verdict, write 说明 and submit; the
officer reviews, files 代传 workbooks and downloads the county summary. Everything it asks of
xls-gongkai goes through :mod:`xls_gongkai.portal.library`; the CLI never imports Django
(:mod:`xls_gongkai.cli.portal` imports this package's Django modules only inside its commands).
"""
