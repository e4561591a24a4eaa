"""infra/publish_dashboard.py: the dashboard's config.json from the stack's outputs, and the upload (on moto's S3)."""
import json

import boto3
from moto import mock_aws

from infra import publish_dashboard

OUTPUTS = {
    "EndpointURL": "https://abc123.execute-api.eu-west-1.amazonaws.com/api/",
    "UserPoolId": "eu-west-1_Pool",
    "UserPoolClientId": "client123",
    "DashboardBucketName": "tally-prod-dashboardbucket-1",
    "DashboardDistributionId": "E123",
    "DashboardUrl": "https://d1.cloudfront.net/",
    "SiteApiUrl": "https://d1.cloudfront.net/api",
}


def test_the_outputs_it_reads_are_outputs_of_the_template(template):
    assert set(OUTPUTS) <= set(template["Outputs"])


def test_config_json_is_what_the_pages_read():
    assert publish_dashboard.dashboard_config(OUTPUTS, "eu-west-1") == {
        "api_url": "https://d1.cloudfront.net/api",  # the pages' own origin: no preflight, cached public reads
        "region": "eu-west-1",
        "user_pool_id": "eu-west-1_Pool",
        "client_id": "client123",
        "cognito_endpoint": None,
    }


def test_it_publishes_the_pages_and_not_the_build_files(tmp_path):
    for name in ("index.html", "vote.html", "icon.svg", "css/tally.css", "js/api.js", "vendor/chart.js/x.js",
                 "package.json", "node_modules/a/b.js", "scripts/build.mjs", "js/.hidden"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    keys = publish_dashboard.published_files(tmp_path)
    assert keys == ["icon.svg", "index.html", "vote.html", "css/tally.css", "js/api.js", "vendor/chart.js/x.js"]
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="dashboard-bucket")
        config = publish_dashboard.dashboard_config(OUTPUTS, "us-east-1")
        publish_dashboard.upload(s3, "dashboard-bucket", keys, config, root=tmp_path)
        page = s3.get_object(Bucket="dashboard-bucket", Key="index.html")
        assert page["ContentType"].startswith("text/html") and page["CacheControl"] == "no-cache"
        assert s3.head_object(Bucket="dashboard-bucket", Key="js/api.js")["ContentType"] == "text/javascript"
        stored = s3.get_object(Bucket="dashboard-bucket", Key="config.json")
        assert json.loads(stored["Body"].read()) == config and stored["CacheControl"] == "no-cache"
