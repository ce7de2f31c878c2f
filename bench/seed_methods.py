"""Reproduce the seed report's two methods on real data, beside its published figures.

    .venv/bin/python -m bench.seed_methods [--data hw7] [--keep]

In a throw-away git + DVC copy of the project with data.dir = the --data folder: the commands the
README and the report give (pipeline.lib.report.seed.exp_run_command), one after the other:

    dvc exp run -n seed-method-1 -S embed.model=vae -S embed.train_samples=null ...   # from a clean state
    dvc exp run -n seed-method-2 -S embed.model=vae -S embed.train_samples=null ...   # reuses method I's VAE

Method I trains the report's VAE (wall time: training included, nothing cached); method II
changes only pca.* and cluster.*, so it reruns views onwards. Reads data/cluster/summary.json
(visualization accuracy), data/predict/summary.json (pair accuracy, the Kaggle estimate) and
data/embed/summary.json (the VAE's loss as MSE and in the report's units: 32·32 × BCE + KL per image)
and writes the ``seed-methods`` section of BENCHMARKS.md beside pipeline.lib.report.seed.SEED_REPORT.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from bench import _repo as rp
from bench import record
from pipeline.lib.report.seed import EXPERIMENT_NAMES, SEED_REPORT, exp_run_command


def figures(repo: Path) -> dict:
    embed = rp.metrics(repo, "embed")
    return {"visualization": rp.metrics(repo, "cluster")["visualization_accuracy"],
            "pair": rp.metrics(repo, "predict")["pair_accuracy"],
            "mse": embed["reconstruction_loss"], "report_units": embed.get("report_units_loss")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="hw7", help="hw7, holdout, or a competition folder outside the repository")
    parser.add_argument("--keep", action="store_true", help="keep the temporary repository")
    args = parser.parse_args()
    folder = rp.data_folder(args.data)
    if rp.missing_competition(folder):
        return 2
    note = rp.load_note()
    rows = []
    with rp.scratch("bench-seed-methods-", keep=args.keep) as tmp:
        repo = rp.make_repo(rp.place_repo(tmp, [folder]), {"data": {"dir": rp.shown(folder)}})
        env = rp.environment(tmp)
        for published in SEED_REPORT:
            command = exp_run_command(published.configuration)
            print(f"{command} in {repo} ...", flush=True)
            result = rp.dvc(repo, env, *shlex.split(command)[1:], monitor=False, timeout=6 * 3600)
            ran = rp.ran_stages(result["output"])
            measured = figures(repo)
            print(f"  {json.dumps(measured)}, {result['wall']:.0f} s, ran {', '.join(ran)}", flush=True)
            rows.append([published.method, f"`{EXPERIMENT_NAMES[published.configuration]}`",
                         published.visualization_accuracy or "–", published.kaggle,
                         published.report_units_loss or "–",
                         f"{100 * measured['visualization']:.2f} %", f"{measured['pair']:.5f}",
                         "–" if measured["report_units"] is None else f"{measured['report_units']:.4f}",
                         f"{measured['mse']:.5f}", f"{result['wall']:.0f} s", ", ".join(ran)])
    commands = "\n".join(exp_run_command(p.configuration) for p in SEED_REPORT)
    record.update_section("seed-methods", f"""## The seed report's methods, reproduced

`.venv/bin/python -m bench.seed_methods --data {rp.named(args.data)}`: in a throw-away git + DVC copy of
the project with `data.dir: {rp.shown(folder)}`, from a clean state, the two commands the README
and the report give, in this order (method II reuses method I's VAE and reruns views onwards):

```sh
{commands}
```

Published: the seed report's own figures, quoted (visualization accuracy; Kaggle private score;
its VAE loss per image, 32·32 × binary cross-entropy + KL). Here: the same method through this
pipeline on {rp.named(args.data)} (metrics/cluster.json, metrics/predict.json `pair_accuracy` = the
Kaggle score the submission should get, data/embed/summary.json: `report_units_loss` in the report's
units and `reconstruction_loss`, the mean squared error every model reports). One run each.

{rp.table(["method", "experiment", "published visualization", "published Kaggle", "published loss",
           "visualization here", "pair accuracy here", "loss here (report units)", "MSE here", "wall",
           "stages run"], rows)}

Machine: {record.machine()}. {note}
""")
    return 0


if __name__ == "__main__":
    sys.exit(main())
