"""pipeline.lib.drawing's image canvases: the mistakes gallery (which visualization images it
shows, and how) and the reconstructions grid."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from pipeline.lib import drawing

HEIGHT, WIDTH = 8, 12  # not square: a layout that swapped the two would show


def labels_with_mistakes(a_wrong: list[int], b_wrong: list[int], half: int = 50) -> tuple[np.ndarray, ...]:
    """(truth, predicted) of 2·half visualization images, with the given indices in the wrong cluster."""
    truth = np.repeat(np.array([0, 1], np.int8), half)
    predicted = truth.copy()
    predicted[a_wrong + b_wrong] = 1 - predicted[a_wrong + b_wrong]
    return truth, predicted


def images_for(chosen: dict) -> dict:
    """One flat image per chosen index, of the index's value (< 255, the canvas's white), so each
    pixel drawn can be traced to its index."""
    return {dataset: np.array([np.full((HEIGHT, WIDTH, 3), index, np.uint8) for index in indices], np.uint8)
            .reshape(-1, HEIGHT, WIDTH, 3) for dataset, (indices, _) in chosen.items()}


def test_chosen_are_the_images_in_the_other_datasets_cluster_in_index_order():
    truth, predicted = labels_with_mistakes([7, 3, 40], [51, 99])
    chosen = drawing.chosen_mistakes(truth, predicted)
    assert chosen[0][0].tolist() == [3, 7, 40] and chosen[0][1] == 3
    assert chosen[1][0].tolist() == [51, 99] and chosen[1][1] == 2


def test_chosen_are_capped_per_dataset_and_the_total_is_kept():
    truth, predicted = labels_with_mistakes(list(range(0, 50, 2)), [60], half=50)
    chosen = drawing.chosen_mistakes(truth, predicted, limit=4)
    assert chosen[0][0].tolist() == [0, 2, 4, 6] and chosen[0][1] == 25
    assert chosen[1][0].tolist() == [60] and chosen[1][1] == 1


def test_perfect_clusters_choose_nothing():
    truth, predicted = labels_with_mistakes([], [])
    chosen = drawing.chosen_mistakes(truth, predicted)
    assert [len(indices) for indices, _ in chosen.values()] == [0, 0]
    assert [total for _, total in chosen.values()] == [0, 0]


def gallery(figure) -> tuple[np.ndarray, list, list]:
    """The canvas (rows, columns, 3), the index titles as (text, x, y) and the row labels as (text, y)."""
    axis = figure.axes[0]
    canvas = np.asarray(axis.get_images()[0].get_array())
    titles = [(t.get_text(), *t.get_position()) for t in axis.texts if t.get_text().isdigit()]
    labels = [(t.get_text(), t.get_position()[1]) for t in axis.texts if t.get_text().startswith("dataset")]
    return canvas, titles, labels


def test_figure_shows_each_chosen_image_once_under_its_index():
    truth, predicted = labels_with_mistakes(list(range(0, 30)), [77])  # 30 of A: three rows of 12
    chosen = drawing.chosen_mistakes(truth, predicted, limit=30)
    figure = drawing.mistakes_figure(images_for(chosen), chosen, columns=12)
    canvas, titles, labels = gallery(figure)
    assert sorted(int(text) for text, _, _ in titles) == [*range(30), 77]  # each once
    for text, x, y in titles:
        assert (canvas[int(y), int(x)] == 255).all()  # the title is in the white gap above...
        below = canvas[int(y) + 1:, int(x)]
        first = np.flatnonzero((below != 255).any(axis=1))[0]
        assert (below[first:first + HEIGHT] == int(text)).all()  # ...a whole image of its own index
    assert canvas.shape[1] == 12 * WIDTH + 11 * (WIDTH // 4)  # 12 columns wide, image widths apart
    assert [text for text, _ in labels] == ["dataset A\nin cluster 1\n(30)", "dataset B\nin cluster 0\n(1)"]
    for text, y in labels:  # each label beside its dataset's first row
        first_index = {"A": 0, "B": 77}[text[8]]
        assert (canvas[int(y), 0] == first_index).all()
    plt.close(figure)


def test_figure_says_how_many_were_left_out_and_labels_a_dataset_without_mistakes():
    truth, predicted = labels_with_mistakes(list(range(20)), [])
    chosen = drawing.chosen_mistakes(truth, predicted, limit=5)
    figure = drawing.mistakes_figure(images_for(chosen), chosen)
    canvas, titles, labels = gallery(figure)
    assert [text for text, _, _ in titles] == ["0", "1", "2", "3", "4"]
    assert [text for text, _ in labels] == ["dataset A\nin cluster 1\n(20, the first 5 shown)",
                                            "dataset B\nin cluster 0\n(0)"]
    assert (canvas[int(labels[1][1])] == 255).all()  # B's row: its label, no image
    plt.close(figure)


@pytest.mark.parametrize("half", [1, 50])
def test_figure_without_mistakes_says_so(half):
    truth, predicted = labels_with_mistakes([], [], half=half)
    chosen = drawing.chosen_mistakes(truth, predicted)
    figure = drawing.mistakes_figure(images_for(chosen), chosen)
    assert not figure.axes[0].get_images()
    assert "every visualization image is in its dataset's cluster" in figure.axes[0].texts[0].get_text()
    plt.close(figure)


def flat_rows(counts: list[int]) -> list[np.ndarray]:
    """One row per count, its images flat and numbered 10·row + column (never 255, the canvas's white)."""
    return [np.array([np.full((HEIGHT, WIDTH, 3), 10 * r + c, np.uint8) for c in range(n)], np.uint8)
            .reshape(-1, HEIGHT, WIDTH, 3) for r, n in enumerate(counts)]


def test_tile_puts_each_image_in_its_row_and_column_and_leaves_the_rest_white():
    canvas, tops = drawing.tile(flat_rows([3, 0, 2]), columns=3, gap_x=2, gap_y=5)
    assert canvas.shape == (3 * (HEIGHT + 5), 3 * WIDTH + 2 * 2, 3)
    assert tops == [5, 5 + HEIGHT + 5, 5 + 2 * (HEIGHT + 5)]
    painted = np.zeros(canvas.shape[:2], bool)
    for r, count in enumerate([3, 0, 2]):
        for c in range(count):
            cell = (slice(tops[r], tops[r] + HEIGHT), slice(c * (WIDTH + 2), c * (WIDTH + 2) + WIDTH))
            assert (canvas[cell] == 10 * r + c).all()
            painted[cell] = True
    assert (canvas[~painted] == 255).all()  # gaps, the empty row and the short row's end


def test_image_grid_draws_one_canvas_with_each_rows_title_beside_it():
    figure = drawing.image_grid(flat_rows([4, 4, 2]), ["first", "second", "third"], "a grid")
    (axis,) = figure.axes
    canvas = np.asarray(axis.get_images()[0].get_array())
    assert canvas.shape[1] == 4 * WIDTH + 3 * max(1, WIDTH // 16)
    titles = {t.get_text(): t.get_position() for t in axis.texts}
    assert set(titles) == {"first", "second", "third"}
    for r, name in enumerate(["first", "second", "third"]):
        x, y = titles[name]
        assert x < 0 and (canvas[int(y), 0] == 10 * r).all()  # left of the canvas, level with its row
    assert figure.get_suptitle() == "a grid"
    plt.close(figure)
