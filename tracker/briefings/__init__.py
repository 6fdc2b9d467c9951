"""Weekly dispatch briefings (调度通报): the figures, computed from the event log as of the end of
the week (compute.py), and the stored, numbered briefings (models.py, service.py). Rendering them
(Word, PDF, e-mail, charts) is notifications.briefing's job."""
