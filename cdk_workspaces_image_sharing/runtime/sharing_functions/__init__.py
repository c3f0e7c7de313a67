"""The code of the two sharing functions: standard library, boto3, crhelper and itself only.

``pair`` and ``organization`` are the functions' own sub-packages (each asset ships one); the
modules here are what both use.
"""
