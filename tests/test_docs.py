"""Documentation is held to the code: a dataset without docs fails here."""

import re

from analytics.intake.datasets import DATASETS
from analytics.intake.ingest import IngestResult
from analytics.output import docs
from analytics.settings import PROJECT_ROOT


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


def test_readme_names_the_columns_set_accepts_and_the_ingest_fields():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    listed = re.search(r"Only columns that can hold one value per\s+file are accepted \(([^)]*)\)", readme)
    assert listed, "README no longer lists the columns --set accepts"
    named = {label.strip() for label in listed.group(1).split(",")}
    one_per_file = {c.label for d in DATASETS.values() if d.uploadable for c in d.columns if c.one_per_file}
    assert named == one_per_file
    documented = re.search(r"one object per file:\s+`([^`]*)`", readme).group(1)
    assert [f.strip() for f in documented.split(",")] == list(IngestResult(file="x").to_dict())


def test_every_shared_macro_is_documented_in_metrics_md():
    from analytics.compute import metrics

    text = metrics.MACROS_PATH.read_text(encoding="utf-8")
    defined = set(re.findall(r"CREATE OR REPLACE TEMP MACRO (\w+)", text))
    documented = {name for label, _ in metrics.macro_docs() for name in label.split(" / ")}
    assert defined == documented, "each macro in _macros.sql needs a comment above it naming it"
    assert all(f"`{name}`" in metrics.DOCS_PATH.read_text(encoding="utf-8") for name in defined)
