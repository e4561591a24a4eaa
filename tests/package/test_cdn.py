"""The distribution (infra/cdn.json): the pages, the whole API under /api/, and the audience's reads cached as the
API's Cache-Control says, through Origin Shield; its web ACL when Waf is on (infra/waf.json)."""
import json
import re
import subprocess
import sys
from fnmatch import fnmatchcase

import pytest

from chalicelib.api import caching
from infra import cloudfront_waf
from infra.dashboard_files import PUBLISHED_FILES
from tests.package.test_transform import transform

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # AWS managed cache policy
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # AWS managed origin request policy
CACHED_ROUTES = {"/public/polls/{poll_id}", "/config"}
# Every status CloudFront caches for a GET by default (10 s, under the path alone) unless told otherwise.
CLOUDFRONT_CACHED_ERRORS = {400, 403, 404, 405, 414, 500, 501, 502, 503, 504}


@pytest.fixture(scope="module")
def distribution(resources):
    return resources["DashboardDistribution"]["Properties"]["DistributionConfig"]


def behaviour_for(distribution, path):
    """The behaviour CloudFront picks for a path: the first pattern that matches, in order, else the default."""
    for behaviour in distribution["CacheBehaviors"]:
        if fnmatchcase(path, behaviour["PathPattern"]):
            return behaviour
    return distribution["DefaultCacheBehavior"]


def app_paths():
    """Each route of the app as a request path through the distribution (its stage is /api), with a sample id."""
    from app import app

    return {route: "/api" + re.sub(r"\{[^}]+\}", "some-id", route) for route in app.routes}


def seconds(cache_control, directive):
    return int(dict(d.partition("=")[::2] for d in cache_control.split(", "))[directive])


def test_the_api_origin_is_the_stage_over_https_behind_origin_shield(template, distribution):
    origins = {origin["Id"]: origin for origin in distribution["Origins"]}
    assert set(origins) == {"dashboard", "api"}
    api = origins["api"]
    assert api["DomainName"] == {"Fn::Sub": "${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
    assert "OriginPath" not in api  # /api/x goes to the stage api's route /x, as the EndpointURL says
    assert template["Outputs"]["EndpointURL"]["Value"]["Fn::Sub"].endswith(".${AWS::URLSuffix}/api/")
    assert api["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert api["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]
    assert api["OriginShield"]["Enabled"] is True
    assert api["OriginShield"]["OriginShieldRegion"] == {
        "Fn::If": ["OriginShieldInStackRegion", {"Ref": "AWS::Region"}, {"Ref": "OriginShieldRegion"}]}
    assert template["Parameters"]["OriginShieldRegion"]["Default"] == ""
    assert template["Outputs"]["SiteApiUrl"]["Value"] == {"Fn::If": [
        "HasSiteDomain", {"Fn::Sub": "https://${SiteDomainName}/api"},  # infra/domain.json's custom domain
        {"Fn::Sub": "https://${DashboardDistribution.DomainName}/api"}]}


def test_the_api_has_a_regional_endpoint_so_there_is_one_cloudfront_in_front_of_it(resources, template):
    assert resources["RestAPI"]["Properties"]["EndpointConfiguration"] == "REGIONAL"
    rest_api = transform(template)["Resources"]["RestAPI"]["Properties"]
    assert rest_api["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


def test_only_the_audiences_public_reads_are_cached_and_every_other_route_never(distribution):
    from app import app

    cached = set()
    for route, path in app_paths().items():
        behaviour = behaviour_for(distribution, path)
        assert behaviour["TargetOriginId"] == "api", route  # no route falls through to the pages' bucket
        assert behaviour["ViewerProtocolPolicy"] == "https-only", route  # a redirect would turn a POST into a GET
        if behaviour["CachePolicyId"] == {"Ref": "AudienceCachePolicy"}:
            cached.add(route)
        else:
            assert behaviour["CachePolicyId"] == CACHING_DISABLED, route
            assert behaviour["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST, route  # Authorization goes too
            assert set(app.routes[route]) <= set(behaviour["AllowedMethods"]), route
    assert cached == CACHED_ROUTES
    # What a shared cache keeps must be the same for every caller: only routes that read no token.
    for route in cached:
        assert set(app.routes[route]) == {"GET"}
        assert getattr(app.routes[route]["GET"].view_function, "tally_public", False), route
    # A made-up path under /api/ reaches the API (its 404), never the bucket.
    assert behaviour_for(distribution, "/api/no/such/route")["TargetOriginId"] == "api"


def test_the_pages_are_served_from_the_bucket_as_before(distribution):
    for page in PUBLISHED_FILES:
        assert behaviour_for(distribution, page)["TargetOriginId"] == "dashboard", page
    assert behaviour_for(distribution, "/vendor/chart.js/chart.umd.js")["TargetOriginId"] == "dashboard"
    assert distribution["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == {"Ref": "DashboardResponseHeadersPolicy"}


def test_the_audience_cache_keys_on_the_path_alone_and_takes_its_ttls_from_the_api(resources, distribution):
    config = resources["AudienceCachePolicy"]["Properties"]["CachePolicyConfig"]
    assert config["MinTTL"] == 0  # never longer than the API says: an open poll's document lives 1 s
    assert config["DefaultTTL"] == 0  # an answer without Cache-Control (a throttling 429) is not kept
    assert config["MaxTTL"] >= max(seconds(c, "s-maxage") for c in (caching.LIVE, caching.FINAL, caching.CONFIG))
    key = config["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["HeadersConfig"] == {"HeaderBehavior": "none"}  # no Authorization: a token changes nothing
    assert key["CookiesConfig"] == {"CookieBehavior": "none"}
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "none"}  # ?t=random cannot bypass the cache
    assert key["EnableAcceptEncodingGzip"] is True and key["EnableAcceptEncodingBrotli"] is True
    for route in CACHED_ROUTES:
        behaviour = behaviour_for(distribution, app_paths()[route])
        assert "OriginRequestPolicyId" not in behaviour  # the origin gets the key and nothing else
        assert behaviour["CachedMethods"] == ["GET", "HEAD"] and behaviour["Compress"] is True
        assert "OPTIONS" in behaviour["AllowedMethods"]  # another site's embed may send a preflight


def test_no_error_is_kept_longer_than_the_api_says(distribution):
    # CloudFront would otherwise keep a GET's 403 or 503 for 10 s under its path alone, for the next caller too.
    errors = {e["ErrorCode"]: e for e in distribution["CustomErrorResponses"]}
    assert set(errors) == CLOUDFRONT_CACHED_ERRORS
    assert all(e == {"ErrorCode": code, "ErrorCachingMinTTL": 0} for code, e in errors.items())
    assert seconds(caching.MISSING, "s-maxage") > 0  # the public document's 404 and 400 say how long themselves


# --- the web ACL ----------------------------------------------------------------------------------------------------

def matches(statement, path, headers):
    """Whether a WAF statement of the shapes used here matches a request."""
    if "AndStatement" in statement:
        return all(matches(s, path, headers) for s in statement["AndStatement"]["Statements"])
    if "NotStatement" in statement:
        return not matches(statement["NotStatement"]["Statement"], path, headers)
    match = statement["ByteMatchStatement"]
    field = match["FieldToMatch"]
    value = path if "UriPath" in field else headers.get(field["SingleHeader"]["Name"])
    # A value CloudFormation resolves at deploy (the edge secret) stands for itself, as its JSON.
    wanted = match["SearchString"] if isinstance(match["SearchString"], str) else json.dumps(match["SearchString"])
    if value is None:
        return False
    return {"EXACTLY": value == wanted, "STARTS_WITH": value.startswith(wanted)}[match["PositionalConstraint"]]


def test_with_waf_on_the_distribution_has_a_cloudfront_acl_made_in_us_east_1_or_given(template, resources,
                                                                                       distribution):
    assert template["Conditions"]["WafOnInUsEast1"] == {
        "Fn::And": [{"Condition": "WafOn"}, {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}]}
    assert distribution["WebACLId"] == {"Fn::If": ["WafOnInUsEast1", {"Fn::GetAtt": ["CdnWebAcl", "Arn"]}, {
        "Fn::If": ["CdnWebAclGiven", {"Ref": "CdnWebAclArn"}, {"Ref": "AWS::NoValue"}]}]}
    assert template["Parameters"]["CdnWebAclArn"]["Default"] == ""
    assert "WafOn" in json.dumps(template["Conditions"]["CdnWebAclGiven"])
    cdn, regional = resources["CdnWebAcl"], resources["WafWebAcl"]["Properties"]
    assert cdn["Condition"] == "WafOnInUsEast1" and cdn["Properties"]["Scope"] == "CLOUDFRONT"
    (rule,), (regional_rule,) = cdn["Properties"]["Rules"], regional["Rules"]
    # The same rule as the API's and the pool's: limit, answer, nothing sampled.
    assert rule["Action"] == regional_rule["Action"]
    assert cdn["Properties"]["CustomResponseBodies"] == regional["CustomResponseBodies"]
    limit, regional_limit = rule["Statement"]["RateBasedStatement"], regional_rule["Statement"]["RateBasedStatement"]
    assert {k: v for k, v in limit.items() if k != "ScopeDownStatement"} == {
        k: v for k, v in regional_limit.items() if k != "ScopeDownStatement"}
    assert rule["VisibilityConfig"]["SampledRequestsEnabled"] is False
    assert cdn["Properties"]["VisibilityConfig"]["SampledRequestsEnabled"] is False


def test_the_edge_acl_counts_only_what_reaches_the_function(resources):
    (rule,) = resources["CdnWebAcl"]["Properties"]["Rules"]
    counted = rule["Statement"]["RateBasedStatement"]["ScopeDownStatement"]
    for path, counts in {"/api/votes/ann": True, "/api/polls": True, "/api/votes/mine": True,
                         "/api/public/polls/final-vote": False, "/api/config": False, "/vote.html": False,
                         "/index.html": False, "/js/vote.js": False, "/": False}.items():
        assert matches(counted, path, {}) is counts, path


def test_the_regional_acl_leaves_the_distributions_requests_to_the_edge_acl(resources, distribution):
    (api,) = [o for o in distribution["Origins"] if o["Id"] == "api"]
    (header,) = api["OriginCustomHeaders"]["Fn::If"][1]
    assert api["OriginCustomHeaders"]["Fn::If"][0] == "WafOn"
    assert api["OriginCustomHeaders"]["Fn::If"][2] == {"Ref": "AWS::NoValue"}
    assert header["HeaderValue"] == {"Fn::Sub": "{{resolve:secretsmanager:${EdgeSecret}:SecretString}}"}
    assert resources["EdgeSecret"]["Condition"] == "WafOn"
    (rule,) = resources["WafWebAcl"]["Properties"]["Rules"]
    counted = rule["Statement"]["RateBasedStatement"]["ScopeDownStatement"]
    through_cloudfront = {header["HeaderName"].lower(): json.dumps(header["HeaderValue"])}
    assert not matches(counted, "/api/votes/ann", through_cloudfront)
    assert matches(counted, "/api/votes/ann", {})  # straight to execute-api, or Cognito's sign-in
    assert matches(counted, "/api/votes/ann", {header["HeaderName"].lower(): "a guess"})


def test_outside_us_east_1_the_edge_acl_is_its_own_template_and_cfn_lint_passes_it(resources, tmp_path):
    made = cloudfront_waf.template()
    assert made["Resources"]["CdnWebAcl"] == {k: v for k, v in resources["CdnWebAcl"].items() if k != "Condition"}
    assert made["Outputs"]["WebAclArn"]["Value"] == {"Fn::GetAtt": ["CdnWebAcl", "Arn"]}
    path = tmp_path / "cloudfront-waf.json"
    path.write_text(json.dumps(made))
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())",
         "--format", "parseable", "--regions", "us-east-1", "--", str(path)],
        capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
