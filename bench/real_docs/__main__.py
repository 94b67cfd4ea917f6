"""`python -m bench.real_docs` (what bench/run.sh and `make bench-real` run) is the benchmark."""

import sys

from bench.real_docs.run import main

sys.exit(main())
