"""Test support shared by the test packages: values, synthesis helpers, template checks."""
