"""The code of the two sharing functions: standard library, boto3, crhelper and itself only."""
