"""Unit tests of reading the AWS Price List's answers: which price is a training job's, and where to ask."""

from __future__ import annotations

import json

import pytest

from sagemaker_launcher.aws.prices import NoPrice, endpoint_region, highest_training_price


def entry(component: str, usage: str, prices: dict[str, str], unit: str = "Hrs") -> str:
    """A GetProducts entry for ml.g5.xlarge, cut to the fields that decide."""
    attributes = {"instanceName": "ml.g5.xlarge", "component": component, "usagetype": usage}
    rate = {"unit": unit, "pricePerUnit": prices}
    return json.dumps(
        {
            "product": {"attributes": attributes},
            "terms": {"OnDemand": {"T": {"priceDimensions": {"R": rate}}}},
        }
    )


def test_the_training_product_is_priced_not_the_other_components() -> None:
    products = [
        entry("Hosting", "USE1-Host:ml.g5.xlarge", {"USD": "1.6100000000"}),
        entry("Training", "USE1-Train:ml.g5.xlarge", {"USD": "1.4080000000"}),
        entry("Notebook", "USE1-Notebk:ml.g5.xlarge", {"USD": "1.4100000000"}),
    ]
    price = highest_training_price(products, "ml.g5.xlarge", "us-east-1")
    assert (price.amount, price.currency) == (1.408, "USD")
    # Already decoded entries are read the same way.
    assert highest_training_price([json.loads(products[1])], "ml.g5.xlarge", "us-east-1") == price


def test_a_price_in_china_is_in_yuan() -> None:
    price = highest_training_price(
        [entry("Training", "CNN1-Train:ml.g5.xlarge", {"CNY": "12.3400000000"})], "ml.g5.xlarge", "cn-north-1"
    )
    assert (price.amount, price.currency) == (12.34, "CNY")


@pytest.mark.parametrize(
    "products",
    [
        [],
        [entry("Hosting", "USE1-Host:ml.g5.xlarge", {"USD": "1.61"})],
        [entry("Training", "USE1-Train:ml.g5.xlarge-Spot", {"USD": "0.5"})],
        [entry("Training", "USE1-Train:ml.g5.xlarge", {"USD": "0.0000000000"})],
        [entry("Training", "USE1-Train:ml.g5.xlarge", {"USD": "1.408"}, unit="GB-Mo")],
    ],
    ids=["nothing", "other component", "spot only", "zero", "not hourly"],
)
def test_no_on_demand_hourly_training_price_is_no_price(products: list[str]) -> None:
    with pytest.raises(NoPrice, match=r"lists no on-demand training price for ml\.g5\.xlarge in us-east-1"):
        highest_training_price(products, "ml.g5.xlarge", "us-east-1")


def test_the_nearest_price_list_endpoint_is_asked() -> None:
    regions = ("us-west-2", "ca-central-1", "eu-west-1", "me-south-1", "ap-northeast-1", "cn-north-1")
    assert [endpoint_region(region) for region in regions] == [
        "us-east-1",
        "us-east-1",
        "eu-central-1",
        "eu-central-1",
        "ap-south-1",
        "cn-northwest-1",
    ]
