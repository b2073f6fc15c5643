"""Training and export (needs the ``train`` extra: torch). Nothing on the enhance path imports this."""
