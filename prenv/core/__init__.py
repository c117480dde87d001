"""Pure parts of prenv: plain values in, plain values out; no I/O, no environment, no clients."""
