"""A process that runs until told to stop, for the supervisor's tests."""

import time

time.sleep(3600)
