import sys

from bench.chat_latency.bench import main

sys.exit(main())
