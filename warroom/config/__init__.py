"""config.yaml: its models, loading (file, environment, YAML checks), cross-section checks, shifts, channels."""
