"""Documentation is held to the code: a dataset without docs fails here."""

from analytics import docs
from analytics.datasets import DATASETS


def test_datasets_md_is_current():
    assert docs.DATASETS_MD.read_text(encoding="utf-8") == docs.render_datasets_md(), (
        "docs/datasets.md is stale: run `python -m analytics docs`"
    )


def test_every_dataset_and_column_is_documented():
    text = docs.DATASETS_MD.read_text(encoding="utf-8")
    for dataset in DATASETS.values():
        assert dataset.description, f"{dataset.name} has no description"
        assert f"## `{dataset.name}`" in text
        for column in dataset.columns:
            assert f"| `{column.name}` |" in text
            assert all(header in text for header in column.headers)
