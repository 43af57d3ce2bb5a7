# A job of a few milliseconds for the Python client's tests: a deterministic "accuracy" per seed.
import sys

seed = int(sys.argv[sys.argv.index("--seed") + 1])
print(f"REPRO_METRIC accuracy={0.9 + seed / 1000:.4f}")
