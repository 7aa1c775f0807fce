"""n8n workflow files: read an export (:mod:`.workflow`), make it a pipeline (:mod:`.convert`)."""
