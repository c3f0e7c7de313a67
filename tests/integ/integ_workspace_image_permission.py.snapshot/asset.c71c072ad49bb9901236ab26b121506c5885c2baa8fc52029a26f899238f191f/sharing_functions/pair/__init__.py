"""The per-pair sharing function (``Custom::WorkspaceImagePermission``); ``entry.handler``."""
