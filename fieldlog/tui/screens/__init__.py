"""The app's screens, one per module (the forms and dialogs they open are in ``dialogs/``)."""
