"""OrdersSample synthesized once per test process, in the two forms the sample's modules read:
as `cdk synth` builds it (cdk.json's feature flags, the cdk-nag packs), and with both of its
e-mail options. ``tests/conftest.py`` runs these modules on one worker."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from tests.sample import ALARM_EMAIL, NOTIFY_EMAIL
from tests.support import RECOMMENDED_FLAGS, Synthesized, nag_app, synthesize

STACK = "OrdersSample"


@pytest.fixture(scope="session")
def sample_synth() -> Synthesized:
    """OrdersSample as `cdk synth` builds it: cdk.json's feature flags, both nag packs."""
    from orders_sample.stack import OrdersSample

    app = nag_app(feature_flags=RECOMMENDED_FLAGS)
    OrdersSample(app, STACK)
    return synthesize(app)


@pytest.fixture(scope="session")
def sample_template(sample_synth: Synthesized) -> Template:
    return sample_synth.template(STACK)


@pytest.fixture(scope="session")
def emailing_sample_template() -> Template:
    """OrdersSample with ``notify_email`` and ``alarm_email``, under cdk.json's flags."""
    from orders_sample.stack import OrdersSample

    app = cdk.App(analytics_reporting=False, context=dict(RECOMMENDED_FLAGS))
    stack = OrdersSample(app, "WithEmail", notify_email=NOTIFY_EMAIL, alarm_email=ALARM_EMAIL)
    return Template.from_stack(stack)
