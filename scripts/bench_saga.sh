#!/usr/bin/env bash
# Placeholder: the SAGA throughput benchmark (send rate vs. saga completion rate) is not
# written yet. Replace this file; `make bench-saga` runs it.
echo "bench-saga: not implemented yet" >&2
exit 1
