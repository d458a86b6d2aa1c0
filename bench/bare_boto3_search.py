"""The bare way to find a team's newest jobs: boto3's Search paginator with the same filter, names printed.

    python bench/bare_boto3_search.py LIMIT

The request ``list`` sends (jobs tagged with the launcher's experiment tag, newest first, 100 a page),
stopping once ``LIMIT`` jobs are in; no records read, no table.
"""

import sys

import boto3

limit = int(sys.argv[1])
request = {
    "Resource": "TrainingJob",
    "SortBy": "CreationTime",
    "SortOrder": "Descending",
    "MaxResults": 100,
    "SearchExpression": {"Filters": [{"Name": "Tags.sm-launcher:experiment", "Operator": "Exists"}]},
}
names: list[str] = []
for page in boto3.client("sagemaker", region_name="us-east-1").get_paginator("search").paginate(**request):
    names += [result["TrainingJob"]["TrainingJobName"] for result in page["Results"]]
    if len(names) >= limit:
        break
print("\n".join(names[:limit]))
