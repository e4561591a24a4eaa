"""The environment every process of the local stack runs with: the stage's settings, and moto in place of AWS."""
import json
import os
from pathlib import Path

from infra import project_root

REGION = "us-east-1"


def stage_environment(stage: str) -> dict:
    """The stage's environment variables from .chalice/config.json, as Chalice would set them."""
    from chalice.cli.factory import CLIFactory

    factory = CLIFactory(project_dir=str(project_root()))
    return dict(factory.create_config_obj(chalice_stage_name=stage).environment_variables)


def local_environment(moto_url: str, stage: str, state_dir: Path) -> dict:
    """What every process of the stack needs: the stage's settings, and moto in place of AWS."""
    env = {**os.environ, **stage_environment(stage)}
    env.update({
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "TALLY_COGNITO_ENDPOINT": moto_url,
        "TALLY_INDEX_PATH": str(state_dir / "results.sqlite3"),
        # moto checks TOTP codes only when asked to (against one fixed secret for every user): operators' MFA
        # set-up and sign-in challenge then behave locally as on AWS, codes included.
        "MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP": "true",
    })
    return env


def stack_environment(state_dir: Path, stage: str = "local") -> dict:
    """The environment of a running stack, from its stack.json: for tools run beside it (reconcile, another
    API process). Through devstack/stack.py's LocalStack.environment()."""
    stack = json.loads((state_dir / "stack.json").read_text())
    return {**local_environment(stack["moto_url"], stage, state_dir),
            "TALLY_USER_POOL_ID": stack["user_pool_id"], "TALLY_CLIENT_ID": stack["client_id"]}
