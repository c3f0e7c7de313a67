"""What the constructs, the functions, the drift command and the stand-in must agree on:
resource types, property names, physical-ID formats, the API operations the functions call,
and the share ledger's names. Standard library only.
"""

from __future__ import annotations

# Custom::WorkspaceImagePermission: one image shared with one account.
PAIR_RESOURCE_TYPE = "Custom::WorkspaceImagePermission"
IMAGE_ID_PROPERTY = "ImageId"
ACCOUNT_ID_PROPERTY = "SharedAccountId"
IMAGE_ID_PATTERN = r"wsi-[0-9a-z]{9,63}"
ACCOUNT_ID_PATTERN = r"[0-9]{12}"
# "<ImageId>/<SharedAccountId>", e.g. "wsi-0123456789/111122223333".
PAIR_PHYSICAL_ID_PATTERN = rf"({IMAGE_ID_PATTERN})/({ACCOUNT_ID_PATTERN})"

# Custom::WorkspaceImageOrganizationShare: an image shared with the accounts of OUs.
ORGANIZATION_RESOURCE_TYPE = "Custom::WorkspaceImageOrganizationShare"
PARENT_IDS_PROPERTY = "OrganizationalUnitIds"
INCLUDE_NESTED_PROPERTY = "IncludeNested"
ACCOUNT_IDS_PROPERTY = "AccountIds"
EXCLUDE_ACCOUNT_IDS_PROPERTY = "ExcludeAccountIds"
MAX_REVOCATIONS_PROPERTY = "MaxRevocationsPerRun"
ROLE_ARN_PROPERTY = "OrganizationsRoleArn"
# What the properties are stored as in the ledger: a new format makes CloudFormation send an
# Update (a property changed) to resources deployed before it, which stores them again.
CONFIGURATION_FORMAT_PROPERTY = "ConfigurationFormat"
CONFIGURATION_FORMAT = "2"
# "<ImageId>/organization/<16 hex digits>": one configuration of one resource.
ORGANIZATION_PHYSICAL_ID_PATTERN = rf"({IMAGE_ID_PATTERN})/organization/([0-9a-f]{{16}})"
# A scheduled run's event: {SYNC_EVENT_KEY: {STACK_ID_KEY, LOGICAL_ID_KEY, CONFIGURATION_ID_KEY,
# PROPERTIES_DIGEST_KEY}}: the resource's Ref and its PROPERTIES_DIGEST_ATTRIBUTE, which name the
# properties its Create or Update stored in the ledger. Rules deployed before the configuration
# format 2 send the properties (LEGACY_PROPERTIES_KEY) instead.
SYNC_EVENT_KEY = "OrganizationShareSync"
STACK_ID_KEY = "StackId"
LOGICAL_ID_KEY = "LogicalResourceId"
CONFIGURATION_ID_KEY = "ConfigurationId"
PROPERTIES_DIGEST_KEY = "PropertiesDigest"
PROPERTIES_DIGEST_ATTRIBUTE = "PropertiesDigest"
LEGACY_PROPERTIES_KEY = "ResourceProperties"

# The share ledger: the organization function's DynamoDB table, named in its environment.
LEDGER_TABLE_ENV = "LEDGER_TABLE"
LEDGER_PARTITION_KEY = "pk"
LEDGER_SORT_KEY = "sk"
# Items past this epoch second are removed by the table's TTL.
LEDGER_EXPIRES_ATTRIBUTE = "expires"
# The construct IDs of the stack's organization sharing function and of its ledger table; the
# table's logical ID starts with both (the drift command finds the ledger by it).
ORGANIZATION_FUNCTION_CONSTRUCT_ID = "WorkspaceImageOrganizationSharingFunction"
LEDGER_CONSTRUCT_ID = "Ledger"
LEDGER_LOGICAL_ID_PREFIX = ORGANIZATION_FUNCTION_CONSTRUCT_ID + LEDGER_CONSTRUCT_ID

# The AWS API operations the functions call, by their API names: the roles' policies allow
# exactly these, and the stand-in counts and checks calls by them.
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
