"""What `python -m capacity` prints: the assumptions with their sources, then for the defaults and the big vote the
vote at the origin against its budget, the whole bill, the needs at the peak against the quotas, the ceilings and
the cold starts; the memory options, the WAF and a roll's import; and last one JSON object with every figure."""
import json
from dataclasses import asdict, fields
from typing import Dict, List

from capacity.bill import (
    month,
    per_million_voters,
    per_million_votes,
    provisioned_usd_per_hour,
    roll_import,
    visit,
    waf,
    waf_acls_on_the_api,
)
from capacity.deployment import Deployment, read_deployment, waf_piece
from capacity.inputs import model_inputs
from capacity.peak import ceilings, cold_starts, needs, reads_at_peak, throughput
from capacity.published import Limits, Prices, feature_plans
from capacity.vote_cost import (
    BUDGET_PER_MILLION,
    GB,
    MILLION,
    Row,
    api_billed_ms,
    cold_start_s,
    cost_per_million,
    memory_options,
)


def print_rows(title: str, rows: List[Row]) -> float:
    total = sum(cost for _, cost, _ in rows)
    print(title)
    for name, cost, note in sorted(rows, key=lambda r: -r[1]):
        share = cost / total if total else 0
        print(f"  {name:<48} {cost:>12,.4f}  {share:>6.1%}  {note}")
    print(f"  {'total':<48} {total:>12,.4f}")
    return total


def scenario(rate: float, args, deploy: Deployment, defaults: Deployment, prices: Prices, limits: Limits) -> Dict:
    """One deployment at `rate` votes/s: its four parts printed, and every figure of it for the JSON summary."""
    print(f"\n== {deploy.name} ({deploy.audience.name}): {rate:,.0f} votes/s ==")
    rows = cost_per_million(rate, args, deploy, prices, limits)
    total = print_vote_cost(rows, deploy, prices)
    bill = print_whole_bill(rate, args, deploy, defaults, prices, limits)
    peak = print_peak(args, deploy, limits)
    surge = print_surge(args, deploy, prices, limits)
    return {"rate_votes_per_s": rate, "cost_per_million_usd": round(total, 4),
            "within_budget": total <= BUDGET_PER_MILLION,
            "by_component": {n: round(c, 5) for n, c, _ in rows},
            "whole_bill": bill,
            "visit": {k: round(v, 2) for k, v in visit(args, deploy).items()},
            **peak,
            "api_billed_ms": api_billed_ms(args, deploy, limits), "cold_start_s": cold_start_s(args, deploy, limits),
            "cold_starts_at_surge": surge,
            "provisioned_usd_per_hour": round(provisioned_usd_per_hour(deploy, prices), 4),
            "partitions": deploy.partitions, "buckets": deploy.buckets,
            "deployment": asdict(deploy)}


def print_vote_cost(rows: List[Row], deploy: Deployment, prices: Prices) -> float:
    """1. The vote request at the origin, against its budget."""
    total = print_rows(f"1. The vote request at the origin, per 1,000,000 votes (USD), {deploy.architecture}, "
                       f"API function {deploy.memory_mb} MB", rows)
    spare = BUDGET_PER_MILLION - total
    print(f"  budget {BUDGET_PER_MILLION:.2f}: {'within' if spare >= 0 else 'OVER'} by ${abs(spare):.4f}"
          f" (that is {spare * GB / MILLION / prices.logs_per_gb:,.0f} more log bytes per request)")
    return total


def print_whole_bill(rate: float, args, deploy: Deployment, defaults: Deployment, prices: Prices,
                     limits: Limits) -> Dict:
    """2. The whole bill per million votes, per million voters and for a month of the event."""
    vote_rows = per_million_votes(rate, args, deploy, prices, limits)
    vote_usd = print_rows("2. The whole bill per 1,000,000 votes (USD)", vote_rows)
    voter_rows = per_million_voters(args, deploy, prices, limits, vote_usd)
    voter_usd = print_rows("   per 1,000,000 voters of a first event, each new and on one visit, their votes included"
                           " (USD)", voter_rows)
    month_rows = month(args, deploy, defaults, prices, limits, vote_usd, voter_rows)
    month_usd = print_rows(f"   a month of {deploy.audience.name}: {deploy.audience.events_per_month} event(s) "
                           f"(USD)", month_rows)
    return {"per_million_votes_usd": round(vote_usd, 4),
            "per_million_votes": {n: round(c, 5) for n, c, _ in vote_rows},
            "per_million_voters_usd": round(voter_usd, 2),
            "per_million_voters": {n: round(c, 4) for n, c, _ in voter_rows},
            "month": {"event": deploy.audience.name, "events": deploy.audience.events_per_month,
                      "usd": round(month_usd, 2), "by_component": {n: round(c, 2) for n, c, _ in month_rows}}}


def print_peak(args, deploy: Deployment, limits: Limits) -> Dict:
    """3. The audience's needs at its peak against the quotas, the throughput ceilings and the reads."""
    need_rows, limit_rows = needs(args, deploy, limits), ceilings(args, deploy, limits)
    rates = throughput(limit_rows, deploy, limits)
    print("3. What the audience needs at its peak, against the quotas the model assumes (make preflight reads the "
          "account's)")
    for n in need_rows:
        print(f"  {'ok   ' if n.ok else 'SHORT'} {n.key:<28} {n.need:>12,.0f} of {n.have:>10,.0f}  {n.why}")
    print("   Throughput ceilings (votes/s)")
    for name, v, note in limit_rows:
        print(f"  {name:<48} {v:>12,.0f}  {note}")
    print(f"  => accepted, all polls: {rates['accept']:,.0f}/s; one poll: {rates['one_poll']:,.0f}/s; results keep "
          f"up to: {rates['results']:,.0f}/s; one poll's counters take {rates['tally_writes_per_poll']:,} of "
          f"{limits.ddb_partition_wcu:,} writes/s on the tallies table at most")
    reads = reads_at_peak(args, deploy)
    print(f"   Reads at the peak: {reads['cdn_per_s']:,.0f}/s at the CDN, {reads['origin_per_s']:g}/s reach the "
          f"stage ({reads['origin_share_of_stage']:.3%} of ApiRateLimit {deploy.stage_rate_limit:,}, beside "
          f"{reads['function_per_s']:,.0f}/s of votes and other function requests): reads never reach the limit")
    return {"needs": {n.key: {"need": round(n.need, 1), "assumed_quota": n.have, "ok": n.ok, "why": n.why}
                      for n in need_rows},
            "reads_at_peak": reads,
            "ceilings_votes_per_s": {n: round(v) for n, v, _ in limit_rows},
            "accepted_votes_per_s": round(rates["accept"]), "one_poll_votes_per_s": round(rates["one_poll"]),
            "results_keep_up_to_votes_per_s": round(rates["results"])}


def print_surge(args, deploy: Deployment, prices: Prices, limits: Limits) -> Dict:
    """4. The cold starts at the surge, with provisioned concurrency's price if it is set."""
    surge = cold_starts(args, deploy, limits)
    print(f"4. Cold starts at the surge: {surge['environments_at_peak']} environments busy at the peak, "
          f"{surge['provisioned']} provisioned, {surge['cold']} start cold ({surge['init_s']} s each"
          + (f": the ~{surge['votes_waiting_on_a_cold_start']:,} votes of the first {surge['init_s']} s wait on "
             "them)" if surge["cold"] else ")")
          + (f"; provisioned concurrency costs ${provisioned_usd_per_hour(deploy, prices):.2f} an hour while set"
             if deploy.api_provisioned else ""))
    return surge


def print_memory_options(args, deploy: Deployment, prices: Prices, limits: Limits) -> List[Dict[str, float]]:
    options = memory_options(args, deploy, prices, limits)
    print("\nThe API function's memory, at the measured CPU per vote (why it is "
          f"{deploy.memory_mb} MB)")
    for row in options:
        print(f"  {row['memory_mb']:>5} MB: warm vote billed {row['warm_billed_ms']:>4.0f} ms, cold start "
              f"{row['cold_start_s']:.2f} s, ${row['duration_usd_per_million']:.4f} per million, "
              f"{row['memory_headroom']:.1f}x the resident memory")
    return options


def print_waf(figures: Dict, prices: Prices, deploy: Deployment) -> Dict:
    with_waf = figures["cost_per_million_votes_with_waf_usd"]
    print(f"\nWAF (infra/waf.json; parameter Waf, default {figures['default']}: in none of the totals above)")
    print(f"  with Waf on: ${prices.waf_per_million_requests:.2f} per million requests each web ACL inspects; a vote "
          f"passes {waf_acls_on_the_api(deploy)}, so a million votes cost ${with_waf['defaults']:.4f} (defaults) and "
          f"${with_waf['big_vote']:.4f} (big vote) at the origin")
    print(f"  and ${figures['fixed_usd_per_month']:.2f} a month, prorated hourly: {figures['web_acls']} web ACL(s) x "
          f"${prices.waf_web_acl_month:.2f} + {figures['rules']} rule(s) x ${prices.waf_rule_month:.2f} (the "
          "distribution's ACL is made in us-east-1)")
    return figures


def print_roll_import(figures: Dict) -> Dict:
    print(f"\nA roll (roll polls only, once per poll): {figures['write_units_per_voter']:.2f} write units per voter, "
          f"${figures['usd_per_10000_voters']:.4f} per 10,000 voters; each account it looks up (AdminGetUser) counts "
          "as a monthly active user that month")
    return figures


def print_assumptions(args, prices: Prices, limits: Limits) -> None:
    print("Assumptions")
    for title, table in (("prices, on demand, us-east-1 (USD)", prices), ("limits and quotas", limits)):
        print(f"  {title}:")
        for spec in fields(table):
            print(f"    {spec.name:<32} {str(getattr(table, spec.name))[:60]:<60} {spec.metadata['source']}")
    print("  measured here, or assumed (flags):")
    for action in args.parser._actions:
        if action.dest in ("help", "parser"):
            continue
        print(f"    {action.dest:<32} {str(getattr(args, action.dest))[:40]!s:<12} {action.help}")
    print("  not priced: the warm-throughput raise (charged once, https://aws.amazon.com/dynamodb/pricing/on-demand/), "
          "the dashboard bucket's storage and CloudFront's reads of it (cents), free tiers but Cognito's.")
    print("  the user pool's feature plan: " + "; ".join(f"{k}: {v}" for k, v in feature_plans().items()))


def main(argv=None) -> Dict:
    """Every figure, printed for the defaults and the big vote, and returned as the last line's JSON object."""
    args = model_inputs(argv)
    prices, limits = Prices(), Limits()
    defaults, big = read_deployment(), read_deployment(big_vote=True)
    args.rate = defaults.audience.peak_votes_per_s if args.rate is None else args.rate
    args.big_vote_rate = big.audience.peak_votes_per_s if args.big_vote_rate is None else args.big_vote_rate
    print_assumptions(args, prices, limits)
    summary = {"defaults": scenario(args.rate, args, defaults, defaults, prices, limits),
               "big_vote": scenario(args.big_vote_rate, args, big, defaults, prices, limits)}
    summary["big_vote_at_default_rate"] = {
        "rate_votes_per_s": args.rate,
        "cost_per_million_usd": round(sum(c for _, c, _ in cost_per_million(args.rate, args, big, prices, limits)), 4)}
    summary["memory_options"] = print_memory_options(args, defaults, prices, limits)
    vote_costs = {name: summary[name]["cost_per_million_usd"] for name in ("defaults", "big_vote")}
    summary["waf"] = print_waf(waf(waf_piece(), prices, vote_costs, defaults), prices, defaults)
    summary["roll_import"] = print_roll_import(roll_import(prices))
    summary["feature_plans"] = feature_plans()
    summary["inputs"] = {k: v for k, v in vars(args).items() if k != "parser"}
    print(json.dumps(summary, default=str))
    return summary
