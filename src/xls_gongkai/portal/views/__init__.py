"""The portal's pages: ``clerk`` (private link, no account), ``officer`` (login), ``common``."""
