"""The visual editor: a local web app that builds, runs and inspects workflows from the node
descriptions (``plivo-node editor``). The server calls the same code ``run``, ``validate`` and
``convert`` use; the page is plain JavaScript modules and CSS under ``static/``."""
