"""OrdersSample's template tests; the e-mail addresses its emailing variant subscribes."""

NOTIFY_EMAIL = "ops@example.com"
ALARM_EMAIL = "oncall@example.com"
