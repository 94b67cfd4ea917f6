"""`python -m bench.retrieval_quality` (what bench/run.sh runs) is the quality benchmark."""

import sys

from bench.retrieval_quality.run import main

sys.exit(main())
