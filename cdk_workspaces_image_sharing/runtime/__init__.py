"""The Lambda asset root: the ``sharing_functions`` package and the vendored crhelper.

Lambda imports both as top-level packages; the constructs, the drift command and the stand-in
import the package's standard-library and botocore-only modules from here. Not shipped.
"""
