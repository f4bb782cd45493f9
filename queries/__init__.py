"""k8stop.queries: turns a cluster into typed, immutable facts. Imports no Textual."""
