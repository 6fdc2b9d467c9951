"""考核 (issue 12 §7): each unit's figures for a period, its score by the plan's rule, the ranking,
and the office's 通报表扬 / 通报批评. ``queries`` reads the store (a few GROUP BY queries);
``service`` turns the counts into rows, scores and ranks (the weekly briefing ranks with it)."""
