"""Hostile forecast files: a week twice in one file, bad ASINs and huge
numbers are row errors that change nothing."""

import pytest

from acorn.dataio import dataset_load
from inventory.models import AmazonForecast
from inventory.services import forecast_import_dataset

HEADER = "asin,week_start,mean,p70,p80,p90\n"


@pytest.mark.parametrize(("rows", "column", "message"), [
    # one upsert cannot write a row twice: this was a database error (500)
    ("B000000001,2026-01-05,1,1,2,3\n", "week_start",
     "ASIN B000000001 week 2026-01-05 appears twice in the file."),
    ("B00000000,2026-01-12,1,1,2,3\n", "asin", "An ASIN has 10 letters or digits."),
    ("B000000002,2026-01-12,1e100000,1,2,3\n", "mean", "Enter a number."),
])
def test_a_hostile_row_is_an_error_and_nothing_is_written(scope, rows, column, message):
    text = HEADER + "B000000001,2026-01-05,1,1,2,3\n" + rows
    dataset = dataset_load(content=text.encode(), filename="f.csv")
    result = forecast_import_dataset(tenant=scope, dataset=dataset, dry_run=False)
    errors = {row.line: row.errors for row in result.rows if row.errors}
    assert list(errors) == [3]
    assert str(errors[3][column][0]) == message
    assert not result.applied and not AmazonForecast.objects.exists()
