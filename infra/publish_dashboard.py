"""Publish the dashboard and the vote page (dashboard/) to a deployed stage: its bucket, behind its CloudFront.

    python -m infra.publish_dashboard --stack tally-prod              # upload, then invalidate the distribution
    python -m infra.publish_dashboard --stack tally-prod --dry-run    # print config.json and the file list only

The pages are static; what they need to know about the stage is `config.json` beside them (dashboard/js/config.js):
{"api_url", "region", "user_pool_id", "client_id", "cognito_endpoint"}, here made from the stack's outputs
(cognito_endpoint is null on AWS: the pages use the regional Cognito endpoint). The files published are the ones
the local static server serves (infra/dashboard_files.py), so local and deployed pages are the same set.
Build dashboard/vendor/ first (`make dashboard`). Needs AWS credentials allowed to describe the stack, write the
bucket and invalidate the distribution.
"""
import argparse
import json
import mimetypes
import time
from pathlib import Path
from typing import Dict, List, Optional

from infra import project_root
from infra.dashboard_files import PUBLISHED_DIRS, PUBLISHED_FILES

DASHBOARD = project_root() / "dashboard"
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml",
         ".json": "application/json", ".map": "application/json", ".html": "text/html; charset=utf-8"}
# Pages and config.json are revalidated on every load, so a publish shows at once; the rest may be cached a while.
REVALIDATE = "no-cache"
ASSETS = "public, max-age=300"


def stack_outputs(cloudformation, stack: str) -> Dict[str, str]:
    (described,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}


def dashboard_config(outputs: Dict[str, str], region: str) -> dict:
    return {
        # The API through the pages' own distribution (infra/cdn.json): same origin, so no CORS preflight, and the
        # audience's reads come from its cache.
        "api_url": outputs["SiteApiUrl"].rstrip("/"),
        "region": region,
        "user_pool_id": outputs["UserPoolId"],
        "client_id": outputs["UserPoolClientId"],
        "cognito_endpoint": None,
    }


def published_files(root: Path = DASHBOARD) -> List[str]:
    """Keys (paths under root) of every file a deploy publishes."""
    keys = [name.lstrip("/") for name in sorted(PUBLISHED_FILES) if (root / name.lstrip("/")).is_file()]
    for folder in PUBLISHED_DIRS:
        base = root / folder.strip("/")
        if base.is_dir():
            keys += sorted(str(p.relative_to(root)) for p in base.rglob("*")
                           if p.is_file() and not p.name.startswith("."))
    return keys


def content_type(key: str) -> str:
    return TYPES.get(Path(key).suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


def upload(s3, bucket: str, keys: List[str], config: dict, root: Path = DASHBOARD) -> None:
    for key in keys:
        cache = REVALIDATE if key.endswith(".html") else ASSETS
        s3.put_object(Bucket=bucket, Key=key, Body=(root / key).read_bytes(), ContentType=content_type(key),
                      CacheControl=cache)
    s3.put_object(Bucket=bucket, Key="config.json", Body=json.dumps(config, indent=2).encode(),
                  ContentType="application/json", CacheControl=REVALIDATE)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", required=True, help="the CloudFormation stack name (e.g. tally-prod)")
    parser.add_argument("--region", help="the stack's region (default: your AWS configuration's)")
    parser.add_argument("--outputs", help="read the stack outputs from this JSON file ({key: value}) instead of AWS")
    parser.add_argument("--dry-run", action="store_true", help="print what would be published; change nothing")
    args = parser.parse_args(argv)

    import boto3

    session = boto3.session.Session(region_name=args.region)
    region = session.region_name or "us-east-1"
    if args.outputs:
        outputs = json.loads(Path(args.outputs).read_text())
    else:
        outputs = stack_outputs(session.client("cloudformation"), args.stack)
    config = dashboard_config(outputs, region)
    keys = published_files()
    if "index.html" not in keys or not any(key.startswith("vendor/") for key in keys):
        raise SystemExit("dashboard/ is not built (no index.html or vendor/): run `make dashboard` first")
    print(json.dumps(config, indent=2))
    print(f"{len(keys)} files + config.json -> s3://{outputs['DashboardBucketName']}/")
    if args.dry_run:
        print("\n".join(keys))
        return
    upload(session.client("s3"), outputs["DashboardBucketName"], keys, config)
    session.client("cloudfront").create_invalidation(
        DistributionId=outputs["DashboardDistributionId"],
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": f"publish-{time.time_ns()}"})
    print(f"published: {outputs['DashboardUrl']}")


if __name__ == "__main__":
    main()
