"""Tickets: intake, lifecycle, agents' queue, duplicates and supports, Open311."""
