"""Eigenfaces stage (HW7 part 1). The logic lives in pipeline.faces; this script does I/O only.

    python -m pipeline.eigenfaces                       # DVC stage: params.yaml section 'eigenfaces'
    python -m pipeline.eigenfaces DIR INPUT OUTPUT      # course contract: rebuild DIR/INPUT from
                                                        # the top 5 eigenfaces of DIR into OUTPUT
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image

from pipeline import faces as fc
from pipeline.atomic import atomic_path, save_figure, save_json
from pipeline.errors import InputError
from pipeline.stage import PARAMS_FILE, load_params, main_guard

METRICS = Path("metrics/eigenfaces.json")
PLOTS = Path("plots/eigenfaces")
CLI_K = 5
PANEL_INCHES, DPI = 2.0, 100
USAGE = "usage: python -m pipeline.eigenfaces [IMAGES_DIR INPUT_IMAGE OUTPUT_IMAGE]"


def _where(key: str) -> str:
    return f"{PARAMS_FILE}: eigenfaces.{key}"


def check_params(params: dict, names: list[str]) -> tuple[int, list[str]]:
    """Validate ``k`` and ``rebuild`` against the folder's file names; return (k, names to rebuild)."""
    n = len(names)
    k = params.get("k", 5)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n:
        raise InputError(f"{_where('k')}: expected an integer from 1 to {n} (the number of images), found {k!r}")
    rebuild = params.get("rebuild", 4)
    if isinstance(rebuild, int) and not isinstance(rebuild, bool):
        if not 1 <= rebuild <= n:
            raise InputError(f"{_where('rebuild')}: expected a count from 1 to {n} or a list of file names, "
                             f"found {rebuild!r}")
        return k, [names[i] for i in fc.evenly_spaced(rebuild, n)]
    if not isinstance(rebuild, list) or not rebuild or not all(isinstance(r, str) for r in rebuild):
        raise InputError(f"{_where('rebuild')}: expected a count from 1 to {n} or a non-empty list of file "
                         f"names, found {rebuild!r}")
    missing = [r for r in rebuild if r not in names]
    if missing:
        raise InputError(f"{_where('rebuild')}: expected file names inside the face folder, "
                         f"found {missing} which it does not contain")
    return k, list(dict.fromkeys(rebuild))


def _show(ax, image: np.ndarray, title: str) -> None:
    # Small faces (25x25) are blown up with nearest-neighbour; big ones are smoothed when shrunk.
    small = max(image.shape[:2]) < PANEL_INCHES * DPI
    ax.imshow(image, interpolation="nearest" if small else "antialiased")
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _figure(rows: int, cols: int):
    fig, axes = _pyplot().subplots(rows, cols, figsize=(cols * PANEL_INCHES, rows * (PANEL_INCHES + 0.3)),
                                   dpi=DPI, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    return fig, axes


def write_plots(model: fc.Eigenfaces, originals: np.ndarray, rebuilt: np.ndarray, names: list[str]) -> None:
    plt = _pyplot()
    fig, axes = _figure(1, 1)
    _show(axes[0, 0], np.clip(np.rint(model.mean), 0, 255).astype(np.uint8), "mean face")
    fig.tight_layout()
    save_figure(PLOTS / "mean_face.png", fig)
    plt.close(fig)

    shares = model.share_percent
    fig, axes = _figure(1, model.k)
    for i in range(model.k):
        _show(axes[0, i], fc.display_transform(model.eigenface_image(i)), f"#{i + 1}: {shares[i]:.1f} %")
    fig.tight_layout()
    save_figure(PLOTS / "eigenfaces.png", fig)
    plt.close(fig)

    cols = min(len(names), 6)
    groups = -(-len(names) // cols)
    fig, axes = _figure(2 * groups, cols)
    for j, name in enumerate(names):
        row, col = 2 * (j // cols), j % cols
        _show(axes[row, col], originals[j], name)
        _show(axes[row + 1, col], rebuilt[j], f"{name}, k={model.k}")
    fig.tight_layout()
    save_figure(PLOTS / "reconstructions.png", fig)
    plt.close(fig)


def run_stage() -> None:
    start = time.perf_counter()
    params = load_params("eigenfaces")
    if "dir" not in params:
        raise InputError(f"{PARAMS_FILE}: expected a key eigenfaces.dir (the face folder), found none")
    directory = Path(params["dir"])
    paths = fc.list_face_files(directory)
    names = [p.name for p in paths]
    k, chosen = check_params(params, names)
    print(f"eigenfaces: loading {len(paths)} images from {directory} ...", flush=True)
    faces = fc.load_faces(paths)
    n, h, w, _ = faces.shape
    print(f"eigenfaces: Gram matrix {n}x{n} of {h}x{w}x3 faces, top {k} eigenfaces ...", flush=True)
    model = fc.compute_eigenfaces(faces, k, source=directory)
    index = [names.index(name) for name in chosen]
    originals = faces[index]
    rebuilt = fc.reconstruct(model, originals)
    ranks = [str(i + 1) for i in range(k)]
    save_json(METRICS, {
        "images": n, "height": h, "width": w, "k": k,
        "share_percent": dict(zip(ranks, model.share_percent[:k].tolist())),
        "variance_percent": dict(zip(ranks, model.variance_percent[:k].tolist())),
        "rebuilt": chosen,
        "reconstruction_rmse": {name: fc.rmse(o, r) for name, o, r in zip(chosen, originals, rebuilt)},
    })
    write_plots(model, originals, rebuilt, chosen)
    print(f"eigenfaces: done in {time.perf_counter() - start:.1f} s -> {METRICS}, {PLOTS}/", flush=True)


def run_cli(directory: str, image: str, output: str) -> None:
    directory, output = Path(directory), Path(output)
    fmt = Image.registered_extensions().get(output.suffix.lower())
    if fmt is None or fmt not in Image.SAVE:
        raise InputError(f"{output}: expected an image file name ending in .jpg/.png/.bmp/..., "
                         f"found extension '{output.suffix}'")
    paths = fc.list_face_files(directory)
    names = [p.name for p in paths]
    name = image if image in names else Path(image).name
    if name not in names or (image != name and Path(image).resolve() != (directory / name).resolve()):
        raise InputError(f"{image}: expected the name of an image inside {directory}, found no such image "
                         f"(it has {len(names)} images, e.g. {', '.join(names[:3])})")
    faces = fc.load_faces(paths)
    model = fc.compute_eigenfaces(faces, CLI_K, source=directory)
    rebuilt = fc.reconstruct(model, faces[names.index(name)][None])[0]
    with atomic_path(output) as tmp:
        options = {"quality": 95, "subsampling": 0} if fmt == "JPEG" else {}
        Image.fromarray(rebuilt, "RGB").save(tmp, format=fmt, **options)
    print(f"eigenfaces: {directory / name} rebuilt from the top {CLI_K} eigenfaces -> {output}")


def main(argv: list[str]) -> None:
    if not argv:
        run_stage()
    elif len(argv) == 3:
        run_cli(*argv)
    else:
        raise InputError(f"command line: expected no arguments or 3, found {len(argv)}; {USAGE}")


if __name__ == "__main__":
    main_guard(main)
