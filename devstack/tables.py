"""Create the tables from infra/tables.json, the CloudFormation resources the AWS template uses.

One definition serves the template, the local stack and the tests, so they cannot drift apart.
"""
from typing import Dict, List

from chalicelib.config import Settings
from infra import piece

_PASSED_AS_IS = ("AttributeDefinitions", "KeySchema", "BillingMode", "GlobalSecondaryIndexes")


def table_names(settings: Settings) -> Dict[str, str]:
    """Logical id in the template -> physical table name in this stack."""
    return {
        "PollsTable": settings.polls_table,
        "BallotsTable": settings.ballots_table,
        "TalliesTable": settings.tallies_table,
        "RollsTable": settings.rolls_table,
    }


def create_table_requests(names: Dict[str, str]) -> List[dict]:
    resources = piece("tables")["Resources"]
    requests = []
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        properties = resource["Properties"]
        request = {"TableName": names[logical_id]}
        request.update({key: properties[key] for key in _PASSED_AS_IS if key in properties})
        stream = properties.get("StreamSpecification")
        if stream:
            request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
        requests.append(request)
    return requests


def create_tables(client, settings: Settings) -> None:
    for request in create_table_requests(table_names(settings)):
        client.create_table(**request)
    for name in table_names(settings).values():
        client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
