"""The per-pair feature: ``WorkspaceImagePermission`` (one image, one account), the
``WorkspaceImageShare`` list, their function, the App's registry of pairs and its lanes."""
