"""`python -m bench.answer_quality` (what `make bench-answers` runs)."""

import sys

from bench.answer_quality.run import main

sys.exit(main())
