"""Throughput of the built-in trainer: tokens per second on the CPU, MFU on a GPU.

Run ``python benchmarks/bench_trainer.py`` (``--json`` for one JSON object). On the
CPU it trains a ~0.1M- and a ~0.8M-parameter model (the demo's range) with one
thread and with every core; when CUDA is present it also trains GPT-2-small-like
models in bf16 and reports model FLOPs utilisation (MFU): exact training FLOPs
per second (attention and head included, see ``scalinglab.plan.counts``) over the
GPU's dense bf16 peak. Throughput excludes evaluation and the first steps (warmup
of kernels and allocator).
"""

from __future__ import annotations

import argparse
import json
import os
import time

#: Dense bf16 peaks in FLOP/s (vendor data sheets, without sparsity).
PEAK_BF16 = {
    "H200": 989e12,
    "H100": 989e12,
    "A100": 312e12,
    "L4": 121e12,
    "A10": 125e12,
}


def measure(shape, *, steps, batch_size, seq_len, device, threads=None, warmup=5):
    """Tokens/s and FLOP/s of ``steps`` timed optimizer steps after ``warmup`` untimed ones."""
    from scalinglab.run.config import TrainConfig
    from scalinglab.run.trainer import train

    base = dict(
        **shape.to_dict(),
        batch_size=batch_size,
        seq_len=seq_len,
        lr=1e-3,
        warmup_steps=1,
        eval_every=0,
        eval_tokens=seq_len,
        device=device,
        num_threads=threads,
        deterministic=device == "cpu",
    )
    train(TrainConfig(**base, steps=warmup))  # caches the corpus, warms kernels
    start = time.perf_counter()
    result = train(TrainConfig(**base, steps=steps))
    return {
        "N": result.N,
        "shape": shape.to_dict(),
        "device": result.device,
        "threads": threads,
        "batch_size": batch_size,
        "seq_len": seq_len,
        "steps": steps,
        "tokens_per_second": result.tokens_per_second,
        "flops_per_second": result.flops_per_second,
        "seconds": time.perf_counter() - start,
    }


def cpu_rows(quick: bool) -> list[dict]:
    from scalinglab.plan import shape_for_params
    from scalinglab.run.executors import available_cores

    rows = []
    for N in (1e5, 8e5):
        shape = shape_for_params(N)
        for threads in sorted({1, available_cores()}):
            steps = 20 if quick else (60 if N < 5e5 else 25)
            rows.append(
                measure(
                    shape,
                    steps=steps,
                    batch_size=16,
                    seq_len=128,
                    device="cpu",
                    threads=threads,
                )
            )
    return rows


def gpu_rows(quick: bool) -> list[dict]:
    import torch

    from scalinglab.plan import ModelShape

    name = torch.cuda.get_device_name()
    peak = next((v for k, v in PEAK_BF16.items() if k in name), None)
    rows = []
    shapes = [
        ModelShape(6, 512, 8, 2048, 256, 1024),
        ModelShape(12, 768, 12, 3072, 256, 1024),
    ]
    for shape in shapes:
        row = measure(
            shape, steps=10 if quick else 30, batch_size=32, seq_len=1024, device="cuda"
        )
        row.update(
            gpu=name,
            peak_flops=peak,
            mfu=row["flops_per_second"] / peak if peak else None,
        )
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="fewer timed steps")
    parser.add_argument("--no-cpu", action="store_true", help="skip the CPU rows")
    args = parser.parse_args()
    import torch

    rows = [] if args.no_cpu else cpu_rows(args.quick)
    if torch.cuda.is_available():
        rows += gpu_rows(args.quick)
    if args.json:
        print(
            json.dumps(
                {"torch": torch.__version__, "cores": os.cpu_count(), "rows": rows},
                indent=2,
            )
        )
        return
    print(f"torch {torch.__version__}, {os.cpu_count()} cores")
    print(
        f"{'device':<8}{'N':>11}{'threads':>9}{'tokens/s':>12}{'TFLOP/s':>10}{'MFU':>8}"
    )
    for r in rows:
        mfu = f"{r['mfu']:.1%}" if r.get("mfu") is not None else ""
        print(
            f"{r['device']:<8}{r['N']:>11}{str(r['threads'] or ''):>9}"
            f"{r['tokens_per_second']:>12.0f}{r['flops_per_second'] / 1e12:>10.3f}{mfu:>8}"
        )


if __name__ == "__main__":
    main()
