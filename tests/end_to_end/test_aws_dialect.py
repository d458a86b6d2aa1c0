"""The AWS dialect in front of moto (tests/support/aws_dialect.py): each way it answers as real AWS does,
driven with plain boto3 clients in standard retry mode, and moto's own answer beside it where that is
quick to show (moto's server reached directly, as under ``SM_TEST_AWS=moto``).

First-call throttling is switched off here except where it is the subject, so retries' back-off does
not slow these tests; the suite's other tests meet it once per operation and session.
"""

from __future__ import annotations

import io
import itertools
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError
from support.aws import BUCKET, REGION, ROLE_ARN
from support.aws_dialect import AwsDialect, Faults, Knobs, operation_marker, serve

STANDARD = Config(retries={"mode": "standard"})
ONE_TRY = Config(retries={"mode": "standard", "total_max_attempts": 1})
LOG_GROUP = "/aws/sagemaker/TrainingJobs"


@pytest.fixture(autouse=True)
def _no_first_call_throttling(aws_dialect: AwsDialect) -> None:
    aws_dialect.knobs.throttle_first_calls = False


def client(service: str, endpoint: str, config: Config = STANDARD) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint, config=config)


def job_request(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": {
            "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/digits:1",
            "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": "validation:accuracy", "Regex": "accuracy=([0-9.]+)"}],
        },
        "RoleArn": ROLE_ARN,
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/out/"},
        "ResourceConfig": {"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        **extra,
    }


def error_of(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call(*args, **kwargs)
    response = raised.value.response
    return {**response["Error"], "Status": response["ResponseMetadata"]["HTTPStatusCode"]}


def wait_for(describe: Any, name: str, status: str, timeout: float = 5.0) -> dict[str, Any]:
    deadline = time.time() + timeout
    while True:
        job = describe(TrainingJobName=name)
        if job["TrainingJobStatus"] == status or time.time() > deadline:
            assert job["TrainingJobStatus"] == status, job
            return job
        time.sleep(0.05)


@pytest.fixture
def sagemaker(aws: str) -> Any:
    return client("sagemaker", aws)


@pytest.fixture
def moto_sagemaker(moto_server: str) -> Any:
    return client("sagemaker", moto_server, ONE_TRY)


# ---------------------------------------------------------------------------------------------- #
# 1. Unknown names; 5. the window right after a create
# ---------------------------------------------------------------------------------------------- #
def test_an_unknown_job_is_requested_resource_not_found(sagemaker: Any, moto_sagemaker: Any) -> None:
    arn = f"arn:aws:sagemaker:{REGION}:123456789012:training-job/no-such-job"
    for call, kwargs in [
        (sagemaker.describe_training_job, {"TrainingJobName": "no-such-job"}),
        (sagemaker.stop_training_job, {"TrainingJobName": "no-such-job"}),
        (sagemaker.describe_hyper_parameter_tuning_job, {"HyperParameterTuningJobName": "no-such-job"}),
        (sagemaker.list_tags, {"ResourceArn": arn}),
    ]:
        assert error_of(call, **kwargs) == {
            "Code": "ValidationException",
            "Message": "Requested resource not found.",
            "Status": 400,
        }
    moto = error_of(moto_sagemaker.describe_training_job, TrainingJobName="no-such-job")
    assert moto["Code"] == "ValidationException" and moto["Message"].startswith("Could not find training job")


def test_a_new_job_is_not_found_by_its_first_describe(sagemaker: Any, aws_dialect: AwsDialect) -> None:
    sagemaker.create_training_job(**job_request("fresh-job"))
    assert error_of(sagemaker.describe_training_job, TrainingJobName="fresh-job")["Message"] == (
        "Requested resource not found."
    )
    assert sagemaker.describe_training_job(TrainingJobName="fresh-job")["TrainingJobName"] == "fresh-job"

    aws_dialect.knobs.not_found_after_create = 0
    sagemaker.create_training_job(**job_request("visible-job"))
    assert sagemaker.describe_training_job(TrainingJobName="visible-job")["TrainingJobName"] == "visible-job"


# ---------------------------------------------------------------------------------------------- #
# 9. Lifecycle, Stop, spot, warm pools, what Describe keeps, unique names, forced states
# ---------------------------------------------------------------------------------------------- #
@pytest.fixture
def lifecycle(aws_dialect: AwsDialect) -> Iterator[AwsDialect]:
    aws_dialect.knobs.not_found_after_create = 0
    aws_dialect.knobs.lifecycle_step_s = 0.1
    yield aws_dialect


def statuses(job: dict[str, Any]) -> list[str]:
    return [transition["Status"] for transition in job["SecondaryStatusTransitions"]]


def test_a_job_moves_through_its_secondary_statuses(
    sagemaker: Any, lifecycle: AwsDialect, moto_sagemaker: Any
) -> None:
    sagemaker.create_training_job(**job_request("lifecycle-job"))
    job = sagemaker.describe_training_job(TrainingJobName="lifecycle-job")
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("InProgress", "Starting")
    [starting] = job["SecondaryStatusTransitions"]
    assert "EndTime" not in starting and "TrainingStartTime" not in job and "TrainingTimeInSeconds" not in job
    listed = sagemaker.list_training_jobs(StatusEquals="InProgress")["TrainingJobSummaries"]
    assert [summary["TrainingJobName"] for summary in listed] == ["lifecycle-job"]

    job = wait_for(sagemaker.describe_training_job, "lifecycle-job", "Completed")
    assert statuses(job) == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    transitions = job["SecondaryStatusTransitions"]
    for earlier, later in itertools.pairwise(transitions):
        assert earlier["EndTime"] == later["StartTime"] and earlier["StatusMessage"]
    assert transitions[2]["StatusMessage"] == "Training image download completed. Training in progress."
    assert job["TrainingStartTime"] == transitions[1]["StartTime"]
    assert job["TrainingEndTime"] == transitions[-1]["StartTime"]
    assert job["TrainingTimeInSeconds"] >= 1 and job["BillableTimeInSeconds"] == job["TrainingTimeInSeconds"]

    moto_sagemaker.create_training_job(**job_request("moto-job"))
    moto_job = moto_sagemaker.describe_training_job(TrainingJobName="moto-job")
    assert moto_job["TrainingJobStatus"] == "Completed" and statuses(moto_job) == ["Starting"]


def test_stop_moves_an_in_progress_job_to_stopped_and_refuses_an_ended_one(
    sagemaker: Any, lifecycle: AwsDialect, moto_sagemaker: Any
) -> None:
    lifecycle.knobs.lifecycle_step_s = 0.3
    sagemaker.create_training_job(**job_request("stopped-job"))
    sagemaker.stop_training_job(TrainingJobName="stopped-job")
    job = sagemaker.describe_training_job(TrainingJobName="stopped-job")
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopping", "Stopping")
    job = wait_for(sagemaker.describe_training_job, "stopped-job", "Stopped")
    assert statuses(job) == ["Starting", "Stopping", "Stopped"] and "TrainingEndTime" in job
    assert error_of(sagemaker.stop_training_job, TrainingJobName="stopped-job") == {
        "Code": "ValidationException",
        "Message": "The request was rejected because the training job is in status Stopped.",
        "Status": 400,
    }
    moto_sagemaker.create_training_job(**job_request("moto-job"))
    assert error_of(moto_sagemaker.stop_training_job, TrainingJobName="moto-job")["Status"] == 500


def test_a_spot_job_can_be_interrupted_and_start_again(sagemaker: Any, lifecycle: AwsDialect) -> None:
    lifecycle.knobs.interrupt_spot = True
    lifecycle.knobs.lifecycle_step_s = 0.05
    stopping = {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}
    request = job_request("spot-job", EnableManagedSpotTraining=True, StoppingCondition=stopping)
    sagemaker.create_training_job(**request)
    job = wait_for(sagemaker.describe_training_job, "spot-job", "Completed")
    assert statuses(job) == [
        "Starting",
        "Downloading",
        "Training",
        "Interrupted",
        "Starting",
        "Downloading",
        "Training",
        "Uploading",
        "Completed",
    ]
    assert 1 <= job["BillableTimeInSeconds"] <= job["TrainingTimeInSeconds"]


def test_a_warm_pool_is_available_then_reused_by_a_matching_job(
    sagemaker: Any, lifecycle: AwsDialect
) -> None:
    lifecycle.knobs.lifecycle_step_s = 0.05
    resources = {"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30}
    warm = {**resources, "KeepAlivePeriodInSeconds": 600}
    sagemaker.create_training_job(**job_request("pool-owner", ResourceConfig=warm))
    assert sagemaker.describe_training_job(TrainingJobName="pool-owner")["WarmPoolStatus"] == {
        "Status": "InUse"
    }
    owner = wait_for(sagemaker.describe_training_job, "pool-owner", "Completed")
    assert owner["WarmPoolStatus"]["Status"] == "Available"
    assert owner["SecondaryStatusTransitions"][0]["StatusMessage"] == "Launching requested ML instances"

    sagemaker.create_training_job(**job_request("pool-user", ResourceConfig=warm))
    owner = sagemaker.describe_training_job(TrainingJobName="pool-owner")
    assert owner["WarmPoolStatus"]["Status"] == "Reused"
    assert owner["WarmPoolStatus"]["ReusedByJob"] == "pool-user"
    assert owner["WarmPoolStatus"]["ResourceRetainedBillableTimeInSeconds"] >= 0
    user = sagemaker.describe_training_job(TrainingJobName="pool-user")
    assert user["SecondaryStatusTransitions"][0]["StatusMessage"] == "Preparing the instances for training"

    sagemaker.create_training_job(**job_request("no-pool", ResourceConfig=resources))
    assert "WarmPoolStatus" not in sagemaker.describe_training_job(TrainingJobName="no-pool")


def test_describe_returns_what_create_was_given(
    sagemaker: Any, lifecycle: AwsDialect, moto_sagemaker: Any
) -> None:
    given = {
        "Environment": {"SM_LOG_LEVEL": "20"},
        "RetryStrategy": {"MaximumRetryAttempts": 2},
        "RemoteDebugConfig": {"EnableRemoteDebug": True},
        "CheckpointConfig": {"S3Uri": f"s3://{BUCKET}/checkpoints/", "LocalPath": "/opt/ml/checkpoints"},
        "TensorBoardOutputConfig": {"S3OutputPath": f"s3://{BUCKET}/tensorboard/"},
    }
    sagemaker.create_training_job(**job_request("kept-job", **given))
    job = sagemaker.describe_training_job(TrainingJobName="kept-job")
    assert {key: job[key] for key in given} == given
    metrics = [{"Name": "validation:accuracy", "Regex": "accuracy=([0-9.]+)"}]
    assert job["AlgorithmSpecification"]["MetricDefinitions"] == metrics
    assert lifecycle.requests["SageMaker.CreateTrainingJob"].json["Environment"] == given["Environment"]

    moto_sagemaker.create_training_job(**job_request("moto-job", **given))
    moto_job = moto_sagemaker.describe_training_job(TrainingJobName="moto-job")
    assert (
        "Environment" not in moto_job and moto_job["AlgorithmSpecification"]["MetricDefinitions"] != metrics
    )


def test_a_taken_job_name_is_resource_in_use(
    sagemaker: Any, lifecycle: AwsDialect, moto_sagemaker: Any
) -> None:
    sagemaker.create_training_job(**job_request("taken-name"))
    error = error_of(sagemaker.create_training_job, **job_request("taken-name"))
    assert error["Code"] == "ResourceInUse" and error["Message"].startswith(
        "Training job names must be unique within an AWS account and region, and a training job with this "
        "name already exists (arn:aws:sagemaker:us-east-1:123456789012:training-job/taken-name"
    )
    moto_sagemaker.create_training_job(**job_request("moto-name"))
    moto_sagemaker.create_training_job(**job_request("moto-name"))  # moto overwrites it


def test_a_test_can_end_a_job_as_it_wants(sagemaker: Any, lifecycle: AwsDialect) -> None:
    lifecycle.knobs.lifecycle_step_s = 60
    sagemaker.create_training_job(**job_request("failing-job"))
    lifecycle.finish("failing-job", "Failed", "AlgorithmError: out of memory")
    job = sagemaker.describe_training_job(TrainingJobName="failing-job")
    assert (job["TrainingJobStatus"], job["FailureReason"]) == ("Failed", "AlgorithmError: out of memory")
    assert statuses(job) == ["Starting", "Failed"]
    assert error_of(sagemaker.stop_training_job, TrainingJobName="failing-job")["Message"].endswith(
        "in status Failed."
    )

    # As tests did before the dialect: moto's own object, set directly, is left as it was set.
    from moto.backends import get_backend

    sagemaker.create_training_job(**job_request("set-in-moto"))
    get_backend("sagemaker")["123456789012"][REGION].training_jobs[
        "set-in-moto"
    ].training_job_status = "Failed"
    assert sagemaker.describe_training_job(TrainingJobName="set-in-moto")["TrainingJobStatus"] == "Failed"


# ---------------------------------------------------------------------------------------------- #
# 2. Search
# ---------------------------------------------------------------------------------------------- #
def tag(key: str, value: str) -> dict[str, str]:
    return {"Key": key, "Value": value}


def search_names(sagemaker: Any, **request: Any) -> list[str]:
    pages = sagemaker.get_paginator("search").paginate(Resource="TrainingJob", **request)
    return [result["TrainingJob"]["TrainingJobName"] for page in pages for result in page["Results"]]


def test_search_pages_sorts_and_ands_every_filter(
    sagemaker: Any, lifecycle: AwsDialect, moto_sagemaker: Any
) -> None:
    lifecycle.knobs.lifecycle_step_s = 60
    for index, tags in enumerate(
        [[tag("exp", "a")], [tag("exp", "a"), tag("owner", "ann")], [tag("exp", "b")], [tag("exp", "a")], []]
    ):
        sagemaker.create_training_job(**job_request(f"search-job-{index}", Tags=tags))
    lifecycle.finish("search-job-3", "Failed", "boom")

    oldest_first = search_names(sagemaker, SortBy="CreationTime", SortOrder="Ascending", MaxResults=2)
    assert oldest_first == [f"search-job-{index}" for index in range(5)]
    assert lifecycle.calls["SageMaker.Search"] == 3  # pages of at most 2
    assert search_names(sagemaker, SortBy="CreationTime", MaxResults=100) == oldest_first[::-1]

    def found(*filters: dict[str, str], **expression: Any) -> list[str]:
        search = {"Filters": list(filters), **expression}
        return sorted(search_names(sagemaker, SearchExpression=search, MaxResults=100))

    exp_a = {"Name": "Tags.exp", "Operator": "Equals", "Value": "a"}
    in_progress = {"Name": "TrainingJobStatus", "Operator": "Equals", "Value": "InProgress"}
    assert found(exp_a) == ["search-job-0", "search-job-1", "search-job-3"]
    assert found(exp_a, in_progress) == ["search-job-0", "search-job-1"]  # moto stops at the Tags filter
    assert found({"Name": "Tags.owner", "Operator": "Exists"}) == ["search-job-1"]
    assert found({"Name": "Tags.exp", "Operator": "NotExists"}) == ["search-job-4"]
    assert found({"Name": "Tags.exp", "Operator": "NotEquals", "Value": "a"}) == [
        "search-job-2",
        "search-job-4",
    ]
    assert found({"Name": "TrainingJobName", "Operator": "Contains", "Value": "-job-2"}) == ["search-job-2"]
    assert found({"Name": "TrainingJobStatus", "Operator": "In", "Value": "Failed,Stopped"}) == [
        "search-job-3"
    ]
    assert found(
        {"Name": "Tags.exp", "Operator": "Equals", "Value": "b"},
        {"Name": "TrainingJobStatus", "Operator": "Equals", "Value": "Failed"},
        Operator="Or",
    ) == ["search-job-2", "search-job-3"]
    assert error_of(sagemaker.search, Resource="TrainingJob", NextToken="not-a-token")["Code"] == (
        "ValidationException"
    )

    # moto: every job in one page whatever MaxResults, and HTTP 500 for Exists.
    for index in range(3):
        moto_sagemaker.create_training_job(**job_request(f"moto-job-{index}"))
    moto_page = moto_sagemaker.search(Resource="TrainingJob", MaxResults=2)
    assert len(moto_page["Results"]) > 2 and "NextToken" not in moto_page
    exists = {"Filters": [{"Name": "Tags.exp", "Operator": "Exists"}]}
    assert error_of(moto_sagemaker.search, Resource="TrainingJob", SearchExpression=exists)["Status"] == 500


def test_an_account_of_ten_thousand_other_jobs_costs_one_page_of_a_tag_search(
    sagemaker: Any, lifecycle: AwsDialect
) -> None:
    lifecycle.knobs.foreign_jobs = 10_000
    for index in range(2):
        sagemaker.create_training_job(**job_request(f"ours-{index}", Tags=[tag("exp", "ours")]))
    ours = {"Filters": [{"Name": "Tags.exp", "Operator": "Equals", "Value": "ours"}]}
    names = search_names(sagemaker, SearchExpression=ours, SortBy="CreationTime", MaxResults=100)
    assert names == ["ours-1", "ours-0"] and lifecycle.calls["SageMaker.Search"] == 1
    first = sagemaker.search(Resource="TrainingJob", SortBy="CreationTime", MaxResults=100)
    assert len(first["Results"]) == 100 and "NextToken" in first
    page_names = [result["TrainingJob"]["TrainingJobName"] for result in first["Results"]]
    other = next(name for name in page_names if name.startswith("other-team-job-"))
    assert sagemaker.describe_training_job(TrainingJobName=other)["TrainingJobName"] == other

    lifecycle.knobs.foreign_jobs = 250
    assert len(search_names(sagemaker, MaxResults=100)) == 252
    assert lifecycle.calls["SageMaker.Search"] == 1 + 1 + 3


# ---------------------------------------------------------------------------------------------- #
# 3. Logs
# ---------------------------------------------------------------------------------------------- #
def test_log_streams_answer_empty_pages_before_their_events(
    aws: str, aws_dialect: AwsDialect, moto_server: str
) -> None:
    logs = client("logs", aws)
    logs.create_log_group(logGroupName=LOG_GROUP)
    logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName="job/algo-1-1700000000")
    now = int(time.time() * 1000)
    events = [{"timestamp": now + index, "message": f"line {index}"} for index in range(3)]
    logs.put_log_events(logGroupName=LOG_GROUP, logStreamName="job/algo-1-1700000000", logEvents=events)
    request = {"logGroupName": LOG_GROUP, "logStreamName": "job/algo-1-1700000000", "startFromHead": True}

    pages, token = [], None
    while True:
        page = logs.get_log_events(**request, **({"nextToken": token} if token else {}))
        pages.append([event["message"] for event in page["events"]])
        if page["nextForwardToken"] == token:
            break
        token = page["nextForwardToken"]
    assert pages == [[], [], ["line 0", "line 1", "line 2"], []]
    assert aws_dialect.calls["Logs_20140328.GetLogEvents"] == 4

    moto_page = client("logs", moto_server).get_log_events(**request)
    assert [event["message"] for event in moto_page["events"]] == ["line 0", "line 1", "line 2"]


# ---------------------------------------------------------------------------------------------- #
# 4. Throttling
# ---------------------------------------------------------------------------------------------- #
def test_named_operations_are_throttled_as_each_protocol_answers(aws: str, aws_dialect: AwsDialect) -> None:
    aws_dialect.throttle("SageMaker.ListTrainingJobs")
    answer = client("sagemaker", aws).list_training_jobs()
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert aws_dialect.throttled["SageMaker.ListTrainingJobs"] == 1

    aws_dialect.throttle("SageMaker.ListTrainingJobs")
    assert error_of(client("sagemaker", aws, ONE_TRY).list_training_jobs) == {
        "Code": "ThrottlingException",
        "Message": "Rate exceeded",
        "Status": 400,
    }
    aws_dialect.throttle("S3.PutObject")
    error = error_of(client("s3", aws, ONE_TRY).put_object, Bucket=BUCKET, Key="k", Body=b"x")
    assert (error["Code"], error["Status"]) == ("SlowDown", 503)
    aws_dialect.throttle("STS.GetCallerIdentity")
    assert error_of(client("sts", aws, ONE_TRY).get_caller_identity)["Code"] == "Throttling"


def test_the_first_call_of_each_operation_is_throttled_once_a_session(aws: str, moto_server: str) -> None:
    with serve(moto_server) as dialect:
        s3 = client("s3", dialect.url)
        assert s3.list_buckets()["ResponseMetadata"]["RetryAttempts"] == 1
        assert s3.list_buckets()["ResponseMetadata"]["RetryAttempts"] == 0
        dialect.reset()  # a new test: the session's memory stays
        assert s3.list_buckets()["ResponseMetadata"]["RetryAttempts"] == 0
        assert dialect.throttled == {} and dialect.calls["S3.ListBuckets"] == 1


# ---------------------------------------------------------------------------------------------- #
# 6. S3 refusals and multipart listing; 7. a bucket policy requiring SSE-KMS
# ---------------------------------------------------------------------------------------------- #
def test_refused_deletes_are_listed_not_failed(aws: str, aws_dialect: AwsDialect) -> None:
    s3 = client("s3", aws)
    for key in ("keep/a", "keep/b", "scratch/c"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    aws_dialect.knobs.deny_delete_prefix = "keep/"
    objects = [{"Key": key} for key in ("keep/a", "keep/b", "scratch/c")]
    answer = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": objects, "Quiet": True})
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert [(error["Key"], error["Code"]) for error in answer["Errors"]] == [
        ("keep/a", "AccessDenied"),
        ("keep/b", "AccessDenied"),
    ]
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == ["keep/a", "keep/b"]
    assert error_of(s3.delete_object, Bucket=BUCKET, Key="keep/a")[("Code")] == "AccessDenied"
    only_refused = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "keep/b"}]})
    assert [error["Key"] for error in only_refused["Errors"]] == ["keep/b"]


def test_multipart_uploads_are_listed_in_pages(aws: str, aws_dialect: AwsDialect, moto_server: str) -> None:
    s3 = client("s3", aws)
    started = {
        s3.create_multipart_upload(Bucket=BUCKET, Key=f"up/{index % 3}")["UploadId"] for index in range(5)
    }
    aws_dialect.knobs.multipart_page_size = 2
    first = s3.list_multipart_uploads(Bucket=BUCKET, Prefix="up/")
    assert len(first["Uploads"]) == 2 and first["IsTruncated"] is True
    assert first["NextKeyMarker"] == first["Uploads"][-1]["Key"]
    assert first["NextUploadIdMarker"] == first["Uploads"][-1]["UploadId"]
    pages = list(s3.get_paginator("list_multipart_uploads").paginate(Bucket=BUCKET, Prefix="up/"))
    listed = [upload["UploadId"] for page in pages for upload in page.get("Uploads", [])]
    assert len(pages) == 3 and sorted(listed) == sorted(started) and len(set(listed)) == 5

    moto = client("s3", moto_server).list_multipart_uploads(Bucket=BUCKET, MaxUploads=2)
    assert len(moto["Uploads"]) == 5 and moto["IsTruncated"] is False


def test_a_bucket_policy_can_require_sse_kms(aws: str, aws_dialect: AwsDialect) -> None:
    s3 = client("s3", aws)
    aws_dialect.knobs.require_kms_key = ""
    error = error_of(s3.put_object, Bucket=BUCKET, Key="plain", Body=b"x")
    assert (error["Code"], error["Status"]) == ("AccessDenied", 403)
    assert error["Message"] == (
        "User: arn:aws:iam::123456789012:user/moto is not authorized to perform: s3:PutObject on resource: "
        f'"arn:aws:s3:::{BUCKET}/plain" with an explicit deny in a resource-based policy'
    )
    s3.put_object(Bucket=BUCKET, Key="kms", Body=b"x", ServerSideEncryption="aws:kms")

    team_key = "arn:aws:kms:us-east-1:123456789012:key/team-key"
    aws_dialect.knobs.require_kms_key = team_key
    kms = {"ServerSideEncryption": "aws:kms"}
    assert error_of(s3.put_object, Bucket=BUCKET, Key="other", Body=b"x", **kms)["Code"] == "AccessDenied"
    s3.put_object(Bucket=BUCKET, Key="team", Body=b"x", SSEKMSKeyId=team_key, **kms)
    assert error_of(s3.create_multipart_upload, Bucket=BUCKET, Key="big")["Code"] == "AccessDenied"
    copy_source = {"Bucket": BUCKET, "Key": "team"}
    assert (
        error_of(s3.copy_object, Bucket=BUCKET, Key="copy", CopySource=copy_source)["Code"] == "AccessDenied"
    )
    s3.copy_object(Bucket=BUCKET, Key="copy", CopySource=copy_source, SSEKMSKeyId=team_key, **kms)


# ---------------------------------------------------------------------------------------------- #
# 8. Price List
# ---------------------------------------------------------------------------------------------- #
def test_the_price_list_answers_get_products_in_pages(
    aws: str, aws_dialect: AwsDialect, moto_server: str
) -> None:
    import json

    pricing = client("pricing", aws)
    filters = [
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"},
        {"Type": "TERM_MATCH", "Field": "instanceName", "Value": "ml.g5.xlarge"},
    ]
    pages = list(
        pricing.get_paginator("get_products").paginate(ServiceCode="AmazonSageMaker", Filters=filters)
    )
    products = [json.loads(entry) for page in pages for entry in page["PriceList"]]
    assert len(pages) == 4 and pages[0]["FormatVersion"] == "aws_v1"
    components = {product["product"]["attributes"]["component"]: product for product in products}
    assert list(components) == ["Notebook", "Hosting", "Training", "Processing"]
    [offer] = components["Training"]["terms"]["OnDemand"].values()
    [rate] = offer["priceDimensions"].values()
    assert (rate["unit"], rate["pricePerUnit"]) == ("Hrs", {"USD": "1.4080000000"})
    assert components["Training"]["product"]["attributes"]["usagetype"] == "USE1-Train:ml.g5.xlarge"

    aws_dialect.knobs.prices = {("eu-west-1", "ml.m5.large"): 0.128}
    training = [*filters[:1], {"Type": "TERM_MATCH", "Field": "component", "Value": "Training"}]
    assert pricing.get_products(ServiceCode="AmazonSageMaker", Filters=training)["PriceList"] == []

    moto = error_of(client("pricing", moto_server, ONE_TRY).get_products, ServiceCode="AmazonSageMaker")
    assert moto["Status"] == 500


# ---------------------------------------------------------------------------------------------- #
# 10. What the service recorded; the reset hook; faults and bodies on the wire
# ---------------------------------------------------------------------------------------------- #
def test_calls_and_requests_are_kept_until_moto_is_reset(aws: str, aws_dialect: AwsDialect) -> None:
    client("sagemaker", aws).create_training_job(**job_request("recorded-job"))
    assert aws_dialect.calls["SageMaker.CreateTrainingJob"] == 1
    request = aws_dialect.requests["SageMaker.CreateTrainingJob"]
    assert (request.service, request.region, request.json["TrainingJobName"]) == (
        "sagemaker",
        REGION,
        "recorded-job",
    )
    requests.post(f"{aws}/moto-api/reset", timeout=10)
    assert aws_dialect.calls == {} and aws_dialect.requests == {}


def test_faults_act_on_the_stream_and_bodies_pass_unchanged(aws: str, aws_dialect: AwsDialect) -> None:
    aws_dialect.faults = Faults(reject_marker=operation_marker("SageMaker.ListTrainingJobs"))
    assert error_of(client("sagemaker", aws, ONE_TRY).list_training_jobs) == {
        "Code": "ValidationException",
        "Message": "rejected by the test proxy",
        "Status": 400,
    }
    aws_dialect.faults = Faults(drop_answer_marker=operation_marker("SageMaker.CreateTrainingJob"))
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        client("sagemaker", aws, ONE_TRY).create_training_job(**job_request("answer-lost"))
    assert aws_dialect.calls["SageMaker.CreateTrainingJob"] == 1  # the service acted all the same
    aws_dialect.faults = Faults()

    # A chunked request body arrives whole; a large one through boto3's multipart upload too.
    chunks = (bytes([index]) * 10_000 for index in range(20))
    assert requests.put(f"{aws}/{BUCKET}/chunked", data=chunks, timeout=10).status_code == 200
    s3 = client("s3", aws)
    assert s3.get_object(Bucket=BUCKET, Key="chunked")["Body"].read() == b"".join(
        bytes([index]) * 10_000 for index in range(20)
    )
    data = bytes(range(256)) * 40_000
    s3.upload_fileobj(io.BytesIO(data), BUCKET, "multipart")
    assert s3.get_object(Bucket=BUCKET, Key="multipart")["Body"].read() == data


def test_moto_s_credential_checks_still_apply_to_what_the_dialect_answers(aws: str) -> None:
    bogus = boto3.client(
        "sagemaker",
        region_name=REGION,
        endpoint_url=aws,
        config=ONE_TRY,
        aws_access_key_id="AKIANOTAREALKEY00000",
        aws_secret_access_key="not-a-secret",
    )
    requests.post(f"{aws}/moto-api/reset-auth", data=b"0", timeout=10)
    try:
        error = error_of(bogus.search, Resource="TrainingJob")
    finally:
        requests.post(f"{aws}/moto-api/reset-auth", data=b"inf", timeout=10)
    # moto's refusal, passed on as moto words it (an XML body, so botocore reads the code as "403").
    assert error["Status"] == 403 and "<Code>InvalidClientTokenId</Code>" in error["Message"]


def test_plain_knobs_leave_moto_s_answers(aws: str, moto_server: str) -> None:
    with serve(moto_server, knobs=Knobs.plain()) as plain:
        error = error_of(client("sagemaker", plain.url).describe_training_job, TrainingJobName="none")
        assert error["Message"].startswith("Could not find training job")
