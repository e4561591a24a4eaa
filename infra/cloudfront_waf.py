"""The distribution's web ACL as a template of its own, for a stack outside us-east-1.

    python -m infra.cloudfront_waf > build/cloudfront-waf.json
    aws cloudformation deploy --region us-east-1 --stack-name tally-prod-edge-waf \
        --template-file build/cloudfront-waf.json
    # then deploy the stack with Waf=on CdnWebAclArn=<the WebAclArn output>

A CLOUDFRONT-scope web ACL can only be made in us-east-1, and a stack's resources all live in its own region.
A stack in us-east-1 makes CdnWebAcl itself (infra/waf.json); one elsewhere takes the ARN of this one. It is
CdnWebAcl exactly as waf.json defines it (one definition of the rule), with its rate parameter and no condition.
"""
import copy
import json
from typing import Any, Dict

from infra import project_root

WAF_PIECE = project_root() / "infra" / "waf.json"


def template(piece: Dict[str, Any] = None) -> Dict[str, Any]:
    piece = piece or json.loads(WAF_PIECE.read_text())
    acl = copy.deepcopy(piece["Resources"]["CdnWebAcl"])
    acl.pop("Condition")
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Tally: the CLOUDFRONT web ACL of a stack outside us-east-1 (infra/cloudfront_waf.py).",
        "Parameters": {"WafRateLimitPer5Min": piece["Parameters"]["WafRateLimitPer5Min"]},
        "Resources": {"CdnWebAcl": acl},
        "Outputs": {"WebAclArn": {"Description": "The stack's CdnWebAclArn parameter.",
                                  "Value": {"Fn::GetAtt": ["CdnWebAcl", "Arn"]}}},
    }


def main() -> None:
    print(json.dumps(template(), indent=2))


if __name__ == "__main__":
    main()
