"""The organization feature: ``WorkspaceImageOrganizationShare``, its function and ledger, and
the management account's ``WorkspaceImageOrganizationReaderRole``."""
