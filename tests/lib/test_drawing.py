"""pipeline.lib.drawing's mistakes gallery: which visualization images it shows, and how."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from pipeline.lib import drawing


def labels_with_mistakes(a_wrong: list[int], b_wrong: list[int], half: int = 50) -> tuple[np.ndarray, ...]:
    """(truth, predicted) of 2·half visualization images, with the given indices in the wrong cluster."""
    truth = np.repeat(np.array([0, 1], np.int8), half)
    predicted = truth.copy()
    predicted[a_wrong + b_wrong] = 1 - predicted[a_wrong + b_wrong]
    return truth, predicted


def images_for(chosen: dict) -> dict:
    """One distinct flat-coloured 8×8 image per chosen index, so a panel can be traced to its index."""
    return {dataset: np.array([np.full((8, 8, 3), index % 256, np.uint8) for index in indices], np.uint8)
            .reshape(-1, 8, 8, 3) for dataset, (indices, _) in chosen.items()}


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


def panels(figure) -> dict[str, np.ndarray]:
    """Index title → the pixels drawn just below it, for every image the gallery shows."""
    axis = figure.axes[0]
    if not axis.get_images():
        return {}
    canvas = np.asarray(axis.get_images()[0].get_array())
    shown = {}
    for text in axis.texts:
        if text.get_text().isdigit():
            x, y = text.get_position()
            shown[text.get_text()] = canvas[int(y) + 3, int(x)]
    return shown


def test_figure_shows_each_chosen_image_once_titled_with_its_index():
    truth, predicted = labels_with_mistakes(list(range(0, 30)), [77])  # 30 of A: three rows of 12
    chosen = drawing.chosen_mistakes(truth, predicted, limit=30)
    figure = drawing.mistakes_figure(images_for(chosen), chosen, columns=12)
    shown = panels(figure)
    assert sorted(shown, key=int) == [str(i) for i in [*range(30), 77]]
    for title, pixel in shown.items():
        assert (pixel == int(title) % 256).all()  # the image under title i is image i
    texts = " ".join(text.get_text() for axis in figure.axes for text in axis.texts)
    assert "dataset A\nin cluster 1\n(30)" in texts and "dataset B\nin cluster 0\n(1)" in texts
    plt.close(figure)


def test_figure_says_how_many_were_left_out():
    truth, predicted = labels_with_mistakes(list(range(20)), [])
    chosen = drawing.chosen_mistakes(truth, predicted, limit=5)
    figure = drawing.mistakes_figure(images_for(chosen), chosen)
    assert len(panels(figure)) == 5
    texts = " ".join(text.get_text() for axis in figure.axes for text in axis.texts)
    assert "(20, the first 5 shown)" in texts
    plt.close(figure)


@pytest.mark.parametrize("half", [1, 50])
def test_figure_without_mistakes_says_so(half):
    truth, predicted = labels_with_mistakes([], [], half=half)
    chosen = drawing.chosen_mistakes(truth, predicted)
    figure = drawing.mistakes_figure(images_for(chosen), chosen)
    assert not panels(figure)
    assert "every visualization image is in its dataset's cluster" in figure.axes[0].texts[0].get_text()
    plt.close(figure)
