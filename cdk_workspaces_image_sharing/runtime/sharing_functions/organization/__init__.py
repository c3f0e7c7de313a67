"""The organization sharing function (``Custom::WorkspaceImageOrganizationShare`` and its
scheduled runs); ``entry.handler``."""
