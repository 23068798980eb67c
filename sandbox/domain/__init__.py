"""Plain-Python model of the WhatsApp Business Platform: no I/O, no clock reads, no randomness of its own."""
