from .fastgan import *  # noqa: F401,F403
