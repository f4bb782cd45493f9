"""k8stop.widgets: Textual widgets that draw facts; they know nothing of HTTP."""
