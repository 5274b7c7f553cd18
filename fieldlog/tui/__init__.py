"""The full-screen interface (Textual), a thin shell over the store.

Layout (frogmouth's): ``app.py`` assembles the screens; ``base.py`` is what every screen
shares with the app (so no screen imports the app); ``screens/`` one screen per module;
``dialogs/`` one ModalScreen per module; ``widgets/`` the pieces several of them use;
``styles/`` the ``.tcss`` files. Nothing here is imported by ``fieldlog add``: the CLI imports
``fieldlog.tui.app`` only in the command that opens the interface.
"""
