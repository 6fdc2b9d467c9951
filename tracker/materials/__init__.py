"""资料清单: the materials an assessment team expects per indicator (a file per standard, the
office's own version kept per campaign), evidence tagged with the item it meets, and which
required items still have no file (for the 资料汇编, the reminders and the briefing)."""
