"""The resources the stack engine makes for real in moto, in the stack's own account.

IAM roles and their policies (STS evaluates a role's trust policy when another account's
function assumes it: ``sts_strict``), and DynamoDB tables made from the template's properties
(the organization share's ledger). Other resource types are only recorded by the engine.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.exceptions import ClientError

from rehearsal.local_aws import ACCOUNT_ID, LocalAws

PROVISIONED_TYPES = frozenset({"AWS::IAM::Role", "AWS::IAM::Policy", "AWS::DynamoDB::Table"})
_TABLE_SETTINGS = (
    "KeySchema",
    "AttributeDefinitions",
    "BillingMode",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "ProvisionedThroughput",
)


def _document(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class Provisioner:
    """Creates, updates and deletes the ``PROVISIONED_TYPES`` in ``account_id``."""

    def __init__(self, aws: LocalAws, account_id: str = ACCOUNT_ID) -> None:
        self._aws = aws
        self._account_id = account_id
        self._session: boto3.Session | None = None
        self._clients: dict[str, Any] = {}

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            if self._account_id != ACCOUNT_ID and self._session is None:
                # moto makes every call signed with a role's credentials in that role's account.
                self._session = self._aws.session_in(self._account_id)
            self._clients[service] = self._aws.client(service, self._session)
        return self._clients[service]

    def create(self, kind: str, name: str, properties: dict[str, Any]) -> None:
        if kind == "AWS::IAM::Role":
            iam = self._client("iam")
            iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=_document(properties["AssumeRolePolicyDocument"]),
                Description=str(properties.get("Description", "")),
            )
            self._put_inline(name, properties.get("Policies", []))
        elif kind == "AWS::IAM::Policy":
            for role in properties.get("Roles", []):
                self._put_inline(role, [properties])
        elif kind == "AWS::DynamoDB::Table":
            self._create_table(name, properties)

    def update(self, kind: str, name: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        if kind == "AWS::IAM::Role":
            iam = self._client("iam")
            iam.update_assume_role_policy(
                RoleName=name, PolicyDocument=_document(new["AssumeRolePolicyDocument"])
            )
            kept = {p["PolicyName"] for p in new.get("Policies", [])}
            for policy in old.get("Policies", []):
                if policy["PolicyName"] not in kept:
                    self._delete_inline(name, policy["PolicyName"])
            self._put_inline(name, new.get("Policies", []))
        elif kind == "AWS::IAM::Policy":
            for role in set(old.get("Roles", [])) - set(new.get("Roles", [])):
                self._delete_inline(role, old["PolicyName"])
            for role in new.get("Roles", []):
                self._put_inline(role, [new])
        elif kind == "AWS::DynamoDB::Table":
            self._time_to_live(name, new)

    def delete(self, kind: str, name: str, properties: dict[str, Any]) -> None:
        try:
            if kind == "AWS::IAM::Role":
                iam = self._client("iam")
                for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                    self._delete_inline(name, policy)
                iam.delete_role(RoleName=name)
            elif kind == "AWS::IAM::Policy":
                for role in properties.get("Roles", []):
                    self._delete_inline(role, properties["PolicyName"])
            elif kind == "AWS::DynamoDB::Table":
                self._client("dynamodb").delete_table(TableName=name)
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("NoSuchEntity", "ResourceNotFoundException"):
                raise

    def _put_inline(self, role: str, policies: list[dict[str, Any]]) -> None:
        for policy in policies:
            self._client("iam").put_role_policy(
                RoleName=role,
                PolicyName=policy["PolicyName"],
                PolicyDocument=_document(policy["PolicyDocument"]),
            )

    def _delete_inline(self, role: str, policy_name: str) -> None:
        try:
            self._client("iam").delete_role_policy(RoleName=role, PolicyName=policy_name)
        except ClientError as error:
            if error.response["Error"]["Code"] != "NoSuchEntity":
                raise

    def _create_table(self, name: str, properties: dict[str, Any]) -> None:
        settings = {k: properties[k] for k in _TABLE_SETTINGS if k in properties}
        self._client("dynamodb").create_table(TableName=name, **settings)
        self._time_to_live(name, properties)

    def _time_to_live(self, name: str, properties: dict[str, Any]) -> None:
        ttl = properties.get("TimeToLiveSpecification")
        if ttl:
            self._client("dynamodb").update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={
                    "AttributeName": ttl["AttributeName"],
                    "Enabled": str(ttl.get("Enabled", True)).lower() == "true",
                },
            )
