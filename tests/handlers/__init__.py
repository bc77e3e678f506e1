"""Tests of the Lambda handlers in lambda_src/orders, against AWS mocked by moto."""
