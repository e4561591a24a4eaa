"""The optional custom domain (infra/domain.json) on the stack's one distribution: off by default, and when on, the
outputs the pages are configured from name it, so the pages and the API stay one origin and the CSP follows."""
import re

from tests.package.test_template import csp_directives


def test_a_custom_domain_is_two_parameters_off_by_default(template):
    parameters = template["Parameters"]
    assert parameters["SiteDomainName"]["Default"] == parameters["SiteCertificateArn"]["Default"] == ""
    assert re.fullmatch(parameters["SiteDomainName"]["AllowedPattern"], "votes.example.com")
    assert not re.fullmatch(parameters["SiteDomainName"]["AllowedPattern"], "https://votes.example.com/")
    # CloudFront takes certificates from us-east-1 only, whatever the stack's Region.
    pattern = parameters["SiteCertificateArn"]["AllowedPattern"]
    assert re.fullmatch(pattern, "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0000-4e5f-8a9b-abcdef012345")
    assert not re.fullmatch(pattern, "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d")
    # One without the other is refused before anything is made.
    assert set(template["Rules"]) == {"SiteDomainNeedsItsCertificate", "SiteCertificateNeedsItsDomain"}


def test_the_distribution_answers_on_the_domain_with_its_certificate_and_tls_1_2(resources):
    config = resources["DashboardDistribution"]["Properties"]["DistributionConfig"]
    assert config["Aliases"] == {"Fn::If": ["HasSiteDomain", [{"Ref": "SiteDomainName"}], {"Ref": "AWS::NoValue"}]}
    condition, custom, default = config["ViewerCertificate"]["Fn::If"]
    assert condition == "HasSiteDomain" and default == {"CloudFrontDefaultCertificate": True}
    assert custom == {"AcmCertificateArn": {"Ref": "SiteCertificateArn"}, "SslSupportMethod": "sni-only",
                      "MinimumProtocolVersion": "TLSv1.2_2021"}


def test_the_pages_are_configured_for_the_domain_and_call_the_api_on_it(template, resources):
    outputs = template["Outputs"]
    assert outputs["SiteApiUrl"]["Value"]["Fn::If"][:2] == ["HasSiteDomain",
                                                            {"Fn::Sub": "https://${SiteDomainName}/api"}]
    assert outputs["DashboardUrl"]["Value"]["Fn::If"][:2] == ["HasSiteDomain",
                                                              {"Fn::Sub": "https://${SiteDomainName}/"}]
    headers = resources["DashboardResponseHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    csp = csp_directives(headers["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"])
    # The API on the pages' own origin is 'self', on the cloudfront.net name or the custom one alike.
    assert csp["connect-src"].split()[0] == "'self'" and "cloudfront.net" not in csp["connect-src"]
