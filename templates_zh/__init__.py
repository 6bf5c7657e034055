"""Every word an owner, agent or operator reads, in folders by audience (owner/, agent/, survey/,
cli/, console/, shared/). A package only so that an install carries these files and code finds
them through importlib.resources; it holds no code."""
