"""One module per Processing algorithm; each module exposes ``ALGORITHM``."""
