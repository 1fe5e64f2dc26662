"""Participatory mapping: concertations, contributions, votes, comments, moderation, synthesis."""
