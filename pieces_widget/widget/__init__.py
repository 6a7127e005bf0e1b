"""The notebook widget: ``ModelManager`` (anywidget), the shapes that cross to the browser
(``wire``), the one writer of its traits (``sync``), its reprs and its health watch."""
