"""Modal dialogs, one ``ModalScreen`` per module, each returning its answer with ``dismiss``
(frogmouth's ``dialogs/``)."""
