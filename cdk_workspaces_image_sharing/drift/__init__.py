"""``workspace-image-shares``: compare the shares the stacks declare with what WorkSpaces lists,
and repair the difference.

CloudFormation's drift detection does not look into custom resources, so a share revoked or
made by hand, or one pair declared twice, goes unseen. This package reads the stacks' live
``Custom::WorkspaceImagePermission`` resources and WorkSpaces' image permissions with boto3
alone: nothing here imports the CDK or starts Node.

Modules: ``aws`` (clients and one-line errors), ``stacks`` (declared pairs), ``shares`` (listed
pairs), ``report`` (the comparison), ``output`` (table and JSON), ``repair`` (plan and apply),
``progress`` and ``cli``. See docs/drift.md.
"""
