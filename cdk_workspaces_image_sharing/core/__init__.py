"""The construct plumbing both features use: the functions' common parts and Lambda code,
ARNs, validation, tokens, cdk-nag acknowledgements and the per-stack cache."""
