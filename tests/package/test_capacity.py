"""The capacity model (capacity/), run as `python -m capacity` runs it: the template's defaults sized for a try-out, and
the big vote (infra/overrides/big-vote.json) sized for a weekly show of 1,000,000 voters an episode, both read from
the project's files; and held to the template `make package` builds."""
import subprocess
import sys
from dataclasses import asdict, fields

import pytest

from capacity.bill import cognito_mau_usd
from capacity.partitions import fullest_bin_at_most, fullest_partition
from capacity.published import Limits, Prices
from capacity.report import main
from infra import deployment, project_root

ROOT = project_root()


@pytest.fixture(scope="module")
def model():
    return main([])


def test_a_million_vote_requests_cost_at_most_4_50_at_the_origin_at_1000_and_at_10000_votes_a_second(model):
    assert model["defaults"]["rate_votes_per_s"] == 1000
    assert model["big_vote"]["rate_votes_per_s"] == 10000
    for scenario in ("defaults", "big_vote"):
        assert model[scenario]["cost_per_million_usd"] <= 4.50, scenario
        assert model[scenario]["by_component"]["API Gateway access logs"] > 0
        # The search domain bills by the hour: in the month, not in the vote.
        assert not [name for name in model[scenario]["by_component"] if "OpenSearch" in name]


def test_with_the_big_vote_parameters_one_poll_and_every_component_take_10000_votes_a_second(model):
    big = model["big_vote"]
    assert big["one_poll_votes_per_s"] >= 10000
    assert big["results_keep_up_to_votes_per_s"] >= 10000
    assert all(ceiling >= 10000 for ceiling in big["ceilings_votes_per_s"].values()), big["ceilings_votes_per_s"]


def test_the_model_reads_the_deployment_from_the_project(model):
    defaults, big = model["defaults"]["deployment"], model["big_vote"]["deployment"]
    assert defaults["architecture"] == "arm64" and defaults["system_log_level"] == "WARN"
    assert defaults["warm_writes"] == 4000 and big["warm_writes"] > defaults["warm_writes"]
    assert big["poll_peak_votes_per_s"] > defaults["poll_peak_votes_per_s"]
    assert big["audience"] == {**asdict(deployment.Audience()), **deployment.big_vote_file()["Audience"]}


def test_the_model_is_held_to_the_template_make_package_builds(model, template):
    resources, parameters = template["Resources"], template["Parameters"]
    defaults, big = model["defaults"]["deployment"], model["big_vote"]["deployment"]
    api, tally = resources["APIHandler"]["Properties"], resources["TallyBallots"]["Properties"]
    assert defaults["memory_mb"] == api["MemorySize"] and defaults["tally_memory_mb"] == tally["MemorySize"]
    assert api["Architectures"] == [defaults["architecture"]]
    assert defaults["user_pool_tier"] == resources["UserPool"]["Properties"]["UserPoolTier"] == "LITE"
    assert defaults["log_retention_days"] == resources["ApiHandlerLogGroup"]["Properties"]["RetentionInDays"]
    assert defaults["alarm_metrics"] == len([r for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"])
    assert defaults["secrets"] == len([r for r in resources.values() if r["Type"] == "AWS::SecretsManager::Secret"
                                       and r.get("Condition") != "WafOn"])  # the edge secret exists with Waf on
    assert defaults["api_behind_cdn"] is True  # infra/cdn.json: the whole API under /api/ of the distribution
    assert defaults["tables"] == len([r for r in resources.values() if r["Type"] == "AWS::DynamoDB::Table"])
    assert defaults["table_key"] == "aws-managed"  # SSESpecification SSEEnabled: the tables' AWS managed key
    rule = resources["ApiTraceSampling"]["Properties"]["SamplingRule"]
    assert (defaults["xray_fixed_rate"], defaults["xray_reservoir"]) == (rule["FixedRate"], rule["ReservoirSize"])
    for field, name in (("stage_rate_limit", "ApiRateLimit"), ("stage_burst_limit", "ApiBurstLimit"),
                        ("warm_writes", "BallotsWarmWriteUnitsPerSecond"),
                        ("tally_reserved", "TallyReservedConcurrency"),
                        ("api_provisioned", "ApiProvisionedConcurrency"), ("search_type", "SearchInstanceType"),
                        ("search_nodes", "SearchInstanceCount")):
        assert defaults[field] == parameters[name]["Default"], name
        assert big[field] == deployment.big_vote_file()["Parameters"].get(name, parameters[name]["Default"]), name
    assert defaults["id_token_minutes"] == parameters["IdTokenValidityMinutes"]["Default"]


def test_every_price_and_quota_cites_its_page():
    for table in (Prices(), Limits()):
        for spec in fields(table):
            assert spec.metadata["source"].startswith("https://"), spec.name


WHOLE_BILL = {
    "Cognito monthly active users", "API Gateway", "Lambda", "DynamoDB", "OpenSearch domain hours",
    "OpenSearch storage", "CloudFront requests", "CloudFront data out", "KMS", "Secrets Manager",
    "CloudWatch alarms", "CloudWatch custom metrics", "CloudWatch Logs", "X-Ray", "data out", "Email",
    "WAF", "Lambda provisioned concurrency",
}


@pytest.mark.parametrize("scenario", ["defaults", "big_vote"])
def test_the_whole_bill_has_every_component_per_vote_per_voter_and_for_a_month(model, scenario):
    bill = model[scenario]["whole_bill"]
    names = " | ".join([*bill["per_million_votes"], *bill["per_million_voters"], *bill["month"]["by_component"]])
    assert not [part for part in WHOLE_BILL if part not in names], names
    assert bill["per_million_votes_usd"] == pytest.approx(sum(bill["per_million_votes"].values()), abs=1e-3)
    assert bill["per_million_votes_usd"] > model[scenario]["cost_per_million_usd"]  # what leaves AWS is billed
    assert bill["per_million_voters_usd"] == pytest.approx(sum(bill["per_million_voters"].values()), abs=0.01)
    assert bill["month"]["usd"] == pytest.approx(sum(bill["month"]["by_component"].values()), abs=0.05)


def test_a_voter_is_a_monthly_active_user_at_the_lite_price_after_the_free_tier(model):
    prices = Prices()
    assert cognito_mau_usd(10_000, "LITE", prices) == 0
    assert cognito_mau_usd(1_000_000, "LITE", prices) == pytest.approx(90_000 * 0.0055 + 900_000 * 0.0046)
    assert cognito_mau_usd(1_000_000, "ESSENTIALS", prices) == pytest.approx(990_000 * 0.015)
    voters = model["big_vote"]["whole_bill"]["per_million_voters"]
    assert voters["Cognito monthly active users (LITE)"] == pytest.approx(4635.0)
    # The weekly show: 1,000,000 voters, then 20% new at each of 3 more episodes.
    month = model["big_vote"]["whole_bill"]["month"]
    assert month["by_component"]["Cognito monthly active users (LITE)"] == pytest.approx(
        cognito_mau_usd(1_600_000, "LITE", prices), abs=0.01)
    assert month["events"] == 4 and "weekly" in month["event"]


def test_the_visit_counts_every_request_at_the_cdn_and_at_the_origin(model):
    visit = model["big_vote"]["visit"]
    audience = deployment.settings("big-vote").audience
    assert visit["cdn_page_requests"] >= 3 and visit["cdn_config_requests"] == 1  # vote.html, its css, its modules
    assert visit["cdn_document_requests"] == audience.visit_minutes * 60 / audience.poll_document_every_s
    assert visit["function_requests"] == 3 and visit["votes"] == 1
    assert visit["user_creation_requests"] == 2  # SignUp and ConfirmSignUp: open sign-up, as a broadcast runs
    # Reads never reach the stage limit at the big vote's peak: the CDN takes them all but one a second per poll.
    reads = model["big_vote"]["reads_at_peak"]
    assert reads["cdn_per_s"] >= 100_000 and reads["origin_per_s"] <= 2
    assert reads["origin_share_of_stage"] < 0.001 and reads["stage_headroom_per_s"] > 0


def test_the_big_vote_asks_for_every_quota_its_peak_needs_and_the_defaults_need_none(model):
    for scenario in ("defaults", "big_vote"):
        short = {key: need for key, need in model[scenario]["needs"].items() if not need["ok"]}
        assert not short, (scenario, short)
    needs = model["big_vote"]["needs"]
    assert needs["user_creation_rps"]["need"] > 2 * 1_000_000 / (7 * 86_400)  # SignUp + ConfirmSignUp each
    assert needs["cdn_requests_per_s"]["need"] > Limits().cloudfront_requests_per_s  # hence the request


def test_provisioned_concurrency_takes_the_surge_without_a_cold_start(model):
    big, defaults = model["big_vote"]["cold_starts_at_surge"], model["defaults"]["cold_starts_at_surge"]
    assert big["provisioned"] >= big["environments_at_peak"] and big["cold"] == 0
    assert model["big_vote"]["by_component"]["Lambda API cold starts (init is billed)"] == 0
    assert defaults["cold"] == defaults["environments_at_peak"] > 0 and defaults["init_s"] > 1
    hours = model["big_vote"]["deployment"]["audience"]["big_vote_hours_per_event"] * 4
    assert model["big_vote"]["whole_bill"]["month"]["by_component"]["Lambda provisioned concurrency"] == \
        pytest.approx(model["big_vote"]["provisioned_usd_per_hour"] * hours, rel=1e-3)


def test_the_feature_plan_each_pool_feature_needs_is_listed_and_what_the_pool_uses_is_lite(model):
    plans = model["feature_plans"]
    used = {feature: plan for feature, plan in plans.items() if "(not used)" not in feature}
    assert set(used.values()) == {"LITE"} and any("TOTP" in feature for feature in used)
    assert {"ESSENTIALS", "PLUS"} <= set(plans.values())


def test_the_custom_metrics_are_counted_from_the_code(model):
    # BallotsCounted, BallotsNotIndexed, TallyLagSeconds, BatchSize, and VotesRejected once per refusal kind.
    assert model["defaults"]["deployment"]["custom_metrics"] >= 4 + 5


def test_the_custom_metrics_are_counted_alike_whatever_was_imported_before(model):
    # A fresh interpreter imports nothing but the model: every refusal kind is counted there too (NotOnRoll is
    # defined in a module chalicelib.api alone does not import).
    fresh = subprocess.run([sys.executable, "-c", "from capacity.deployment import custom_metrics; "
                            "print(custom_metrics())"], cwd=ROOT, capture_output=True, text=True, check=True)
    counted = {model[scenario]["deployment"]["custom_metrics"] for scenario in ("defaults", "big_vote")}
    assert counted == {int(fresh.stdout)}


def test_the_fullest_partition_is_read_from_the_exact_distribution():
    # 2 keys in 2 bins: both in one bin half the time.
    assert fullest_bin_at_most(2, 2, 1) == pytest.approx(0.5)
    # 3 keys in 3 bins: all apart 3!/27, all together 3/27.
    assert fullest_bin_at_most(3, 3, 1) == pytest.approx(6 / 27)
    assert fullest_bin_at_most(3, 3, 2) == pytest.approx(24 / 27)
    assert fullest_bin_at_most(20, 4, 20) == pytest.approx(1.0)
    assert fullest_partition(1, 40) == 1


def test_the_model_prices_the_access_log_the_template_writes(model):
    # infra/api.json's format rendered for a vote, in the class its log group has (capacity/deployment.py, access_log).
    assert model["inputs"]["access_log_class"] == "INFREQUENT_ACCESS"
    assert 100 <= model["inputs"]["access_log_bytes"] <= 160


def test_the_optional_waf_is_priced_apart_and_left_out_of_the_default_totals(model):
    waf = model["waf"]
    assert waf["default"] == "off"
    # infra/waf.json: the stage's and user pool's regional web ACL and the distribution's, one rate rule each.
    assert waf["web_acls"] == 2 and waf["rules"] == 2
    assert waf["fixed_usd_per_month"] == pytest.approx(2 * (5.00 + 1.00))
    assert waf["per_million_requests_usd"] == pytest.approx(0.60)
    assert waf["per_million_votes_usd"] == pytest.approx(1.20)  # a vote passes both ACLs
    for scenario in ("defaults", "big_vote"):
        assert "WAF" not in " ".join(model[scenario]["by_component"])
        assert waf["cost_per_million_votes_with_waf_usd"][scenario] == pytest.approx(
            model[scenario]["cost_per_million_usd"] + 1.20, abs=1e-4)


def test_a_roll_costs_two_transactional_items_per_voter_and_a_share_of_the_size(model):
    # As bench/roll_import.py measured: 4.04 write units per voter, blank and entry at 2 each, the size at 2 / 49.
    assert model["roll_import"]["write_units_per_voter"] == 4.04
    assert model["roll_import"]["usd_per_10000_voters"] < 0.05
