"""Local rehearsal of a stack's lifecycle: CloudFormation's events, a Lambda-like process,
and a local AWS endpoint (moto over HTTPS) with injectable faults. Development tooling only:
not shipped with the construct package."""
