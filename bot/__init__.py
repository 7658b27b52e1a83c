"""partner-bot: the Discord application and the processes around it."""
