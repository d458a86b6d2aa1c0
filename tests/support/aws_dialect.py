"""An HTTP proxy on loopback between boto3 and moto's server that speaks AWS's dialect where moto does not.

Tests reach AWS through moto's server; moto answers differently from real AWS in places. ``AwsDialect``
sits in front of it, forwards every request it does not answer itself, and answers as the real service
does where moto differs (each behaviour below names its source, and can be switched off in ``Knobs``).
It also breaks the link on purpose (``Faults``): a connection cut mid-upload, a link that stalls, a
request the service rejects, a response lost after the service acted. The faults act on the raw bytes
of the client's stream, as a TCP proxy would; the dialect acts on whole HTTP requests.

It knows each request's service (the SigV4 credential scope, ``.../us-east-1/s3/aws4_request``) and
operation (``X-Amz-Target`` for the JSON protocols, method/path/query for S3's REST-XML, ``Action=`` for
the query protocol), and names operations ``SageMaker.Search``, ``Logs_20140328.GetLogEvents``,
``AWSPriceListService.GetProducts``, ``S3.PutObject``, ``STS.GetCallerIdentity``. moto runs in this
process, so the dialect reads and changes moto's backends directly where that is simpler than HTTP.

    dialect = AwsDialect(moto_url).start()      # or: with serve(moto_url) as dialect: ...
    dialect.knobs.empty_log_pages = 3
    dialect.calls["SageMaker.Search"], dialect.requests["SageMaker.CreateTrainingJob"].json
    dialect.finish(job_name, "Failed", "AlgorithmError: boom")
"""

from __future__ import annotations

import base64
import calendar
import copy
import datetime as dt
import hashlib
import json
import math
import re
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlparse
from xml.etree import ElementTree
from xml.sax.saxutils import escape

ACCOUNT = "123456789012"  # moto's account for every access key the tests use (moto.core.DEFAULT_ACCOUNT_ID)
CALLER_ARN = f"arn:aws:iam::{ACCOUNT}:user/moto"  # who moto says the caller is (STS GetCallerIdentity)
_CHUNK = 65536
_S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
REJECTION = (
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: %d\r\n"
    b"Connection: close\r\n\r\n%s"
)


# ---------------------------------------------------------------------------------------------- #
# What to break and how to speak
# ---------------------------------------------------------------------------------------------- #
@dataclass
class Faults:
    """What to break. Byte counts are of what the client sent, over all connections."""

    # Close the connection carrying the byte that crosses this count, once.
    cut_after_bytes: int | None = None
    # After that cut, close every connection that sends anything for this many seconds (a network blip).
    outage_seconds: float = 0.0
    # Hold the client's bytes past this count until ``released`` is set; ``stalled`` is set meanwhile.
    stall_after_bytes: int | None = None
    stalled: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    # Hold the service's answers past this many bytes (over all connections) until ``released`` is set.
    stall_answers_after_bytes: int | None = None
    answered: int = 0
    # Answer a request whose bytes hold this marker with a service error instead of forwarding it.
    reject_marker: bytes | None = None
    # Forward a request holding this marker, then close the connection instead of relaying the answer.
    drop_answer_marker: bytes | None = None
    # Hold a request holding this marker until ``released`` is set (``stalled`` is set meanwhile), then
    # forward it: a request on its way when the client is interrupted.
    stall_request_marker: bytes | None = None
    sent: int = 0
    _cut_done: bool = False
    _cut_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def operation_marker(operation: str) -> bytes:
    """A marker matching only the request of a JSON-protocol ``operation`` ("SageMaker.CreateTrainingJob"):
    its header line with the raw line breaks around it, which no body (a record quoting the tests' own
    source in its git diff, say) can hold."""
    return f"\r\nX-Amz-Target: {operation}\r\n".encode()


# Default on-demand training prices (USD an hour) of the Price List the dialect serves.
DEFAULT_PRICES: dict[tuple[str, str], float] = {
    ("us-east-1", "ml.g5.xlarge"): 1.408,
    ("us-east-1", "ml.m5.large"): 0.115,
    ("us-east-1", "ml.p4d.24xlarge"): 37.688,
    ("eu-west-1", "ml.g5.xlarge"): 1.5698,
}


@dataclass
class Knobs:
    """Which of the real service's habits the dialect shows. Every behaviour is on by default;
    ``Knobs.plain()`` turns all of them off (a pure fault proxy)."""

    # 1. Training/tuning jobs that do not exist: ValidationException "Requested resource not found."
    not_found_as_aws: bool = True
    # 2. SageMaker Search served by the dialect (paging, sorting, every filter ANDed).
    real_search: bool = True
    foreign_jobs: int = 0  # other teams' jobs the account also holds (Search and Describe only)
    # 3. GetLogEvents: empty pages served before each stream's events (0: none).
    empty_log_pages: int = 2
    # 4. Throttling: the first call of each operation in the dialect's life (a test session).
    throttle_first_calls: bool = True
    throttle_next: dict[str, int] = field(default_factory=dict)  # operation -> calls still to throttle
    # 5. A new training job is not found by its first N Describes within the window after its creation.
    not_found_after_create: int = 1
    not_found_window_s: float = 1.0
    # 6. S3: keys under this prefix are refused by DeleteObjects (an <Error> entry) and DeleteObject (403).
    deny_delete_prefix: str | None = None
    multipart_page_size: int = 1000  # ListMultipartUploads pages of at most this many uploads
    real_multipart_listing: bool = True
    # 7. A bucket policy denying PutObject/CreateMultipartUpload/CopyObject without SSE-KMS
    # ("" requires aws:kms with any key; a key id or ARN requires that key too).
    require_kms_key: str | None = None
    # 8. AWS Price List GetProducts.
    price_list: bool = True
    price_page_size: int = 1
    prices: dict[tuple[str, str], float] = field(default_factory=lambda: dict(DEFAULT_PRICES))
    # 9. Training jobs move through their statuses; StopTrainingJob works; names are unique.
    job_lifecycle: bool = True
    lifecycle_step_s: float = 0.2  # each secondary status lasts this long
    interrupt_spot: bool = False  # spot jobs are interrupted once, then start again
    unique_job_names: bool = True
    keep_request_fields: bool = True  # Describe returns the CreateTrainingJob fields moto drops

    @classmethod
    def plain(cls) -> Knobs:
        """moto's own answers: every behaviour off."""
        return cls(
            not_found_as_aws=False,
            real_search=False,
            empty_log_pages=0,
            throttle_first_calls=False,
            not_found_after_create=0,
            real_multipart_listing=False,
            price_list=False,
            job_lifecycle=False,
            unique_job_names=False,
            keep_request_fields=False,
        )


@dataclass
class Request:
    """One HTTP request as the client sent it, and what the dialect made of it."""

    method: str
    target: str
    version: str
    header_lines: list[bytes]
    headers: dict[str, str]  # lower-cased names; repeated headers joined with ","
    body: bytes  # the entity, de-chunked when the client sent it chunked
    raw: bytes  # the bytes as they are forwarded
    service: str = ""
    operation: str = ""
    region: str = "us-east-1"
    path: str = "/"
    query: dict[str, str] = field(default_factory=dict)

    @property
    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def rewritten(self, body: bytes, drop: tuple[str, ...] = ()) -> bytes:
        """The request with another body (Content-Length set, framing and ``drop`` headers removed)."""
        dropped = {"content-length", "transfer-encoding", "expect", *drop}
        lines = [
            line
            for line in self.header_lines
            if not any(line.lower().startswith(name.encode() + b":") for name in dropped)
            and not line.lower().startswith(b"x-amz-checksum-")
        ]
        lines.append(b"Content-Length: %d\r\n" % len(body))
        start = f"{self.method} {self.target} {self.version}\r\n".encode("latin-1")
        return start + b"".join(lines) + b"\r\n" + body


@dataclass
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    close: bool = False
    head: bool = False  # an answer to HEAD: no body follows, Content-Length is kept as sent

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def encode(self) -> bytes:
        skip = {"content-length", "transfer-encoding", "connection"}
        lines = [f"HTTP/1.1 {self.status} {self.reason}\r\n"]
        lines += [f"{key}: {value}\r\n" for key, value in self.headers if key.lower() not in skip]
        length = self.header("Content-Length") if self.head else None
        lines.append(f"Content-Length: {length if length is not None else len(self.body)}\r\n")
        if self.close:
            lines.append("Connection: close\r\n")
        return "".join(lines).encode("latin-1") + b"\r\n" + (b"" if self.head else self.body)


class _Closed(Exception):
    """The other end closed the connection."""


class _Cut(Exception):
    """A fault cut the connection."""


_REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 403: "Forbidden", 404: "Not Found"}
_REASONS |= {500: "Internal Server Error", 503: "Slow Down"}


def _request_id() -> str:
    return str(uuid.uuid4())


def json_answer(status: int, payload: Any) -> Response:
    body = json.dumps(_jsonable(payload)).encode()
    headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", _request_id())]
    return Response(status, _REASONS.get(status, "Error"), headers, body)


def json_error(code: str, message: str, status: int = 400) -> Response:
    return json_answer(status, {"__type": code, "message": message})


def s3_error(status: int, code: str, message: str, head: bool = False) -> Response:
    request_id = uuid.uuid4().hex[:16].upper()
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{escape(message)}'
        f"</Message><RequestId>{request_id}</RequestId><HostId>{base64.b64encode(request_id.encode()).decode()}"
        "</HostId></Error>"
    ).encode()
    headers = [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)]
    return Response(status, _REASONS.get(status, "Error"), headers, b"" if head else body)


def query_error(code: str, message: str, status: int = 400) -> Response:
    body = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{escape(message)}</Message>"
        f"</Error><RequestId>{_request_id()}</RequestId></ErrorResponse>"
    ).encode()
    return Response(status, _REASONS.get(status, "Error"), [("Content-Type", "text/xml")], body)


def _jsonable(value: Any) -> Any:
    """JSON protocol values: timestamps as epoch seconds (botocore reads numbers as timestamps)."""
    if isinstance(value, dt.datetime):
        return _epoch(value)
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def _epoch(value: dt.datetime) -> float:
    """Seconds since the epoch; a naive datetime is UTC, as moto stores them."""
    return calendar.timegm(value.utctimetuple()) + value.microsecond / 1e6


def _utc(seconds: float) -> dt.datetime:
    """A naive UTC datetime, as moto stores them."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)


# ---------------------------------------------------------------------------------------------- #
# HTTP on sockets
# ---------------------------------------------------------------------------------------------- #
class _Reader:
    """Buffered reads from a socket; ``on_bytes`` sees every chunk first (the faults)."""

    def __init__(self, sock: socket.socket, on_bytes: Callable[[bytes], None] | None = None) -> None:
        self.sock = sock
        self.on_bytes = on_bytes
        self.buffer = bytearray()

    def _fill(self) -> None:
        chunk = self.sock.recv(_CHUNK)
        if not chunk:
            raise _Closed
        if self.on_bytes:
            self.on_bytes(chunk)
        self.buffer += chunk

    def readline(self) -> bytes:
        while (end := self.buffer.find(b"\n")) < 0:
            self._fill()
        line = bytes(self.buffer[: end + 1])
        del self.buffer[: end + 1]
        return line

    def read(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def read_to_close(self) -> bytes:
        with suppress(_Closed):
            while True:
                self._fill()
        data = bytes(self.buffer)
        self.buffer.clear()
        return data

    def read_chunked(self) -> tuple[bytes, bytes]:
        """A chunked entity: (its raw framing, its decoded bytes); trailers are kept in the framing."""
        raw, decoded = bytearray(), bytearray()
        while True:
            size_line = self.readline()
            raw += size_line
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while (trailer := self.readline()) not in (b"\r\n", b"\n"):
                    raw += trailer
                raw += trailer
                return bytes(raw), bytes(decoded)
            data = self.read(size + 2)
            raw += data
            decoded += data[:size]


def _read_headers(reader: _Reader) -> tuple[list[bytes], dict[str, str]]:
    lines: list[bytes] = []
    headers: dict[str, str] = {}
    while (line := reader.readline()) not in (b"\r\n", b"\n"):
        lines.append(line)
        name, _, value = line.decode("latin-1").partition(":")
        key = name.strip().lower()
        headers[key] = f"{headers[key]},{value.strip()}" if key in headers else value.strip()
    return lines, headers


def _read_request(reader: _Reader, send_continue: Callable[[], None]) -> Request:
    start = reader.readline()
    while start in (b"\r\n", b"\n"):
        start = reader.readline()
    method, target, version = start.decode("latin-1").rstrip("\r\n").split(" ", 2)
    lines, headers = _read_headers(reader)
    if headers.get("expect", "").lower() == "100-continue":
        lines = [line for line in lines if not line.lower().startswith(b"expect:")]
        send_continue()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        framing, body = reader.read_chunked()
    else:
        body = framing = reader.read(int(headers.get("content-length") or 0))
    raw = start + b"".join(lines) + b"\r\n" + framing
    return Request(method, target, version, lines, headers, body, raw)


def _read_response(reader: _Reader, method: str) -> Response:
    while True:
        status_line = reader.readline().decode("latin-1").rstrip("\r\n")
        _, status_text, *reason = status_line.split(" ", 2)
        status = int(status_text)
        lines, headers = _read_headers(reader)
        if status >= 200:
            break
    pairs = [
        (line.decode("latin-1").partition(":")[0].strip(), line.decode("latin-1").partition(":")[2].strip())
        for line in lines
    ]
    close = headers.get("connection", "").lower() == "close"
    head = method == "HEAD" or status in (204, 304)
    if head:
        body = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = reader.read_chunked()[1]
    elif "content-length" in headers:
        body = reader.read(int(headers["content-length"]))
    else:
        body, close = reader.read_to_close(), True
    return Response(
        status, reason[0] if reason else "", pairs, body, close=close, head=head and method == "HEAD"
    )


def _close(end: socket.socket | None) -> None:
    if end is None:
        return
    with suppress(OSError):
        end.shutdown(socket.SHUT_RDWR)
    end.close()


# ---------------------------------------------------------------------------------------------- #
# Request classification
# ---------------------------------------------------------------------------------------------- #
_CREDENTIAL = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
_QUERY_SERVICES = {"sts": "STS", "iam": "IAM", "ec2": "EC2", "sqs": "SQS", "sns": "SNS"}


def _classify(request: Request) -> None:
    url = urlparse(request.target)
    request.path = unquote(url.path) or "/"
    request.query = dict(parse_qsl(url.query, keep_blank_values=True))
    scope = _CREDENTIAL.search(request.headers.get("authorization", "")) or _CREDENTIAL.search(
        "Credential=" + request.query.get("X-Amz-Credential", "")
    )
    if scope:
        request.region, request.service = scope.group(1), scope.group(2)
    amz_target = request.headers.get("x-amz-target")
    if request.path.startswith("/moto-api"):
        request.operation = "moto-api" + request.path.removeprefix("/moto-api")
    elif amz_target:
        request.operation = amz_target
    elif request.service == "s3":
        request.operation = "S3." + _s3_operation(request)
    else:
        action = request.query.get("Action")
        if not action and "x-www-form-urlencoded" in request.headers.get("content-type", ""):
            action = dict(parse_qsl(request.body.decode("utf-8", "replace"))).get("Action")
        service = _QUERY_SERVICES.get(request.service, request.service.upper() or "HTTP")
        request.operation = f"{service}.{action or request.method + ' ' + request.path}"


def _s3_parts(request: Request) -> tuple[str, str]:
    """(bucket, key) of a path-style S3 request."""
    bucket, _, key = request.path.lstrip("/").partition("/")
    return bucket, key


def _s3_operation(request: Request) -> str:
    bucket, key = _s3_parts(request)
    method, query, headers = request.method, request.query, request.headers
    if not bucket:
        return "ListBuckets"
    if not key:
        if method == "POST" and "delete" in query:
            return "DeleteObjects"
        if method == "GET" and "uploads" in query:
            return "ListMultipartUploads"
        if method == "GET" and query.get("list-type") == "2":
            return "ListObjectsV2"
        for sub in ("versions", "location", "policy", "encryption", "tagging", "acl", "cors", "lifecycle"):
            if sub in query:
                return f"{method.title()}Bucket{sub.title()}"
        return {
            "GET": "ListObjects",
            "PUT": "CreateBucket",
            "HEAD": "HeadBucket",
            "DELETE": "DeleteBucket",
        }.get(method, f"{method}Bucket")
    if "uploadId" in query:
        return {
            "PUT": "UploadPartCopy" if "x-amz-copy-source" in headers else "UploadPart",
            "POST": "CompleteMultipartUpload",
            "DELETE": "AbortMultipartUpload",
            "GET": "ListParts",
        }.get(method, f"{method}Part")
    if method == "POST" and "uploads" in query:
        return "CreateMultipartUpload"
    if "tagging" in query:
        return f"{method.title()}ObjectTagging"
    if method == "PUT":
        return "CopyObject" if "x-amz-copy-source" in headers else "PutObject"
    return {"GET": "GetObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}.get(method, f"{method}Object")


# ---------------------------------------------------------------------------------------------- #
# Training job lifecycle
# ---------------------------------------------------------------------------------------------- #
# Secondary statuses and their messages: DescribeTrainingJob's SecondaryStatus and
# SecondaryStatusTransition.StatusMessage in botocore's SageMaker model
# (.venv/.../botocore/data/sagemaker/2017-07-24/service-2.json; also
# https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_SecondaryStatusTransition.html),
# and the SageMaker SDK's log of a real job (https://github.com/NVIDIA-Merlin/Transformers4Rec/issues/794:
# "Starting - Preparing the instances for training", "Downloading - Downloading input data",
# "Training - Training image download completed. Training in progress.").
# The Uploading, Completed, Stopping, Stopped and Interrupted messages could not be confirmed at a
# source: they are plausible words, not the service's.
_MESSAGES = {
    "Starting": "Launching requested ML instances",
    "Downloading": "Downloading input data",
    "Training": "Training image download completed. Training in progress.",
    "Uploading": "Uploading generated training model",
    "Completed": "Training job completed",
    "Interrupted": "Spot capacity was reclaimed: the job restarts when spot capacity is available",
    "Stopping": "Stopping the training job",
    "Stopped": "Training job stopped",
    "Failed": "Training job failed",
}
# A job on a reused warm pool does not launch instances ("LaunchingMLInstances" is no longer a secondary
# status of its own, per botocore's model): its Starting phase only prepares them. Unconfirmed wording.
_WARM_START = "Preparing the instances for training"
_PRIMARY = {"Completed": "Completed", "Failed": "Failed", "Stopped": "Stopped", "Stopping": "Stopping"}
_PRIMARY |= {"MaxRuntimeExceeded": "Stopped", "MaxWaitTimeExceeded": "Stopped"}
_TERMINAL = frozenset({"Completed", "Failed", "Stopped", "MaxRuntimeExceeded", "MaxWaitTimeExceeded"})


@dataclass
class _Life:
    """One training job's schedule: (secondary status, message, start time) in order."""

    name: str
    region: str
    created: float
    schedule: list[tuple[str, str, float]]
    spot: bool
    keep_alive: int
    pool_key: str
    failure_reason: str | None = None
    reused_by: tuple[str, float] | None = None  # the job that took this job's warm pool, and when
    written: tuple[Any, ...] | None = None
    forced: bool = False  # someone else set the job's state in moto: leave it alone

    def now(self, at: float) -> list[tuple[str, str, float]]:
        return [entry for entry in self.schedule if entry[2] <= at] or self.schedule[:1]

    def cut(self, at: float, *entries: tuple[str, str, float]) -> None:
        """End the schedule at ``at`` and continue with ``entries``."""
        self.schedule = [entry for entry in self.schedule if entry[2] < at] + list(entries)


def _plan(
    created: float, step: float, spot_interrupted: bool, warm_start: bool
) -> list[tuple[str, str, float]]:
    names = ["Starting", "Downloading", "Training"]
    if spot_interrupted:
        names += ["Interrupted", "Starting", "Downloading", "Training"]
    names += ["Uploading", "Completed"]
    plan = []
    for index, name in enumerate(names):
        message = _WARM_START if (name == "Starting" and warm_start and index == 0) else _MESSAGES[name]
        plan.append((name, message, created + index * step))
    return plan


# ---------------------------------------------------------------------------------------------- #
# Price List products
# ---------------------------------------------------------------------------------------------- #
# Region codes, location names and usage-type prefixes as the Price List writes them (the usage type
# "USE1-Train:ml.g5.2xlarge" is quoted from `aws pricing get-products` output in public code; other
# prefixes follow AWS's billing usage-type codes; not all confirmed at a source).
_LOCATIONS = {
    "us-east-1": ("US East (N. Virginia)", "USE1"),
    "us-east-2": ("US East (Ohio)", "USE2"),
    "us-west-2": ("US West (Oregon)", "USW2"),
    "eu-west-1": ("EU (Ireland)", "EU"),
    "eu-central-1": ("EU (Frankfurt)", "EUC1"),
    "ap-south-1": ("Asia Pacific (Mumbai)", "APS3"),
    "ap-northeast-1": ("Asia Pacific (Tokyo)", "APN1"),
}
# One product per SageMaker component for each instance type; Training is not first, so a client that
# reads only the first page of a paged answer misses it. (component, usage-type word, price factor)
_COMPONENTS = (("Notebook", "Notebk", 1.002), ("Hosting", "Host", 1.002), ("Training", "Train", 1.0))
_COMPONENTS += (("Processing", "Processing", 1.136),)


def price_products(prices: dict[tuple[str, str], float]) -> list[dict[str, Any]]:
    """The Price List's AmazonSageMaker products for ``prices``, in the GetProducts document shape."""
    products = []
    for (region, instance), usd in sorted(prices.items()):
        location, prefix = _LOCATIONS.get(region, (region, region.upper().replace("-", "")))
        for component, word, factor in _COMPONENTS:
            usage = f"{prefix}-{word}:{instance}"
            sku = hashlib.sha1(usage.encode()).hexdigest()[:16].upper()
            term, rate = f"{sku}.JRTCKXETXF", f"{sku}.JRTCKXETXF.6YS6EN2CT7"
            amount = f"{usd * factor:.10f}"
            dimension = {
                "unit": "Hrs",
                "endRange": "Inf",
                "description": f"${float(amount):g} per {component} {instance} hour in {location}",
                "appliesTo": [],
                "rateCode": rate,
                "beginRange": "0",
                "pricePerUnit": {"USD": amount},
            }
            attributes = {
                "instanceName": instance,
                "instanceType": instance,
                "regionCode": region,
                "location": location,
                "locationType": "AWS Region",
                "component": component,
                "usagetype": usage,
                "operation": "RunInstance",
                "servicecode": "AmazonSageMaker",
                "servicename": "Amazon SageMaker",
            }
            products.append(
                {
                    "product": {"productFamily": "ML Instance", "attributes": attributes, "sku": sku},
                    "serviceCode": "AmazonSageMaker",
                    "terms": {
                        "OnDemand": {
                            term: {
                                "priceDimensions": {rate: dimension},
                                "sku": sku,
                                "effectiveDate": "2026-08-01T00:00:00Z",
                                "offerTermCode": "JRTCKXETXF",
                                "termAttributes": {},
                            }
                        }
                    },
                    "version": "20260801000000",
                    "publicationDate": "2026-08-01T00:00:00Z",
                }
            )
    return products


# ---------------------------------------------------------------------------------------------- #
# The dialect
# ---------------------------------------------------------------------------------------------- #
class AwsDialect:
    """The proxy: ``url`` is where boto3 points; ``knobs`` and ``faults`` say how it behaves.

    ``calls`` counts, per operation, the requests the service acted on (throttled and fault-refused
    ones are counted in ``throttled`` and not here); ``answered`` counts those the dialect answered
    itself; ``requests[operation]`` is the last such request.
    """

    def __init__(self, target_url: str, faults: Faults | None = None, knobs: Knobs | None = None) -> None:
        target = urlparse(target_url)
        self.target = (target.hostname or "127.0.0.1", target.port or 80)
        self.faults = faults or Faults()
        self.knobs = knobs or Knobs()
        self.url = ""
        self.calls: Counter[str] = Counter()
        self.answered: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        self.requests: dict[str, Request] = {}
        self._lock = threading.RLock()
        self._seen: set[str] = set()  # operations already throttled once: per session, never reset
        self._moto_auth = False  # moto checks credentials and policies (/moto-api/reset-auth)
        self._server: socket.socket | None = None
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._clear_state()

    # -- life ------------------------------------------------------------------------------------ #
    def start(self) -> AwsDialect:
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True, name="aws-dialect").start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.faults.released.set()
        _close(self._server)
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            _close(connection)

    def __enter__(self) -> AwsDialect:
        return self.start() if not self.url else self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Back to defaults for a new test: knobs, faults, counters and everything remembered about jobs,
        streams and uploads; the memory of which operations were already throttled stays."""
        self.faults.released.set()
        self.faults = Faults()
        self.knobs = Knobs()
        self._clear_state()

    def _clear_state(self) -> None:
        with self._lock:
            self.calls.clear()
            self.answered.clear()
            self.throttled.clear()
            self.requests.clear()
            self._lives: dict[str, _Life] = {}
            self._created_requests: dict[str, dict[str, Any]] = {}
            self._fresh: dict[str, list[float]] = {}  # job -> [describes left not-found, deadline]
            self._log_tokens: dict[str, tuple[str, str]] = {}  # our tokens -> (group, stream)
            self._empty_served: Counter[tuple[str, str]] = Counter()
            self._foreign: list[dict[str, Any]] = []
            self._foreign_count = 0

    def throttle(self, operation: str, times: int = 1) -> None:
        """Throttle the next ``times`` calls of ``operation`` (e.g. "SageMaker.DescribeTrainingJob")."""
        with self._lock:
            self.knobs.throttle_next[operation] = self.knobs.throttle_next.get(operation, 0) + times

    # -- sockets --------------------------------------------------------------------------------- #
    def _serve(self) -> None:
        assert self._server is not None
        while not self._stopping.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._connections.add(client)
            threading.Thread(target=self._connection, args=(client,), daemon=True).start()

    def _client_bytes(self, chunk: bytes) -> None:
        """Every byte the client sends passes here first: the cut and the stall act on the raw stream."""
        faults = self.faults
        with faults.lock:
            faults.sent += len(chunk)
            crossed = faults.sent
            if (
                faults.cut_after_bytes is not None
                and crossed > faults.cut_after_bytes
                and not faults._cut_done
            ):
                faults._cut_done = True
                faults._cut_at = time.monotonic()
                raise _Cut
            if faults._cut_done and time.monotonic() < faults._cut_at + faults.outage_seconds:
                raise _Cut
        if faults.stall_after_bytes is not None and crossed > faults.stall_after_bytes:
            faults.stalled.set()
            faults.released.wait()

    def _send(self, client: socket.socket, data: bytes) -> None:
        faults = self.faults
        for offset in range(0, len(data), _CHUNK):
            piece = data[offset : offset + _CHUNK]
            with faults.lock:
                faults.answered += len(piece)
                crossed = faults.answered
            if faults.stall_answers_after_bytes is not None and crossed > faults.stall_answers_after_bytes:
                faults.stalled.set()
                faults.released.wait()
            client.sendall(piece)

    def _connection(self, client: socket.socket) -> None:
        reader = _Reader(client, self._client_bytes)
        upstream: list[Any] = [None, None]  # socket, reader
        try:
            while not self._stopping.is_set():
                try:
                    request = _read_request(reader, lambda: client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n"))
                except (_Closed, _Cut, ValueError):
                    return
                faults = self.faults
                if faults.stall_request_marker and faults.stall_request_marker in request.raw:
                    faults.stalled.set()
                    faults.released.wait()
                if faults.reject_marker and faults.reject_marker in request.raw:
                    body = b'{"__type":"ValidationException","message":"rejected by the test proxy"}'
                    client.sendall(REJECTION % (len(body), body))
                    return
                _classify(request)

                def forward(raw: bytes | None = None, request: Request = request) -> Response:
                    return self._exchange(upstream, raw if raw is not None else request.raw, request.method)

                answer = self._handle(request, forward)
                if faults.drop_answer_marker and faults.drop_answer_marker in request.raw:
                    return  # the service acted; the answer has nowhere to go
                close = answer.close or request.headers.get("connection", "").lower() == "close"
                answer.close = close
                self._send(client, answer.encode())
                if close:
                    return
        except OSError:
            pass  # the other side went away: the connection ends like a real one
        finally:
            _close(upstream[0])
            _close(client)
            with self._lock:
                self._connections.discard(client)

    def _exchange(self, upstream: list[Any], raw: bytes, method: str) -> Response:
        for attempt in (1, 2):
            if upstream[0] is None:
                upstream[0] = socket.create_connection(self.target)
                upstream[1] = _Reader(upstream[0])
            try:
                upstream[0].sendall(raw)
                answer = _read_response(upstream[1], method)
            except (OSError, _Closed):
                _close(upstream[0])
                upstream[0] = upstream[1] = None
                if attempt == 2:
                    raise
                continue  # a kept-alive connection moto had closed: once more on a new one
            if answer.close:
                _close(upstream[0])
                upstream[0] = upstream[1] = None
                answer.close = False
            return answer
        raise AssertionError("unreachable")

    # -- dispatch -------------------------------------------------------------------------------- #
    def _handle(self, request: Request, forward: Callable[..., Response]) -> Response:
        operation = request.operation
        if operation == "moto-api/reset":
            self._clear_state()
            return forward()
        if operation == "moto-api/reset-auth":
            self._moto_auth = request.body.strip() not in (b"", b"inf")
            return forward()
        if operation.startswith("moto-api"):
            return forward()
        throttled = self._throttled(request)
        if throttled:
            with self._lock:
                self.throttled[operation] += 1
            return throttled
        with self._lock:
            self.calls[operation] += 1
            self.requests[operation] = request
        if self._moto_auth and operation in _AUTH_FIRST:
            # moto checks credentials and IAM policies (after /moto-api/reset-auth): an operation the
            # dialect answers itself is first put to moto, whose refusal stands.
            checked = forward()
            if checked.status in (401, 403):
                return checked
        handler = self._handlers().get(operation)
        answer = handler(request, forward) if handler else None
        if answer is None:
            return forward()
        with self._lock:
            self.answered[operation] += 1
        return answer

    def _handlers(self) -> dict[str, Callable[[Request, Callable[..., Response]], Response | None]]:
        return {
            "SageMaker.CreateTrainingJob": self._create_training_job,
            "SageMaker.DescribeTrainingJob": self._describe_training_job,
            "SageMaker.StopTrainingJob": self._stop_training_job,
            "SageMaker.Search": self._search,
            "SageMaker.ListTrainingJobs": self._list_training_jobs,
            "SageMaker.ListTags": self._tags,
            "SageMaker.AddTags": self._tags,
            "SageMaker.DeleteTags": self._tags,
            "SageMaker.DescribeHyperParameterTuningJob": self._tuning_job,
            "SageMaker.StopHyperParameterTuningJob": self._tuning_job,
            "SageMaker.ListTrainingJobsForHyperParameterTuningJob": self._tuning_job,
            "Logs_20140328.GetLogEvents": self._get_log_events,
            "S3.DeleteObjects": self._delete_objects,
            "S3.DeleteObject": self._delete_object,
            "S3.ListMultipartUploads": self._list_multipart_uploads,
            "S3.PutObject": self._kms_policy,
            "S3.CreateMultipartUpload": self._kms_policy,
            "S3.CopyObject": self._kms_policy,
            "AWSPriceListService.GetProducts": self._get_products,
        }

    # -- 4. throttling --------------------------------------------------------------------------- #
    def _throttled(self, request: Request) -> Response | None:
        """Throttling as each protocol answers it; botocore's standard retry mode retries all three
        (ThrottlingException, Throttling and SlowDown are in its throttling error codes).
        JSON protocols: HTTP 400 ThrottlingException "Rate exceeded", as SageMaker answers
        (https://github.com/aws/sagemaker-python-sdk/issues/2293, .../issues/645; CloudWatch Logs:
        https://github.com/PrefectHQ/prefect/issues/17780). Query protocol (STS): HTTP 400
        <ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>
        (https://github.com/jlevers/selling-partner-api/issues/278). S3: HTTP 503 SlowDown "Please reduce
        your request rate." (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html,
        https://docs.aws.amazon.com/AmazonS3/latest/userguide/ErrorBestPractices.html)."""
        operation = request.operation
        with self._lock:
            if self.knobs.throttle_next.get(operation, 0) > 0:
                self.knobs.throttle_next[operation] -= 1
            elif self.knobs.throttle_first_calls and operation not in self._seen:
                self._seen.add(operation)
            else:
                return None
        if request.service == "s3":
            return s3_error(
                503, "SlowDown", "Please reduce your request rate.", head=request.method == "HEAD"
            )
        if "x-amz-target" in request.headers:
            return json_error("ThrottlingException", "Rate exceeded")
        return query_error("Throttling", "Rate exceeded")

    # -- SageMaker: moto's backend --------------------------------------------------------------- #
    @staticmethod
    def _sagemaker(region: str) -> Any:
        from moto.backends import get_backend

        return get_backend("sagemaker")[ACCOUNT][region]

    @staticmethod
    def _not_found() -> Response:
        """An unknown training or tuning job, as SageMaker answers: ValidationException "Requested
        resource not found." (not ResourceNotFound: https://github.com/aws/aws-sdk/issues/165,
        https://github.com/boto/boto3/issues/2808; the message, quoted from a real run:
        https://github.com/aws/amazon-sagemaker-examples/issues/2360)."""
        return json_error("ValidationException", "Requested resource not found.")

    def _moto_not_found(self, answer: Response) -> Response:
        """moto's "Could not find training job ..." as AWS words it (behaviour 1)."""
        if self.knobs.not_found_as_aws and answer.status == 400 and b"Could not find" in answer.body:
            return self._not_found()
        return answer

    # -- 9. CreateTrainingJob -------------------------------------------------------------------- #
    def _create_training_job(self, request: Request, forward: Callable[..., Response]) -> Response | None:
        body = request.json
        name = body.get("TrainingJobName", "")
        backend = self._sagemaker(request.region)
        if self.knobs.unique_job_names:
            existing = backend.training_jobs.get(name)
            foreign = any(job["TrainingJobName"] == name for job in self._foreign_jobs())
            if existing is not None or foreign:
                arn = existing.arn if existing is not None else self._arn(request.region, name)
                # A taken name: ResourceInUse, as SageMaker answers (quoted from real runs:
                # https://github.com/aws/amazon-sagemaker-examples/pull/3108,
                # https://github.com/SuperCowPowers/workbench/issues/384); moto overwrites the job.
                return json_error(
                    "ResourceInUse",
                    "Training job names must be unique within an AWS account and region, and a training "
                    f"job with this name already exists ({arn})",
                )
        answer = forward()
        if answer.status != 200:
            return answer
        job = backend.training_jobs.get(name)
        if job is None:
            return answer
        with self._lock:
            self._created_requests[name] = copy.deepcopy(body)
            if self.knobs.keep_request_fields:
                self._keep_request_fields(job, body)
            if self.knobs.not_found_after_create > 0:
                self._fresh[name] = [
                    self.knobs.not_found_after_create,
                    time.time() + self.knobs.not_found_window_s,
                ]
            if self.knobs.job_lifecycle:
                self._begin_life(job, body, request.region)
        return answer

    @staticmethod
    def _arn(region: str, name: str) -> str:
        return f"arn:aws:sagemaker:{region}:{ACCOUNT}:training-job/{name.lower()}"

    @staticmethod
    def _keep_request_fields(job: Any, body: dict[str, Any]) -> None:
        """DescribeTrainingJob returns what CreateTrainingJob was given (Environment, RetryStrategy,
        RemoteDebugConfig, ProfilerConfig, InfraCheckConfig, ...: members of both shapes in botocore's
        model). moto keeps only some, and replaces AlgorithmSpecification.MetricDefinitions with its
        own; the request's fields are put back on moto's object, which moto's serializer then answers."""
        for key in _describe_members() & set(body) - {"Tags"}:
            attribute = re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()
            if key == "AlgorithmSpecification" or getattr(job, attribute, None) in (None, [], {}):
                setattr(job, attribute, copy.deepcopy(body[key]))
        job.final_metric_data_list = None  # moto's made-up "train:progress" metric: none until metrics come

    def _begin_life(self, job: Any, body: dict[str, Any], region: str) -> None:
        resources = dict(body.get("ResourceConfig") or {})
        keep_alive = int(resources.pop("KeepAlivePeriodInSeconds", 0) or 0)
        pool_key = json.dumps([resources, body.get("RoleArn"), body.get("VpcConfig")], sort_keys=True)
        created = _epoch(job.creation_time)
        spot = bool(body.get("EnableManagedSpotTraining"))
        reused = self._take_warm_pool(pool_key, job.training_job_name, created)
        life = _Life(
            name=job.training_job_name,
            region=region,
            created=created,
            schedule=_plan(created, self.knobs.lifecycle_step_s, spot and self.knobs.interrupt_spot, reused),
            spot=spot,
            keep_alive=keep_alive,
            pool_key=pool_key,
        )
        self._lives[life.name] = life
        self._write(life, job, time.time())

    def _take_warm_pool(self, pool_key: str, new_job: str, at: float) -> bool:
        """A job matching an Available warm pool reuses it; the pool's job then says Reused, ReusedByJob
        (WarmPoolStatus in https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_WarmPoolStatus.html;
        matching on ResourceConfig: https://docs.aws.amazon.com/sagemaker/latest/dg/train-warm-pools.html;
        matching also on RoleArn and VpcConfig is this dialect's reading, unconfirmed)."""
        for life in self._lives.values():
            pool = self._pool_status(life, at)
            if life.pool_key == pool_key and pool and pool["Status"] == "Available":
                life.reused_by = (new_job, at)
                return True
        return False

    @staticmethod
    def _pool_status(life: _Life, at: float) -> dict[str, Any] | None:
        if life.keep_alive <= 0:
            return None
        name, _, started = life.now(at)[-1]
        if name not in _TERMINAL:
            return {"Status": "InUse"}
        if name != "Completed":
            return None
        if life.reused_by:
            retained = math.ceil(life.reused_by[1] - started)
            return {
                "Status": "Reused",
                "ResourceRetainedBillableTimeInSeconds": max(retained, 0),
                "ReusedByJob": life.reused_by[0],
            }
        held = at - started
        status = "Terminated" if held > life.keep_alive else "Available"
        return {
            "Status": status,
            "ResourceRetainedBillableTimeInSeconds": min(math.ceil(held), life.keep_alive),
        }

    def _advance(self, region: str | None = None) -> None:
        """Write every job's state as of now into moto's objects."""
        now = time.time()
        with self._lock:
            for life in list(self._lives.values()):
                if region and life.region != region:
                    continue
                job = self._sagemaker(life.region).training_jobs.get(life.name)
                if job is not None:
                    self._write(life, job, now)

    def sync(self) -> None:
        """Bring moto's objects up to the jobs' states now (tests reading moto's backend call this)."""
        self._advance()

    @staticmethod
    def _snapshot(job: Any) -> tuple[Any, ...]:
        return (
            job.training_job_status,
            job.secondary_status,
            getattr(job, "training_time_in_seconds", None),
            getattr(job, "billable_time_in_seconds", None),
            getattr(job, "failure_reason", None),
        )

    def _write(self, life: _Life, job: Any, at: float) -> None:
        if life.forced:
            return
        if life.written is not None and self._snapshot(job) != life.written:
            life.forced = True  # a test set moto's object itself: its word stands
            return
        entries = life.now(at)
        transitions = []
        for index, (name, message, started) in enumerate(entries):
            transition: dict[str, Any] = {
                "Status": name,
                "StartTime": _utc(started),
                "StatusMessage": message,
            }
            if index + 1 < len(entries):
                transition["EndTime"] = _utc(entries[index + 1][2])
            elif name in _TERMINAL:
                transition["EndTime"] = _utc(started)
            transitions.append(transition)
        current, _, current_start = entries[-1]
        started = entries[1][2] if len(entries) > 1 else None
        ended = current_start if current in _TERMINAL else None
        job.training_job_status = _PRIMARY.get(current, "InProgress")
        job.secondary_status = current
        job.secondary_status_transitions = transitions
        job.last_modified_time = _utc(current_start)
        job.training_start_time = _utc(started) if started is not None else None
        job.training_end_time = _utc(ended) if ended is not None else None
        if ended is not None:
            seconds = max(1, math.ceil(ended - (started if started is not None else ended)))
            job.training_time_in_seconds = seconds
            # Spot jobs bill less than they run (savings = 1 - Billable/Training: the BillableTimeInSeconds
            # documentation in botocore's model); the 70% saving here is made up.
            job.billable_time_in_seconds = max(1, round(seconds * 0.3)) if life.spot else seconds
        else:
            job.training_time_in_seconds = job.billable_time_in_seconds = None
        job.failure_reason = life.failure_reason if current == "Failed" else None
        job.warm_pool_status = self._pool_status(life, at)
        life.written = self._snapshot(job)

    def finish(self, name: str, status: str = "Completed", reason: str | None = None) -> None:
        """End a job now as ``status`` (Completed, Failed, Stopped or MaxRuntimeExceeded), with ``reason``
        as its FailureReason; tests use this where real SageMaker would change the job over time."""
        with self._lock:
            life = self._lives.get(name)
            job = self._find_job(name)
            if life is None:
                if job is None:
                    raise KeyError(name)
                job.training_job_status = _PRIMARY.get(status, status)
                job.secondary_status = status
                job.failure_reason = reason
                return
            now = time.time()
            life.forced = False
            life.written = None
            life.failure_reason = reason
            life.cut(now, (status, reason or _MESSAGES.get(status, status), now))
            if job is not None:
                self._write(life, job, now)

    def job(self, name: str) -> dict[str, Any]:
        """The job as DescribeTrainingJob would answer now (moto's object, brought up to date)."""
        self._advance()
        job = self._find_job(name)
        if job is None:
            raise KeyError(name)
        return dict(job.response_object)

    def _find_job(self, name: str) -> Any:
        life = self._lives.get(name)
        regions = [life.region] if life else ["us-east-1"]
        for region in regions:
            job = self._sagemaker(region).training_jobs.get(name)
            if job is not None:
                return job
        return None

    # -- 1, 5, 9. DescribeTrainingJob ------------------------------------------------------------ #
    def _describe_training_job(self, request: Request, forward: Callable[..., Response]) -> Response | None:
        name = request.json.get("TrainingJobName", "")
        with self._lock:
            fresh = self._fresh.get(name)
            if fresh and fresh[0] > 0 and time.time() < fresh[1]:
                # Eventual consistency right after a create: a Describe may not find the new job yet.
                # Documented for EC2 (https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html)
                # and DynamoDB (DescribeTable after CreateTable); not confirmed for SageMaker itself.
                fresh[0] -= 1
                return self._not_found()
            foreign = next((job for job in self._foreign_jobs() if job["TrainingJobName"] == name), None)
        if foreign is not None:
            return json_answer(200, {key: value for key, value in foreign.items() if key != "Tags"})
        self._advance(request.region)
        return self._moto_not_found(forward())

    def _list_training_jobs(self, request: Request, forward: Callable[..., Response]) -> Response | None:
        self._advance(request.region)
        return None

    # -- 9. StopTrainingJob ---------------------------------------------------------------------- #
    def _stop_training_job(self, request: Request, forward: Callable[..., Response]) -> Response | None:
        if not self.knobs.job_lifecycle:
            return None
        name = request.json.get("TrainingJobName", "")
        self._advance(request.region)
        with self._lock:
            job = self._sagemaker(request.region).training_jobs.get(name)
            if job is None:
                return self._not_found() if self.knobs.not_found_as_aws else None
            if job.training_job_status != "InProgress":
                # Stopping an ended job: ValidationException "The request was rejected because the training
                # job is in status Stopped." (quoted from a real run:
                # https://github.com/awslabs/benchmark-ai/issues/928).
                return json_error(
                    "ValidationException",
                    "The request was rejected because the training job is in status "
                    f"{job.training_job_status}.",
                )
            # InProgress -> Stopping -> Stopped, secondary Stopping -> Stopped
            # (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_StopTrainingJob.html).
            life = self._lives.get(name)
            now = time.time()
            if life is None or life.forced:
                job.training_job_status = job.secondary_status = "Stopping"
                return json_answer(200, {})
            step = self.knobs.lifecycle_step_s
            life.cut(
                now, ("Stopping", _MESSAGES["Stopping"], now), ("Stopped", _MESSAGES["Stopped"], now + step)
            )
            self._write(life, job, now)
        return json_answer(200, {})

    # -- 1. tags and tuning jobs of unknown names ------------------------------------------------ #
    def _tags(self, request: Request, forward: Callable[..., Response]) -> Response | None:
        arn = request.json.get("ResourceArn", "")
        kind, _, name = arn.rpartition(":")[2].partition("/")
        if self.knobs.not_found_as_aws and kind == "training-job":
            backend = self._sagemaker(request.region)
            known = any(
                job.arn == arn or job.training_job_name == name for job in backend.training_jobs.values()
            )
            foreign = next((job for job in self._foreign_jobs() if job["TrainingJobArn"] == arn), None)
            if foreign is not None and request.operation == "SageMaker.ListTags":
                return json_answer(200, {"Tags": foreign["Tags"]})
            if not known and foreign is None:
                # Unconfirmed: SageMaker's answer to tags of a job that does not exist is assumed to be
                # the same "Requested resource not found." as DescribeTrainingJob's (moto answers 500).
                return self._not_found()
        return self._moto_not_found(forward())

    def _tuning_job(self, request: Request, forward: Callable[..., Response]) -> Response | None:
        return self._moto_not_found(forward())

    # -- 2. Search --------------------------------------------------------------------------------- #
    def _foreign_jobs(self) -> list[dict[str, Any]]:
        """``knobs.foreign_jobs`` other teams' jobs: untagged or tagged with other keys, most older than
        anything a test makes, one in a hundred interleaved with the test's own (created just after)."""
        count = self.knobs.foreign_jobs
        if count == self._foreign_count:
            return self._foreign
        now = time.time()
        jobs = []
        for index in range(count):
            name = f"other-team-job-{index:05d}"
            created = now + index / 100 * 0.01 if index % 100 == 0 else now - 60 * (index + 1)
            tags = [
                [],
                [{"Key": "team", "Value": f"team-{index % 7}"}],
                [{"Key": "Project", "Value": "other"}],
            ]
            status = ("Completed", "Failed", "Completed", "Stopped", "InProgress")[index % 5]
            jobs.append(
                {
                    "TrainingJobName": name,
                    "TrainingJobArn": self._arn("us-east-1", name),
                    "TrainingJobStatus": status,
                    "SecondaryStatus": status if status != "InProgress" else "Training",
                    "AlgorithmSpecification": {
                        "TrainingImage": "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3",
                        "TrainingInputMode": "File",
                    },
                    "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/OtherTeamRole",
                    "OutputDataConfig": {"S3OutputPath": "s3://other-team-bucket/output/"},
                    "ResourceConfig": {
                        "InstanceType": "ml.m5.large",
                        "InstanceCount": 1,
                        "VolumeSizeInGB": 30,
                    },
                    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
                    "CreationTime": _utc(created),
                    "LastModifiedTime": _utc(created + 30),
                    "Tags": tags[index % 3],
                }
            )
        self._foreign, self._foreign_count = jobs, count
        return jobs

    def _search(self, request: Request, forward: Callable[..., Response]) -> Response | None:
        """Search served here from moto's jobs (moto ignores MaxResults and sorting, answers 500 on Exists
        and stops at the first Tags filter). Real semantics, from the API reference
        (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_Search.html and botocore's model):
        MaxResults 1-100, NextToken paging, SortBy any property (default LastModifiedTime), SortOrder
        Ascending/Descending (default Descending), Filters ANDed (SearchExpression.Operator And/Or, and
        SubExpressions), operators Equals, NotEquals, GreaterThan(OrEqualTo), LessThan(OrEqualTo),
        Contains, Exists, NotExists, In. Unconfirmed: the default MaxResults (10 here), and that
        NotEquals matches a job lacking the property."""
        body = request.json
        if not self.knobs.real_search or body.get("Resource") != "TrainingJob":
            return None
        size = body.get("MaxResults", 10)
        if not 1 <= size <= 100:
            return json_error(
                "ValidationException",
                f"1 validation error detected: Value '{size}' at 'maxResults' failed to satisfy constraint: "
                "Member must have value less than or equal to 100",
            )
        self._advance(request.region)
        with self._lock:
            records = [self._record(job) for job in self._sagemaker(request.region).training_jobs.values()]
            records += self._foreign_jobs()
        expression = body.get("SearchExpression")
        if expression:
            records = [record for record in records if _matches(record, expression)]
        sort_by, descending = body.get("SortBy", "LastModifiedTime"), body.get("SortOrder") != "Ascending"
        present = [record for record in records if _property(record, sort_by) is not None]
        absent = [record for record in records if _property(record, sort_by) is None]
        present.sort(key=lambda record: record["TrainingJobName"])
        present.sort(key=lambda record: _sortable(_property(record, sort_by)), reverse=descending)
        records = present + absent
        query = hashlib.sha1(
            json.dumps(
                {k: v for k, v in body.items() if k != "NextToken"}, sort_keys=True, default=str
            ).encode()
        ).hexdigest()[:12]
        offset = 0
        if body.get("NextToken"):
            try:
                token = json.loads(base64.b64decode(body["NextToken"]))
                offset = int(token["offset"]) if token["query"] == query else -1
            except (ValueError, KeyError, TypeError):
                offset = -1
            if offset < 0:
                return json_error("ValidationException", "Invalid pagination token.")
        page = records[offset : offset + size]
        answer: dict[str, Any] = {"Results": [{"TrainingJob": record} for record in page]}
        if offset + size < len(records):
            token_text = json.dumps({"offset": offset + size, "query": query}).encode()
            answer["NextToken"] = base64.b64encode(token_text).decode()
        return json_answer(200, answer)

    @staticmethod
    def _record(job: Any) -> dict[str, Any]:
        members = _training_job_members()
        record = {key: value for key, value in job.response_object.items() if key in members}
        record["Tags"] = [dict(tag) for tag in job.tags]
        return record

    # -- 3. GetLogEvents --------------------------------------------------------------------------- #
    def _get_log_events(self, request: Request, forward: Callable[..., Response]) -> Response | None:
        """Real streams can answer pages with no events before the end; only a nextForwardToken equal to
        the token passed in marks the end (GetLogEvents API reference:
        https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html:
        "Partially full or empty pages don't necessarily mean that pagination is finished", as quoted in
        https://github.com/dstackai/dstack/pull/2501; also https://github.com/boto/boto3/issues/3718).
        Each stream first answers ``knobs.empty_log_pages`` empty pages with fresh tokens, then moto's
        events and moto's tokens (moto repeats the token at the end: getmoto/moto#2361)."""
        body = request.json
        group = body.get("logGroupName") or body.get("logGroupIdentifier", "").rpartition(":log-group:")[2]
        stream = (group, body.get("logStreamName", ""))
        token = body.get("nextToken")
        with self._lock:
            ours = token is not None and token in self._log_tokens
            if token and not ours:
                return None  # moto's own token: moto goes on from there
            if self._empty_served[stream] < self.knobs.empty_log_pages and _stream_exists(
                request.region, *stream
            ):
                self._empty_served[stream] += 1
                number = 7 * 10**55 + len(self._log_tokens) + 1
                forward_token, backward_token = f"f/{number:056d}", f"b/{number:056d}"
                self._log_tokens[forward_token] = self._log_tokens[backward_token] = stream
                page = {"events": [], "nextForwardToken": forward_token, "nextBackwardToken": backward_token}
                return json_answer(200, page)
        if ours:
            rest = {key: value for key, value in body.items() if key != "nextToken"}
            return forward(request.rewritten(json.dumps(rest).encode()))
        return None

    # -- 6. S3 deletes and multipart listing ------------------------------------------------------ #
    def _denied(self, key: str) -> bool:
        prefix = self.knobs.deny_delete_prefix
        return prefix is not None and key.startswith(prefix)

    def _delete_objects(self, request: Request, forward: Callable[..., Response]) -> Response | None:
        """DeleteObjects answers 200 and lists each refused key in an <Error> entry (Code AccessDenied),
        deleting the others (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html;
        an AccessDenied entry as S3 sends it: https://github.com/andrewrk/node-s3-client/issues/235)."""
        if self.knobs.deny_delete_prefix is None:
            return None
        document = ElementTree.fromstring(request.body)
        keys = [node.text or "" for node in document.iter() if node.tag.split("}")[-1] == "Key"]
        quiet = any(
            (node.text or "").lower() == "true" for node in document.iter() if node.tag.endswith("Quiet")
        )
        denied = [key for key in keys if self._denied(key)]
        if not denied:
            return None
        errors = "".join(
            f"<Error><Key>{escape(key)}</Key><Code>AccessDenied</Code>"
            "<Message>Access Denied</Message></Error>"
            for key in denied
        )
        allowed = [key for key in keys if not self._denied(key)]
        if not allowed:
            xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="{_S3_NS}">'
            xml += f"{errors}</DeleteResult>"
            return Response(200, "OK", [("Content-Type", "application/xml")], xml.encode())
        objects = "".join(f"<Object><Key>{escape(key)}</Key></Object>" for key in allowed)
        rewritten = f'<Delete xmlns="{_S3_NS}"><Quiet>{str(quiet).lower()}</Quiet>{objects}</Delete>'.encode()
        answer = forward(request.rewritten(rewritten, drop=("content-md5",)))
        if answer.status == 200:
            text = answer.body.decode()
            if "</DeleteResult>" in text:
                text = text.replace("</DeleteResult>", errors + "</DeleteResult>")
            else:
                text = re.sub(r"<DeleteResult([^>]*)/>", rf"<DeleteResult\1>{errors}</DeleteResult>", text)
            answer.body = text.encode()
        return answer

    def _delete_object(self, request: Request, forward: Callable[..., Response]) -> Response | None:
        bucket, key = _s3_parts(request)
        if not self._denied(key):
            return None
        return s3_error(403, "AccessDenied", _explicit_deny("s3:DeleteObject", bucket, key))

    def _list_multipart_uploads(self, request: Request, forward: Callable[..., Response]) -> Response | None:
        """ListMultipartUploads pages at max-uploads (at most 1000) with IsTruncated, NextKeyMarker and
        NextUploadIdMarker (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html);
        moto lists every upload at once. The page size is at most ``knobs.multipart_page_size``.
        Delimiter is not supported here."""
        if not self.knobs.real_multipart_listing:
            return None
        from moto.backends import get_backend

        bucket_name, _ = _s3_parts(request)
        bucket = get_backend("s3")[ACCOUNT]["aws"].buckets.get(bucket_name)
        if bucket is None:
            return None
        query = request.query
        prefix = query.get("prefix", "")
        size = min(int(query.get("max-uploads") or 1000), 1000, max(1, self.knobs.multipart_page_size))
        with self._lock:
            uploads = [
                upload for upload in list(bucket.multiparts.values()) if upload.key_name.startswith(prefix)
            ]
        order = {upload.id: index for index, upload in enumerate(uploads)}
        uploads.sort(key=lambda upload: (upload.key_name, order[upload.id]))
        key_marker, id_marker = query.get("key-marker", ""), query.get("upload-id-marker", "")
        if key_marker:
            start = 0
            for index, upload in enumerate(uploads):
                after_key = upload.key_name > key_marker
                same_key_after_id = (
                    id_marker
                    and upload.key_name == key_marker
                    and any(u.id == id_marker for u in uploads[:index] if u.key_name == key_marker)
                )
                if after_key or same_key_after_id:
                    start = index
                    break
            else:
                start = len(uploads)
            uploads = uploads[start:]
        page, truncated = uploads[:size], len(uploads) > size
        parts = [
            f'<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="{_S3_NS}">',
            f"<Bucket>{escape(bucket_name)}</Bucket><KeyMarker>{escape(key_marker)}</KeyMarker>",
            f"<UploadIdMarker>{escape(id_marker)}</UploadIdMarker>",
        ]
        if truncated:
            parts.append(f"<NextKeyMarker>{escape(page[-1].key_name)}</NextKeyMarker>")
            parts.append(f"<NextUploadIdMarker>{escape(page[-1].id)}</NextUploadIdMarker>")
        parts.append(f"<Prefix>{escape(prefix)}</Prefix><MaxUploads>{size}</MaxUploads>")
        parts.append(f"<IsTruncated>{str(truncated).lower()}</IsTruncated>")
        for upload in page:
            parts.append(
                f"<Upload><Key>{escape(upload.key_name)}</Key><UploadId>{escape(upload.id)}</UploadId>"
                f"<Initiator><ID>{CALLER_ARN}</ID><DisplayName>moto</DisplayName></Initiator>"
                "<Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>"
                "<DisplayName>webfile</DisplayName></Owner><StorageClass>STANDARD</StorageClass>"
                "<Initiated>2026-01-01T00:00:00.000Z</Initiated></Upload>"
            )
        parts.append("</ListMultipartUploadsResult>")
        return Response(200, "OK", [("Content-Type", "application/xml")], "".join(parts).encode())

    # -- 7. a bucket policy requiring SSE-KMS ----------------------------------------------------- #
    def _kms_policy(self, request: Request, forward: Callable[..., Response]) -> Response | None:
        """A bucket policy that denies s3:PutObject (PutObject, CreateMultipartUpload, CopyObject's
        destination) unless x-amz-server-side-encryption is aws:kms (and, when the knob names a key,
        x-amz-server-side-encryption-aws-kms-key-id is that key). S3 answers 403 AccessDenied; within the
        account the message names the explicit deny ("User: ... is not authorized to perform: s3:PutObject
        on resource: "arn:aws:s3:::bucket/key" with an explicit deny in a resource-based policy":
        https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html and
        https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html; the exact
        resource-based wording is the IAM pattern, not seen verbatim from S3)."""
        wanted = self.knobs.require_kms_key
        if wanted is None:
            return None
        headers = request.headers
        encrypted = headers.get("x-amz-server-side-encryption") == "aws:kms"
        key_ok = (
            wanted in ("", "aws:kms") or headers.get("x-amz-server-side-encryption-aws-kms-key-id") == wanted
        )
        if encrypted and key_ok:
            return None
        bucket, key = _s3_parts(request)
        return s3_error(403, "AccessDenied", _explicit_deny("s3:PutObject", bucket, key))

    # -- 8. Price List --------------------------------------------------------------------------- #
    def _get_products(self, request: Request, forward: Callable[..., Response]) -> Response | None:
        """GetProducts as the Price List answers: FormatVersion aws_v1, PriceList of JSON strings (each a
        product with product.attributes and terms.OnDemand...priceDimensions...pricePerUnit), NextToken
        paging, TERM_MATCH filters on attribute names
        (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_pricing_GetProducts.html;
        attribute names regionCode, location, usagetype, instanceType as in the offer files; the
        SageMaker-specific "instanceName" and "component": "Training" could not be confirmed at an AWS
        source). moto has no Price List and answers 500."""
        if not self.knobs.price_list:
            return None
        body = request.json
        products = price_products(self.knobs.prices)
        if body.get("ServiceCode") != "AmazonSageMaker":
            products = []
        for term in body.get("Filters") or []:
            if term.get("Type") != "TERM_MATCH":
                return json_error("InvalidParameterException", f"Unknown filter type {term.get('Type')}")
            field_name, value = term.get("Field"), term.get("Value")
            if field_name == "ServiceCode":
                products = products if value == "AmazonSageMaker" else []
                continue
            products = [p for p in products if p["product"]["attributes"].get(field_name) == value]
        size = min(int(body.get("MaxResults") or 100), 100, max(1, self.knobs.price_page_size))
        offset = 0
        if body.get("NextToken"):
            try:
                offset = int(base64.b64decode(body["NextToken"]).decode().removeprefix("offset:"))
            except ValueError:
                return json_error("InvalidNextTokenException", "The pagination token is invalid.")
        answer: dict[str, Any] = {
            "FormatVersion": body.get("FormatVersion") or "aws_v1",
            "PriceList": [json.dumps(product) for product in products[offset : offset + size]],
        }
        if offset + size < len(products):
            answer["NextToken"] = base64.b64encode(f"offset:{offset + size}".encode()).decode()
        return json_answer(200, answer)


# ---------------------------------------------------------------------------------------------- #
# Helpers
# ---------------------------------------------------------------------------------------------- #
def _stream_exists(region: str, group: str, stream: str) -> bool:
    from moto.backends import get_backend

    log_group = get_backend("logs")[ACCOUNT][region].groups.get(group)
    return log_group is not None and stream in log_group.streams


def _explicit_deny(action: str, bucket: str, key: str) -> str:
    return (
        f"User: {CALLER_ARN} is not authorized to perform: {action} on resource: "
        f'"arn:aws:s3:::{bucket}/{key}" '
        "with an explicit deny in a resource-based policy"
    )


# Operations the dialect may answer itself that change nothing in moto: put to moto first while moto
# checks credentials, so that its refusal (InvalidClientTokenId, AccessDenied) is what the client gets.
_AUTH_FIRST = frozenset(
    {
        "SageMaker.Search",
        "SageMaker.DescribeTrainingJob",
        "SageMaker.StopTrainingJob",
        "SageMaker.ListTags",
        "Logs_20140328.GetLogEvents",
        "S3.ListMultipartUploads",
        "AWSPriceListService.GetProducts",
    }
)
_MEMBERS: dict[str, frozenset[str]] = {}


def _shape_members(shape: str) -> frozenset[str]:
    if shape not in _MEMBERS:
        import botocore.session

        model = botocore.session.get_session().get_service_model("sagemaker")
        _MEMBERS[shape] = frozenset(model.shape_for(shape).members)
    return _MEMBERS[shape]


def _training_job_members() -> frozenset[str]:
    return _shape_members("TrainingJob")


def _describe_members() -> frozenset[str]:
    return _shape_members("DescribeTrainingJobResponse") & _shape_members("CreateTrainingJobRequest")


def _property(record: dict[str, Any], name: str) -> Any:
    """A Search property of a TrainingJob record: a dotted path, ``Tags.<key>`` a tag's value."""
    if name.startswith("Tags."):
        key = name.removeprefix("Tags.")
        return next((tag["Value"] for tag in record.get("Tags", []) if tag["Key"] == key), None)
    value: Any = record
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _sortable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _epoch(value)
    if isinstance(value, bool | int | float):
        return float(value)
    return str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, dt.datetime):
        return _epoch(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value)
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.timestamp() if parsed.tzinfo else _epoch(parsed)


def _compare(actual: Any, operator: str, value: str) -> bool:
    if operator == "Exists":
        return actual is not None
    if operator == "NotExists":
        return actual is None
    if actual is None:
        return operator == "NotEquals"
    if isinstance(actual, bool):
        actual = str(actual).lower()
    if operator == "Contains":
        return str(value) in str(actual)
    if operator == "In":
        return str(actual) in [item.strip() for item in str(value).split(",")]
    left, right = _number(actual), _number(value)
    if left is None or right is None or isinstance(actual, str):
        left, right = str(actual), str(value)  # type: ignore[assignment]
    return {
        "Equals": left == right,
        "NotEquals": left != right,
        "GreaterThan": left > right,  # type: ignore[operator]
        "GreaterThanOrEqualTo": left >= right,  # type: ignore[operator]
        "LessThan": left < right,  # type: ignore[operator]
        "LessThanOrEqualTo": left <= right,  # type: ignore[operator]
    }.get(operator, False)


def _matches(record: dict[str, Any], expression: dict[str, Any]) -> bool:
    results = [
        _compare(_property(record, item["Name"]), item.get("Operator", "Equals"), item.get("Value", ""))
        for item in expression.get("Filters", [])
    ]
    results += [_matches(record, sub) for sub in expression.get("SubExpressions", [])]
    if not results:
        return True
    return any(results) if expression.get("Operator") == "Or" else all(results)


@contextmanager
def serve(target_url: str, faults: Faults | None = None, knobs: Knobs | None = None) -> Iterator[AwsDialect]:
    """Run a dialect in front of ``target_url`` for the block; ``.url`` is its address."""
    dialect = AwsDialect(target_url, faults, knobs).start()
    try:
        yield dialect
    finally:
        dialect.stop()


@contextmanager
def faulty_endpoint(target_url: str, faults: Faults) -> Iterator[str]:
    """A pure fault proxy (no dialect of its own) in front of ``target_url``; yields its URL."""
    with serve(target_url, faults, Knobs.plain()) as dialect:
        yield dialect.url
