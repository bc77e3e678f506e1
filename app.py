#!/usr/bin/env python3
"""The sample app: synthesizes the OrdersSample stack with the AWS security rule packs applied.

Account and region come from the CDK CLI's environment (CDK_DEFAULT_ACCOUNT / REGION);
``-c notify_email=you@example.com`` subscribes an address to order notifications,
``-c alarm_email=oncall@example.com`` one to the alarms of every construct.
"""

import os
import sys

import aws_cdk as cdk

from orders_sample.compliance import apply_security_checks, describe, open_findings
from orders_sample.stack import OrdersSample

app = cdk.App()
apply_security_checks(app)
OrdersSample(
    app,
    "OrdersSample",
    env=cdk.Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
    ),
    notify_email=app.node.try_get_context("notify_email"),
    alarm_email=app.node.try_get_context("alarm_email"),
)
assembly = app.synth()

# aws-cdk fails synthesis on error-level findings only; a warning is a finding too.
findings = open_findings(assembly.directory)
if findings:
    sys.exit("cdk-nag findings left unacknowledged:\n" + describe(findings))
