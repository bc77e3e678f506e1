"""Test-wide settings: aws-cdk's built-in template validation is off unless a test asks for it."""

import os

# Must be set before aws_cdk starts its jsii runtime; tests that need the built-in
# CloudFormation validation pass builtin_validation=True to tests.support.nag_app().
os.environ.setdefault("CDK_VALIDATION", "false")
# A call to a deprecated aws-cdk API fails the test that makes it.
os.environ.setdefault("JSII_DEPRECATED", "fail")
