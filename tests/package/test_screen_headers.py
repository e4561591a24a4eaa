"""The audience screen's headers on AWS: the one page other sites may frame (a conference's site, a broadcaster's
graphics), by its own distribution behaviour and response headers policy, while every other page keeps
frame-ancestors 'none' and X-Frame-Options DENY (tests/package/test_template.py)."""
import re

from devstack.static_server import SCREEN_FRAME_ANCESTORS, content_security_policy
from infra.dashboard_files import FRAMEABLE_FILES, PUBLISHED_FILES
from tests.package.test_template import csp_directives


def headers_config(resources, name):
    return resources[name]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]


def test_the_screen_alone_has_a_behaviour_whose_headers_let_the_parameter_s_sites_frame_it(template, resources):
    config = resources["DashboardDistribution"]["Properties"]["DistributionConfig"]
    (behaviour,) = [b for b in config["CacheBehaviors"] if b["TargetOriginId"] == "dashboard"]  # the rest: the API
    assert FRAMEABLE_FILES == {"/screen.html"} <= PUBLISHED_FILES
    assert behaviour["PathPattern"] == "/screen.html"
    assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "ScreenResponseHeadersPolicy"}
    # Served like every other page but for its headers: same origin, cache policy, HTTPS and methods.
    default = config["DefaultCacheBehavior"]
    assert {k: v for k, v in behaviour.items() if k not in ("PathPattern", "ResponseHeadersPolicyId")} == {
        k: v for k, v in default.items() if k != "ResponseHeadersPolicyId"}

    parameter = template["Parameters"]["ScreenFrameAncestors"]
    assert parameter["Default"] == SCREEN_FRAME_ANCESTORS == "*"
    pattern = re.compile(parameter["AllowedPattern"])
    for allowed in ("*", "'none'", "https://example.org https://*.example.tv"):
        assert pattern.match(allowed), allowed
    for refused in ("", "* ; script-src *", "https://a.example, https://b.example"):
        assert not pattern.match(refused), refused  # no second directive smuggled into the policy

    screen = headers_config(resources, "ScreenResponseHeadersPolicy")
    pages = headers_config(resources, "DashboardResponseHeadersPolicy")
    assert "FrameOptions" not in screen and pages["FrameOptions"]["FrameOption"] == "DENY"
    screen_csp = csp_directives(screen["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"])
    pages_csp = csp_directives(pages["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"])
    assert screen_csp.pop("frame-ancestors") == "${ScreenFrameAncestors}"
    assert pages_csp.pop("frame-ancestors") == "'none'"
    assert screen_csp == pages_csp  # otherwise the same policy: scripts, styles, connections
    assert {k: v for k, v in screen.items() if k != "ContentSecurityPolicy"} == {
        k: v for k, v in pages.items() if k not in ("ContentSecurityPolicy", "FrameOptions")}


def test_the_local_static_server_frames_the_screen_as_the_template_s_default_does(resources):
    screen = headers_config(resources, "ScreenResponseHeadersPolicy")
    aws = csp_directives(screen["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"])
    local = csp_directives(content_security_policy("http://127.0.0.1:8000", "http://127.0.0.1:5000", "us-east-1",
                                                   SCREEN_FRAME_ANCESTORS))
    aws.pop("connect-src")
    local.pop("connect-src")
    assert aws.pop("frame-ancestors") == "${ScreenFrameAncestors}" and local.pop("frame-ancestors") == "*"
    assert local == aws
