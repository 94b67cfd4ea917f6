import sys

from bench.retrieval_latency.bench import main

sys.exit(main())
