"""Adapters for the RL engines users train with: verl (`adapters.verl`, an AgentLoopBase subclass) and slime
(`adapters.slime`, a custom generate function). Both ask `swe-selfplay serve` for self-play steps against
the engine's own inference servers and hand back the token-exact samples with their rewards."""
