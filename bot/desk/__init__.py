"""The agent desk: ticket cards in the agents' group, the state machine's buttons, takeovers and
the relay between owners and agents."""
