"""Adapters: the ports of chalicelib.services implemented on AWS (DynamoDB, Cognito)."""
