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

from pipeline.lib import drawing, paths
from pipeline.lib import faces as fc
from pipeline.lib.atomic import save_figure, save_json
from pipeline.lib.config.params import load
from pipeline.lib.config.eigenfaces import EigenfacesConfig
from pipeline.lib.errors import stage_guard


def main() -> None:
    started = time.perf_counter()
    config = load(EigenfacesConfig)
    directory = Path(config.dir)
    files = fc.list_face_files(directory)
    names = [p.name for p in files]
    k, chosen = config.k, config.chosen(names)
    print(f"eigenfaces: loading {len(files)} images from {directory} ...", flush=True)
    faces = fc.load_faces(files)
    n, h, w, _ = faces.shape
    print(f"eigenfaces: Gram matrix {n}x{n} of {h}x{w}x3 faces, top {k} eigenfaces ...", flush=True)
    model = fc.compute_eigenfaces(faces, k, source=directory)
    originals = faces[[names.index(name) for name in chosen]]
    rebuilt = fc.reconstruct(model, originals)
    ranks = [str(i + 1) for i in range(k)]
    shares = {"share_percent": dict(zip(ranks, model.share_percent[:k].tolist())),
              "variance_percent": dict(zip(ranks, model.variance_percent[:k].tolist()))}
    # those shares, the faces' size and the rebuilt faces' RMSE, for the report
    save_json(paths.EIGENFACES_SUMMARY, {
        "images": n, "height": h, "width": w, "k": k, **shares,
        "rebuilt": chosen,
        "reconstruction_rmse": {name: fc.rmse(o, r) for name, o, r in zip(chosen, originals, rebuilt)},
    })
    save_json(paths.EIGENFACES_METRICS, shares)  # each eigenface's share: what `dvc metrics show` lists
    eigenfaces = [fc.display_transform(model.eigenface_image(i)) for i in range(k)]
    for name, figure in drawing.eigenface_figures(model.mean, eigenfaces, model.share_percent,
                                                  originals, rebuilt, chosen, k).items():
        save_figure(paths.EIGENFACE_PICTURES[name], figure)
    print(f"eigenfaces: done in {time.perf_counter() - started:.1f} s -> {paths.EIGENFACES_METRICS}, "
          f"{paths.EIGENFACES_SUMMARY}, {paths.EIGENFACES_PLOTS}/",
          flush=True)


if __name__ == "__main__":
    stage_guard(main)
