"""Powertools Logger and Metrics, shared by every entry point.

Log lines carry the correlation id of the request; they never carry keys, tokens or card
data (callers log ids and codes, never credentials or bodies).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

SERVICE_NAME = "scheduling"

logger = Logger(service=SERVICE_NAME)
metrics = Metrics(namespace="Scheduling", service=SERVICE_NAME)
