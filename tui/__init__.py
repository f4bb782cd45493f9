"""k8stop.tui: the Textual app, CLI, screens, navigation and recording."""
