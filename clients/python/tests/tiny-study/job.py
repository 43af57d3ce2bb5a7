# A job of a few milliseconds for the Python client's tests: a deterministic "accuracy" per seed.
import os

seed = int(os.environ["REPRO_SEED"])
print(f"REPRO_METRIC accuracy={0.9 + seed / 1000:.4f}")
