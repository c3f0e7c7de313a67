"""moto's server on 127.0.0.1 over HTTPS (a trustme certificate), behind a FaultLayer."""

from __future__ import annotations

import ssl
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
import trustme
from botocore.config import Config
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.organizations.models import organizations_backends
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from cdk_workspaces_image_sharing.runtime.sharing_functions.aws_plumbing import shared_accounts
from rehearsal.cloudformation_reads import CloudFormationReads
from rehearsal.faults import FaultLayer
from rehearsal.iam_check import RoleDirectory

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account: the owner of every image made here
RESPONSE_BUCKET = "cloudformation-responses"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class LocalAws:
    """A local AWS endpoint: ``with LocalAws() as aws: aws.client("workspaces")``.

    ``environment`` holds what a process needs to use it: the endpoint, the CA bundle that
    trusts its certificate, the Region and dummy credentials.
    """

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="local-aws-")
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        self.ca_bundle = str(Path(self._dir.name) / "ca.pem")
        ca.cert_pem.write_to_path(self.ca_bundle)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(context)
        self.faults = FaultLayer(
            DomainDispatcherApplication(create_backend_app),
            response_bucket=RESPONSE_BUCKET,
            account_id=ACCOUNT_ID,
        )
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1",
            0,
            self.faults,
            threaded=True,
            request_handler=_QuietHandler,
            ssl_context=context,
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.endpoint_url = f"https://127.0.0.1:{self._server.server_port}"
        self._session = boto3.Session()  # one for every client: making a session is slow
        self.environment = {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_CA_BUNDLE": self.ca_bundle,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            **CREDENTIALS,
        }

    def __enter__(self) -> LocalAws:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._dir.cleanup()

    def client(self, service: str, session: boto3.Session | None = None) -> Any:
        """A boto3 client for ``service`` on this endpoint (path-style S3, no retries), with
        the harness's credentials (moto's default account) or ``session``'s."""
        credentials: dict[str, str] = {}
        if session is None:
            session = self._session
            credentials = {
                "aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"],
                "aws_secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                "aws_session_token": CREDENTIALS["AWS_SESSION_TOKEN"],
            }
        return session.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            verify=self.ca_bundle,
            config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}),
            **credentials,
        )

    def session_in(self, account_id: str, role_name: str = "stand-in-admin") -> boto3.Session:
        """A session acting in ``account_id``: moto's STS assumes any role, and moto makes
        every call signed with the role's credentials in the role's account."""
        answer = self.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/{role_name}", RoleSessionName="stand-in"
        )
        credentials = answer["Credentials"]
        return boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=REGION,
        )

    def shared_accounts(self, image_id: str) -> frozenset[str]:
        """The accounts WorkSpaces lists for the image, all pages read."""
        return shared_accounts(self.client("workspaces"), image_id)

    def reset(self) -> None:
        """Forget every resource, stand-in stack, enforced role and queued fault."""
        self.faults.clear()
        self.faults.answers.clear()
        self.faults.roles = RoleDirectory()
        self.faults.stacks = CloudFormationReads()
        import urllib.request

        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, context=ssl.create_default_context(cafile=self.ca_bundle))
        # moto's reset keeps which accounts belong to an organization.
        organizations_backends.master_accounts.clear()
        self.faults.clear()


def create_image(aws: LocalAws, name: str = "golden-image") -> str:
    """Make an AVAILABLE WorkSpaces image the way an admin would (directory, WorkSpace, image)
    and return its ID."""
    ec2 = aws.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(
            VpcId=vpc_id, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}"
        )["Subnet"]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    directory_id = aws.client("ds").create_directory(
        Name="corp.example.com",
        Password="Passw0rd!Example",
        Size="Small",
        VpcSettings={"VpcId": vpc_id, "SubnetIds": subnets},
    )["DirectoryId"]
    workspaces = aws.client("workspaces")
    workspaces.register_workspace_directory(DirectoryId=directory_id)
    workspace_id = workspaces.create_workspaces(
        Workspaces=[
            {"DirectoryId": directory_id, "UserName": "admin", "BundleId": "wsb-0123456789"}
        ]
    )["PendingRequests"][0]["WorkspaceId"]
    image = workspaces.create_workspace_image(
        Name=name, Description="rehearsal image", WorkspaceId=workspace_id
    )
    return str(image["ImageId"])
