"""Checks the node makes itself, before any request: phone numbers, SMS text, MMS media, fields.

Every check returns the value in its wire form or raises
:class:`plivo_node.core.errors.ParameterError` naming the parameter and saying how to fix it.
"""
