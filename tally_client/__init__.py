"""What every tool needs to talk to Tally, written once: the CLI, the load test, the benches and the local stack
use it, and it uses none of them (tests/unit/test_tool_imports.py).

    http           one request to the API, its answer or LOST; Failure, what a person can act on
    resend         when a request is worth sending again, and how long to wait first
    server_config  GET /config: the pool, every limit and the operators' group, as the server publishes them
    signin         Cognito users and sign-in, in the local stack's pool or a deployed one
    private_files  files only their owner can read, from the first byte
    rollfile       a roll file (CSV or a pasted list) read by the one rule, and cut into batches by /config's limits
"""
