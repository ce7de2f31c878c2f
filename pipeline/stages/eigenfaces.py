"""Stage `eigenfaces` (HW7 part 1): the mean face, the top eigenfaces, rebuilds and shares.

    python -m pipeline.stages.eigenfaces      (params: eigenfaces.*)

Reads the face folder eigenfaces.dir; writes metrics/eigenfaces.json (share_percent and
variance_percent by rank "1", "2", …), data/eigenfaces/summary.json (those, the faces' count and
size, the rebuilt faces and their RMSE) and plots/eigenfaces/{mean_face,eigenfaces,
reconstructions}.png. The course's one-shot command is pipeline.eigenfaces.
"""

from __future__ import annotations

import time
from pathlib import Path

from pipeline.lib import drawing
from pipeline.lib import faces as fc
from pipeline.lib.atomic import save_figure, save_json
from pipeline.lib.errors import InputError, stage_guard
from pipeline.lib.params import load_params

METRICS = Path("metrics/eigenfaces.json")  # each eigenface's share: what `dvc metrics show` lists
SUMMARY = Path("data/eigenfaces/summary.json")  # those, the faces' size and the rebuilt faces' RMSE
PLOTS = Path("plots/eigenfaces")


def main(argv: list[str]) -> None:
    started = time.perf_counter()
    params = load_params("eigenfaces")
    if "dir" not in params:
        raise InputError("params.yaml: expected a key eigenfaces.dir (the face folder), found none")
    directory = Path(params["dir"])
    paths = fc.list_face_files(directory)
    names = [p.name for p in paths]
    k, chosen = fc.check_params(params, names)
    print(f"eigenfaces: loading {len(paths)} images from {directory} ...", flush=True)
    faces = fc.load_faces(paths)
    n, h, w, _ = faces.shape
    print(f"eigenfaces: Gram matrix {n}x{n} of {h}x{w}x3 faces, top {k} eigenfaces ...", flush=True)
    model = fc.compute_eigenfaces(faces, k, source=directory)
    originals = faces[[names.index(name) for name in chosen]]
    rebuilt = fc.reconstruct(model, originals)
    ranks = [str(i + 1) for i in range(k)]
    shares = {"share_percent": dict(zip(ranks, model.share_percent[:k].tolist())),
              "variance_percent": dict(zip(ranks, model.variance_percent[:k].tolist()))}
    save_json(SUMMARY, {
        "images": n, "height": h, "width": w, "k": k, **shares,
        "rebuilt": chosen,
        "reconstruction_rmse": {name: fc.rmse(o, r) for name, o, r in zip(chosen, originals, rebuilt)},
    })
    save_json(METRICS, shares)
    eigenfaces = [fc.display_transform(model.eigenface_image(i)) for i in range(k)]
    for name, figure in drawing.eigenface_figures(model.mean, eigenfaces, model.share_percent,
                                                  originals, rebuilt, chosen, k).items():
        save_figure(PLOTS / name, figure)
    print(f"eigenfaces: done in {time.perf_counter() - started:.1f} s -> {METRICS}, {SUMMARY}, {PLOTS}/",
          flush=True)


if __name__ == "__main__":
    stage_guard(main)
