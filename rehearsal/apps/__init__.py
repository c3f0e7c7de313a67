"""CDK apps the rehearsal, its tests and the benchmark synthesize with the CDK CLI."""
