"""The Lambda asset root: the ``sharing_functions`` package and the vendored crhelper."""
