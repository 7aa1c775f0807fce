"""The Plivo node: resources, validation, cost, credentials and dry run."""
