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
    {
        "AWS::Lambda::Url",
        "AWS::Lambda::Permission",
        "AWS::Lambda::EventSourceMapping",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::ApiGateway::GatewayResponse",  # the local API answers in the error shape itself
    }
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
            "AWS::SQS::Queue": self._create_queue,
            "AWS::SNS::Topic": self._create_topic,
            "AWS::Scheduler::ScheduleGroup": self._create_schedule_group,
            "AWS::IAM::Role": self._create_role,
            "AWS::SES::EmailIdentity": self._create_email_identity,
            "AWS::SES::ConfigurationSet": self._create_configuration_set,
            "AWS::SES::ConfigurationSetEventDestination": self._create_event_destination,
            "AWS::SNS::Subscription": self._skip,
            "AWS::S3::Bucket": self._create_bucket,
            "AWS::KMS::Key": self._create_key,
            "AWS::KMS::Alias": self._create_alias,
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
            if "Type" not in resource:
                continue  # a fragment merged into a resource Chalice generates (env, event source settings)
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

    def _client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region)  # type: ignore[call-overload]

    def _skip(self, logical_id: str, props: dict[str, Any]) -> None:
        """Subscriptions to deployed functions: the local pumps deliver instead."""

    def _create_queue(self, logical_id: str, props: dict[str, Any]) -> None:
        sqs = self._client("sqs")
        attributes = {}
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds"):
            if key in props:
                attributes[key] = str(props[key])
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        url = sqs.create_queue(QueueName=props["QueueName"], Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.physical[logical_id] = url
        self.attributes[(logical_id, "Arn")] = arn
        self.attributes[(logical_id, "QueueName")] = props["QueueName"]

    def _create_topic(self, logical_id: str, props: dict[str, Any]) -> None:
        arn = self._client("sns").create_topic(Name=props["TopicName"])["TopicArn"]
        self.physical[logical_id] = arn
        self.attributes[(logical_id, "TopicArn")] = arn

    def _create_schedule_group(self, logical_id: str, props: dict[str, Any]) -> None:
        arn = self._client("scheduler").create_schedule_group(Name=props["Name"])["ScheduleGroupArn"]
        self.physical[logical_id] = props["Name"]
        self.attributes[(logical_id, "Arn")] = arn

    def _create_role(self, logical_id: str, props: dict[str, Any]) -> None:
        iam = self._client("iam")
        name = props.get("RoleName", f"local-{logical_id}")
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(props["AssumeRolePolicyDocument"]))
        for policy in props.get("Policies", []):
            iam.put_role_policy(
                RoleName=name, PolicyName=policy["PolicyName"], PolicyDocument=json.dumps(policy["PolicyDocument"])
            )
        self.physical[logical_id] = name
        self.attributes[(logical_id, "Arn")] = role["Role"]["Arn"]

    def _create_bucket(self, logical_id: str, props: dict[str, Any]) -> None:
        s3 = self._client("s3")
        name = props["BucketName"]
        create: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            create["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        s3.create_bucket(**create)
        if "BucketEncryption" in props:
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [  # CloudFormation's property names differ from the API's here
                        {
                            "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                            "BucketKeyEnabled": rule.get("BucketKeyEnabled", False),
                        }
                        for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                    ]
                },
            )
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        if "VersioningConfiguration" in props:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=props["VersioningConfiguration"])
        self.physical[logical_id] = name
        self.attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{name}"

    def _create_key(self, logical_id: str, props: dict[str, Any]) -> None:
        create: dict[str, Any] = {"Description": props.get("Description", logical_id)}
        if "KeyPolicy" in props:
            create["Policy"] = json.dumps(props["KeyPolicy"])
        key = self._client("kms").create_key(**create)["KeyMetadata"]
        self.physical[logical_id] = key["KeyId"]
        self.attributes[(logical_id, "Arn")] = key["Arn"]

    def _create_alias(self, logical_id: str, props: dict[str, Any]) -> None:
        self._client("kms").create_alias(AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"])
        self.physical[logical_id] = props["AliasName"]

    def _create_email_identity(self, logical_id: str, props: dict[str, Any]) -> None:
        identity = props["EmailIdentity"]
        self._client("sesv2").create_email_identity(EmailIdentity=identity)
        self.physical[logical_id] = identity

    def _create_configuration_set(self, logical_id: str, props: dict[str, Any]) -> None:
        self._client("sesv2").create_configuration_set(ConfigurationSetName=props["Name"])
        self.physical[logical_id] = props["Name"]

    def _create_event_destination(self, logical_id: str, props: dict[str, Any]) -> None:
        destination = props["EventDestination"]
        self._client("ses").create_configuration_set_event_destination(
            ConfigurationSetName=props["ConfigurationSetName"],
            EventDestination={
                "Name": destination["Name"],
                "Enabled": destination.get("Enabled", True),
                "MatchingEventTypes": [t.lower() for t in destination["MatchingEventTypes"]],
                "SNSDestination": {"TopicARN": destination["SnsDestination"]["TopicARN"]},
            },
        )
        self.physical[logical_id] = destination["Name"]


def provision(parameters: dict[str, str] | None = None, region: str = "us-east-1") -> dict[str, str]:
    return Provisioner(load_template(), parameters or {}, region).provision()
