"""The HTTP API: one create_app, the gate in front of it, the read model, and one router per concern."""
