#!/bin/bash
# bench/soak.py's verdict rules (tests/cli/soak_verdict.py) without the soak:
# explained and unexplained churn failures, "flat" RSS and fds, the exit status.
# Given tcplab's path like every cli test; it needs only python3.
exec python3 -B "$(dirname "$0")/soak_verdict.py"
