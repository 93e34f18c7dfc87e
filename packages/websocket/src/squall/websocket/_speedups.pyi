"""Types of the optional C accelerator (``_speedups.c``)."""

def mask_bytes(mask: bytes | bytearray, data: bytes | bytearray | memoryview, /) -> bytes:
    """XOR ``data`` with the 4-byte ``mask`` repeated (RFC 6455 §5.3)."""
