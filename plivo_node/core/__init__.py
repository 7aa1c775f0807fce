"""The contracts between the layers: items, errors, redaction and where data files live."""
