"""The capacity model, run as `python -m bench.capacity` runs it: the template's defaults at 1,000 votes/s and the
big-vote parameters (infra/overrides/big-vote.json) at 10,000 votes/s, both read from the project's files."""
import pytest

from bench import capacity


@pytest.fixture(scope="module")
def model():
    return capacity.main([])


def test_a_million_votes_cost_at_most_4_50_at_1000_and_at_10000_votes_a_second(model):
    assert model["defaults"]["rate_votes_per_s"] == 1000
    assert model["big_vote"]["rate_votes_per_s"] == 10000
    for scenario in ("defaults", "big_vote"):
        assert model[scenario]["cost_per_million_usd"] <= 4.50, scenario
        # ... with room kept for the API Gateway access logs a later issue adds.
        assert model[scenario]["by_component"]["RESERVED: API Gateway access logs"] > 0


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


def test_the_fullest_partition_is_read_from_the_exact_distribution():
    # 2 keys in 2 bins: both in one bin half the time.
    assert capacity.fullest_bin_at_most(2, 2, 1) == pytest.approx(0.5)
    # 3 keys in 3 bins: all apart 3!/27, all together 3/27.
    assert capacity.fullest_bin_at_most(3, 3, 1) == pytest.approx(6 / 27)
    assert capacity.fullest_bin_at_most(3, 3, 2) == pytest.approx(24 / 27)
    assert capacity.fullest_bin_at_most(20, 4, 20) == pytest.approx(1.0)
    assert capacity.fullest_partition(1, 40) == 1


def test_the_model_prices_the_access_log_the_template_writes(model):
    # infra/api.json's format rendered for a vote, in the class its log group has (bench/capacity.py, access_log).
    assert model["inputs"]["access_log_class"] == "INFREQUENT_ACCESS"
    assert 100 <= model["inputs"]["access_log_bytes"] <= 160


def test_the_optional_waf_is_priced_apart_and_left_out_of_the_default_totals(model):
    waf = model["waf"]
    assert waf["default"] == "off"
    assert waf["rules"] == 1  # infra/waf.json's web ACL: the one rate-based rule per IP
    assert waf["fixed_usd_per_month"] == pytest.approx(5.00 + 1.00)
    assert waf["per_million_requests_usd"] == pytest.approx(0.60)
    for scenario in ("defaults", "big_vote"):
        assert "WAF" not in " ".join(model[scenario]["by_component"])
        assert waf["cost_per_million_votes_with_waf_usd"][scenario] == pytest.approx(
            model[scenario]["cost_per_million_usd"] + 0.60, abs=1e-4)


def test_a_roll_costs_two_transactional_items_per_voter_and_a_share_of_the_size(model):
    # As bench/roll_import.py measured: 4.04 write units per voter, blank and entry at 2 each, the size at 2 / 49.
    assert model["roll_import"]["write_units_per_voter"] == 4.04
    assert model["roll_import"]["usd_per_10000_voters"] < 0.05
