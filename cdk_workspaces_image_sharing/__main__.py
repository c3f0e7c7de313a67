"""``python -m cdk_workspaces_image_sharing``: the ``workspace-image-shares`` command."""

from __future__ import annotations

import sys

from cdk_workspaces_image_sharing.drift.cli import main

if __name__ == "__main__":
    sys.exit(main())
