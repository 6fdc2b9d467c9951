"""The gap planner (补短板测算): the least-cost additions of teachers, rooms, sports area,
equipment and multimedia rooms that make the assessment pass (issue 14).

- ``costs``: unit costs and per-school caps (the costs file; an illustrative default ships)
- ``problem``: the sections and the affine map from additions to indicator values
- ``solver``: the convex program (cvxpy + Clarabel; second-order cones for the CVs)
- ``planner``: the per-school choice, integer rounding, the naive plan, diagnosis under caps
- ``fixing``, ``choice``: the 6-of-7 choice made exact when a CV binds (a Lagrangian bound that
  settles most schools, then an outer approximation over the rest)
- ``tighten``: lowering a rounded plan while it holds (no slack unit)
- ``report``: plan → apply → assess again; the JSON contract, totals and the .xlsx
- ``campaign``, ``models``, ``queries``: a campaign's plan, stored per assessment, and what it says
  for a shortfall task or a row of the 任务分解表

Sits above ``tracker.assessment`` (it reads the engine) and below ``tracker.tasks`` (tasks and the
任务分解表 carry the planned amounts).
"""
