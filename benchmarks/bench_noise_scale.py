"""Cost of logging the gradient noise scale (``TrainConfig.noise_microbatches``).

Trains the same run with the noise scale off and with 2, 4 and 8 microbatches per
batch (one CPU thread, batch 16 x 128 tokens, ~0.1M and ~0.8M parameters) and
reports CPU seconds per optimizer step (process time, robust on a shared machine)
and the overhead against the run without logging. Repeats interleave the settings;
the median is reported.

    python benchmarks/bench_noise_scale.py [--steps 40] [--repeats 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

MICROBATCHES = (0, 2, 4, 8)


def cpu_seconds_per_step(shape, k: int, steps: int) -> float:
    from scalinglab.run.config import TrainConfig
    from scalinglab.run.trainer import train

    cfg = TrainConfig(
        **shape.to_dict(),
        batch_size=16,
        seq_len=128,
        steps=steps,
        warmup_steps=1,
        eval_tokens=128,
        num_threads=1,
        log_every=steps,
        noise_microbatches=k,
    )
    start = time.process_time()
    train(cfg)
    return (time.process_time() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from scalinglab.plan import shape_for_params

    rows = []
    for N in (1e5, 8e5):
        shape = shape_for_params(N)
        cpu_seconds_per_step(shape, 0, 2)  # caches the corpus, warms kernels
        times = {k: [] for k in MICROBATCHES}
        for _ in range(args.repeats):
            for k in MICROBATCHES:
                times[k].append(cpu_seconds_per_step(shape, k, args.steps))
        base = statistics.median(times[0])
        for k in MICROBATCHES:
            step = statistics.median(times[k])
            rows.append(
                {
                    "N": N,
                    "microbatches": k,
                    "cpu_s_per_step": step,
                    "overhead": step / base - 1,
                }
            )
    if args.json:
        print(json.dumps(rows))
        return
    print("N       microbatches  CPU s/step  overhead")
    for r in rows:
        print(
            f"{r['N']:<8.0e}{r['microbatches']:>12}  {r['cpu_s_per_step']:>10.4f}"
            f"  {100 * r['overhead']:>+7.1f}%"
        )


if __name__ == "__main__":
    main()
