"""Who a frame is for, within a session: everyone, the host, every player, or one player."""

ALL, HOST, PLAYERS, PLAYER = "all", "host", "players", "player"
