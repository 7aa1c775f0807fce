"""Delivery status of sent messages: the store that status callbacks and lookups fill, and the
report that ``plivo-node status`` prints from it."""

from plivo_node.nodes.plivo.delivery.store import DeliveryStore, MessageStatus, record_status

__all__ = ["DeliveryStore", "MessageStatus", "record_status"]
