"""TEMP-SHIM issue 9: the screens moved to fieldlog.tui (screens/, dialogs/, widgets/); the
modules here re-export them under their old paths until the tests are retargeted."""
