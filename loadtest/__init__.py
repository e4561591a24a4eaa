"""Load testing Tally with locust, and proving afterwards that no vote was lost or counted twice."""
