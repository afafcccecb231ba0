"""Small plumbing the core and the sandbox share, none of it protocol code: uvicorn with a
request deadline (``serving``), deferred TLS trust (``tls``), the ``--debug`` HTTP log
(``debug``), and the bounds on what a server may make us hold in memory (``httplimits``)."""
