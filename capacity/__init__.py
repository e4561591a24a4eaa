"""What a vote, a voter and a month of a named event cost on AWS, and what the deployed stack takes: a model, not a
measurement.

It models the deployments infra/deployment.py describes (the one source `make deploy` and `make preflight` read too):
  defaults   the template as `make package` builds it, every parameter at its default, sized for "a try-out";
  big vote   the same template with infra/overrides/big-vote.json's Parameters (what `make deploy BIG_VOTE=1`
             deploys before a broadcast), the quotas its runbook requests, and its Audience: a weekly TV show with
             1,000,000 voters an episode, the poll created with the file's expected_peak_votes_per_s.
For each it prints the assumptions with their source (an AWS pricing or quota page, or "measured here" with the
command), then:
  1. the vote request at the origin, per million votes, by component, against the $4.50 budget of issue 5 (the
     scope that budget was set for: API Gateway, the API function, the ballot write, the stream and the tally,
     their logs and traces);
  2. the whole bill: per million votes (1. plus what leaves AWS with the answer), per million voters (their sign-up
     or sign-in, monthly active user, every request of their visit at the CDN and at the origin, their votes), and
     one month of the named event with every fixed component (the search domain's hours and storage, provisioned
     concurrency, the secret, alarms and custom metrics, KMS, log storage, WAF);
  3. what the audience needs at its peak (sign-ups, sign-ins, mail, API requests, function concurrency, CDN
     requests) against the quotas, and each component's throughput ceiling; reads never reach the stage;
  4. cold starts at the surge, with and without provisioned concurrency.
The optional WAF (infra/waf.json, off by default) is priced apart, as what turning it on adds. The last line is
one JSON object with every figure.

What the deployment is comes from the files, never from this script: memory, architecture, the log sample rate
(.chalice/config.json), batch size and batching window (app.py), the stream mapping (infra/stream.json), the
parameter defaults (every infra/*.json), the user pool's feature plan (cognito.json), the X-Ray sampling rule and
the access log's format and class (api.json), the functions' LoggingConfig and log retention (functions.json),
the alarms (alarms.json and any other piece), the custom metrics (chalicelib's EMF calls), the bucket rule
(chalicelib/domain/ballots.py), the vote page's files (dashboard/). Measured figures are flags whose default is
the recorded measurement (bench/RESULTS.md); published prices and quotas are AWS's figures with their pages.

The package, one module a part:
  published.py    AWS's prices and quotas, each with its source page;
  deployment.py   the deployment it reads: the template's parameters (infra/deployment.py) and the project's files;
  inputs.py       the measured and assumed figures (flags, with the command that measured each);
  the model, pure computation: partitions.py (one poll on the table's partitions), vote_cost.py (the vote request
                  at the origin), bill.py (the whole bill), peak.py (the needs at the peak, ceilings, cold starts);
  report.py       what it prints.

A vote request, as the template deploys it:
  1 API Gateway REST request -> 1 invocation of the API function (billed: its CPU, scaled to the memory's share of
  a vCPU, plus the wait for DynamoDB) -> 1 conditional PutItem of a ~200-byte ballot = 1 WRU, whatever the answer
  (201, 200 or 409: a failed condition consumes the write too) -> for a new ballot, 1 stream record; Lambda reads
  the stream for free -> the tally function takes it in a batch (per shard, once per batching window): per batch
  1 UpdateItem per poll on the tallies table, 1 OpenSearch _bulk (the domain bills by the hour), 1 log line and
  1 EMF line. The tumbling window adds one closing invocation per shard per window.

A voter's visit (issue 19's budget): the join link opens the vote page (its files from the dashboard's CloudFront
distribution), GET /config and the poll's public document from the CDN (the document every few seconds while the
page is open: one origin request a second per poll whatever the audience), a sign-in or a token refresh at Cognito
(a new voter's SignUp, ConfirmSignUp and emailed code first), and at most a few requests that reach the API
function, the vote among them.

One poll's ceiling: its buckets on the ballots table's partitions, the busiest at 99% confidence (partitions.py).

Run:  .venv/bin/python -m capacity [--rate 1000] [--big-vote-rate 10000] [...]
"""
