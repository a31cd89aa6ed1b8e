#!/usr/bin/python3
"""The PyTorch side of the SCTL speed benchmark (bench/trainer/run.ts runs it).

    /usr/bin/python3 bench/trainer/sctl_torch.py --data PREPARED --settings JSON --threads 1 [--warmup 2] [--epochs 5]

PREPARED is what bench/trainer/export-data.ts writes: the very matrices the
TensorFlow.js trainer sees. JSON is the resolved `sctl` settings of
core/model-specs.ts (run.ts passes the defaults), so both sides train the
same configuration; a setting this script does not know stops it rather than
being ignored. The model is the SCTL module of bench/reference/sctl_reference.py
(the architecture the step fixtures check the TypeScript model against),
optimised by torch.optim.Adam with the settings' lr and weight_decay.

An epoch is what the TypeScript side times: one pass over the bulk rows in
batches of batch_size drawn by weighted sampling (1 / class frequency, with
replacement: torch's WeightedRandomSampler), each paired with the next batch
of cell_batch_size cells from a fresh shuffle per pass, one forward and
backward pass and one Adam step. Prints one JSON line on stdout.

Needs Debian's python3-torch (1.13) with libopenblas0-pthread; call
/usr/bin/python3 explicitly (the python3 first on PATH lacks torch).
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
from sctl_reference import SCTL  # noqa: E402  (it sets torch threads to 1 on import: set ours after)

# Settings that change nothing here: the iteration budget (epochs are counted
# instead) and the parameters of samplers and kernels not selected.
IGNORED = {"iterations", "smote_k", "mmd_sigma", "mmd_bandwidths", "mmd_bandwidth_mul"}


def configure(settings):
    """(architecture, objective, training) from resolved sctl settings."""
    known = {"l1", "l2", "l3", "depth", "sampling", "batch_size", "cell_batch_size", "lr", "weight_decay", "dropout",
             "encoder_hidden", "encoder_layers", "latent", "decoder", "recon_weight", "kl_weight", "kl_reduction",
             "predictor_input", "mmd_kernel", "ot_eps", "ot_tau", "ot_outer", "ot_inner"} | IGNORED
    unknown = sorted(set(settings) - known)
    if unknown:
        sys.exit(f"sctl_torch.py does not know the setting(s) {unknown}: teach it before comparing")
    if settings["sampling"] != "weighted":
        sys.exit(f"sctl_torch.py draws weighted batches only, but sampling is {settings['sampling']!r}")
    s = settings
    mmd = ("multi", s["mmd_bandwidths"], s["mmd_bandwidth_mul"]) if s["mmd_kernel"] == "multi" else ("single", s["mmd_sigma"])
    architecture = {"encoder_hidden": [s["encoder_hidden"]] * s["encoder_layers"], "latent": s["latent"],
                    "decoder": s["decoder"], "depth": s["depth"], "dropout": s["dropout"]}
    objective = {"l1": s["l1"], "l2": s["l2"], "l3": s["l3"], "recon_weight": s["recon_weight"], "kl_weight": s["kl_weight"],
                 # Before these settings existed the model summed the KL and fed the predictor mu.
                 "kl_reduction": s.get("kl_reduction", "sum"), "predictor_input": s.get("predictor_input", "mu"),
                 "mmd": mmd, "ot": (s["ot_eps"], s["ot_tau"], s["ot_outer"], s["ot_inner"])}
    training = {"batch": s["batch_size"], "cell_batch": s["cell_batch_size"], "lr": s["lr"], "weight_decay": s["weight_decay"]}
    return architecture, objective, training


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--settings", required=True, help="resolved sctl settings, JSON")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads; 0 = all cores")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()

    threads = args.threads if args.threads > 0 else os.cpu_count()
    torch.set_num_threads(threads)
    torch.manual_seed(args.seed)

    with open(os.path.join(args.data, "meta.json")) as fh:
        meta = json.load(fh)
    genes, nb, ns = meta["genes"], meta["bulk"], meta["cells"]
    xb = torch.from_numpy(np.fromfile(os.path.join(args.data, "bulk_x.f32"), dtype=np.float32).reshape(nb, genes))
    yb = torch.from_numpy(np.fromfile(os.path.join(args.data, "bulk_y.u8"), dtype=np.uint8).astype(np.float32))
    xs = torch.from_numpy(np.fromfile(os.path.join(args.data, "cells_x.f32"), dtype=np.float32).reshape(ns, genes))

    arch, objective, training = configure(json.loads(args.settings))
    batch, cell_batch = training["batch"], min(training["cell_batch"], ns)
    model = SCTL(genes, arch["encoder_hidden"], arch["latent"], arch["decoder"], arch["depth"], dropout=arch["dropout"]).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=training["lr"], weight_decay=training["weight_decay"])
    counts = torch.bincount(yb.long(), minlength=2).double()
    weights = (1.0 / counts)[yb.long()]
    steps_per_epoch = math.ceil(nb / batch)
    cell_order, cell_pos = torch.randperm(ns), 0

    wall, cpu = [], []
    for epoch in range(args.warmup + args.epochs):
        t0, c0 = time.perf_counter(), time.process_time()
        draws = torch.multinomial(weights, nb, replacement=True)
        for b in range(steps_per_epoch):
            rows = draws[b * batch:(b + 1) * batch]
            if cell_pos + cell_batch > ns:
                cell_order, cell_pos = torch.randperm(ns), 0
            cells = cell_order[cell_pos:cell_pos + cell_batch]
            cell_pos += cell_batch
            noise = torch.randn(len(rows) + len(cells), arch["latent"])
            optimizer.zero_grad()
            terms = model.losses(xb[rows], xs[cells], yb[rows], noise, objective)
            terms["total"].backward()
            optimizer.step()
            # The TypeScript step reads every term back each step (to check
            # them for NaN and report them); so does this one.
            values = {k: float(v) for k, v in terms.items()}
            if not all(math.isfinite(v) for v in values.values()):
                sys.exit(f"non-finite loss at epoch {epoch + 1}: {values}")
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)

    timed = wall[args.warmup:]
    print(json.dumps({
        "side": "torch", "torch": torch.__version__, "threads": threads, "genes": genes, "bulk": nb, "cells": ns,
        "stepsPerEpoch": steps_per_epoch, "warmup": args.warmup, "epochMs": timed, "epochCpuMs": cpu[args.warmup:],
        "medianEpochMs": float(np.median(timed)), "medianStepMs": float(np.median(timed)) / steps_per_epoch,
    }))


if __name__ == "__main__":
    main()
