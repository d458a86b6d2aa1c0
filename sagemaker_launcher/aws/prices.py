"""On-demand prices of SageMaker training instances, from the AWS Price List API (GetProducts).

Asked only for the dry run's cost bound, so it is quick to give up: short timeouts, no retries, and
any failure becomes ``NoPrice`` with the reason in a few words, never an error. The Price List answers
in a few regions of each partition; the one nearest the job's region is asked. ``AWS_ENDPOINT_URL_PRICING``
(or ``AWS_ENDPOINT_URL``) points it elsewhere, as it does any boto3 client.

Each answer entry is one product as a JSON string: ``product.attributes`` (``instanceName``,
``regionCode``, ``component``, ``usagetype`` such as ``USE1-Train:ml.g5.xlarge``) and
``terms.OnDemand.<offer>.priceDimensions.<rate>.pricePerUnit`` (``{"USD": "1.4080000000"}``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sagemaker_launcher.aws.clients import aws_client
from sagemaker_launcher.aws.faults import one_line
from sagemaker_launcher.errors import LauncherError

SERVICE_CODE = "AmazonSageMaker"
# Where the Price List API answers (botocore's endpoints for "api.pricing"), by region prefix.
_ENDPOINT_REGIONS = (
    ("cn-", "cn-northwest-1"),
    ("eu-", "eu-central-1"),
    ("me-", "eu-central-1"),
    ("af-", "eu-central-1"),
    ("il-", "eu-central-1"),
    ("ap-", "ap-south-1"),
)
DEFAULT_ENDPOINT_REGION = "us-east-1"
CONNECT_TIMEOUT_S = 2
READ_TIMEOUT_S = 3
# One instance type in one region lists a product per SageMaker component (notebook, hosting,
# training, processing, ...): far fewer than a page.
_PAGE_SIZE = 100
# The answer is paged; an instance type's products fit in a few pages, so more is a service gone odd.
_MAX_PAGES = 20
_HOURLY_UNITS = frozenset({"Hrs", "Hours", "hrs", "hours"})


@dataclass(frozen=True)
class HourlyPrice:
    """What one instance costs for one hour, in the Price List's currency (USD, or CNY in China)."""

    amount: float
    currency: str


class NoPrice(Exception):
    """The Price List gave no price; the message says why, in a few words."""


def endpoint_region(region: str) -> str:
    """The Price List API region that serves ``region``'s prices, e.g. ``eu-central-1`` for ``eu-west-1``."""
    for prefix, answer in _ENDPOINT_REGIONS:
        if region.startswith(prefix):
            return answer
    return DEFAULT_ENDPOINT_REGION


def training_price(instance_type: str, region: str) -> HourlyPrice:
    """The on-demand price of one ``instance_type`` training instance-hour in ``region``.

    Raises ``NoPrice`` for anything short of an answer: no credentials, no network, an error from the
    endpoint, or a region or instance type the Price List does not list.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    filters = {"regionCode": region, "instanceName": instance_type}
    try:
        client = aws_client(
            "pricing",
            endpoint_region(region),
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=READ_TIMEOUT_S,
            retries={"mode": "standard", "total_max_attempts": 1},
        )
        price_list = _all_pages(client, filters)
    except LauncherError as error:
        raise NoPrice(one_line(error.message, 200)) from None
    except (BotoCoreError, ClientError) as error:
        raise NoPrice(_in_words(error)) from None
    try:
        return highest_training_price(price_list, instance_type, region)
    except (ValueError, TypeError, AttributeError) as error:
        raise NoPrice(
            f"the AWS Price List's answer could not be read ({one_line(str(error), 120)})"
        ) from None


def _all_pages(client: Any, filters: dict[str, str]) -> list[str]:
    """Every GetProducts page (each ends with a NextToken while more follow), up to ``_MAX_PAGES``."""
    request: dict[str, Any] = {
        "ServiceCode": SERVICE_CODE,
        "Filters": [
            {"Type": "TERM_MATCH", "Field": field, "Value": value} for field, value in filters.items()
        ],
        "MaxResults": _PAGE_SIZE,
    }
    products: list[str] = []
    for _ in range(_MAX_PAGES):
        answer = client.get_products(**request)
        products += answer.get("PriceList", [])
        if not answer.get("NextToken"):
            break
        request["NextToken"] = answer["NextToken"]
    return products


def highest_training_price(
    price_list: Sequence[str | dict[str, Any]], instance_type: str, region: str
) -> HourlyPrice:
    """The highest on-demand hourly training price among GetProducts entries (an upper bound stays one).

    Entries are products as JSON strings (or already decoded); products of other components, spot
    products and zero prices are left out.
    """
    prices = []
    for entry in price_list:
        product = json.loads(entry) if isinstance(entry, str) else entry
        if not _is_on_demand_training(product.get("product", {}).get("attributes", {}), instance_type):
            continue
        for offer in product.get("terms", {}).get("OnDemand", {}).values():
            for rate in offer.get("priceDimensions", {}).values():
                if rate.get("unit") not in _HOURLY_UNITS:
                    continue
                prices += [
                    HourlyPrice(float(amount), currency)
                    for currency, amount in rate.get("pricePerUnit", {}).items()
                    if float(amount) > 0
                ]
    if not prices:
        raise NoPrice(f"the AWS Price List lists no on-demand training price for {instance_type} in {region}")
    if len({price.currency for price in prices}) > 1:
        raise NoPrice(f"the AWS Price List prices {instance_type} in {region} in several currencies")
    return max(prices, key=lambda price: price.amount)


def _is_on_demand_training(attributes: dict[str, str], instance_type: str) -> bool:
    name = attributes.get("instanceName") or attributes.get("instanceType")
    usage = attributes.get("usagetype", "")
    training = "Training" in (attributes.get("component"), attributes.get("platoinstancetype"))
    return (
        name == instance_type
        and "Spot" not in usage
        and (training or usage.endswith(f"Train:{instance_type}"))
    )


def _in_words(error: Exception) -> str:
    """A botocore failure as the few words after "no cost estimate:"."""
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
        ReadTimeoutError,
    )

    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return "no AWS credentials were found to ask the AWS Price List with"
    if isinstance(error, ReadTimeoutError):
        return f"the AWS Price List did not answer within {READ_TIMEOUT_S} s"
    if isinstance(error, EndpointConnectionError | ConnectTimeoutError):
        return f"the AWS Price List could not be reached ({one_line(str(error), 160)})"
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = str(info.get("Code", ""))
        if code in {"AccessDenied", "AccessDeniedException"}:
            return "your AWS identity may not call pricing:GetProducts"
        if (isinstance(status, int) and status >= 500) or code.isdigit():
            return f"the AWS Price List answered HTTP {status or code}, an error on its side"
        return (
            f"the AWS Price List refused the question ({code}: {one_line(str(info.get('Message', '')), 160)})"
        )
    return f"the AWS Price List could not be asked ({type(error).__name__}: {one_line(str(error), 160)})"
