"""The AWS API operations the sharing function calls, by their API names.

Standard library only. The role's policy allows exactly these; the local stand-in counts and
checks calls by these names.
"""

from __future__ import annotations

# WorkSpaces: share (AllowCopyImage true) or revoke (false) one image with one account.
GRANT_OR_REVOKE = "UpdateWorkspaceImagePermission"
# WorkSpaces: the accounts an image is shared with, 25 a page at most.
DESCRIBE_PERMISSIONS = "DescribeWorkspaceImagePermissions"
WORKSPACES_OPERATIONS = (GRANT_OR_REVOKE, DESCRIBE_PERMISSIONS)

# CloudFormation: a Delete reads its own stack for another resource holding the same pair.
DESCRIBE_STACKS = "DescribeStacks"
LIST_STACK_RESOURCES = "ListStackResources"
CLOUDFORMATION_OPERATIONS = (DESCRIBE_STACKS, LIST_STACK_RESOURCES)
# CloudFormation: before a revoke, the organization share reads the account and Region's other
# stacks for a per-pair resource declaring the pair (ListStacks has no resource-level
# permission).
LIST_STACKS = "ListStacks"

# Organizations (the organization share): the accounts and child OUs of an OU or root.
LIST_ACCOUNTS_FOR_PARENT = "ListAccountsForParent"
LIST_OUS_FOR_PARENT = "ListOrganizationalUnitsForParent"
ORGANIZATIONS_READ_OPERATIONS = (LIST_ACCOUNTS_FOR_PARENT, LIST_OUS_FOR_PARENT)

# DynamoDB (the organization share's ledger). A TransactWriteItems needs no permission of its
# own: its ConditionCheck needs ConditionCheckItem, its writes their own actions.
LEDGER_OPERATIONS = (
    "GetItem",
    "Query",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "ConditionCheckItem",
)
