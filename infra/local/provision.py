"""Provision an AWS endpoint (the local emulator) from `infra/template.json`.

One source of truth: the CloudFormation template that deploys the real stack also
describes what the local stack and the integration tests create. Only the intrinsic
functions and resource types the template uses are interpreted; anything else fails
loudly rather than being silently skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

TEMPLATE_PATH = Path(__file__).resolve().parents[1] / "template.json"
# Resources that only make sense next to the deployed Lambda functions.
DEPLOY_ONLY_TYPES = frozenset(
    {"AWS::Lambda::Url", "AWS::Lambda::Permission", "AWS::Lambda::EventSourceMapping", "AWS::Lambda::EventInvokeConfig"}
)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


class Provisioner:
    """Creates each resource of the template through plain boto3 calls."""

    def __init__(
        self, template: dict[str, Any], parameters: dict[str, str], region: str, account_id: str = "123456789012"
    ) -> None:
        self.template = template
        self.region = region
        self.account_id = account_id
        defaults = {name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()}
        self.parameters: dict[str, Any] = {**defaults, **parameters}
        self.physical: dict[str, str] = {}
        self.attributes: dict[tuple[str, str], str] = {}
        self._creators: dict[str, Callable[[str, dict[str, Any]], None]] = {
            "AWS::DynamoDB::Table": self._create_table,
        }

    # intrinsic functions
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::GetAtt":
                return self.attributes[(arg[0], arg[1])]
            if key == "Fn::Join":
                return arg[0].join(str(self.resolve(v)) for v in arg[1])
        return {k: self.resolve(v) for k, v in value.items()}

    def _ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": "aws",
            "AWS::StackName": "local",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self.physical[name]

    def _sub(self, text: str) -> str:
        return re.sub(r"\$\{([^}]+)\}", lambda m: str(self._ref(m.group(1))), text)

    # resources
    def provision(self) -> dict[str, str]:
        """Create every resource in template order; returns logical id -> physical name."""
        for logical_id, resource in self.template["Resources"].items():
            kind = resource["Type"]
            if kind in DEPLOY_ONLY_TYPES:
                continue
            creator = self._creators.get(kind)
            if creator is None:
                raise NotImplementedError(f"local provisioning of {kind} ({logical_id}) is not implemented")
            creator(logical_id, self.resolve(resource.get("Properties", {})))
        return dict(self.physical)

    def _create_table(self, logical_id: str, props: dict[str, Any]) -> None:
        client = boto3.client("dynamodb", region_name=self.region)
        name = props["TableName"]
        create: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            create["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            create["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        described = client.create_table(**create)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        pitr = props.get("PointInTimeRecoverySpecification")
        if pitr:
            client.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification=pitr)
        self.physical[logical_id] = name
        self.attributes[(logical_id, "Arn")] = described["TableArn"]
        if "LatestStreamArn" in described:
            self.attributes[(logical_id, "StreamArn")] = described["LatestStreamArn"]


def provision(parameters: dict[str, str] | None = None, region: str = "us-east-1") -> dict[str, str]:
    return Provisioner(load_template(), parameters or {}, region).provision()
