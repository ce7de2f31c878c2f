"""The course's pca.sh contract: rebuild one face of a folder from the folder's top 5 eigenfaces.

    python -m pipeline.eigenfaces IMAGES_DIR INPUT_IMAGE OUTPUT_IMAGE
    bash pca.sh IMAGES_DIR INPUT_IMAGE OUTPUT_IMAGE          (the same, as the course called it)

INPUT_IMAGE is a file name inside IMAGES_DIR (or a path to it); OUTPUT_IMAGE is written at the
input's size, in the format its extension names. The DVC stage is pipeline.stages.eigenfaces.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from pipeline.lib import faces as fc
from pipeline.lib.atomic import atomic_path
from pipeline.lib.errors import CommandLine, InputError, main_guard

K = 5  # the homework's "top 5 eigenfaces"


def rebuild(directory: str, image: str, output: str) -> None:
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
    model = fc.compute_eigenfaces(faces, K, source=directory)
    rebuilt = fc.reconstruct(model, faces[names.index(name)][None])[0]
    with atomic_path(output) as tmp:
        options = {"quality": 95, "subsampling": 0} if fmt == "JPEG" else {}
        Image.fromarray(rebuilt, "RGB").save(tmp, format=fmt, **options)
    print(f"eigenfaces: {directory / name} rebuilt from the top {K} eigenfaces -> {output}")


def parser() -> CommandLine:
    command_line = CommandLine(prog="python -m pipeline.eigenfaces", description=__doc__,
                               usage="%(prog)s IMAGES_DIR INPUT_IMAGE OUTPUT_IMAGE")
    # one list, counted here: a missing path is "expected 3 arguments, found 2", as pca.sh says it
    command_line.add_argument("paths", nargs="*", metavar="PATH", help="IMAGES_DIR INPUT_IMAGE OUTPUT_IMAGE")
    return command_line


def main(argv: list[str]) -> None:
    command_line = parser()
    paths = command_line.parse_args(argv).paths
    if len(paths) != 3:
        command_line.error(f"expected 3 arguments, found {len(paths)}")
    rebuild(*paths)


if __name__ == "__main__":
    main_guard(main)
