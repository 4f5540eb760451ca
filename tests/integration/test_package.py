"""`chalice package --merge-template infra/template.json` produces a template cfn-lint accepts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Package a copy of the project with no third-party requirements (the template is what is checked)."""
    work = tmp_path_factory.mktemp("package")
    for name in ("app.py", "chalicelib", ".chalice", "infra"):
        source = PROJECT_DIR / name
        if source.is_dir():
            shutil.copytree(source, work / name, ignore=shutil.ignore_patterns("__pycache__", "deployments"))
        else:
            shutil.copy(source, work / name)
    (work / "requirements.txt").write_text("")
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    subprocess.run(
        [str(BIN / "chalice"), "package", "--stage", "prod", "--merge-template", "infra/template.json", "out"],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return work / "out" / "sam.json"


def test_merged_template_passes_cfn_lint(packaged: Path) -> None:
    result = subprocess.run([str(BIN / "cfn-lint"), str(packaged)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_merged_template_has_the_table_the_functions_are_configured_for(packaged: Path) -> None:
    template = json.loads(packaged.read_text())
    table = template["Resources"]["AppTable"]["Properties"]
    handler_env = template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    stage_default = template["Parameters"]["Stage"]["Default"]

    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert handler_env["TABLE_NAME"] == "scheduling-prod"
    assert table["TableName"] == {"Fn::Sub": "scheduling-${Stage}"} and stage_default == "dev"


def test_every_stage_points_at_the_table_the_template_names_for_it() -> None:
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    for stage, settings in config["stages"].items():
        assert settings["environment_variables"]["TABLE_NAME"] == f"scheduling-{stage}"


def test_the_stream_and_queue_handlers_report_partial_failures_and_keep_what_fails(packaged: Path) -> None:
    resources = json.loads(packaged.read_text())["Resources"]
    stream = resources["DispatchTableChanges"]["Properties"]["Events"]["DispatchTableChangesDynamodbEventSource"]
    queue = resources["RefundWorker"]["Properties"]["Events"]["RefundWorkerSqsEventSource"]

    assert stream["Properties"]["Stream"] == {"Fn::GetAtt": ["AppTable", "StreamArn"]}
    assert stream["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert stream["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]
    }
    assert queue["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    refunds = resources["RefundQueue"]["Properties"]
    assert refunds["RedrivePolicy"]["maxReceiveCount"] == 5


def test_the_stripe_webhook_has_a_function_url(packaged: Path) -> None:
    resources = json.loads(packaged.read_text())["Resources"]

    assert resources["StripeWebhookUrl"]["Properties"]["TargetFunctionArn"] == {"Fn::GetAtt": ["StripeWebhook", "Arn"]}
    assert resources["StripeWebhook"]["Properties"]["Handler"] == "chalicelib.api.webhooks.stripe_webhook_function_url"
    assert resources["ScheduledTask"]["Properties"]["FunctionName"] == {"Fn::Sub": "scheduling-${Stage}-scheduled_task"}


def test_api_gateway_answers_of_its_own_are_reshaped_into_the_error_shape(packaged: Path) -> None:
    resources = json.loads(packaged.read_text())["Resources"]
    answers = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::ApiGateway::GatewayResponse"
    }

    assert {"MISSING_AUTHENTICATION_TOKEN", "UNSUPPORTED_MEDIA_TYPE", "THROTTLED", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(
        answers
    )
    assert answers["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"  # an unknown path, not a 403
    for answer in answers.values():
        assert answer["RestApiId"] == {"Ref": "RestAPI"}
        body = json.loads(answer["ResponseTemplates"]["application/json"])
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
