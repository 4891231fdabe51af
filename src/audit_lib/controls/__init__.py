"""The controls of controls.md: the registry of SQL files, their shared vocabulary, their evaluation."""
