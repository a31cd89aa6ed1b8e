#!/usr/bin/python3
"""Full-length SCTL training in PyTorch, on the matrices cellsweep prepares, to
find where the TypeScript SCTL and a transferring SCTL differ (docs/sctl.md,
bench/results/transfer.md).

The model and the loss terms are bench/reference/sctl_reference.py's (the module
one training step of trainer/models/sctl is verified against); this script adds
the training loop (bulk sampler, cell batches, Adam, iterations) and the
prediction, with one switch per plausible difference.

Inputs come from bench/transfer/dump-prepared.ts (cellsweep's own `prepare`):

  node --import tsx bench/transfer/dump-prepared.ts /work/shared/data/real/gefitinib-jhu006 /tmp/tr/gefitinib-jhu006
  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/transfer/sctl_torch_train.py /tmp/tr/gefitinib-jhu006 \
      --set encoder_hidden=256 l3=5 depth=3 --variant predict=running --variant predict=batch

Every --variant is a space-separated list of key=value overrides on top of
--set; each variant is trained with every seed. One JSON line per run goes to
stdout, a summary per variant (mean +- population std of AUC and AUPR) to stderr.

Switches (defaults = the TypeScript implementation as of the diagnosis):
  scaling      minmax (as dumped) | zscore (per gene, per domain) | raw (the
               values before MinMax: the files' z-scores for the real pairs)
  predict      running (eval mode: BatchNorm running statistics, no dropout)
               | batch (BatchNorm layers normalise with the statistics of all
               the cells at once, no dropout) | batch_pred (only the predictor's
               BatchNorm layers use the cells' statistics) | train (training
               mode: cell-batch statistics and dropout, as a forgotten
               model.eval() would give)
  pred_input   mu | z (the predictor's input in training)
  predict_input mu | z (the predictor's input at prediction: z is one sample)
  enc_bn       concat (one encoder pass over [bulk; cells]) | domain (one pass
               per domain: each normalised with its own batch statistics)
  kl           sum (over latent dimensions, then mean over rows) | mean (over
               every entry: the sum divided by the latent size)
  mmd          multi | single (sigma = mmd_sigma)
  decoder      mirror | linear
  cell_batch   cells per step (all cells when fewer)
  sampling     weighted | none
  model        sctl | bulk-mlp (then: depth, epochs, lr, ... as bulk-mlp.ts;
               give lr=1e-3 for bulk-mlp's default)
"""
import argparse
import json
import math
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.metrics import average_precision_score, roc_auc_score

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import sctl_reference as ref  # noqa: E402

torch.set_num_threads(1)

DEFAULTS = {
    "l1": 1.0, "l2": 1.0, "l3": 1.0, "depth": 5, "iterations": 800, "batch_size": 128, "cell_batch": 128,
    "lr": 2e-4, "weight_decay": 5e-4, "dropout": 0.5, "encoder_hidden": 1024, "encoder_layers": 1, "latent": 16,
    "decoder": "mirror", "recon_weight": 10.0, "kl_weight": 0.5, "mmd": "multi", "mmd_sigma": 1000.0,
    "ot_eps": 0.1, "ot_tau": 1.0, "ot_outer": 10, "ot_inner": 10, "sampling": "weighted",
    "epochs": 30, "model": "sctl",
    "scaling": "minmax", "predict": "running", "pred_input": "mu", "predict_input": "mu", "enc_bn": "concat", "kl": "sum",
}
SEEDS = [42, 50, 60, 70, 80, 124]


def parse_value(text):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_sets(items):
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        if key not in DEFAULTS:
            sys.exit(f"unknown setting {key!r} (known: {', '.join(sorted(DEFAULTS))})")
        out[key] = parse_value(value)
    return out


def load(prefix):
    meta = json.load(open(prefix + ".json"))
    g = len(meta["genes"])
    xb = np.fromfile(prefix + ".bulk.f32", dtype="<f4").reshape(meta["bulk"]["rows"], g)
    xs = np.fromfile(prefix + ".cells.f32", dtype="<f4").reshape(meta["cells"]["rows"], g)
    yb = np.asarray(meta["bulk"]["y"], dtype=np.float32)
    ys = np.asarray(meta["cells"]["y"], dtype=np.int64)
    return meta, xb, xs, yb, ys


def unscale(x, minmax):
    return x * np.asarray(minmax["range"], np.float32) + np.asarray(minmax["min"], np.float32)


def scaled(meta, xb, xs, how):
    if how == "minmax":
        return xb, xs
    rb, rs = unscale(xb, meta["bulk"]["minmax"]), unscale(xs, meta["cells"]["minmax"])
    if how == "raw":
        return rb, rs
    if how == "zscore":
        z = lambda a: ((a - a.mean(0)) / np.where(a.std(0) > 0, a.std(0), 1)).astype(np.float32)
        return z(rb), z(rs)
    sys.exit(f"unknown scaling {how!r}")


class Variant(ref.SCTL):
    """The reference module with the loss terms of one step written out, so
    the switches can change how the batch goes through it."""

    def encode(self, x):
        h = self.encoder(x)
        return self.encoder_mu(h), self.encoder_logvar(h)

    def step_losses(self, xb, xs, yb, cfg, objective):
        nb = xb.shape[0]
        if cfg["enc_bn"] == "concat":
            mu, logvar = self.encode(torch.cat([xb, xs]))
        else:
            (mb, lb), (ms, ls) = self.encode(xb), self.encode(xs)
            mu, logvar = torch.cat([mb, ms]), torch.cat([lb, ls])
        sigma = torch.exp(0.5 * logvar)
        z = mu + sigma * torch.randn_like(mu)
        x = torch.cat([xb, xs])
        d = self.decoder_out(self.decoder(z))
        x_hat = torch.sigmoid(torch.cat([self.decoder_bn_bulk(d[:nb]), self.decoder_bn_cells(d[nb:])]))
        recon = ref.reconstruction_loss(x, x_hat)
        kl = ref.kl_divergence(mu, logvar)
        if cfg["kl"] == "mean":
            kl = kl / mu.shape[1]
        vae = objective["recon_weight"] * recon + objective["kl_weight"] * kl
        mmd_ = ref.mmd(z[:nb], z[nb:], objective["mmd"])
        cost = ref.gaussian_cost(mu[:nb], sigma[:nb], mu[nb:], sigma[nb:])
        plan = ref.uot_plan(cost.detach().double(), *objective["ot"]).to(cost.dtype)
        ot_ = (cost * plan).sum()
        pin = mu if cfg["pred_input"] == "mu" else z
        logits = self.predictor(pin[:nb]).squeeze(1)
        pred = F.binary_cross_entropy_with_logits(logits, yb)
        total = vae + objective["l1"] * ot_ + objective["l2"] * mmd_ + objective["l3"] * pred
        return total, {"vae": float(vae), "ot": float(ot_), "mmd": float(mmd_), "pred": float(pred)}

    @torch.no_grad()
    def predict(self, xs, how, on="mu"):
        """Cell probabilities. BatchNorm layers in 'batch' modes normalise with
        the statistics of all the cells together; their running statistics are
        left untouched (momentum 0 for the pass)."""
        bns = [m for m in self.modules() if isinstance(m, nn.BatchNorm1d)]
        pred_bns = [m for m in self.predictor.modules() if isinstance(m, nn.BatchNorm1d)]
        self.eval()
        if how == "train":
            self.train()
            use = bns
        elif how == "batch":
            use = bns
        elif how == "batch_pred":
            use = pred_bns
        elif how == "running":
            use = []
        else:
            sys.exit(f"unknown predict mode {how!r}")
        saved = [(m, m.momentum) for m in use]
        for m in use:
            m.train()
            m.momentum = 0.0
        mu, logvar = self.encode(xs)
        code = mu if on == "mu" else mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        p = torch.sigmoid(self.predictor(code).squeeze(1))
        for m, momentum in saved:
            m.momentum = momentum
        self.eval()
        return p.numpy()


def bulk_batches(yb, cfg, gen):
    """One epoch of bulk batches as torch's DataLoader gives them: the weighted
    sampler draws len(yb) rows with replacement (weights 1 / class frequency),
    'none' shuffles; consecutive batches of batch_size, a last batch of 1 dropped."""
    n = len(yb)
    if cfg["sampling"] == "weighted":
        counts = np.bincount(yb.astype(np.int64), minlength=2)
        w = torch.tensor(1.0 / counts[yb.astype(np.int64)], dtype=torch.float64)
        order = torch.multinomial(w, n, replacement=True, generator=gen)
    else:
        order = torch.randperm(n, generator=gen)
    bs = cfg["batch_size"]
    return [order[i:i + bs] for i in range(0, n, bs) if len(order[i:i + bs]) >= 2]


def train_one(data, cfg, seed):
    meta, xb_np, xs_np, yb_np, ys = data
    xb_np, xs_np = scaled(meta, xb_np, xs_np, cfg["scaling"])
    torch.manual_seed(seed)
    np.random.seed(seed)
    gen = torch.Generator().manual_seed(seed)
    genes = xb_np.shape[1]
    model = Variant(genes, [cfg["encoder_hidden"]] * cfg["encoder_layers"], cfg["latent"], cfg["decoder"], cfg["depth"], cfg["dropout"])
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    objective = {
        "l1": cfg["l1"], "l2": cfg["l2"], "l3": cfg["l3"], "recon_weight": cfg["recon_weight"], "kl_weight": cfg["kl_weight"],
        "mmd": ("single", cfg["mmd_sigma"]) if cfg["mmd"] == "single" else ("multi", 5, 2.0),
        "ot": (cfg["ot_eps"], cfg["ot_tau"], cfg["ot_outer"], cfg["ot_inner"]),
    }
    xb, xs, yb = torch.tensor(xb_np), torch.tensor(xs_np), torch.tensor(yb_np)
    ns = xs.shape[0]
    cb = min(cfg["cell_batch"], ns)
    pending, cell_order, cell_pos = [], None, ns
    last = {}
    model.train()
    for it in range(cfg["iterations"]):
        if not pending:
            pending = bulk_batches(yb_np, cfg, gen)
        rows = pending.pop(0)
        if cell_pos + cb > ns:
            cell_order, cell_pos = torch.randperm(ns, generator=gen), 0
        cells = cell_order[cell_pos:cell_pos + cb]
        cell_pos += cb
        opt.zero_grad()
        total, last = model.step_losses(xb[rows], xs[cells], yb[rows], cfg, objective)
        total.backward()
        opt.step()
    scores = model.predict(xs, cfg["predict"], cfg["predict_input"])
    return {
        "seed": seed,
        "auc": float(roc_auc_score(ys, scores)),
        "aupr": float(average_precision_score(ys, scores)),
        "last_losses": last,
    }


def train_bulk_mlp(data, cfg, seed):
    """bulk-mlp (trainer/models/bulk-mlp.ts) in torch: the SCTL predictor on the
    genes, trained on the bulk for `epochs` passes, applied to the cells in
    evaluation mode. Settings: depth, epochs, lr, weight_decay, dropout,
    batch_size, sampling, scaling."""
    meta, xb_np, xs_np, yb_np, ys = data
    xb_np, xs_np = scaled(meta, xb_np, xs_np, cfg["scaling"])
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    hidden = [128] * (cfg["depth"] - 1) + [64]
    model = nn.Sequential(*ref.hidden_stack(xb_np.shape[1], hidden, cfg["dropout"]), nn.Linear(64, 1))
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    xb, xs, yb = torch.tensor(xb_np), torch.tensor(xs_np), torch.tensor(yb_np)
    model.train()
    for _ in range(cfg["epochs"]):
        for rows in bulk_batches(yb_np, cfg, gen):
            opt.zero_grad()
            F.binary_cross_entropy_with_logits(model(xb[rows]).squeeze(1), yb[rows]).backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        scores = torch.sigmoid(model(xs).squeeze(1)).numpy()
    return {"seed": seed, "auc": float(roc_auc_score(ys, scores)), "aupr": float(average_precision_score(ys, scores))}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("prefix", help="OUT_PREFIX of dump-prepared.ts")
    ap.add_argument("--set", nargs="*", default=[], help="key=value on top of the defaults")
    ap.add_argument("--variant", nargs="*", action="append", default=None, help="key=value overrides; repeat for several variants")
    ap.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    args = ap.parse_args()
    data = load(args.prefix)
    base = {**DEFAULTS, **parse_sets(args.set)}
    seeds = [int(s) for s in args.seeds.split(",")]
    for items in args.variant or [[]]:
        over = parse_sets(items)
        cfg = {**base, **over}
        runs = []
        start = time.time()
        for seed in seeds:
            r = (train_one if cfg["model"] == "sctl" else train_bulk_mlp)(data, cfg, seed)
            runs.append(r)
            print(json.dumps({"data": os.path.basename(args.prefix), "variant": over, "set": parse_sets(args.set), **r}), flush=True)
        auc, aupr = np.array([r["auc"] for r in runs]), np.array([r["aupr"] for r in runs])
        print(
            f"{os.path.basename(args.prefix)} {' '.join(items) or '(base)'}: AUC {auc.mean():.3f} +- {auc.std():.3f} "
            f"[{' '.join(f'{a:.3f}' for a in auc)}], AUPR {aupr.mean():.3f} +- {aupr.std():.3f} ({time.time() - start:.0f} s)",
            file=sys.stderr, flush=True,
        )


if __name__ == "__main__":
    main()
