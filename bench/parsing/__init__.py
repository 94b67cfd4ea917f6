"""Parsing-quality benchmark on real PDFs from Debian's documentation packages."""
