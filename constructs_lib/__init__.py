"""Secure-by-default AWS CDK constructs for serverless back ends."""
