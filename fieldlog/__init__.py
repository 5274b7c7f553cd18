"""fieldlog: a terminal field log for police community liaison officers."""

__version__ = "0.1.0"
