"""One poll on the ballots table's partitions: a poll's ballots are spread over B buckets (partition keys), and
DynamoDB places each key on one of the table's P partitions by hash, so some partitions draw several of the poll's
buckets. The busiest one takes k_max x rate / B writes/s and a partition takes 1,000: the poll's ceiling is
B x 1,000 / k_max. k_max is read at 99% confidence from the exact distribution of the fullest bin when B keys fall
into P partitions (P = warm writes/s / 1,000, the fewest a table warmed to that figure can have)."""
import math
from typing import List

CONFIDENCE = 0.99


def fullest_bin_at_most(keys: int, bins: int, k: int) -> float:
    """P(no bin holds more than k) when `keys` keys fall uniformly into `bins` bins:
    keys!/bins^keys x [x^keys] (sum_{j<=k} x^j/j!)^bins, by repeated squaring of a truncated polynomial."""
    def multiply(a: List[float], b: List[float]) -> List[float]:
        out = [0.0] * (keys + 1)
        for i, x in enumerate(a):
            if x:
                for j, y in enumerate(b[:keys + 1 - i]):
                    out[i + j] += x * y
        return out
    term = [1 / math.factorial(j) if j <= k else 0.0 for j in range(keys + 1)]
    result, exponent = [1.0] + [0.0] * keys, bins
    while exponent:
        if exponent & 1:
            result = multiply(result, term)
        term, exponent = multiply(term, term), exponent >> 1
    return result[keys] * math.exp(math.lgamma(keys + 1) - keys * math.log(bins))


def fullest_partition(buckets: int, partitions: int, confidence: float = CONFIDENCE) -> int:
    """The number of a poll's buckets the busiest partition holds, at the given confidence."""
    return next(k for k in range(1, buckets + 1) if fullest_bin_at_most(buckets, partitions, k) >= confidence)
