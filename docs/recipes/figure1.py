"""Figure 1 of Ioffe & Szegedy (2015) from a bn-repro run folder, with pandas and matplotlib.

  python3 docs/recipes/figure1.py RUN_DIR [--nets baseline bn] [--unit 0]

Works on a one-seed run, a several-seed run (draws the seed mean, min-max band shaded) and a sweep
(pick its networks by name, e.g. --nets baseline bn-x5). Writes RUN_DIR/figure1-matplotlib.png and
prints each drawn network's final mean test accuracy.
"""
import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt
import pandas as pd

PAPER = Path(__file__).resolve().parents[2] / "paper" / "fig1a.csv"  # the paper's Fig. 1(a) points
PAPER_ARM = {False: "without_bn", True: "with_bn"}

cli = argparse.ArgumentParser()
cli.add_argument("run")
cli.add_argument("--nets", nargs="+", default=["baseline", "bn"], help="networks (the arm column)")
cli.add_argument("--unit", type=int, default=None, help="last-layer unit for (b, c); default: the first recorded")
args = cli.parse_args()
run = Path(args.run)
if not (run / "accuracy.csv").is_file():
    raise SystemExit(f"no accuracy.csv in {run}: give a run folder of bn-repro mnist, sweep or merge")
acc = pd.read_csv(run / "accuracy.csv")
act = pd.read_csv(run / "activations.csv")
missing = [n for n in args.nets if n not in set(acc.arm)]
if missing:
    raise SystemExit(f"no network {missing} in {run}; it has {sorted(set(acc.arm))}")
act = act[act.layer == act.layer.max()]  # the last hidden layer
unit = act.unit.min() if args.unit is None else args.unit
if unit not in set(act.unit):
    raise SystemExit(f"unit {unit} is not recorded in {run}; it has {sorted(set(act.unit))}")
act = act[act.unit == unit]
percentiles = [c for c in act.columns if c[0] == "p" and c[1:].isdigit()]

fig, axes = plt.subplots(1, 1 + len(args.nets), figsize=(4 * (1 + len(args.nets)), 3.4))
colours = dict(zip(args.nets, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
paper = pd.read_csv(PAPER) if PAPER.exists() else None
for net in args.nets:
    # One row per (seed, step): average over seeds at each step, never join seeds into one line.
    curve = acc[acc.arm == net].groupby("step").test_accuracy.agg(["mean", "min", "max", "count"])
    axes[0].plot(curve.index, curve["mean"], color=colours[net], label=net)
    axes[0].fill_between(curve.index, curve["min"], curve["max"], color=colours[net], alpha=0.2, lw=0)
    print(f"{net}: final test accuracy {curve['mean'].iloc[-1]:.6f} at step {curve.index[-1]}, mean of {curve['count'].iloc[-1]} seed(s)")
if paper is not None:
    for with_bn, name in PAPER_ARM.items():
        p = paper[paper.arm == name]
        axes[0].plot(p.step, p.test_accuracy, "k--" if with_bn else "k:", lw=1, label=f"paper, {'BN' if with_bn else 'baseline'}")
axes[0].set(title="(a) test accuracy", xlabel="steps", ylim=(0.7, 1.0), xlim=(0, acc.step.max()))
axes[0].legend(fontsize="small")

for ax, net in zip(axes[1:], args.nets):
    mean = act[act.arm == net].groupby("step")[percentiles].mean()  # seed mean of each percentile
    for p in percentiles:
        ax.plot(mean.index, mean[p], color=colours[net], lw=2 if p == "p50" else 1, label=p)
    ax.set(title=f"{net}: unit {unit}, sigmoid input", xlabel="steps", xlim=(0, acc.step.max()))
    ax.legend(fontsize="small")
bottom = min(ax.get_ylim()[0] for ax in axes[1:])
top = max(ax.get_ylim()[1] for ax in axes[1:])
for ax in axes[1:]:
    ax.set_ylim(bottom, top)  # (b) and (c) on one scale, as the paper compares them
fig.tight_layout()
fig.savefig(run / "figure1-matplotlib.png", dpi=150)
print(f"wrote {run / 'figure1-matplotlib.png'}")
