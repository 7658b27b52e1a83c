"""The `partner-bot` subcommands, one module per group; heavy imports stay inside each command."""
