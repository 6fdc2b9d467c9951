"""A phase's own work (issue 16): the entry steps a phase's flow does when the phase becomes active,
each recorded once per phase (``PhaseStep``), and the 阶段小结 written when its gate passes."""
