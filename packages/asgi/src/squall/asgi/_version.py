"""The version of squall-asgi (read by hatch and by ``squall.asgi.__version__``)."""

__version__ = "0.1.4"
