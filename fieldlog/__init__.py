"""fieldlog: a terminal field log for police community liaison officers."""

# The one place the version is written: pyproject reads it ([tool.hatch.version]).
__version__ = "0.1.0"
