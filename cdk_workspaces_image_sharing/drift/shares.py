"""What WorkSpaces lists: the accounts each image is shared with (every page read)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cdk_workspaces_image_sharing.drift.progress import ProgressCallback
from cdk_workspaces_image_sharing.runtime.sharing_functions.aws_plumbing import (
    WorkSpacesClient,
    error_code,
    shared_accounts,
)


@dataclass(frozen=True)
class Listed:
    """For each image read, the accounts it is shared with; and the images that do not exist
    in this account and Region."""

    shared: dict[str, frozenset[str]]
    not_found: frozenset[str] = frozenset()


def list_shares(
    workspaces: WorkSpacesClient,
    image_ids: Iterable[str],
    progress: ProgressCallback = lambda _: None,
) -> Listed:
    """What WorkSpaces lists for each image; an image that does not exist is noted, not raised."""
    from botocore.exceptions import ClientError

    images = sorted(set(image_ids))
    shared: dict[str, frozenset[str]] = {}
    not_found: set[str] = set()
    for number, image_id in enumerate(images, 1):
        progress(f"reading image {number}/{len(images)}: {image_id}")
        try:
            shared[image_id] = shared_accounts(workspaces, image_id)
        except ClientError as error:
            if error_code(error) != "ResourceNotFoundException":
                raise
            not_found.add(image_id)
    return Listed(shared, frozenset(not_found))
