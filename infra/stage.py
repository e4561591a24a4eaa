"""A deployed stage as the tools that read its data directly see it (`make reconcile STACK=`, the load test's
--stack): its tables, search endpoint and tally function, from its CloudFormation stack."""
from dataclasses import dataclass
from typing import Optional

from chalicelib import config


class NotAStage(Exception):
    """The stack cannot be read, or is not a Tally stage: one line that says which."""


@dataclass(frozen=True)
class Stage:
    settings: config.Settings
    tally_function: Optional[str]


def deployed_stage(cloudformation, stack: str, region: str) -> Stage:
    """The deployed stage's tables, search endpoint and tally function, from its CloudFormation stack."""
    from botocore.exceptions import ClientError

    try:
        resources = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                     for r in cloudformation.describe_stack_resources(StackName=stack)["StackResources"]}
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except ClientError as error:
        raise NotAStage(f"cannot read stack {stack!r}: {error.response['Error']['Message']}") from None
    missing = [name for name in ("PollsTable", "BallotsTable", "TalliesTable") if name not in resources]
    if missing:
        raise NotAStage(f"stack {stack!r} is not a Tally stage: it has no {', '.join(missing)}")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    settings = config.load({
        "AWS_REGION": region,
        "TALLY_POLLS_TABLE": resources["PollsTable"],
        "TALLY_BALLOTS_TABLE": resources["BallotsTable"],
        "TALLY_TALLIES_TABLE": resources["TalliesTable"],
        "OPENSEARCH_URL": outputs.get("SearchEndpoint", ""),
        "TALLY_OPENSEARCH_SIGV4": "true",
    })
    return Stage(settings, resources.get("TallyBallots"))
