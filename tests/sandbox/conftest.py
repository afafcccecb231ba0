from .helpers import callback_receiver, clock, sandbox  # noqa: F401  (fixtures)
